"""The photographer's gallery narrowed, counted, sorted and grouped; the detail page in words."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from culling import services as culling_services
from gallery.models import Photo, camera_name
from tests.gallery.factories import make_photo
from tests.gallery.pages import gallery_tiles

pytestmark = pytest.mark.django_db

Status = Photo.Status
Reason = Photo.RejectReason


def _taken(photo: Photo, when: str) -> Photo:
    Photo.objects.filter(pk=photo.pk).update(captured_at=datetime.fromisoformat(when))
    photo.refresh_from_db()
    return photo


@pytest.mark.parametrize(
    ("make", "model", "shown"),
    [
        ("Canon", "Canon EOS 6D", "Canon EOS 6D"),
        ("NIKON CORPORATION", "NIKON D70", "NIKON D70"),
        ("OLYMPUS IMAGING CORP.", "E-M5", "OLYMPUS E-M5"),
        ("SONY", "ILCE-7M3", "SONY ILCE-7M3"),
        ("RICOH IMAGING COMPANY, LTD.", "PENTAX K-1", "RICOH PENTAX K-1"),
        ("FUJIFILM", "X-T3", "FUJIFILM X-T3"),
        ("", "iPhone 12", "iPhone 12"),
        ("Apple", "", "Apple"),
    ],
)
def test_make_and_model_never_name_the_maker_twice(make: str, model: str, shown: str) -> None:
    assert camera_name(make, model) == shown


def test_detail_page_says_camera_orientation_and_scores_in_words(
    ansel: Client, photographer: User
) -> None:
    photo = make_photo(
        owner=photographer,
        status=Status.SCORED,
        score=0.67,
        camera_make="NIKON CORPORATION",
        camera_model="NIKON D70",
        orientation=6,
        focal_length_mm=21.3125,
    )
    zoom = make_photo(owner=photographer, source="skimage:coffee", focal_length_mm=50.0)
    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert '<th scope="row">Camera</th><td>NIKON D70</td>' in html
    assert '<th scope="row">Focal length</th><td>21.3 mm</td>' in html
    assert "<td>50 mm</td>" in ansel.get(f"/photos/{zoom.uid}/").content.decode()
    assert '<th scope="row">Orientation</th><td>Turned 90° clockwise (portrait)</td>' in html
    assert "Model score 0.67" in html and "★ 0.67" not in html
    assert "From the curator" not in html

    curator = User.objects.create_user("minor", is_staff=True)
    culling_services.photo_pick(photo_id=photo.pk, curator=curator, note="Lovely.")
    Photo.objects.filter(pk=photo.pk).update(curator_rating=4)
    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert "Picked by the curator" in html
    assert "★★★★☆" in html and "4 of 5 stars" in html
    assert "“Lovely.”" in html
    gallery = ansel.get("/").content.decode()
    assert "Picked by the curator" in gallery and "★★★★☆" in gallery
    assert "Model score 0.67" in gallery


def test_filters_by_reason_score_range_and_capture_date(ansel: Client, photographer: User) -> None:
    blurry = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    dark = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.UNDEREXPOSED)
    fair = _taken(
        make_photo(owner=photographer, status=Status.SCORED, score=0.5), "2024-05-01T10:00:00+00:00"
    )
    great = _taken(
        make_photo(owner=photographer, status=Status.SCORED, score=0.9), "2024-06-01T10:00:00+00:00"
    )

    def shown(**query: str) -> set[str]:
        return set(gallery_tiles(ansel.get("/", query).content.decode()))

    assert shown(reason="blurry") == {str(blurry.uid)}
    assert shown(reason="underexposed") == {str(dark.uid)}
    assert shown(min_score="0.4", max_score="0.6") == {str(fair.uid)}
    # A photo without a score is outside every score range.
    assert shown(max_score="0.6") == {str(fair.uid)}
    assert shown(captured_from="2024-05-15") == {str(great.uid)}
    assert shown(captured_to="2024-05-15") == {str(fair.uid)}
    assert shown(captured_from="not a date") == shown()


def test_counts_per_status_and_an_empty_state_that_names_the_filter(
    ansel: Client, photographer: User
) -> None:
    make_photo(owner=photographer, status=Status.SCORED)
    make_photo(owner=photographer, status=Status.SCORED)
    make_photo(owner=photographer, status=Status.REJECTED)
    html = ansel.get("/").content.decode()
    counts = dict(
        re.findall(r'<span class="badge \w+">([^<]+)</span> <span class="n">(\d+)</span>', html)
    )
    assert counts == {"Scored": "2", "Rejected": "1"}

    empty = ansel.get("/", {"status": "rejected", "reason": "overexposed"}).content.decode()
    assert gallery_tiles(empty) == []
    assert "No photos with status “Rejected”, reason “Overexposed”." in empty
    assert "Upload some" not in empty


def test_sorting_by_score_and_grouping_by_capture_day(ansel: Client, photographer: User) -> None:
    low = _taken(
        make_photo(owner=photographer, status=Status.SCORED, score=0.5), "2024-05-01T18:00:00+00:00"
    )
    high = _taken(
        make_photo(owner=photographer, status=Status.SCORED, score=0.9), "2024-05-02T09:00:00+00:00"
    )
    mid = _taken(
        make_photo(owner=photographer, status=Status.SCORED, score=0.7), "2024-05-01T08:00:00+00:00"
    )
    assert gallery_tiles(ansel.get("/", {"sort": "score"}).content.decode()) == [
        str(high.uid),
        str(mid.uid),
        str(low.uid),
    ]
    html = ansel.get("/", {"sort": "captured_oldest"}).content.decode()
    assert gallery_tiles(html) == [str(mid.uid), str(low.uid), str(high.uid)]
    days = re.findall(r'<li class="day"><h2>([^<]+)</h2>', html)
    assert days == ["Wednesday 1 May 2024", "Thursday 2 May 2024"]
    assert '<li class="day">' not in ansel.get("/").content.decode()


def test_previous_and_next_follow_the_gallery_as_filtered(
    ansel: Client, photographer: User
) -> None:
    oldest = make_photo(owner=photographer, status=Status.REJECTED)
    make_photo(owner=photographer, status=Status.SCORED)
    middle = make_photo(owner=photographer, status=Status.REJECTED)
    newest = make_photo(owner=photographer, status=Status.REJECTED)

    html = ansel.get(f"/photos/{middle.uid}/", {"status": "rejected"}).content.decode()
    assert f'rel="prev" href="/photos/{newest.uid}/?status=rejected"' in html
    assert f'rel="next" href="/photos/{oldest.uid}/?status=rejected"' in html
    first = ansel.get(f"/photos/{newest.uid}/").content.decode()
    assert 'rel="prev"' not in first and 'rel="next"' in first


def test_a_curator_reject_reads_as_one_line_then_the_note(
    ansel: Client, photographer: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED, filename="pan.jpg")
    curator = User.objects.create_user("minor", is_staff=True)
    culling_services.photo_reject(
        photo_id=photo.pk, curator=curator, reason="motion_blur", note="Panning too slow."
    )
    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert '<p class="reason" data-role="reason">Rejected by the curator: Motion blur</p>' in html
    assert html.count("Panning too slow.") == 1
    assert "Not picked by the curator" not in html and "From the curator" not in html
    gallery = ansel.get("/").content.decode()
    assert "Rejected by the curator: Motion blur" in gallery
