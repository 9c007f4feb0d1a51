"""The cost report's arithmetic, on hand-computed figures and on a seeded library."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from pytest_django.fixtures import Settings

from gallery.models import Photo, PhotoEvent
from pipeline.costs import (
    BYTES_PER_GB,
    Deployment,
    Prices,
    RecordedUsage,
    cost_report,
    with_overrides,
)
from pipeline.selectors import cost_report_get

S = Photo.Status
R = Photo.RejectReason

# 1000 frames; 250 rejected before the GPU; 700 scored at 1.8 s each; the validator took
# 0.25 s per frame; originals plus estimated DynamoDB traffic make exactly 4 GiB.
USAGE = RecordedUsage(
    frames_ingested=1000,
    rejected_before_gpu={"blurry": 150, "duplicate": 50, "overexposed": 30, "unreadable": 20},
    frames_scored=700,
    frames_awaiting_gpu=50,
    gpu_ms_total=700 * 1800.0,
    original_bytes=4 * BYTES_PER_GB - 1000 * 4096,
    validator_timed_frames=1000,
    validator_ms_total=1000 * 250.0,
)


def test_gpu_hours_avoided_are_rejected_frames_at_the_measured_gpu_time() -> None:
    gpu = cost_report(USAGE).gpu

    assert gpu.rejected_before_gpu_total == 250
    assert gpu.gpu_seconds_per_frame == pytest.approx(1.8)
    assert gpu.gpu_hours_used == pytest.approx(0.35)
    assert gpu.gpu_cost_used_usd == pytest.approx(0.35 * 1.006)
    assert gpu.gpu_hours_avoided == pytest.approx(250 * 1.8 / 3600)  # 0.125 h
    assert gpu.gpu_cost_avoided_usd == pytest.approx(0.125 * 1.006)


def test_borderline_frames_are_reported_apart_and_never_as_saved() -> None:
    # The same library, but 100 of the scored frames were flagged borderline and sent on.
    flagged = replace(USAGE, frames_flagged=100, gpu_ms_flagged=100 * 1800.0)

    gpu = cost_report(flagged).gpu

    assert gpu.frames_flagged_sent_on == 100
    assert gpu.gpu_hours_flagged == pytest.approx(100 * 1.8 / 3600)  # 0.05 h
    # Saved is still the 250 hard rejects only; the flagged frames' GPU time is in "used".
    assert gpu.rejected_before_gpu_total == 250
    assert gpu.gpu_hours_avoided == pytest.approx(250 * 1.8 / 3600)
    assert gpu.gpu_hours_used == pytest.approx(0.35)
    rows = {figure: value for _, figure, value, _ in cost_report(flagged).rows()}
    assert rows["flagged, sent on to the GPU (not counted as saved)"] == 100
    assert rows["GPU hours used on flagged frames"] == pytest.approx(0.05)


def test_arm64_saves_a_fifth_of_lambda_duration_cost_at_the_measured_time() -> None:
    lam = cost_report(USAGE, deployment=Deployment(lambda_memory_mb=2048)).lambda_ingest

    gb_seconds = 1000 * 0.25 * 2.0
    requests = 1000 / 1e6 * 0.20
    assert lam.invocations == 1000
    assert lam.seconds_per_invocation == pytest.approx(0.25)
    assert lam.x86_usd == pytest.approx(gb_seconds * 0.0000166667 + requests)
    assert lam.arm64_usd == pytest.approx(gb_seconds * 0.0000133334 + requests)
    assert lam.saving_usd == pytest.approx(gb_seconds * 0.0000033333)
    assert lam.saving_usd is not None
    assert lam.saving_usd / (gb_seconds * 0.0000166667) == pytest.approx(0.2, abs=1e-4)


def test_ecs_saving_is_busy_task_hours_at_the_fargate_price_difference() -> None:
    ecs = cost_report(USAGE, deployment=Deployment(worker_vcpu=1, worker_memory_gb=2)).ecs_ingest

    task_hours = 1000 * 0.25 / 3600
    assert ecs.x86_usd == pytest.approx(task_hours * (0.04048 + 2 * 0.004445))
    assert ecs.arm64_usd == pytest.approx(task_hours * (0.03238 + 2 * 0.00356))
    assert ecs.saving_usd == pytest.approx(task_hours * 0.00987)


def test_gateway_endpoints_save_the_nat_per_gb_charge_on_recorded_bytes() -> None:
    network = cost_report(USAGE).network

    assert network.dynamodb_bytes == 1000 * 4096
    assert network.nat_gateway_usd == pytest.approx(4 * 0.045)
    assert network.gateway_endpoint_usd == 0
    assert network.saving_usd == pytest.approx(0.18)


def test_unmeasured_figures_are_unknown_not_zero() -> None:
    report = cost_report(
        RecordedUsage(
            frames_ingested=10,
            rejected_before_gpu={"blurry": 4},
            frames_scored=0,
            frames_awaiting_gpu=6,
            gpu_ms_total=0.0,
            original_bytes=10_000,
        )
    )

    assert report.gpu.gpu_hours_avoided is None
    assert report.gpu.gpu_cost_avoided_usd is None
    assert report.lambda_ingest.saving_usd is None
    assert report.ecs_ingest.saving_usd is None
    assert any("GPU time avoided is unknown" in note for note in report.assumptions)


def test_price_overrides_from_settings_are_typed_and_checked() -> None:
    assert with_overrides(Prices(), {"g5_xlarge_per_hour": "2.5"}).g5_xlarge_per_hour == 2.5
    with pytest.raises(ValueError, match="unknown Prices field"):
        with_overrides(Prices(), {"g5_per_hour": 2})
    assert with_overrides(Deployment(), {"lambda_memory_mb": "2048"}).lambda_memory_mb == 2048


def _photo(owner: User, status: str, reason: str = "", **fields: Any) -> Photo:
    photo = Photo.objects.create(
        owner=owner,
        original="originals/x.jpg",
        original_filename="x.jpg",
        status=status,
        reject_reason=reason,
        size_bytes=fields.pop("size_bytes", 1_000_000),
        validator_metrics=fields.pop("validator_metrics", {"timings_ms": {"total": 200.0}}),
        **fields,
    )
    if status != S.UPLOADED:
        # The pipeline's move, as ingest records it: what the report counts stops from.
        PhotoEvent.objects.create(photo=photo, to_status=status, reason=reason, cause="ingest")
    return photo


@pytest.fixture
def seeded(photographer: User, settings: Settings) -> None:
    """11 frames ingested: 4 rejected before the GPU, one paired with a twin, 4 scored (2 s, 4 s,
    3 s, 3 s; one of them later approved, one rejected by a curator), one waiting for the GPU,
    one ingest failure; and one upload not ingested yet."""
    settings.COST_REPORT_PRICES = {"g5_xlarge_per_hour": 1.2}
    settings.COST_REPORT_DEPLOYMENT = {"lambda_memory_mb": 512}
    _photo(photographer, S.REJECTED, R.BLURRY)
    _photo(photographer, S.REJECTED, R.BLURRY)
    _photo(photographer, S.REJECTED, R.DUPLICATE)
    _photo(photographer, S.REJECTED, R.UNREADABLE, validator_metrics={})
    _photo(photographer, S.SCORED, vlm_runtime_ms=2000.0)
    _photo(photographer, S.REJECTED, R.LOW_SCORE, vlm_runtime_ms=4000.0)
    _photo(photographer, S.APPROVED, vlm_runtime_ms=3000.0, curator_decision="approved")
    _photo(photographer, S.REJECTED, R.CURATOR, vlm_runtime_ms=3000.0, curator_decision="rejected")
    _photo(photographer, S.AWAITING_SCORE)
    _photo(photographer, S.PAIRED)
    _photo(photographer, S.FAILED, R.ERROR, validator_metrics={})
    _photo(photographer, S.UPLOADED, size_bytes=50_000_000, validator_metrics={})


@pytest.mark.django_db
def test_report_from_a_seeded_library(seeded: None) -> None:
    report = cost_report_get()

    gpu = report.gpu
    assert gpu.frames_ingested == 11
    assert gpu.rejected_before_gpu == {"blurry": 2, "duplicate": 1, "unreadable": 1}
    assert gpu.frames_scored == 4
    assert gpu.frames_awaiting_gpu == 1
    assert gpu.frames_paired == 1
    assert gpu.gpu_seconds_per_frame == pytest.approx(3.0)
    assert gpu.gpu_hours_avoided == pytest.approx(5 * 3.0 / 3600)
    assert gpu.gpu_cost_avoided_usd == pytest.approx(5 * 3.0 / 3600 * 1.2)
    lam = report.lambda_ingest
    assert lam.invocations == 11
    assert lam.seconds_per_invocation == pytest.approx(0.2)
    assert lam.saving_usd == pytest.approx(11 * 0.2 * 0.5 * (0.0000166667 - 0.0000133334))
    assert report.network.s3_bytes == 11_000_000
    assert report.network.saving_usd == pytest.approx(
        (11_000_000 + 11 * 4096) / BYTES_PER_GB * 0.045
    )
    assert any("recorded for 9 of 11 frames" in note for note in report.assumptions)


@pytest.mark.django_db
def test_cost_report_command_prints_the_same_figures_as_json_csv_and_a_table(
    seeded: None,
) -> None:
    figures = cost_report_get()

    as_json = StringIO()
    call_command("cost_report", "--format", "json", stdout=as_json)
    parsed = json.loads(as_json.getvalue())
    assert parsed["gpu"]["gpu_cost_avoided_usd"] == pytest.approx(figures.gpu.gpu_cost_avoided_usd)
    assert parsed["prices"]["g5_xlarge_per_hour"] == 1.2
    assert parsed["prices_as_of"]

    as_csv = StringIO()
    call_command("cost_report", "--format", "csv", stdout=as_csv)
    rows = {(r["section"], r["figure"]): r for r in csv.DictReader(StringIO(as_csv.getvalue()))}
    assert float(rows[("gpu", "GPU hours avoided")]["value"]) == pytest.approx(5 * 3.0 / 3600)
    assert rows[("gpu", "rejected before the GPU: blurry")]["value"] == "2"
    assert float(rows[("price", "nat_gateway_per_gb")]["value"]) == 0.045

    table = StringIO()
    call_command("cost_report", stdout=table)
    lines = table.getvalue().splitlines()
    assert any(line.split()[:4] == ["frames", "scored", "on", "the"] for line in lines)
    assert any("GPU cost avoided (g5.xlarge)" in line and "0.005000" in line for line in lines)
    assert "Assumptions:" in lines


@pytest.mark.django_db
def test_flagged_frames_in_the_library_are_counted_apart_from_what_was_saved(
    seeded: None, photographer: User
) -> None:
    borderline: dict[str, Any] = {"validator_verdict": "borderline", "flag_possibly_soft": True}
    _photo(photographer, S.SCORED, vlm_runtime_ms=3000.0, **borderline)
    _photo(photographer, S.REJECTED, R.LOW_SCORE, vlm_runtime_ms=3000.0, **borderline)
    _photo(photographer, S.AWAITING_SCORE, **borderline)
    # Flagged, then stopped by dedup: it never reached the GPU, and dedup saved it.
    _photo(photographer, S.REJECTED, R.DUPLICATE, **borderline)

    gpu = cost_report_get().gpu

    assert gpu.frames_flagged_sent_on == 3
    assert gpu.gpu_hours_flagged == pytest.approx(6.0 / 3600)
    assert gpu.rejected_before_gpu == {"blurry": 2, "duplicate": 2, "unreadable": 1}
    # Hard rejects (5) and the paired twin (1) at the mean 3 s: the flagged frames add nothing.
    assert gpu.gpu_seconds_per_frame == pytest.approx(3.0)
    assert gpu.gpu_hours_avoided == pytest.approx(6 * 3.0 / 3600)
