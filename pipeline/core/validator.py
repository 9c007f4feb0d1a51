"""The technical validator: bytes in, a frozen verdict out.

    result = validate(data, thresholds, filename="IMG_0001.CR3", preview_edges=(1600, 400))

It decodes once (see `decode`), then measures sharpness, exposure and perceptual hashes on that
decode, and renders the requested previews from it, right side up. It raises `UnreadableImage`
and nothing else.
"""

from __future__ import annotations

import dataclasses
import io
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, BinaryIO, Final

from PIL import Image

from pipeline.core.decode import Decoded, DecodeLimits, decode, orient
from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.exposure import ExposureMetrics, measure_exposure
from pipeline.core.hashing import dhash, phash
from pipeline.core.sharpness import SharpnessMetrics, measure_sharpness
from pipeline.core.sniff import ImageFormat

REASON_BLURRY: Final = "blurry"
REASON_OVEREXPOSED: Final = "overexposed"
REASON_UNDEREXPOSED: Final = "underexposed"

# Borderline evidence: the frame still goes on to scoring, carrying the flag so photographers see
# it and curators can filter on it.
FLAG_POSSIBLY_SOFT: Final = "possibly_soft"
FLAG_POSSIBLY_OVEREXPOSED: Final = "possibly_overexposed"
FLAG_POSSIBLY_UNDEREXPOSED: Final = "possibly_underexposed"
# A note about the file, not the picture (for example bytes after the JPEG end marker).
NOTE_TRAILING_DATA: Final = "trailing_data"


class Verdict(StrEnum):
    """`reject` stops the frame before the GPU; `borderline` goes on to scoring, flagged."""

    PASS = "pass"
    BORDERLINE = "borderline"
    REJECT = "reject"

# The measuring copy for exposure and hashes has at least this long edge: enough pixels for area
# fractions, and close enough to the full-resolution image that the hashes agree with it.
_SMALL_LONG_EDGE: Final = 512
_PREVIEW_QUALITY: Final = 85


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds. Defaults come from `make calibrate` (see docs/calibration.md)."""

    min_sharpness: float = 0.42  # spectral ratio of the sharpest regions (see sharpness.py)
    max_highlight_clipped: float = 0.10  # fraction of the frame clipped white
    max_shadow_clipped: float = 0.20  # fraction of the frame clipped black
    min_bright_level: float = 0.60  # luminance of the brightest 1%; below it nothing is bright
    min_preview_long_edge: int = 1024  # smaller RAW embedded previews fall back to the sensor data
    max_pixels: int = 120_000_000  # decompression-bomb guard; a 102 MP medium-format frame fits

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object]) -> Thresholds:
        """Defaults with `overrides` (for example from Django settings) applied and checked."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        defaults = cls()
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            default = getattr(defaults, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"threshold {name} must be a number, got {value!r}")
            if isinstance(default, int) and not isinstance(value, int):
                raise ValueError(f"threshold {name} must be an integer, got {value!r}")
            if value < 0:
                raise ValueError(f"threshold {name} must not be negative, got {value!r}")
            values[name] = value
        return dataclasses.replace(defaults, **values)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class ValidationResult:
    format: ImageFormat
    width: int  # full-resolution size of the original, as displayed (orientation applied)
    height: int
    exif: Exif
    exposure: ExposureMetrics
    sharpness: SharpnessMetrics
    phash: int  # signed 64-bit, see pipeline.core.hashcode
    dhash: int
    verdict: Verdict
    reasons: tuple[str, ...]  # REASON_* codes of a reject, empty otherwise
    flags: tuple[str, ...]  # FLAG_* codes of borderline evidence
    notes: tuple[str, ...]  # NOTE_* codes about the file itself
    timings_ms: Mapping[str, float]
    # Requested long edge -> JPEG bytes, right side up. A preview is never upscaled: when the
    # analysis decode is smaller than the requested edge, the preview has the decode's size.
    previews: Mapping[int, bytes] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def passed(self) -> bool:
        """Whether the frame goes on to the dedup index and the GPU (borderline ones do)."""
        return self.verdict is not Verdict.REJECT

    def metrics_json(self) -> dict[str, object]:
        """The measures as plain JSON values, for the Photo row (previews and EXIF excluded)."""
        exposure = dataclasses.asdict(self.exposure)
        histogram = exposure.pop("luminance_histogram")
        return {
            "format": self.format.value,
            "sharpness": dataclasses.asdict(self.sharpness),
            "exposure": {k: list(v) if isinstance(v, tuple) else v for k, v in exposure.items()},
            "luminance_histogram": list(histogram),
            "timings_ms": dict(self.timings_ms),
        }

    def describe(self) -> str:
        """The verdict in words, for the photographer."""
        if self.passed:
            return "Sharp and well exposed."
        phrases = {
            REASON_BLURRY: f"blurry (sharpness {self.sharpness.score:.2f})",
            REASON_OVEREXPOSED: (
                f"overexposed ({self.exposure.highlight_clipped:.0%} of the frame clipped white)"
            ),
            REASON_UNDEREXPOSED: (
                f"underexposed ({self.exposure.shadow_clipped:.0%} of the frame clipped black, "
                f"brightest tones at {self.exposure.bright_level:.0%})"
            ),
        }
        text = "; ".join(phrases[reason] for reason in self.reasons)
        return text[:1].upper() + text[1:] + "."


def _small_copy(image: Image.Image) -> Image.Image:
    """A power-of-two box reduction. Box averaging is what JPEG's DCT scaling does too, so the
    hashes of this copy match those of the full-resolution image; point sampling would alias."""
    factor = 1
    while max(image.size) // (factor * 2) >= _SMALL_LONG_EDGE:
        factor *= 2
    return image.reduce(factor) if factor > 1 else image


def _verdict(
    sharpness: SharpnessMetrics, exposure: ExposureMetrics, thresholds: Thresholds
) -> tuple[str, ...]:
    reasons: list[str] = []
    if sharpness.score < thresholds.min_sharpness:
        reasons.append(REASON_BLURRY)
    if exposure.highlight_clipped > thresholds.max_highlight_clipped:
        reasons.append(REASON_OVEREXPOSED)
    if (
        exposure.shadow_clipped > thresholds.max_shadow_clipped
        or exposure.bright_level < thresholds.min_bright_level
    ):
        reasons.append(REASON_UNDEREXPOSED)
    return tuple(reasons)


def _previews(decoded: Decoded, edges: tuple[int, ...]) -> dict[int, bytes]:
    rendered: dict[int, bytes] = {}
    source = decoded.image
    # Largest first, so each smaller preview is resampled from the previous one.
    for edge in sorted(set(edges), reverse=True):
        ratio = edge / max(source.size)
        if ratio < 1:
            size = (max(1, round(source.size[0] * ratio)), max(1, round(source.size[1] * ratio)))
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        buffer = io.BytesIO()
        orient(source, decoded.orientation).save(
            buffer, "JPEG", quality=_PREVIEW_QUALITY, optimize=True
        )
        rendered[edge] = buffer.getvalue()
    return rendered


def _read(data: bytes | BinaryIO) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return data.read()
    except OSError as error:
        raise UnreadableImage(
            UnreadableReason.TRUNCATED, f"could not read the upload: {error}"
        ) from error


def validate(
    data: bytes | BinaryIO,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    filename: str = "",
    preview_edges: tuple[int, ...] = (),
) -> ValidationResult:
    """Judge one upload. Raises UnreadableImage (with a reason code) and nothing else."""
    if any(edge <= 0 for edge in preview_edges):
        raise ValueError(f"preview edges must be positive, got {preview_edges}")
    started = time.perf_counter()
    payload = _read(data)
    with warnings.catch_warnings():
        # Pillow warns about every odd tag in a damaged file. The outcome is decided by whether
        # the pixels decode, not by the process's warning filters (under -W error a warning
        # would turn a readable photo into an exception).
        warnings.simplefilter("ignore")
        return _validate(payload, thresholds, filename, preview_edges, started)


def _validate(
    payload: bytes,
    thresholds: Thresholds,
    filename: str,
    preview_edges: tuple[int, ...],
    started: float,
) -> ValidationResult:
    limits = DecodeLimits(
        max_pixels=thresholds.max_pixels, min_preview_long_edge=thresholds.min_preview_long_edge
    )
    decoded = decode(payload, filename=filename, limits=limits)
    timings = dict(decoded.timings_ms)
    try:
        mark = time.perf_counter()
        small = _small_copy(decoded.image)
        # One luminance copy serves the tile search, the histogram and both hashes.
        small_luma = small.convert("L")
        scale = decoded.image.size[0] / max(
            1, decoded.width if decoded.orientation < 5 else decoded.height
        )
        sharpness = measure_sharpness(decoded.image, small_luma, scale)
        timings["sharpness"], mark = (time.perf_counter() - mark) * 1e3, time.perf_counter()
        exposure = measure_exposure(small, small_luma)
        timings["exposure"], mark = (time.perf_counter() - mark) * 1e3, time.perf_counter()
        upright = orient(small_luma, decoded.orientation)
        perceptual, difference = phash(upright), dhash(upright)
        timings["hashes"], mark = (time.perf_counter() - mark) * 1e3, time.perf_counter()
        previews = _previews(decoded, preview_edges)
        if previews:
            timings["previews"] = (time.perf_counter() - mark) * 1e3
    except Exception as error:
        # The contract is UnreadableImage and nothing else. Pillow decodes some formats lazily,
        # so a fault it finds only now is still the file's.
        raise UnreadableImage(UnreadableReason.CORRUPT, str(error), exif=decoded.exif) from error
    timings["total"] = (time.perf_counter() - started) * 1e3
    reasons = _verdict(sharpness, exposure, thresholds)
    return ValidationResult(
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        exif=decoded.exif,
        exposure=exposure,
        sharpness=sharpness,
        phash=perceptual,
        dhash=difference,
        verdict=Verdict.REJECT if reasons else Verdict.PASS,
        reasons=reasons,
        flags=(),
        notes=(),
        timings_ms=MappingProxyType(timings),
        previews=MappingProxyType(previews),
    )
