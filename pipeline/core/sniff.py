"""Identify an upload's format from its first bytes, never from its file name."""

from __future__ import annotations

from enum import StrEnum

SNIFF_BYTES = 64


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
    X3F = "x3f"


RAW_FORMATS = frozenset(
    {
        ImageFormat.DNG,
        ImageFormat.CR2,
        ImageFormat.CR3,
        ImageFormat.NEF,
        ImageFormat.ARW,
        ImageFormat.RAF,
        ImageFormat.ORF,
        ImageFormat.RW2,
        ImageFormat.X3F,
    }
)

_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"hevc", b"avif")

# TIFF-based RAW containers all start with a TIFF header, so the extension is the only cheap
# way to tell a NEF from an ARW. It is used *only* to refine a TIFF that is already proven by
# its magic bytes; it never makes a non-image acceptable.
_TIFF_RAW_EXTENSIONS = {
    "dng": ImageFormat.DNG,
    "nef": ImageFormat.NEF,
    "nrw": ImageFormat.NEF,
    "arw": ImageFormat.ARW,
    "sr2": ImageFormat.ARW,
    "rw2": ImageFormat.RW2,
    "orf": ImageFormat.ORF,
}


def sniff_format(head: bytes, filename: str = "") -> ImageFormat | None:
    """The format proven by the magic bytes in `head`, or None for anything we do not take."""
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return ImageFormat.RAF
    if head.startswith(b"FOVb"):
        return ImageFormat.X3F
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"crx ":
            return ImageFormat.CR3
        if brand in _HEIF_BRANDS:
            return ImageFormat.HEIC
        return None
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return ImageFormat.ORF
    if head[:4] == b"IIU\x00":
        return ImageFormat.RW2
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        if head[8:10] == b"CR" and head[:2] == b"II":
            return ImageFormat.CR2
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return _TIFF_RAW_EXTENSIONS.get(extension, ImageFormat.TIFF)
    return None
