"""Browsing one's own photos: filters apply on change, the arrow keys step through the gallery
as filtered, and the preview goes full screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user, watch_csp_violations
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Photo.Status


def test_filters_apply_on_change_and_the_detail_page_steps_through_them(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    older = make_photo(owner=ansel, status=Status.REJECTED, filename="older.jpg")
    make_photo(owner=ansel, status=Status.SCORED, filename="keeper.jpg")
    newer = make_photo(
        owner=ansel, status=Status.REJECTED, filename="newer.jpg", source="elephants.jpg"
    )
    violations = watch_csp_violations(page)
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()

    page.get_by_label("Status").select_option("rejected")
    expect(page).to_have_url(re.compile(r"\?status=rejected&sort=newest$"))
    expect(page.locator("#photo-grid li[data-photo]")).to_have_count(2)
    page.get_by_label("Reason").select_option("overexposed")
    expect(
        page.get_by_text("No photos with status “Rejected”, reason “Overexposed”.")
    ).to_be_visible()
    screenshot(page, "gallery-empty-filter")
    page.get_by_role("link", name="Clear the filters").click()
    page.get_by_label("Status").select_option("rejected")
    expect(page.locator("#photo-grid li[data-photo]")).to_have_count(2)

    page.get_by_role("link", name=re.compile("newer.jpg")).click()
    expect(page.get_by_role("heading", name="newer.jpg")).to_be_visible()
    # The heading shows before the deferred detail.js has bound the arrow keys.
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("heading", name="older.jpg")).to_be_visible()  # keeper.jpg skipped
    expect(page).to_have_url(re.compile(rf"/photos/{older.uid}/\?status=rejected"))
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/photos/{newer.uid}/"))

    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function(
        "document.fullscreenElement && document.fullscreenElement.id === 'viewer'"
    )
    expect(page.get_by_role("button", name="Leave full screen")).to_be_visible()
    page.get_by_role("button", name="Leave full screen").click()
    page.wait_for_function("document.fullscreenElement === null")
    assert violations == []


def test_a_date_typed_digit_by_digit_filters_once_it_is_whole(
    page: Page, live_server: LiveServer
) -> None:
    ansel = make_user("ansel")
    make_photo(owner=ansel, status=Status.SCORED, filename="keeper.jpg")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.get_by_label("Taken from").press_sequentially("01022010", delay=60)
    expect(page).to_have_url(re.compile(r"captured_from=2010-01-02"))
    expect(page.get_by_label("Taken from")).to_have_value("2010-01-02")
    # One page load for the whole date, none for the years 0002, 0020 or 0201 on the way.
    assert [url for url in requests if "captured_from=" in url] == [page.url]
