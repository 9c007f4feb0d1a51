"""The production web process (tests/deploy/conftest.py) serves its own static files."""

from __future__ import annotations

import re

import pytest

from tests.deploy.conftest import http_get

STATIC = [
    "/static/gallery/upload.js",
    "/static/admin/css/base.css",
    "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
]


@pytest.mark.parametrize("path", STATIC)
def test_static_files_are_served_by_the_production_web_process(
    production_server: str, path: str
) -> None:
    status, _, body = http_get(production_server + path)
    assert status == 200
    assert body


def test_pages_link_hashed_static_names_that_are_served_and_cached_long(
    production_server: str,
) -> None:
    status, _, page = http_get(production_server + "/admin/login/")
    assert status == 200
    links = re.findall(r'href="(/static/admin/css/[^"]+\.css)"', page.decode())
    assert links and all(re.search(r"\.[0-9a-f]{12}\.css$", link) for link in links)
    status, headers, _ = http_get(production_server + links[0])
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"]
