"""Turn whatever name a browser or client sent into one that is safe to store and show."""

from __future__ import annotations

import unicodedata

from pipeline.core.formats import format_named_by

MAX_FILENAME_CHARS = 200
_FALLBACK = "upload"


def sanitize_filename(raw: str) -> str:
    """Keep the readable part of a client-supplied name: no directories, no control or format
    characters, NFC-normalised, at most MAX_FILENAME_CHARS with the extension preserved."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(name.split()).strip(" .")
    if not name:
        return _FALLBACK
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 10:
        return stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
    return name[:MAX_FILENAME_CHARS]


# File extensions for the formats whose usual one is not the format's own name.
_EXTENSIONS = {"jpeg": "jpg", "tiff": "tif"}


def download_filename(original_filename: str, *, fmt: str) -> str:
    """The name an original downloads under: the sanitised stem of the client's name plus the
    extension of the format its bytes proved, so `evil.jpg<RLO>gpj.exe` or `poly.html` never
    comes back as a program or a page. Sanitising drops bidirectional controls (they are
    format characters)."""
    name = sanitize_filename(original_filename)
    if not fmt or format_named_by(name) == fmt:
        # The client's own extension names the proved format: kept as written ("IMG_0001.CR3"),
        # so the file still matches sidecars and catalogues named after the card's files.
        return name
    stem = name.rpartition(".")[0].rstrip(" .") or name
    return f"{stem}.{_EXTENSIONS.get(fmt, fmt)}"
