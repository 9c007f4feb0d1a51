"""Status transitions: each writes its audit row, pipeline stages are idempotent, and a curator's
decision is final for the pipeline."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from culling import services as culling_services
from gallery import services
from gallery.models import Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(photographer: User) -> Photo:
    key = default_storage.save("originals/test.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100))
    return Photo.objects.create(owner=photographer, original=key, original_filename="a.jpg")


def _trail(photo: Photo) -> list[tuple[str, str, str]]:
    return [(e.from_status, e.to_status, e.cause) for e in photo.events.all()]


def test_pass_then_score_records_every_step(photo: Photo) -> None:
    services.photo_queue_for_scoring(photo_id=photo.pk)
    scored = services.photo_record_score(
        photo_id=photo.pk,
        score=0.71,
        model_id="Qwen/Qwen3-VL-8B-Instruct",
        model_revision="abc123",
        runtime_ms=812.0,
        threshold=0.4,
    )
    assert scored.status == Photo.Status.SCORED
    assert scored.vlm_score == pytest.approx(0.71)
    assert _trail(scored) == [
        ("uploaded", "awaiting_score", "validator passed"),
        ("awaiting_score", "scored", "scored by Qwen/Qwen3-VL-8B-Instruct"),
    ]


def test_low_score_is_rejected_with_the_numbers_in_plain_words(photo: Photo) -> None:
    services.photo_queue_for_scoring(photo_id=photo.pk)
    rejected = services.photo_record_score(
        photo_id=photo.pk, score=0.2, model_id="m", model_revision="r", runtime_ms=5, threshold=0.4
    )
    assert rejected.status == Photo.Status.REJECTED
    assert rejected.reject_reason == Photo.RejectReason.LOW_SCORE
    assert "0.200" in rejected.reject_detail and "0.40" in rejected.reject_detail


def test_repeated_pipeline_transitions_change_nothing_the_second_time(photo: Photo) -> None:
    services.photo_queue_for_scoring(photo_id=photo.pk)
    services.photo_queue_for_scoring(photo_id=photo.pk)
    services.photo_record_score(
        photo_id=photo.pk, score=0.9, model_id="m", model_revision="r", runtime_ms=5, threshold=0.4
    )
    again = services.photo_record_score(
        photo_id=photo.pk, score=0.1, model_id="m", model_revision="r", runtime_ms=5, threshold=0.4
    )
    assert again.status == Photo.Status.SCORED
    assert again.vlm_score == pytest.approx(0.9)
    assert len(_trail(again)) == 2


def test_curator_decision_is_final_for_the_pipeline(photo: Photo, photographer: User) -> None:
    curator = User.objects.create_user("curator", is_staff=True)
    culling_services.photo_pick(photo_id=photo.pk, curator=curator, note="keeper")

    services.photo_reject(photo_id=photo.pk, reason="blurry", detail="soft", cause="backfill")
    services.photo_reset_for_reprocessing(photo_id=photo.pk, to_status="uploaded", cause="backfill")
    photo.refresh_from_db()

    assert photo.status == Photo.Status.APPROVED
    assert photo.curator_decision == "approved"
    assert photo.curated_by == curator
    assert _trail(photo) == [("uploaded", "approved", "curator: pick")]
    assert photo.events.get().actor == curator


def test_curator_can_reject_with_a_reason(photo: Photo) -> None:
    curator = User.objects.create_user("curator", is_staff=True)
    rejected = culling_services.photo_reject(
        photo_id=photo.pk, curator=curator, reason="composition", note="horizon tilted"
    )
    assert rejected.status == Photo.Status.REJECTED
    assert rejected.reject_reason == Photo.RejectReason.CURATOR
    assert rejected.reject_detail == "Composition: horizon tilted"


def test_reprocessing_sends_a_rejected_photo_back_and_clears_the_reason(photo: Photo) -> None:
    services.photo_reject(photo_id=photo.pk, reason="blurry", detail="soft", cause="validator")
    back = services.photo_reset_for_reprocessing(
        photo_id=photo.pk, to_status="uploaded", cause="thresholds changed"
    )
    assert back.status == Photo.Status.UPLOADED
    assert back.reject_reason == ""
    with pytest.raises(ValueError, match="cannot reprocess"):
        services.photo_reset_for_reprocessing(photo_id=photo.pk, to_status="scored", cause="x")
