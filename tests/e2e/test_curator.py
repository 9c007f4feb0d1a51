"""A curator works in a real browser: filters the changelist, settles a duplicate group with one
click, and culls five photos with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Photo.Status
Reason = Photo.RejectReason


def _library() -> list[Photo]:
    ansel = make_user("ansel")
    root = make_photo(
        owner=ansel, status=Status.SCORED, filename="soft.jpg", sharpness=25.0, score=0.55
    )
    for name, source, sharpness, score in (
        ("crisp.jpg", "skimage:astronaut", 310.0, 0.83),
        ("noisy-and-large.jpg", "elephants.jpg", 60.0, 0.5),
    ):
        make_photo(
            owner=ansel,
            status=Status.REJECTED,
            reason=Reason.DUPLICATE,
            duplicate_of=root,
            filename=name,
            source=source,
            sharpness=sharpness,
            score=score,
        )
    make_photo(owner=ansel, status=Status.REJECTED, reason=Reason.BLURRY, filename="shaky.jpg")
    sources = [
        "skimage:coffee",
        "skimage:chelsea",
        "skimage:rocket",
        "beach_sand.jpg",
        "building_mono.jpg",
    ]
    cull = [
        make_photo(
            owner=ansel,
            status=Status.SCORED,
            source=source,
            filename=f"cull-{i}.jpg",
            score=0.6 + i * 0.05,
        )
        for i, source in enumerate(sources, start=1)
    ]
    return cull


def test_curator_filters_settles_duplicates_and_culls_by_keyboard(
    page: Page, live_server: LiveServer, screenshot: Screenshot, settings: Settings
) -> None:
    # The dashboard's dollar line at list prices, whatever this machine's settings say.
    settings.COST_REPORT_PRICES = {}
    settings.COST_REPORT_DEPLOYMENT = {}
    cull = _library()
    make_user("minor", staff=True)
    log_in(page, live_server, "minor", admin=True)

    page.goto(f"{live_server.url}/admin/gallery/photo/")
    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Duplicate", exact=True).click()
    expect(page).to_have_url(re.compile(r"reject_reason__exact=duplicate"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".pj-reason").first).to_have_text("Duplicate")
    screenshot(page, "admin-changelist-duplicates")

    page.get_by_role("link", name="Duplicate groups").click()
    page.get_by_role("link", name="Open group of 3").click()
    keeper_card = page.locator(".pj-card.pj-keeper")
    expect(keeper_card).to_have_count(1)
    expect(keeper_card.get_by_role("heading")).to_contain_text("crisp.jpg")
    screenshot(page, "admin-duplicate-group")
    page.locator("#keep-suggested").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Kept crisp.jpg; rejected the other 2 photos."
    )
    decided = dict(
        Photo.objects.filter(
            original_filename__in=["soft.jpg", "crisp.jpg", "noisy-and-large.jpg"]
        ).values_list("original_filename", "status")
    )
    assert decided == {
        "crisp.jpg": "approved",
        "soft.jpg": "rejected",
        "noisy-and-large.jpg": "rejected",
    }

    page.goto(f"{live_server.url}/admin/gallery/photo/review/")
    expect(page.get_by_label("Keyboard shortcuts")).to_contain_text("approve, then next")
    position = page.locator("#review-position")
    expect(position).to_have_text("Photo 1 of 5")
    preloaded = page.locator('link[rel="preload"][as="image"]').first
    expect(preloaded).to_have_attribute("href", f"/photos/{cull[1].uid}/preview")
    screenshot(page, "admin-review-queue")

    keyboard = page.keyboard
    keyboard.press("a")
    expect(position).to_have_text("Photo 2 of 5")
    keyboard.press("x")  # asks why before anything is saved
    reasons = page.get_by_role("dialog", name="Reject reason")
    expect(reasons).to_be_visible()
    expect(position).to_have_text("Photo 2 of 5")
    screenshot(page, "admin-review-reject-reasons")
    keyboard.press("2")  # Eyes closed
    expect(reasons).to_be_hidden()
    expect(position).to_have_text("Photo 3 of 5")
    keyboard.press("4")
    expect(page.locator("#review-stars")).to_have_attribute("aria-label", "4 of 5 stars")
    keyboard.press("a")
    expect(position).to_have_text("Photo 4 of 5")
    keyboard.press("ArrowLeft")
    expect(position).to_have_text("Photo 3 of 5")
    keyboard.press("ArrowRight")
    keyboard.press("r")
    reasons.get_by_label("Note for the photographer (optional)").fill("tilted")
    reasons.get_by_role("button", name="Composition").click()
    expect(position).to_have_text("Photo 5 of 5")
    keyboard.press("5")
    expect(page.locator("#review-stars")).to_have_attribute("aria-label", "5 of 5 stars")
    keyboard.press("a")
    expect(page.locator("#review-decision")).to_have_text("decided: approved")
    screenshot(page, "admin-review-culled")

    outcome = [
        Photo.objects.values_list("status", "curator_rating", "reject_detail").get(pk=p.pk)
        for p in cull
    ]
    assert outcome == [
        ("approved", None, ""),
        ("rejected", None, "Eyes closed"),
        ("approved", 4, ""),
        ("rejected", None, "Composition: tilted"),
        ("approved", 5, ""),
    ]

    page.goto(f"{live_server.url}/admin/gallery/photo/{cull[0].pk}/change/")
    expect(page.get_by_role("img", name=re.compile("Luminance histogram"))).to_be_visible()
    expect(page.locator(".pj-panels")).to_contain_text("decided by minor")
    screenshot(page, "admin-photo-detail")
    page.goto(f"{live_server.url}/admin/gallery/photo/dashboard/")
    expect(page.get_by_role("img", name=re.compile("VLM score distribution"))).to_be_visible()
    expect(page.get_by_text("GPU hours saved (estimate)")).to_be_visible()
    screenshot(page, "admin-dashboard")
