"""What every scorer backend shares: the prompt, the digit scale, and how a score is read off the
next-token distribution. Backends differ only in how they obtain that distribution."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

DIGITS: tuple[str, ...] = tuple(str(d) for d in range(10))
PROMPT = (
    "You are a photo editor. Rate the photographic quality of this photo (focus, exposure, "
    "composition, subject) on a scale from 0 (unusable) to 9 (exceptional). "
    "Answer with a single digit."
)


def chat_messages() -> list[dict[str, Any]]:
    """One user turn: the image, then the question. The answer position is the first token the
    assistant would write after the generation prompt."""
    return [
        {
            "role": "user",
            "content": [{"type": "image"}, {"type": "text", "text": PROMPT}],
        }
    ]


@dataclass(frozen=True)
class ScorerConfig:
    # None when VLM_MODEL_PATH is not set: an empty path would mean the working directory.
    model_path: Path | None
    model_id: str = ""
    # The pixel budget: the processor resizes every image to between these two areas.
    min_pixels: int = 64 * 32 * 32
    max_pixels: int = 1024 * 32 * 32
    batch_size: int = 8
    device: str = "auto"
    # Empty means the default for the device: bfloat16 on CUDA, float32 on CPU.
    dtype: str = ""

    @property
    def resolved_model_id(self) -> str:
        return self.model_id or (self.model_path.resolve().name if self.model_path else "")


@dataclass(frozen=True)
class BatchScores:
    scores: tuple[float, ...]
    # Probability mass the model put on the digits at the answer position: a prompt or template
    # mismatch shows up here long before it shows up in curation.
    digit_mass: tuple[float, ...]
    runtime_ms_per_image: float


class Scorer(Protocol):
    backend: str
    model_id: str
    model_revision: str
    batch_size: int

    def score(self, images: Sequence[Image.Image]) -> BatchScores: ...


def digit_token_ids(tokenizer: Any) -> list[int]:
    """The vocabulary id of each digit 0..9. The scale only works if each digit is one token."""
    ids = []
    for digit in DIGITS:
        encoded = tokenizer.encode(digit, add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(f"digit {digit!r} is not a single token in this tokenizer: {encoded}")
        ids.append(encoded[0])
    return ids


def expected_digit_score(digit_logprobs: Mapping[int, float]) -> tuple[float, float]:
    """(score in [0, 1], digit mass) from log-probabilities of digit tokens 0..9.

    The score is the expected digit under the distribution renormalised over the digits, divided
    by 9. Digits absent from the mapping (outside a runtime's top-k) count as probability 0.
    """
    probs = {digit: math.exp(lp) for digit, lp in digit_logprobs.items()}
    mass = sum(probs.values())
    if mass <= 0.0:
        raise ValueError("no probability on any digit at the answer position")
    expected = sum(digit * p for digit, p in probs.items()) / mass
    return expected / (len(DIGITS) - 1), mass
