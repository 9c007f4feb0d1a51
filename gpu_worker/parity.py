"""Score parity between two backends or runtimes on a golden set. Scores decide curation, so a
runtime change (vLLM vs transformers, bf16 vs fp32, a new GPU) must rank the photos the same way,
move no score by much, and flip no decision at the threshold."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from .images import decode_image
from .scoring import ScorerConfig, load_scorer, require_backend

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class ParityTolerances:
    min_spearman: float = 0.95
    max_abs_diff: float = 0.05
    max_flips: int = 0


@dataclass(frozen=True)
class Flip:
    name: str
    score_a: float
    score_b: float


@dataclass(frozen=True)
class ParityReport:
    count: int
    spearman: float
    max_abs_diff: float
    worst: str
    flips: tuple[Flip, ...]
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def compare_scores(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    threshold: float,
    tolerances: ParityTolerances,
) -> ParityReport:
    if set(a) != set(b):
        raise ValueError(f"the two runs scored different images: {sorted(set(a) ^ set(b))}")
    names = sorted(a)
    diffs = {name: abs(a[name] - b[name]) for name in names}
    worst = max(names, key=diffs.__getitem__) if names else ""
    rho = float(spearmanr([a[n] for n in names], [b[n] for n in names]).statistic)
    flips = tuple(
        Flip(name=n, score_a=a[n], score_b=b[n])
        for n in names
        if (a[n] < threshold) != (b[n] < threshold)
    )
    failures = []
    if math.isnan(rho):
        failures.append("Spearman is undefined: fewer than two images, or constant scores")
    elif rho < tolerances.min_spearman:
        failures.append(f"Spearman {rho:.4f} < {tolerances.min_spearman}")
    if names and diffs[worst] > tolerances.max_abs_diff:
        failures.append(f"max |diff| {diffs[worst]:.4f} > {tolerances.max_abs_diff}")
    if len(flips) > tolerances.max_flips:
        failures.append(f"{len(flips)} decisions flip at {threshold} > {tolerances.max_flips}")
    return ParityReport(
        count=len(names),
        spearman=rho,
        max_abs_diff=diffs[worst] if names else 0.0,
        worst=worst,
        flips=flips,
        failures=tuple(failures),
    )


def golden_images(directory: Path) -> list[Path]:
    images = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ValueError(f"no images in golden set {directory}")
    return images


_CONFIG_FIELDS = {
    "model": ("model_path", Path),
    "device": ("device", str),
    "dtype": ("dtype", str),
    "batch": ("batch_size", int),
    "min_pixels": ("min_pixels", int),
    "max_pixels": ("max_pixels", int),
}


@dataclass(frozen=True)
class BackendSpec:
    """`transformers`, `vllm` or `auto`, optionally with overrides: `transformers:dtype=bfloat16`,
    `vllm:model=/models/qwen3-vl-8b,max_pixels=401408`; or `file:PATH`, the JSON {name: score}
    saved from a run on another machine (see score_parity --save)."""

    text: str
    backend: str
    config: ScorerConfig | None = None
    scores_file: Path | None = None


def parse_backend_spec(text: str, *, base: ScorerConfig) -> BackendSpec:
    kind, _, rest = text.partition(":")
    if kind == "file":
        return BackendSpec(text=text, backend=kind, scores_file=Path(rest))
    require_backend(kind)
    overrides: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key not in _CONFIG_FIELDS:
            raise ValueError(f"unknown option {key!r} in {text!r}; known: {sorted(_CONFIG_FIELDS)}")
        field, convert = _CONFIG_FIELDS[key]
        overrides[field] = convert(value)
    return BackendSpec(text=text, backend=kind, config=replace(base, **overrides))


def run_backend(spec: BackendSpec, *, images: list[Path]) -> tuple[str, dict[str, float]]:
    """Scores for the golden set, with a label that says which runtime produced them."""
    if spec.scores_file is not None:
        saved = json.loads(spec.scores_file.read_text())
        return spec.text, {str(name): float(score) for name, score in saved.items()}
    assert spec.config is not None
    scorer = load_scorer(spec.config, backend=spec.backend)
    scores: dict[str, float] = {}
    for start in range(0, len(images), scorer.batch_size):
        chunk = images[start : start + scorer.batch_size]
        result = scorer.score([decode_image(path.read_bytes()) for path in chunk])
        scores.update(zip((p.name for p in chunk), result.scores, strict=True))
    label = f"{scorer.backend} {scorer.model_id}@{scorer.model_revision[:12]} ({spec.text})"
    return label, scores
