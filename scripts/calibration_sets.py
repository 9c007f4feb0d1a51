"""The derived calibration set: real camera originals, blurred, re-exposed or damaged.

Every derivation works on the original at its native resolution (never an upscaled mosaic) and
is sized relative to the frame, so "0.3 % blur" means the same thing on a 2 MP compact and on a
22 MP DSLR. The blur extent is the blur *radius* as a fraction of the long edge:

- disk (defocus): a uniform disk of that radius;
- gaussian: sigma = radius / 2, the same per-axis spread as the disk;
- motion: a line of length 2 x radius (the disk's diameter), in one of three directions.

Exposure shifts are applied in linear light (sRGB decoded, multiplied by 2^EV, clipped,
re-encoded), as a camera would have recorded them. Corrupt files damage the entropy-coded scan
data of the original JPEG bytes: bit flips, a removed restart interval, or the scan cut short
and padded out to its original length.
"""

from __future__ import annotations

import io
import json
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage, signal

pillow_heif.register_heif_opener()

BLUR_FRACTIONS: Final = (0.0015, 0.003, 0.006)
EV_SHIFTS: Final = (-2.5, 2.5)
JPEG_QUALITY: Final = 92


class BlurKind(StrEnum):
    DISK = "disk"
    GAUSSIAN = "gaussian"
    MOTION = "motion"


class CorruptKind(StrEnum):
    BIT_FLIPS = "bit_flips"
    RESTART_REMOVED = "restart_removed"
    TRUNCATED_PADDED = "truncated_padded"


def _disk(radius: float) -> NDArray[np.float32]:
    half = int(np.ceil(radius))
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    # Anti-aliased edge: a pixel straddling the rim counts in proportion to how far inside it is.
    kernel: NDArray[np.float32] = np.clip(radius + 0.5 - np.hypot(x, y), 0.0, 1.0).astype(
        np.float32
    )
    kernel /= kernel.sum()
    return kernel


def _line(length: float, direction: int) -> NDArray[np.float32]:
    """A motion-blur line: direction 0 horizontal, 1 vertical, 2 diagonal."""
    half = int(np.ceil(length / 2))
    size = 2 * half + 1
    kernel = np.zeros((size, size), np.float32)
    steps = np.linspace(-length / 2, length / 2, max(2, int(np.ceil(length * 4))))
    for t in steps:
        if direction == 0:
            dx, dy = t, 0.0
        elif direction == 1:
            dx, dy = 0.0, t
        else:
            dx, dy = t / np.sqrt(2), t / np.sqrt(2)
        kernel[round(half + dy), round(half + dx)] += 1.0
    kernel /= kernel.sum()
    return kernel


def blur(
    rgb: NDArray[np.uint8], kind: BlurKind, fraction: float, variant: int
) -> NDArray[np.uint8]:
    """`rgb` blurred by `kind` with radius `fraction` of its long edge."""
    radius = fraction * max(rgb.shape[:2])
    image = rgb.astype(np.float32)
    if kind is BlurKind.GAUSSIAN:
        out = ndimage.gaussian_filter(image, sigma=(radius / 2, radius / 2, 0), mode="reflect")
    else:
        kernel = _disk(radius) if kind is BlurKind.DISK else _line(2 * radius, variant % 3)
        pad = kernel.shape[0] // 2
        padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        out = signal.fftconvolve(padded, kernel[:, :, None], mode="valid", axes=(0, 1))
    result: NDArray[np.uint8] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return result


def _to_linear(encoded: NDArray[np.float64]) -> NDArray[np.float64]:
    linear: NDArray[np.float64] = np.where(
        encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4
    )
    return linear


def _to_srgb(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    encoded: NDArray[np.float64] = np.where(
        linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055
    )
    return encoded


def shift_ev(rgb: NDArray[np.uint8], ev: float) -> NDArray[np.uint8]:
    """`rgb` re-exposed by `ev` stops in linear light (a per-level table: exact and quick)."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    shifted = np.clip(_to_linear(levels) * 2.0**ev, 0.0, 1.0)
    table = np.clip(np.rint(_to_srgb(shifted) * 255.0), 0, 255).astype(np.uint8)
    result: NDArray[np.uint8] = table[rgb]
    return result


def encode_like(rgb: NDArray[np.uint8], original: Image.Image) -> bytes:
    """JPEG of `rgb` carrying the original's Exif (so orientation and camera stay)."""
    buffer = io.BytesIO()
    exif = original.info.get("exif", b"")
    Image.fromarray(rgb).save(buffer, "JPEG", quality=JPEG_QUALITY, exif=exif)
    return buffer.getvalue()


def _scan_span(data: bytes) -> tuple[int, int]:
    """Byte range of the first scan's entropy-coded data (after SOS, before the next marker
    that is not a restart marker)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("not a well-formed JPEG")
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:
            start = position + 2 + length
            end = start
            while end + 1 < len(data):
                if data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8)):
                    break
                end += 1
            return start, end
        position += 2 + length
    raise ValueError("no scan found")


def _restart_offsets(data: bytes, start: int, end: int) -> list[int]:
    return [i for i in range(start, end - 1) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]


def corrupt(data: bytes, kind: CorruptKind, seed: int) -> bytes:
    """`data` (a JPEG) with its scan data damaged by `kind`; the headers stay intact, so the
    file still opens and decodes."""
    rng = random.Random(seed)
    start, end = _scan_span(data)
    # Damage starts in the middle third of the scan, so a visible part of the frame is wrong.
    low, high = start + (end - start) // 3, start + 2 * (end - start) // 3
    damaged = bytearray(data)
    if kind is CorruptKind.BIT_FLIPS:
        for _ in range(8):
            at = rng.randrange(low, high)
            damaged[at] ^= 1 << rng.randrange(8)
        return bytes(damaged)
    if kind is CorruptKind.RESTART_REMOVED:
        restarts = [i for i in _restart_offsets(data, low, high)]
        if len(restarts) >= 3:
            first = rng.randrange(len(restarts) - 2)
            cut_from, cut_to = restarts[first], restarts[first + 2]
        else:
            # No restart markers: remove a span of scan data of the same order of size.
            cut_from = rng.randrange(low, high)
            cut_to = min(high, cut_from + max(64, (end - start) // 50))
        return bytes(damaged[:cut_from] + damaged[cut_to:])
    cut = rng.randrange(low, high)
    return bytes(damaged[:cut]) + b"\x00" * (end - cut) + data[end:]


# --- the sets, as files on disk -------------------------------------------------------------

# The shared folder beside the checkout (a worktree's and the main checkout's are the same).
REAL: Final = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "real-photos"


@dataclass(frozen=True)
class Sample:
    """One file of a calibration set. `group` is the label (real), or what was done (derived)."""

    path: Path
    group: str
    source: str  # the real original's file name
    camera: str


def real_samples() -> list[Sample]:
    labels = json.loads((REAL / "labels.json").read_text())
    return [
        Sample(
            path=REAL / entry["file"],
            group=entry["label"],
            source=entry["file"],
            camera=" ".join(filter(None, (entry.get("make"), entry.get("model")))) or "unknown",
        )
        for entry in labels
    ]


def _derived_jobs(sample: Sample, index: int, all_kinds: bool) -> list[tuple[str, Path]]:
    stem = Path(sample.source).stem
    kinds = list(BlurKind) if all_kinds else [list(BlurKind)[index % len(BlurKind)]]
    jobs = [
        (f"blur:{kind.value}:{fraction}", Path(f"{stem}__blur_{kind.value}_{fraction}.jpg"))
        for kind in kinds
        for fraction in BLUR_FRACTIONS
    ]
    jobs += [(f"ev:{ev:+}", Path(f"{stem}__ev_{ev:+}.jpg")) for ev in EV_SHIFTS]
    if sample.path.suffix.lower() in (".jpg", ".jpeg"):
        jobs += [
            (f"corrupt:{kind.value}", Path(f"{stem}__{kind.value}.jpg")) for kind in CorruptKind
        ]
    return jobs


def _build(sample: Sample, index: int, recipe: str, path: Path) -> None:
    if path.exists():
        return
    kind, _, argument = recipe.partition(":")
    data = sample.path.read_bytes()
    if kind == "corrupt":
        out = corrupt(data, CorruptKind(argument), seed=index)
    else:
        original = Image.open(io.BytesIO(data))
        rgb = np.asarray(original.convert("RGB"))
        if kind == "blur":
            name, fraction = argument.split(":")
            # The kind went in turn with the index: the direction goes with the next digit.
            rgb = blur(rgb, BlurKind(name), float(fraction), index // len(BlurKind))
        else:
            rgb = shift_ev(rgb, float(argument))
        out = encode_like(rgb, original)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(out)
    temporary.rename(path)


def build_derived(
    directory: Path, samples: list[Sample], all_kinds: bool, workers: int
) -> list[Sample]:
    """Derive from every `keep` original (once; files are cached in `directory`). Unless
    `all_kinds`, each original gets one blur kind, in turn, at every strength."""
    directory.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[Sample, int, str, Path]] = []
    derived: list[Sample] = []
    keep = [s for s in samples if s.group == "keep"]
    for index, sample in enumerate(keep):
        for recipe, name in _derived_jobs(sample, index, all_kinds):
            path = directory / name
            todo.append((sample, index, recipe, path))
            derived.append(
                Sample(path=path, group=recipe, source=sample.source, camera=sample.camera)
            )
    missing = [job for job in todo if not job[3].exists()]
    if missing:
        print(f"deriving {len(missing)} files at native resolution (cached in {directory})")
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, _ in enumerate(pool.map(_build_job, missing), 1):
                print(f"  derived {done}/{len(missing)}", end="\r", flush=True)
        print()
    return derived


def _build_job(job: tuple[Sample, int, str, Path]) -> None:
    _build(*job)
