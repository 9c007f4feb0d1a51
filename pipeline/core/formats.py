"""Every image format Parjanya takes, in one table: its file extensions, the content type it is
stored under, the camera makers of a RAW format, and the decoder that reads it. Sniffing, the
upload picker, the direct-upload path and the list of formats users read all come from this table,
so a format is either taken everywhere or nowhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    HEIC = "heic"
    DNG = "dng"
    CR2 = "cr2"
    CR3 = "cr3"
    NEF = "nef"
    ARW = "arw"
    RAF = "raf"
    ORF = "orf"
    RW2 = "rw2"
    PEF = "pef"
    X3F = "x3f"


class Decoder(StrEnum):
    PILLOW = "pillow"
    LIBRAW = "libraw"


@dataclass(frozen=True)
class FormatSpec:
    # Lower case, without the dot; the first is the one originals are stored under.
    extensions: tuple[str, ...]
    content_type: str
    decoder: Decoder
    # Camera RAW only: whose cameras write it ("any" for DNG, an open format).
    makers: tuple[str, ...] = ()
    # A RAW container that starts with a plain TIFF header: only its extension tells it apart
    # from a TIFF (or from another such RAW), so sniffing refines a proven TIFF by extension.
    tiff_container: bool = False
    # Pillow-decoded only: the one Pillow plugin allowed to open it, so a file is never read as
    # another format than the one it was sniffed as.
    pillow_plugin: str = ""


FORMATS: Final[Mapping[ImageFormat, FormatSpec]] = {
    ImageFormat.JPEG: FormatSpec(
        ("jpg", "jpeg"), "image/jpeg", Decoder.PILLOW, pillow_plugin="JPEG"
    ),
    ImageFormat.PNG: FormatSpec(("png",), "image/png", Decoder.PILLOW, pillow_plugin="PNG"),
    ImageFormat.TIFF: FormatSpec(
        ("tif", "tiff"), "image/tiff", Decoder.PILLOW, pillow_plugin="TIFF"
    ),
    ImageFormat.HEIC: FormatSpec(
        ("heic", "heif"), "image/heic", Decoder.PILLOW, pillow_plugin="HEIF"
    ),
    ImageFormat.DNG: FormatSpec(
        ("dng",), "image/x-adobe-dng", Decoder.LIBRAW, ("any",), tiff_container=True
    ),
    ImageFormat.CR2: FormatSpec(("cr2",), "image/x-canon-cr2", Decoder.LIBRAW, ("Canon",)),
    ImageFormat.CR3: FormatSpec(("cr3",), "image/x-canon-cr3", Decoder.LIBRAW, ("Canon",)),
    ImageFormat.NEF: FormatSpec(
        ("nef", "nrw"), "image/x-nikon-nef", Decoder.LIBRAW, ("Nikon",), tiff_container=True
    ),
    ImageFormat.ARW: FormatSpec(
        ("arw", "sr2"), "image/x-sony-arw", Decoder.LIBRAW, ("Sony",), tiff_container=True
    ),
    ImageFormat.RAF: FormatSpec(("raf",), "image/x-fuji-raf", Decoder.LIBRAW, ("Fujifilm",)),
    ImageFormat.ORF: FormatSpec(
        ("orf",),
        "image/x-olympus-orf",
        Decoder.LIBRAW,
        ("Olympus", "OM System"),
        tiff_container=True,
    ),
    ImageFormat.RW2: FormatSpec(
        ("rw2",),
        "image/x-panasonic-rw2",
        Decoder.LIBRAW,
        ("Panasonic", "Leica"),
        tiff_container=True,
    ),
    ImageFormat.PEF: FormatSpec(
        ("pef",), "image/x-pentax-pef", Decoder.LIBRAW, ("Pentax", "Ricoh"), tiff_container=True
    ),
    ImageFormat.X3F: FormatSpec(("x3f",), "image/x-sigma-x3f", Decoder.LIBRAW, ("Sigma",)),
}

RAW_FORMATS: Final = frozenset(
    fmt for fmt, spec in FORMATS.items() if spec.decoder is Decoder.LIBRAW
)

# Formats that keep every decoded value: a copy in one of them has no compression loss.
LOSSLESS_FORMATS: Final = RAW_FORMATS | {ImageFormat.PNG, ImageFormat.TIFF}

# The formats we take, as people read them: every non-RAW format by name, the RAWs as a family.
FORMATS_IN_WORDS: Final = (
    ", ".join(fmt.value.upper() for fmt in FORMATS if fmt not in RAW_FORMATS)
    + " and camera RAW files"
)

_BY_EXTENSION: Final = {ext: fmt for fmt, spec in FORMATS.items() for ext in spec.extensions}


def file_extension(filename: str) -> str:
    """The extension of `filename`, lower case, without the dot ("" when it has none)."""
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def format_named_by(filename: str) -> ImageFormat | None:
    """The format `filename`'s extension names, or None for an extension we do not take."""
    return _BY_EXTENSION.get(file_extension(filename))


def picker_accept() -> str:
    """The file input's `accept`: every image type the browser knows, and every RAW extension
    (browsers know no content type for most of them)."""
    raw = (f".{ext}" for fmt in sorted(RAW_FORMATS) for ext in FORMATS[fmt].extensions)
    return ",".join(("image/*", *raw))
