"""Reads over the scoring queue: what the scaler and the worker's exit condition look at."""

from __future__ import annotations

from .conf import instance_of_lease_owner
from .queue import QueueCounts, awaiting_score, live_lease


def scoring_queue_counts() -> QueueCounts:
    """backlog: waiting with no live lease; in_flight: leased by a worker that is alive (or
    whose lease has not run out yet)."""
    in_flight = awaiting_score().filter(live_lease()).count()
    return QueueCounts(backlog=awaiting_score().count() - in_flight, in_flight=in_flight)


def scoring_busy_instances() -> set[str]:
    """Instances that hold at least one live lease: the ones not to terminate."""
    owners = awaiting_score().filter(live_lease()).values_list("scoring_lease_owner", flat=True)
    return {instance_of_lease_owner(owner) for owner in owners.distinct()}
