"""The transformers backend: one forward pass per batch, the score read off the logits at the
answer position. Nothing is generated and no text is parsed."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from .base import BatchScores, ScorerConfig, chat_messages, digit_token_ids, expected_digit_score
from .model_dir import check_model_dir, model_revision


def resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def resolve_dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested:
        dtype = getattr(torch, requested, None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"unknown torch dtype {requested!r}")
        return dtype
    return torch.bfloat16 if device.type == "cuda" else torch.float32


class TransformersScorer:
    backend = "transformers"

    def __init__(self, config: ScorerConfig) -> None:
        model_dir = check_model_dir(config.model_path)
        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)
        self.model_id = config.resolved_model_id
        self.model_revision = model_revision(model_dir)
        self.batch_size = config.batch_size
        self._size = {"shortest_edge": config.min_pixels, "longest_edge": config.max_pixels}
        self.processor = AutoProcessor.from_pretrained(model_dir, local_files_only=True)
        # Left padding puts every sequence's answer position in the last column of the batch.
        self.processor.tokenizer.padding_side = "left"
        model = AutoModelForImageTextToText.from_pretrained(
            model_dir, local_files_only=True, dtype=self.dtype
        )
        self.model = model.to(self.device).eval()  # type: ignore[arg-type]
        self._digit_ids = digit_token_ids(self.processor.tokenizer)
        self._prompt = self.processor.apply_chat_template(
            chat_messages(), tokenize=False, add_generation_prompt=True
        )

    @torch.inference_mode()
    def score(self, images: Sequence[Image.Image]) -> BatchScores:
        if not images:
            return BatchScores(scores=(), digit_mass=(), runtime_ms_per_image=0.0)
        started = time.perf_counter()
        inputs = self.processor(
            text=[self._prompt] * len(images),
            images=[image.convert("RGB") for image in images],
            size=self._size,
            padding=True,
            return_tensors="pt",
        ).to(self.device)
        logits = self.model(**inputs, logits_to_keep=1).logits[:, -1, :]
        digit_logprobs = torch.log_softmax(logits.float(), dim=-1)[:, self._digit_ids].cpu()
        results = [expected_digit_score(dict(enumerate(row.tolist()))) for row in digit_logprobs]
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return BatchScores(
            scores=tuple(score for score, _ in results),
            digit_mass=tuple(mass for _, mass in results),
            runtime_ms_per_image=elapsed_ms / len(images),
        )
