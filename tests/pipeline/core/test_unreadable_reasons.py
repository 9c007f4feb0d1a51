"""Every way an upload can be unreadable ends in a reason a photographer can read: a sentence in
plain words, never a Python repr, a server path or an internal code as its first words."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from functools import cache

import pytest

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.validator import Thresholds, validate
from tests.support.paths import CAMERA_METADATA, PHOTOS

from .frames import Defect, make_jpeg
from .test_jpeg_integrity import damaged

_REASON_CODES = {reason.value for reason in UnreadableReason}


def assert_plain_words(detail: str) -> None:
    assert detail[:1].isupper(), detail
    assert detail.endswith("."), detail
    assert not re.search(r"<[^>]*>|\b0x[0-9a-f]+|/|\\|object at|errno|Error\b", detail), detail
    first = re.split(r"[\s:]", detail, maxsplit=1)[0].lower()
    assert first not in _REASON_CODES, detail


def _png_bomb() -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


class _FailingUpload(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise OSError(5, "Input/output error", "/srv/uploads/tmp/abc123")


@cache
def _small_jpeg() -> bytes:
    return make_jpeg(3, 640, 480, Defect.SHARP)


def _truncated() -> bytes:
    original = (PHOTOS / "IMG_4120.JPG").read_bytes()
    return original[: len(original) // 2]


CASES: dict[str, tuple[Callable[[], object], UnreadableReason | None, Thresholds | None]] = {
    "empty": (lambda: b"", UnreadableReason.EMPTY, None),
    "not an image": (lambda: b"%PDF-1.7 not an image", UnreadableReason.UNSUPPORTED, None),
    "jpeg header only": (lambda: b"\xff\xd8\xff\xe0" + b"\0" * 200, UnreadableReason.CORRUPT, None),
    "truncated jpeg": (_truncated, UnreadableReason.TRUNCATED, None),
    "bit flips the decoder gives up on": (
        lambda: damaged("Apple_iPhone_5.jpg", "bit_flips", seed=0),
        UnreadableReason.CORRUPT,
        None,
    ),
    "decompression bomb": (_png_bomb, UnreadableReason.TOO_LARGE, None),
    "over the pixel limit": (_small_jpeg, UnreadableReason.TOO_LARGE, Thresholds(max_pixels=1000)),
    "read fails": (_FailingUpload, UnreadableReason.TRUNCATED, None),
    "restart interval removed": (
        lambda: damaged("Olympus_FE230-X790.jpg", "restart_removed"),
        UnreadableReason.CORRUPT,
        None,
    ),
    "scan cut short and padded": (
        lambda: damaged("Canon_EOS_1000D.jpg", "truncated_padded"),
        UnreadableReason.CORRUPT,
        None,
    ),
    **{
        f"stripped {path.suffix} raw": (
            lambda path=path: path.read_bytes(),  # type: ignore[misc]
            None,
            None,
        )
        for path in sorted(CAMERA_METADATA.glob("*"))
        if path.suffix.lower() in {".cr2", ".cr3", ".dng", ".nef", ".x3f", ".heic"}
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_unreadable_reason_is_a_plain_sentence(case: str) -> None:
    make, reason, thresholds = CASES[case]
    payload = make()
    with pytest.raises(UnreadableImage) as caught:
        validate(payload, thresholds or Thresholds(), filename=f"upload{_suffix(case)}")  # type: ignore[arg-type]
    if reason is not None:
        assert caught.value.reason is reason
    assert_plain_words(caught.value.detail)


def _suffix(case: str) -> str:
    match = re.search(r"stripped (\.\w+) raw", case)
    return match.group(1) if match else ".jpg"
