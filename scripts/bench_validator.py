"""Benchmark the validator on camera-sized frames, on one core.

    make bench-validator      # or: .venv/bin/python scripts/bench_validator.py [--rounds N]

Inputs (generated once from scikit-image's real photos, cached under var/bench-validator/):
three 24 MP JPEGs at quality 92, a 24 MP DNG with a full-size embedded JPEG preview, and a 50 MP
DNG (with and without a usable preview) for peak memory.

In the same run, interleaved round by round so machine load hits all alike, it times:
  - validate() on each JPEG, with its per-step breakdown;
  - validate() with the 1600 px preview and the 400 px thumbnail, as ingest runs it;
  - the naive approach: full decode, then imagehash pHash + dHash on the full image;
  - the decode floor: Pillow's 1/8 draft decode alone;
  - validate() on the DNG, against decoding its own embedded preview at the same scale.
Peak RSS is measured in a fresh subprocess per file. The last line is the summary:

    validator: median_ms=... vs_naive=... vs_decode_floor=... raw_vs_preview_decode=...
    with_previews_vs_floor=...
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# One core, as the target says: no BLAS or OpenMP threads, and the process pinned to one CPU.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import imagehash  # noqa: E402
import numpy as np  # noqa: E402
import rawpy  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from PIL import Image  # noqa: E402
from testimages import make_dng, make_frame, make_jpeg  # noqa: E402

from pipeline.core.validator import validate  # noqa: E402

CACHE = ROOT / "var" / "bench-validator"
JPEG_SEEDS = (101, 102, 103)
PREVIEW_EDGES = (1600, 400)


def _cached(name: str, build: Callable[[], bytes]) -> Path:
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(build())
        temporary.rename(path)
    return path


@functools.cache
def _frame_50mp() -> NDArray[np.uint8]:
    return make_frame(202, 8688, 5792)


def _inputs() -> tuple[list[Path], Path, Path, Path]:
    jpegs = [
        _cached(f"jpeg24_{seed}.jpg", functools.partial(make_jpeg, seed)) for seed in JPEG_SEEDS
    ]
    dng24 = _cached("raw24_preview.dng", lambda: make_dng(make_frame(201)))
    dng50 = _cached("raw50_preview.dng", lambda: make_dng(_frame_50mp()))
    dng50_bare = _cached("raw50_no_preview.dng", lambda: make_dng(_frame_50mp(), preview=False))
    return jpegs, dng24, dng50, dng50_bare


def _naive(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    imagehash.phash(image)
    imagehash.dhash(image)


def _decode_floor(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (image.size[0] // 8, image.size[1] // 8))
    image.load()


def _preview_decoder(dng: bytes) -> Callable[[], None]:
    """Decode the DNG's embedded preview at the scale the validator decodes it at (1/2)."""
    raw = rawpy.RawPy()
    raw.open_buffer(io.BytesIO(dng))
    preview = raw.extract_thumb().data
    assert isinstance(preview, bytes), "the DNG's preview is a JPEG"
    raw.close()

    def decode() -> None:
        image = Image.open(io.BytesIO(preview))
        image.draft("RGB", (image.size[0] // 2, image.size[1] // 2))
        image.load()

    return decode


def _ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1e3


# ru_maxrss survives fork and exec (it would report this benchmark's own peak), so the probe
# reads VmHWM, the high-water mark of its own address space, from /proc.
_RSS_PROBE = """
import sys
sys.path.insert(0, {root!r})
from pipeline.core.validator import validate
def high_water_mib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024
baseline = high_water_mib()
with open({path!r}, "rb") as upload:
    result = validate(upload, filename={name!r}, preview_edges=(1600, 400))
print(baseline, high_water_mib(), result.width, result.height, *sorted(result.timings_ms))
"""


def _peak_rss(path: Path) -> str:
    probe = _RSS_PROBE.format(root=str(ROOT), path=str(path), name=path.name)
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    baseline, peak, width, height = (int(value) for value in output[:4])
    mib = path.stat().st_size / 2**20
    return (
        f"{path.name}: {width}x{height} ({width * height / 1e6:.0f} MP, {mib:.1f} MiB file), "
        f"peak RSS {peak} MiB (interpreter with imports: {baseline} MiB), steps {output[4:]}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    jpeg_paths, dng24_path, dng50_path, dng50_bare_path = _inputs()
    jpegs = [path.read_bytes() for path in jpeg_paths]
    dng24 = dng24_path.read_bytes()
    decode_preview = _preview_decoder(dng24)
    for path in jpeg_paths:
        print(f"input {path.name}: {path.stat().st_size / 2**20:.2f} MiB")
    print(f"input {dng24_path.name}: {dng24_path.stat().st_size / 2**20:.1f} MiB")

    times: dict[str, list[float]] = {}
    steps: dict[str, list[float]] = {}
    preview_steps: dict[str, list[float]] = {}
    for data in [*jpegs, dng24]:
        validate(data)  # warm caches and lazy imports once before timing
    for _ in range(args.rounds):
        for index, data in enumerate(jpegs):
            started = time.perf_counter()
            result = validate(data)
            times.setdefault("validate", []).append((time.perf_counter() - started) * 1e3)
            times.setdefault(f"validate[{index}]", []).append(times["validate"][-1])
            for step, value in result.timings_ms.items():
                steps.setdefault(step, []).append(value)
            started = time.perf_counter()
            result = validate(data, preview_edges=PREVIEW_EDGES)
            times.setdefault("validate+previews", []).append((time.perf_counter() - started) * 1e3)
            for step, value in result.timings_ms.items():
                preview_steps.setdefault(step, []).append(value)
            times.setdefault("decode_floor", []).append(_ms(functools.partial(_decode_floor, data)))
            times.setdefault("naive", []).append(_ms(functools.partial(_naive, data)))
        times.setdefault("dng_validate", []).append(_ms(lambda: validate(dng24)))
        times.setdefault("dng_preview_decode", []).append(_ms(decode_preview))

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n24 MP JPEG q92, {args.rounds} rounds x {len(jpegs)} images, medians on one core:")
    for index in range(len(jpegs)):
        print(f"  validate {jpeg_paths[index].name}: {median[f'validate[{index}]']:.1f} ms")
    print(f"  validate (all):              {median['validate']:.1f} ms")
    for step, values in steps.items():
        print(f"    step {step:<22} {statistics.median(values):.1f} ms")
    print(f"  validate + 1600/400 previews: {median['validate+previews']:.1f} ms")
    for step, values in preview_steps.items():
        print(f"    step {step:<22} {statistics.median(values):.1f} ms")
    print(f"  naive (full decode + imagehash on full image): {median['naive']:.1f} ms")
    print(f"  decode floor (Pillow 1/8 draft decode alone):  {median['decode_floor']:.1f} ms")
    print("24 MP DNG with a full-size embedded JPEG preview:")
    print(f"  validate: {median['dng_validate']:.1f} ms")
    print(f"  its own preview decoded at the same 1/2 scale: {median['dng_preview_decode']:.1f} ms")
    print("Peak RSS, each in a fresh process (validate with 1600/400 previews):")
    for path in (jpeg_paths[0], dng24_path, dng50_path, dng50_bare_path):
        print(f"  {_peak_rss(path)}")
    print(
        f"validator: median_ms={median['validate']:.1f} "
        f"vs_naive={median['naive'] / median['validate']:.2f} "
        f"vs_decode_floor={median['validate'] / median['decode_floor']:.2f} "
        f"raw_vs_preview_decode={median['dng_validate'] / median['dng_preview_decode']:.2f} "
        f"with_previews_vs_floor={median['validate+previews'] / median['decode_floor']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
