"""Sharpness, judged on the sharpest detailed regions of the analysis image.

The score is a spectral ratio: in each candidate tile, the energy of the second difference at
the analysis scale divided by the same energy of the tile binned 2x2. A sharp edge keeps energy
at the finest scale, so the ratio is high; any blur removes the finest scale first, so it falls.
Being a ratio it does not depend on the scene's contrast or brightness, which an absolute
Laplacian variance does. The ratio is taken along four directions and a tile counts as sharp as
its worst direction, so motion blur (which smears one direction only) is caught as well.

Only the tiles with the most detail at the coarse scale are examined (edges and texture, not
sky), and the score is taken from the best of them. A portrait with a sharp subject and a blurred
background is therefore judged by its subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

TILE: Final = 64  # analysis pixels per tile side
CANDIDATES: Final = 32  # tiles examined, chosen by coarse detail
BEST_FRACTION: Final = 0.25  # the score is the mean over this best fraction of candidates
# Below this coarse energy (summed over the four directions) a tile is flat: its ratio would
# only measure noise.
_MIN_COARSE_ENERGY: Final = 4.0

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class SharpnessMetrics:
    score: float  # the spectral ratio of the sharpest regions; the verdict compares this
    laplacian_variance: float  # fine-scale second-difference energy there (8-bit units^2)
    tiles_examined: int
    scale: float  # analysis pixels per original pixel


def _directional_energy(tiles: FloatArray) -> NDArray[np.float64]:
    """Mean squared second difference of each tile in a (n, h, w) stack, along four
    directions (horizontal, vertical, both diagonals): shape (n, 4)."""
    centre = tiles[:, 1:-1, 1:-1]
    neighbours = (
        (tiles[:, 1:-1, :-2], tiles[:, 1:-1, 2:]),
        (tiles[:, :-2, 1:-1], tiles[:, 2:, 1:-1]),
        (tiles[:, :-2, :-2], tiles[:, 2:, 2:]),
        (tiles[:, :-2, 2:], tiles[:, 2:, :-2]),
    )
    energies = [
        np.mean((before + after - 2.0 * centre) ** 2, axis=(1, 2), dtype=np.float64)
        for before, after in neighbours
    ]
    stacked: NDArray[np.float64] = np.stack(energies, axis=1)
    return stacked


def _bin2(tiles: FloatArray) -> FloatArray:
    n, h, w = tiles.shape[0], tiles.shape[1] // 2 * 2, tiles.shape[2] // 2 * 2
    quads = tiles[:, :h, :w].reshape(n, h // 2, 2, w // 2, 2)
    binned: FloatArray = (
        quads[:, :, 0, :, 0] + quads[:, :, 0, :, 1] + quads[:, :, 1, :, 0] + quads[:, :, 1, :, 1]
    ) * np.float32(0.25)
    return binned


def _detail_map(small: Image.Image, cells: tuple[int, int], tile_in_small: int) -> FloatArray:
    """Coarse gradient energy per tile, from the small luminance image."""
    luma = np.asarray(small, dtype=np.float32)
    rows, cols = cells
    luma = luma[: rows * tile_in_small, : cols * tile_in_small]
    gradient = np.zeros_like(luma)
    gradient[:, :-1] += np.abs(np.diff(luma, axis=1))
    gradient[:-1, :] += np.abs(np.diff(luma, axis=0))
    energy: FloatArray = gradient.reshape(rows, tile_in_small, cols, tile_in_small).sum(axis=(1, 3))
    return energy


def measure_sharpness(image: Image.Image, small: Image.Image, scale: float) -> SharpnessMetrics:
    """`image` is the RGB analysis image; `small` is its luminance ("L") reduced by a power of
    two."""
    width, height = image.size
    factor = max(1, round(width / small.size[0]))
    tile_in_small = max(1, TILE // factor)
    rows, cols = height // TILE, width // TILE
    if rows == 0 or cols == 0:
        return _whole_image(image, scale)
    detail = _detail_map(small, (rows, cols), tile_in_small).ravel()
    order = np.argsort(detail)[::-1][:CANDIDATES]
    boxes = [
        (col * TILE, row * TILE, (col + 1) * TILE, (row + 1) * TILE)
        for row, col in (divmod(int(index), cols) for index in order)
    ]
    # Green carries most of the luminance detail and costs no colour conversion.
    tiles = np.stack([np.asarray(image.crop(box))[:, :, 1] for box in boxes]).astype(np.float32)
    return _score(tiles, scale)


def _score(tiles: FloatArray, scale: float) -> SharpnessMetrics:
    coarse = _directional_energy(_bin2(tiles))
    fine = _directional_energy(tiles)
    detailed = coarse.sum(axis=1) >= _MIN_COARSE_ENERGY
    if not detailed.any():
        return SharpnessMetrics(
            score=0.0, laplacian_variance=0.0, tiles_examined=len(tiles), scale=scale
        )
    # A tile is as sharp as its blurriest direction: motion blur smears one direction only.
    ratios = np.min(fine[detailed] / np.maximum(coarse[detailed], 1e-6), axis=1)
    best = np.argsort(ratios)[::-1][: max(1, round(len(ratios) * BEST_FRACTION))]
    return SharpnessMetrics(
        score=float(np.mean(ratios[best])),
        laplacian_variance=float(np.mean(fine[detailed].sum(axis=1)[best])),
        tiles_examined=len(tiles),
        scale=scale,
    )


def _whole_image(image: Image.Image, scale: float) -> SharpnessMetrics:
    """Images smaller than one tile: the whole frame is the only region."""
    luma = np.asarray(image)[:, :, 1].astype(np.float32)
    if min(luma.shape) < 6:
        return SharpnessMetrics(score=0.0, laplacian_variance=0.0, tiles_examined=0, scale=scale)
    return _score(luma[None], scale)
