"""What a local model directory must hold, and the revision that identifies its weights.

Nothing is ever downloaded at run time, so a missing file is a deployment error: it is reported
at startup, by name, before any framework is imported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

WEIGHTS_INDEX = "model.safetensors.index.json"
SINGLE_WEIGHTS = "model.safetensors"
# Each requirement is satisfied by any one of its alternatives.
_REQUIRED: tuple[tuple[str, ...], ...] = (
    ("config.json",),
    ("preprocessor_config.json", "processor_config.json"),
    ("tokenizer.json",),
    ("tokenizer_config.json",),
    ("chat_template.jinja", "chat_template.json"),
)


class ModelDirectoryError(RuntimeError):
    """The model directory is missing or incomplete; the message names what is missing."""


def weight_files(model_dir: Path) -> list[Path]:
    """The safetensors files the model loads: the shards of the index, or the single file."""
    index = model_dir / WEIGHTS_INDEX
    if index.is_file():
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        return [model_dir / name for name in sorted(set(weight_map.values()))]
    return [model_dir / SINGLE_WEIGHTS]


def check_model_dir(model_dir: Path | None) -> Path:
    """The model directory, once it holds everything the model loads."""
    if model_dir is None:
        raise ModelDirectoryError(
            "VLM_MODEL_PATH is not set. Set it to a local directory holding a saved Qwen3-VL "
            "model (config.json, safetensors weights, tokenizer and processor files); nothing "
            "is downloaded at run time."
        )
    if not model_dir.is_dir():
        raise ModelDirectoryError(
            f"VLM model directory {model_dir} does not exist. Set VLM_MODEL_PATH to a local "
            "directory holding a saved Qwen3-VL model (config.json, safetensors weights, "
            "tokenizer and processor files); nothing is downloaded at run time."
        )
    missing = [
        " or ".join(alternatives)
        for alternatives in _REQUIRED
        if not any((model_dir / name).is_file() for name in alternatives)
    ]
    try:
        weights = weight_files(model_dir)
    except (ValueError, KeyError) as exc:
        missing.append(f"a readable {WEIGHTS_INDEX} ({exc!r})")
    else:
        missing += [path.name for path in weights if not path.is_file()]
    if missing:
        raise ModelDirectoryError(
            f"VLM model directory {model_dir} is incomplete; missing: {', '.join(missing)}"
        )
    return model_dir


def model_revision(model_dir: Path) -> str:
    """SHA-256 over config.json and every weight file, in a fixed order: two workers report the
    same revision exactly when they run the same weights, whatever the directory is called."""
    digest = hashlib.sha256()
    for path in [model_dir / "config.json", *weight_files(model_dir)]:
        digest.update(path.name.encode())
        with path.open("rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()
