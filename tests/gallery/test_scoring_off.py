"""The curator pages when no scorer is configured: a banner says so, and unscored photos are
reviewable from the default queue."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from gallery import services
from gallery.models import Photo
from tests.gallery.factories import make_photo, photo_ingest, photo_uploaded

pytestmark = pytest.mark.django_db

Status = Photo.Status
CURATOR_PAGES = (
    "/admin/",
    "/admin/gallery/photo/",
    "/admin/gallery/photo/review/",
    "/admin/gallery/photo/dashboard/",
)


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("minor", password="pw-m-1234"))
    return client


def _unscored(owner: User, source: str = "cat_brown.jpg") -> Photo:
    """A photo as ingest leaves it when no scorer is configured."""
    photo = photo_uploaded(owner=owner, source=source)
    # The factory's ingest queues for scoring; send it back through the real transition.
    photo_ingest(photo)
    services.photo_reset_for_reprocessing(
        photo_id=photo.pk, to_status=Status.UPLOADED, cause="test: ingest again"
    )
    return services.photo_mark_unscored(photo_id=photo.pk)


def _queue(html: str) -> list[dict[str, Any]]:
    match = re.search(r'id="review-queue" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    items: list[dict[str, Any]] = json.loads(match.group(1))
    return items


@pytest.mark.parametrize("url", CURATOR_PAGES)
def test_banner_says_scoring_is_off_and_how_to_turn_it_on(
    staff: Client, settings: Settings, url: str
) -> None:
    settings.SCORING_ENABLED = False

    html = staff.get(url).content.decode()

    assert 'id="scoring-off"' in html
    assert "Scoring is off: no model is configured." in html
    assert "VLM_MODEL_PATH" in html
    assert "backfill --stage score" in html


@pytest.mark.parametrize("url", CURATOR_PAGES)
def test_no_banner_when_scoring_is_on(staff: Client, settings: Settings, url: str) -> None:
    settings.SCORING_ENABLED = True

    response = staff.get(url)

    assert response.status_code == 200
    assert 'id="scoring-off"' not in response.content.decode()


def test_photographer_pages_carry_no_curator_banner(
    client: Client, photographer: User, settings: Settings
) -> None:
    settings.SCORING_ENABLED = False
    client.force_login(photographer)

    assert 'id="scoring-off"' not in client.get("/").content.decode()


def test_default_review_queue_holds_scored_and_unscored_photos(
    staff: Client, photographer: User, settings: Settings
) -> None:
    settings.SCORING_ENABLED = False
    unscored = _unscored(photographer)
    scored = make_photo(owner=photographer, status=Status.SCORED, source="skimage:coffee")
    make_photo(owner=photographer, status=Status.AWAITING_SCORE, source="skimage:chelsea")

    page = staff.get("/admin/gallery/photo/review/").content.decode()

    queue = _queue(page)
    assert [item["id"] for item in queue] == [str(unscored.uid), str(scored.uid)]
    assert queue[0]["statusLabel"] == "Ready for review (not scored)"
    assert queue[0]["score"] is None
    assert queue[0]["preview"]
    only_unscored = _queue(
        staff.get("/admin/gallery/photo/review/?status=unscored").content.decode()
    )
    assert [item["id"] for item in only_unscored] == [str(unscored.uid)]


def test_curator_decides_an_unscored_photo_from_the_queue(
    staff: Client, photographer: User
) -> None:
    photo = _unscored(photographer)

    response = staff.post(
        f"/admin/gallery/photo/review/{photo.uid}/decide/", {"decision": "approved"}
    )

    assert response.status_code == 200
    photo.refresh_from_db()
    assert (photo.status, photo.curator_decision) == (Status.APPROVED, "approved")
    assert _queue(staff.get("/admin/gallery/photo/review/").content.decode()) == []


def test_admin_filter_and_dashboard_count_unscored_photos(
    staff: Client, photographer: User
) -> None:
    photo = _unscored(photographer)
    make_photo(owner=photographer, status=Status.SCORED, source="skimage:coffee")

    listing = staff.get("/admin/gallery/photo/?status__exact=unscored").content.decode()
    assert photo.original_filename in listing
    assert "coffee.jpg" not in listing
    assert "?status__exact=unscored" in staff.get("/admin/gallery/photo/").content.decode()

    dashboard = staff.get("/admin/gallery/photo/dashboard/").content.decode()
    row = re.search(
        r"status__exact=unscored\">Ready for review \(not scored\)</a>"
        r"</th><td>(\d+)</td>",
        dashboard,
    )
    assert row is not None and row.group(1) == "1"


def test_rescore_action_queues_nothing_while_scoring_is_off(
    staff: Client, photographer: User, settings: Settings
) -> None:
    settings.SCORING_ENABLED = False
    photo = _unscored(photographer)

    response = staff.post(
        "/admin/gallery/photo/",
        {"action": "rescore", "_selected_action": [photo.pk]},
        follow=True,
    )

    assert "Nothing was queued: scoring is off" in response.content.decode()
    photo.refresh_from_db()
    assert photo.status == Status.UNSCORED
