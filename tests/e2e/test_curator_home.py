"""The admin index is the curator's home, branded Parjanya; the changelist fits 1400 px with
formatted numbers and words for people; the History button shows the photo's events."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from culling import services
from gallery.models import Photo, ReviewRequest, Shoot
from tests.e2e.helpers import Screenshot, log_in, make_user, watch_csp_violations
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Status = Photo.Status


def test_curator_home_changelist_and_history(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    curator = make_user("minor", staff=True)
    shoot = Shoot.objects.create(
        owner=ansel, name="Harbour at dawn", capture_day=datetime.date(2026, 5, 2)
    )
    photos = [
        make_photo(
            owner=ansel,
            status=Status.SCORED,
            filename=f"a-rather-long-file-name-from-the-card-{n}.jpg",
            score=0.9360791061634819,
            camera_make="Canon",
            camera_model="Canon EOS 5D Mark IV with a long model name",
        )
        for n in range(3)
    ]
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(shoot=shoot)
    services.photo_set_rating(photo_id=photos[0].pk, curator=curator, stars=3)
    services.photo_reject(
        photo_id=photos[0].pk, curator=curator, reason="out_of_focus", note="front focus"
    )
    services.decision_undo(curator=curator)
    violations = watch_csp_violations(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, "minor", admin=True)

    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_title(re.compile("Curator home"))
    expect(page.locator("#site-name")).to_have_text("Parjanya")
    home = page.get_by_role("region", name="Curator home")
    expect(home.get_by_role("link", name=re.compile("Culling workspace"))).to_contain_text(
        "3 frames to decide"
    )
    for tool in ("Shoots and stacks", "Duplicates", "Dashboard"):
        expect(home.get_by_role("link", name=re.compile(tool))).to_be_visible()
    row = home.locator("#shoots tbody tr").first
    expect(row).to_contain_text("Harbour at dawn")
    expect(row).to_contain_text("ansel")
    screenshot(page, "admin-curator-home")

    page.goto(f"{live_server.url}/admin/gallery/photo/")
    headers = page.locator("#result_list thead th")
    expect(headers.filter(has_text="Model score")).to_have_count(1)
    expect(headers.filter(has_text="Vlm")).to_have_count(0)
    first = page.locator("#result_list tbody tr").filter(has_text="★ 3")
    expect(first.locator("td.field-vlm_score_value")).to_have_text("0.94")
    # Every column, down to the capture date, is on screen without scrolling sideways.
    last_column = page.locator("#result_list thead th").last.bounding_box()
    shown = page.locator(".results").bounding_box()
    assert last_column is not None and shown is not None
    assert last_column["x"] + last_column["width"] <= shown["x"] + shown["width"]
    assert page.locator(".results").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1400
    screenshot(page, "admin-changelist-1400")

    page.goto(f"{live_server.url}/admin/gallery/photo/{photos[0].pk}/change/")
    page.get_by_role("link", name="History").click()
    history = page.locator("#photo-history")
    expect(history).to_contain_text("curator: rate")
    expect(history).to_contain_text("curator: reject (undone)")
    expect(history).to_contain_text("undo: reject")
    expect(history).not_to_contain_text("no change history")
    screenshot(page, "admin-photo-history")
    assert violations == []


def test_curator_home_gives_the_shoots_the_width_and_counts_review_requests(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    ansel = make_user("ansel")
    curator = make_user("minor", staff=True)
    shoot = Shoot.objects.create(
        owner=ansel, name="Harbour at dawn", capture_day=datetime.date(2026, 5, 2)
    )
    photo = make_photo(owner=ansel, status=Status.SCORED, filename="IMG_1.JPG", score=0.5)
    Photo.objects.filter(pk=photo.pk).update(shoot=shoot)
    services.photo_reject(photo_id=photo.pk, curator=curator, reason="out_of_focus")
    ReviewRequest.objects.create(photo=photo, note="It is sharp on the eyes, please look again.")
    violations = watch_csp_violations(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server, "minor", admin=True)

    page.goto(f"{live_server.url}/admin/")
    home = page.get_by_role("region", name="Curator home")
    table = home.locator("#shoots").bounding_box()
    assert table is not None and table["width"] >= 900
    # Every header on one line: none broken mid-word.
    heights = {th.bounding_box()["height"] for th in home.locator("#shoots thead th").all()}  # type: ignore[index]
    assert len(heights) == 1
    row = home.locator("#shoots tbody tr").first
    expect(row).not_to_contain_text("all decided")
    expect(row).to_contain_text("1 review request open")
    tile = home.get_by_role("link", name=re.compile("Review requests"))
    expect(tile).to_contain_text("1 open")
    screenshot(page, "admin-curator-home-1400")

    # On a phone the shoot table fits the screen: no sideways scrolling of the page, and the
    # shoot, its photographer and what is left to decide are on screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/admin/", "/admin/cull/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, url
        row = page.locator("#shoots tbody tr").first
        # Still a table to a screen reader: the shoot heads its row.
        expect(row.get_by_role("rowheader")).to_have_text("Harbour at dawn")
        for text in ("Harbour at dawn", "ansel", "1 review request open"):
            box = row.get_by_text(text).bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390, (url, text, box)
    screenshot(page, "admin-cull-390")
    page.goto(f"{live_server.url}/admin/")
    screenshot(page, "admin-curator-home-390")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.get_by_role("region", name="Curator home").get_by_role(
        "link", name=re.compile("Review requests")
    ).click()
    expect(page.locator("#result_list")).to_contain_text("It is sharp on the eyes")

    # The shoot list has the same Parjanya frame as every admin page.
    page.goto(f"{live_server.url}/admin/cull/")
    expect(page).to_have_title("Shoots to cull | Parjanya")
    expect(page.locator("#site-name")).to_have_text("Parjanya")
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    assert violations == []
