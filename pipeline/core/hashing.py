"""Perceptual hashes (pHash and dHash) in the project's one integer encoding."""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

from pipeline.core.hashcode import to_signed64


def _as_int(hash_value: object) -> int:
    bits = np.asarray(getattr(hash_value, "hash", None), dtype=bool).ravel()
    if bits.size != 64:
        raise ValueError(f"expected a 64-bit hash, got {bits.size} bits")
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return to_signed64(value)


def phash(image: Image.Image) -> int:
    """64-bit DCT hash; both hashes shrink the image to 32x32 or 9x8 first, so a downscaled
    copy (the analysis image) gives the full-resolution value or within a bit or two of it."""
    return _as_int(imagehash.phash(image))


def dhash(image: Image.Image) -> int:
    return _as_int(imagehash.dhash(image))
