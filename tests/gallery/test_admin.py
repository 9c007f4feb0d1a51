"""The curator admin as a curator uses it: lists, filters, actions, pages, and who gets in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks, Settings

from gallery import selectors, services
from gallery.models import Photo
from pipeline import services as pipeline_services
from pipeline.config import IngestConfig
from tests.gallery.factories import make_photo, photo_uploaded

pytestmark = pytest.mark.django_db

Status = Photo.Status
Reason = Photo.RejectReason
CHANGELIST = "/admin/gallery/photo/"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()  # the camera filter caches its choices


@pytest.fixture
def curator(db: None) -> User:
    return get_user_model().objects.create_superuser("minor", password="pw-minor-1234")


@pytest.fixture
def staff(client: Client, curator: User) -> Client:
    client.force_login(curator)
    return client


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">.*?</tr>', html, re.S)


def test_changelist_shows_badges_and_measurements_in_constant_queries(
    staff: Client,
    photographer: User,
    other_photographer: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    make_photo(
        owner=photographer,
        status=Status.SCORED,
        score=0.81,
        camera_make="Canon",
        camera_model="Canon EOS 6D",
        highlight_clip=0.031,
    )
    make_photo(owner=other_photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    staff.get(CHANGELIST)  # fills the camera list cache, as any earlier visit would
    with CaptureQueriesContext(connection) as few:
        response = staff.get(CHANGELIST)
    html = response.content.decode()
    assert len(_rows(html)) == 2
    assert 'class="pj-badge pj-scored"' in html and ">Blurry<" in html
    assert "0.81" in html and "▲3.1%" in html
    assert ">Canon EOS 6D<" in html and "Canon Canon" not in html  # the maker said once
    assert 'loading="lazy"' in html

    for i in range(10):
        make_photo(
            owner=[photographer, other_photographer][i % 2],
            status=Status.SCORED,
            camera_model=f"Model {i}",
        )
    with django_assert_num_queries(len(few)):
        response = staff.get(CHANGELIST)
    assert len(_rows(response.content.decode())) == 12


def test_filters_narrow_the_list(staff: Client, photographer: User) -> None:
    make_photo(owner=photographer, status=Status.SCORED, score=0.9, filename="great.jpg")
    make_photo(owner=photographer, status=Status.SCORED, score=0.5, filename="fair.jpg")
    make_photo(
        owner=photographer, status=Status.REJECTED, reason=Reason.DUPLICATE, filename="dupe.jpg"
    )

    great = staff.get(CHANGELIST, {"score": "great"}).content.decode()
    assert "great.jpg" in great and "fair.jpg" not in great
    dupes = staff.get(CHANGELIST, {"reject_reason__exact": "duplicate"}).content.decode()
    assert "dupe.jpg" in dupes and "great.jpg" not in dupes
    make_photo(
        owner=photographer, status=Status.SCORED, filename="sony.jpg", camera_model="ILCE-7M3"
    )
    by_camera = staff.get(CHANGELIST, {"camera": "ILCE-7M3"}).content.decode()
    assert "sony.jpg" in by_camera and "great.jpg" not in by_camera
    cache.clear()  # the sidebar's camera list is cached for a couple of minutes
    assert 'href="?camera=ILCE-7M3"' in staff.get(CHANGELIST).content.decode()
    found = staff.get(CHANGELIST, {"q": "fair"}).content.decode()
    assert "fair.jpg" in found and "great.jpg" not in found


def _act(client: Client, action: str, photos: list[Photo], **extra: str) -> Any:
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [p.pk for p in photos], **extra}
    )


def test_approve_action_records_a_final_curator_decision(
    staff: Client, curator: User, photographer: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    _act(staff, "approve", [photo])
    photo.refresh_from_db()
    assert (photo.status, photo.curator_decision, photo.curated_by) == (
        Status.APPROVED,
        "approved",
        curator,
    )
    assert photo.events.latest("created_at", "id").actor == curator

    # The pipeline can no longer move it: re-validate leaves a curated photo alone.
    response = _act(staff, "revalidate", [photo])
    photo.refresh_from_db()
    assert photo.status == Status.APPROVED
    assert "left alone" in staff.get(response["Location"]).content.decode()


def test_reject_asks_for_a_reason_first(staff: Client, photographer: User) -> None:
    photos = [make_photo(owner=photographer, status=Status.SCORED) for _ in range(2)]
    ask = _act(staff, "reject_with_reason", photos)
    assert ask.status_code == 200 and "Their photographers see the reason" in ask.content.decode()
    assert Photo.objects.filter(status=Status.REJECTED).count() == 0

    refused = _act(staff, "reject_with_reason", photos, apply="1")
    assert "Choose a reason: the photographer sees it." in refused.content.decode()

    _act(staff, "reject_with_reason", photos, apply="1", reason="composition", note="a parking lot")
    for photo in photos:
        photo.refresh_from_db()
        assert photo.status == Status.REJECTED
        assert photo.reject_reason == Reason.CURATOR
        assert photo.reject_detail == "Composition: a parking lot"
        assert photo.curator_reject_reason == "composition"


def test_revalidate_and_rescore_send_photos_back(
    staff: Client,
    photographer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    blurry = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    low = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.LOW_SCORE)
    with django_capture_on_commit_callbacks() as enqueued:
        _act(staff, "revalidate", [blurry])
    blurry.refresh_from_db()
    assert blurry.status == Status.UPLOADED
    assert len(enqueued) == 1  # the ingest task, sent once the transaction commits
    assert "re-validate requested by minor" in blurry.events.latest("created_at", "id").cause

    _act(staff, "rescore", [low])
    low.refresh_from_db()
    assert low.status == Status.AWAITING_SCORE and low.awaiting_score_since is not None


def test_not_a_duplicate_puts_the_photo_back_in_the_queue(
    staff: Client, photographer: User
) -> None:
    original = make_photo(owner=photographer, status=Status.SCORED)
    copy = make_photo(
        owner=photographer, status=Status.REJECTED, reason=Reason.DUPLICATE, duplicate_of=original
    )
    _act(staff, "mark_not_duplicate", [copy])
    copy.refresh_from_db()
    assert copy.duplicate_of is None
    # Never filed in the dedup index (made by a factory): it goes through ingest again.
    assert copy.status == Status.UPLOADED
    assert "not a duplicate of cat_brown.jpg" in copy.events.latest("created_at", "id").cause


def test_detail_page_shows_preview_exif_histogram_verdict_and_history(
    staff: Client, photographer: User
) -> None:
    photo = make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Reason.OVEREXPOSED,
        source="6720px_white.jpg",
        detail="23% of highlights clipped",
        highlight_clip=0.23,
        camera_make="Canon",
        camera_model="EOS 6D",
        iso=400,
        f_number=2.8,
    )
    html = staff.get(f"{CHANGELIST}{photo.pk}/change/").content.decode()
    assert f'src="/photos/{photo.uid}/preview"' in html
    assert '<th scope="row">Camera</th><td>Canon EOS 6D</td>' in html
    assert '<th scope="row">Aperture</th><td>f/2.8</td>' in html
    assert 'class="histogram"' in html and "highlights clipped 23.0%" in html
    assert "23% of highlights clipped" in html and "Overexposed" in html
    assert "validator" in html and "awaiting_score" in html  # the event history
    assert 'name="_save"' not in html  # nothing to edit by hand


def test_histogram_comes_from_the_validator_metrics_when_recorded(
    photographer: User,
) -> None:
    photo = make_photo(owner=photographer, status=Status.AWAITING_SCORE)
    measured = selectors.photo_luminance_histogram(photo=photo)
    assert measured is not None and sum(measured) > 0
    recorded = [0] * 255 + [7]
    photo.validator_metrics = {selectors.HISTOGRAM_METRIC: recorded}
    assert selectors.photo_luminance_histogram(photo=photo) == recorded


def test_duplicate_group_suggests_the_best_frame_not_the_biggest_file(
    staff: Client, curator: User, photographer: User
) -> None:
    root = make_photo(
        owner=photographer, status=Status.SCORED, filename="soft.jpg", sharpness=20.0, score=0.6
    )
    big = make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Reason.DUPLICATE,
        duplicate_of=root,
        filename="big-but-clipped.jpg",
        source="elephants.jpg",
        sharpness=60.0,
        highlight_clip=0.2,
        score=0.5,
    )
    best = make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Reason.DUPLICATE,
        duplicate_of=root,
        filename="crisp.jpg",
        source="skimage:camera",
        sharpness=300.0,
        score=0.8,
    )
    big.size_bytes = 50_000_000
    big.save()

    groups = staff.get("/admin/gallery/photo/duplicates/").content.decode()
    assert "soft.jpg" in groups and "Open group of 3" in groups
    page = staff.get(f"/admin/gallery/photo/duplicates/{root.uid}/").content.decode()
    assert f'name="keep" value="{best.uid}" class="button default"' in page

    staff.post(f"/admin/gallery/photo/duplicates/{root.uid}/", {"keep": str(best.uid)})
    states = {p.original_filename: (p.status, p.curator_decision) for p in Photo.objects.all()}
    assert states == {
        "crisp.jpg": (Status.APPROVED, "approved"),
        "soft.jpg": (Status.REJECTED, "rejected"),
        "big-but-clipped.jpg": (Status.REJECTED, "rejected"),
    }
    assert "No duplicate groups" in staff.get("/admin/gallery/photo/duplicates/").content.decode()


def test_review_queue_decides_and_rates(staff: Client, photographer: User) -> None:
    photos = [make_photo(owner=photographer, status=Status.SCORED) for _ in range(3)]
    page = staff.get("/admin/gallery/photo/review/").content.decode()
    queue = json.loads(
        re.findall(r'id="review-queue" type="application/json">(.*?)</script>', page, re.S)[0]
    )
    assert [item["id"] for item in queue] == [str(p.uid) for p in photos]
    assert "next photo" in page and "<kbd>A</kbd>" in page  # visible shortcut help

    decide = f"/admin/gallery/photo/review/{photos[0].uid}/decide/"
    assert "reject with a reason" in page and 'data-reason="eyes_closed"' in page
    unexplained = staff.post(decide, {"decision": "rejected"})
    assert unexplained.status_code == 400
    assert unexplained.json()["error"].startswith("choose a reason: Out of focus, Eyes closed")
    # From the photo page's form: back to the page, the refusal in words, not a JSON page.
    from_page = staff.post(decide, {"decision": "rejected", "next": "change"}, follow=True)
    assert from_page.redirect_chain[-1][0] == f"/admin/gallery/photo/{photos[0].pk}/change/"
    assert "choose a reason: Out of focus" in from_page.content.decode()
    decided = staff.post(
        decide, {"decision": "rejected", "reason": "eyes_closed", "note": "both of them"}
    )
    assert decided.json()["status"] == Status.REJECTED
    photos[0].refresh_from_db()
    assert photos[0].reject_detail == "Eyes closed: both of them"  # what the photographer reads
    rated = staff.post(f"/admin/gallery/photo/review/{photos[1].uid}/rate/", {"rating": "4"})
    assert rated.json()["rating"] == 4
    for wrong in ("6", "x", "4.5", "-1"):
        answer = staff.post(f"/admin/gallery/photo/review/{photos[1].uid}/rate/", {"rating": wrong})
        assert (answer.status_code, answer.json()) == (400, {"error": "a rating is 0 to 5 stars"})
    cleared = staff.post(f"/admin/gallery/photo/review/{photos[1].uid}/rate/", {"rating": ""})
    assert cleared.json()["rating"] is None
    remaining = staff.get("/admin/gallery/photo/review/").content.decode()
    assert str(photos[0].uid) not in remaining and str(photos[1].uid) in remaining


def test_dashboard_counts_and_gpu_savings(
    staff: Client, photographer: User, settings: Settings
) -> None:
    # Hours do not depend on prices; list prices keep the dollar line predictable.
    settings.COST_REPORT_PRICES = {}
    settings.COST_REPORT_DEPLOYMENT = {}
    make_photo(owner=photographer, status=Status.SCORED, score=0.85, runtime_ms=1800.0)
    make_photo(owner=photographer, status=Status.SCORED, score=0.65, runtime_ms=600.0)
    for reason in (Reason.BLURRY, Reason.DUPLICATE, Reason.OVEREXPOSED):
        make_photo(owner=photographer, status=Status.REJECTED, reason=reason)

    distribution = selectors.photo_score_distribution()
    assert [(b.low, b.count) for b in distribution if b.count] == [(0.6, 1), (0.8, 1)]

    html = staff.get("/admin/gallery/photo/dashboard/").content.decode()
    assert 'class="score-chart"' in html
    assert '<p class="pj-big">3</p>' in html and "of 5 ingested frames (60%)" in html
    # 1.2 s: the mean of the 1.8 s and 0.6 s the GPU worker recorded.
    assert "3 frames × 1.20 s, the mean GPU time recorded over 2 scored frames" in html  # noqa: RUF001
    assert '<a href="/admin/gallery/photo/?status__exact=rejected">Rejected</a></th><td>3' in html


def test_photographers_cannot_use_the_admin(client: Client, photographer: User) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    client.force_login(photographer)
    for url in (CHANGELIST, "/admin/gallery/photo/review/", "/admin/gallery/photo/dashboard/"):
        assert client.get(url).status_code == 302
    response = client.post(
        f"/admin/gallery/photo/review/{photo.uid}/decide/", {"decision": "approved"}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    photo.refresh_from_db()
    assert photo.status == Status.SCORED


def test_admin_posts_need_a_csrf_token(curator: User, photographer: User) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    response = client.post(
        f"/admin/gallery/photo/review/{photo.uid}/decide/", {"decision": "approved"}
    )
    assert response.status_code == 403


def test_not_a_duplicate_without_a_preview_goes_back_to_ingest(
    curator: User,
    photographer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    original = make_photo(owner=photographer, status=Status.SCORED)
    # An exact copy is stopped before the validator runs, so it has no preview yet.
    copy = photo_uploaded(owner=photographer)
    services.photo_reject(
        photo_id=copy.pk,
        reason=Reason.DUPLICATE,
        detail="same bytes",
        cause="exact duplicate (sha256)",
        duplicate_of_id=original.pk,
    )
    with django_capture_on_commit_callbacks() as enqueued:
        pipeline_services.photo_mark_not_duplicate(
            photo_id=copy.pk,
            curator=curator,
            config=IngestConfig.from_settings(scoring_enabled=True),
        )
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of) == (Status.UPLOADED, None)
    assert len(enqueued) == 1

    with pytest.raises(pipeline_services.NotADuplicate, match="not marked as a duplicate"):
        pipeline_services.photo_mark_not_duplicate(
            photo_id=original.pk,
            curator=curator,
            config=IngestConfig.from_settings(scoring_enabled=True),
        )
