"""Damage that a JPEG decoder papers over, and data hidden after the image.

libjpeg decodes a file whose scan data is damaged without complaint to Pillow: it warns (Pillow
drops the warning), fills what it cannot decode with mid-grey, and carries on. Such a frame
would be measured as sharp and well exposed. Two kinds of evidence are checked here, both cheap:

- the structure of the scan: restart markers (RST0..RST7) must follow each other in order, as
  many as the frame's restart interval calls for; a removed or repeated stretch breaks that;
- the decoded pixels: blocks of exactly mid-grey (128, 128, 128), libjpeg's fill for data it
  could not decode, covering a stretch of the frame (a camera never records a flat block of that
  exact value in all three channels across several neighbouring blocks); or, when the scan data
  ends in a run of zero bytes, a frame whose last rows of blocks are all one exact colour, which
  is what padding after cut-short scan data decodes to.

Bit flips that leave the data decodable are found by libjpeg's own corrupt-data warnings, which
the decode reports (pipeline/core/decode.py); these checks run first because they can say which
part of the picture is lost.

Bytes after the end-of-image marker (a second embedded image, or a JPEG+ZIP polyglot) are not
damage: the image is whole. They are reported so the photo can carry a note.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops

_SOF_MARKERS: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB})
_SOS: Final = 0xDA
_DRI: Final = 0xDD
_EOI: Final = 0xD9
# Inside entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte), RSTn or 0xFF (fill);
# anything else is the next marker.
_NEXT_MARKER: Final = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
_RESTART: Final = re.compile(rb"\xff[\xd0-\xd7]")
# Trailing bytes up to this many, all zero or 0xFF, are padding some cameras write: not data.
_PADDING_SLACK: Final = 4096
# Grey fill covering at least this share of the frame's blocks, or at least a whole row of
# blocks, is damage.
_MIN_GREY_SHARE: Final = 0.002
_GREY: Final = 128
_GREY_LUT: Final = [255 if level == _GREY else 0 for level in range(256)]
# Scan data that ends in this many zero bytes was padded out after it was cut short; its
# decode ends in rows of blocks all of one exact colour (a black night sky or a blown white one
# can be that flat too, which is why the zero bytes are required as well).
_MIN_ZERO_PADDING: Final = 64
_MIN_FLAT_TAIL_BLOCK_ROWS: Final = 4
_FLAT_TOLERANCE: Final = 3


@dataclass(frozen=True)
class JpegLayout:
    end: int  # offset just past the end-of-image marker (or the file's length if there is none)
    trailing_bytes: int  # bytes after `end` that are not padding
    restart_problem: str  # a plain-words sentence, or "" when the restart markers are sound
    block_rows: int  # the scale-free block grid of the frame: 8 x 8 pixels per block
    block_cols: int
    padded_scan: bool  # the last scan's data ends in a long run of zero bytes


def _restart_problem(
    data: bytes, start: int, end: int, interval: int, mcus: int, progressive: bool
) -> str:
    indices = [data[m.start() + 1] - 0xD0 for m in _RESTART.finditer(data, start, end)]
    out_of_order = sum(
        1 for before, after in itertools.pairwise(indices) if after != (before + 1) % 8
    )
    if out_of_order:
        return (
            f"The image data is damaged: {out_of_order} of its restart markers are out of "
            "sequence, so part of the picture is missing or misplaced."
        )
    expected = -(-mcus // interval) - 1
    if not progressive and indices and len(indices) != expected:
        return (
            f"The image data is damaged: it holds {len(indices)} restart markers where the "
            f"picture needs {expected}, so part of it is missing."
        )
    return ""


def inspect_jpeg(data: bytes) -> JpegLayout:
    """Walk the JPEG's markers: where the image ends, and whether its restart markers add up."""
    position, interval, progressive = 2, 0, False
    width = height = 0
    mcu_w = mcu_h = 8
    problem = ""
    first_scan = True
    padded = False
    end = len(data)
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == _EOI:
            end = position + 2
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if marker in _SOF_MARKERS and len(segment) >= 6:
            progressive = marker in (0xC2, 0xC6, 0xCA)
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            factors = segment[6 : 6 + 3 * segment[5]]
            mcu_w = 8 * max((factors[i + 1] >> 4 for i in range(0, len(factors), 3)), default=1)
            mcu_h = 8 * max((factors[i + 1] & 15 for i in range(0, len(factors), 3)), default=1)
        elif marker == _DRI and len(segment) >= 2:
            interval = int.from_bytes(segment[:2], "big")
        position += 2 + length
        if marker == _SOS:
            if not progressive and not interval and data.endswith(b"\xff\xd9"):
                # The common camera file: one scan, no restart markers, the end-of-image marker
                # last. Scanning megabytes of entropy data for the next marker is then needless
                # (a second image appended whole would go unnoted: it ends the same way).
                scan_end = len(data) - 2
            else:
                found = _NEXT_MARKER.search(data, position)
                scan_end = found.start() if found else len(data)
            if first_scan and interval and width and height and not problem:
                mcus = -(-width // mcu_w) * -(-height // mcu_h)
                problem = _restart_problem(data, position, scan_end, interval, mcus, progressive)
            first_scan = False
            tail_start = max(position, scan_end - _MIN_ZERO_PADDING)
            padded = data.count(0, tail_start, scan_end) == _MIN_ZERO_PADDING
            position = scan_end
    tail = data[end:]
    padding = len(tail) <= _PADDING_SLACK and not tail.strip(b"\x00\xff")
    return JpegLayout(
        end=end,
        trailing_bytes=0 if padding else len(tail),
        restart_problem=problem,
        block_rows=-(-height // 8),
        block_cols=-(-width // 8),
        padded_scan=padded,
    )


def fill_problem(image: Image.Image, luma: Image.Image, layout: JpegLayout) -> str:
    """A plain-words sentence if the decoded `image` (RGB, at any DCT scale, stored layout;
    `luma` is its luminance) holds libjpeg's mid-grey fill over a stretch of the frame, or ends
    in a flat run of one colour over several rows of blocks (scan data cut short and padded
    out); "" otherwise."""
    if layout.block_cols == 0 or layout.block_rows == 0:
        return ""
    width, height = image.size
    # One cell per 8 x 8 block of the original: a cell of the decode is `step` pixels square.
    step = max(1, round(width / layout.block_cols))
    rows, cols = height // step, width // step
    if rows == 0 or cols == 0:
        return ""
    box = (0, 0, cols * step, rows * step)
    whole = box == (0, 0, width, height)
    # Luminance first: mid-grey has luminance 128, and one band costs a third of three. Only
    # if enough blocks pass is the colour checked.
    cells = _uniform_blocks([luma if whole else luma.crop(box)], step)
    if _grey_stretch(cells) and image.mode == "RGB":
        cells &= _uniform_blocks((image if whole else image.crop(box)).split(), step)
    filled = int(cells.sum())
    if _grey_stretch(cells):
        share = filled / (rows * cols)
        return (
            "The image data is damaged: "
            f"{'part' if share >= 0.005 else 'a small part'} of the picture "
            f"({max(share, 0.001):.1%} of it) could not be decoded and shows as flat grey."
        )
    flat_rows = _flat_tail_rows(np.asarray(image)) if layout.padded_scan else 0
    if flat_rows >= _MIN_FLAT_TAIL_BLOCK_ROWS * step:
        return (
            "The image data is damaged: it was cut short, and the bottom "
            f"{max(flat_rows / height, 0.01):.0%} of the picture is one flat colour."
        )
    return ""


def _uniform_blocks(bands: Sequence[Image.Image], step: int) -> NDArray[np.bool_]:
    """Per block of `step` x `step` pixels: whether every band is exactly mid-grey throughout.
    In Pillow: 255 where a band is mid-grey, the minimum over bands, then each block's mean,
    which is 255 only for a block grey throughout (numpy is several times slower here)."""
    masks = [band.point(_GREY_LUT) for band in bands]
    mask = masks[0]
    for other in masks[1:]:
        mask = ImageChops.darker(mask, other)
    blocks: NDArray[np.bool_] = np.asarray(mask.reduce(step) if step > 1 else mask) == 255
    return blocks


def _grey_stretch(cells: NDArray[np.bool_]) -> bool:
    rows, cols = cells.shape
    return int(cells.sum()) >= max(_MIN_GREY_SHARE * rows * cols, 4) or bool(
        cells.all(axis=1).any()
    )


def _flat_tail_rows(pixels: NDArray[np.uint8]) -> int:
    """How many rows at the bottom of `pixels` (rows, cols, 3) are one colour, to within the
    IDCT's rounding."""
    reference = np.median(pixels[-1], axis=0)
    spread = np.abs(pixels.astype(np.int16) - reference.astype(np.int16)).max(axis=(1, 2))
    uneven = np.flatnonzero(spread > _FLAT_TOLERANCE)
    return len(spread) - (int(uneven[-1]) + 1 if len(uneven) else 0)
