"""A Celery worker killed in the middle of an ingest leaves the task to be redone by another
worker, and the redo is not a second copy of the work."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.support.celery_worker import (
    celery_worker,
    kill_a_worker_mid_ingest,
    purge_broker,
    wait_until,
)
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db(transaction=True)

# Redis gives an unacknowledged task to another worker after this long.
VISIBILITY_S = 3


def test_a_killed_worker_s_ingest_is_redone_once_by_another(api: APIClient) -> None:
    purge_broker(settings.CELERY_BROKER_URL)
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_S)}
    response = api.post(
        "/api/photos/",
        {"files": [SimpleUploadedFile("elephants.jpg", (PHOTOS / "elephants.jpg").read_bytes())]},
        format="multipart",
    )
    assert response.status_code == 201
    photo = Photo.objects.get()

    kill_a_worker_mid_ingest(photo.pk, extra_env=env)

    photo.refresh_from_db()
    assert photo.status == Photo.Status.UPLOADED

    with celery_worker(extra_env=env):
        wait_until(
            lambda: Photo.objects.get(pk=photo.pk).status != Photo.Status.UPLOADED,
            what="another worker to redo the ingest",
        )

    photo.refresh_from_db()
    assert photo.status == Photo.Status.AWAITING_SCORE
    assert [e.to_status for e in photo.events.all()] == ["uploaded", "awaiting_score"]
    assert photo.preview.name == f"previews/{photo.uid.hex}.jpg"
    # The killed worker had already written its preview: the redo replaced it, not added one.
    previews = sorted(p.name for p in (Path(settings.MEDIA_ROOT) / "previews").iterdir())
    assert previews == [f"{photo.uid.hex}.jpg"]
