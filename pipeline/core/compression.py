"""How hard a JPEG was compressed, estimated from its quantisation tables.

libjpeg (and most software built on it) scales the standard tables of the JPEG specification
(Annex K) by a quality from 1 to 100. The estimate is the quality whose scaled tables come
closest to the file's own: exact for files libjpeg wrote, and the nearest equivalent for a
camera's own tables.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Final

from PIL import Image, UnidentifiedImageError

# JPEG specification, Annex K, tables K.1 (luminance) and K.2 (chrominance). Compared as sorted
# values, so the order the file stores them in (zig-zag or natural) does not matter.
_LUMINANCE: Final = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMINANCE: Final = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *(99,) * 32,
)  # fmt: skip


def _scaled(table: Sequence[int], quality: int) -> list[int]:
    """libjpeg's jpeg_quality_scaling and jpeg_add_quant_table, with baseline limits."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return sorted(min(255, max(1, (value * scale + 50) // 100)) for value in table)


_SCALED: Final = {
    quality: (_scaled(_LUMINANCE, quality), _scaled(_CHROMINANCE, quality))
    for quality in range(1, 101)
}


def quality_from_tables(tables: Sequence[Sequence[int]]) -> int | None:
    """The libjpeg quality (1-100) whose tables best match `tables` (luminance first, then
    chrominance if present); None without a 64-entry luminance table."""
    if not tables or len(tables[0]) != 64:
        return None
    luma = sorted(tables[0])
    chroma = sorted(tables[1]) if len(tables) > 1 and len(tables[1]) == 64 else None

    def error(quality: int) -> int:
        standard_luma, standard_chroma = _SCALED[quality]
        total = sum(abs(a - b) for a, b in zip(luma, standard_luma, strict=True))
        if chroma is not None:
            total += sum(abs(a - b) for a, b in zip(chroma, standard_chroma, strict=True))
        return total

    # Ties go to the higher quality: it is the smaller claim about the loss.
    return min(range(100, 0, -1), key=error)


def jpeg_quality(data: bytes) -> int | None:
    """The estimated quality of a JPEG file, or None when `data` is not a readable JPEG. Reads
    only the headers."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "JPEG":
                    return None
                found = getattr(image, "quantization", None) or {}
                tables = [list(found[index]) for index in sorted(found)]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return quality_from_tables(tables)
