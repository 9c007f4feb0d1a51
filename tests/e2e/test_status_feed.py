"""The gallery follows its in-flight photos through one feed: the request rate does not grow
with the number of photos, and a thumbnail appears the moment ingest renders it, no reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from gallery import views
from gallery.models import Photo
from pipeline.config import IngestConfig
from pipeline.services import photo_ingest
from tests.e2e.helpers import Screenshot, log_in, make_user
from tests.gallery.factories import make_photo, photo_uploaded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PIPELINE_TIMEOUT_MS = 60_000
STARTED = datetime(2026, 1, 1, tzinfo=UTC)


def _api_requests_in_a_minute(
    page: Page, live_server: LiveServer, username: str, count: int
) -> list[str]:
    """Every API request the gallery makes in one (fake-clock) minute while `count` photos of
    this photographer wait for the pipeline, all on the page."""
    user = make_user(username)
    Photo.objects.bulk_create(
        Photo(
            owner=user,
            original=f"originals/aa/{i:032x}.jpg",
            original_filename=f"IMG_{i:04d}.jpg",
            format="jpeg",
        )
        for i in range(count)
    )
    log_in(page, live_server, username)
    requests: list[str] = []

    def record(request: Request) -> None:
        if "/api/" in request.url:
            requests.append(request.url)

    page.on("request", record)
    # A paused fake clock: the page's timers fire only as the loop below moves time on, so
    # the count does not depend on how long the page took to load.
    page.clock.install(time=STARTED)
    page.clock.pause_at(STARTED + timedelta(milliseconds=1))
    page.goto(f"{live_server.url}/")
    expect(page.locator("#photo-grid li[data-status=uploaded]")).to_have_count(count)
    for _second in range(60):
        page.clock.run_for(1000)
        page.evaluate("window.ParjanyaStatus.settled()")
    page.remove_listener("request", record)
    page.context.clear_cookies()
    return requests


def test_the_request_rate_does_not_grow_with_the_photos_in_flight(
    page: Page, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 500)
    few = _api_requests_in_a_minute(page, live_server, "ansel", 5)
    many = _api_requests_in_a_minute(page, live_server, "dorothea", 500)
    print(f"status feed: requests_per_min_5={len(few)} requests_per_min_500={len(many)}")
    assert all("/api/photos/feed/" in url for url in few + many), few + many
    assert 0 < len(many) == len(few) <= 60


def test_a_thumbnail_appears_without_a_reload_once_ingest_renders_it(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    photo = photo_uploaded(owner=ansel, source="elephants.jpg", filename="elephants.jpg")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    page.evaluate("window.sameDocument = true")
    tile = page.locator(f'li[data-photo="{photo.uid}"]')
    expect(tile.locator(".placeholder")).to_have_text("No preview yet")

    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))

    thumb = tile.get_by_role("img", name="elephants.jpg")
    expect(thumb).to_have_attribute(
        "src", f"/photos/{photo.uid}/thumbnail", timeout=PIPELINE_TIMEOUT_MS
    )
    expect(tile.locator("[data-role=status]")).to_have_text("Awaiting score")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "gallery-live-thumbnail")


# The feed slows to one read every 5 s while nothing changes; a new upload shows within one.
FEED_IDLE_MS = 15_000


def test_uploads_made_elsewhere_appear_in_an_open_gallery_newest_first(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#photo-grid")).to_contain_text("No photos here yet.")

    # Uploaded from another tab or the API while this page stays open.
    first = photo_uploaded(owner=ansel, source="elephants.jpg", filename="first.jpg")
    tiles = page.locator("#photo-grid li[data-photo]")
    expect(tiles).to_have_count(1, timeout=FEED_IDLE_MS)
    expect(page.locator("#photo-grid")).not_to_contain_text("No photos here yet.")
    expect(tiles.first.locator("[data-role=status]")).to_have_text("Uploaded")
    counts = page.get_by_role("list", name="How many photos are in each state")
    expect(counts.get_by_role("link", name="All 1")).to_be_visible()
    expect(counts.get_by_role("link", name="Uploaded 1")).to_be_visible()

    second = photo_uploaded(owner=ansel, filename="second.jpg")
    expect(tiles).to_have_count(2, timeout=FEED_IDLE_MS)
    expect(tiles.locator(".name")).to_have_text(["second.jpg", "first.jpg"])
    expect(counts.get_by_role("link", name="Uploaded 2")).to_be_visible()

    # A new tile is followed like the others: its thumbnail, status and chip move on.
    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    tile = page.locator(f'li[data-photo="{first.uid}"]')
    expect(tile.get_by_role("img", name="first.jpg")).to_be_visible(timeout=PIPELINE_TIMEOUT_MS)
    expect(tile.locator("[data-role=status]")).to_have_text("Awaiting score")
    expect(counts.get_by_role("link", name="Uploaded 1")).to_be_visible()
    expect(counts.get_by_role("link", name="Awaiting score 1")).to_be_visible()
    expect(counts.get_by_role("link", name="All 2")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "gallery-new-uploads")
    page.locator(f'li[data-photo="{second.uid}"] a.tile').click()
    expect(page.get_by_role("heading", name="second.jpg")).to_be_visible()


def test_a_sorted_gallery_says_how_many_photos_arrived_instead(
    page: Page, live_server: LiveServer
) -> None:
    ansel = make_user("ansel")
    make_photo(owner=ansel, status=Photo.Status.SCORED, filename="old.jpg")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/?sort=oldest")

    photo_uploaded(owner=ansel, filename="new-1.jpg")
    photo_uploaded(owner=ansel, filename="new-2.jpg")
    bar = page.locator("#new-photos")
    expect(bar).to_have_text("2 new photos uploaded. Show", timeout=FEED_IDLE_MS)
    expect(page.locator("#photo-grid li[data-photo]")).to_have_count(1)
    bar.get_by_role("link", name="Show").click()
    expect(page.locator("#photo-grid li[data-photo] .name")).to_have_text(
        ["new-2.jpg", "new-1.jpg", "old.jpg"]
    )
