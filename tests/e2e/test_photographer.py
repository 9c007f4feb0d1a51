"""A photographer uploads in a real browser and watches the pipeline decide, without reloading;
another photographer cannot reach those photos."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gallery import services as gallery_services
from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user
from tests.gallery.factories import make_photo
from tests.support.paths import PHOTOS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Long enough for a cold worker thread to ingest a 30 MB-class RAW on a busy 2-core machine.
PIPELINE_TIMEOUT_MS = 60_000


def _drop(page: Page, selector: str, path: Path) -> None:
    """Drop a file on an element the way a drag from the desktop does."""
    payload = base64.b64encode(path.read_bytes()).decode()
    data_transfer = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            return transfer;
        }""",
        [path.name, payload],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": data_transfer})


def test_upload_many_files_and_watch_their_statuses(
    page: Page, live_server: LiveServer, celery_worker: None, screenshot: Screenshot, tmp_path: Path
) -> None:
    make_user("ansel")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/upload/")
    page.evaluate("window.sameDocument = true")

    broken = tmp_path / "broken.jpg"
    broken.write_bytes((PHOTOS / "cat_brown.jpg").read_bytes()[:3000])
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list: milk, eggs\n" * 20)
    page.get_by_label("Or choose files").set_input_files(
        [PHOTOS / "cat_brown.jpg", PHOTOS / "elephants.jpg", broken, notes]
    )
    _drop(page, "#dropzone", PHOTOS / "canon_eos_6d.dng")

    def row(name: str) -> Any:
        return page.locator(f'#upload-list li[data-file="{name}"]')

    expect(page.locator("#upload-list li")).to_have_count(5)
    expect(row("notes.jpg").get_by_role("alert")).to_contain_text(
        "is not a picture format we take (checked by its content, not its name)"
    )
    accepted = ["cat_brown.jpg", "elephants.jpg", "canon_eos_6d.dng", "broken.jpg"]
    for name in accepted:
        expect(row(name).get_by_role("progressbar")).to_have_js_property("value", 100)
    # The refused notes.jpg is not counted as sent.
    expect(page.locator("#upload-summary")).to_have_text("4 of 5 files accepted, 1 refused.")
    screenshot(page, "upload-sent")

    status = {name: row(name).locator("[data-role=status]") for name in accepted}
    expect(status["broken.jpg"]).to_have_text("Rejected", timeout=PIPELINE_TIMEOUT_MS)
    for name in ("cat_brown.jpg", "elephants.jpg", "canon_eos_6d.dng"):
        expect(status[name]).to_have_text(
            re.compile("Awaiting score|Rejected"), timeout=PIPELINE_TIMEOUT_MS
        )
    # Each accepted JPEG's row shows its thumbnail once ingest has rendered it.
    for name in ("cat_brown.jpg", "elephants.jpg"):
        expect(row(name).get_by_role("img", name=name)).to_be_visible()
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    screenshot(page, "upload-processed")

    stored = dict(Photo.objects.values_list("original_filename", "status"))
    assert set(stored) == set(accepted)
    assert stored["broken.jpg"] == Photo.Status.REJECTED
    assert Photo.objects.get(original_filename="broken.jpg").reject_reason == "unreadable"

    page.get_by_role("link", name="My photos").click()
    expect(page.locator("#photo-grid li")).to_have_count(4)
    for image in page.locator("#photo-grid img").all():
        assert image.get_attribute("loading") == "lazy" and image.get_attribute("alt")
    screenshot(page, "gallery")


def test_another_photographer_cannot_reach_my_photo(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    make_user("dorothea")
    photo = make_photo(owner=ansel)
    log_in(page, live_server, "dorothea")

    for path in ("", "original", "preview", "thumbnail"):
        response = page.goto(f"{live_server.url}/photos/{photo.uid}/{path}")
        assert response is not None and response.status == 404, path
    screenshot(page, "other-photographer-404")
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("No photos here yet.")).to_be_visible()
    response = page.goto(f"{live_server.url}/admin/gallery/photo/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def test_a_flag_appears_in_plain_words_when_the_pipeline_sends_a_photo_on(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    photo = make_photo(owner=ansel, status=Photo.Status.UPLOADED, filename="dusk.jpg")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    tile = page.locator(f'li[data-photo="{photo.uid}"]')
    expect(tile.locator("[data-role=status]")).to_have_text("Uploaded")
    expect(tile.locator(".flag")).to_have_count(0)

    # What ingest writes for a borderline frame: its verdict and flag, then the move to scoring.
    Photo.objects.filter(pk=photo.pk).update(
        validator_verdict="borderline", flag_possibly_soft=True
    )
    gallery_services.photo_queue_for_scoring(photo_id=photo.pk, cause="validator: borderline")

    expect(tile.locator("[data-role=status]")).to_have_text(
        "Awaiting score", timeout=PIPELINE_TIMEOUT_MS
    )
    expect(tile.locator("[data-role=flags] .flag")).to_have_text(
        "Possibly soft — passed, flagged for the curator"
    )
    screenshot(page, "gallery-flagged")
    page.goto(f"{live_server.url}/?flag=possibly_soft")
    expect(page.locator("#photo-grid li[data-photo]")).to_have_count(1)


def test_every_page_has_an_icon_and_the_main_links_are_evenly_spaced(
    page: Page, live_server: LiveServer
) -> None:
    make_user("ansel")
    log_in(page, live_server, "ansel")
    page.goto(f"{live_server.url}/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    answer = page.request.get(f"{live_server.url}{icon}")
    assert (answer.status, answer.headers["content-type"]) == (200, "image/svg+xml")
    # Pages that name no icon (the admin, the API's) make the browser ask for /favicon.ico.
    answer = page.request.get(f"{live_server.url}/favicon.ico")
    assert (answer.status, answer.headers["content-type"]) == (200, "image/svg+xml")

    # The space between one link's words and the next is the same all along the bar.
    gaps = page.evaluate(
        """() => {
            const words = [...document.querySelectorAll("header.site nav a")].map((link) => {
                const range = document.createRange();
                range.selectNodeContents(link);
                return range.getBoundingClientRect();
            });
            return words.slice(1).map((box, i) => box.left - words[i].right);
        }"""
    )
    assert len(gaps) >= 3 and max(gaps) - min(gaps) <= 2, gaps
