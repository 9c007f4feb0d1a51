"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server,
with a real Celery worker (in a thread of this process) running the ingest tasks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Page

from curation.celery import app as celery_app
from tests.e2e.helpers import Screenshot
from tests.support.paths import REPO_ROOT

# Playwright's sync API keeps an event loop in the main thread; Django would take every ORM
# call made from the test body for one made inside async code and refuse it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Run scripts/ensure_chromium.sh (make test does).",
            pytrace=False,
        )
    # Without user_data_dir, Playwright gives every launch a fresh temporary profile.
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real worker consuming the real broker, so uploads are ingested as in production."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture
def screenshot() -> Screenshot:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
