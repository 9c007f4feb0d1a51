"""The admin index is the curator's home, branded Parjanya; the changelist fits 1400 px with
formatted numbers and words for people; the History button shows the photo's events."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from culling import services
from gallery.models import Photo, Shoot
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
