"""The production web process serves its own static files: collectstatic as the image build
runs it, then gunicorn started exactly as the image's entrypoint starts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from deploy.docker.entrypoint import command_for
from tests.support.paths import REPO_ROOT
from tests.support.processes import free_port, running

STATIC = [
    "/static/gallery/upload.js",
    "/static/admin/css/base.css",
    "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
]


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    static_root = tmp_path_factory.mktemp("static")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.production",
        "DJANGO_SECRET_KEY": "static-files-test-only",
        "DJANGO_STATIC_ROOT": str(static_root),
        # Plain HTTP on loopback, as the load balancer's health check arrives.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            _get(f"{base}/healthz/")
        except OSError:
            return False
        return True

    with running(
        command_for("web", env),
        what="gunicorn",
        ready=answers,
        stop_timeout_s=30,
        log=tmp_path_factory.mktemp("gunicorn") / "gunicorn.log",
        cwd=REPO_ROOT,
        env=env,
    ):
        yield base


@pytest.mark.parametrize("path", STATIC)
def test_static_files_are_served_by_the_production_web_process(
    production_server: str, path: str
) -> None:
    status, _, body = _get(production_server + path)
    assert status == 200
    assert body


def test_pages_link_hashed_static_names_that_are_served_and_cached_long(
    production_server: str,
) -> None:
    status, _, page = _get(production_server + "/admin/login/")
    assert status == 200
    links = re.findall(r'href="(/static/admin/css/[^"]+\.css)"', page.decode())
    assert links and all(re.search(r"\.[0-9a-f]{12}\.css$", link) for link in links)
    status, headers, _ = _get(production_server + links[0])
    assert status == 200
    assert "max-age=315360000" in headers["Cache-Control"]
