"""`PIPELINE_VALIDATION = "lambda"`: the ingest task takes the validator Lambda's verdict for an
original (read by object key and current ETag from the results table) instead of reading the
whole object and validating it again.

The Lambda usually finishes within seconds of the upload, but the ingest task may run first, so
it waits with exponential backoff up to `PIPELINE_LAMBDA_WAIT_S` (`LambdaConfig.wait_s`), then
gives up with `LambdaResultTimeout`, whose message says what is missing; the caller records it
as the photo's status (failed; backfill re-runs it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import boto3
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage

from pipeline.config import IngestConfig, LambdaConfig
from pipeline.core.errors import UnreadableImage
from pipeline.core.validator import ValidationResult
from pipeline.lambda_results import (
    DedupVerdict,
    Outcome,
    ResultsTable,
    Status,
    normalize_etag,
    result_from_json,
)

logger = logging.getLogger(__name__)

_FIRST_DELAY_S = 0.1
_MAX_DELAY_S = 5.0


class LambdaResultError(Exception):
    """The Lambda's result cannot be used; the message is for people (it becomes the detail)."""


class LambdaResultTimeout(LambdaResultError):
    pass


@dataclass(frozen=True)
class LambdaValidation:
    """The Lambda's verdict on one original. Exactly one of `result` and `unreadable` is set."""

    sha256: str
    size_bytes: int
    result: ValidationResult | None  # previews included, as the in-process validator gives them
    unreadable: UnreadableImage | None
    dedup: DedupVerdict | None  # `other_key` is the matched original's `Photo.original`


def _results_table(config: LambdaConfig) -> ResultsTable:
    client = boto3.client(
        "dynamodb",
        endpoint_url=config.dynamodb_endpoint_url or None,
        region_name=config.region,
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )
    return ResultsTable(client, config.results_table)


def _storage() -> S3Storage:
    if not isinstance(default_storage, S3Storage):
        raise ImproperlyConfigured('PIPELINE_VALIDATION = "lambda" needs S3 storage.')
    return default_storage


def _current_etag(storage: S3Storage, key: str) -> str:
    head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=key)
    return normalize_etag(head["ETag"])


def _wait_for(table: ResultsTable, key: str, etag: str, wait_s: float) -> Outcome:
    deadline = time.monotonic() + wait_s
    delay = _FIRST_DELAY_S
    while True:
        outcome = table.get(key, etag)
        if outcome is not None:
            return outcome
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LambdaResultTimeout(
                f"The validator Lambda has not reported on this file after "
                f"{wait_s:g} s (object {key}, ETag {etag})."
            )
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_DELAY_S)


def _previews(
    storage: S3Storage, keys: dict[str, str], wanted: tuple[int, ...]
) -> dict[int, bytes]:
    missing = [edge for edge in wanted if str(edge) not in keys]
    if missing:
        raise LambdaResultError(
            f"The validator Lambda rendered no {missing} px previews: set its PREVIEW_EDGES to "
            f"{','.join(map(str, wanted))}."
        )
    previews = {}
    for edge in wanted:
        with storage.open(keys[str(edge)], "rb") as preview:
            previews[edge] = preview.read()
    return previews


def lambda_validation(*, key: str, config: IngestConfig) -> LambdaValidation:
    """The Lambda's verdict on the original stored under `key`, waiting for it if needed.
    `config.lambda_results` says where it is read.

    Raises LambdaResultTimeout when it does not appear in time, LambdaResultError when it
    cannot be used (the Lambda found no such object, or rendered other previews).
    """
    if config.lambda_results is None:
        raise ImproperlyConfigured('lambda_validation needs PIPELINE_VALIDATION = "lambda".')
    storage = _storage()
    etag = _current_etag(storage, key)
    wait_s = config.lambda_results.wait_s
    outcome = _wait_for(_results_table(config.lambda_results), key, etag, wait_s)
    logger.info("lambda result for %s (%s): %s", key, etag, outcome.status.value)
    if outcome.status is Status.UNREADABLE:
        return LambdaValidation(
            sha256=outcome.sha256,
            size_bytes=outcome.size_bytes,
            result=None,
            unreadable=outcome.unreadable(),
            dedup=None,
        )
    if outcome.status is not Status.VALIDATED or outcome.result is None:
        raise LambdaResultError(
            f"The validator Lambda could not use this file ({outcome.status.value}): "
            f"{outcome.detail or 'no detail'}."
        )
    result = result_from_json(
        outcome.result, _previews(storage, outcome.previews, config.preview_edges)
    )
    return LambdaValidation(
        sha256=outcome.sha256,
        size_bytes=outcome.size_bytes,
        result=result,
        unreadable=None,
        dedup=outcome.dedup,
    )
