"""Build a tiny, randomly initialised Qwen3-VL and save it as a local model directory.

It has the real architecture (vision tower with DeepStack, interleaved M-RoPE, Qwen3 decoder),
the real processor classes and a ChatML chat template, at a size (~3 MB) that loads and runs on
a CPU in milliseconds. Tests and `make bench-gpu` load it through the same code as the real
Qwen3-VL-8B-Instruct. Built offline: nothing is downloaded.

    .venv/bin/python scripts/build_tiny_vlm.py OUT_DIR [--seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tokenizers import pre_tokenizers
from transformers import (
    Qwen2VLImageProcessor,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
    Qwen3VLProcessor,
    Qwen3VLVideoProcessor,
)
from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

# The Qwen2/3 special tokens, in their original order.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# ChatML, as Qwen's templates render it for images and text in a user turn. Newlines are written
# as string literals so that Jinja's whitespace control cannot eat them.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

PATCH_SIZE = 16
MERGE_SIZE = 2


def build_tokenizer() -> Qwen2Tokenizer:
    """Byte-level BPE over the 256 byte symbols, with no merges, then the special tokens."""
    vocab = {symbol: i for i, symbol in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    for token in SPECIAL_TOKENS:
        vocab[token] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=[],
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
    )
    tokenizer.model_max_length = 32768
    return tokenizer


def build_config(tokenizer: Qwen2Tokenizer) -> Qwen3VLConfig:
    def token_id(token: str) -> int:
        found = tokenizer.convert_tokens_to_ids(token)
        assert isinstance(found, int), token  # one token in, one id out
        return found

    head_dim = 32
    return Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": head_dim,
            "max_position_embeddings": 4096,
            # The 8B model's [24, 20, 20] over 64 rotary pairs, scaled to 16 pairs.
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 5_000_000.0,
                "mrope_section": [6, 5, 5],
                "mrope_interleaved": True,
            },
            "pad_token_id": token_id("<|endoftext|>"),
            # Wider than the real 0.02 so that the random model's answer depends visibly on
            # the image: score spread is what the tests and the parity check look at.
            "initializer_range": 0.5,
        },
        vision_config={
            "depth": 2,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_heads": 2,
            "patch_size": PATCH_SIZE,
            "spatial_merge_size": MERGE_SIZE,
            "temporal_patch_size": 2,
            "out_hidden_size": 64,
            "num_position_embeddings": 2304,
            "deepstack_visual_indexes": [1],
            "initializer_range": 0.5,
        },
        image_token_id=token_id("<|image_pad|>"),
        video_token_id=token_id("<|video_pad|>"),
        vision_start_token_id=token_id("<|vision_start|>"),
        vision_end_token_id=token_id("<|vision_end|>"),
        tie_word_embeddings=False,
    )


def build_processor(tokenizer: Qwen2Tokenizer) -> Qwen3VLProcessor:
    factor = PATCH_SIZE * MERGE_SIZE
    common = {
        "patch_size": PATCH_SIZE,
        "merge_size": MERGE_SIZE,
        "temporal_patch_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "size": {"shortest_edge": 64 * factor * factor, "longest_edge": 1024 * factor * factor},
    }
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(**common),
        tokenizer=tokenizer,
        video_processor=Qwen3VLVideoProcessor(**common),
        chat_template=CHAT_TEMPLATE,
    )


def build(out_dir: Path, *, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    model = Qwen3VLForConditionalGeneration(build_config(tokenizer)).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    build_processor(tokenizer).save_pretrained(out_dir)
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = build(args.out_dir, seed=args.seed)
    size = sum(path.stat().st_size for path in out.iterdir() if path.is_file())
    print(f"tiny Qwen3-VL written to {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
