"""The production web process as the image runs it: collectstatic as the image build runs it,
then gunicorn started exactly as the entrypoint starts it, on a loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.docker.entrypoint import command_for
from tests.support.paths import REPO_ROOT
from tests.support.processes import free_port, running


def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        cwd=REPO_ROOT,
        env={**_production_env(root), "PORT": "0"},
        check=True,
    )
    return root


def _production_env(static_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.production",
        "DJANGO_SECRET_KEY": "production-server-test-only",
        "DJANGO_STATIC_ROOT": str(static_root),
        # One worker: whatever a slow client ties up, it ties up here.
        "WEB_CONCURRENCY": "1",
    }


@contextmanager
def production_web(static_root: Path, **overrides: str) -> Iterator[str]:
    """The web role with the production settings (and `overrides` to them); yields its URL."""
    port = free_port()
    env = {**_production_env(static_root), "PORT": str(port), **overrides}
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            http_get(f"{base}/healthz/")
        except OSError:
            return False
        return True

    with running(
        command_for("web", env),
        what="gunicorn",
        ready=answers,
        stop_timeout_s=30,
        log=static_root.parent / f"gunicorn-{port}.log",
        cwd=REPO_ROOT,
        env=env,
    ):
        yield base


@pytest.fixture(scope="session")
def production_server(static_root: Path) -> Iterator[str]:
    # Plain HTTP on loopback, as the load balancer forwards it.
    with production_web(static_root, DJANGO_SECURE_SSL_REDIRECT="false") as base:
        yield base
