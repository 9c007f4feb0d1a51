from __future__ import annotations

import importlib.util
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pytest_django import Settings

from gpu_worker.images import decode_image
from gpu_worker.parity import ParityTolerances, compare_scores
from gpu_worker.scoring import Scorer

TOLERANCES = ParityTolerances(min_spearman=0.9, max_abs_diff=0.05, max_flips=0)


def parity(*args: str) -> str:
    out = StringIO()
    call_command("score_parity", *args, stdout=out)
    return out.getvalue()


def test_identical_runs_agree() -> None:
    scores = {"a.jpg": 0.2, "b.jpg": 0.5, "c.jpg": 0.9}
    report = compare_scores(scores, dict(scores), threshold=0.4, tolerances=TOLERANCES)
    assert report.passed
    assert report.spearman == pytest.approx(1.0)
    assert report.max_abs_diff == 0.0


def test_small_drift_that_crosses_the_threshold_is_a_flip() -> None:
    a = {"a.jpg": 0.2, "b.jpg": 0.41, "c.jpg": 0.9}
    b = {"a.jpg": 0.21, "b.jpg": 0.39, "c.jpg": 0.9}
    report = compare_scores(a, b, threshold=0.4, tolerances=TOLERANCES)
    assert [flip.name for flip in report.flips] == ["b.jpg"]
    assert report.max_abs_diff == pytest.approx(0.02)
    assert report.failures == ("1 decisions flip at 0.4 > 0",)


def test_a_reordering_fails_on_rank_correlation() -> None:
    a = {"a.jpg": 0.50, "b.jpg": 0.52, "c.jpg": 0.54, "d.jpg": 0.56}
    b = {"a.jpg": 0.56, "b.jpg": 0.54, "c.jpg": 0.52, "d.jpg": 0.50}
    report = compare_scores(a, b, threshold=0.4, tolerances=TOLERANCES)
    assert report.spearman == pytest.approx(-1.0)
    assert not report.passed
    assert "Spearman" in report.failures[0]


def test_runs_over_different_images_cannot_be_compared() -> None:
    with pytest.raises(ValueError, match="different images"):
        compare_scores({"a.jpg": 0.5}, {"b.jpg": 0.5}, threshold=0.4, tolerances=TOLERANCES)


def test_same_runtime_twice_passes_on_the_golden_set(
    tiny_model_settings: Settings, golden_dir: Path, tmp_path: Path
) -> None:
    out = parity(
        "--golden", str(golden_dir),
        "--backend", "transformers",
        "--backend", "transformers:dtype=float32,batch=1",
        "--save", str(tmp_path),
    )  # fmt: skip
    assert "spearman=1.0000" in out
    assert "flips=0" in out
    assert out.rstrip().endswith("score parity OK")
    saved = json.loads((tmp_path / "run-1.json").read_text())
    assert sorted(saved) == sorted(p.name for p in golden_dir.iterdir())


def test_saved_scores_from_another_runtime_that_flip_a_decision_fail(
    tiny_model_settings: Settings, tiny_scorer: Scorer, golden_dir: Path, tmp_path: Path
) -> None:
    images = sorted(golden_dir.iterdir())
    result = tiny_scorer.score([decode_image(path.read_bytes()) for path in images])
    scores = dict(zip((path.name for path in images), result.scores, strict=True))
    name = min(scores, key=scores.__getitem__)
    # Another runtime that scores one photo across the threshold from where this one does.
    threshold = scores[name] + 0.01
    scores[name] += 0.02
    other = tmp_path / "other-runtime.json"
    other.write_text(json.dumps(scores))

    with pytest.raises(CommandError, match="1 decisions flip") as excinfo:
        parity(
            "--golden", str(golden_dir),
            "--backend", "transformers", "--backend", f"file:{other}",
            "--threshold", str(threshold),
        )  # fmt: skip
    assert "max |diff|" not in str(excinfo.value)


def test_unknown_backend_is_refused(tiny_model_settings: Settings, golden_dir: Path) -> None:
    with pytest.raises(CommandError, match="unknown scorer backend 'onnx'"):
        parity("--golden", str(golden_dir), "--backend", "transformers", "--backend", "onnx")


def test_a_backend_that_is_not_installed_is_refused_before_any_scoring(
    settings: Settings, golden_dir: Path, tmp_path: Path
) -> None:
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    # The first backend's model directory does not exist: had it been loaded first (scoring
    # the whole set before reaching the second), that would be the error.
    settings.VLM_MODEL_PATH = str(tmp_path / "not-here")
    with pytest.raises(CommandError, match="vllm backend needs the vllm package") as refused:
        parity("--golden", str(golden_dir), "--backend", "transformers", "--backend", "vllm")
    assert "not-here" not in str(refused.value)
