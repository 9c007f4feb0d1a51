"""The GPU fleet's capacity decision: a pure function of the queue and of what it remembers from
earlier ticks. No AWS, no Django; the scale_gpu_fleet command feeds it and applies its answer.

Scale-out is immediate (a backlog costs curators time); scale-in waits until the lower need has
persisted for a few ticks (hysteresis, so a bursty queue does not make the fleet flap); and the
fleet goes to its minimum only after the queue has been empty for N ticks in a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ScalingPolicy:
    min_instances: int = 0
    max_instances: int = 4
    # What one instance scores in one tick: its images/s times the tick length.
    images_per_instance_per_tick: int = 600
    idle_ticks_to_minimum: int = 5
    scale_in_after_ticks: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.min_instances <= self.max_instances:
            raise ValueError("need 0 <= min_instances <= max_instances")
        if self.images_per_instance_per_tick < 1:
            raise ValueError("images_per_instance_per_tick must be at least 1")
        if self.idle_ticks_to_minimum < 1 or self.scale_in_after_ticks < 1:
            raise ValueError("tick counts must be at least 1")

    def clamp(self, capacity: int) -> int:
        return max(self.min_instances, min(self.max_instances, capacity))


@dataclass(frozen=True)
class ScalerState:
    """What the scaler carries from one tick to the next."""

    idle_ticks: int = 0
    low_ticks: int = 0


@dataclass(frozen=True)
class ScalingDecision:
    desired: int
    state: ScalerState
    reason: str


def decide_capacity(
    *,
    backlog: int,
    in_flight: int,
    current: int,
    policy: ScalingPolicy,
    state: ScalerState,
) -> ScalingDecision:
    """The desired number of instances.

    backlog: photos waiting and not leased; in_flight: photos leased by a live worker;
    current: the group's desired capacity now.
    """
    work = backlog + in_flight
    if work == 0:
        idle = state.idle_ticks + 1
        if idle >= policy.idle_ticks_to_minimum:
            return ScalingDecision(
                desired=policy.min_instances,
                state=ScalerState(idle_ticks=idle),
                reason=f"queue empty for {idle} ticks: down to the minimum",
            )
        return ScalingDecision(
            desired=policy.clamp(current),
            state=ScalerState(idle_ticks=idle),
            reason=f"queue empty for {idle}/{policy.idle_ticks_to_minimum} ticks: holding",
        )

    needed = max(1, policy.clamp(math.ceil(work / policy.images_per_instance_per_tick)))
    if needed > current:
        return ScalingDecision(
            desired=needed,
            state=ScalerState(),
            reason=f"{work} photos need {needed} instances: scaling out",
        )
    if needed == current:
        return ScalingDecision(desired=current, state=ScalerState(), reason="capacity matches")
    low = state.low_ticks + 1
    if low >= policy.scale_in_after_ticks or current > policy.max_instances:
        return ScalingDecision(
            desired=needed,
            state=ScalerState(),
            reason=f"{work} photos need {needed} instances for {low} ticks: scaling in",
        )
    return ScalingDecision(
        desired=current,
        state=ScalerState(low_ticks=low),
        reason=f"{work} photos need {needed} instances ({low}/{policy.scale_in_after_ticks} "
        "ticks): holding",
    )
