"""Sharpness measures compared by `make calibrate` (docs/adr/0003-sharpness-measure.md).

Each takes the decoded luminance of a frame and returns a score where higher means sharper:

- `ratio_view`: the validator's own measure, the noise-floored spectral ratio on the
  viewing-scale copy (long edge 1024);
- `ratio_native`: the same ratio on the frame at half its native resolution (the scale the
  validator used before: blur is judged in absolute sensor pixels);
- `edge_width`: Marziliano et al.'s edge width at the viewing scale, as the reciprocal of the
  median width (in viewing-scale pixels) of the strongest vertical edges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline.core.sharpness import measure_sharpness, viewing_copy

_EDGE_SAMPLES = 4000


def ratio_view(luma: Image.Image) -> float:
    return measure_sharpness(viewing_copy(luma), 1.0).score


def ratio_native(luma: Image.Image) -> float:
    half = luma.reduce(2) if max(luma.size) >= 2048 else luma
    return measure_sharpness(half, 1.0).score


def edge_width(luma: Image.Image) -> float:
    """1 / median width of the strongest vertical edges (from the local extrema on each side of
    the edge along its row, as Marziliano et al. define it)."""
    image = np.asarray(viewing_copy(luma), dtype=np.float32)
    gradient = np.zeros_like(image)
    gradient[:, 1:-1] = (image[:, 2:] - image[:, :-2]) / 2
    magnitude = np.abs(gradient)
    # Edge pixels: local maxima of the horizontal gradient, among the strongest 2 % of pixels.
    peak = np.zeros_like(magnitude, dtype=bool)
    peak[:, 1:-1] = (magnitude[:, 1:-1] >= magnitude[:, :-2]) & (
        magnitude[:, 1:-1] > magnitude[:, 2:]
    )
    strong = magnitude >= max(np.percentile(magnitude, 98), 4.0)
    rows, cols = np.nonzero(peak & strong)
    if len(rows) == 0:
        return 0.0
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(rows), size=min(_EDGE_SAMPLES, len(rows)), replace=False)
    widths = [
        _width(image[row], int(col), gradient[row, col])
        for row, col in zip(rows[chosen], cols[chosen], strict=True)
    ]
    return 1.0 / float(np.median(widths))


def _width(row: NDArray[np.float32], col: int, slope: float) -> int:
    """Distance between the extrema either side of an edge at `col` along `row`."""
    sign = 1.0 if slope > 0 else -1.0
    left = col
    while left > 0 and sign * (row[left] - row[left - 1]) > 0:
        left -= 1
    right = col
    while right < len(row) - 1 and sign * (row[right + 1] - row[right]) > 0:
        right += 1
    return right - left


CANDIDATES: dict[str, Callable[[Image.Image], float]] = {
    "ratio_view": ratio_view,
    "ratio_native": ratio_native,
    "edge_width": edge_width,
}
