"""A photographer's first hour, in a real browser: a curator invites them from the admin, they
accept, log in, upload, see the verdicts, and log out onto the app's own login page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.e2e.helpers import PASSWORD, Screenshot, log_in, make_user
from tests.support.paths import PHOTOS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Long enough for a cold worker thread to ingest a photo on a busy 2-core machine.
PIPELINE_TIMEOUT_MS = 60_000


def _expect_app_login(page: Page, live_server: LiveServer) -> None:
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_invited_photographer_joins_uploads_and_logs_out(
    page: Page, live_server: LiveServer, celery_worker: None, screenshot: Screenshot, tmp_path: Path
) -> None:
    make_user("minor", staff=True)
    log_in(page, live_server, "minor")
    expect(page).to_have_url(f"{live_server.url}/admin/")  # staff start on the curator home

    page.get_by_role("link", name="Invitations", exact=True).click()
    page.get_by_role("link", name="Add invitation").click()
    page.get_by_label("Email address").fill("vivian@example.com")
    page.get_by_label("Name (optional)").fill("Vivian")
    page.get_by_role("button", name="Send the invitation").click()
    link = page.locator("input.invitation-link").input_value()
    assert link.startswith(f"{live_server.url}/accounts/invitation/")
    expect(page.get_by_text("Emailed to vivian@example.com.")).to_be_visible()
    assert link in mail.outbox[0].body
    screenshot(page, "accounts-invitation-link")
    page.get_by_role("button", name="Log out").click()  # the admin's own logout
    _expect_app_login(page, live_server)

    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome, Vivian")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("vivian")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    screenshot(page, "accounts-accept-invitation")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(f"{live_server.url}/upload/")
    expect(page.get_by_text("Welcome, vivian. Your account is ready.")).to_be_visible()
    assert User.objects.get(username="vivian").groups.filter(name="Photographers").exists()

    page.get_by_role("button", name="Log out vivian").click()
    _expect_app_login(page, live_server)
    log_in(page, live_server, "vivian")
    expect(page).to_have_url(f"{live_server.url}/")  # photographers start on their gallery

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((PHOTOS / "cat_brown.jpg").read_bytes()[:3000])
    page.get_by_label("Or choose files").set_input_files([PHOTOS / "cat_brown.jpg", broken])
    rows = {
        name: page.locator(f'#upload-list li[data-file="{name}"] [data-role=status]')
        for name in ("cat_brown.jpg", "broken.jpg")
    }
    expect(rows["broken.jpg"]).to_have_text("Rejected", timeout=PIPELINE_TIMEOUT_MS)
    expect(rows["cat_brown.jpg"]).to_have_text(
        re.compile("Awaiting score|Rejected"), timeout=PIPELINE_TIMEOUT_MS
    )
    screenshot(page, "accounts-first-upload")

    page.get_by_role("button", name="Log out vivian").click()
    _expect_app_login(page, live_server)
    screenshot(page, "accounts-logged-out")
