"""An accepted upload is never lost: broker, storage and database outages, for real."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gallery import services, task_names
from gallery.models import Photo
from gallery.upload_handlers import sweep_stale_upload_files
from tests.support.celery_worker import purge_broker
from tests.support.outages import (
    broker_unreachable,
    database_unreachable,
    queued_task_args,
)
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db(transaction=True)

PHOTO_NAMES = ["elephants.jpg", "cat_brown.jpg", "beach_sand.jpg"]


def _files(*names: str) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, (PHOTOS / name).read_bytes()) for name in names]


def _stored(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def test_broker_down_keeps_every_upload_and_the_reconciler_sends_them_later(
    api: APIClient, media_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    purge_broker(django_settings.CELERY_BROKER_URL)
    with broker_unreachable():
        response = api.post("/api/photos/", {"files": _files(*PHOTO_NAMES)}, format="multipart")
    # One failed connection for the whole request; the other files do not wait on the broker.
    assert sum("broker unavailable" in r.getMessage() for r in caplog.records) == 1
    assert sum("broker down moments ago" in r.getMessage() for r in caplog.records) == 2

    assert response.status_code == 201, response.content
    assert [c["status"] for c in response.json()["created"]] == ["uploaded"] * 3
    photos = list(Photo.objects.order_by("id"))
    assert [p.original_filename for p in photos] == PHOTO_NAMES
    for photo in photos:
        assert (media_root / str(photo.original.name)).read_bytes() == (
            PHOTOS / photo.original_filename
        ).read_bytes()
        assert photo.ingest_queued_at is None
    assert queued_task_args(django_settings.CELERY_BROKER_URL, task_names.INGEST_PHOTO) == []

    # The broker is back: one reconciler pass sends each photo once; a second sends nothing.
    sent = services.photo_reconcile_ingest(older_than_s=0)
    assert sorted(sent) == [p.pk for p in photos]
    assert services.photo_reconcile_ingest(older_than_s=60) == []
    queued = queued_task_args(django_settings.CELERY_BROKER_URL, task_names.INGEST_PHOTO)
    assert sorted(queued) == [[p.pk] for p in photos]
    assert all(p.ingest_queued_at for p in Photo.objects.all())


def test_a_reconciler_with_the_broker_still_down_sends_nothing_and_loses_nothing(
    api: APIClient,
) -> None:
    purge_broker(django_settings.CELERY_BROKER_URL)
    with broker_unreachable():
        api.post("/api/photos/", {"files": _files("elephants.jpg")}, format="multipart")
        assert services.photo_reconcile_ingest(older_than_s=0) == []
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.UPLOADED
    assert photo.ingest_queued_at is None
    assert services.photo_reconcile_ingest(older_than_s=0) == [photo.pk]


def test_an_upload_with_the_broker_up_is_queued_at_once(api: APIClient) -> None:
    purge_broker(django_settings.CELERY_BROKER_URL)
    api.post("/api/photos/", {"files": _files("elephants.jpg")}, format="multipart")
    photo = Photo.objects.get()
    assert photo.ingest_queued_at is not None
    queued = queued_task_args(django_settings.CELERY_BROKER_URL, task_names.INGEST_PHOTO)
    assert queued == [[photo.pk]]
    # Queued just now: the reconciler leaves it to the message already on its way.
    assert services.photo_reconcile_ingest(older_than_s=300) == []


def test_storage_down_answers_503_with_retry_after_and_records_nothing(
    api: APIClient, settings: Settings, tmp_path: Path
) -> None:
    # A file where the media folder should be: every write fails as a dead disk's would.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker / "media")
    response = api.post(
        "/api/photos/", {"files": _files("elephants.jpg", "beach_sand.jpg")}, format="multipart"
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    errors = response.json()["errors"]
    assert [(e["file"], e["error"]) for e in errors] == [
        ("elephants.jpg", "storage_unavailable"),
        ("beach_sand.jpg", "storage_unavailable"),
    ]
    assert "not-a-folder" not in response.content.decode()
    assert Photo.objects.count() == 0


def test_database_down_upload_answers_json_503_and_leaves_no_file(
    api: APIClient, media_root: Path
) -> None:
    with database_unreachable():
        response = api.post("/api/photos/", {"files": _files("elephants.jpg")}, format="multipart")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"] == "database_unavailable"
    assert _stored(media_root) == []
    assert Photo.objects.count() == 0


def test_database_down_api_and_pages_answer_503_not_500(photographer: User) -> None:
    token = Token.objects.create(user=photographer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    browser = Client()
    browser.login(username="ansel", password="pw-ansel-1234")
    with database_unreachable():
        listing = api.get("/api/photos/")
        page = browser.get("/")
    assert listing.status_code == 503
    assert listing.json()["error"] == "database_unavailable"
    assert int(listing["Retry-After"]) > 0
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert b"try again" in page.content


def test_spooled_uploads_are_removed_on_every_path(
    api: APIClient, settings: Settings, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.UPLOAD_MAX_FILE_BYTES = 100_000
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * 200_000)
    note = SimpleUploadedFile("note.jpg", b"not a photo")
    accepted = api.post(
        "/api/photos/", {"files": [*_files("elephants.jpg"), big, note]}, format="multipart"
    )
    assert accepted.status_code == 207
    assert list(spool.iterdir()) == []

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker / "media")
    refused = api.post("/api/photos/", {"files": _files("elephants.jpg")}, format="multipart")
    assert refused.status_code == 503
    assert list(spool.iterdir()) == []


def test_the_start_up_sweep_removes_only_stale_spooled_uploads(tmp_path: Path) -> None:
    stale, live = tmp_path / "tmpa1.upload.jpg", tmp_path / "tmpb2.upload.jpg"
    stale.write_bytes(b"half an upload from a killed process")
    live.write_bytes(b"an upload in progress in another process")
    hour_ago = time.time() - 3601
    os.utime(stale, (hour_ago, hour_ago))

    assert sweep_stale_upload_files(folder=tmp_path, older_than_s=3600) == 1
    assert list(tmp_path.iterdir()) == [live]
    assert sweep_stale_upload_files(folder=tmp_path / "absent", older_than_s=3600) == 0
