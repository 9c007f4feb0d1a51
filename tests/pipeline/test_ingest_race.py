"""A curator decides while the validator is still reading the file: the decision is final."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection

from culling.services import photo_pick
from gallery.models import Photo
from gallery.services import photo_record_measurements
from pipeline import services as pipeline_services
from pipeline.config import IngestConfig
from pipeline.core.validator import ValidationResult, validate
from tests.gallery.factories import photo_uploaded

pytestmark = pytest.mark.django_db(transaction=True)

# Only a safety net against a hung test; the threads synchronise on events, never on time.
_HANG = 60


def test_a_curator_decision_made_during_validation_survives_ingest(
    photographer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = photo_uploaded(owner=photographer, source="cat_brown.jpg")
    curator = get_user_model().objects.create_user("curator", is_staff=True)
    validating, decided = threading.Event(), threading.Event()

    def validate_after_the_curator(*args: Any, **kwargs: Any) -> ValidationResult:
        validating.set()
        assert decided.wait(_HANG)
        return validate(*args, **kwargs)

    monkeypatch.setattr("pipeline.services.validate", validate_after_the_curator)
    failures: list[BaseException] = []

    def ingest() -> None:
        try:
            pipeline_services.photo_ingest(
                photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True)
            )
        except BaseException as failure:  # reported by the main thread
            failures.append(failure)
        finally:
            connection.close()

    worker = threading.Thread(target=ingest)
    worker.start()
    assert validating.wait(_HANG)
    photo_pick(photo_id=photo.pk, curator=curator, note="the one for the cover")
    decided.set()
    worker.join(_HANG)

    assert not worker.is_alive()
    assert failures == []
    photo.refresh_from_db()
    assert photo.status == Photo.Status.APPROVED
    assert photo.curator_decision == Photo.CuratorDecision.APPROVED
    assert photo.curator_note == "the one for the cover"
    assert photo.curated_by == curator
    assert [e.to_status for e in photo.events.order_by("pk")] == ["uploaded", "approved"]


def test_measurements_cannot_write_status_or_curation_columns(photographer: User) -> None:
    photo = photo_uploaded(owner=photographer)
    with pytest.raises(ValueError, match="curator_decision"):
        photo_record_measurements(
            photo_id=photo.pk, measurements={"width": 10, "curator_decision": "approved"}
        )
    photo.refresh_from_db()
    assert photo.width is None
