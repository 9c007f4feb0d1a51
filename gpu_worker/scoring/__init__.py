"""Scorer backends. `load_scorer` picks one and loads it from the local model directory."""

from __future__ import annotations

import importlib.util

from .base import BatchScores, Scorer, ScorerConfig
from .model_dir import ModelDirectoryError, check_model_dir

BACKENDS = ("auto", "transformers", "vllm")

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "BatchScores",
    "ModelDirectoryError",
    "Scorer",
    "ScorerConfig",
    "load_scorer",
    "require_backend",
]


class BackendUnavailable(RuntimeError):
    """The chosen backend's framework is not installed in this environment."""


def require_backend(backend: str) -> None:
    """Refuse a backend that cannot load here before anything runs (a parity check would
    otherwise score the whole set with the first backend, then fail on the second)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown scorer backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "vllm" and importlib.util.find_spec("vllm") is None:
        raise BackendUnavailable(
            "the vllm backend needs the vllm package (requirements/vllm.txt, CUDA machines "
            "only), which is not installed here; use the transformers backend"
        )


def load_scorer(config: ScorerConfig, backend: str = "auto") -> Scorer:
    """Check the model directory first (cheap, and names what is missing), then import the
    framework. "auto" is vLLM where it is installed, transformers otherwise."""
    require_backend(backend)
    check_model_dir(config.model_path)
    if backend == "auto":
        backend = "vllm" if importlib.util.find_spec("vllm") is not None else "transformers"
    if backend == "vllm":
        from .vllm_backend import VllmScorer

        return VllmScorer(config)
    from .transformers_backend import TransformersScorer

    return TransformersScorer(config)
