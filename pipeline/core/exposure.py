"""Exposure: clipped highlights and shadows, and where the frame's tones lie.

Clipping alone does not make a bad exposure: a moon on a black sky is mostly black, a subject
before a bright window has a blown background. What a bad exposure does is move the whole tonal
range: underexposed, even the brightest parts of the frame stay dark; overexposed, most of the
frame is blown white and even its darkest parts are light. The levels below describe that range;
the verdict (validator.py) compares them with `Thresholds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from PIL import Image

# 8-bit levels at or beyond which a pixel counts as clipped. JPEG ringing and sensor noise spread
# a blown-out area over the top few levels, so "clipped" is not only 255.
HIGHLIGHT_LEVEL: Final = 250
SHADOW_LEVEL: Final = 5
# The brightest parts of a frame: the luminance below which this share of pixels lie. Small
# enough a share that a moon or a stage light counts as the frame's brightest part.
BRIGHT_PERCENTILE: Final = 0.999
# The darkest parts of a frame, likewise.
DARK_PERCENTILE: Final = 0.01


@dataclass(frozen=True)
class ExposureMetrics:
    highlight_clipped: float  # fraction of pixels whose luminance is >= HIGHLIGHT_LEVEL
    shadow_clipped: float  # fraction of pixels whose luminance is <= SHADOW_LEVEL
    highlight_clipped_rgb: tuple[float, float, float]  # the same per channel, R, G, B
    shadow_clipped_rgb: tuple[float, float, float]
    mean_luminance: float  # 0 (black) .. 1 (white)
    # Luminance at the 99.9th percentile, 0..1. A normal exposure puts something near the top;
    # an underexposed frame has nothing bright, even when little of it is clipped to black.
    bright_level: float
    luminance_histogram: tuple[int, ...]  # 256 bins of 8-bit luminance (ITU-R BT.601)
    # Luminance at the 1st percentile and the median, 0..1 (absent from results stored before
    # they were measured).
    dark_level: float = 0.0
    median_luminance: float = 0.5


def _fractions(bins: list[int]) -> tuple[float, float]:
    total = sum(bins) or 1
    return sum(bins[HIGHLIGHT_LEVEL:]) / total, sum(bins[: SHADOW_LEVEL + 1]) / total


def _percentile(histogram: list[int], share: float) -> float:
    """The 8-bit level (as 0..1) below which `share` of the pixels lie."""
    target = share * (sum(histogram) or 1)
    cumulative = 0
    for level, count in enumerate(histogram):
        cumulative += count
        if cumulative >= target:
            return level / 255.0
    return 1.0


def measure_exposure(image: Image.Image, luma: Image.Image) -> ExposureMetrics:
    """Measure an RGB image and its luminance ("L") copy; a downscaled copy is as good as the
    original for area fractions."""
    channels = image.histogram()
    red, green, blue = (_fractions(channels[i * 256 : (i + 1) * 256]) for i in range(3))
    luminance = luma.histogram()
    total = sum(luminance) or 1
    highlight, shadow = _fractions(luminance)
    return ExposureMetrics(
        highlight_clipped=highlight,
        shadow_clipped=shadow,
        highlight_clipped_rgb=(red[0], green[0], blue[0]),
        shadow_clipped_rgb=(red[1], green[1], blue[1]),
        mean_luminance=sum(level * count for level, count in enumerate(luminance)) / total / 255.0,
        bright_level=_percentile(luminance, BRIGHT_PERCENTILE),
        luminance_histogram=tuple(luminance),
        dark_level=_percentile(luminance, DARK_PERCENTILE),
        median_luminance=_percentile(luminance, 0.5),
    )
