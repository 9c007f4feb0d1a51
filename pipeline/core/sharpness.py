"""Sharpness, judged at the frame's viewing scale on its sharpest detailed regions.

The frame is measured as a photographer sees it full screen: its luminance resized to a long
edge of VIEW_LONG_EDGE pixels. Softness of one or two sensor pixels (demosaicing, anti-aliasing
filters, noise reduction, JPEG) is invisible there, while blur a viewer would notice, a few
tenths of a percent of the long edge, spans several pixels. The same threshold then means the
same thing on a 2 MP compact and a 50 MP DSLR. See docs/adr/0003-sharpness-measure.md.

The score is a spectral ratio: in each tile, the energy of the second difference at the viewing
scale divided by the same energy of the tile binned 2x2. A sharp edge keeps energy at the finest
scale, so the ratio is high; blur removes the finest scale first, so it falls. Being a ratio it
does not depend on the scene's contrast or brightness. It is taken along four directions and a
tile counts as sharp as its worst direction, so motion blur (which smears one direction) is
caught too.

Noise adds energy at the finest scale and would make a blurred frame look sharp. The frame's
noise floor (the energy of its least detailed tiles, which is all noise) is subtracted from
every tile at both scales before the ratio is taken.

Motion blur is a box filter along one direction; a box keeps more of the finest scale than a
defocus disk does, so the ratio falls less. What motion blur does do is unbalance the
directions: the detail left along the smear is a small share of the detail across it. The
balance (the weakest direction's fine-scale energy over that of its perpendicular, pooled over
the examined tiles) is reported beside the score. Strongly oriented scenes (blinds, fences) are
unbalanced too, so the verdict lets balance alone make a frame borderline, never rejected.

Only the tiles with the most coarse detail are examined (edges and texture, not sky), and the
score is taken from the best of them: a portrait with a sharp subject and a blurred background
is judged by its subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

VIEW_LONG_EDGE: Final = 1024  # long edge of the viewing-scale copy that sharpness is judged on
TILE: Final = 32  # viewing-scale pixels per tile side
CANDIDATE_FRACTION: Final = 0.08  # share of the tiles examined, the most detailed ones
MIN_CANDIDATES: Final = 8
BEST_FRACTION: Final = 0.25  # the score is the mean over this best share of the candidates
SIGNAL_TO_NOISE: Final = 3.0  # a tile's detail must be this many times the noise floor
NOISE_PERCENTILE: Final = 10.0  # the coarse noise floor: this percentile of tile energies
# A tile whose coarse energy (summed over the four directions, after the noise floor) is below
# this has no detail worth judging: its ratio would measure only noise and JPEG residue.
_MIN_COARSE_ENERGY: Final = 8.0

FloatArray = NDArray[np.float32]
EnergyArray = NDArray[np.float64]


@dataclass(frozen=True)
class SharpnessMetrics:
    score: float  # spectral ratio of the sharpest regions at the viewing scale; the verdict uses it
    laplacian_variance: float  # fine-scale second-difference energy there (8-bit units^2)
    tiles_examined: int
    scale: float  # viewing-scale pixels per original pixel
    noise: float = 0.0  # noise floor at the viewing scale (RMS second difference, 8-bit levels)
    # Fine-scale detail along the weakest direction over that across it, 0..1 (1: balanced).
    balance: float = 1.0


def viewing_copy(luma: Image.Image) -> Image.Image:
    """`luma` ("L") resized so its long edge is VIEW_LONG_EDGE; smaller images stay as they are
    (upscaling adds no detail)."""
    width, height = luma.size
    long_edge = max(width, height)
    if long_edge <= VIEW_LONG_EDGE:
        return luma
    ratio = VIEW_LONG_EDGE / long_edge
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    # Box filter: an area average, like the eye's (and JPEG's DCT scaling); and it is the cheapest.
    return luma.resize(size, Image.Resampling.BOX)


def _directional_energy(image: FloatArray, cells: tuple[int, int], tile: int) -> EnergyArray:
    """Mean squared second difference per tile along four directions (horizontal, vertical,
    both diagonals), for the (rows, cols) tiles of side `tile`: shape (rows * cols, 4). The
    frame's outermost pixels have no neighbours and count as zero."""
    rows, cols = cells
    height, width = rows * tile, cols * tile
    region = image[:height, :width]
    centre = 2.0 * region[1:-1, 1:-1]
    neighbours = (
        (region[1:-1, :-2], region[1:-1, 2:]),
        (region[:-2, 1:-1], region[2:, 1:-1]),
        (region[:-2, :-2], region[2:, 2:]),
        (region[:-2, 2:], region[2:, :-2]),
    )
    squared = np.zeros((height, width), dtype=np.float32)
    energies = []
    for before, after in neighbours:
        inner = squared[1:-1, 1:-1]
        np.add(before, after, out=inner)
        inner -= centre
        np.square(inner, out=inner)
        # Rows of tiles first, then columns: far quicker than one reduction over two axes.
        per_tile = squared.reshape(rows, tile, width).sum(axis=1).reshape(rows, cols, tile).sum(2)
        energies.append(per_tile.ravel() / np.float32(tile * tile))
    stacked: EnergyArray = np.stack(energies, axis=1).astype(np.float64)
    return stacked


def _bin2(image: FloatArray) -> FloatArray:
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    even, odd = image[0:height:2, :width], image[1:height:2, :width]
    binned: FloatArray = (even[:, 0::2] + even[:, 1::2] + odd[:, 0::2] + odd[:, 1::2]) * np.float32(
        0.25
    )
    return binned


def _tile_energy(luma: FloatArray, indices: NDArray[np.intp], cols: int, tile: int) -> EnergyArray:
    """`_directional_energy` of the tiles at `indices` only (row-major tile numbers)."""
    rows = luma.shape[0] // tile
    grid = luma[: rows * tile, : cols * tile].reshape(rows, tile, cols, tile)
    stack = grid[indices // cols, :, indices % cols, :]  # (n, tile, tile)
    centre = 2.0 * stack[:, 1:-1, 1:-1]
    neighbours = (
        (stack[:, 1:-1, :-2], stack[:, 1:-1, 2:]),
        (stack[:, :-2, 1:-1], stack[:, 2:, 1:-1]),
        (stack[:, :-2, :-2], stack[:, 2:, 2:]),
        (stack[:, :-2, 2:], stack[:, 2:, :-2]),
    )
    energies = [
        np.square(before + after - centre).sum(axis=(1, 2)) / np.float32(tile * tile)
        for before, after in neighbours
    ]
    stacked: EnergyArray = np.stack(energies, axis=1).astype(np.float64)
    return stacked


def _noise_floor(energy: EnergyArray, usable: NDArray[np.bool_]) -> EnergyArray:
    """Per direction, the energy of the least detailed usable tiles: what noise alone gives."""
    if usable.sum() < MIN_CANDIDATES:
        return np.zeros(energy.shape[1])
    floor: EnergyArray = np.percentile(energy[usable], NOISE_PERCENTILE, axis=0)
    return floor


def measure_sharpness(view: Image.Image, scale: float) -> SharpnessMetrics:
    """Measure `view`, the viewing-scale luminance ("L") copy from `viewing_copy`."""
    luma = np.asarray(view, dtype=np.float32)
    tile = TILE if min(luma.shape) >= 2 * TILE else max(4, min(luma.shape) // 2 // 2 * 2)
    rows, cols = luma.shape[0] // tile, luma.shape[1] // tile
    if rows == 0 or cols == 0:
        return SharpnessMetrics(score=0.0, laplacian_variance=0.0, tiles_examined=0, scale=scale)
    coarse = _directional_energy(_bin2(luma), (rows, cols), tile // 2)
    # Tiles at the clipping levels hold no noise (it is clipped away): they would pull the floor
    # down to zero.
    means = (
        luma[: rows * tile, : cols * tile]
        .reshape(rows, tile, cols * tile)
        .mean(axis=1)
        .reshape(rows, cols, tile)
        .mean(axis=2)
    )
    usable = ((means > 8.0) & (means < 247.0)).ravel()
    coarse_floor = _noise_floor(coarse, usable)
    coarse_signal = np.maximum(coarse - coarse_floor, 0.0)
    detail = coarse_signal.sum(axis=1)
    count = max(MIN_CANDIDATES, round(len(detail) * CANDIDATE_FRACTION))
    candidates = np.argsort(detail)[::-1][:count]
    # Detail must stand clear of the noise: ranking tiles by energy alone would pick, in a noisy
    # blurred frame, the tiles where the noise happens to be strongest.
    enough = max(_MIN_COARSE_ENERGY, SIGNAL_TO_NOISE * float(coarse_floor.sum()))
    candidates = candidates[detail[candidates] >= enough]
    # The fine scale costs four times the coarse one, so it is measured only where it is used:
    # on the candidates, and on the least detailed usable tiles, whose energy is the noise floor.
    flat = np.flatnonzero(usable)
    flat = flat[np.argsort(coarse[flat].sum(axis=1))][: max(MIN_CANDIDATES, len(flat) // 5)]
    fine = np.zeros_like(coarse)
    measured = np.union1d(candidates, flat)
    fine[measured] = _tile_energy(luma, measured, cols, tile)
    fine_floor = np.median(fine[flat], axis=0) if len(flat) >= MIN_CANDIDATES else np.zeros(4)
    fine_signal = np.maximum(fine - fine_floor, 0.0)
    noise = float(np.sqrt(fine_floor.mean()))
    if len(candidates) == 0:
        return SharpnessMetrics(
            score=0.0, laplacian_variance=0.0, tiles_examined=0, scale=scale, noise=noise
        )
    # The sharpest candidates judge the frame (a sharp subject before a soft background).
    overall = fine_signal[candidates].sum(axis=1) / np.maximum(detail[candidates], 1.0)
    best = candidates[np.argsort(overall)[::-1][: max(1, round(len(candidates) * BEST_FRACTION))]]
    # Per direction over those tiles, and the frame is as sharp as its blurriest direction:
    # motion blur smears one direction only. Pooling the tiles gives every direction edges to
    # measure, where a single tile's straight edge would have none along itself.
    per_direction = fine_signal[best].sum(axis=0) / np.maximum(coarse_signal[best].sum(axis=0), 1.0)
    pooled = fine_signal[candidates].sum(axis=0)
    # Pairs of perpendicular directions: horizontal / vertical, and the two diagonals.
    balance = min(
        min(pooled[0], pooled[1]) / max(pooled[0], pooled[1], 1e-9),
        min(pooled[2], pooled[3]) / max(pooled[2], pooled[3], 1e-9),
    )
    return SharpnessMetrics(
        score=float(per_direction.min()),
        laplacian_variance=float(np.mean(fine[best].sum(axis=1))),
        tiles_examined=len(candidates),
        scale=scale,
        noise=noise,
        balance=float(balance),
    )
