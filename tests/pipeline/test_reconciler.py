"""The ingest reconciler: on the embedded filesystem broker, which never redelivers, a worker
killed mid-ingest still loses no photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.support.celery_worker import (
    celery_worker,
    kill_a_worker_mid_ingest,
    wait_until,
)
from tests.support.outages import filesystem_broker
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_ingest_on_the_filesystem_broker_loses_nothing(
    api: APIClient, tmp_path: Path
) -> None:
    folder = tmp_path / "broker"
    env = {
        "CELERY_BROKER_URL": "filesystem://localhost//",
        "CELERY_BROKER_FOLDER": str(folder),
        "INGEST_RECONCILE_EVERY_S": "1",
        "INGEST_RECONCILE_AFTER_S": "2",
    }
    with filesystem_broker(folder):
        upload = SimpleUploadedFile("elephants.jpg", (PHOTOS / "elephants.jpg").read_bytes())
        response = api.post("/api/photos/", {"files": [upload]}, format="multipart")
    assert response.status_code == 201
    photo = Photo.objects.get()
    assert photo.ingest_queued_at is not None

    kill_a_worker_mid_ingest(photo.pk, extra_env=env)

    # The transport deleted the message when the dead worker took it: nothing will redeliver.
    assert list((folder / "queue").iterdir()) == []
    assert Photo.objects.get(pk=photo.pk).status == Photo.Status.UPLOADED

    with celery_worker(extra_env=env):
        wait_until(
            lambda: Photo.objects.get(pk=photo.pk).status != Photo.Status.UPLOADED,
            what="the reconciler to re-send the ingest and a worker to finish it",
        )
    photo.refresh_from_db()
    assert photo.status == Photo.Status.AWAITING_SCORE
    assert [e.to_status for e in photo.events.all()] == ["uploaded", "awaiting_score"]
