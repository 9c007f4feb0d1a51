"""A curator culls a shoot of real camera photos with a burst in the workspace: opens the shoot
from the curator home, surveys the burst's stack, compares two frames at 100 % (the tiles are the
original's pixels), picks, rejects with a reason, rates, labels, undoes, and exports XMP sidecars
that exiftool reads back; and renames, merges and splits shoots and stacks by pointer."""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from gallery import shoot_services
from gallery.models import Photo, Shoot, Stack
from pipeline.core.hashcode import dhash, phash
from pipeline.core.stacking import StackRules
from tests.culling.test_exports import read_sidecars
from tests.e2e.helpers import Screenshot, log_in, make_user, watch_csp_violations
from tests.gallery.factories import make_photo
from tests.support.paths import REAL_PHOTOS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Status = Photo.Status
BURST_SOURCE = "Canon_EOS_5D.jpg"
OTHERS = ["Apple_iPhone_5.jpg", "Canon_EOS_1000D.jpg", "Blackberry_Z10.jpg"]


def _burst(folder: Path) -> list[Path]:
    """Three frames of one burst: the camera file, then two shifted a little, as a hand-held
    burst drifts, each written at camera quality."""
    with Image.open(REAL_PHOTOS / BURST_SOURCE) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    frames = [REAL_PHOTOS / BURST_SOURCE]
    width, height = image.size
    for step in (1, 2):
        shifted = image.crop((12 * step, 8 * step, width, height)).resize((width, height))
        path = folder / f"IMG_010{step + 1}.JPG"
        shifted.save(path, "JPEG", quality=95)
        frames.append(path)
    return frames


def _hashes(path: Path) -> tuple[int, int]:
    """The validator's hashes: luminance of a copy 512 px on its long edge."""
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("L")
    image.thumbnail((512, 512))
    return phash(image), dhash(image)


def _shoot(folder: Path) -> tuple[Shoot, Stack, list[Photo]]:
    """Six real frames of one morning, filed into their day's shoot and stacked by the ingest's
    own services: the burst (one frame a second, one camera) becomes a stack; the frames minutes
    later from other cameras stay alone."""
    ansel = make_user("ansel")
    start = timezone.make_aware(datetime.datetime(2026, 5, 1, 7, 30, 0))
    sources = [*_burst(folder), *(REAL_PHOTOS / name for name in OTHERS)]
    names = ["IMG_0101.JPG", "IMG_0102.JPG", "IMG_0103.JPG", "IMG_0200.JPG", "IMG_0300.JPG"]
    names.append("IMG_0400.JPG")
    photos = []
    for at, (source, name) in enumerate(zip(sources, names, strict=True)):
        burst = at < 3
        photo = make_photo(
            owner=ansel,
            status=Status.SCORED,
            source=str(source),
            filename=name,
            score=0.7,
            camera_make="Canon" if burst else "Other",
            camera_model="Canon EOS 5D" if burst else f"camera {at}",
            validator_verdict=Photo.ValidatorVerdict.PASS,
        )
        photo.phash, photo.dhash = _hashes(Path(source))
        photo.captured_at = start + datetime.timedelta(seconds=at if burst else 60 * at)
        photo.save(update_fields=["phash", "dhash", "captured_at"])
        shoot_services.photo_file_in_shoot(photo)
        with transaction.atomic():
            shoot_services.photo_stack(photo_id=photo.pk, rules=StackRules())
        photos.append(photo)
    shoot = Shoot.objects.get(owner=ansel)
    shoot_services.shoot_rename(shoot_id=shoot.pk, name="Lighthouse, 1 May")
    stack = Stack.objects.get(shoot=shoot)
    assert set(stack.photos.values_list("pk", flat=True)) == {p.pk for p in photos[:3]}
    return shoot, stack, photos


def test_curator_culls_a_shoot_with_a_burst(
    page: Page, live_server: LiveServer, screenshot: Screenshot, tmp_path: Path
) -> None:
    shoot, stack, photos = _shoot(tmp_path)
    make_user("minor", staff=True)
    violations = watch_csp_violations(page)
    log_in(page, live_server, "minor", admin=True)
    base = live_server.url

    page.goto(f"{base}/admin/")
    home = page.get_by_role("region", name="Curator home")
    expect(home.locator("#shoots")).to_contain_text("6")
    home.get_by_role("link", name="Lighthouse, 1 May").click()
    progress = page.locator("#ws-progress")
    expect(progress).to_have_text("0 of 6 decided · frame 1 of 6")
    page.wait_for_function("() => document.querySelector('.ws-photo').naturalWidth > 0")
    screenshot(page, "cull-shoot")

    # The burst's stack, surveyed N-up, then two of its frames compared at 100 %.
    page.get_by_role("link", name=f"Stack {stack.pk} · 3 frames").click()
    expect(page.locator(".ws-survey .ws-cell")).to_have_count(3)
    expect(page.locator(".ws-cell").filter(has_text="suggested best")).to_have_count(1)
    screenshot(page, "cull-stack-survey")
    # The curator overrules the suggestion: the third frame becomes the stack's best.
    page.locator(".ws-survey .ws-cell img").nth(2).click()
    page.keyboard.press("b")
    expect(page.locator(".ws-cell").nth(2)).to_contain_text("suggested best")
    stack.refresh_from_db()
    assert (stack.best_photo_id, stack.manual) == (photos[2].pk, True)
    page.locator(".ws-survey .ws-cell img").first.click()
    page.keyboard.press("c")
    views = page.locator(".ws-compare .ws-view")
    expect(views).to_have_count(2)
    views.first.locator("img").click(position={"x": 200, "y": 150})
    expect(page.locator(".ws-compare .ws-zoomed")).to_have_count(2)
    first_tiles = views.first.locator(".ws-tile")
    expect(first_tiles.first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ws-zoomed .ws-tile')]"
        ".every(t => t.complete && t.naturalWidth > 0)"
    )
    screenshot(page, "cull-compare-100")
    # Both frames sit at the same place of their frame (synchronised zoom).
    transforms = [v.locator(".ws-canvas").evaluate("e => e.style.transform") for v in views.all()]
    assert transforms[0] == transforms[1] and transforms[0] != ""

    # The loupe's tile is the original's pixels at 100 %.
    tile = first_tiles.first
    column, row = (int(n) for n in tile.get_attribute("data-key").split("-"))  # type: ignore[union-attr]
    content = page.request.get(f"{base}{tile.get_attribute('src')}").body()
    shown = np.asarray(Image.open(io.BytesIO(content)).convert("RGB"), dtype=np.int16)
    with Image.open(REAL_PHOTOS / BURST_SOURCE) as opened:
        original = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"), dtype=np.int16)
    size = 512
    crop = original[
        row * size : row * size + shown.shape[0], column * size : column * size + shown.shape[1]
    ]
    assert shown.shape[:2] == crop.shape[:2] and shown.shape[0] > 100
    assert np.abs(shown - crop).mean() < 2.0

    # Back to the whole shoot: pick, reject with a reason, stars, label, undo.
    page.goto(f"{base}/admin/cull/shoots/{shoot.pk}/")
    keyboard = page.keyboard
    keyboard.press("p")
    expect(progress).to_have_text("1 of 6 decided · frame 2 of 6")
    keyboard.press("x")
    reasons = page.get_by_role("dialog", name="Reject reason")
    expect(reasons).to_be_visible()
    screenshot(page, "cull-reject-reasons")
    page.get_by_label("Note for the photographer (optional)").fill("the gull moved")
    reasons.get_by_role("button", name=re.compile("Motion blur")).click()
    expect(progress).to_have_text("2 of 6 decided · frame 3 of 6")
    keyboard.press("4")
    expect(page.locator("#ws-stars")).to_have_attribute("aria-label", "4 of 5 stars")
    keyboard.press("6")
    expect(page.get_by_role("button", name=re.compile("^Red"))).to_have_attribute(
        "aria-pressed", "true"
    )
    keyboard.press("p")
    expect(progress).to_have_text("3 of 6 decided · frame 4 of 6")
    keyboard.press("Control+z")
    expect(progress).to_have_text("2 of 6 decided · frame 3 of 6")
    expect(page.locator("#ws-state")).to_have_text("Not decided")
    screenshot(page, "cull-after-undo")
    marks = [
        Photo.objects.values_list(
            "status", "curator_reject_reason", "reject_detail", "curator_rating", "curator_label"
        ).get(pk=p.pk)
        for p in photos[:3]
    ]
    assert marks == [
        ("approved", "", "", None, ""),
        ("rejected", "motion_blur", "Motion blur: the gull moved", None, ""),
        ("scored", "", "", 4, "red"),
    ]

    # Export the shoot's sidecars; exiftool reads every one back.
    page.locator(".ws-export summary").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="XMP sidecars (ZIP)").click()
    archive = tmp_path / "sidecars.zip"
    download.value.save_as(archive)
    unpacked = tmp_path / "sidecars"
    zipfile.ZipFile(archive).extractall(unpacked)
    read = read_sidecars(unpacked)
    assert len(read) == 12
    assert read["IMG_0101.xmp"]["Rating"] == 0 and read["IMG_0101.xmp"]["Pick"] == 1
    assert read["IMG_0102.JPG.xmp"]["Rating"] == -1
    assert (read["IMG_0103.xmp"]["Rating"], read["IMG_0103.xmp"]["Label"]) == (4, "Red")

    # Then the sidecars of two selected frames: the selection is posted with the page's token.
    keyboard.press("s")
    keyboard.press("j")
    keyboard.press("s")
    page.locator(".ws-export summary").click()
    with page.expect_download() as selected_download:
        page.get_by_role("button", name="XMP for the 2 selected frame(s)").click()
    selected = tmp_path / "selected.zip"
    selected_download.value.save_as(selected)
    assert sorted(zipfile.ZipFile(selected).namelist()) == [
        "IMG_0103.JPG.xmp",
        "IMG_0103.xmp",
        "IMG_0200.JPG.xmp",
        "IMG_0200.xmp",
    ]

    # Every mark works by pointer too: stars and a label on the fifth frame.
    page.locator("#ws-strip .ws-thumb").nth(4).click()
    page.get_by_role("button", name="★2").click()
    expect(page.locator("#ws-stars")).to_have_attribute("aria-label", "2 of 5 stars")
    page.get_by_role("button", name=re.compile("^Blue")).click()
    expect(page.get_by_role("button", name=re.compile("^Blue"))).to_have_attribute(
        "aria-pressed", "true"
    )
    page.locator("#ws-strip .ws-thumb").nth(2).click()
    expect(page.get_by_role("button", name=re.compile("^Blue"))).to_have_attribute(
        "aria-pressed", "false"
    )
    assert Photo.objects.values_list("curator_rating", "curator_label").get(pk=photos[4].pk) == (
        2,
        "blue",
    )

    # To the end of the queue, and the same page on a phone.
    for _ in range(4):
        keyboard.press("j")
    expect(page.locator("#ws-end")).to_contain_text("2 of 6 decided; 4 still undecided")
    screenshot(page, "cull-end-of-queue")
    page.set_viewport_size(PHONE)
    keyboard.press("k")
    expect(page.get_by_role("button", name=re.compile("^Pick"))).to_be_visible()
    page.wait_for_function("() => document.querySelector('.ws-photo').naturalWidth > 0")
    screenshot(page, "cull-phone-390")
    _usable_on_a_phone(page)
    # The reasons open right under Reject and scroll into view whole.
    page.get_by_role("button", name=re.compile("^Reject")).click()
    expect(page.get_by_role("dialog", name="Reject reason")).to_be_visible()
    _inside(page, "#ws-reasons")
    screenshot(page, "cull-phone-390-reasons")
    keyboard.press("Escape")
    assert violations == []


def test_curator_renames_merges_and_splits_shoots_and_stacks_by_pointer(
    page: Page, live_server: LiveServer, screenshot: Screenshot, tmp_path: Path
) -> None:
    shoot, stack, photos = _shoot(tmp_path)
    ansel = photos[0].owner
    harbour = []
    for n in range(2):
        photo = make_photo(
            owner=ansel, status=Status.SCORED, filename=f"HARBOUR_{n}.JPG", score=0.6
        )
        photo.captured_at = timezone.make_aware(datetime.datetime(2026, 5, 2, 17, n))
        photo.save(update_fields=["captured_at"])
        shoot_services.photo_file_in_shoot(photo)
        harbour.append(photo)
    Shoot.objects.filter(photos=harbour[0]).update(name="Harbour, 2 May")
    make_user("minor", staff=True)
    violations = watch_csp_violations(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, "minor", admin=True)
    page.goto(f"{live_server.url}/admin/cull/shoots/{shoot.pk}/")
    progress = page.locator("#ws-progress")
    expect(progress).to_have_text("0 of 6 decided · frame 1 of 6")
    panel = page.locator(".ws-organise")
    panel.locator("summary").click()
    screenshot(page, "cull-shoot-panel")

    # Rename, then merge the next day's shoot in: one shoot of eight frames.
    page.get_by_label("Shoot name").fill("Lighthouse weekend")
    panel.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lighthouse weekend — ansel")
    page.locator(".ws-organise summary").click()
    page.get_by_label("Merge into this shoot").select_option(label="Harbour, 2 May (2 frames)")
    panel.get_by_role("button", name="Merge", exact=True).click()
    expect(progress).to_have_text("0 of 8 decided · frame 1 of 8")

    # A merge of stacks with nothing selected is refused in words.
    page.locator(".ws-organise summary").click()
    panel.get_by_role("button", name="Merge their stacks").click()
    expect(page.get_by_role("alert")).to_have_text("Choose at least two stacks to merge.")

    # The frame a minute after the burst joins the burst's stack...
    strip = page.locator("#ws-strip .ws-thumb")
    strip.nth(3).click(modifiers=["Control"])
    strip.nth(0).click()
    panel.get_by_role("button", name="Add to this frame's stack").click()
    expect(page.get_by_role("link", name=f"Stack {stack.pk} · 4 frames")).to_be_visible()
    # ...which is split in two on its page, and merged back from the shoot by the selection.
    page.get_by_role("link", name=f"Stack {stack.pk} · 4 frames").click()
    cells = page.locator(".ws-survey .ws-cell img")
    cells.nth(2).click()
    page.keyboard.press("s")
    cells.nth(3).click()
    page.keyboard.press("s")
    page.get_by_role("button", name="Split off selected").click()
    stacks = page.get_by_role("navigation", name="Stacks in this shoot").get_by_role("link")
    expect(stacks).to_have_text([f"Stack {stack.pk} · 2 frames", re.compile(r"· 2 frames$")])
    strip.nth(1).click(modifiers=["Control"])
    strip.nth(2).click(modifiers=["Control"])
    page.locator(".ws-organise summary").click()
    panel.get_by_role("button", name="Merge their stacks").click()
    expect(stacks).to_have_text([f"Stack {stack.pk} · 4 frames"])

    # The harbour frames go to a shoot of their own again.
    strip.nth(6).click(modifiers=["Control"])
    strip.nth(7).click(modifiers=["Control"])
    page.locator(".ws-organise summary").click()
    page.get_by_label("New shoot for the selected frames").fill("Harbour")
    panel.get_by_role("button", name="Split off").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour — ansel")
    expect(progress).to_have_text("0 of 2 decided · frame 1 of 2")
    screenshot(page, "cull-shoot-split-off")

    page.goto(f"{live_server.url}/admin/cull/")
    rows = page.locator("#shoots tbody tr")
    expect(rows).to_have_count(2)
    # Newest day first: the split-off shoot is the day of its frames.
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text("Harbour")
    expect(rows.nth(0).get_by_role("cell").nth(3)).to_have_text("2")
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("Lighthouse weekend")
    expect(rows.nth(1).get_by_role("cell").nth(3)).to_have_text("6")
    assert violations == []


PHONE = ViewportSize(width=390, height=844)
TAP_PX = 44


def _usable_on_a_phone(page: Page) -> None:
    """At 390 x 844, opened at its top: nothing wider than the screen; under the frame, in view
    without scrolling, Pick and Reject, the stars and the moves; every control big enough for a
    finger."""
    assert page.evaluate("() => window.scrollY") == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    stage = page.locator("#ws-stage").bounding_box()
    assert stage is not None and stage["height"] >= 250
    for name in ("^Pick", "^Reject", "^← Previous", "^Next", "^★5"):
        box = page.get_by_role("button", name=re.compile(name)).bounding_box()
        assert box is not None, name
        assert stage["y"] + stage["height"] <= box["y"], (name, box)
        assert box["y"] + box["height"] <= PHONE["height"], (name, box)
    small = page.evaluate(
        """([selector, px]) => [...document.querySelectorAll(selector)]
            .filter((el) => el.checkVisibility())
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([el, box]) => box.height < px || box.width < px)
            .map(([el, box]) => el.outerHTML.slice(0, 60) + " " + box.width + "x" + box.height)
        """,
        [".ws button, .ws select, .ws summary, .ws-back, .ws-stack-link", TAP_PX],
    )
    assert small == []


def _inside(page: Page, selector: str) -> None:
    """The element's whole box lies inside the window."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"], (selector, box)
    assert box["y"] + box["height"] <= size["height"], (selector, box)


def test_workspace_fits_a_1400_screen_with_the_help_open_or_closed(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    make_user("minor", staff=True)
    shoot = Shoot.objects.create(
        owner=ansel, name="A long shoot name at the harbour", capture_day=datetime.date(2026, 5, 2)
    )
    for n in range(4):
        make_photo(owner=ansel, status=Status.SCORED, filename=f"IMG_{n}.JPG", score=0.6)
    Photo.objects.update(shoot=shoot)
    violations = watch_csp_violations(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, "minor", admin=True)
    page.goto(f"{live_server.url}/admin/cull/shoots/{shoot.pk}/")
    help_panel = page.get_by_label("Keyboard shortcuts")
    # Closed at first: the frame, the marks and the strip are all in view.
    expect(help_panel).to_be_hidden()
    for part in ("#ws-stage", "#ws-strip", ".ws-side", ".ws-bar"):
        _inside(page, part)
    page.keyboard.press("?")
    expect(help_panel).to_be_visible()
    expect(help_panel).to_contain_text("reject with a reason")
    for part in ("#ws-stage", "#ws-strip", "#ws-help"):
        _inside(page, part)
    screenshot(page, "cull-1400-help-open")
    # The choice is remembered on the next visit.
    page.reload()
    expect(help_panel).to_be_visible()
    page.get_by_role("button", name=re.compile("^Close")).click()
    page.reload()
    expect(help_panel).to_be_hidden()
    # The Export menu opens inside the window.
    page.locator(".ws-export summary").click()
    expect(page.get_by_role("link", name="Decisions (CSV)")).to_be_visible()
    _inside(page, ".ws-export ul")
    page.locator(".ws-export summary").click()
    # At the end of the queue the strip keeps its size.
    strip_height = page.locator("#ws-strip").bounding_box()["height"]  # type: ignore[index]
    for _ in range(4):
        page.keyboard.press("j")
    expect(page.locator("#ws-end")).to_be_visible()
    _inside(page, "#ws-strip")
    assert page.locator("#ws-strip").bounding_box()["height"] == strip_height  # type: ignore[index]
    screenshot(page, "cull-1400-end-of-queue")
    assert violations == []


def test_on_a_phone_the_workspace_opens_at_its_top(page: Page, live_server: LiveServer) -> None:
    ansel = make_user("ansel")
    make_user("minor", staff=True)
    shoot = Shoot.objects.create(owner=ansel, name="Pier", capture_day=datetime.date(2026, 5, 2))
    for n in range(12):
        make_photo(owner=ansel, status=Status.SCORED, filename=f"IMG_{n}.JPG", score=0.6)
    Photo.objects.update(shoot=shoot)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "minor", admin=True)
    page.goto(f"{live_server.url}/admin/cull/shoots/{shoot.pk}/")
    expect(page.locator("#ws-progress")).to_have_text("0 of 12 decided · frame 1 of 12")
    page.wait_for_load_state("load")
    # The bar is in view: Undo, Help and Export are there without scrolling back up.
    assert page.evaluate("() => window.scrollY") == 0
    for control in ("#ws-undo", "#ws-help-toggle", ".ws-export summary"):
        _inside(page, control)
    _usable_on_a_phone(page)
