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

from pipeline.core.compression import jpeg_quality
from pipeline.core.decode import Decoded, DecodeLimits, decode, orient
from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.exposure import ExposureMetrics, measure_exposure
from pipeline.core.formats import ImageFormat
from pipeline.core.hashcode import dhash, phash
from pipeline.core.jpeg_integrity import fill_problem, inspect_jpeg
from pipeline.core.sharpness import (
    VIEW_LONG_EDGE,
    SharpnessMetrics,
    measure_sharpness,
    viewing_copy,
)

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

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    BORDERLINE = "borderline"
    REJECT = "reject"


# The measuring copy for exposure and hashes has at least this long edge: enough pixels for area
# fractions, and close enough to the full-resolution image that the hashes agree with it.
_SMALL_LONG_EDGE: Final = 512
_PREVIEW_QUALITY: Final = 85


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds. Defaults come from `make calibrate` (see docs/calibration.md).

    Each limit rejects only well past it; within its margin short of it the frame is borderline
    (scored, with a flag). A rejected good photo is lost unless a curator digs it out, while a
    bad one let through costs a second of GPU time, so the limits sit past every real photo a
    photographer would keep (docs/adr/0004-three-way-verdict.md).
    """

    # Spectral ratio of the sharpest regions at the viewing scale (see sharpness.py).
    min_sharpness: float = 0.24
    sharpness_margin: float = 0.08
    # Possibly soft (camera shake): the weakest direction holds less than this share of the
    # detail across it. Borderline only: strongly oriented scenes are unbalanced too.
    min_direction_balance: float = 0.107
    # Possibly soft (grain): above this noise level (8-bit levels, see SharpnessMetrics.noise)
    # grain can pass for detail, so the sharpness score cannot confirm the frame is sharp.
    # Borderline only: real high-ISO keepers reach it (docs/adr/0003-sharpness-measure.md).
    max_noise_for_pass: float = 10.0
    # Underexposed: even the brightest 0.1 % of the frame is darker than this.
    min_bright_level: float = 0.40
    bright_level_margin: float = 0.10
    # Overexposed (blown): at least this share of the frame clipped white (in two colour
    # channels: one alone is a saturated colour), and its median tone above max_median_luminance.
    # Clipping alone, from the margin below this limit up, makes the frame borderline.
    max_highlight_clipped: float = 0.30
    highlight_margin: float = 0.15
    max_median_luminance: float = 0.80
    median_margin: float = 0.10
    # Possibly overexposed (washed out): even the darkest 1 % of the frame is lighter than this.
    # Borderline only: an evenly toned light surface with nothing clipped looks the same.
    max_dark_level: float = 0.30
    min_preview_long_edge: int = 1024  # smaller RAW embedded previews fall back to the sensor data
    max_pixels: int = 120_000_000  # decompression-bomb guard; a 102 MP medium-format frame fits

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object]) -> Thresholds:
        """Defaults with `overrides` (for example from Django settings) applied and checked."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise ValueError(
                f"unknown threshold(s): {', '.join(unknown)} (known: {', '.join(sorted(fields))})"
            )
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
    # The thresholds the verdict was reached with (describe() states the limits).
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    # Requested long edge -> JPEG bytes, right side up. A preview is never upscaled: when the
    # analysis decode is smaller than the requested edge, the preview has the decode's size.
    previews: Mapping[int, bytes] = field(default_factory=lambda: MappingProxyType({}))
    # Estimated from the quantisation tables (pipeline/core/compression.py); None for other
    # formats.
    jpeg_quality: int | None = None

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
        """The verdict in words, for the photographer: what failed or is doubtful, with the
        measure against its limit, and any note about the file."""
        t, sharpness, exposure = self.thresholds, self.sharpness.score, self.exposure
        rejects = {
            REASON_BLURRY: (
                f"Blurry: sharpness {sharpness:.2f} is below the {t.min_sharpness:.2f} limit."
            ),
            REASON_OVEREXPOSED: f"Overexposed: {_overexposure(exposure)}.",
            REASON_UNDEREXPOSED: (
                f"Underexposed: even the brightest parts of the frame reach only "
                f"{exposure.bright_level:.0%} brightness."
            ),
        }
        doubts = {
            FLAG_POSSIBLY_SOFT: (
                f"Possibly soft: sharpness {sharpness:.2f} is near the "
                f"{t.min_sharpness:.2f} limit; passed, flagged for the curator."
                if sharpness < t.min_sharpness + t.sharpness_margin
                else "Possibly soft: the frame is too grainy to tell detail from noise; passed, "
                "flagged for the curator."
                if self.sharpness.noise > t.max_noise_for_pass
                else "Possibly soft: the detail is smeared in one direction, as camera shake "
                "leaves it; passed, flagged for the curator."
            ),
            FLAG_POSSIBLY_OVEREXPOSED: (
                f"Possibly overexposed: {_overexposure(exposure)}; passed, flagged for the curator."
            ),
            FLAG_POSSIBLY_UNDEREXPOSED: (
                f"Possibly underexposed: the brightest parts of the frame reach only "
                f"{exposure.bright_level:.0%} brightness; passed, flagged for the curator."
            ),
        }
        notes = {
            NOTE_TRAILING_DATA: (
                "The file carries extra data after the end of the picture (for example a "
                "second embedded image or an attached archive); the photo was kept and only "
                "the picture was read."
            ),
        }
        sentences = [rejects[r] for r in self.reasons] + [doubts[f] for f in self.flags]
        if self.verdict is Verdict.PASS:
            sentences.insert(0, "Sharp and well exposed.")
        return " ".join(sentences + [notes[n] for n in self.notes])


def _clipped_white(exposure: ExposureMetrics) -> float:
    """The share of the frame clipped in its second most clipped channel: a proxy for clipped
    white that a saturated red or blue alone does not reach."""
    return sorted(exposure.highlight_clipped_rgb)[1]


def _overexposure(exposure: ExposureMetrics) -> str:
    return (
        f"{_clipped_white(exposure):.0%} of the frame is clipped white, half of it is "
        f"brighter than {exposure.median_luminance:.0%} and its darkest parts are at "
        f"{exposure.dark_level:.0%}"
    )


def _small_copy(image: Image.Image) -> Image.Image:
    """A power-of-two box reduction. Box averaging is what JPEG's DCT scaling does too, so the
    hashes of this copy match those of the full-resolution image; point sampling would alias."""
    factor = 1
    while max(image.size) // (factor * 2) >= _SMALL_LONG_EDGE:
        factor *= 2
    return image.reduce(factor) if factor > 1 else image


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reasons: tuple[str, ...]  # REASON_* of a reject
    flags: tuple[str, ...]  # FLAG_* of borderline evidence (also of a reject's other doubts)


def _severity(evidence: float, limit: float, margin: float) -> Verdict:
    """`evidence` counts up towards a failure: reject at `limit`, borderline `margin` short."""
    if evidence >= limit:
        return Verdict.REJECT
    if evidence >= limit - margin:
        return Verdict.BORDERLINE
    return Verdict.PASS


_ORDER: Final = (Verdict.PASS, Verdict.BORDERLINE, Verdict.REJECT)


def _worse(first: Verdict, second: Verdict) -> Verdict:
    return max(first, second, key=_ORDER.index)


def judge(
    sharpness: SharpnessMetrics, exposure: ExposureMetrics, thresholds: Thresholds
) -> Judgement:
    """The verdict from the measures: pure, so calibration can replay it with other thresholds."""
    t = thresholds
    # Falling measures are negated so every check counts up towards its limit.
    soft = _severity(-sharpness.score, -t.min_sharpness, t.sharpness_margin)
    if sharpness.balance < t.min_direction_balance or sharpness.noise > t.max_noise_for_pass:
        soft = _worse(soft, Verdict.BORDERLINE)
    under = _severity(-exposure.bright_level, -t.min_bright_level, t.bright_level_margin)
    blown = _severity(_clipped_white(exposure), t.max_highlight_clipped, t.highlight_margin)
    bright = _severity(exposure.median_luminance, t.max_median_luminance, t.median_margin)
    # A reject needs both: much clipped white *and* most of the frame bright. A blown window
    # behind a well-exposed subject clips a lot but leaves the median where it was.
    over = Verdict.PASS if blown is Verdict.PASS else Verdict.BORDERLINE
    if blown is Verdict.REJECT and bright is Verdict.REJECT:
        over = Verdict.REJECT
    if exposure.dark_level >= t.max_dark_level:
        over = _worse(over, Verdict.BORDERLINE)
    checks = (
        (soft, REASON_BLURRY, FLAG_POSSIBLY_SOFT),
        (over, REASON_OVEREXPOSED, FLAG_POSSIBLY_OVEREXPOSED),
        (under, REASON_UNDEREXPOSED, FLAG_POSSIBLY_UNDEREXPOSED),
    )
    reasons = tuple(reason for severity, reason, _ in checks if severity is Verdict.REJECT)
    flags = tuple(flag for severity, _, flag in checks if severity is Verdict.BORDERLINE)
    verdict = Verdict.REJECT if reasons else Verdict.BORDERLINE if flags else Verdict.PASS
    return Judgement(verdict=verdict, reasons=reasons, flags=flags)


def _previews(decoded: Decoded, edges: tuple[int, ...]) -> dict[int, bytes]:
    """JPEGs of the analysis decode, largest first, each smaller one resampled from the one
    before. The first step reads every pixel of the decode, so it takes Hamming (one output
    pixel of support, the price of bilinear, sharper); later steps read a quarter of that or
    less and take Lanczos. Encoded without the Huffman-optimising second pass: 1 % larger files
    for half the encoding time (docs/adr/0012-previews-from-the-analysis-decode.md)."""
    rendered: dict[int, bytes] = {}
    source = decoded.image
    resample = Image.Resampling.HAMMING
    for edge in sorted(set(edges), reverse=True):
        ratio = edge / max(source.size)
        if ratio < 1:
            size = (max(1, round(source.size[0] * ratio)), max(1, round(source.size[1] * ratio)))
            source = source.resize(size, resample, reducing_gap=2.0)
            resample = Image.Resampling.LANCZOS
        buffer = io.BytesIO()
        orient(source, decoded.orientation).save(buffer, "JPEG", quality=_PREVIEW_QUALITY)
        rendered[edge] = buffer.getvalue()
    return rendered


def _read(data: bytes | BinaryIO) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return data.read()
    except OSError as error:
        raise UnreadableImage(
            UnreadableReason.TRUNCATED, "The upload could not be read to the end."
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
        max_pixels=thresholds.max_pixels,
        min_preview_long_edge=thresholds.min_preview_long_edge,
        min_long_edge=max((VIEW_LONG_EDGE, *preview_edges)),
    )
    decoded = decode(payload, filename=filename, limits=limits)
    timings = dict(decoded.timings_ms)
    notes: tuple[str, ...] = ()
    quality: int | None = None
    # One luminance copy of the decode serves the damage check and the viewing-scale copy.
    luma = decoded.image.convert("L")
    if decoded.format is ImageFormat.JPEG:
        mark = time.perf_counter()
        layout = inspect_jpeg(payload)
        # The specific findings first (which part of the picture), then libjpeg's own warning.
        problem = (
            layout.restart_problem
            or fill_problem(decoded.image, luma, layout)
            or decoded.scan_damage
        )
        if problem:
            raise UnreadableImage(UnreadableReason.CORRUPT, problem, exif=decoded.exif)
        notes = (NOTE_TRAILING_DATA,) if layout.trailing_bytes else ()
        quality = jpeg_quality(payload)
        timings["integrity"] = (time.perf_counter() - mark) * 1e3
    try:
        mark = time.perf_counter()
        view = viewing_copy(luma)
        scale = view.size[0] / max(1, decoded.width if decoded.orientation < 5 else decoded.height)
        sharpness = measure_sharpness(view, scale)
        small = _small_copy(decoded.image)
        # One luminance copy serves the histogram and both hashes.
        small_luma = small.convert("L")
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
        raise UnreadableImage(
            UnreadableReason.CORRUPT,
            "The picture's data is damaged: it could not be decoded to the end.",
            exif=decoded.exif,
        ) from error
    timings["total"] = (time.perf_counter() - started) * 1e3
    judgement = judge(sharpness, exposure, thresholds)
    return ValidationResult(
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        exif=decoded.exif,
        exposure=exposure,
        sharpness=sharpness,
        phash=perceptual,
        dhash=difference,
        verdict=judgement.verdict,
        reasons=judgement.reasons,
        flags=judgement.flags,
        notes=notes,
        timings_ms=MappingProxyType(timings),
        thresholds=thresholds,
        previews=MappingProxyType(previews),
        jpeg_quality=quality,
    )
