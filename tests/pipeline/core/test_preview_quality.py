"""The cheaper preview rendering (docs/adr/0012-previews-from-the-analysis-decode.md) still looks
like the Lanczos rendering it replaced, on every labelled real camera photo.

SSIM on luminance with the reference settings of Wang et al. (2004): an 11-tap Gaussian window
of sigma 1.5. 1.0 is identical; two JPEG encodes of the same pixels at quality 85 score about
0.99.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from skimage.metrics import structural_similarity

from pipeline.core.decode import Decoded, DecodeLimits, decode, orient
from pipeline.core.sharpness import VIEW_LONG_EDGE
from pipeline.core.validator import DEFAULT_THRESHOLDS, validate
from tests.support.paths import REAL_PHOTOS, real_photo_labels

PREVIEW, THUMBNAIL = 1600, 400
MIN_THUMBNAIL_SSIM = 0.98


def lanczos_previews(decoded: Decoded) -> dict[int, bytes]:
    """How previews were rendered before: Lanczos at every step, Huffman-optimised JPEG."""
    rendered: dict[int, bytes] = {}
    source = decoded.image
    for edge in (PREVIEW, THUMBNAIL):
        ratio = edge / max(source.size)
        if ratio < 1:
            size = (max(1, round(source.size[0] * ratio)), max(1, round(source.size[1] * ratio)))
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        buffer = io.BytesIO()
        orient(source, decoded.orientation).save(buffer, "JPEG", quality=85, optimize=True)
        rendered[edge] = buffer.getvalue()
    return rendered


def luma(jpeg: bytes) -> NDArray[np.uint8]:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"))


def ssim(first: bytes, second: bytes) -> float:
    a, b = luma(first), luma(second)
    assert a.shape == b.shape
    return float(
        structural_similarity(
            a, b, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


@pytest.mark.parametrize("name", sorted(real_photo_labels()))
def test_thumbnail_matches_the_lanczos_rendering(name: str) -> None:
    data = (REAL_PHOTOS / name).read_bytes()
    result = validate(data, filename=name, preview_edges=(PREVIEW, THUMBNAIL))
    # The decode validate() made: the one its previews are rendered from.
    limits = DecodeLimits(
        max_pixels=DEFAULT_THRESHOLDS.max_pixels,
        min_preview_long_edge=DEFAULT_THRESHOLDS.min_preview_long_edge,
        min_long_edge=max(VIEW_LONG_EDGE, PREVIEW),
    )
    reference = lanczos_previews(decode(data, filename=name, limits=limits))

    assert ssim(result.previews[THUMBNAIL], reference[THUMBNAIL]) >= MIN_THUMBNAIL_SSIM
    # The 1600 px preview is resampled with a shorter filter: a little softer, never a
    # different picture.
    assert ssim(result.previews[PREVIEW], reference[PREVIEW]) >= 0.9
