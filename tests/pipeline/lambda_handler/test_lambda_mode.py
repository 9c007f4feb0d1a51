"""PIPELINE_VALIDATION = "lambda": Django reads the Lambda's verdict instead of validating again."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pytest_django import Settings as DjangoSettings
from storages.backends.s3 import S3Storage

from gallery.direct_upload import photo_create_from_object
from gallery.models import Photo
from pipeline.config import IngestConfig
from pipeline.core.formats import ImageFormat
from pipeline.core.validator import Thresholds, validate
from pipeline.lambda_handler import Runtime, Settings, handle_event
from pipeline.lambda_mode import LambdaResultTimeout, lambda_validation
from pipeline.services import photo_ingest
from tests.pipeline.lambda_handler.conftest import LambdaWorld
from tests.pipeline.lambda_handler.events import s3_event, s3_record
from tests.support.paths import PHOTOS


def _store(bucket: str, key: str, content: bytes) -> dict[str, Any]:
    """Save through Django's storage as the upload API does; return the S3 event record."""
    stored = default_storage.save(key, ContentFile(content))
    assert isinstance(default_storage, S3Storage)
    etag = default_storage.connection.meta.client.head_object(Bucket=bucket, Key=stored)["ETag"]
    return s3_record(bucket, stored, etag=etag, size=len(content))


def _uploaded_direct(
    bucket: str, owner: User, key: str, content: bytes
) -> tuple[dict[str, Any], Photo]:
    """A JPEG uploaded straight to the bucket, its Photo, and the S3 event the Lambda gets."""
    record = _store(bucket, key, content)
    photo = photo_create_from_object(
        owner_id=owner.pk,
        key=key,
        filename=key.rsplit("/", 1)[-1],
        fmt=ImageFormat.JPEG,
        size_bytes=len(content),
    )
    return record, photo


def test_the_verdict_is_the_one_the_validator_gives_in_process(
    lambda_mode: str, lambda_world: LambdaWorld
) -> None:
    data = (PHOTOS / "canon_eos_6d.dng").read_bytes()
    record = _store(lambda_mode, "originals/12/frame.dng", data)
    assert handle_event(s3_event(record), lambda_world.runtime) == {"batchItemFailures": []}

    found = lambda_validation(key="originals/12/frame.dng", config=IngestConfig.from_settings())

    in_process = validate(data, Thresholds(), filename="frame.dng", preview_edges=(1600, 400))
    assert found.unreadable is None
    assert found.result is not None
    assert replace(found.result, timings_ms={}, previews={}) == replace(
        in_process, timings_ms={}, previews={}
    )
    assert set(found.result.previews) == {1600, 400}
    assert found.result.previews[400].startswith(b"\xff\xd8\xff")
    assert found.size_bytes == len(data)
    # Stored without `owner` metadata: no scope to file it in, so the Django ingest files it.
    assert found.dedup is None


def test_a_late_result_is_waited_for(lambda_mode: str, lambda_world: LambdaWorld) -> None:
    record = _store(lambda_mode, "originals/34/cat.jpg", (PHOTOS / "cat_brown.jpg").read_bytes())
    late = threading.Timer(0.5, handle_event, args=(s3_event(record), lambda_world.runtime))
    late.start()
    try:
        found = lambda_validation(key="originals/34/cat.jpg", config=IngestConfig.from_settings())
    finally:
        late.join()

    assert found.result is not None
    assert found.result.format == "jpeg"


def test_an_unreadable_verdict_keeps_its_reason(
    lambda_mode: str, lambda_world: LambdaWorld
) -> None:
    record = _store(lambda_mode, "originals/56/notes.jpg", b"just some words\n" * 30)
    handle_event(s3_event(record), lambda_world.runtime)

    found = lambda_validation(key="originals/56/notes.jpg", config=IngestConfig.from_settings())

    assert found.result is None
    assert found.unreadable is not None
    assert found.unreadable.reason.value == "unsupported"


def test_no_result_in_time_is_a_clear_timeout(lambda_mode: str, settings: DjangoSettings) -> None:
    settings.PIPELINE_LAMBDA_WAIT_S = 0.5
    _store(lambda_mode, "originals/78/never.jpg", (PHOTOS / "elephants.jpg").read_bytes())

    with pytest.raises(LambdaResultTimeout) as timeout:
        lambda_validation(key="originals/78/never.jpg", config=IngestConfig.from_settings())

    assert "has not reported" in str(timeout.value)
    assert "originals/78/never.jpg" in str(timeout.value)


@pytest.mark.django_db
def test_ingest_in_lambda_mode_applies_the_lambda_verdict(
    lambda_mode: str, lambda_world: LambdaWorld, photographer: User
) -> None:
    data = (PHOTOS / "beach_sand.jpg").read_bytes()
    record, photo = _uploaded_direct(lambda_mode, photographer, "originals/9a/beach.jpg", data)
    # The Lambda judges with a sharpness bar no photo clears; Django keeps the defaults. A
    # "blurry" rejection can only come from the Lambda's verdict.
    strict = {**lambda_world.env, "VALIDATOR_THRESHOLDS": '{"min_sharpness": 1000.0}'}
    runtime = Runtime(
        Settings.from_env(strict), s3=lambda_world.s3, dynamodb=lambda_world.runtime.dynamodb
    )
    handle_event(s3_event(record), runtime)

    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))

    photo.refresh_from_db()
    in_process = validate(data, Thresholds(), filename="beach.jpg")
    assert "blurry" not in in_process.reasons
    assert photo.status == "rejected"
    assert photo.reject_reason == "blurry"
    assert (photo.width, photo.height) == (in_process.width, in_process.height)
    assert photo.phash == in_process.phash
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.thumbnail.name


@pytest.mark.django_db
def test_ingest_in_lambda_mode_without_a_verdict_records_a_clear_failure(
    lambda_mode: str, settings: DjangoSettings, photographer: User
) -> None:
    settings.PIPELINE_LAMBDA_WAIT_S = 0.3
    data = (PHOTOS / "elephants.jpg").read_bytes()
    _store(lambda_mode, "originals/9b/elephants.jpg", data)
    photo = photo_create_from_object(
        owner_id=photographer.pk,
        key="originals/9b/elephants.jpg",
        filename="elephants.jpg",
        fmt=ImageFormat.JPEG,
        size_bytes=len(data),
    )

    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))

    photo.refresh_from_db()
    assert photo.status == "failed"
    assert "has not reported" in photo.reject_detail


def _rewrite_verdict(world: LambdaWorld, record: dict[str, Any], **changes: Any) -> None:
    """Change the verdict in the Lambda's stored result, as a Lambda with other margins would
    have written it for the same measurements."""
    obj = record["s3"]["object"]
    outcome = world.runtime.results.get(obj["key"], obj["eTag"])
    assert outcome is not None and outcome.result is not None
    assert outcome.result["verdict"] == "pass"
    world.runtime.results.put(
        obj["key"], obj["eTag"], replace(outcome, result={**outcome.result, **changes})
    )


@pytest.mark.django_db
def test_ingest_in_lambda_mode_sends_a_borderline_frame_on_with_its_flags(
    lambda_mode: str, lambda_world: LambdaWorld, photographer: User
) -> None:
    data = (PHOTOS / "elephants.jpg").read_bytes()
    record, photo = _uploaded_direct(lambda_mode, photographer, "originals/9c/elephants.jpg", data)
    handle_event(s3_event(record), lambda_world.runtime)
    _rewrite_verdict(
        lambda_world,
        record,
        verdict="borderline",
        flags=["possibly_overexposed"],
        notes=["trailing_data"],
    )

    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))

    photo.refresh_from_db()
    assert photo.status == "awaiting_score"
    assert photo.validator_verdict == "borderline"
    assert photo.validator_flags == ["possibly_overexposed"]
    assert photo.validator_notes == ["trailing_data"]
    assert photo.events.latest("created_at", "id").cause == "validator: borderline, sent on"
    assert "Possibly overexposed — passed, flagged for the curator" in photo.validator_warnings
