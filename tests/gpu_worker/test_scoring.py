from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from pytest_django import Settings
from safetensors.torch import load_file, save_file

from gpu_worker.conf import WorkerConfig
from gpu_worker.scoring import ModelDirectoryError, Scorer, ScorerConfig, load_scorer
from gpu_worker.scoring.base import expected_digit_score
from gpu_worker.scoring.model_dir import model_revision

from .conftest import TEST_PIXEL_BUDGET, real_photos


def test_tiny_model_scores_real_photos_in_unit_interval(tiny_scorer: Scorer) -> None:
    photos = real_photos()
    result = tiny_scorer.score([image for _, image in photos])

    assert len(result.scores) == len(photos)
    assert all(0.0 <= score <= 1.0 for score in result.scores)
    assert all(0.0 < mass <= 1.0 for mass in result.digit_mass)
    # The scores depend on the picture: a constant would mean the image never reached the model.
    assert max(result.scores) - min(result.scores) > 0.05
    assert result.runtime_ms_per_image > 0


def test_batched_scores_equal_one_at_a_time(tiny_scorer: Scorer) -> None:
    images = [image for _, image in real_photos()[:5]]
    batched = tiny_scorer.score(images).scores
    single = [tiny_scorer.score([image]).scores[0] for image in images]
    assert batched == pytest.approx(single, abs=1e-5)


def test_scorer_records_model_identity(tiny_scorer: Scorer, tiny_model_dir: Path) -> None:
    assert tiny_scorer.backend == "transformers"
    assert tiny_scorer.model_id == "tiny-qwen3-vl"
    assert len(tiny_scorer.model_revision) == 64
    assert tiny_scorer.model_revision == model_revision(tiny_model_dir)


def test_revision_follows_the_weights_not_the_directory(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(tiny_model_dir, tmp_path / "renamed")
    assert model_revision(copy) == model_revision(tiny_model_dir)

    retrained = shutil.copytree(tiny_model_dir, tmp_path / "retrained")
    weights = load_file(retrained / "model.safetensors")
    name = sorted(weights)[0]
    weights[name] = weights[name] + 1e-3
    save_file(weights, retrained / "model.safetensors", metadata={"format": "pt"})
    assert model_revision(retrained) != model_revision(tiny_model_dir)


def test_bfloat16_runtime_stays_close_to_float32(tiny_scorer: Scorer, tiny_model_dir: Path) -> None:
    images = [image for _, image in real_photos()[:4]]
    config = ScorerConfig(model_path=tiny_model_dir, dtype="bfloat16", **TEST_PIXEL_BUDGET)
    bf16 = load_scorer(config, backend="transformers").score(images).scores
    fp32 = tiny_scorer.score(images).scores
    assert bf16 != fp32
    assert bf16 == pytest.approx(fp32, abs=0.1)


def test_missing_model_directory_is_a_clear_startup_error(tmp_path: Path) -> None:
    missing = tmp_path / "Qwen3-VL-8B-Instruct"
    with pytest.raises(ModelDirectoryError, match=r"does not exist.*VLM_MODEL_PATH"):
        load_scorer(ScorerConfig(model_path=missing))


def test_an_unset_model_path_says_so(settings: Settings) -> None:
    settings.VLM_MODEL_PATH = ""
    config = WorkerConfig.from_settings().scorer
    with pytest.raises(ModelDirectoryError, match=r"^VLM_MODEL_PATH is not set\. Set it to"):
        load_scorer(config)


def test_incomplete_model_directory_names_what_is_missing(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    broken = shutil.copytree(tiny_model_dir, tmp_path / "broken")
    (broken / "tokenizer.json").unlink()
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelDirectoryError) as excinfo:
        load_scorer(ScorerConfig(model_path=broken))
    message = str(excinfo.value)
    assert "tokenizer.json" in message
    assert "model.safetensors" in message
    assert "config.json" not in message


def test_sharded_model_missing_a_shard_is_reported_by_name(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    sharded = shutil.copytree(tiny_model_dir, tmp_path / "sharded")
    (sharded / "model.safetensors").rename(sharded / "model-00001-of-00002.safetensors")
    (sharded / "model.safetensors.index.json").write_text(
        '{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",'
        ' "b": "model-00002-of-00002.safetensors"}}'
    )
    with pytest.raises(ModelDirectoryError, match=r"missing: model-00002-of-00002\.safetensors$"):
        load_scorer(ScorerConfig(model_path=sharded))


@pytest.mark.parametrize(
    ("logprobs", "expected"),
    [
        ({9: 0.0}, 1.0),
        ({0: 0.0}, 0.0),
        ({d: math.log(0.1) for d in range(10)}, 0.5),
        # Mass outside the digits is renormalised away; a digit outside a top-k counts as 0.
        ({2: math.log(0.01), 6: math.log(0.03)}, 5.0 / 9.0),
    ],
)
def test_score_is_the_expected_digit_on_a_unit_scale(
    logprobs: dict[int, float], expected: float
) -> None:
    score, _ = expected_digit_score(logprobs)
    assert score == pytest.approx(expected)
