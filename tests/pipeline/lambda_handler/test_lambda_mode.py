"""PIPELINE_VALIDATION = "lambda": Django reads the Lambda's verdict instead of validating again."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from pipeline.core.validator import Thresholds, validate
from pipeline.lambda_handler import handle_event
from pipeline.lambda_mode import LambdaResultTimeout, lambda_validation
from tests.pipeline.lambda_handler.conftest import LambdaWorld
from tests.pipeline.lambda_handler.events import s3_event, s3_record
from tests.support.paths import PHOTOS


@pytest.fixture
def lambda_mode(
    settings: Any, s3_storage: str, lambda_world: LambdaWorld, monkeypatch: pytest.MonkeyPatch
) -> str:
    settings.PIPELINE_VALIDATION = "lambda"
    settings.PIPELINE_LAMBDA_RESULTS_TABLE = lambda_world.env["RESULTS_TABLE"]
    settings.PIPELINE_LAMBDA_DYNAMODB_ENDPOINT_URL = lambda_world.dynalite_endpoint
    settings.PIPELINE_LAMBDA_WAIT_S = 20.0
    for name, value in lambda_world.seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    return s3_storage


def _store(bucket: str, key: str, content: bytes) -> dict[str, Any]:
    """Save through Django's storage as the upload API does; return the S3 event record."""
    stored = default_storage.save(key, ContentFile(content))
    etag = default_storage.connection.meta.client.head_object(Bucket=bucket, Key=stored)["ETag"]
    return s3_record(bucket, stored, etag=etag, size=len(content))


def test_the_verdict_is_the_one_the_validator_gives_in_process(
    lambda_mode: str, lambda_world: LambdaWorld
) -> None:
    data = (PHOTOS / "canon_eos_6d.dng").read_bytes()
    record = _store(lambda_mode, "originals/12/frame.dng", data)
    assert handle_event(s3_event(record), lambda_world.runtime) == {"batchItemFailures": []}

    found = lambda_validation(key="originals/12/frame.dng")

    in_process = validate(data, Thresholds(), filename="frame.dng", preview_edges=(1600, 400))
    assert found.unreadable is None
    assert found.result is not None
    assert replace(found.result, timings_ms={}, previews={}) == replace(
        in_process, timings_ms={}, previews={}
    )
    assert set(found.result.previews) == {1600, 400}
    assert found.result.previews[400].startswith(b"\xff\xd8\xff")
    assert found.size_bytes == len(data)
    assert found.dedup is not None and found.dedup.kind == "original"


def test_a_late_result_is_waited_for(lambda_mode: str, lambda_world: LambdaWorld) -> None:
    record = _store(lambda_mode, "originals/34/cat.jpg", (PHOTOS / "cat_brown.jpg").read_bytes())
    late = threading.Timer(0.5, handle_event, args=(s3_event(record), lambda_world.runtime))
    late.start()
    try:
        found = lambda_validation(key="originals/34/cat.jpg")
    finally:
        late.join()

    assert found.result is not None
    assert found.result.format == "jpeg"


def test_an_unreadable_verdict_keeps_its_reason(
    lambda_mode: str, lambda_world: LambdaWorld
) -> None:
    record = _store(lambda_mode, "originals/56/notes.jpg", b"just some words\n" * 30)
    handle_event(s3_event(record), lambda_world.runtime)

    found = lambda_validation(key="originals/56/notes.jpg")

    assert found.result is None
    assert found.unreadable is not None
    assert found.unreadable.reason.value == "unsupported"


def test_no_result_in_time_is_a_clear_timeout(lambda_mode: str, settings: Any) -> None:
    settings.PIPELINE_LAMBDA_WAIT_S = 0.5
    _store(lambda_mode, "originals/78/never.jpg", (PHOTOS / "elephants.jpg").read_bytes())

    with pytest.raises(LambdaResultTimeout) as timeout:
        lambda_validation(key="originals/78/never.jpg")

    assert "has not reported" in str(timeout.value)
    assert "originals/78/never.jpg" in str(timeout.value)
