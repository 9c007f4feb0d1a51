"""A photographer asks for a second look at a rejected photo; a curator finds it in the admin's
queue of requests, answers by approving it, and the photographer reads the answer on the photo."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user, watch_csp_violations
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The status feed slows to one read every 5 s while nothing changes.
FEED_IDLE_MS = 15_000


def test_ask_for_a_review_and_read_the_curators_answer(
    page: Page, browser: Browser, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    make_user("minor", staff=True)
    photo = make_photo(
        owner=ansel, status=Photo.Status.REJECTED, filename="fog.jpg", detail="Too soft to use."
    )
    violations = watch_csp_violations(page)
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/photos/{photo.uid}/")
    page.get_by_label("Think the rejection is wrong?").fill("The softness is the fog, on purpose.")
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_role("status")).to_contain_text("Asked for a review.")
    expect(page.get_by_text("Waiting for a curator to look again.")).to_be_visible()
    screenshot(page, "review-asked")
    page.evaluate("window.sameDocument = true")

    desk = browser.new_context().new_page()
    desk_violations = watch_csp_violations(desk)
    log_in(desk, live_server, "minor", admin=True)
    desk.goto(f"{live_server.url}/admin/gallery/reviewrequest/?answered=no")
    row = desk.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("The softness is the fog, on purpose.")
    row.get_by_role("link", name="The softness is the fog, on purpose.").click()
    desk.get_by_label("Approved").check()
    desk.get_by_label("Your answer to the photographer").fill("You are right: the fog carries it.")
    desk.get_by_role("button", name="Save", exact=True).click()
    expect(desk.locator(".messagelist")).to_contain_text("was changed successfully")
    screenshot(desk, "review-answered-admin")

    # The open page picks the answer up from the status feed, no reload.
    expect(page.get_by_text("The curator answered on")).to_contain_text(
        "approved", timeout=FEED_IDLE_MS
    )
    expect(page.get_by_text("“You are right: the fog carries it.”")).to_be_visible()
    expect(page.locator("[data-role=status]")).to_have_text("Approved")
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "review-answer-shown")
    assert violations == [] and desk_violations == []
