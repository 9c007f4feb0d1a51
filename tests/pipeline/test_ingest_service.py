"""The ingest stage on real files: what a photographer sees after the worker ran."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict, Unpack

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from PIL import Image
from pytest_django import Settings

from gallery.models import Photo
from pipeline.config import IngestConfig, dedup_store
from pipeline.dedup.dynamodb_store import create_table, make_client
from pipeline.services import photo_ingest, photo_mark_not_duplicate
from tests.pipeline.core.frames import make_dng
from tests.support.paths import CAMERA_METADATA, PHOTOS

pytestmark = pytest.mark.django_db


def _uploaded(owner: User, path: Path, *, data: bytes | None = None, hashed: bool = True) -> Photo:
    content = path.read_bytes() if data is None else data
    key = default_storage.save(f"originals/{path.name}", ContentFile(content))
    # As the upload API does: the sha256 is known from the moment the row exists. A direct
    # S3 upload (hashed=False) leaves it to the ingest.
    return Photo.objects.create(
        owner=owner,
        original=key,
        original_filename=path.name,
        sha256=hashlib.sha256(content).hexdigest() if hashed else "",
    )


def _image_size(field_file: FieldFile) -> tuple[int, int]:
    with field_file.open("rb") as f, Image.open(f) as image:
        return image.size


def test_a_good_jpeg_gets_metadata_previews_and_waits_for_scoring(photographer: User) -> None:
    photo = _uploaded(photographer, PHOTOS / "IMG_4120.JPG")
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.status == Photo.Status.AWAITING_SCORE, photo.reject_detail
    assert photo.camera_make == "Apple"
    assert photo.captured_at is not None
    assert len(photo.sha256) == 64
    assert photo.phash is not None and photo.dhash is not None
    # A 500 px original: the preview is never upscaled; the thumbnail is 400 px.
    assert _image_size(photo.preview) == (500, 375)
    assert max(_image_size(photo.thumbnail)) == 400
    assert photo.awaiting_score_since is not None


def test_running_ingest_twice_changes_nothing_the_second_time(photographer: User) -> None:
    photo = _uploaded(photographer, PHOTOS / "elephants.jpg")
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    first = Photo.objects.get(pk=photo.pk)
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    second = Photo.objects.get(pk=photo.pk)

    assert second.updated_at == first.updated_at
    assert [e.to_status for e in second.events.all()] == ["awaiting_score"]
    assert sorted(p.name for p in Path(default_storage.path("previews")).iterdir()) == [
        f"{photo.uid.hex}.jpg"
    ]


def test_raw_without_sensor_data_keeps_its_exif_and_says_why(photographer: User) -> None:
    photo = _uploaded(photographer, CAMERA_METADATA / "Nikon.nef")
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.status == Photo.Status.REJECTED
    assert photo.reject_reason == Photo.RejectReason.UNREADABLE
    assert "too small to hold the picture of a 3040 x 2014 sensor" in photo.reject_detail
    assert photo.camera_make.upper().startswith("NIKON")
    assert default_storage.exists(str(photo.original.name))


def test_dng_is_judged_from_its_embedded_preview(photographer: User) -> None:
    photo = _uploaded(photographer, PHOTOS / "canon_eos_6d.dng")
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.status == Photo.Status.AWAITING_SCORE, photo.reject_detail
    assert "decode_preview" in photo.validator_metrics["timings_ms"]
    assert photo.camera_model == "Canon EOS 6D"
    assert (photo.width, photo.height) == (1224, 816)
    assert photo.thumbnail.name


def test_heic_from_an_iphone_is_read(photographer: User) -> None:
    photo = _uploaded(photographer, PHOTOS / "iphone_7.heic")
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.reject_reason != Photo.RejectReason.UNREADABLE, photo.reject_detail
    assert photo.camera_model == "iPhone 7"
    assert (photo.width, photo.height) in ((4032, 3024), (3024, 4032))


def test_truncated_jpeg_is_kept_and_rejected_as_unreadable(photographer: User) -> None:
    data = (PHOTOS / "beach_sand.jpg").read_bytes()
    photo = _uploaded(photographer, PHOTOS / "beach_sand.jpg", data=data[: len(data) // 4])
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()

    assert photo.status == Photo.Status.REJECTED
    assert photo.reject_reason == Photo.RejectReason.UNREADABLE
    assert "cut short" in photo.reject_detail
    assert default_storage.exists(str(photo.original.name))


def test_exact_duplicate_points_at_the_photo_already_in_the_library(photographer: User) -> None:
    first = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    second = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=second.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    first.refresh_from_db()
    second.refresh_from_db()

    assert first.status == Photo.Status.AWAITING_SCORE
    assert second.reject_reason == Photo.RejectReason.DUPLICATE
    assert second.duplicate_of == first
    assert second.reject_detail == "Same file as cat_brown.jpg, uploaded earlier."


def test_a_direct_upload_is_hashed_at_ingest_so_its_copy_is_named(photographer: User) -> None:
    first = _uploaded(photographer, PHOTOS / "cat_brown.jpg", hashed=False)
    second = _uploaded(photographer, PHOTOS / "cat_brown.jpg", hashed=False)
    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=second.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    first.refresh_from_db()
    second.refresh_from_db()

    content = (PHOTOS / "cat_brown.jpg").read_bytes()
    assert first.sha256 == hashlib.sha256(content).hexdigest()
    assert second.reject_detail == "Same file as cat_brown.jpg, uploaded earlier."


def test_near_duplicate_is_rejected_and_not_scored(photographer: User) -> None:
    original = _uploaded(photographer, PHOTOS / "elephants.jpg")
    with Image.open(PHOTOS / "elephants.jpg") as image:
        buffer = io.BytesIO()
        image.resize((image.width * 3 // 4, image.height * 3 // 4)).save(buffer, "JPEG", quality=70)
    smaller = _uploaded(photographer, PHOTOS / "elephants-small.jpg", data=buffer.getvalue())
    photo_ingest(photo_id=original.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=smaller.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    smaller.refresh_from_db()

    assert smaller.status == Photo.Status.REJECTED
    assert smaller.reject_reason == Photo.RejectReason.DUPLICATE
    assert smaller.duplicate_of_id == original.pk
    assert smaller.reject_detail.startswith("Near-duplicate of elephants.jpg")


def test_curator_not_a_duplicate_sends_the_photo_to_scoring_for_good(photographer: User) -> None:
    curator = User.objects.create_user("curator", is_staff=True)
    first = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    second = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=second.pk, config=IngestConfig.from_settings(scoring_enabled=True))

    photo_mark_not_duplicate(
        photo_id=second.pk, curator=curator, config=IngestConfig.from_settings(scoring_enabled=True)
    )
    second.refresh_from_db()
    assert second.status == Photo.Status.AWAITING_SCORE
    assert second.duplicate_of is None

    third = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    photo_ingest(photo_id=third.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    third.refresh_from_db()
    assert third.duplicate_of_id in (first.pk, second.pk)


class Camera(TypedDict, total=False):
    make: str
    model: str


class DngTags(Camera, total=False):
    captured_at: str


def _dng_of(path: Path, **tags: Unpack[DngTags]) -> bytes:
    """A camera RAW of the same frame: the JPEG's pixels as sensor data plus an embedded preview;
    `tags` are make_dng's (make, model, captured_at)."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    return make_dng(pixels[: pixels.shape[0] // 2 * 2, : pixels.shape[1] // 2 * 2], **tags)


def test_raw_and_jpeg_of_one_frame_are_paired_and_scored_once(
    photographer: User, settings: Settings
) -> None:
    # The test frame is small, so let its 500 px embedded preview count as usable.
    settings.VALIDATOR_THRESHOLDS = {"min_preview_long_edge": 256}
    jpeg = _uploaded(photographer, PHOTOS / "IMG_4120.JPG")
    twin = _uploaded(photographer, PHOTOS / "IMG_4120.DNG", data=_dng_of(PHOTOS / "IMG_4120.JPG"))
    photo_ingest(photo_id=jpeg.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=twin.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    jpeg.refresh_from_db()
    twin.refresh_from_db()

    assert jpeg.status == Photo.Status.AWAITING_SCORE
    assert twin.status == Photo.Status.PAIRED, twin.reject_detail
    assert twin.paired_with_id == jpeg.pk
    assert Photo.objects.filter(status=Photo.Status.AWAITING_SCORE).count() == 1


def test_the_next_frame_of_a_burst_is_not_taken_for_the_jpegs_raw_twin(
    photographer: User, settings: Settings
) -> None:
    # IMG_4120.JPG was taken at 12:57:32.835. The RAW of the next frame, a second later under
    # the next file name, looks the same: it must not be "the same frame" and leave review.
    settings.VALIDATOR_THRESHOLDS = {"min_preview_long_edge": 256}
    camera: Camera = {"make": "Apple", "model": "iPhone SE"}
    jpeg = _uploaded(photographer, PHOTOS / "IMG_4120.JPG")
    burst = _uploaded(
        photographer,
        PHOTOS / "IMG_4121.DNG",
        data=_dng_of(PHOTOS / "IMG_4120.JPG", captured_at="2019:06:09 12:57:33", **camera),
    )
    twin = _uploaded(
        photographer,
        PHOTOS / "IMG_4120.DNG",
        data=_dng_of(PHOTOS / "IMG_4120.JPG", captured_at="2019:06:09 12:57:32", **camera),
    )
    for photo in (jpeg, burst, twin):
        photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
        photo.refresh_from_db()

    assert burst.status != Photo.Status.PAIRED
    assert burst.paired_with_id is None
    assert "Same frame" not in burst.reject_detail
    assert twin.status == Photo.Status.PAIRED, twin.reject_detail
    assert twin.paired_with_id == jpeg.pk


def test_same_file_in_another_library_is_not_a_duplicate(
    photographer: User, other_photographer: User
) -> None:
    mine = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    theirs = _uploaded(other_photographer, PHOTOS / "cat_brown.jpg")
    photo_ingest(photo_id=mine.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=theirs.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    theirs.refresh_from_db()
    assert theirs.status == Photo.Status.AWAITING_SCORE


@pytest.fixture
def dynamodb_dedup(
    settings: Settings, dynalite_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The production configuration: Celery-side dedup in DynamoDB (a real dynalite server)."""
    # dynalite accepts any signature, but boto3 will not send an unsigned request.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dynalite")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dynalite")
    settings.DEDUP_STORE = "dynamodb"
    settings.DEDUP_ENDPOINT_URL = dynalite_endpoint
    settings.DEDUP_TABLE = f"dedup-{uuid.uuid4().hex[:8]}"
    create_table(make_client(dynalite_endpoint, settings.DEDUP_REGION), settings.DEDUP_TABLE)
    yield


@pytest.mark.usefixtures("dynamodb_dedup")
def test_duplicates_are_found_through_the_dynamodb_store(photographer: User) -> None:
    first = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    second = _uploaded(photographer, PHOTOS / "cat_brown.jpg")
    photo_ingest(photo_id=first.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo_ingest(photo_id=second.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    second.refresh_from_db()

    assert dedup_store(IngestConfig.from_settings().dedup).__class__.__name__ == "DynamoDbStore"
    assert second.reject_reason == Photo.RejectReason.DUPLICATE
    assert second.duplicate_of_id == first.pk
