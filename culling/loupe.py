"""Loupe tiles, rendered from the original on first request and kept in storage, keyed by photo
and tile: `tiles/<photo uid>/<tile size>/<column>-<row>.jpg`. One decode writes every tile of the
photo, so panning around a frame costs one decode, once."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from culling import tiles
from gallery.models import Photo
from pipeline.core.errors import UnreadableImage

RENDER_LOCK_S = 120
# How long a tile request waits for another request rendering the same photo.
RENDER_WAIT_S = 30.0
POLL_S = 0.1


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
    lock = f"culling:tiles:{photo.uid.hex}"
    # The loupe asks for neighbouring tiles at once: the first request decodes the original and
    # writes every tile; the others wait until it is done (and never read a tile half written)
    # rather than decode it again. The lock is shared by every web process where CACHE_URL is
    # set, as in production.
    if cache.get(lock) is None and default_storage.exists(key):
        return _read(key)
    if cache.add(lock, 1, RENDER_LOCK_S):
        return _render(photo, column, row, lock)
    waited = 0.0
    while waited < RENDER_WAIT_S and cache.get(lock) is not None:
        time.sleep(POLL_S)
        waited += POLL_S
    if default_storage.exists(key):
        return _read(key)
    return _render(photo, column, row, lock)


def _read(key: str) -> bytes:
    with default_storage.open(key, "rb") as cached:
        return bytes(cached.read())


def _render(photo: Photo, column: int, row: int, lock: str) -> bytes:
    try:
        with default_storage.open(str(photo.original.name), "rb") as original:
            data = original.read()
        image = tiles.full_resolution(data, filename=photo.original_filename)
        rendered = tiles.cut(image)
        if (column, row) not in rendered:
            raise NoSuchTile("that tile is outside the photo")
        for (c, r), content in rendered.items():
            name = tile_key(photo, c, r)
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(content))
    except UnreadableImage as error:
        raise NoSuchTile("the original could not be decoded at full size") from error
    finally:
        cache.delete(lock)
    return rendered[(column, row)]
