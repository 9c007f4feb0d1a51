"""What the scoring queue is, as querysets: shared by services (claims) and selectors (counts).
The queue is Photo.status == awaiting_score without a curator's decision; a lease says which
worker is on a photo, and an expired lease counts as none."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Now

from gallery.models import Photo


def awaiting_score() -> QuerySet[Photo]:
    return Photo.objects.filter(status=Photo.Status.AWAITING_SCORE, curator_decision="")


def live_lease() -> Q:
    return Q(scoring_lease_expires_at__gte=Now())


def claimable() -> QuerySet[Photo]:
    return awaiting_score().exclude(live_lease())


@dataclass(frozen=True)
class QueueCounts:
    backlog: int
    in_flight: int

    @property
    def empty(self) -> bool:
        return self.backlog == 0 and self.in_flight == 0
