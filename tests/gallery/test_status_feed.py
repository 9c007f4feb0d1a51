"""The status feed: one read answers for every photo a page follows, whatever their number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.gallery.factories import make_photo, photo_ingest, photo_uploaded

pytestmark = pytest.mark.django_db

Status = Photo.Status


def _in_flight(owner: User, count: int) -> list[Photo]:
    return Photo.objects.bulk_create(
        Photo(
            owner=owner,
            original=f"originals/aa/{i:032x}.jpg",
            original_filename=f"IMG_{i:04d}.jpg",
            format="jpeg",
            status=Status.UPLOADED,
        )
        for i in range(count)
    )


def test_one_read_answers_for_500_in_flight_photos_in_a_fixed_number_of_queries(
    api: APIClient,
    photographer: User,
    other_photographer: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    _in_flight(photographer, 500)
    _in_flight(other_photographer, 3)
    with django_assert_max_num_queries(4):
        answer = api.get("/api/photos/feed/")
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["photos"]) == 500
    assert body["more"] is False
    assert {p["status"] for p in body["photos"]} == {"uploaded"}
    assert all(p["placeholder"] == "No preview yet" for p in body["photos"])
    assert not Photo.objects.filter(
        owner=other_photographer, uid__in=[p["id"] for p in body["photos"]]
    ).exists()


def test_a_read_from_the_cursor_brings_the_new_thumbnail_and_nothing_old(
    api: APIClient, photographer: User
) -> None:
    settled = make_photo(owner=photographer, status=Status.SCORED)
    moving = photo_uploaded(owner=photographer, filename="moving.jpg")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Photo.objects.filter(pk__in=[settled.pk, moving.pk]).update(updated_at=an_hour_ago)
    cursor = api.get("/api/photos/feed/").json()["cursor"]
    assert api.get("/api/photos/feed/", {"since": cursor}).json()["photos"] == []

    photo_ingest(moving)
    changes = api.get("/api/photos/feed/", {"since": cursor}).json()["photos"]
    assert [c["id"] for c in changes] == [str(moving.uid)]
    assert changes[0]["status"] == "awaiting_score"
    assert changes[0]["thumbnail"] == f"/photos/{moving.uid}/thumbnail"
    assert changes[0]["preview"] == f"/photos/{moving.uid}/preview"


def test_a_cursor_that_is_not_a_time_is_refused_in_plain_words(api: APIClient) -> None:
    answer = api.get("/api/photos/feed/", {"since": "yesterday"})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["error"], list(body["fields"])) == ("invalid", ["since"])
    assert body["detail"].startswith("since: Datetime has wrong format.")
    assert "Traceback" not in answer.content.decode()


def test_the_feed_is_not_open_to_strangers(client: Client) -> None:
    assert client.get("/api/photos/feed/").status_code in (401, 403)


def test_a_raw_without_a_preview_says_which_raw_it_is(client: Client, photographer: User) -> None:
    (raw,) = _in_flight(photographer, 1)
    Photo.objects.filter(pk=raw.pk).update(
        format="nef", original_filename="DSC_0001.NEF", status=Status.FAILED
    )
    client.force_login(photographer)
    page = client.get("/").content.decode()
    assert "NEF RAW · no preview" in page
    Photo.objects.filter(pk=raw.pk).update(status=Status.UPLOADED)
    assert "NEF RAW · preview on its way" in client.get("/").content.decode()


def test_a_read_brings_new_uploads_and_the_count_per_status_only_when_something_changed(
    api: APIClient, photographer: User, other_photographer: User
) -> None:
    make_photo(owner=photographer, status=Status.SCORED)
    _in_flight(other_photographer, 2)
    drawn = timezone.now() + timedelta(seconds=30)  # past the feed's look-back
    idle = api.get("/api/photos/feed/", {"since": drawn.isoformat()}).json()
    assert idle["photos"] == [] and idle["counts"] is None

    new = photo_uploaded(owner=photographer, filename="new.jpg")
    Photo.objects.filter(pk=new.pk).update(updated_at=drawn + timedelta(seconds=1))
    body = api.get("/api/photos/feed/", {"since": drawn.isoformat()}).json()
    assert [(p["original_filename"], p["url"]) for p in body["photos"]] == [
        ("new.jpg", f"/photos/{new.uid}/")
    ]
    assert body["counts"] == {"uploaded": 1, "scored": 1}
