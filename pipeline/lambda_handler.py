"""The validator Lambda: S3 ObjectCreated events -> pipeline.core -> dedup -> results table.

It never imports Django: it is packaged alone with requirements/lambda.txt (core + boto3).

Events arrive straight from S3 (`eventSource` "aws:s3") or through an SQS queue (`eventSource`
"aws:sqs", the S3 event JSON in `body`, with ReportBatchItemFailures on).
Each record gets its own outcome:
- decoded and judged (pass, borderline with its flags, or reject), unreadable (empty, not an
  image, corrupt), or missing (deleted or replaced since the event): written to the results
  table under (object key, ETag); frames that pass or are borderline are filed in the dedup
  index, rejected ones are not, under the identity and scope of `pipeline.dedup.identity`
  (the Celery ingest uses the same);
- anything that may succeed on a retry (DynamoDB or S3 unreachable, throttled past botocore's
  retries): listed in `batchItemFailures`, so only that message comes back.
A retried event finds its result already written and returns it; if an earlier attempt died
between the dedup insert and the result write, `index_photo` is idempotent per photo id, so
nothing is filed twice.

Configuration (environment only):
  RESULTS_TABLE           results table name (required)
  DEDUP_TABLE             dedup index table name (required)
  ORIGINALS_PREFIX        keys the handler validates (default "originals/")
  PREVIEWS_PREFIX         where previews go, per long edge (default "previews/lambda/")
  PREVIEW_EDGES           comma-separated long edges to render (default "1600,400")
  VALIDATOR_THRESHOLDS    JSON overrides of pipeline.core.validator.Thresholds (default {})
  MAX_OBJECT_BYTES        larger objects are not read (default 209715200)
  DEDUP_SCOPE             "owner" (each photographer's library, from the object's `owner`
                          metadata) or "global"; as Django's DEDUP_SCOPE (default "owner")
  DEDUP_RADIUS, DEDUP_DHASH_RADIUS   as Django's settings of the same names (default 8, 12)
  DYNAMODB_MAX_ATTEMPTS   botocore attempts per DynamoDB call (default 3)
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB   standard boto3 overrides (tests, local runs)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote, unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.validator import Thresholds, ValidationResult, validate
from pipeline.dedup.dynamodb_store import DynamoDbStore
from pipeline.dedup.identity import ScopeRule, dedup_photo_id, dedup_scope, enters_index
from pipeline.dedup.index import index_photo, matched_key
from pipeline.dedup.rules import DEFAULT_DHASH_RADIUS, frame_key
from pipeline.dedup.search import DEFAULT_RADIUS
from pipeline.lambda_results import (
    DedupVerdict,
    Outcome,
    ResultsTable,
    Status,
    exif_to_json,
    normalize_etag,
    result_to_json,
)

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

_CHUNK = 1024 * 1024
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_CHANGED_CODES = frozenset({"PreconditionFailed", "412"})


@dataclass(frozen=True)
class Settings:
    results_table: str
    dedup_table: str
    originals_prefix: str
    previews_prefix: str
    preview_edges: tuple[int, ...]
    thresholds: Thresholds
    max_object_bytes: int
    scope_rule: ScopeRule
    radius: int
    dhash_radius: int
    dynamodb_max_attempts: int

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        edges = env.get("PREVIEW_EDGES", "1600,400")
        return cls(
            results_table=env["RESULTS_TABLE"],
            dedup_table=env["DEDUP_TABLE"],
            originals_prefix=env.get("ORIGINALS_PREFIX", "originals/"),
            previews_prefix=env.get("PREVIEWS_PREFIX", "previews/lambda/"),
            preview_edges=tuple(int(edge) for edge in edges.split(",") if edge.strip()),
            thresholds=Thresholds.from_overrides(json.loads(env.get("VALIDATOR_THRESHOLDS", "{}"))),
            max_object_bytes=int(env.get("MAX_OBJECT_BYTES", str(200 * 1024 * 1024))),
            scope_rule=ScopeRule(env.get("DEDUP_SCOPE", ScopeRule.OWNER.value)),
            radius=int(env.get("DEDUP_RADIUS", str(DEFAULT_RADIUS))),
            dhash_radius=int(env.get("DEDUP_DHASH_RADIUS", str(DEFAULT_DHASH_RADIUS))),
            dynamodb_max_attempts=int(env.get("DYNAMODB_MAX_ATTEMPTS", "3")),
        )


class Runtime:
    """Clients built once per container and reused by every invocation."""

    def __init__(self, settings: Settings, *, s3: Any = None, dynamodb: Any = None) -> None:
        self.settings = settings
        # A session of its own: boto3's module-level default session caches the credentials it
        # first resolved, so a rebuilt runtime would keep using stale ones.
        session = boto3.session.Session()
        self.s3 = s3 or session.client("s3", config=Config(signature_version="s3v4"))
        self.dynamodb = dynamodb or session.client(
            "dynamodb",
            config=Config(
                retries={"mode": "standard", "max_attempts": settings.dynamodb_max_attempts},
                max_pool_connections=32,
            ),
        )
        self.results = ResultsTable(self.dynamodb, settings.results_table)
        self.dedup = DynamoDbStore(self.dynamodb, settings.dedup_table)


@cache
def _runtime() -> Runtime:
    return Runtime(Settings.from_env())


class RetryableRecordsError(RuntimeError):
    """Raised for a direct S3 invocation with records to retry (see `handler`)."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point.

    Through SQS, the `batchItemFailures` answer makes Lambda return just those messages to the
    queue. S3 invokes asynchronously and ignores the answer, so there a failed record raises
    instead: Lambda retries the event (records already done return their stored result) and
    finally hands it to the dead-letter queue. Either way no result is lost.
    """
    response = handle_event(event, _runtime())
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    if failed and not any(r.get("eventSource") == "aws:sqs" for r in event.get("Records", [])):
        raise RetryableRecordsError(f"{len(failed)} record(s) to retry: {', '.join(failed)}")
    return response


def handle_event(event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    failures: list[str] = []
    for identifier, record in _s3_records(event):
        if identifier in failures:
            continue
        try:
            outcome = process_record(record, runtime)
        except Exception:
            logger.exception("record %s failed; it will be retried", identifier)
            failures.append(identifier)
        else:
            logger.info("record %s: %s", identifier, outcome.status.value)
    return {"batchItemFailures": [{"itemIdentifier": item} for item in failures]}


def _s3_records(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(item identifier, S3 record) for every S3 record, direct or wrapped in SQS messages."""
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:sqs":
            try:
                body = json.loads(record["body"])
            except (TypeError, ValueError):
                logger.error("message %s is not an S3 event; dropped", record.get("messageId"))
                continue
            for inner in body.get("Records", []):
                yield record["messageId"], inner
        elif record.get("eventSource") == "aws:s3":
            obj = record["s3"]["object"]
            yield f"{record['s3']['bucket']['name']}/{obj['key']}", record


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def process_record(record: dict[str, Any], runtime: Runtime) -> Outcome:
    """The outcome for one S3 record, written to the results table unless ignored."""
    settings = runtime.settings
    bucket = record["s3"]["bucket"]["name"]
    # S3 event keys are URL-encoded with '+' for spaces.
    key = unquote_plus(record["s3"]["object"]["key"])
    event_etag = normalize_etag(record["s3"]["object"].get("eTag", ""))
    if not record.get("eventName", "").startswith("ObjectCreated:") or not key.startswith(
        settings.originals_prefix
    ):
        return Outcome(Status.IGNORED)
    if event_etag:
        known = runtime.results.get(key, event_etag)
        if known is not None:
            return known
    outcome, etag = _evaluate(runtime, bucket, key, event_etag)
    runtime.results.put(key, etag, outcome)
    return outcome


def _evaluate(runtime: Runtime, bucket: str, key: str, etag: str) -> tuple[Outcome, str]:
    settings = runtime.settings
    try:
        response = runtime.s3.get_object(
            Bucket=bucket, Key=key, **({"IfMatch": f'"{etag}"'} if etag else {})
        )
    except ClientError as error:
        code = _error_code(error)
        if code in _MISSING_CODES:
            return Outcome(Status.MISSING, detail="The object was deleted before validation."), etag
        if code in _CHANGED_CODES:
            return Outcome(Status.MISSING, detail="The object was replaced since the event."), etag
        raise
    etag = etag or normalize_etag(response["ETag"])
    body = response["Body"]
    size = int(response["ContentLength"])
    if size > settings.max_object_bytes:
        body.close()
        too_large = UnreadableImage(
            UnreadableReason.TOO_LARGE, f"{size} bytes is over {settings.max_object_bytes}"
        )
        return _unreadable(too_large, sha256="", size=size), etag
    data, sha256 = _stream(body)
    metadata = response.get("Metadata", {})
    filename = unquote(metadata.get("filename", "")) or posixpath.basename(key)
    try:
        result = validate(
            data,
            settings.thresholds,
            filename=filename,
            preview_edges=settings.preview_edges,
        )
    except UnreadableImage as unreadable:
        return _unreadable(unreadable, sha256=sha256, size=len(data)), etag
    previews = _store_previews(runtime, bucket, key, result)
    scope = dedup_scope(settings.scope_rule, owner=metadata.get("owner"))
    # Without a scope (no `owner` metadata) the Django ingest files it, in the same index.
    dedup = (
        _index(runtime, scope=scope, key=key, result=result, filename=filename)
        if scope is not None and enters_index(result)
        else None
    )
    return (
        Outcome(
            Status.VALIDATED,
            sha256=sha256,
            size_bytes=len(data),
            result=result_to_json(result),
            previews=previews,
            dedup=dedup,
        ),
        etag,
    )


def _stream(body: Any) -> tuple[bytes, str]:
    digest = hashlib.sha256()
    buffer = bytearray()
    for chunk in body.iter_chunks(_CHUNK):
        digest.update(chunk)
        buffer += chunk
    return bytes(buffer), digest.hexdigest()


def _unreadable(error: UnreadableImage, *, sha256: str, size: int) -> Outcome:
    return Outcome(
        Status.UNREADABLE,
        sha256=sha256,
        size_bytes=size,
        unreadable_reason=error.reason.value,
        unreadable_detail=error.detail,
        unreadable_exif=None if error.exif is None else exif_to_json(error.exif),
    )


def _store_previews(
    runtime: Runtime, bucket: str, key: str, result: ValidationResult
) -> dict[str, str]:
    stem = posixpath.splitext(posixpath.basename(key))[0]
    stored: dict[str, str] = {}
    for edge, jpeg in result.previews.items():
        preview_key = f"{runtime.settings.previews_prefix}{edge}/{stem}.jpg"
        runtime.s3.put_object(Bucket=bucket, Key=preview_key, Body=jpeg, ContentType="image/jpeg")
        stored[str(edge)] = preview_key
    return stored


def _index(
    runtime: Runtime, *, scope: str, key: str, result: ValidationResult, filename: str
) -> DedupVerdict:
    settings = runtime.settings
    outcome = index_photo(
        runtime.dedup,
        scope=scope,
        photo_id=dedup_photo_id(key),
        key=key,
        phash=result.phash,
        dhash=result.dhash,
        frame=frame_key(result, filename),
        radius=settings.radius,
        dhash_radius=settings.dhash_radius,
    )
    other_key = matched_key(runtime.dedup, scope=scope, outcome=outcome)
    return DedupVerdict(kind=outcome.kind.value, other_key=other_key, distance=outcome.distance)
