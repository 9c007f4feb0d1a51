"""Lambda mode end to end (SeaweedFS, dynalite, PostgreSQL): the validator Lambda and the Django
ingest file a photo under one identity and scope, in one index, and only frames that go on.
A curator's "not a duplicate" and backfill judge again; no stored verdict is replayed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image, ImageFilter
from pytest_django import Settings as DjangoSettings

from gallery.direct_upload import photo_create_from_object
from gallery.models import Photo
from pipeline.config import IngestConfig
from pipeline.core.formats import ImageFormat
from pipeline.lambda_handler import Runtime, Settings, handle_event
from pipeline.services import photo_ingest, photo_mark_not_duplicate
from tests.pipeline.lambda_handler.conftest import LambdaWorld
from tests.pipeline.lambda_handler.events import s3_event, s3_record
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db

ELEPHANTS = PHOTOS / "elephants.jpg"


def _jpeg(source: Path, *, blur: float = 0.0, keep: float = 1.0) -> bytes:
    """`source` re-encoded: blurred by `blur` px, or cut to the top-left `keep` of each side."""
    image = Image.open(source).convert("RGB")
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if keep < 1.0:
        image = image.crop((0, 0, int(image.width * keep), int(image.height * keep)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _upload(world: LambdaWorld, bucket: str, owner: User, name: str, content: bytes) -> Photo:
    """As a direct upload: the object lands with its owner metadata, the Lambda judges it on
    the S3 event, and the Photo's ingest takes that verdict."""
    key = f"originals/{name[:2]}/{name}"
    client = default_storage.connection.meta.client  # type: ignore[attr-defined]
    response = client.put_object(
        Bucket=bucket, Key=key, Body=content, Metadata={"owner": str(owner.pk), "filename": name}
    )
    photo = photo_create_from_object(
        owner_id=owner.pk, key=key, filename=name, fmt=ImageFormat.JPEG, size_bytes=len(content)
    )
    record = s3_record(bucket, key, etag=response["ETag"], size=len(content))
    assert handle_event(s3_event(record), world.runtime) == {"batchItemFailures": []}
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()
    return photo


def _backfill(*args: str, tmp_path: Path) -> None:
    call_command(
        "backfill", *args, "--inline", "--checkpoint-dir", str(tmp_path), stdout=io.StringIO()
    )


def test_a_sharp_retake_after_a_blurred_frame_is_not_its_duplicate(
    lambda_mode: str, lambda_world: LambdaWorld, photographer: User
) -> None:
    blurred = _upload(
        lambda_world, lambda_mode, photographer, "blurred.jpg", _jpeg(ELEPHANTS, blur=4)
    )
    retake = _upload(lambda_world, lambda_mode, photographer, "retake.jpg", _jpeg(ELEPHANTS))

    assert (blurred.status, blurred.reject_reason) == ("rejected", "blurry")
    # The blurred frame's pHash is the retake's (0 of 64 bits differ): only keeping rejected
    # frames out of the index lets the retake through.
    assert blurred.phash == retake.phash
    assert retake.status == "awaiting_score"
    assert retake.duplicate_of_id is None


def test_not_a_duplicate_sticks_through_a_later_backfill(
    lambda_mode: str, lambda_world: LambdaWorld, photographer: User, tmp_path: Path
) -> None:
    first = _upload(lambda_world, lambda_mode, photographer, "first.jpg", _jpeg(ELEPHANTS))
    copy = _upload(lambda_world, lambda_mode, photographer, "copy.jpg", _jpeg(ELEPHANTS))
    assert (copy.status, copy.reject_reason, copy.duplicate_of_id) == (
        "rejected",
        "duplicate",
        first.pk,
    )
    curator = get_user_model().objects.create_user("curator", password="pw-curator-1234")

    photo_mark_not_duplicate(
        photo_id=copy.pk, curator=curator, config=IngestConfig.from_settings(scoring_enabled=True)
    )
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of_id) == ("awaiting_score", None)

    # Judged again from the start (in lambda mode too): the Lambda's stored "duplicate" is not
    # replayed, and the index remembers the curator's word.
    _backfill("--stage", "validate", "--ids", f"{first.pk},{copy.pk}", tmp_path=tmp_path)
    _backfill("--stage", "dedup", "--ids", f"{first.pk},{copy.pk}", tmp_path=tmp_path)
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of_id) == ("awaiting_score", None)
    assert copy.events.filter(to_status="rejected").count() == 1


def test_backfill_applies_new_thresholds_in_lambda_mode(
    lambda_mode: str, lambda_world: LambdaWorld, photographer: User, tmp_path: Path
) -> None:
    # The Lambda judged with a sharpness bar no photo clears; Django has the defaults.
    strict = {**lambda_world.env, "VALIDATOR_THRESHOLDS": '{"min_sharpness": 1000.0}'}
    lambda_world.runtime = Runtime(
        Settings.from_env(strict), s3=lambda_world.s3, dynamodb=lambda_world.runtime.dynamodb
    )
    photo = _upload(lambda_world, lambda_mode, photographer, "sharp.jpg", _jpeg(ELEPHANTS))
    assert (photo.status, photo.reject_reason) == ("rejected", "blurry")

    _backfill("--stage", "validate", "--ids", str(photo.pk), tmp_path=tmp_path)

    photo.refresh_from_db()
    assert photo.status == "awaiting_score"
    # Now filed in the shared index: the Lambda turns a copy away as its duplicate.
    lambda_world.runtime = Runtime(
        Settings.from_env(lambda_world.env),
        s3=lambda_world.s3,
        dynamodb=lambda_world.runtime.dynamodb,
    )
    copy = _upload(lambda_world, lambda_mode, photographer, "again.jpg", _jpeg(ELEPHANTS))
    assert (copy.reject_reason, copy.duplicate_of_id) == ("duplicate", photo.pk)


def test_backfill_dedup_decides_again_at_a_new_radius(
    lambda_mode: str,
    lambda_world: LambdaWorld,
    photographer: User,
    tmp_path: Path,
    settings: DjangoSettings,
) -> None:
    first = _upload(lambda_world, lambda_mode, photographer, "whole.jpg", _jpeg(ELEPHANTS))
    # 4 of 64 pHash bits from the whole frame: a duplicate at the default radius of 8.
    cut = _upload(lambda_world, lambda_mode, photographer, "cut.jpg", _jpeg(ELEPHANTS, keep=0.97))
    assert (cut.reject_reason, cut.duplicate_of_id) == ("duplicate", first.pk)

    settings.DEDUP_RADIUS = 3
    _backfill("--stage", "dedup", "--ids", f"{first.pk},{cut.pk}", tmp_path=tmp_path)

    cut.refresh_from_db()
    first.refresh_from_db()
    assert (cut.status, cut.duplicate_of_id) == ("awaiting_score", None)
    assert first.status == "awaiting_score"
    assert cut.events.last().cause == "validator passed"  # type: ignore[union-attr]

    settings.DEDUP_RADIUS = 8
    _backfill("--stage", "dedup", "--ids", f"{first.pk},{cut.pk}", tmp_path=tmp_path)

    cut.refresh_from_db()
    assert (cut.status, cut.reject_reason, cut.duplicate_of_id) == (
        "rejected",
        "duplicate",
        first.pk,
    )
