"""The gpu_worker settings, with their defaults, in one place. curation.settings reads them from
the environment; a setting absent there falls back to the default here."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from django.conf import settings

from .scaler import ScalingPolicy
from .scoring import ScorerConfig

DEFAULTS: dict[str, object] = {
    "VLM_MODEL_PATH": "",
    "VLM_MODEL_ID": "",
    "VLM_BACKEND": "auto",
    "VLM_DEVICE": "auto",
    "VLM_DTYPE": "",
    "VLM_BATCH_SIZE": 8,
    "VLM_MIN_PIXELS": 64 * 32 * 32,
    "VLM_MAX_PIXELS": 1024 * 32 * 32,
    "VLM_SCORE_THRESHOLD": 0.4,
    "GPU_WORKER_LEASE_SECONDS": 300,
    # Claim this many batches at a time: the next batch is at hand when one finishes; a SIGTERM
    # gives back the claimed batches after the one in hand.
    "GPU_WORKER_CLAIM_BATCHES": 2,
    "GPU_WORKER_POLL_SECONDS": 5.0,
    # The EC2 instance id, which the launch template's user data reads from the instance
    # metadata service: the scaler protects instances whose id appears in a live lease.
    "GPU_WORKER_INSTANCE_ID": "",
    "GPU_FLEET_ASG_NAME": "",
    "GPU_FLEET_REGION": "",
    "GPU_FLEET_MIN_INSTANCES": 0,
    "GPU_FLEET_MAX_INSTANCES": 4,
    "GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK": 600,
    "GPU_FLEET_IDLE_TICKS_TO_MINIMUM": 5,
    "GPU_FLEET_SCALE_IN_AFTER_TICKS": 3,
}


def _setting(name: str) -> object:
    return getattr(settings, name, DEFAULTS[name])


def setting_str(name: str) -> str:
    return str(_setting(name))


def setting_int(name: str) -> int:
    return int(str(_setting(name)))


def setting_float(name: str) -> float:
    return float(str(_setting(name)))


def scorer_config() -> ScorerConfig:
    return ScorerConfig(
        # An unset path must not silently mean the working directory.
        model_path=Path(setting_str("VLM_MODEL_PATH") or "VLM_MODEL_PATH-is-not-set"),
        model_id=setting_str("VLM_MODEL_ID"),
        min_pixels=setting_int("VLM_MIN_PIXELS"),
        max_pixels=setting_int("VLM_MAX_PIXELS"),
        batch_size=setting_int("VLM_BATCH_SIZE"),
        device=setting_str("VLM_DEVICE"),
        dtype=setting_str("VLM_DTYPE"),
    )


def scaling_policy() -> ScalingPolicy:
    return ScalingPolicy(
        min_instances=setting_int("GPU_FLEET_MIN_INSTANCES"),
        max_instances=setting_int("GPU_FLEET_MAX_INSTANCES"),
        images_per_instance_per_tick=setting_int("GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK"),
        idle_ticks_to_minimum=setting_int("GPU_FLEET_IDLE_TICKS_TO_MINIMUM"),
        scale_in_after_ticks=setting_int("GPU_FLEET_SCALE_IN_AFTER_TICKS"),
    )


def lease_owner() -> str:
    """`<instance>:<pid>:<random>`. The random part keeps two containers that are both pid 1 on
    one host apart; the instance part is what the scaler reads."""
    instance = setting_str("GPU_WORKER_INSTANCE_ID") or socket.gethostname()
    return f"{instance}:{os.getpid()}:{secrets.token_hex(3)}"


def instance_of_lease_owner(owner: str) -> str:
    return owner.split(":", 1)[0]
