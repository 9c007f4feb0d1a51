"""Realistic, labelled test frames built from the real photos that ship with scikit-image.

Used by the validator's calibration (`scripts/calibrate.py`), its benchmark
(`scripts/bench_validator.py`) and any other benchmark that needs camera-sized frames offline.

A frame is a mosaic of real photographs (each resampled by a random factor between 1.0 and 1.4,
so the mosaic holds pixel-level detail the way a camera frame does), a defect applied to the
scene the way optics or exposure would, then sensor-like signal-dependent noise, then JPEG.
Everything is deterministic in the seed.

`make_dng` writes a decodable DNG the way cameras lay it out: IFD0 holds a small RGB thumbnail and
the DNG tags, its SubIFDs hold the Bayer CFA data (RGGB, 12-bit) and, optionally, a full-size
JPEG preview.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Callable
from enum import StrEnum

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from skimage import data

FloatImage = NDArray[np.float32]


class Defect(StrEnum):
    SHARP = "sharp"
    BLUR1 = "blur_sigma1"
    BLUR2 = "blur_sigma2"
    BLUR4 = "blur_sigma4"
    MOTION = "motion_blur"
    PLUS2EV = "plus_2ev"
    MINUS2EV = "minus_2ev"
    NOISE = "heavy_noise"
    SHALLOW_DOF = "shallow_dof"


def _sources() -> list[NDArray[np.uint8]]:
    grey = [data.camera(), data.coins(), data.moon(), data.grass(), data.gravel(), data.brick()]
    colour = [
        data.astronaut(),
        data.chelsea(),
        data.coffee(),
        data.rocket(),
        *data.stereo_motorcycle()[:2],
    ]
    return [np.ascontiguousarray(c[..., :3]) for c in colour] + [
        np.repeat(g[..., None], 3, axis=2) for g in grey
    ]


_SOURCES: list[NDArray[np.uint8]] = []


def make_scene(seed: int, width: int, height: int) -> FloatImage:
    """A width x height RGB mosaic of real photos, float32 in 0..255."""
    if not _SOURCES:
        _SOURCES.extend(_sources())
    rng = np.random.default_rng(seed)
    canvas = np.empty((height, width, 3), np.float32)
    y = 0
    while y < height:
        x = 0
        row_height = height - y
        while x < width:
            source = _SOURCES[int(rng.integers(len(_SOURCES)))]
            factor = float(rng.uniform(1.0, 1.4))
            size = (round(source.shape[1] * factor), round(source.shape[0] * factor))
            tile = np.asarray(Image.fromarray(source).resize(size, Image.Resampling.LANCZOS))
            if rng.random() < 0.5:
                tile = tile[:, ::-1]
            h, w = min(tile.shape[0], height - y), min(tile.shape[1], width - x)
            canvas[y : y + h, x : x + w] = tile[:h, :w]
            row_height = min(row_height, h)
            x += w
        y += row_height
    return canvas


def gaussian_blur(image: FloatImage, sigma: float) -> FloatImage:
    blurred: FloatImage = ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0))
    return blurred.astype(np.float32)


def motion_blur(image: FloatImage, length: int, angle_deg: float) -> FloatImage:
    """Average of `length` shifted copies along a line: a camera moving during the exposure."""
    angle = np.deg2rad(angle_deg)
    out = np.zeros_like(image)
    for step in range(length):
        offset = step - (length - 1) / 2
        dy, dx = round(offset * np.sin(angle)), round(offset * np.cos(angle))
        out += np.roll(image, (dy, dx), axis=(0, 1))
    out /= length
    return out


def exposure_shift(image: FloatImage, ev: float) -> FloatImage:
    """Scale linear light by 2**ev and clip, as the sensor would."""
    linear = (image / 255.0) ** 2.2
    shifted: FloatImage = np.clip(linear * 2.0**ev, 0.0, 1.0) ** (1 / 2.2) * 255.0
    return shifted.astype(np.float32)


def shallow_dof(image: FloatImage, rng: np.random.Generator) -> FloatImage:
    """A sharp subject (an ellipse around 12% of the frame) on a strongly blurred background."""
    height, width = image.shape[:2]
    background = gaussian_blur(image, 6.0)
    cy = height * float(rng.uniform(0.35, 0.65))
    cx = width * float(rng.uniform(0.35, 0.65))
    ry, rx = height * 0.22, width * 0.16
    yy, xx = np.ogrid[:height, :width]
    inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    # A soft transition, as a real focus fall-off would have.
    mask = np.clip((1.3 - inside) / 0.3, 0.0, 1.0).astype(np.float32)[..., None]
    composed: FloatImage = image * mask + background * (1.0 - mask)
    return composed


def add_sensor_noise(
    image: FloatImage, rng: np.random.Generator, *, heavy: bool = False
) -> NDArray[np.uint8]:
    """Signal-dependent (shot) plus constant (read) noise, then quantise to 8 bits."""
    shot, read = (0.6, 25.0) if heavy else (0.04, 1.0)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noisy = image + noise * np.sqrt(shot * np.clip(image, 0.0, 255.0) + read)
    quantised: NDArray[np.uint8] = np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
    return quantised


def apply_defect(scene: FloatImage, defect: Defect, seed: int) -> NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    transforms: dict[Defect, Callable[[FloatImage], FloatImage]] = {
        Defect.SHARP: lambda s: s,
        Defect.NOISE: lambda s: s,
        Defect.BLUR1: lambda s: gaussian_blur(s, 1.0),
        Defect.BLUR2: lambda s: gaussian_blur(s, 2.0),
        Defect.BLUR4: lambda s: gaussian_blur(s, 4.0),
        Defect.MOTION: lambda s: motion_blur(
            s, int(rng.integers(8, 14)), float(rng.uniform(0, 180))
        ),
        Defect.PLUS2EV: lambda s: exposure_shift(s, 2.0),
        Defect.MINUS2EV: lambda s: exposure_shift(s, -2.0),
        Defect.SHALLOW_DOF: lambda s: shallow_dof(s, rng),
    }
    return add_sensor_noise(transforms[defect](scene), rng, heavy=defect is Defect.NOISE)


def encode_jpeg(pixels: NDArray[np.uint8], quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def make_frame(
    seed: int,
    width: int = 6000,
    height: int = 4000,
    defect: Defect = Defect.SHARP,
) -> NDArray[np.uint8]:
    return apply_defect(make_scene(seed, width, height), defect, seed)


def make_jpeg(
    seed: int,
    width: int = 6000,
    height: int = 4000,
    defect: Defect = Defect.SHARP,
    quality: int = 92,
) -> bytes:
    """A camera-like JPEG: 24 MP at quality 92 is about 6.5 MiB."""
    return encode_jpeg(make_frame(seed, width, height, defect), quality)


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
