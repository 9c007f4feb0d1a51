"""The keeper among copies of one frame, on re-saves and crops of the real camera photos."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.compression import jpeg_quality
from pipeline.core.ranking import Candidate, best_copy, best_frame
from pipeline.core.stacking import Frame, StackRules, camera_key, place
from tests.support.paths import REAL_PHOTOS

UPLOADED = datetime(2026, 6, 13, 12, 0, tzinfo=UTC)


def _camera_jpegs() -> list[Path]:
    return sorted(p for p in REAL_PHOTOS.iterdir() if p.suffix.lower() == ".jpg")


def _copy(photo_id: int, data: bytes, *, captured: datetime | None, late: int) -> Candidate:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return Candidate(
        photo_id=photo_id,
        width=width,
        height=height,
        size_bytes=len(data),
        lossless=False,
        jpeg_quality=jpeg_quality(data),
        captured_at=captured,
        uploaded_at=UPLOADED + timedelta(minutes=late),
        # A re-save's artefacts read as detail: the copies look sharper than the original.
        sharpness=1.19 if photo_id else 0.99,
    )


@pytest.mark.parametrize("keep_exif", [False, True], ids=["exif-stripped", "exif-kept"])
def test_the_original_outranks_its_resaves_and_crops(keep_exif: bool) -> None:
    """Every real camera JPEG of quality 85 or more (66 of the 72) against re-saves at q95, q80
    and q60 and a 4% crop. Stripped of the camera's Exif, the copies are uploaded first; with the
    Exif kept they are uploaded after it (the same capture time leaves the upload to decide)."""
    order = 1 if keep_exif else -1
    checked = 0
    for path in _camera_jpegs():
        original = path.read_bytes()
        if (jpeg_quality(original) or 0) < 85:
            continue
        with Image.open(path) as opened:
            opened.draft("RGB", (1024, 1024))
            image = opened.convert("RGB")
        taken = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
        scale = image.width
        copies = []
        for index, quality in enumerate((95, 80, 60), start=1):
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality)
            copies.append(
                _copy(
                    index,
                    buffer.getvalue(),
                    captured=taken if keep_exif else None,
                    late=order * index,
                )
            )
        crop = image.crop((0, 0, round(scale * 0.96), round(image.height * 0.96)))
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=95)
        copies.append(
            _copy(4, buffer.getvalue(), captured=taken if keep_exif else None, late=order * 5)
        )
        # The decoded size stands in for the original's: the copies were made from the same.
        first = _copy(0, original, captured=taken, late=0)
        first = Candidate(**{**first.__dict__, "width": image.width, "height": image.height})
        assert best_copy([*copies, first]).photo_id == 0, path.name
        checked += 1
    assert checked == 66


def _frame(seconds: float, phash: int = 0, dhash: int = 0) -> Frame:
    return Frame(UPLOADED + timedelta(seconds=seconds), phash, dhash)


def test_a_frame_joins_neighbours_close_in_time_and_alike() -> None:
    rules = StackRules(gap_s=2.0, max_phash=18, max_dhash=18)
    alike, other = 0b1011, (1 << 40) - 1
    placed = place(_frame(1.0, alike), _frame(0.0), _frame(3.5), rules)
    assert (placed.joins_previous, placed.joins_next) == (True, False)
    placed = place(_frame(1.0, other), _frame(0.0), _frame(2.0), rules)
    assert (placed.joins_previous, placed.joins_next) == (False, False)
    assert camera_key("Canon", "EOS R5", "0310") != camera_key("Canon", "EOS R5", "0311")
    assert camera_key("Canon ", "EOS R5", "") == camera_key("canon", "EOS R5", "")


def test_in_a_stack_the_picture_counts_once_the_copies_are_equal() -> None:
    def frame(photo_id: int, **kw: object) -> Candidate:
        fields: dict[str, object] = {
            "photo_id": photo_id,
            "width": 6000,
            "height": 4000,
            "size_bytes": 9_000_000,
            "lossless": False,
            "jpeg_quality": 96,
            "captured_at": UPLOADED,
            "uploaded_at": UPLOADED,
            "verdict": "pass",
            "sharpness": 0.5,
            "clipped": 0.01,
        }
        return Candidate(**{**fields, **kw})  # type: ignore[arg-type]

    soft = frame(1, verdict="borderline", flag_count=1, sharpness=0.9)
    sharp = frame(2, sharpness=0.6)
    clipped = frame(3, sharpness=0.61, clipped=0.2)
    assert best_frame([soft, sharp, clipped]).photo_id == 2
    assert best_frame([sharp, frame(4, sharpness=0.6, vlm_score=0.9)]).photo_id == 4
