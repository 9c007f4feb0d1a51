"""Scorer throughput at batch sizes 1, 4 and 16: does batching pay?

Builds the tiny Qwen3-VL (scripts/build_tiny_vlm.py) unless --model-path is given, loads it
through the worker's own loading code, and scores real photos decoded from preview-sized JPEGs,
as the worker does. Runs on CPU here; on a CUDA machine it uses the GPU (bf16).

    .venv/bin/python scripts/bench_gpu.py [--model-path DIR] [--images 48] [--max-pixels N]

The last line is the summary: `gpu_worker: ips_b1=... ips_b16=... batch_speedup=...`.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from skimage import data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from build_tiny_vlm import build  # noqa: E402  (this directory, run as a script)

from gpu_worker.images import decode_image  # noqa: E402
from gpu_worker.scoring import Scorer, ScorerConfig, load_scorer  # noqa: E402

PHOTOS = REPO / ".." / "shared" / "testdata" / "photos"
BATCH_SIZES = (1, 4, 16)


def preview_jpegs() -> list[bytes]:
    images: list[Image.Image] = [Image.open(path) for path in sorted(PHOTOS.glob("*.jpg"))]
    images += [
        Image.fromarray(getattr(data, name)())
        for name in ("astronaut", "coffee", "chelsea", "camera", "rocket", "immunohistochemistry")
    ]
    jpegs = []
    for image in images:
        image = image.convert("RGB")
        image.thumbnail((1600, 1600))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        jpegs.append(out.getvalue())
    return jpegs


def images_per_second(scorer: Scorer, images: list[Image.Image], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(images), batch_size):
        scorer.score(images[start : start + batch_size])
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", type=Path, default=None)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--max-pixels", type=int, default=64 * 32 * 32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model_path = args.model_path or build(Path(tmp) / "tiny-qwen3-vl")
        config = ScorerConfig(
            model_path=model_path,
            min_pixels=min(64 * 32 * 32, args.max_pixels),
            max_pixels=args.max_pixels,
            batch_size=max(BATCH_SIZES),
            device=args.device,
        )
        scorer = load_scorer(config, backend="transformers")
        jpegs = preview_jpegs()
        images = [decode_image(jpegs[i % len(jpegs)]) for i in range(args.images)]
        print(
            f"model {scorer.model_id}@{scorer.model_revision[:12]} on "
            f"{getattr(scorer, 'device', '?')} {getattr(scorer, 'dtype', '')}; "
            f"{len(images)} images, max_pixels={args.max_pixels}"
        )
        for batch_size in BATCH_SIZES:
            scorer.score(images[:batch_size])  # warm-up: allocator, kernels, caches
        # Rounds interleave the batch sizes and the best round counts, so that a burst of load
        # from elsewhere on the machine does not land on one batch size only.
        results = dict.fromkeys(BATCH_SIZES, 0.0)
        for _ in range(args.rounds):
            for batch_size in BATCH_SIZES:
                ips = images_per_second(scorer, images, batch_size)
                results[batch_size] = max(results[batch_size], ips)
        for batch_size, ips in results.items():
            print(f"batch {batch_size:>2}: {ips:7.1f} images/s ({1000 / ips:6.1f} ms/image)")
    print(
        f"gpu_worker: ips_b1={results[1]:.1f} ips_b16={results[16]:.1f} "
        f"batch_speedup={results[16] / results[1]:.2f}"
    )


if __name__ == "__main__":
    main()
