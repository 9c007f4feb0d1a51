"""The validator Lambda against a real SeaweedFS and a real dynalite, in-process."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

import pytest

from pipeline import lambda_handler
from pipeline.core.validator import validate
from pipeline.dedup.dynamodb_store import DynamoDbStore
from pipeline.dedup.identity import dedup_photo_id
from pipeline.lambda_handler import Runtime, Settings, handle_event
from pipeline.lambda_results import Outcome, Status, result_from_json
from tests.pipeline.lambda_handler.conftest import LambdaWorld, dynamodb_client
from tests.pipeline.lambda_handler.events import s3_event, sqs_event
from tests.support.dynalite import start_dynalite
from tests.support.paths import PHOTOS
from tests.support.processes import stop

CAT = (PHOTOS / "cat_brown.jpg").read_bytes()
DNG = (PHOTOS / "canon_eos_6d.dng").read_bytes()


def _outcome(world: LambdaWorld, record: dict[str, Any]) -> Outcome | None:
    obj = record["s3"]["object"]
    return world.runtime.results.get(unquote_plus(obj["key"]), obj["eTag"])


def test_an_image_is_validated_previewed_and_indexed(lambda_world: LambdaWorld) -> None:
    record = lambda_world.put("originals/ab/cat.jpg", CAT, filename="My cat.jpg")

    response = handle_event(s3_event(record), lambda_world.runtime)

    assert response == {"batchItemFailures": []}
    outcome = _outcome(lambda_world, record)
    assert outcome is not None
    assert outcome.status is Status.VALIDATED
    assert outcome.size_bytes == len(CAT)
    assert outcome.dedup is not None and outcome.dedup.kind == "original"
    previews = {
        int(edge): lambda_world.s3.get_object(Bucket=lambda_world.bucket, Key=key)["Body"].read()
        for edge, key in outcome.previews.items()
    }
    assert set(previews) == {1600, 400}
    assert all(jpeg.startswith(b"\xff\xd8\xff") for jpeg in previews.values())
    result = result_from_json(outcome.result or {}, previews)
    in_process = validate(CAT, filename="My cat.jpg")
    assert replace(result, timings_ms={}, previews={}) == replace(
        in_process, timings_ms={}, previews={}
    )
    indexed = lambda_world.dedup_store().get_photo("7", dedup_photo_id("originals/ab/cat.jpg"))
    assert indexed is not None
    assert indexed.phash == result.phash


def test_a_near_copy_is_reported_as_a_duplicate_of_the_first_key(
    lambda_world: LambdaWorld,
) -> None:
    first = lambda_world.put("originals/aa/first.jpg", CAT)
    handle_event(s3_event(first), lambda_world.runtime)
    again = lambda_world.put("originals/bb/again.jpg", CAT)
    elsewhere = lambda_world.put("originals/cc/other-owner.jpg", CAT, owner="8")

    handle_event(s3_event(again, elsewhere), lambda_world.runtime)

    duplicate = _outcome(lambda_world, again)
    assert duplicate is not None and duplicate.dedup is not None
    assert duplicate.dedup.kind == "duplicate"
    assert duplicate.dedup.other_key == "originals/aa/first.jpg"
    other_owner = _outcome(lambda_world, elsewhere)
    assert other_owner is not None and other_owner.dedup is not None
    assert other_owner.dedup.kind == "original"


def test_a_retried_event_gives_the_same_result_and_files_nothing_twice(
    lambda_world: LambdaWorld,
) -> None:
    record = lambda_world.put("originals/dd/dng.dng", DNG, filename="IMG_0001.DNG")
    handle_event(s3_event(record), lambda_world.runtime)
    first = _outcome(lambda_world, record)
    assert first is not None and first.status is Status.VALIDATED
    assert first.result is not None and first.result["format"] == "dng"

    # A retry of the same event, then one after a crash that lost the result write.
    handle_event(s3_event(record), lambda_world.runtime)
    lambda_world.runtime.dynamodb.delete_item(
        TableName=lambda_world.env["RESULTS_TABLE"],
        Key={
            "object_key": {"S": "originals/dd/dng.dng"},
            "etag": {"S": record["s3"]["object"]["eTag"]},
        },
    )
    handle_event(s3_event(record), lambda_world.runtime)

    again = _outcome(lambda_world, record)
    assert again is not None
    assert again.dedup == first.dedup
    assert again.sha256 == first.sha256
    assert again.result is not None
    assert {k: v for k, v in again.result.items() if k != "timings_ms"} == {
        k: v for k, v in first.result.items() if k != "timings_ms"
    }
    store = lambda_world.dedup_store()
    matches = store.lookup("7", first.result["phash"], 0)
    assert [m.photo_id for m in matches] == [dedup_photo_id("originals/dd/dng.dng")]


def test_bad_records_each_get_their_own_outcome_and_none_fails_the_batch(
    lambda_world: LambdaWorld,
) -> None:
    deleted = lambda_world.put("originals/ee/deleted.jpg", CAT)
    lambda_world.s3.delete_object(Bucket=lambda_world.bucket, Key="originals/ee/deleted.jpg")
    empty = lambda_world.put("originals/ee/empty.jpg", b"")
    text = lambda_world.put("originals/ee/notes.jpg", b"shopping list: milk, eggs\n" * 20)
    unicode_key = "originals/ee/Été à Zürich — 東京 #1.jpg"
    spaced = lambda_world.put(unicode_key, CAT, filename=quote("Été à Zürich.jpg"))
    assert "+" in spaced["s3"]["object"]["key"] and "%" in spaced["s3"]["object"]["key"]

    response = handle_event(s3_event(deleted, empty, text, spaced), lambda_world.runtime)

    assert response == {"batchItemFailures": []}
    statuses = {
        name: outcome.status if (outcome := _outcome(lambda_world, record)) else None
        for name, record in {
            "deleted": deleted,
            "empty": empty,
            "text": text,
            "key": spaced,
        }.items()
    }
    assert statuses == {
        "deleted": Status.MISSING,
        "empty": Status.UNREADABLE,
        "text": Status.UNREADABLE,
        "key": Status.VALIDATED,
    }
    assert (_outcome(lambda_world, empty) or Outcome(Status.IGNORED)).unreadable_reason == "empty"


def test_an_unreachable_dynamodb_fails_only_that_message_and_the_retry_succeeds(
    lambda_world: LambdaWorld, tmp_path: Path
) -> None:
    image = lambda_world.put("originals/ff/cat.jpg", CAT)
    text = lambda_world.put("originals/ff/notes.jpg", b"not a photo, just words\n" * 20)
    event, (image_message, text_message) = sqs_event([image], [text])
    process, endpoint = start_dynalite(tmp_path / "stopped")
    stop(process)
    throttled = Runtime(
        Settings.from_env(lambda_world.env),
        s3=lambda_world.seaweedfs.client(),
        dynamodb=lambda_world.runtime.dynamodb,
    )
    throttled.dedup = DynamoDbStore(
        dynamodb_client(endpoint, attempts=2), lambda_world.env["DEDUP_TABLE"]
    )

    response = handle_event(event, throttled)

    assert response == {"batchItemFailures": [{"itemIdentifier": image_message}]}
    assert _outcome(lambda_world, image) is None
    assert (_outcome(lambda_world, text) or Outcome(Status.IGNORED)).status is Status.UNREADABLE

    retry, _ = sqs_event([image])
    assert handle_event(retry, lambda_world.runtime) == {"batchItemFailures": []}
    assert (_outcome(lambda_world, image) or Outcome(Status.IGNORED)).status is Status.VALIDATED
    assert text_message != image_message


def test_records_outside_the_originals_prefix_and_test_events_are_ignored(
    lambda_world: LambdaWorld,
) -> None:
    preview = lambda_world.put("previews/lambda/400/x.jpg", CAT)
    event, _ = sqs_event([preview])
    event["Records"].append(
        {**event["Records"][0], "messageId": "test", "body": '{"Event": "s3:TestEvent"}'}
    )

    assert handle_event(event, lambda_world.runtime) == {"batchItemFailures": []}
    assert _outcome(lambda_world, preview) is None


def test_a_direct_s3_invocation_with_a_failed_record_raises_so_lambda_retries_it(
    lambda_world: LambdaWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    request.addfinalizer(lambda_handler._runtime.cache_clear)
    record = lambda_world.put("originals/hh/cat.jpg", CAT)
    process, stopped = start_dynalite(tmp_path / "stopped")
    stop(process)
    env = {**lambda_world.env, **lambda_world.seaweedfs.env(), "DYNAMODB_MAX_ATTEMPTS": "1"}
    for name, value in {**env, "AWS_ENDPOINT_URL_DYNAMODB": stopped}.items():
        monkeypatch.setenv(name, value)
    lambda_handler._runtime.cache_clear()

    with pytest.raises(lambda_handler.RetryableRecordsError, match=re.escape("hh/cat.jpg")):
        lambda_handler.handler(s3_event(record))
    assert _outcome(lambda_world, record) is None

    # Lambda's retry, once DynamoDB answers again.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", lambda_world.dynalite_endpoint)
    lambda_handler._runtime.cache_clear()
    assert lambda_handler.handler(s3_event(record)) == {"batchItemFailures": []}
    assert (_outcome(lambda_world, record) or Outcome(Status.IGNORED)).status is Status.VALIDATED


def test_a_rejected_frame_is_judged_but_kept_out_of_the_dedup_index(
    lambda_world: LambdaWorld,
) -> None:
    strict = {**lambda_world.env, "VALIDATOR_THRESHOLDS": '{"min_sharpness": 1e9}'}
    runtime = Runtime(
        Settings.from_env(strict), s3=lambda_world.s3, dynamodb=lambda_world.runtime.dynamodb
    )
    blurry = lambda_world.put("originals/ii/blurry.jpg", CAT)
    handle_event(s3_event(blurry), runtime)

    outcome = _outcome(lambda_world, blurry)
    assert outcome is not None and outcome.result is not None
    assert outcome.result["verdict"] == "reject"
    assert outcome.result["reasons"] == ["blurry"]
    assert outcome.dedup is None
    assert (
        lambda_world.dedup_store().get_photo("7", dedup_photo_id("originals/ii/blurry.jpg")) is None
    )

    # A sharp retake of the same frame is an original, not a duplicate of the rejected one.
    retake = lambda_world.put("originals/ii/retake.jpg", CAT)
    handle_event(s3_event(retake), lambda_world.runtime)
    judged = _outcome(lambda_world, retake)
    assert judged is not None and judged.dedup is not None
    assert judged.dedup.kind == "original"
