"""Steps shared by the browser tests."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Page, expect

PASSWORD = "pw-browser-1234"


def make_user(username: str, *, staff: bool = False) -> User:
    return get_user_model().objects.create_user(
        username, password=PASSWORD, is_staff=staff, is_superuser=staff
    )


def log_in(page: Page, live_server: Any, username: str, *, admin: bool = False) -> None:
    page.goto(f"{live_server.url}{'/admin/login/' if admin else '/accounts/login/'}")
    page.get_by_label("Username" if admin else "User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


# Runs in every page before its own scripts, so each violation reaches the console once more
# with its directive and blocked source, whatever Chromium's own wording.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.effectiveDirective + " blocked " + event.blockedURI +
                " in " + event.documentURI);
});
"""


def watch_csp_violations(page: Page) -> list[str]:
    """Every Content-Security-Policy violation in this page from now on, as console text."""
    violations: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "CSP violation" in message.text or "Content Security Policy" in message.text:
            violations.append(message.text)

    page.add_init_script(_REPORT_VIOLATIONS)
    page.on("console", record)
    return violations
