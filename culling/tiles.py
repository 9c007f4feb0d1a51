"""Full-resolution tiles of an original for the loupe: the image decoded at 100 % (a RAW's
full-size embedded preview, else LibRaw's demosaic), turned right side up, cut into squares.
Bytes in, JPEG bytes out; storage and caching are the services' job."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

from pipeline.core.decode import DecodeLimits, decode, orient

TILE = 512
# Close to the original's pixels (4:4:4, high quality) at a fraction of PNG's size.
TILE_QUALITY = 92
_FULL_SIZE = DecodeLimits(max_pixels=200_000_000, min_preview_long_edge=0, min_long_edge=10**6)


@dataclass(frozen=True)
class TileGrid:
    width: int
    height: int

    @property
    def columns(self) -> int:
        return math.ceil(self.width / TILE)

    @property
    def rows(self) -> int:
        return math.ceil(self.height / TILE)

    def contains(self, column: int, row: int) -> bool:
        return 0 <= column < self.columns and 0 <= row < self.rows


def full_resolution(data: bytes, *, filename: str) -> Image.Image:
    """The original at 100 %, as displayed. Raises pipeline.core.errors.UnreadableImage."""
    decoded = decode(data, filename=filename, limits=_FULL_SIZE)
    image = orient(decoded.image, decoded.orientation).convert("RGB")
    if image.size != (decoded.width, decoded.height):
        # A RAW without a full-size preview is demosaiced at half size: shown at the frame's
        # size so the loupe's coordinates stay those of the photo.
        image = image.resize((decoded.width, decoded.height), Image.Resampling.LANCZOS)
    return image


def cut(image: Image.Image) -> dict[tuple[int, int], bytes]:
    """Every tile of `image`, keyed by (column, row), as JPEG."""
    grid = TileGrid(*image.size)
    tiles = {}
    for row in range(grid.rows):
        for column in range(grid.columns):
            box = (
                column * TILE,
                row * TILE,
                min((column + 1) * TILE, grid.width),
                min((row + 1) * TILE, grid.height),
            )
            buffer = io.BytesIO()
            image.crop(box).save(buffer, "JPEG", quality=TILE_QUALITY, subsampling=0)
            tiles[(column, row)] = buffer.getvalue()
    return tiles
