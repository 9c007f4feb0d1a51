"""Steps shared by the browser tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from PIL import Image
from playwright.sync_api import ConsoleMessage, Page, Request, Route, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer
from skimage import data as skdata

PASSWORD = "pw-browser-1234"
PART_BYTES = 5 * 1024 * 1024  # S3's smallest part
# The `screenshot` fixture: saves the whole page under a name, returns the file.
Screenshot = Callable[[Page, str], Path]


def make_user(username: str, *, staff: bool = False) -> User:
    return get_user_model().objects.create_user(
        username, password=PASSWORD, is_staff=staff, is_superuser=staff
    )


def log_in(page: Page, live_server: LiveServer, username: str, *, admin: bool = False) -> None:
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


def drop_part_two_once(page: Page, part_url: re.Pattern[str]) -> list[str]:
    """Cut the connection the first time the page sends part 2 of an upload. `part_url` finds a
    part's URL, its first group the part number. Returns the numbers of the parts PUT from now
    on, in order, filled as the page runs."""
    parts_sent: list[str] = []
    dropped = False

    def record(request: Request) -> None:
        number = part_url.search(request.url)
        if request.method == "PUT" and number:
            parts_sent.append(number.group(1))

    def drop_once(route: Route) -> None:
        nonlocal dropped
        number = part_url.search(route.request.url)
        if number and number.group(1) == "2" and not dropped:
            dropped = True
            route.abort("connectionreset")
        else:
            route.continue_()

    page.on("request", record)
    page.route(part_url, drop_once)
    return parts_sent


def large_upload_page(
    page: Page, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> tuple[Path, list[str]]:
    """ansel on the upload page, uploads going up in parts of PART_BYTES. Returns a real
    photograph as an uncompressed 12 MB TIFF (three parts), and the page's CSP violations."""
    settings.DIRECT_UPLOAD_PART_BYTES = PART_BYTES
    big = tmp_path / "astronaut-wall.tif"
    astronaut = np.asarray(skdata.astronaut())
    Image.fromarray(np.tile(astronaut, (4, 4, 1))).save(big, "TIFF")
    assert big.stat().st_size > 2 * PART_BYTES
    make_user("ansel")
    violations = watch_csp_violations(page)
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/upload/")
    return big, violations
