"""Photos at any point of their life, built from real pictures. Files go through Django storage
and every status change through the gallery services, as the pipeline itself would do it."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps
from skimage import data as skdata

from gallery import services
from gallery.models import Photo, PhotoEvent
from pipeline.config import IngestConfig
from pipeline.services import photo_ingest as pipeline_ingest
from tests.support.paths import PHOTOS

Status = Photo.Status


def source_bytes(source: str) -> bytes:
    """A real photo: a file name under tests/support/paths.PHOTOS, or `skimage:<name>` for one
    of scikit-image's sample pictures (encoded as JPEG)."""
    if source.startswith("skimage:"):
        pixels = np.asarray(getattr(skdata, source.removeprefix("skimage:"))())
        buffer = io.BytesIO()
        Image.fromarray(pixels).convert("RGB").save(buffer, "JPEG", quality=90)
        return buffer.getvalue()
    return (PHOTOS / source).read_bytes()


def _resized_jpeg(image: Image.Image, long_edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((long_edge, long_edge))
    buffer = io.BytesIO()
    copy.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def photo_stored(*, owner: User, filename: str, content: bytes) -> Photo:
    """A JPEG stored as a new photo's original, status `uploaded`, no event written."""
    key = default_storage.save(services.original_storage_key(fmt="jpeg"), ContentFile(content))
    return Photo.objects.create(
        owner=owner,
        original=key,
        original_filename=filename,
        format="jpeg",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def photo_uploaded(
    *, owner: User, source: str = "cat_brown.jpg", filename: str | None = None
) -> Photo:
    """A photo just uploaded: original stored, status `uploaded`, nothing measured yet."""
    name = filename or Path(source.removeprefix("skimage:")).with_suffix(".jpg").name
    photo = photo_stored(owner=owner, filename=name, content=source_bytes(source))
    PhotoEvent.objects.create(photo=photo, to_status=Status.UPLOADED, cause="upload", actor=owner)
    return photo


def photo_ingest(photo: Photo, **measurements: Any) -> Photo:
    """What the ingest stage leaves behind: a preview and a thumbnail, dimensions and metrics.
    A file Pillow cannot read is rejected as unreadable; otherwise the photo is queued for
    scoring. `measurements` override the Photo fields (sharpness, clipping, camera...)."""
    with default_storage.open(str(photo.original.name), "rb") as handle:
        content = handle.read()
    try:
        # Right side up, with the size as displayed, as the validator leaves them.
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(content)))
    except OSError as error:
        return services.photo_reject(
            photo_id=photo.pk,
            reason=Photo.RejectReason.UNREADABLE,
            detail=f"The file could not be decoded: {error}.",
            cause="validator could not read the image",
        )
    photo.width, photo.height = image.size
    photo.preview = default_storage.save(
        f"previews/{photo.uid.hex}.jpg", ContentFile(_resized_jpeg(image, 1600))
    )
    photo.thumbnail = default_storage.save(
        f"thumbnails/{photo.uid.hex}.jpg", ContentFile(_resized_jpeg(image, 400))
    )
    defaults: dict[str, Any] = {"sharpness": 120.0, "highlight_clip": 0.002, "shadow_clip": 0.001}
    for field, value in {**defaults, **measurements}.items():
        setattr(photo, field, value)
    photo.save()
    return services.photo_queue_for_scoring(photo_id=photo.pk)


def make_photo(
    *,
    owner: User,
    source: str = "cat_brown.jpg",
    status: str = Status.AWAITING_SCORE,
    filename: str | None = None,
    reason: str = Photo.RejectReason.BLURRY,
    detail: str = "",
    duplicate_of: Photo | None = None,
    score: float = 0.75,
    runtime_ms: float = 900.0,
    **measurements: Any,
) -> Photo:
    """A photo brought to `status` the way the pipeline would: ingest, then a rejection or a
    score."""
    photo = photo_uploaded(owner=owner, source=source, filename=filename)
    if status == Status.UPLOADED:
        return photo
    photo = photo_ingest(photo, **measurements)
    if status == Status.AWAITING_SCORE:
        return photo
    if status == Status.REJECTED and reason != Photo.RejectReason.LOW_SCORE:
        # The pipeline rejects from `awaiting_score` too (dedup runs after the validator).
        return services.photo_reject(
            photo_id=photo.pk,
            reason=reason,
            detail=detail or f"{reason} (test)",
            cause="dedup" if reason == Photo.RejectReason.DUPLICATE else "validator",
            duplicate_of_id=duplicate_of.pk if duplicate_of else None,
        )
    return services.photo_record_score(
        photo_id=photo.pk,
        score=score if status != Status.REJECTED else min(score, 0.2),
        model_id="test-vlm",
        model_revision="0",
        runtime_ms=runtime_ms,
        threshold=0.4,
    )


def photo_ingested(*, owner: User, filename: str, content: bytes) -> Photo:
    """A JPEG through the real ingest (validator, dedup, shoots and stacks), scoring off."""
    photo = photo_stored(owner=owner, filename=filename, content=content)
    pipeline_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=False))
    photo.refresh_from_db()
    return photo
