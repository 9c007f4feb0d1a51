"""Reads for the pipeline's operator tools: the photo streams backfill walks, and the recorded
figures behind `manage.py cost_report` and the admin dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, ExpressionWrapper, FloatField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from gallery.models import Photo
from gallery.selectors import photo_flag_q, pipeline_rejections_by_reason
from pipeline.costs import (
    CostReport,
    Deployment,
    Prices,
    RecordedUsage,
    cost_report,
    with_overrides,
)

Status = Photo.Status
Reason = Photo.RejectReason

# Every reject reason recorded before a frame reaches the GPU (validator verdicts, unreadable
# files, duplicates); the rest come from the GPU (low_score), a curator, or infrastructure.
PRE_GPU_REASONS: tuple[str, ...] = tuple(
    reason
    for reason in Reason.values
    if reason not in (Reason.LOW_SCORE, Reason.CURATOR, Reason.ERROR)
)
# Where the validator records its own run time inside `Photo.validator_metrics`.
VALIDATOR_TOTAL_MS_KEY = "timings_ms__total"


@dataclass(frozen=True, slots=True)
class BackfillFilter:
    """Which photos a backfill considers. Empty fields do not filter. `since` is inclusive and
    `until` exclusive, both on the upload time."""

    statuses: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    owner_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[int, ...] = ()
    # Validator flag or note codes (Photo.ValidatorFlag): photos carrying any of them.
    flags: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "statuses": sorted(self.statuses),
            "reasons": sorted(self.reasons),
            "owner_id": self.owner_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ids": sorted(self.ids),
        }
        # Only when set: the run key hashes this, and runs without flags must keep the key
        # they had before flags existed, so their checkpoints still resume.
        if self.flags:
            spec["flags"] = sorted(self.flags)
        return spec


class BackfillRow(NamedTuple):
    id: int
    status: str
    reject_reason: str
    curator_decided: bool


def _filtered(filters: BackfillFilter) -> QuerySet[Photo]:
    photos = Photo.objects.all()
    if filters.statuses:
        photos = photos.filter(status__in=filters.statuses)
    if filters.reasons:
        photos = photos.filter(reject_reason__in=filters.reasons)
    if filters.owner_id is not None:
        photos = photos.filter(owner_id=filters.owner_id)
    if filters.since is not None:
        photos = photos.filter(created_at__gte=filters.since)
    if filters.until is not None:
        photos = photos.filter(created_at__lt=filters.until)
    if filters.ids:
        photos = photos.filter(pk__in=filters.ids)
    if filters.flags:
        photos = photos.filter(photo_flag_q(filters.flags))
    return photos


def _window(filters: BackfillFilter, *, after_id: int, limit: int | None) -> QuerySet[Photo]:
    """The photos a run still has to consider: past the cursor, and within the limit."""
    photos = _filtered(filters).filter(pk__gt=after_id)
    if limit is None:
        return photos
    first = photos.order_by("pk").values("pk")[:limit]
    return Photo.objects.filter(pk__in=first)


def photo_backfill_batch(*, filters: BackfillFilter, after_id: int, size: int) -> list[BackfillRow]:
    """The next `size` photos after `after_id`, in id order: keyset pagination, so each batch is
    one index range scan however deep into the library the run is."""
    rows = (
        _filtered(filters)
        .filter(pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "status", "reject_reason", "curator_decision")[:size]
    )
    return [
        BackfillRow(pk, status, reason, bool(decision)) for pk, status, reason, decision in rows
    ]


def photo_backfill_lock(*, ids: list[int]) -> dict[int, BackfillRow]:
    """Lock these photos' rows until the transaction ends (in id order, as every locker here
    does) and read them as they are now. Photos deleted meanwhile are missing."""
    rows = (
        Photo.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "status", "reject_reason", "curator_decision")
    )
    return {row[0]: BackfillRow(*row[:3], bool(row[3])) for row in rows}


def photo_backfill_count(*, filters: BackfillFilter, after_id: int, limit: int | None) -> int:
    count = _filtered(filters).filter(pk__gt=after_id).count()
    return count if limit is None else min(count, limit)


def photo_backfill_breakdown(
    *, filters: BackfillFilter, after_id: int, limit: int | None
) -> list[tuple[BackfillRow, int]]:
    """How many photos of each (status, reason, curator-decided) kind a run would consider, as
    one GROUP BY: a representative row (id 0) and its count."""
    groups = (
        _window(filters, after_id=after_id, limit=limit)
        .order_by()
        .values(
            "status",
            "reject_reason",
            decided=ExpressionWrapper(~Q(curator_decision=""), output_field=BooleanField()),
        )
        .annotate(n=Count("pk"))
    )
    return [
        (BackfillRow(0, group["status"], group["reject_reason"], group["decided"]), group["n"])
        for group in groups
    ]


def owner_id_for_username(*, username: str) -> int | None:
    return (
        get_user_model()
        .objects.filter(**{get_user_model().USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )


def recorded_usage_get() -> RecordedUsage:
    """Everything the cost report needs, from what the pipeline recorded on each photo."""
    ingested = ~Q(status=Status.UPLOADED)
    timed = Q(**{f"validator_metrics__{VALIDATOR_TOTAL_MS_KEY}__isnull": False}) & ingested
    borderline = Q(validator_verdict=Photo.ValidatorVerdict.BORDERLINE)
    # Borderline frames that went on to the GPU: not stopped by dedup, nor paired with a twin.
    sent_on = (
        borderline
        & ingested
        & ~Q(status=Status.PAIRED)
        & ~Q(status=Status.REJECTED, reject_reason__in=PRE_GPU_REASONS)
    )
    totals = Photo.objects.aggregate(
        ingested=Count("pk", filter=ingested),
        scored=Count("pk", filter=Q(vlm_runtime_ms__isnull=False)),
        awaiting=Count("pk", filter=Q(status=Status.AWAITING_SCORE)),
        paired=Count("pk", filter=Q(status=Status.PAIRED)),
        unscored=Count("pk", filter=Q(status=Status.UNSCORED)),
        gpu_ms=Sum("vlm_runtime_ms", default=0.0),
        original_bytes=Sum("size_bytes", filter=ingested, default=0),
        timed=Count("pk", filter=timed),
        validator_ms=Sum(
            Cast(KT(f"validator_metrics__{VALIDATOR_TOTAL_MS_KEY}"), FloatField()),
            filter=timed,
            default=0.0,
        ),
        flagged=Count("pk", filter=sent_on),
        gpu_ms_flagged=Sum("vlm_runtime_ms", filter=borderline, default=0.0),
    )
    return RecordedUsage(
        frames_ingested=totals["ingested"],
        # From the event history, as the dashboard counts it: what a curator did afterwards
        # (kept one copy of a duplicate group) does not undo what the pipeline stopped.
        rejected_before_gpu=pipeline_rejections_by_reason(reasons=PRE_GPU_REASONS),
        frames_scored=totals["scored"],
        frames_awaiting_gpu=totals["awaiting"],
        gpu_ms_total=float(totals["gpu_ms"]),
        original_bytes=int(totals["original_bytes"]),
        frames_paired=totals["paired"],
        frames_unscored=totals["unscored"],
        validator_timed_frames=totals["timed"],
        validator_ms_total=float(totals["validator_ms"]),
        frames_flagged=totals["flagged"],
        gpu_ms_flagged=float(totals["gpu_ms_flagged"]),
    )


def cost_report_get(
    *, prices: Prices | None = None, deployment: Deployment | None = None
) -> CostReport:
    """The cost report over the whole library: `manage.py cost_report` and the admin dashboard
    both show exactly this. Prices and sizing default to the settings."""
    return cost_report(
        recorded_usage_get(),
        prices=prices or with_overrides(Prices(), settings.COST_REPORT_PRICES),
        deployment=deployment or with_overrides(Deployment(), settings.COST_REPORT_DEPLOYMENT),
    )
