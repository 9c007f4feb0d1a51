"""In local mode too, a large file goes up in parts; when the connection drops, Retry sends only
the parts the server does not have yet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, drop_part_two_once, large_upload_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_large_file_resumes_in_local_mode(
    page: Page, live_server: LiveServer, settings: Settings, screenshot: Screenshot, tmp_path: Path
) -> None:
    big, violations = large_upload_page(page, live_server, settings, tmp_path)

    parts_sent = drop_part_two_once(page, re.compile(r"/parts/(\d+)/$"))
    page.get_by_label("Or choose files").set_input_files(big)
    row = page.locator("#upload-list li").nth(0)
    expect(row.get_by_role("alert")).to_contain_text("What was sent is kept")
    assert parts_sent == ["1", "2"]
    screenshot(page, "local-upload-interrupted")

    row.get_by_role("button", name="Retry astronaut-wall.tif").click()
    expect(row.locator("[data-role=status]")).to_have_text("Uploaded")
    assert parts_sent == ["1", "2", "2", "3"]  # part 1 was not sent again
    expect(page.locator("#upload-summary")).to_have_text("1 of 1 file accepted.")
    screenshot(page, "local-upload-resumed")

    photo = Photo.objects.get()
    assert photo.original_filename == "astronaut-wall.tif"
    assert photo.size_bytes == big.stat().st_size
    assert violations == []


def test_retry_after_a_lost_completion_answer_sends_nothing_again(
    page: Page, live_server: LiveServer, settings: Settings, tmp_path: Path
) -> None:
    big, violations = large_upload_page(page, live_server, settings, tmp_path)
    parts_sent: list[str] = []
    page.on(
        "request",
        lambda request: parts_sent.append(request.url) if request.method == "PUT" else None,
    )
    answers_lost = 0

    def lose_the_first_answer(route: Route) -> None:
        # The server completes the upload; the answer never reaches the page.
        nonlocal answers_lost
        if answers_lost:
            route.continue_()
            return
        route.fetch()
        answers_lost += 1
        route.abort("connectionreset")

    page.route(re.compile(r"/complete/$"), lose_the_first_answer)
    page.get_by_label("Or choose files").set_input_files(big)
    row = page.locator("#upload-list li").nth(0)
    expect(row.get_by_role("alert")).to_contain_text("What was sent is kept")
    assert Photo.objects.count() == 1
    sent_before_retry = len(parts_sent)

    row.get_by_role("button", name="Retry astronaut-wall.tif").click()
    expect(row.locator("[data-role=status]")).to_have_text("Uploaded")
    expect(page.locator("#upload-summary")).to_have_text("1 of 1 file accepted.")
    assert len(parts_sent) == sent_before_retry == 3  # no part sent twice
    assert answers_lost == 1
    photo = Photo.objects.get()
    assert row.get_by_role("link", name="astronaut-wall.tif").get_attribute("href") == (
        f"/photos/{photo.uid}/"
    )
    assert violations == []
