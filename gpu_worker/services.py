"""Writes for the scoring stage: leases on awaiting_score photos, and the scaler's tick.

A lease never changes a photo's status: the photo stays awaiting_score while a worker holds it,
and the status moves only through gallery.services (photo_record_score, photo_mark_unscorable).
Lease times come from the database clock, so workers with skewed clocks agree on expiry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Now
from django.utils import timezone

from gallery.models import Photo

from .fleet import AutoScalingFleet
from .queue import QueueCounts, claimable
from .scaler import ScalingDecision, ScalingPolicy, decide_capacity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedPhoto:
    photo_id: int
    preview: str
    awaiting_since: datetime | None


def _expiry(lease_seconds: float) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(Now() + timedelta(seconds=lease_seconds), output_field=DateTimeField())


def photo_claim_for_scoring(*, owner: str, limit: int, lease_seconds: float) -> list[ClaimedPhoto]:
    """Lease up to `limit` photos, oldest in the queue first. Unleased photos and photos whose
    lease has expired (a worker that died) are both claimable.

    On PostgreSQL, SKIP LOCKED lets concurrent workers pass over each other's rows instead of
    queueing behind them. The UPDATE re-checks claimability, so even a database without row
    locks never hands one photo to two workers. SQLite (the embedded default) has no row locks:
    Django drops FOR UPDATE there, and its IMMEDIATE transactions (settings) make whole claims
    take turns instead.
    """
    with transaction.atomic():
        ids = list(
            claimable()
            .select_for_update(skip_locked=True)
            .order_by("awaiting_score_since", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        claimable().filter(id__in=ids).update(
            scoring_lease_owner=owner, scoring_lease_expires_at=_expiry(lease_seconds)
        )
    rows = (
        Photo.objects.filter(
            id__in=ids, scoring_lease_owner=owner, status=Photo.Status.AWAITING_SCORE
        )
        .order_by("awaiting_score_since", "id")
        .values_list("id", "preview", "awaiting_score_since")
    )
    return [ClaimedPhoto(photo_id=i, preview=p, awaiting_since=s) for i, p, s in rows]


def photo_extend_scoring_leases(
    *, owner: str, photo_ids: Sequence[int], lease_seconds: float
) -> int:
    return Photo.objects.filter(
        id__in=photo_ids, scoring_lease_owner=owner, status=Photo.Status.AWAITING_SCORE
    ).update(scoring_lease_expires_at=_expiry(lease_seconds))


def photo_release_scoring_leases(*, owner: str, photo_ids: Sequence[int]) -> int:
    """Give unstarted photos back to the queue at once, rather than after the lease expires."""
    return Photo.objects.filter(
        id__in=photo_ids, scoring_lease_owner=owner, status=Photo.Status.AWAITING_SCORE
    ).update(scoring_lease_owner="", scoring_lease_expires_at=None)


def queue_wait_seconds(claimed: Sequence[ClaimedPhoto]) -> list[float]:
    now = timezone.now()
    return [(now - c.awaiting_since).total_seconds() for c in claimed if c.awaiting_since]


def fleet_scale_tick(
    *,
    fleet: AutoScalingFleet,
    policy: ScalingPolicy,
    counts: QueueCounts,
    busy_instance_ids: set[str],
    dry_run: bool = False,
) -> ScalingDecision:
    """One scaler tick: decide from the queue and the group, then apply the capacity, the
    scale-in protection of busy instances and the scaler's memory."""
    snapshot = fleet.snapshot()
    # The group refuses a desired capacity outside its own limits: decide within both.
    bounded = replace(
        policy,
        min_instances=max(policy.min_instances, snapshot.min_size),
        max_instances=min(policy.max_instances, snapshot.max_size),
    )
    decision = decide_capacity(
        backlog=counts.backlog,
        in_flight=counts.in_flight,
        current=snapshot.desired_capacity,
        policy=bounded,
        state=snapshot.state,
    )
    logger.info(
        "fleet %s: backlog=%d in_flight=%d desired %d -> %d (%s)%s",
        fleet.group_name,
        counts.backlog,
        counts.in_flight,
        snapshot.desired_capacity,
        decision.desired,
        decision.reason,
        " [dry run]" if dry_run else "",
    )
    if dry_run:
        return decision
    # Protection first: a scale-in issued before it could pick an instance mid-batch.
    protected, released = fleet.protect_busy(snapshot=snapshot, busy_instance_ids=busy_instance_ids)
    if protected or released:
        logger.info("scale-in protection: on %s, off %s", protected, released)
    if decision.desired != snapshot.desired_capacity:
        fleet.set_desired_capacity(decision.desired)
    fleet.save_state(decision.state)
    return decision
