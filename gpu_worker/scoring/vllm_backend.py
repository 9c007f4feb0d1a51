"""The vLLM backend (CUDA only, optional: requirements/vllm.txt). Same model directory, same
prompt and chat template, same scale; the digit distribution comes from vLLM's logprobs of the
first generated token instead of a forward pass of our own.

vLLM returns the top-k logprobs only, so a digit outside the top k counts as probability 0; with
k = 20 and a model that answers with a digit, the mass lost is negligible (score_parity checks
that claim against the transformers backend on a golden set).

Not exercised by the CPU test suite: vLLM does not install there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PIL import Image
from transformers import AutoProcessor
from vllm import LLM, SamplingParams

from .base import BatchScores, ScorerConfig, chat_messages, digit_token_ids, expected_digit_score
from .model_dir import check_model_dir, model_revision

TOP_LOGPROBS = 20


class VllmScorer:
    backend = "vllm"

    def __init__(self, config: ScorerConfig) -> None:
        model_dir = check_model_dir(config.model_path)
        self.model_id = config.resolved_model_id
        self.model_revision = model_revision(model_dir)
        self.batch_size = config.batch_size
        processor = AutoProcessor.from_pretrained(model_dir, local_files_only=True)
        self._prompt = processor.apply_chat_template(
            chat_messages(), tokenize=False, add_generation_prompt=True
        )
        self._digit_ids = digit_token_ids(processor.tokenizer)
        size = {"shortest_edge": config.min_pixels, "longest_edge": config.max_pixels}
        self._llm = LLM(
            model=str(model_dir),
            dtype=config.dtype or "bfloat16",
            limit_mm_per_prompt={"image": 1, "video": 0},
            mm_processor_kwargs={"size": size},
            max_num_seqs=config.batch_size,
        )
        self._params = SamplingParams(max_tokens=1, temperature=0.0, logprobs=TOP_LOGPROBS)

    def score(self, images: Sequence[Image.Image]) -> BatchScores:
        if not images:
            return BatchScores(scores=(), digit_mass=(), runtime_ms_per_image=0.0)
        started = time.perf_counter()
        requests = [
            {"prompt": self._prompt, "multi_modal_data": {"image": image.convert("RGB")}}
            for image in images
        ]
        outputs = self._llm.generate(requests, self._params, use_tqdm=False)
        results = []
        for output in outputs:
            first_token = output.outputs[0].logprobs[0]
            results.append(
                expected_digit_score(
                    {
                        digit: first_token[token_id].logprob
                        for digit, token_id in enumerate(self._digit_ids)
                        if token_id in first_token
                    }
                )
            )
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return BatchScores(
            scores=tuple(score for score, _ in results),
            digit_mass=tuple(mass for _, mass in results),
            runtime_ms_per_image=elapsed_ms / len(images),
        )
