"""Real photos and their near-duplicates, hashed the way the ingest hashes them (imagehash).

Shared by the dedup tests and `scripts/bench_dedup.py`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import imagehash
import numpy as np
import skimage.data
from PIL import Image, ImageDraw, ImageEnhance

from pipeline.core.hashcode import to_signed64
from tests.support.paths import PHOTOS

SKIMAGE_PHOTOS = (
    "astronaut",
    "camera",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "retina",
    "rocket",
    "brick",
    "grass",
    "gravel",
    "cell",
    "page",
    "text",
)
TESTDATA_PHOTOS = ("beach_sand.jpg", "cat_brown.jpg", "elephants.jpg", "building_mono.jpg")
MAX_SIDE = 512


def hashes(image: Image.Image) -> tuple[int, int]:
    """(pHash, dHash) as signed 64-bit ints."""
    return (
        to_signed64(int(str(imagehash.phash(image)), 16)),
        to_signed64(int(str(imagehash.dhash(image)), 16)),
    )


@cache
def sources() -> dict[str, Image.Image]:
    """Distinct real photos, RGB, at most MAX_SIDE pixels on the long side."""
    out: dict[str, Image.Image] = {}
    for name in SKIMAGE_PHOTOS:
        out[name] = Image.fromarray(np.asarray(getattr(skimage.data, name)())).convert("RGB")
    for name in TESTDATA_PHOTOS:
        with Image.open(PHOTOS / name) as opened:
            opened.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))
            out[name] = opened.convert("RGB")
    for image in out.values():
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return out


def _reencode(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=60)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _resize(image: Image.Image) -> Image.Image:
    return image.resize(
        (max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.BILINEAR
    )


def _crop(image: Image.Image) -> Image.Image:
    dx, dy = round(image.width * 0.03), round(image.height * 0.03)
    return image.crop((dx, dy, image.width, image.height))


def _rotate(image: Image.Image) -> Image.Image:
    return image.rotate(1, resample=Image.Resampling.BICUBIC)


def _watermark(image: Image.Image) -> Image.Image:
    marked = image.copy()
    draw = ImageDraw.Draw(marked)
    draw.text((image.width * 0.6, image.height * 0.9), "(c) parjanya", fill=(255, 255, 255))
    return marked


def _brighten(image: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(1.15)


NEAR_DUPLICATE_EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "reencode": _reencode,
    "resize": _resize,
    "crop3": _crop,
    "rotate1": _rotate,
    "watermark": _watermark,
    "brightness": _brighten,
}
