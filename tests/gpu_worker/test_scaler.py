"""The capacity decision over scripted backlogs: each script is a sequence of ticks, and the
fleet's capacity after each tick is what the previous decision set."""

from __future__ import annotations

import pytest

from gpu_worker.scaler import ScalerState, ScalingPolicy, decide_capacity

POLICY = ScalingPolicy(
    min_instances=0,
    max_instances=4,
    images_per_instance_per_tick=500,
    idle_ticks_to_minimum=3,
    scale_in_after_ticks=2,
)


def run_script(
    backlogs: list[int],
    *,
    policy: ScalingPolicy = POLICY,
    in_flight: list[int] | None = None,
    start: int = 0,
) -> list[int]:
    capacity, state, history = start, ScalerState(), []
    for tick, backlog in enumerate(backlogs):
        decision = decide_capacity(
            backlog=backlog,
            in_flight=in_flight[tick] if in_flight else 0,
            current=capacity,
            policy=policy,
            state=state,
        )
        capacity, state = decision.desired, decision.state
        history.append(capacity)
    return history


def test_a_burst_scales_out_from_zero_at_once() -> None:
    assert run_script([0, 1200, 1200]) == [0, 3, 3]


def test_scales_to_zero_only_after_the_queue_stays_empty() -> None:
    assert run_script([1200, 0, 0, 0, 0], start=3) == [3, 3, 3, 0, 0]


def test_work_in_flight_keeps_the_fleet_up() -> None:
    # The queue is empty but workers hold leases: scaling to zero would kill them mid-batch.
    history = run_script([0, 0, 0, 0, 0], in_flight=[40, 40, 40, 40, 40], start=1)
    assert history == [1, 1, 1, 1, 1]


def test_a_bursty_queue_does_not_make_the_fleet_flap() -> None:
    history = run_script([1500, 100, 1500, 100, 1500, 100, 1500])
    assert history == [3, 3, 3, 3, 3, 3, 3]


def test_a_lasting_drop_scales_in_after_the_hysteresis() -> None:
    assert run_script([1500, 400, 400, 400], start=3) == [3, 3, 1, 1]


def test_an_empty_tick_resets_the_scale_in_count_and_vice_versa() -> None:
    # Idle ticks must be consecutive: work in between starts the count again.
    assert run_script([500, 0, 0, 500, 0, 0, 0], start=1) == [1, 1, 1, 1, 1, 1, 0]


def test_capacity_is_clamped_to_the_group_limits() -> None:
    policy = ScalingPolicy(
        min_instances=1,
        max_instances=2,
        images_per_instance_per_tick=100,
        idle_ticks_to_minimum=1,
        scale_in_after_ticks=1,
    )
    assert run_script([10_000, 0, 0], policy=policy) == [2, 1, 1]


def test_a_lowered_maximum_applies_immediately() -> None:
    decision = decide_capacity(
        backlog=10_000, in_flight=0, current=6, policy=POLICY, state=ScalerState()
    )
    assert decision.desired == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_instances": 3, "max_instances": 2},
        {"images_per_instance_per_tick": 0},
        {"idle_ticks_to_minimum": 0},
    ],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ScalingPolicy(**kwargs)
