"""Damaged scan data is caught even though the decoder papers over it; data after the picture
is kept and noted."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest

from pipeline.core.errors import UnreadableImage, UnreadableReason
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
