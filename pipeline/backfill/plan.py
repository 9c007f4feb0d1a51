"""What a backfill stage does to each photo, and the dry run that counts it without doing it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from gallery.models import Photo
from pipeline.selectors import BackfillFilter, BackfillRow, photo_backfill_breakdown

Status = Photo.Status
Reason = Photo.RejectReason

BACKFILL_CAUSE = "backfill"


class Stage(StrEnum):
    VALIDATE = "validate"
    DEDUP = "dedup"
    PREVIEWS = "previews"
    SCORE = "score"
    ALL = "all"


class Mode(StrEnum):
    ENQUEUE = "enqueue"
    INLINE = "inline"


class Outcome(StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"
    FAILED = "failed"


SKIP_CURATOR = "curator decision"
SKIP_ALREADY_QUEUED = "already awaiting score"
SKIP_NOT_VALIDATED = "not past the validator"
SKIP_PAIRED = "paired (its twin is scored)"
SKIP_NOT_INGESTED = "not ingested yet"
SKIP_UNREADABLE = "unreadable original"
SKIP_DELETED = "deleted"
SKIP_NOT_INDEXED = "not in the dedup index"

REINGEST_STAGES = frozenset({Stage.VALIDATE, Stage.ALL})

STAGE_ACTIONS: dict[Stage, str] = {
    Stage.VALIDATE: "reset to uploaded, then ingest (validator, previews, dedup) afresh",
    Stage.DEDUP: "decide dedup again at the current radius; photos whose outcome changes move",
    Stage.PREVIEWS: "regenerate the preview and thumbnail only",
    Stage.SCORE: "reset to awaiting_score (the GPU worker claims it)",
    Stage.ALL: "reset to uploaded, then ingest; passing photos go on to the GPU",
}


class BackfillError(Exception):
    """The run cannot start or cannot go on; the message says what to do."""


SCORING_OFF = (
    "scoring is off (VLM_MODEL_PATH is empty, or SCORING_ENABLED=false): photos sent to the "
    "scorer would wait for one that is not there. Configure a model (README, 'Scoring') and "
    "run this again."
)


def _past_validator(row: BackfillRow) -> bool:
    """Photos the validator passed: scored ones, low scores, scoring failures (the worker's
    `photo_mark_unscorable` records them as failed/unreadable), and those that passed while no
    scorer was configured."""
    return (
        row.status in (Status.SCORED, Status.UNSCORED)
        or (row.status == Status.REJECTED and row.reject_reason == Reason.LOW_SCORE)
        or (row.status == Status.FAILED and row.reject_reason == Reason.UNREADABLE)
    )


def _filed_in_dedup(row: BackfillRow) -> bool:
    """Photos dedup has decided: the validator let them through, and the index holds them."""
    return (
        _past_validator(row)
        or row.status in (Status.AWAITING_SCORE, Status.PAIRED)
        or (row.status == Status.REJECTED and row.reject_reason == Reason.DUPLICATE)
    )


def skip_reason(stage: Stage, row: BackfillRow) -> str | None:
    """Why a stage leaves this photo alone, or None when it runs on it. The dry run and the real
    run both decide through here."""
    if stage is Stage.PREVIEWS:
        # Previews never change a status, so curator-decided photos get them too.
        if row.status == Status.UPLOADED:
            return SKIP_NOT_INGESTED
        if row.status == Status.REJECTED and row.reject_reason == Reason.UNREADABLE:
            return SKIP_UNREADABLE
        return None
    if row.curator_decided:
        return SKIP_CURATOR
    if stage is Stage.DEDUP:
        return None if _filed_in_dedup(row) else SKIP_NOT_VALIDATED
    if stage is Stage.SCORE:
        if row.status == Status.AWAITING_SCORE:
            return SKIP_ALREADY_QUEUED
        if row.status == Status.PAIRED:
            return SKIP_PAIRED
        if not _past_validator(row):
            return SKIP_NOT_VALIDATED
    return None


@dataclass(frozen=True)
class BackfillPlan:
    stage: Stage
    action: str
    # status -> ("would run" or a skip reason) -> photos
    by_status: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.by_status.values())

    @property
    def would_run(self) -> int:
        return sum(counts.get(WOULD_RUN, 0) for counts in self.by_status.values())


WOULD_RUN = "would run"


def backfill_plan(
    *,
    stage: Stage,
    filters: BackfillFilter,
    limit: int | None = None,
    after_id: int = 0,
) -> BackfillPlan:
    """What a run would do, per status, from one GROUP BY; it changes nothing."""
    by_status: dict[str, Counter[str]] = {}
    for row, count in photo_backfill_breakdown(filters=filters, after_id=after_id, limit=limit):
        verdict = skip_reason(stage, row) or WOULD_RUN
        by_status.setdefault(row.status, Counter())[verdict] += count
    return BackfillPlan(
        stage=stage,
        action=STAGE_ACTIONS[stage],
        by_status={status: dict(counts) for status, counts in sorted(by_status.items())},
    )
