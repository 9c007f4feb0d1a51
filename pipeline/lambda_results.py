"""The validator Lambda's results table, shared by the handler (writer) and Django (reader).

No Django here: the handler is packaged without it. boto3 only, plus the pure core.

## Table
One on-demand DynamoDB table, key `object_key` (S, partition) + `etag` (S, sort): one item per
version of an object that the handler saw. The ETag is stored without its quotes.
`doc` (S) holds the outcome as JSON (see `Outcome`); `status` (S) repeats its status so an
operator can scan for failures; `written_at` (N) is epoch seconds.

A verdict's `dedup.other_key` is the object key of what the original matched, so the Django
side resolves a duplicate by `Photo.original`.
"""

from __future__ import annotations

import enum
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from botocore.exceptions import ClientError

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.exposure import ExposureMetrics
from pipeline.core.formats import ImageFormat
from pipeline.core.sharpness import SharpnessMetrics
from pipeline.core.validator import ValidationResult, Verdict

KEY_ATTR = "object_key"
ETAG_ATTR = "etag"


class Status(enum.StrEnum):
    VALIDATED = "validated"  # decoded and judged; `result` holds the verdict
    UNREADABLE = "unreadable"  # not an image we can read; `unreadable_*` say why
    MISSING = "missing"  # the object (or that version of it) was gone when the handler ran
    IGNORED = "ignored"  # not under the originals prefix


@dataclass(frozen=True)
class DedupVerdict:
    kind: str  # pipeline.dedup.rules.OutcomeKind value
    other_key: str | None = None  # the original's (or partner's) object key
    distance: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What the handler concluded for one object version."""

    status: Status
    sha256: str = ""
    size_bytes: int = 0
    result: dict[str, Any] | None = None  # `result_to_json` of the ValidationResult
    previews: dict[str, str] = field(default_factory=dict)  # long edge -> object key
    unreadable_reason: str = ""
    unreadable_detail: str = ""
    unreadable_exif: dict[str, Any] | None = None
    dedup: DedupVerdict | None = None
    detail: str = ""

    def to_json(self) -> str:
        doc = {**self.__dict__, "status": self.status.value}
        doc["dedup"] = None if self.dedup is None else self.dedup.__dict__
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        doc = json.loads(text)
        dedup = doc.pop("dedup")
        return cls(
            **{**doc, "status": Status(doc["status"])},
            dedup=None if dedup is None else DedupVerdict(**dedup),
        )

    def unreadable(self) -> UnreadableImage:
        exif = None if self.unreadable_exif is None else exif_from_json(self.unreadable_exif)
        return UnreadableImage(
            UnreadableReason(self.unreadable_reason), self.unreadable_detail, exif=exif
        )


def normalize_etag(etag: str) -> str:
    """S3 quotes ETags in headers and listings but not in event records."""
    return etag.strip().strip('"')


def exif_to_json(exif: Exif) -> dict[str, Any]:
    doc = dict(exif.__dict__)
    if exif.captured_at is not None:
        doc["captured_at"] = exif.captured_at.isoformat()
    return doc


def exif_from_json(doc: dict[str, Any]) -> Exif:
    captured = doc.get("captured_at")
    return Exif(**{**doc, "captured_at": datetime.fromisoformat(captured) if captured else None})


def result_to_json(result: ValidationResult) -> dict[str, Any]:
    """Everything in a ValidationResult except the preview bytes (those go to S3)."""
    return {
        "format": result.format.value,
        "width": result.width,
        "height": result.height,
        "exif": exif_to_json(result.exif),
        "exposure": {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in result.exposure.__dict__.items()
        },
        "sharpness": dict(result.sharpness.__dict__),
        "phash": result.phash,
        "dhash": result.dhash,
        "verdict": result.verdict.value,
        "reasons": list(result.reasons),
        "flags": list(result.flags),
        "notes": list(result.notes),
        "timings_ms": dict(result.timings_ms),
    }


def _verdict_from_json(doc: dict[str, Any]) -> Verdict:
    # Results written before the three-way verdict carry only "passed".
    if "verdict" in doc:
        return Verdict(doc["verdict"])
    return Verdict.PASS if doc["passed"] else Verdict.REJECT


def result_from_json(doc: dict[str, Any], previews: dict[int, bytes]) -> ValidationResult:
    exposure: dict[str, Any] = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in doc["exposure"].items()
    }
    return ValidationResult(
        format=ImageFormat(doc["format"]),
        width=doc["width"],
        height=doc["height"],
        exif=exif_from_json(doc["exif"]),
        exposure=ExposureMetrics(**exposure),
        sharpness=SharpnessMetrics(**doc["sharpness"]),
        phash=doc["phash"],
        dhash=doc["dhash"],
        verdict=_verdict_from_json(doc),
        reasons=tuple(doc["reasons"]),
        flags=tuple(doc.get("flags", ())),
        notes=tuple(doc.get("notes", ())),
        timings_ms=MappingProxyType(doc["timings_ms"]),
        previews=MappingProxyType(previews),
    )


def create_results_table(client: Any, table: str) -> None:
    """Create the results table (on-demand) if missing and wait until it is active."""
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": KEY_ATTR, "AttributeType": "S"},
                {"AttributeName": ETAG_ATTR, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": KEY_ATTR, "KeyType": "HASH"},
                {"AttributeName": ETAG_ATTR, "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
    )


class ResultsTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def _key(key: str, etag: str) -> dict[str, Any]:
        return {KEY_ATTR: {"S": key}, ETAG_ATTR: {"S": normalize_etag(etag)}}

    def get(self, key: str, etag: str) -> Outcome | None:
        response = self.client.get_item(
            TableName=self.table, Key=self._key(key, etag), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else Outcome.from_json(item["doc"]["S"])

    def put(self, key: str, etag: str, outcome: Outcome) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                **self._key(key, etag),
                "status": {"S": outcome.status.value},
                "doc": {"S": outcome.to_json()},
                "written_at": {"N": str(int(time.time()))},
            },
        )
