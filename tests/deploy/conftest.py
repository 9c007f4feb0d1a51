"""The production web process as the image runs it: collectstatic as the image build runs it,
then gunicorn started exactly as the entrypoint starts it, on a loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from deploy.docker.entrypoint import command_for
from tests.support.outages import closed_port
from tests.support.paths import REPO_ROOT


def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="session")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    static_root = tmp_path_factory.mktemp("static")
    port = closed_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.production",
        "DJANGO_SECRET_KEY": "production-server-test-only",
        "DJANGO_STATIC_ROOT": str(static_root),
        # Plain HTTP on loopback, as the load balancer's health check arrives.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PORT": str(port),
        # One worker: whatever a slow client ties up, it ties up here.
        "WEB_CONCURRENCY": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(command_for("web", env), cwd=REPO_ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                http_get(f"{base}/healthz/")
                break
            except OSError:
                if server.poll() is not None:
                    raise AssertionError("gunicorn exited before answering") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
