"""A curator decides one photo from its admin page: Approve and Reject are forms of their own,
not buttons that would submit the admin's change form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import log_in, make_user
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Photo.Status


def test_approve_and_reject_on_the_photo_page_decide_the_photo(
    page: Page, live_server: LiveServer
) -> None:
    ansel = make_user("ansel")
    photo = make_photo(owner=ansel, status=Status.SCORED, filename="pier.jpg")
    make_user("minor", staff=True)
    log_in(page, live_server, "minor", admin=True)
    change = f"{live_server.url}/admin/gallery/photo/{photo.pk}/change/"

    page.goto(change)
    expect(page.locator("#content")).not_to_contain_text("{#")  # no template source shows
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text(
        re.compile("pier.jpg: approved", re.IGNORECASE)
    )
    photo.refresh_from_db()
    assert (photo.status, photo.curator_decision) == (Status.APPROVED, "approved")

    page.goto(change)
    page.get_by_label("Reason").select_option("composition")
    page.get_by_label("Note").fill("horizon tilted")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(
        re.compile("pier.jpg: rejected", re.IGNORECASE)
    )
    photo.refresh_from_db()
    assert photo.reject_detail == "Composition: horizon tilted"
    expect(page.locator("#photo-history")).to_contain_text("curator: reject")
