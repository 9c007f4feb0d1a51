"""With no scorer configured (the embedded default), what passes the validator goes to review."""

from __future__ import annotations

import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from pytest_django import Settings

from gallery.models import Photo, PhotoEvent
from pipeline.config import IngestConfig
from pipeline.selectors import cost_report_get
from pipeline.services import photo_ingest
from tests.gallery.factories import make_photo, photo_uploaded

pytestmark = pytest.mark.django_db
S = Photo.Status


def test_a_passing_photo_goes_to_review_unscored_and_says_why(photographer: User) -> None:
    photo = photo_uploaded(owner=photographer, source="IMG_4120.JPG")

    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=False))

    photo.refresh_from_db()
    assert photo.status == S.UNSCORED, photo.reject_detail
    assert photo.get_status_display() == "Ready for review (not scored)"
    assert photo.awaiting_score_since is None
    assert photo.preview and photo.thumbnail
    event = PhotoEvent.objects.get(photo=photo, to_status=S.UNSCORED)
    assert event.from_status == S.UPLOADED
    assert "no scorer configured" in event.cause
    assert "VLM_MODEL_PATH" in event.detail


def test_rejections_and_duplicates_are_unchanged_without_a_scorer(photographer: User) -> None:
    first = photo_uploaded(owner=photographer, source="IMG_4120.JPG")
    copy = photo_uploaded(owner=photographer, source="IMG_4120.JPG")

    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=False))
    photo_ingest(photo_id=copy.pk, config=IngestConfig.from_settings(scoring_enabled=False))

    copy.refresh_from_db()
    assert (copy.status, copy.reject_reason) == (S.REJECTED, Photo.RejectReason.DUPLICATE)
    assert copy.duplicate_of_id == first.pk


def _photo(owner: User, status: str, reason: str = "", **fields: Any) -> Photo:
    return Photo.objects.create(
        owner=owner,
        original=f"originals/{uuid.uuid4().hex}.jpg",
        original_filename="frame.jpg",
        status=status,
        reject_reason=reason,
        validator_metrics={},
        **fields,
    )


def test_cost_report_counts_unscored_frames_apart(photographer: User) -> None:
    _photo(photographer, S.UNSCORED)
    _photo(photographer, S.UNSCORED)
    _photo(photographer, S.AWAITING_SCORE)
    # Rejected by the pipeline's own service, so its event is what the report counts.
    make_photo(owner=photographer, status=S.REJECTED, reason=Photo.RejectReason.BLURRY)

    report = cost_report_get()

    gpu = report.gpu
    assert gpu.frames_ingested == 4
    assert gpu.frames_unscored == 2
    assert gpu.frames_awaiting_gpu == 1
    assert gpu.frames_scored == 0
    assert gpu.rejected_before_gpu_total == 1
    assert any("2 frames passed the validator while no scorer" in n for n in report.assumptions)
    out = StringIO()
    call_command("cost_report", "--format", "csv", stdout=out)
    assert "passed but not scored (no model configured),2" in out.getvalue()


def test_backfill_score_refuses_while_scoring_is_off(
    photographer: User, settings: Settings, tmp_path: Path
) -> None:
    settings.SCORING_ENABLED = False
    photo = _photo(photographer, S.UNSCORED)

    with pytest.raises(CommandError, match="scoring is off"):
        call_command("backfill", "--stage", "score", "--checkpoint-dir", str(tmp_path))

    photo.refresh_from_db()
    assert photo.status == S.UNSCORED


def test_backfill_score_sends_unscored_photos_to_the_scorer(
    photographer: User, settings: Settings, tmp_path: Path
) -> None:
    settings.SCORING_ENABLED = True
    unscored = _photo(photographer, S.UNSCORED)
    decided = _photo(photographer, S.APPROVED, curator_decision="approved")
    dry = StringIO()
    call_command(
        "backfill", "--stage", "score", "--dry-run", "--checkpoint-dir", str(tmp_path), stdout=dry
    )
    assert "1 would run" in dry.getvalue()

    call_command(
        "backfill", "--stage", "score", "--checkpoint-dir", str(tmp_path), stdout=StringIO()
    )

    unscored.refresh_from_db()
    decided.refresh_from_db()
    assert unscored.status == S.AWAITING_SCORE
    assert unscored.awaiting_score_since is not None
    assert decided.status == S.APPROVED
    assert PhotoEvent.objects.filter(
        photo=unscored, from_status=S.UNSCORED, to_status=S.AWAITING_SCORE, cause="backfill"
    ).exists()
