"""Turn upload bytes into one RGB image at the analysis scale, plus metadata.

One decode serves every measure. The caller says how long an edge it needs (the viewing-scale
copy sharpness is judged on, and the largest preview); a JPEG is decoded at the smallest DCT
scale (1/1, 1/2, 1/4 or 1/8) that still gives that, which costs little more than the 1/8
thumbnail decode. Exposure, hashes and previews are derived from this same image, never from a
second decode.

JPEGs are decoded by simplejpeg (libjpeg-turbo, as in Pillow, with the same settings: the pixels
are identical) because it reports libjpeg's warnings about damaged scan data, which Pillow drops
(docs/adr/0005-corrupt-jpeg-detection.md). What simplejpeg does not decode (CMYK and YCCK,
for one) goes to Pillow as before.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import pillow_heif
import rawpy
import simplejpeg
from PIL import ExifTags, Image, TiffImagePlugin

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import (
    EMPTY_EXIF,
    Exif,
    exif_from_cr3,
    exif_from_pillow,
    exif_from_raw_container,
    iter_boxes,
)
from pipeline.core.formats import FORMATS, FORMATS_IN_WORDS, RAW_FORMATS, ImageFormat
from pipeline.core.sniff import SNIFF_BYTES, sniff_format

pillow_heif.register_heif_opener()

# A RAW container whose size allows less than a quarter of a bit per sensor pixel cannot hold
# the sensor data, however it is compressed: its pixels were stripped.
_MIN_RAW_BITS_PER_PIXEL: Final = 0.25
# Below this size a RAW container LibRaw cannot even open is a metadata-only stub.
_RAW_STUB_BYTES: Final = 1 << 20

_DNG_VERSION_TAG: Final = 50706

# libjpeg's warnings (simplejpeg raises them in strict mode) that mean the scan data is damaged:
# the decoder skipped or invented part of the picture. "Corrupt JPEG data: bad ICC marker" is
# about metadata, not pixels. Any other warning or error goes to Pillow, which ignores warnings.
_SCAN_DAMAGE_WARNING: Final = "corrupt jpeg data:"
_NOT_SCAN_DAMAGE: Final = "icc"
_CUT_SHORT_WARNING: Final = "premature end of jpeg file"
SCAN_DAMAGE: Final = "The picture data in this JPEG is damaged: parts of it could not be decoded."

# LibRaw's `flip` to the Exif orientation that displays the image right side up.
_LIBRAW_FLIP_TO_ORIENTATION: Final = {0: 1, 3: 3, 5: 8, 6: 6}

_TRANSPOSE_FOR_ORIENTATION: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int
    min_preview_long_edge: int
    # The decode keeps at least this long an edge (or the full size, if that is smaller).
    min_long_edge: int


@dataclass(frozen=True)
class Decoded:
    format: ImageFormat
    width: int  # full-resolution size as displayed (orientation applied)
    height: int
    exif: Exif
    image: Image.Image  # RGB at the analysis scale, in stored (not yet oriented) layout
    orientation: int  # Exif orientation still to apply to `image` for display
    timings_ms: dict[str, float]
    # A plain-words sentence when the decoder had to skip or fill in damaged JPEG scan data
    # (`image` is then its best effort); "" otherwise.
    scan_damage: str = ""


def orient(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an Exif orientation so the image displays right side up."""
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image.transpose(method) if method is not None else image


def _displayed_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _check_pixels(width: int, height: int, limits: DecodeLimits) -> None:
    if width <= 0 or height <= 0:
        raise UnreadableImage(
            UnreadableReason.CORRUPT,
            f"The file says its picture is {width} x {height} pixels, which no picture can be.",
        )
    if width * height > limits.max_pixels:
        raise UnreadableImage(UnreadableReason.TOO_LARGE, _too_large(width * height, limits))


def _analysis_factor(width: int, height: int, limits: DecodeLimits) -> int:
    """The largest reduction (a power of two, at most 8: JPEG's DCT scales) that keeps the long
    edge at least `limits.min_long_edge`."""
    factor = 1
    while factor < 8 and max(width, height) // (factor * 2) >= limits.min_long_edge:
        factor *= 2
    return factor


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: keep the top 8 bits rather than clipping at 255.
        array = np.asarray(image, dtype=np.uint32) >> 8
        return Image.fromarray(array.astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def _draft_scale(width: int, height: int, factor: int) -> int:
    """The DCT scale Pillow's draft() gives for a request of 1/`factor` of the size: it rounds
    the request up, so an odd edge falls back to the next larger scale (1/1 for factor 2). The
    caller then reduces the rest of the way, exactly as with Pillow, so measurements agree."""
    ratio = min(width // -(-width // factor), height // -(-height // factor))
    return next(scale for scale in (8, 4, 2, 1) if ratio >= scale)


def _decode_jpeg(data: bytes, image: Image.Image, factor: int) -> tuple[Image.Image, str] | None:
    """`data` decoded at the scale Pillow's draft would give, with the damage libjpeg reported
    ("" if none); None for what simplejpeg does not decode, so Pillow does."""
    if image.mode not in ("RGB", "L"):
        return None  # CMYK / YCCK: simplejpeg would hand back ink values, not colours
    width, height = image.size
    scale = _draft_scale(width, height, factor)
    sizing = {
        "min_factor": scale,
        "min_width": -(-width // scale),
        "min_height": -(-height // scale),
    }
    damage = ""
    try:
        pixels = simplejpeg.decode_jpeg(data, "RGB", strict=True, **sizing)
    except ValueError as error:
        message = str(error).lower()
        if _CUT_SHORT_WARNING in message:
            raise _cut_short(ImageFormat.JPEG) from error
        if not message.startswith(_SCAN_DAMAGE_WARNING) or _NOT_SCAN_DAMAGE in message:
            return None
        damage = SCAN_DAMAGE
        # Damaged files only: the best-effort decode, so the pixel checks can say which part.
        try:
            pixels = simplejpeg.decode_jpeg(data, "RGB", strict=False, **sizing)
        except ValueError:
            return None
    return Image.fromarray(pixels, "RGB"), damage


def _too_large(pixels: int, limits: DecodeLimits) -> str:
    return (
        f"The picture has {pixels / 1e6:,.0f} megapixels, more than the "
        f"{limits.max_pixels / 1e6:,.0f}-megapixel limit."
    )


def _cut_short(fmt: ImageFormat | None) -> UnreadableImage:
    kind = f"{fmt.value.upper()} " if fmt is not None else ""
    return UnreadableImage(
        UnreadableReason.TRUNCATED,
        f"The {kind}file ends before its picture does: it was cut short, perhaps by an "
        "interrupted upload or copy.",
    )


def _failure(error: Exception, fmt: ImageFormat | None = None) -> UnreadableImage:
    """The decoder's exception as a reason with a sentence for people. The decoder's own message
    (which may hold a Python repr or a path) only decides which reason it is."""
    if isinstance(error, UnreadableImage):
        return error
    kind = f"{fmt.value.upper()} " if fmt is not None else ""
    if isinstance(error, Image.DecompressionBombError):
        return UnreadableImage(
            UnreadableReason.TOO_LARGE,
            f"The {kind}file declares a picture too large to decode safely.",
        )
    if isinstance(error, MemoryError):
        return UnreadableImage(
            UnreadableReason.TOO_LARGE, "There was not enough memory to decode the picture."
        )
    message = str(error).lower()
    if isinstance(error, EOFError) or "truncated" in message or "end of file" in message:
        return _cut_short(fmt)
    return UnreadableImage(
        UnreadableReason.CORRUPT,
        f"The {kind}file is damaged: its picture data could not be decoded.",
    )


def _open_pillow(data: bytes, fmt: ImageFormat) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=[FORMATS[fmt].pillow_plugin])


def _decode_pillow(data: bytes, fmt: ImageFormat, limits: DecodeLimits) -> Decoded:
    started = time.perf_counter()
    image = _open_pillow(data, fmt)
    if isinstance(image, TiffImagePlugin.TiffImageFile) and _DNG_VERSION_TAG in image.tag_v2:
        # A DNG under a name that does not say so: its IFD0 is only the thumbnail.
        return _decode_raw(data, ImageFormat.DNG, limits)
    width, height = image.size
    _check_pixels(width, height, limits)
    exif = exif_from_pillow(image.getexif())
    opened = time.perf_counter()
    factor = _analysis_factor(width, height, limits)
    damage = ""
    try:
        decoded = _decode_jpeg(data, image, factor) if fmt is ImageFormat.JPEG else None
        if decoded is None:
            if fmt is ImageFormat.JPEG and factor > 1:
                # libjpeg scales in the DCT domain while decoding: a fraction of the work.
                image.draft("RGB", (-(-width // factor), -(-height // factor)))
            image.load()
        else:
            image, damage = decoded
    except Exception as error:
        # Decoders raise many types for bad input (OSError, SyntaxError, ValueError, ...): every
        # one of them means the same to the caller, an unreadable upload.
        failure = _failure(error, fmt)
        failure.exif = exif
        raise failure from error
    orientation = exif.orientation or 1
    if (
        isinstance(image, TiffImagePlugin.TiffImageFile)
        and ExifTags.Base.Orientation not in image.tag_v2
    ):
        # Pillow's TIFF plugin turns the pixels upright while loading (and reports the upright
        # size from the start), then drops the tag.
        orientation = 1
    if fmt is ImageFormat.HEIC:
        # pillow-heif resets the Exif tag to 1, trusting libheif to have applied the container's
        # irot/imir transforms. A file with no such transform still needs its Exif orientation.
        original = image.info.get("original_orientation")
        orientation = original if isinstance(original, int) and 1 <= original <= 8 else 1
        exif = replace(exif, orientation=orientation)
        if _heif_has_transform(data):
            orientation = 1
    analysis = _as_rgb(image)
    if analysis.size == (width, height) and factor > 1:
        analysis = analysis.reduce(factor)
    done = time.perf_counter()
    display_w, display_h = _displayed_size(width, height, orientation)
    return Decoded(
        format=fmt,
        width=display_w,
        height=display_h,
        exif=exif,
        image=analysis,
        orientation=orientation,
        timings_ms={"open": (opened - started) * 1e3, "decode": (done - opened) * 1e3},
        scan_damage=damage,
    )


def _heif_has_transform(data: bytes) -> bool:
    """Whether the HEIF item properties hold a rotation or mirror (irot / imir)."""
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        # `meta` is a full box: four bytes of version and flags precede its children.
        for child, child_start, child_end in iter_boxes(data, start + 4, end):
            if child != b"iprp":
                continue
            for group, group_start, group_end in iter_boxes(data, child_start, child_end):
                if group == b"ipco":
                    kinds = {k for k, _, _ in iter_boxes(data, group_start, group_end)}
                    return bool(kinds & {b"irot", b"imir"})
    return False


def _raw_exif(data: bytes, fmt: ImageFormat) -> Exif:
    if fmt is ImageFormat.CR3:
        return exif_from_cr3(data)
    if fmt is ImageFormat.X3F:
        return EMPTY_EXIF  # neither exifread nor Pillow reads Sigma's container
    return exif_from_raw_container(data)


def _decode_raw(data: bytes, fmt: ImageFormat, limits: DecodeLimits) -> Decoded:
    started = time.perf_counter()
    exif = _raw_exif(data, fmt)
    try:
        return _decode_raw_pixels(data, fmt, limits, exif, started)
    except Exception as error:
        # LibRaw and Pillow (for the preview) fail in many ways; all mean "unreadable".
        failure = _failure(error, fmt)
        if failure.exif is None:
            failure.exif = exif
        raise failure from error


def _decode_raw_pixels(
    data: bytes, fmt: ImageFormat, limits: DecodeLimits, exif: Exif, started: float
) -> Decoded:
    raw = rawpy.RawPy()
    try:
        try:
            raw.open_buffer(io.BytesIO(data))
        except rawpy.LibRawError as error:
            if len(data) < _RAW_STUB_BYTES:
                raise UnreadableImage(
                    UnreadableReason.NO_SENSOR_DATA,
                    f"The {fmt.value.upper()} file ({len(data):,} bytes) holds only metadata: "
                    "its picture data was removed.",
                ) from error
            raise UnreadableImage(
                UnreadableReason.UNSUPPORTED,
                f"The {fmt.value.upper()} file could not be opened: this camera's RAW format "
                "is not supported, or the file is damaged.",
            ) from error
        sizes = raw.sizes
        sensor_pixels = int(sizes.raw_width) * int(sizes.raw_height)
        _check_pixels(int(sizes.raw_width), int(sizes.raw_height), limits)
        if len(data) * 8 < sensor_pixels * _MIN_RAW_BITS_PER_PIXEL:
            raise UnreadableImage(
                UnreadableReason.NO_SENSOR_DATA,
                f"The {fmt.value.upper()} file ({len(data):,} bytes) is too small to hold the "
                f"picture of a {sizes.raw_width} x {sizes.raw_height} sensor: its picture data "
                "was removed.",
            )
        orientation = _LIBRAW_FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
        width, height = _displayed_size(int(sizes.width), int(sizes.height), orientation)
        exif = replace(exif, orientation=exif.orientation or orientation)
        opened = time.perf_counter()
        preview = _embedded_preview(raw, limits)
        if preview is not None:
            image = preview
            source = "decode_preview"
        else:
            # No usable preview: demosaic at half size, which LibRaw does cheaply by taking
            # each 2x2 Bayer block as one pixel. LibRaw has already applied the flip.
            raw.unpack()
            pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            if int(pixels.max()) == int(pixels.min()):
                raise UnreadableImage(
                    UnreadableReason.NO_SENSOR_DATA,
                    "The RAW file's sensor data is blank: every pixel has the same value.",
                )
            image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
            orientation = 1
            source = "demosaic_half"
    finally:
        raw.close()
    done = time.perf_counter()
    return Decoded(
        format=fmt,
        width=width,
        height=height,
        exif=exif,
        image=image,
        orientation=orientation,
        timings_ms={"open": (opened - started) * 1e3, source: (done - opened) * 1e3},
    )


def _embedded_preview(raw: rawpy.RawPy, limits: DecodeLimits) -> Image.Image | None:
    """The embedded JPEG preview at the analysis scale, if it is large enough to judge."""
    try:
        thumb = raw.extract_thumb()
    except rawpy.LibRawError:
        return None
    if thumb.format != rawpy.ThumbFormat.JPEG or not isinstance(thumb.data, bytes):
        return None
    try:
        image = _open_pillow(thumb.data, ImageFormat.JPEG)
        width, height = image.size
        if max(width, height) < limits.min_preview_long_edge:
            return None
        _check_pixels(width, height, limits)
        factor = _analysis_factor(width, height, limits)
        if factor > 1:
            image.draft("RGB", (-(-width // factor), -(-height // factor)))
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        return None  # a broken preview is not the photo: fall back to the sensor data
    return _as_rgb(image)


def decode(data: bytes, *, filename: str, limits: DecodeLimits) -> Decoded:
    """Decode `data` for analysis. Raises UnreadableImage, and nothing else."""
    if not data:
        raise UnreadableImage(UnreadableReason.EMPTY, "The file is empty.")
    fmt = sniff_format(data[:SNIFF_BYTES], filename)
    if fmt is None:
        raise UnreadableImage(
            UnreadableReason.UNSUPPORTED,
            f"This is not a picture format we take: {FORMATS_IN_WORDS} are.",
        )
    if fmt in RAW_FORMATS:
        return _decode_raw(data, fmt, limits)
    try:
        return _decode_pillow(data, fmt, limits)
    except Exception as error:
        # The contract: UnreadableImage, whatever the decoder raised.
        raise _failure(error, fmt) from error
