"""The ALB's health check addresses a web task by its private IP over plain HTTP. With the
production settings as the CDK stack sets them (a named host, HTTPS forced), the probes still
answer, and nothing else does for that address."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.conftest import production_web

TASK_IP = "10.0.3.7"
SITE = "photos.example.com"


@pytest.fixture(scope="module")
def behind_the_balancer(static_root: Path) -> Iterator[tuple[str, int]]:
    overrides = {
        "DJANGO_ALLOWED_HOSTS": SITE,
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{SITE}",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
    }
    with production_web(static_root, **overrides) as base:
        address = urlsplit(base)
        assert address.hostname and address.port
        yield address.hostname, address.port


def _get(server: tuple[str, int], path: str, host: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(*server, timeout=30)
    conn.request("GET", path, headers={"Host": host})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_liveness_answers_a_health_check_addressed_to_the_task_ip(
    behind_the_balancer: tuple[str, int],
) -> None:
    assert _get(behind_the_balancer, "/healthz/", TASK_IP).status == 200


def test_readiness_answers_the_task_ip_with_its_checks_not_a_host_error(
    behind_the_balancer: tuple[str, int],
) -> None:
    conn = http.client.HTTPConnection(*behind_the_balancer, timeout=30)
    conn.request("GET", "/readyz/", headers={"Host": TASK_IP})
    response = conn.getresponse()
    body = json.loads(response.read())
    # 200 or 503 depends on this machine's database and media folder; either way it is the
    # readiness check answering, not a 400 from the host check or a redirect to HTTPS.
    assert response.status in (200, 503)
    assert set(body["checks"]) == {"database", "broker", "storage"}


def test_other_pages_refuse_the_task_ip_and_the_site_is_sent_to_https(
    behind_the_balancer: tuple[str, int],
) -> None:
    assert _get(behind_the_balancer, "/accounts/login/", TASK_IP).status == 400
    redirect = _get(behind_the_balancer, "/accounts/login/", SITE)
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{SITE}/accounts/login/"
