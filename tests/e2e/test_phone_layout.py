"""The photographer's pages on a phone (390 x 844) and on a desktop (1400 x 900): one readable
column on the phone, nothing wider than the screen, and every control big enough for a finger.
Screenshots of each land in artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, log_in, make_user
from tests.gallery.factories import make_photo
from tests.support.paths import PHOTOS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1400, height=900)
TAP_PX = 44
# What a finger has to hit on these pages: links that are not inside running text, buttons and
# form controls.
CONTROLS = (
    "header a, header button, main button, main select, main input:not([type=hidden]), "
    "main .button, nav.pages a, a.tile, .dropzone label"
)


def _small_controls(page: Page) -> list[str]:
    return list(
        page.evaluate(
            """([selector, px]) => [...document.querySelectorAll(selector)]
                .filter((el) => el.offsetParent !== null)
                .map((el) => [el, el.getBoundingClientRect()])
                .filter(([el, box]) => box.height < px || box.width < px)
                .map(([el, box]) => el.outerHTML.slice(0, 80) + " " + box.width + "x" + box.height)
            """,
            [CONTROLS, TAP_PX],
        )
    )


def _fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


def _photos(owner: User) -> tuple[Photo, Photo]:
    cat = make_photo(
        owner=owner,
        status=Photo.Status.SCORED,
        filename="IMG_0001_a_long_file_name_from_a_card_dump.jpg",
        camera_make="Canon",
        camera_model="Canon EOS 6D",
        orientation=6,
    )
    rejected = make_photo(
        owner=owner, status=Photo.Status.REJECTED, filename="blurry.jpg", source="elephants.jpg"
    )
    Photo.objects.create(
        owner=owner,
        original="originals/aa/raw.nef",
        original_filename="DSC_0042.NEF",
        format="nef",
        status=Photo.Status.FAILED,
        reject_reason=Photo.RejectReason.UNREADABLE,
        reject_detail="The RAW decoder could not read this file.",
    )
    # Passed the validator with no scoring model configured: the longest status chip.
    unscored = make_photo(owner=owner, status=Photo.Status.AWAITING_SCORE, filename="later.jpg")
    Photo.objects.filter(pk=unscored.pk).update(status=Photo.Status.UNSCORED)
    return cat, rejected


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_gallery_detail_and_upload_pages_fit_the_screen(
    page: Page,
    live_server: LiveServer,
    screenshot: Screenshot,
    screen: ViewportSize,
    tmp_path: Path,
) -> None:
    size = f"{screen['width']}x{screen['height']}"
    phone = screen == PHONE
    ansel = make_user("ansel")
    cat, rejected = _photos(ansel)
    page.set_viewport_size(screen)
    log_in(page, live_server, "ansel")

    page.goto(f"{live_server.url}/")
    expect(page.locator("#photo-grid li[data-photo]")).to_have_count(4)
    expect(page.locator("#status-counts")).to_contain_text("Ready for review (not scored)")
    _fits_the_screen(page)
    lefts = {
        round(box["x"])
        for box in (t.bounding_box() for t in page.locator("#photo-grid li").all())
        if box
    }
    assert (len(lefts) == 1) == phone, lefts  # one column on the phone only
    if phone:
        assert _small_controls(page) == []
    screenshot(page, f"gallery-{size}")

    page.goto(f"{live_server.url}/photos/{cat.uid}/")
    preview = page.get_by_role("img", name=cat.original_filename)
    expect(preview).to_be_visible()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    box = preview.bounding_box()
    natural = preview.evaluate("(img) => img.naturalWidth")
    # Full width on the phone; on the desktop as wide as the preview itself, never a stamp.
    assert box is not None and box["width"] >= min(
        natural, screen["width"] * (0.8 if phone else 0.5)
    )
    _fits_the_screen(page)
    if phone:
        assert _small_controls(page) == []
    screenshot(page, f"detail-{size}")

    page.goto(f"{live_server.url}/photos/{rejected.uid}/")
    expect(page.get_by_role("button", name="Ask for a review")).to_be_visible()
    _fits_the_screen(page)
    if phone:
        assert _small_controls(page) == []
    screenshot(page, f"detail-rejected-{size}")

    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list: milk, eggs\n" * 20)
    page.goto(f"{live_server.url}/upload/")
    page.get_by_label("Or choose files").set_input_files([PHOTOS / "cat_brown.jpg", notes])
    expect(page.locator("#upload-list li")).to_have_count(2)
    expect(
        page.locator('#upload-list li[data-file="notes.jpg"]').get_by_role("alert")
    ).to_be_visible()
    expect(page.locator('#upload-list li[data-file="cat_brown.jpg"] progress')).to_have_js_property(
        "value", 100
    )
    expect(page.locator("#upload-summary")).to_have_text("1 of 2 files accepted, 1 refused.")
    _fits_the_screen(page)
    # The progress bar never runs through the file name (both measured in one layout).
    name, bar = page.evaluate(
        """() => ["name", "progress"].map((part) => {
            const box = document.querySelector(`li[data-file="cat_brown.jpg"] .${part}, `
              + `li[data-file="cat_brown.jpg"] ${part}`).getBoundingClientRect();
            return { x: box.x, y: box.y, width: box.width, height: box.height };
        })"""
    )
    assert bar["y"] >= name["y"] + name["height"] or bar["x"] >= name["x"] + name["width"]
    # Every row's bar is as wide as the next, whatever its badge ("Uploaded", "Refused") says.
    bars = page.evaluate(
        """() => [...document.querySelectorAll("#upload-list progress")].map((bar) => {
            const box = bar.getBoundingClientRect();
            return [Math.round(box.x), Math.round(box.width)];
        })"""
    )
    assert len(bars) == 2 and bars[0] == bars[1], bars
    # The browser's own "Choose files" button, not only the input around it, fits a finger.
    button_height = page.locator("#file-input").evaluate(
        "(input) => parseFloat(getComputedStyle(input, '::file-selector-button').height)"
    )
    assert button_height >= TAP_PX, button_height
    if phone:
        assert _small_controls(page) == []
    screenshot(page, f"upload-{size}")
