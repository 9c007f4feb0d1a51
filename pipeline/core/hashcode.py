"""64-bit perceptual hashes (pHash and dHash): computing them, and the one integer encoding
used everywhere.

Hashes are stored as *signed* 64-bit integers (two's complement of the 64 hash bits, first hash
bit = most significant), because that is what PostgreSQL/SQLite BIGINT and DynamoDB numbers
hold without loss. Bit operations always go through the unsigned form.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

_MASK = (1 << 64) - 1
_SIGN = 1 << 63


def to_signed64(unsigned: int) -> int:
    """Map an unsigned 64-bit hash value onto the signed BIGINT range."""
    if not 0 <= unsigned <= _MASK:
        raise ValueError(f"not a 64-bit unsigned value: {unsigned}")
    return unsigned - (1 << 64) if unsigned & _SIGN else unsigned


def to_unsigned64(signed: int) -> int:
    """Inverse of `to_signed64`."""
    if not -_SIGN <= signed < _SIGN:
        raise ValueError(f"not a 64-bit signed value: {signed}")
    return signed & _MASK


def hamming_distance(a: int, b: int) -> int:
    """Bits that differ between two hashes, in either encoding."""
    return ((a ^ b) & _MASK).bit_count()


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
