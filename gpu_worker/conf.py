"""The GPU worker's configuration, read from the Django settings once by each management command
and passed in. The defaults live in curation/settings/base.py only."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .scaler import ScalingPolicy
from .scoring import ScorerConfig


@dataclass(frozen=True)
class WorkerConfig:
    """What `run_gpu_worker` and `score_parity` need: the scorer and the worker loop."""

    scorer: ScorerConfig
    backend: str
    threshold: float
    lease_seconds: float
    # Claim this many batches at a time: the next batch is at hand when one finishes; a SIGTERM
    # gives back the claimed batches after the one in hand.
    claim_batches: int
    poll_seconds: float
    # The EC2 instance id, which the launch template's user data reads from the instance
    # metadata service: the scaler protects instances whose id appears in a live lease.
    instance_id: str

    @classmethod
    def from_settings(cls) -> WorkerConfig:
        return cls(
            scorer=ScorerConfig(
                model_path=Path(settings.VLM_MODEL_PATH) if settings.VLM_MODEL_PATH else None,
                model_id=settings.VLM_MODEL_ID,
                min_pixels=settings.VLM_MIN_PIXELS,
                max_pixels=settings.VLM_MAX_PIXELS,
                batch_size=settings.VLM_BATCH_SIZE,
                device=settings.VLM_DEVICE,
                dtype=settings.VLM_DTYPE,
            ),
            backend=settings.VLM_BACKEND,
            threshold=settings.VLM_SCORE_THRESHOLD,
            lease_seconds=float(settings.GPU_WORKER_LEASE_SECONDS),
            claim_batches=settings.GPU_WORKER_CLAIM_BATCHES,
            poll_seconds=settings.GPU_WORKER_POLL_SECONDS,
            instance_id=settings.GPU_WORKER_INSTANCE_ID,
        )

    def lease_owner(self) -> str:
        """`<instance>:<pid>:<random>`. The random part keeps two containers that are both pid
        1 on one host apart; the instance part is what the scaler reads."""
        instance = self.instance_id or socket.gethostname()
        return f"{instance}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class FleetConfig:
    """What `scale_gpu_fleet` needs: the Auto Scaling group and the scaling policy."""

    group_name: str
    region: str
    policy: ScalingPolicy

    @classmethod
    def from_settings(cls) -> FleetConfig:
        return cls(
            group_name=settings.GPU_FLEET_ASG_NAME,
            region=settings.GPU_FLEET_REGION,
            policy=ScalingPolicy(
                min_instances=settings.GPU_FLEET_MIN_INSTANCES,
                max_instances=settings.GPU_FLEET_MAX_INSTANCES,
                images_per_instance_per_tick=settings.GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK,
                idle_ticks_to_minimum=settings.GPU_FLEET_IDLE_TICKS_TO_MINIMUM,
                scale_in_after_ticks=settings.GPU_FLEET_SCALE_IN_AFTER_TICKS,
            ),
        )


def instance_of_lease_owner(owner: str) -> str:
    return owner.split(":", 1)[0]
