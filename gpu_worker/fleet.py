"""The AWS side of the GPU fleet: an EC2 Auto Scaling group, driven through boto3.

The scaler's memory between ticks lives in a tag on the group itself, so `scale_gpu_fleet`
run once from cron and `scale_gpu_fleet --every 120` behave the same, and nothing else stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .scaler import ScalerState

STATE_TAG = "parjanya:scaler-state"


@dataclass(frozen=True)
class FleetInstance:
    instance_id: str
    lifecycle_state: str
    protected_from_scale_in: bool


@dataclass(frozen=True)
class FleetSnapshot:
    desired_capacity: int
    min_size: int
    max_size: int
    instances: tuple[FleetInstance, ...]
    state: ScalerState


def _parse_state(value: str) -> ScalerState:
    fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    try:
        return ScalerState(
            idle_ticks=int(fields.get("idle", 0)), low_ticks=int(fields.get("low", 0))
        )
    except ValueError:
        return ScalerState()


class AutoScalingFleet:
    def __init__(self, *, client: Any, group_name: str) -> None:
        self._client = client
        self.group_name = group_name

    def snapshot(self) -> FleetSnapshot:
        groups = self._client.describe_auto_scaling_groups(AutoScalingGroupNames=[self.group_name])[
            "AutoScalingGroups"
        ]
        if not groups:
            raise LookupError(f"Auto Scaling group {self.group_name!r} does not exist")
        group = groups[0]
        tags = {tag["Key"]: tag["Value"] for tag in group.get("Tags", [])}
        return FleetSnapshot(
            desired_capacity=group["DesiredCapacity"],
            min_size=group["MinSize"],
            max_size=group["MaxSize"],
            instances=tuple(
                FleetInstance(
                    instance_id=instance["InstanceId"],
                    lifecycle_state=instance["LifecycleState"],
                    protected_from_scale_in=instance.get("ProtectedFromScaleIn", False),
                )
                for instance in group.get("Instances", [])
            ),
            state=_parse_state(tags.get(STATE_TAG, "")),
        )

    def set_desired_capacity(self, desired: int) -> None:
        # The scaler has its own hysteresis; the group's cooldown would only delay scale-out.
        self._client.set_desired_capacity(
            AutoScalingGroupName=self.group_name, DesiredCapacity=desired, HonorCooldown=False
        )

    def protect_busy(
        self, *, snapshot: FleetSnapshot, busy_instance_ids: set[str]
    ) -> tuple[list[str], list[str]]:
        """Protect instances that hold a lease from scale-in and release the others; only the
        instances whose protection changes are touched. Returns (protected, released)."""
        protect = [
            instance.instance_id
            for instance in snapshot.instances
            if instance.instance_id in busy_instance_ids and not instance.protected_from_scale_in
        ]
        release = [
            instance.instance_id
            for instance in snapshot.instances
            if instance.instance_id not in busy_instance_ids and instance.protected_from_scale_in
        ]
        for ids, protected in ((protect, True), (release, False)):
            if ids:
                self._client.set_instance_protection(
                    InstanceIds=ids,
                    AutoScalingGroupName=self.group_name,
                    ProtectedFromScaleIn=protected,
                )
        return protect, release

    def save_state(self, state: ScalerState) -> None:
        self._client.create_or_update_tags(
            Tags=[
                {
                    "ResourceId": self.group_name,
                    "ResourceType": "auto-scaling-group",
                    "Key": STATE_TAG,
                    "Value": f"idle={state.idle_ticks},low={state.low_ticks}",
                    "PropagateAtLaunch": False,
                }
            ]
        )
