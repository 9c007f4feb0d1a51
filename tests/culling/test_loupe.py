"""The loupe's tiles are the original at 100 %: cut from a real camera file, they match its
pixels, and they are kept in storage after the first request."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image, ImageOps
from pytest_django import Settings

from culling import loupe, tiles
from gallery.models import Photo
from pipeline.core.decode import DecodeLimits, decode
from tests.gallery.factories import photo_ingest, photo_uploaded
from tests.support.paths import PHOTOS, REAL_PHOTOS

pytestmark = pytest.mark.django_db
CAMERA_FILE = "Canon_EOS_5D.jpg"


def test_a_tile_is_the_original_at_full_resolution(
    photographer: User, curator_client: Client, settings: Settings
) -> None:
    photo = photo_uploaded(owner=photographer, source=str(REAL_PHOTOS / CAMERA_FILE))
    photo = photo_ingest(photo)
    with Image.open(REAL_PHOTOS / CAMERA_FILE) as opened:
        original = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"), dtype=np.int16)
    assert (photo.width, photo.height) == (original.shape[1], original.shape[0])

    column, row = 2, 1
    response = curator_client.get(f"/admin/cull/photos/{photo.uid}/tiles/{column}/{row}.jpg")
    assert response.status_code == 200
    tile = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), dtype=np.int16)
    size = tiles.TILE
    assert tile.shape == (size, size, 3)
    crop = original[row * size : (row + 1) * size, column * size : (column + 1) * size]
    assert np.abs(tile - crop).mean() < 2.0
    # The same place taken from the 1600 px preview and blown up is visibly not the original.
    assert photo.width and photo.height
    with default_storage.open(str(photo.preview.name), "rb") as preview_file:
        preview = Image.open(preview_file).convert("RGB").resize((photo.width, photo.height))
    blown_up = np.asarray(preview, dtype=np.int16)[
        row * size : (row + 1) * size, column * size : (column + 1) * size
    ]
    assert np.abs(blown_up - crop).mean() > 2 * np.abs(tile - crop).mean()

    assert default_storage.exists(loupe.tile_key(photo, column, row))
    assert default_storage.exists(loupe.tile_key(photo, 0, 0))
    outside = curator_client.get(f"/admin/cull/photos/{photo.uid}/tiles/99/0.jpg")
    assert outside.status_code == 404


def test_a_photographer_gets_no_tiles(photographer: User, client: Client) -> None:
    photo: Photo = photo_ingest(photo_uploaded(owner=photographer))
    client.force_login(photographer)
    assert client.get(f"/admin/cull/photos/{photo.uid}/tiles/0/0.jpg").status_code == 302


def test_a_raw_is_shown_at_its_full_size() -> None:
    data = (PHOTOS / "canon_eos_6d.dng").read_bytes()
    image = tiles.full_resolution(data, filename="canon_eos_6d.dng")
    limits = DecodeLimits(max_pixels=10**9, min_preview_long_edge=0, min_long_edge=10**6)
    decoded = decode(data, filename="canon_eos_6d.dng", limits=limits)
    assert image.size == (decoded.width, decoded.height)
    grid = tiles.TileGrid(*image.size)
    assert len(tiles.cut(image)) == grid.columns * grid.rows
