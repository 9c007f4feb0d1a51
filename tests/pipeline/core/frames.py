"""Decodable DNG files written with tifffile, for the RAW paths of the validator.

Layout as cameras write it: IFD0 holds a small RGB thumbnail and the DNG tags, its SubIFDs hold
the Bayer CFA data (RGGB, 12-bit) and, optionally, a full-size JPEG preview.
"""

from __future__ import annotations

import io
import logging
import struct

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image

# XYZ (D65) -> linear sRGB: the sensor of this fake camera *is* linear sRGB, so LibRaw's colour
# pipeline turns it back into what it was.
_XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
_BLACK, _WHITE = 64, 4095


def _srational(values: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(v for value in values for v in (round(value * 10000), 10000))


def make_dng(
    rgb: NDArray[np.uint8],
    *,
    preview: bool = True,
    orientation: int = 1,
    make: str = "Parjanya",
    model: str = "Test Camera",
) -> bytes:
    """A DNG of `rgb` (height x width x 3, even sides)."""
    height, width = rgb.shape[:2]
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * (_WHITE - _BLACK) + _BLACK
    cfa = np.empty((height, width), np.uint16)
    cfa[0::2, 0::2] = linear[0::2, 0::2, 0]
    cfa[0::2, 1::2] = linear[0::2, 1::2, 1]
    cfa[1::2, 0::2] = linear[1::2, 0::2, 1]
    cfa[1::2, 1::2] = linear[1::2, 1::2, 2]
    thumbnail = np.asarray(Image.fromarray(rgb).resize((max(1, width // 8), max(1, height // 8))))
    dng_tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, f"{make} {model}", True),  # UniqueCameraModel
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),
        (50721, "2i", 9, _srational(_XYZ_TO_SRGB), True),  # ColorMatrix1
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
    ]
    jpeg = b""
    if preview:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
        jpeg = buffer.getvalue()
    out = io.BytesIO()
    with tifffile.TiffWriter(out) as tif:
        tif.write(
            thumbnail,
            photometric="rgb",
            subfiletype=1,
            subifds=2 if preview else 1,
            extratags=dng_tags,
            metadata=None,
        )
        tif.write(
            cfa,
            photometric=32803,  # CFA
            subfiletype=0,
            metadata=None,
            extratags=[
                (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
                (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
                (50714, "H", 1, _BLACK, True),  # BlackLevel
                (50717, "H", 1, _WHITE, True),  # WhiteLevel
            ],
        )
        if preview:
            # tifffile encodes JPEG only through imagecodecs, so the ready JPEG is written as a
            # one-row uncompressed strip and its IFD is then relabelled as a JPEG of the real size.
            tif.write(
                np.frombuffer(jpeg, np.uint8).reshape(1, -1),
                photometric="minisblack",
                subfiletype=1,
                metadata=None,
            )
    data = bytearray(out.getvalue())
    if preview:
        _relabel_preview(data, width, height)
    return bytes(data)


def _relabel_preview(data: bytearray, width: int, height: int) -> None:
    logging.getLogger("tifffile").setLevel(logging.ERROR)
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        subifds = tif.pages.first.subifds
        assert subifds is not None and len(subifds) == 2
        tif.filehandle.seek(subifds[1])
        page = tifffile.TiffPage(tif, index=(0, 1))
        for code, value in ((256, width), (257, height), (259, 7), (262, 6)):  # size, JPEG, YCbCr
            tag = page.tags[code]
            struct.pack_into({3: "<H", 4: "<I"}[int(tag.dtype)], data, tag.valueoffset, value)
