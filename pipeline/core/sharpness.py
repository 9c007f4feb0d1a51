"""Sharpness, judged on the sharpest detailed regions of the analysis image.

The score is a spectral ratio: in each candidate tile, the Laplacian energy at the analysis scale
divided by the Laplacian energy of the same tile binned 2x2. A sharp edge keeps energy at the
finest scale, so the ratio is high; any blur removes the finest scale first, so it falls. Being a
ratio it does not depend on the scene's contrast or brightness, which an absolute Laplacian
variance does.

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
CANDIDATES: Final = 48  # tiles examined, chosen by coarse detail
BEST_FRACTION: Final = 0.25  # the score is the mean over this best fraction of candidates
# Below this coarse Laplacian energy a tile is flat: its ratio would only measure noise.
_MIN_COARSE_ENERGY: Final = 4.0

_LUMA: Final = np.array([0.299, 0.587, 0.114], dtype=np.float32)

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class SharpnessMetrics:
    score: float  # the spectral ratio of the sharpest regions; the verdict compares this
    laplacian_variance: float  # fine-scale Laplacian energy in those regions (8-bit units^2)
    tiles_examined: int
    scale: float  # analysis pixels per original pixel


def _laplacian_energy(luma: FloatArray) -> float:
    lap = (
        luma[1:-1, :-2] + luma[1:-1, 2:] + luma[:-2, 1:-1] + luma[2:, 1:-1] - 4.0 * luma[1:-1, 1:-1]
    )
    return float(np.mean(lap * lap))


def _bin2(luma: FloatArray) -> FloatArray:
    h, w = luma.shape[0] // 2 * 2, luma.shape[1] // 2 * 2
    binned: FloatArray = luma[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return binned


def _detail_map(small: Image.Image, cells: tuple[int, int], tile_in_small: int) -> FloatArray:
    """Coarse gradient energy per tile, from the small image."""
    luma = np.asarray(small.convert("L"), dtype=np.float32)
    rows, cols = cells
    luma = luma[: rows * tile_in_small, : cols * tile_in_small]
    gradient = np.zeros_like(luma)
    gradient[:, :-1] += np.abs(np.diff(luma, axis=1))
    gradient[:-1, :] += np.abs(np.diff(luma, axis=0))
    energy: FloatArray = gradient.reshape(rows, tile_in_small, cols, tile_in_small).sum(axis=(1, 3))
    return energy


def measure_sharpness(image: Image.Image, small: Image.Image, scale: float) -> SharpnessMetrics:
    """`image` is the RGB analysis image; `small` is the same picture reduced by a power of two."""
    width, height = image.size
    factor = max(1, round(width / small.size[0]))
    tile_in_small = max(1, TILE // factor)
    rows, cols = height // TILE, width // TILE
    if rows == 0 or cols == 0:
        return _whole_image(image, scale)
    detail = _detail_map(small, (rows, cols), tile_in_small).ravel()
    order = np.argsort(detail)[::-1][:CANDIDATES]
    ratios: list[float] = []
    energies: list[float] = []
    for index in order:
        row, col = divmod(int(index), cols)
        box = (col * TILE, row * TILE, (col + 1) * TILE, (row + 1) * TILE)
        luma = np.asarray(image.crop(box), dtype=np.float32) @ _LUMA
        coarse = _laplacian_energy(_bin2(luma))
        if coarse < _MIN_COARSE_ENERGY:
            continue
        fine = _laplacian_energy(luma)
        ratios.append(fine / coarse)
        energies.append(fine)
    if not ratios:
        return SharpnessMetrics(
            score=0.0, laplacian_variance=0.0, tiles_examined=len(order), scale=scale
        )
    best = np.argsort(ratios)[::-1][: max(1, round(len(ratios) * BEST_FRACTION))]
    return SharpnessMetrics(
        score=float(np.mean([ratios[i] for i in best])),
        laplacian_variance=float(np.mean([energies[i] for i in best])),
        tiles_examined=len(order),
        scale=scale,
    )


def _whole_image(image: Image.Image, scale: float) -> SharpnessMetrics:
    """Images smaller than one tile: the whole frame is the only region."""
    luma = np.asarray(image, dtype=np.float32) @ _LUMA
    if min(luma.shape) < 6:
        return SharpnessMetrics(score=0.0, laplacian_variance=0.0, tiles_examined=0, scale=scale)
    coarse = _laplacian_energy(_bin2(luma))
    fine = _laplacian_energy(luma)
    score = fine / coarse if coarse >= _MIN_COARSE_ENERGY else 0.0
    return SharpnessMetrics(score=score, laplacian_variance=fine, tiles_examined=1, scale=scale)
