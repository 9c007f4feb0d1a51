"""A curator merges a day's shoot away while a photo of that day is being ingested: the photo
ends up in the merged shoot, never in the one merged away (which no list shows any more)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from gallery import services, shoot_services
from gallery.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
# Only a safety net against a hung test.
_HANG = 60


def _measured(owner: User, name: str, captured_at: datetime) -> Photo:
    photo = Photo.objects.create(owner=owner, original=f"originals/{name}", original_filename=name)
    recorded = services.photo_record_measurements(
        photo_id=photo.pk, measurements={"captured_at": captured_at}
    )
    assert recorded is not None
    return recorded


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_photo_filed_while_its_days_shoot_is_merged_lands_in_the_merged_shoot(
    photographer: User,
) -> None:
    saturday = _measured(photographer, "sat.jpg", START)
    sunday = _measured(photographer, "sun.jpg", START + timedelta(days=1))
    assert saturday.shoot_id is not None and sunday.shoot_id is not None
    late = Photo.objects.create(
        owner=photographer, original="originals/sun2.jpg", original_filename="sun2.jpg"
    )
    merged, commit = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def merge() -> None:
        try:
            with transaction.atomic():
                shoot_services.shoot_merge(
                    source_ids=[sunday.shoot_id or 0], target_id=saturday.shoot_id or 0
                )
                merged.set()
                assert commit.wait(_HANG)
        except BaseException as failure:  # reported by the main thread
            failures.append(failure)
            merged.set()
        finally:
            connection.close()

    def ingest() -> None:
        try:
            services.photo_record_measurements(
                photo_id=late.pk, measurements={"captured_at": START + timedelta(days=1, hours=2)}
            )
        except BaseException as failure:
            failures.append(failure)
        finally:
            connection.close()

    curator = threading.Thread(target=merge)
    curator.start()
    assert merged.wait(_HANG)
    worker = threading.Thread(target=ingest)
    worker.start()
    # The ingest either files the photo at once or waits for the merge to end.
    deadline = time.monotonic() + _HANG
    while worker.is_alive() and not _someone_waits_for_a_lock():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    commit.set()
    curator.join(_HANG)
    worker.join(_HANG)

    assert failures == []
    late.refresh_from_db()
    assert late.shoot_id == saturday.shoot_id
