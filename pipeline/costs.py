"""What the pipeline costs and saves, from recorded usage. Pure arithmetic: dataclasses in,
figures out; no Django, no I/O. `pipeline.selectors.cost_report_get` feeds it from the database
for `manage.py cost_report` and the admin dashboard.

Prices are AWS public on-demand list prices for us-east-1 (Linux), in USD, as published on
aws.amazon.com/ec2/pricing/on-demand, /lambda/pricing, /fargate/pricing and /vpc/pricing and
checked on `PRICES_AS_OF`. They have not changed since each offer launched (g5 in 2021, Lambda
and Fargate on Graviton in 2021). Deployments override them through settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

PRICES_AS_OF = "2026-06-17"
# AWS bills data by the GB of 2**30 bytes.
BYTES_PER_GB = 1024**3
_MS_PER_HOUR = 3_600_000.0


@dataclass(frozen=True, slots=True)
class Prices:
    """Unit prices in USD (see the module docstring for source and date)."""

    g5_xlarge_per_hour: float = 1.006
    lambda_x86_per_gb_second: float = 0.0000166667
    # Graviton: 20% below x86 per GB-second; the request price is the same on both.
    lambda_arm64_per_gb_second: float = 0.0000133334
    lambda_per_million_requests: float = 0.20
    fargate_x86_per_vcpu_hour: float = 0.04048
    fargate_x86_per_gb_hour: float = 0.004445
    fargate_arm64_per_vcpu_hour: float = 0.03238
    fargate_arm64_per_gb_hour: float = 0.00356
    nat_gateway_per_gb: float = 0.045
    # S3 and DynamoDB gateway endpoints have no hourly or per-GB charge.
    gateway_endpoint_per_gb: float = 0.0


@dataclass(frozen=True, slots=True)
class Deployment:
    """How the CPU side is sized, which the database does not record."""

    lambda_memory_mb: int = 1024
    worker_vcpu: float = 1.0
    worker_memory_gb: float = 2.0
    # DynamoDB bytes are not recorded anywhere: one dedup lookup is one BatchGetItem of ~57
    # bucket keys plus a handful of writes, about 4 KiB on the wire per frame.
    dynamodb_bytes_per_frame: int = 4096


_Defaults = TypeVar("_Defaults", Prices, Deployment)


def with_overrides(defaults: _Defaults, overrides: Mapping[str, Any]) -> _Defaults:
    """`defaults` with the named fields replaced (settings: `COST_REPORT_PRICES`, ...)."""
    known = {f.name for f in fields(defaults)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown {type(defaults).__name__} field(s): {', '.join(unknown)}")
    # Coerce to each default's type: values read from the environment arrive as strings.
    return dataclasses.replace(
        defaults,
        **{name: type(getattr(defaults, name))(value) for name, value in overrides.items()},
    )


@dataclass(frozen=True, slots=True)
class RecordedUsage:
    """What the database recorded about the library."""

    frames_ingested: int
    rejected_before_gpu: Mapping[str, int]
    frames_scored: int
    frames_awaiting_gpu: int
    gpu_ms_total: float
    original_bytes: int
    # RAW/JPEG twins of a frame that is scored once for both.
    frames_paired: int = 0
    # Frames the validator passed while no scorer was configured: still to be scored.
    frames_unscored: int = 0
    # Frames whose validator recorded its own run time, and the sum of those times.
    validator_timed_frames: int = 0
    validator_ms_total: float = 0.0
    # Frames the validator judged borderline and that went on to the GPU like a pass (not
    # duplicates or paired twins), and the GPU time recorded for those scored so far.
    frames_flagged: int = 0
    gpu_ms_flagged: float = 0.0


@dataclass(frozen=True, slots=True)
class GpuFigures:
    frames_ingested: int
    rejected_before_gpu: dict[str, int]
    rejected_before_gpu_total: int
    frames_paired: int
    frames_flagged_sent_on: int
    frames_scored: int
    frames_awaiting_gpu: int
    frames_unscored: int
    gpu_hours_used: float
    gpu_hours_flagged: float
    gpu_cost_used_usd: float
    gpu_seconds_per_frame: float | None
    gpu_hours_avoided: float | None
    gpu_cost_avoided_usd: float | None


@dataclass(frozen=True, slots=True)
class ArchitectureFigures:
    """The same work billed on x86 and on arm64; `saving_usd` is x86 minus arm64."""

    invocations: int
    seconds_per_invocation: float | None
    x86_usd: float | None
    arm64_usd: float | None
    saving_usd: float | None


@dataclass(frozen=True, slots=True)
class NetworkFigures:
    s3_bytes: int
    dynamodb_bytes: int
    nat_gateway_usd: float
    gateway_endpoint_usd: float
    saving_usd: float


@dataclass(frozen=True, slots=True)
class CostReport:
    gpu: GpuFigures
    lambda_ingest: ArchitectureFigures
    ecs_ingest: ArchitectureFigures
    network: NetworkFigures
    prices: Prices
    deployment: Deployment
    prices_as_of: str = PRICES_AS_OF
    assumptions: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def rows(self) -> list[tuple[str, str, float | int | None, str]]:
        """(section, figure, value, unit), in report order: the table and CSV layouts."""
        gpu, lam, ecs, net = self.gpu, self.lambda_ingest, self.ecs_ingest, self.network
        rows: list[tuple[str, str, float | int | None, str]] = [
            ("gpu", "frames ingested", gpu.frames_ingested, "frames"),
        ]
        rows += [
            ("gpu", f"rejected before the GPU: {reason}", count, "frames")
            for reason, count in gpu.rejected_before_gpu.items()
        ]
        rows += [
            ("gpu", "rejected before the GPU: total", gpu.rejected_before_gpu_total, "frames"),
            ("gpu", "paired with a twin that is scored", gpu.frames_paired, "frames"),
            (
                "gpu",
                "flagged, sent on to the GPU (not counted as saved)",
                gpu.frames_flagged_sent_on,
                "frames",
            ),
            ("gpu", "frames scored on the GPU", gpu.frames_scored, "frames"),
            ("gpu", "frames awaiting the GPU", gpu.frames_awaiting_gpu, "frames"),
            ("gpu", "passed but not scored (no model configured)", gpu.frames_unscored, "frames"),
            ("gpu", "measured GPU time per frame", gpu.gpu_seconds_per_frame, "s"),
            ("gpu", "GPU hours used", gpu.gpu_hours_used, "h"),
            ("gpu", "GPU hours used on flagged frames", gpu.gpu_hours_flagged, "h"),
            ("gpu", "GPU cost (g5.xlarge)", gpu.gpu_cost_used_usd, "USD"),
            ("gpu", "GPU hours avoided", gpu.gpu_hours_avoided, "h"),
            ("gpu", "GPU cost avoided (g5.xlarge)", gpu.gpu_cost_avoided_usd, "USD"),
        ]
        for section, arch in (("lambda", lam), ("ecs", ecs)):
            rows += [
                (section, "invocations", arch.invocations, "frames"),
                (section, "time per invocation", arch.seconds_per_invocation, "s"),
                (section, "cost on x86_64", arch.x86_usd, "USD"),
                (section, "cost on arm64", arch.arm64_usd, "USD"),
                (section, "arm64 saving", arch.saving_usd, "USD"),
            ]
        rows += [
            ("network", "S3 bytes", net.s3_bytes, "bytes"),
            ("network", "DynamoDB bytes (estimated)", net.dynamodb_bytes, "bytes"),
            ("network", "through a NAT gateway", net.nat_gateway_usd, "USD"),
            ("network", "through gateway endpoints", net.gateway_endpoint_usd, "USD"),
            ("network", "gateway endpoint saving", net.saving_usd, "USD"),
        ]
        return rows


def _gpu_figures(usage: RecordedUsage, prices: Prices) -> GpuFigures:
    rejected = dict(sorted(usage.rejected_before_gpu.items()))
    rejected_total = sum(rejected.values())
    hours_used = usage.gpu_ms_total / _MS_PER_HOUR
    per_frame = usage.gpu_ms_total / 1000.0 / usage.frames_scored if usage.frames_scored else None
    # A rejected frame never reaches the GPU; a paired twin rides on its partner's score. Only
    # hard rejects count: a borderline frame goes on to the GPU and its time is spent, not saved.
    avoided_frames = rejected_total + usage.frames_paired
    hours_avoided = None if per_frame is None else avoided_frames * per_frame / 3600.0
    return GpuFigures(
        frames_ingested=usage.frames_ingested,
        rejected_before_gpu=rejected,
        rejected_before_gpu_total=rejected_total,
        frames_paired=usage.frames_paired,
        frames_flagged_sent_on=usage.frames_flagged,
        frames_scored=usage.frames_scored,
        frames_awaiting_gpu=usage.frames_awaiting_gpu,
        frames_unscored=usage.frames_unscored,
        gpu_hours_used=hours_used,
        gpu_hours_flagged=usage.gpu_ms_flagged / _MS_PER_HOUR,
        gpu_cost_used_usd=hours_used * prices.g5_xlarge_per_hour,
        gpu_seconds_per_frame=per_frame,
        gpu_hours_avoided=hours_avoided,
        gpu_cost_avoided_usd=(
            None if hours_avoided is None else hours_avoided * prices.g5_xlarge_per_hour
        ),
    )


def _validator_seconds(usage: RecordedUsage) -> float | None:
    if not usage.validator_timed_frames:
        return None
    return usage.validator_ms_total / 1000.0 / usage.validator_timed_frames


def _lambda_figures(
    usage: RecordedUsage, prices: Prices, deployment: Deployment
) -> ArchitectureFigures:
    invocations = usage.frames_ingested
    seconds = _validator_seconds(usage)
    if seconds is None:
        return ArchitectureFigures(invocations, None, None, None, None)
    gb_seconds = invocations * seconds * deployment.lambda_memory_mb / 1024.0
    requests = invocations / 1_000_000 * prices.lambda_per_million_requests
    x86 = gb_seconds * prices.lambda_x86_per_gb_second + requests
    arm64 = gb_seconds * prices.lambda_arm64_per_gb_second + requests
    return ArchitectureFigures(invocations, seconds, x86, arm64, x86 - arm64)


def _ecs_figures(
    usage: RecordedUsage, prices: Prices, deployment: Deployment
) -> ArchitectureFigures:
    invocations = usage.frames_ingested
    seconds = _validator_seconds(usage)
    if seconds is None:
        return ArchitectureFigures(invocations, None, None, None, None)
    task_hours = invocations * seconds / 3600.0
    x86 = task_hours * (
        deployment.worker_vcpu * prices.fargate_x86_per_vcpu_hour
        + deployment.worker_memory_gb * prices.fargate_x86_per_gb_hour
    )
    arm64 = task_hours * (
        deployment.worker_vcpu * prices.fargate_arm64_per_vcpu_hour
        + deployment.worker_memory_gb * prices.fargate_arm64_per_gb_hour
    )
    return ArchitectureFigures(invocations, seconds, x86, arm64, x86 - arm64)


def _network_figures(
    usage: RecordedUsage, prices: Prices, deployment: Deployment
) -> NetworkFigures:
    dynamodb_bytes = usage.frames_ingested * deployment.dynamodb_bytes_per_frame
    gb = (usage.original_bytes + dynamodb_bytes) / BYTES_PER_GB
    nat = gb * prices.nat_gateway_per_gb
    endpoint = gb * prices.gateway_endpoint_per_gb
    return NetworkFigures(
        s3_bytes=usage.original_bytes,
        dynamodb_bytes=dynamodb_bytes,
        nat_gateway_usd=nat,
        gateway_endpoint_usd=endpoint,
        saving_usd=nat - endpoint,
    )


def _assumptions(usage: RecordedUsage, deployment: Deployment) -> tuple[str, ...]:
    notes = [
        f"Prices: AWS public on-demand, us-east-1, USD, checked {PRICES_AS_OF}.",
        "GPU time per frame is the mean recorded vlm_runtime_ms (the worker divides each "
        "batch's time by its frames); a frame rejected before the GPU, or paired with a twin "
        "scored for both, would have cost that mean, billed as g5.xlarge time (the scaler "
        "runs instances only while there is work).",
        "Only hard rejects count as GPU time avoided. Frames the validator flagged as borderline "
        "(possibly soft or badly exposed) are sent on to the GPU: their time is counted as used, "
        "and shown apart.",
        "Lambda invocations = frames ingested (one S3 event per upload); ECS tasks do the same "
        "work. Both are billed for the validator's recorded run time, assumed the same on "
        "x86_64 and arm64.",
        f"Lambda memory {deployment.lambda_memory_mb} MB; ECS worker "
        f"{deployment.worker_vcpu:g} vCPU / {deployment.worker_memory_gb:g} GB, billed only "
        "while busy.",
        "S3 bytes = the originals' recorded sizes (each read once by the validator). DynamoDB "
        f"bytes are not recorded: estimated at {deployment.dynamodb_bytes_per_frame} bytes per "
        "frame. The NAT gateway's hourly charge is left out: only its per-GB charge is avoided.",
    ]
    if usage.frames_scored == 0:
        notes.append("No frame has been scored yet, so GPU time avoided is unknown.")
    if usage.frames_unscored:
        notes.append(
            f"{usage.frames_unscored} frames passed the validator while no scorer was configured; "
            "they are neither GPU time used nor avoided until `backfill --stage score` sends "
            "them to the GPU."
        )
    if usage.validator_timed_frames == 0:
        notes.append("No validator run time is recorded yet, so Lambda and ECS costs are unknown.")
    elif usage.validator_timed_frames < usage.frames_ingested:
        notes.append(
            f"Validator run time is recorded for {usage.validator_timed_frames} of "
            f"{usage.frames_ingested} frames; their mean stands for all."
        )
    return tuple(notes)


def cost_report(
    usage: RecordedUsage, *, prices: Prices | None = None, deployment: Deployment | None = None
) -> CostReport:
    prices = prices or Prices()
    deployment = deployment or Deployment()
    return CostReport(
        gpu=_gpu_figures(usage, prices),
        lambda_ingest=_lambda_figures(usage, prices, deployment),
        ecs_ingest=_ecs_figures(usage, prices, deployment),
        network=_network_figures(usage, prices, deployment),
        prices=prices,
        deployment=deployment,
        assumptions=_assumptions(usage, deployment),
    )
