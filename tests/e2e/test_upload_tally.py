"""The upload page keeps a tally: what the server accepted, what it refused (the file itself was
wrong) and what failed on the way, with the bytes sent of all files; a file can be cancelled
while it waits or sends, and retried after it failed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user, watch_csp_violations
from tests.support.paths import PHOTOS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tally_cancel_and_retry(
    page: Page, live_server: LiveServer, screenshot: Screenshot, tmp_path: Path
) -> None:
    make_user("ansel")
    violations = watch_csp_violations(page)
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/upload/")

    def row(name: str) -> Any:
        return page.locator(f'#upload-list li[data-file="{name}"]')

    # The first upload of elephants.jpg is cut off by the network; cat_brown.jpg is held until
    # it has been cancelled.
    calls = {"posts": 0}
    held: list[Route] = []

    def network(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        body = route.request.post_data_buffer or b""
        if b'filename="elephants.jpg"' in body and calls["posts"] == 0:
            calls["posts"] += 1
            route.abort("connectionreset")
        elif b'filename="cat_brown.jpg"' in body and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r".*/api/photos/$"), network)
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list: milk, eggs\n" * 20)
    page.get_by_label("Or choose files").set_input_files(
        [PHOTOS / "elephants.jpg", PHOTOS / "cat_brown.jpg", notes]
    )
    expect(row("notes.jpg").locator("[data-role=status]")).to_have_text("Refused")
    expect(row("elephants.jpg").get_by_role("alert")).to_contain_text("connection dropped")
    expect(row("cat_brown.jpg").locator("[data-role=status]")).to_have_text("Sending")
    row("cat_brown.jpg").get_by_role("button", name="Cancel cat_brown.jpg").click()
    expect(row("cat_brown.jpg").locator("[data-role=status]")).to_have_text("Cancelled")
    expect(page.locator("#upload-summary")).to_have_text(
        "0 of 3 files accepted, 1 refused, 1 failed, 1 cancelled."
    )
    expect(row("notes.jpg").get_by_role("button")).to_have_count(0)  # a refusal is final
    screenshot(page, "upload-tally-failed")

    row("elephants.jpg").get_by_role("button", name="Retry elephants.jpg").click()
    row("cat_brown.jpg").get_by_role("button", name="Retry cat_brown.jpg").click()
    expect(page.locator("#upload-summary")).to_have_text("2 of 3 files accepted, 1 refused.")
    sizes = (PHOTOS / "elephants.jpg").stat().st_size + (PHOTOS / "cat_brown.jpg").stat().st_size
    overall = page.get_by_role("progressbar", name="Overall upload progress")
    expect(overall).to_have_js_property("value", sizes)
    expect(overall).to_have_js_property("max", sizes)  # the refused file is not counted
    screenshot(page, "upload-tally-done")

    assert sorted(Photo.objects.values_list("original_filename", flat=True)) == [
        "cat_brown.jpg",
        "elephants.jpg",
    ]
    for route in held:
        route.abort()
    assert violations == []
