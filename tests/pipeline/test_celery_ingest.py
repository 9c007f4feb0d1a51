"""Uploads through the API are picked up by a real Celery worker process over Redis."""

from __future__ import annotations

import functools

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.pipeline.core.frames import Defect, make_jpeg
from tests.support.celery_worker import celery_worker, purge_broker, wait_until
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db(transaction=True)


def _final(photo: Photo) -> bool:
    photo.refresh_from_db()
    return photo.status != Photo.Status.UPLOADED


def test_worker_advances_uploaded_photos_to_their_verdicts(api: APIClient) -> None:
    purge_broker(settings.CELERY_BROKER_URL)
    sharp = (PHOTOS / "elephants.jpg").read_bytes()
    clipped = make_jpeg(3, 1600, 1200, Defect.PLUS2EV)
    truncated = (PHOTOS / "beach_sand.jpg").read_bytes()[:20_000]
    files = [
        SimpleUploadedFile("elephants.jpg", sharp, "image/jpeg"),
        SimpleUploadedFile("blown-out.jpg", clipped, "image/jpeg"),
        SimpleUploadedFile("cut-short.jpg", truncated, "image/jpeg"),
        SimpleUploadedFile("elephants-again.jpg", sharp, "image/jpeg"),
    ]
    with celery_worker():
        response = api.post("/api/photos/", {"files": files}, format="multipart")
        assert response.status_code == 201, response.json()
        photos = {p.original_filename: p for p in Photo.objects.all()}
        for photo in photos.values():
            wait_until(functools.partial(_final, photo), what=f"{photo} to leave 'uploaded'")

    elephants = photos["elephants.jpg"]
    assert elephants.status == Photo.Status.AWAITING_SCORE
    assert (elephants.width, elephants.height) != (None, None)
    assert elephants.thumbnail.name and elephants.preview.name

    # Stopped before the GPU, or sent on flagged: the worker path carries either verdict.
    blown = photos["blown-out.jpg"]
    assert blown.reject_reason == Photo.RejectReason.OVEREXPOSED or (
        blown.status == Photo.Status.AWAITING_SCORE
        and "possibly_overexposed" in blown.validator_flags
    ), (blown.status, blown.reject_detail, blown.validator_flags)

    cut = photos["cut-short.jpg"]
    assert cut.status == Photo.Status.REJECTED
    assert cut.reject_reason == Photo.RejectReason.UNREADABLE
    assert "cut short" in cut.reject_detail

    again = photos["elephants-again.jpg"]
    assert again.status == Photo.Status.REJECTED
    assert again.reject_reason == Photo.RejectReason.DUPLICATE
    assert again.duplicate_of_id == elephants.pk
    assert [e.to_status for e in again.events.all()] == ["uploaded", "rejected"]


def test_without_a_scorer_the_worker_sends_a_passing_upload_to_review(api: APIClient) -> None:
    purge_broker(settings.CELERY_BROKER_URL)
    upload = SimpleUploadedFile("elephants.jpg", (PHOTOS / "elephants.jpg").read_bytes())
    # The worker process reads SCORING_ENABLED from its environment, as `make run`'s does.
    with celery_worker(extra_env={"SCORING_ENABLED": "false"}):
        response = api.post("/api/photos/", {"files": [upload]}, format="multipart")
        assert response.status_code == 201, response.json()
        photo = Photo.objects.get()
        wait_until(lambda: _final(photo), what="the upload to leave 'uploaded'")

    assert photo.status == Photo.Status.UNSCORED
    assert photo.preview.name
    assert [e.to_status for e in photo.events.all()] == ["uploaded", "unscored"]
