"""Loupe tiles, rendered from the original on first request and kept in storage, keyed by photo
and tile: `tiles/<photo uid>/<tile size>/<column>-<row>.jpg`. One decode writes every tile of the
photo, so panning around a frame costs one decode, once."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from culling import tiles
from gallery.models import Photo
from pipeline.core.errors import UnreadableImage

logger = logging.getLogger(__name__)
RENDER_LOCK_S = 120


class NoSuchTile(LookupError):
    """Outside the frame, or the original cannot be decoded; the message is for people."""


def tile_key(photo: Photo, column: int, row: int) -> str:
    return f"tiles/{photo.uid.hex}/{tiles.TILE}/{column}-{row}.jpg"


def photo_tile(*, photo: Photo, column: int, row: int) -> bytes:
    """The 100 % tile at (column, row) of the photo as displayed."""
    grid = tiles.TileGrid(photo.width or 0, photo.height or 0)
    if grid.width and grid.height and not grid.contains(column, row):
        raise NoSuchTile("that tile is outside the photo")
    key = tile_key(photo, column, row)
    if default_storage.exists(key):
        with default_storage.open(key, "rb") as cached:
            return bytes(cached.read())
    with default_storage.open(str(photo.original.name), "rb") as original:
        data = original.read()
    try:
        image = tiles.full_resolution(data, filename=photo.original_filename)
    except UnreadableImage as error:
        raise NoSuchTile("the original could not be decoded at full size") from error
    rendered = tiles.cut(image)
    if (column, row) not in rendered:
        raise NoSuchTile("that tile is outside the photo")
    # Requests for neighbouring tiles arrive together: one writes the cache, the others serve
    # what they rendered (storage would keep both copies under different names otherwise).
    lock = f"culling:tiles:{photo.uid.hex}"
    if cache.add(lock, 1, RENDER_LOCK_S):
        try:
            for (c, r), content in rendered.items():
                name = tile_key(photo, c, r)
                if not default_storage.exists(name):
                    default_storage.save(name, ContentFile(content))
        finally:
            cache.delete(lock)
    return rendered[(column, row)]
