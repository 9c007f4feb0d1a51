"""Damaged scan data is caught even though the decoder papers over it; data after the picture
is kept and noted."""

from __future__ import annotations

import io
import sys
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.decode import SCAN_DAMAGE
from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.hashcode import hamming_distance
from pipeline.core.validator import NOTE_TRAILING_DATA, validate
from tests.support.paths import REAL_PHOTOS

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from calibration_sets import CorruptKind, corrupt


@cache
def damaged(name: str, kind: str, seed: int = 1) -> bytes:
    """A real camera JPEG with its scan data damaged (headers intact: it still decodes)."""
    return corrupt((REAL_PHOTOS / name).read_bytes(), CorruptKind(kind), seed)


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        # Olympus writes restart markers: removing two intervals breaks their sequence.
        ("Olympus_FE230-X790.jpg", "restart_removed", "restart markers"),
        # No restart markers here: the decoder runs out of data and fills with grey.
        ("Apple_iPhone_5.jpg", "restart_removed", "flat grey"),
        ("Canon_EOS_1000D.jpg", "truncated_padded", "flat grey"),
        # Here the zero padding decodes to one flat colour, not grey.
        ("Sony_DSC-T5.jpg", "truncated_padded", "cut short"),
        ("Kodak_Z1012_IS.jpg", "truncated_padded", "restart markers"),
    ],
)
def test_damaged_scan_data_is_unreadable_with_a_reason(name: str, kind: str, words: str) -> None:
    original = validate((REAL_PHOTOS / name).read_bytes())
    assert original.passed  # the same file undamaged is a good photo
    with pytest.raises(UnreadableImage) as caught:
        validate(damaged(name, kind))
    assert caught.value.reason is UnreadableReason.CORRUPT
    assert words in caught.value.detail
    assert caught.value.exif is not None and caught.value.exif.model


@pytest.mark.parametrize(
    "name",
    [
        "Apple_iPhone_5.jpg",
        "Nikon_D70.jpg",
        # Decoded at 1/4 scale: the decoder still reads every coefficient of the scan.
        "Samsung_GT-I9505_Galaxy_S4_.jpg",
        # Restart markers intact and in order: only the decoder notices the flipped bits.
        "Olympus_FE230-X790.jpg",
    ],
)
def test_bit_flipped_scan_data_is_corrupt(name: str) -> None:
    validate((REAL_PHOTOS / name).read_bytes())  # undamaged, the same file is readable
    with pytest.raises(UnreadableImage) as caught:
        validate(damaged(name, "bit_flips"))
    assert caught.value.reason is UnreadableReason.CORRUPT
    assert caught.value.detail == SCAN_DAMAGE
    assert caught.value.exif is not None and caught.value.exif.model


def test_a_cmyk_jpeg_still_decodes() -> None:
    """CMYK (print and prepress files) goes to Pillow, which turns the inks into colours."""
    photo = Image.open(REAL_PHOTOS / "Nikon_D70.jpg")
    photo.draft("RGB", (photo.width // 2, photo.height // 2))
    rgb, cmyk = io.BytesIO(), io.BytesIO()
    photo.save(rgb, "JPEG", quality=92)
    photo.convert("CMYK").save(cmyk, "JPEG", quality=92)
    assert Image.open(cmyk).mode == "CMYK"
    from_rgb, from_cmyk = validate(rgb.getvalue()), validate(cmyk.getvalue())
    assert (from_cmyk.width, from_cmyk.height) == (from_rgb.width, from_rgb.height)
    assert from_cmyk.verdict is from_rgb.verdict
    assert hamming_distance(from_cmyk.phash, from_rgb.phash) <= 4


def test_data_after_the_picture_is_kept_and_noted() -> None:
    original = (REAL_PHOTOS / "Canon_EOS_D60.jpg").read_bytes()
    # A JPEG+ZIP polyglot: an archive appended after the end-of-image marker.
    archive = b"PK\x03\x04" + bytes(range(256)) * 40 + b"PK\x05\x06" + b"\0" * 18
    plain, polyglot = validate(original), validate(original + archive)
    assert plain.notes == ()
    assert polyglot.notes == (NOTE_TRAILING_DATA,)
    assert (polyglot.verdict, polyglot.sharpness, polyglot.phash) == (
        plain.verdict,
        plain.sharpness,
        plain.phash,
    )
    assert "extra data after the end of the picture" in polyglot.describe()


def test_zero_padding_after_the_picture_is_not_data() -> None:
    original = (REAL_PHOTOS / "Canon_EOS_D60.jpg").read_bytes()
    assert validate(original + b"\0" * 1000).notes == ()
