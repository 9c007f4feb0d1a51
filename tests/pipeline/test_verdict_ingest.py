"""Three-way verdicts through ingest, on PostgreSQL: what a photographer and a curator see.

Until the validator's borderline margins are `Thresholds` fields, a borderline verdict is made
from a real validation of a real photo with only the verdict and flags changed
(`dataclasses.replace`), which is what the validator returns for a frame inside the margin.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pytest_django import Settings

from gallery import services as gallery_services
from gallery.models import Photo
from pipeline import services as pipeline_services
from pipeline.config import IngestConfig
from pipeline.core import validator
from pipeline.core.errors import UnreadableReason
from pipeline.core.validator import (
    FLAG_POSSIBLY_SOFT,
    FLAG_POSSIBLY_UNDEREXPOSED,
    NOTE_TRAILING_DATA,
    ValidationResult,
    Verdict,
)
from pipeline.services import photo_ingest
from pipeline.tasks import ingest_photo
from tests.support.paths import CAMERA_METADATA, PHOTOS

pytestmark = pytest.mark.django_db

ELEPHANTS = PHOTOS / "elephants.jpg"


def _uploaded(owner: User, name: str, content: bytes) -> Photo:
    key = default_storage.save(f"originals/{name}", ContentFile(content))
    return Photo.objects.create(
        owner=owner,
        original=key,
        original_filename=name,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _ingested(owner: User, path: Path = ELEPHANTS, *, data: bytes | None = None) -> Photo:
    photo = _uploaded(owner, path.name, path.read_bytes() if data is None else data)
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()
    return photo


Judge = Callable[..., None]


@pytest.fixture
def judged_as(monkeypatch: pytest.MonkeyPatch) -> Judge:
    """Make the validator return, for a frame it passes, the given verdict, flags and notes."""

    def apply(verdict: Verdict, flags: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> None:
        def validate(*args: Any, **kwargs: Any) -> ValidationResult:
            result = validator.validate(*args, **kwargs)
            assert result.verdict is Verdict.PASS, "the test photo must be a clear pass"
            return replace(result, verdict=verdict, flags=flags, notes=notes)

        monkeypatch.setattr(pipeline_services, "validate", validate)

    return apply


def test_a_borderline_frame_goes_on_to_scoring_with_its_flag(
    photographer: User, judged_as: Judge
) -> None:
    judged_as(Verdict.BORDERLINE, flags=(FLAG_POSSIBLY_SOFT,))

    photo = _ingested(photographer)

    assert photo.status == Photo.Status.AWAITING_SCORE
    assert photo.reject_reason == "" and photo.reject_detail == ""
    assert photo.validator_verdict == "borderline"
    assert photo.validator_flags == ["possibly_soft"]
    assert photo.validator_warnings == ["Possibly soft — passed, flagged for the curator"]
    event = photo.events.get()
    assert (event.to_status, event.cause) == ("awaiting_score", "validator: borderline, sent on")
    assert event.detail == "Possibly soft — passed, flagged for the curator"
    # It went through dedup like a pass: the same file uploaded again is its duplicate.
    again = _ingested(photographer)
    assert again.reject_reason == Photo.RejectReason.DUPLICATE
    assert again.duplicate_of_id == photo.pk


def test_a_frame_with_two_doubts_records_both(photographer: User, judged_as: Judge) -> None:
    judged_as(Verdict.BORDERLINE, flags=(FLAG_POSSIBLY_SOFT, FLAG_POSSIBLY_UNDEREXPOSED))

    photo = _ingested(photographer)

    assert photo.validator_flags == ["possibly_soft", "possibly_underexposed"]
    assert Photo.objects.filter(flag_possibly_underexposed=True).get() == photo
    assert photo.events.get().detail == (
        "Possibly soft — passed, flagged for the curator; "
        "Possibly underexposed — passed, flagged for the curator"
    )


def test_trailing_data_is_a_warning_on_a_photo_that_passes(
    photographer: User, judged_as: Judge
) -> None:
    judged_as(Verdict.PASS, notes=(NOTE_TRAILING_DATA,))
    # A JPEG with a ZIP archive after its end marker: the file is kept byte for byte.
    polyglot = ELEPHANTS.read_bytes() + b"PK\x03\x04" + bytes(64)

    photo = _ingested(photographer, data=polyglot)

    assert photo.status == Photo.Status.AWAITING_SCORE
    assert photo.validator_verdict == "pass"
    assert photo.validator_flags == [] and photo.validator_notes == ["trailing_data"]
    assert photo.validator_warnings == [
        "Extra data after the image: the photo was read normally and the file is kept as uploaded"
    ]
    assert photo.events.get().detail == photo.validator_warnings[0]
    with photo.original.open("rb") as stored:
        assert stored.read() == polyglot


def test_revalidation_clears_the_flags_a_new_verdict_no_longer_raises(
    photographer: User, judged_as: Judge, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged_as(Verdict.BORDERLINE, flags=(FLAG_POSSIBLY_SOFT,))
    photo = _ingested(photographer)
    monkeypatch.undo()  # the real validator from here on: elephants.jpg is a clear pass

    gallery_services.photo_reset_for_reprocessing(
        photo_id=photo.pk, to_status=Photo.Status.UPLOADED, cause="re-validate"
    )
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.status == Photo.Status.AWAITING_SCORE
    assert photo.validator_verdict == "pass"
    assert photo.validator_flags == [] and photo.validator_warnings == []
    assert not Photo.objects.filter(flag_possibly_soft=True).exists()


def test_a_hard_reject_records_its_verdict_and_stays_out_of_the_index(
    photographer: User, settings: Settings
) -> None:
    settings.VALIDATOR_THRESHOLDS = {"min_sharpness": 1e9}
    rejected = _ingested(photographer)
    settings.VALIDATOR_THRESHOLDS = {}
    retake = _ingested(photographer)

    assert (rejected.status, rejected.reject_reason) == ("rejected", "blurry")
    assert rejected.validator_verdict == "reject"
    assert rejected.validator_flags == []
    assert rejected.reject_detail.startswith("Blurry")
    # Not in the index: the same frame judged sharp later is not its duplicate.
    assert retake.status == Photo.Status.AWAITING_SCORE
    assert retake.validator_verdict == "pass"


_BEACH = (PHOTOS / "beach_sand.jpg").read_bytes()
UNREADABLE_FILES: dict[str, tuple[str, bytes, dict[str, int], UnreadableReason]] = {
    "empty": ("empty.jpg", b"", {}, UnreadableReason.EMPTY),
    "text": ("notes.jpg", b"not a photo at all\n" * 40, {}, UnreadableReason.UNSUPPORTED),
    "truncated": ("cut.jpg", _BEACH[: len(_BEACH) // 4], {}, UnreadableReason.TRUNCATED),
    "header only": ("head.jpg", _BEACH[:200], {}, UnreadableReason.TRUNCATED),
    # Pillow's message for this one names a Python object: "<_io.BytesIO object at 0x7f...>".
    "no image data": ("bad.jpg", b"\xff\xd8\xff\xe0" + bytes(500), {}, UnreadableReason.CORRUPT),
    "raw without sensor data": (
        "Nikon.nef",
        (CAMERA_METADATA / "Nikon.nef").read_bytes(),
        {},
        UnreadableReason.NO_SENSOR_DATA,
    ),
    "too many pixels": ("big.jpg", _BEACH, {"max_pixels": 1000}, UnreadableReason.TOO_LARGE),
}


@pytest.mark.parametrize("case", list(UNREADABLE_FILES))
def test_unreadable_files_are_explained_in_plain_words(
    case: str, photographer: User, settings: Settings, media_root: Path
) -> None:
    name, content, thresholds, reason = UNREADABLE_FILES[case]
    settings.VALIDATOR_THRESHOLDS = thresholds

    photo = _ingested(photographer, Path(name), data=content)

    assert photo.reject_reason == Photo.RejectReason.UNREADABLE
    detail = photo.reject_detail
    first_word = detail.split()[0]
    assert first_word[0].isupper() and "_" not in first_word, detail
    assert not detail.lower().startswith(tuple(r.value for r in UnreadableReason)), detail
    assert not re.search(r"\b0x[0-9a-f]+", detail) and "<" not in detail, detail
    assert str(media_root) not in detail and "/originals/" not in detail, detail
    # The code stays in the record for curators, not in the photographer's words.
    assert photo.events.get(to_status="rejected").cause == (
        f"validator could not read the image ({reason.value})"
    )


def test_giving_up_never_shows_a_server_path(photographer: User, media_root: Path) -> None:
    photo = _uploaded(photographer, "gone.jpg", ELEPHANTS.read_bytes())
    default_storage.delete(str(photo.original.name))  # the storage lost the original

    ingest_photo.apply(args=[photo.pk], retries=ingest_photo.max_retries)
    photo.refresh_from_db()

    assert photo.status == Photo.Status.FAILED
    assert photo.reject_detail.startswith("Gave up after")
    assert "No such file" in photo.reject_detail
    assert str(media_root) not in photo.reject_detail
    assert "originals" not in photo.reject_detail
