"""Django-side orchestration of the ingest stage: storage in, pure core, results and status out."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from gallery import services as gallery_services
from gallery.models import Photo
from pipeline import lambda_mode
from pipeline.core.errors import UnreadableImage
from pipeline.core.exif import Exif
from pipeline.core.validator import Thresholds, ValidationResult, validate

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


def validator_thresholds() -> Thresholds:
    return Thresholds.from_overrides(settings.VALIDATOR_THRESHOLDS)


def _read_original(photo: Photo) -> tuple[bytes, str]:
    """The original's bytes and sha256, streamed from storage in chunks (local or S3)."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with photo.original.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            buffer.write(chunk)
    return buffer.getvalue(), digest.hexdigest()


def _exact_duplicate_of(photo: Photo) -> Photo | None:
    """The earliest upload with the same bytes in the owner's library. Choosing by id, not by
    processing order, gives the same answer whichever worker runs first."""
    return (
        Photo.objects.filter(owner_id=photo.owner_id, sha256=photo.sha256, pk__lt=photo.pk)
        .order_by("pk")
        .first()
    )


def _apply_exif(photo: Photo, exif: Exif) -> None:
    photo.camera_make = exif.make or ""
    photo.camera_model = exif.model or ""
    photo.lens = exif.lens or ""
    # Cameras without an offset tag record local time of unknown zone; stored as UTC, so the
    # wall-clock reading is preserved and orders correctly within one shoot.
    captured = exif.captured_at
    if captured is not None and timezone.is_naive(captured):
        captured = captured.replace(tzinfo=UTC)
    photo.captured_at = captured
    photo.iso = exif.iso
    photo.exposure_time_s = exif.exposure_time
    photo.f_number = exif.f_number
    photo.focal_length_mm = exif.focal_length_mm
    photo.orientation = exif.orientation
    photo.gps_lat = exif.gps_lat
    photo.gps_lon = exif.gps_lon
    photo.gps_alt = exif.gps_alt


def _replace_file(name: str, content: bytes) -> str:
    """Write a derived file under a fixed name, so a re-run replaces it instead of piling up."""
    default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def _apply_result(photo: Photo, result: ValidationResult) -> None:
    photo.width = result.width
    photo.height = result.height
    _apply_exif(photo, result.exif)
    photo.sharpness = result.sharpness.score
    photo.highlight_clip = result.exposure.highlight_clipped
    photo.shadow_clip = result.exposure.shadow_clipped
    photo.mean_luminance = result.exposure.mean_luminance
    photo.validator_metrics = result.metrics_json()
    photo.validator_reasons = list(result.reasons)
    photo.phash = result.phash
    photo.dhash = result.dhash
    photo.preview = _replace_file(
        f"previews/{photo.uid.hex}.jpg", result.previews[settings.PREVIEW_LONG_EDGE]
    )
    photo.thumbnail = _replace_file(
        f"thumbnails/{photo.uid.hex}.jpg", result.previews[settings.THUMBNAIL_LONG_EDGE]
    )


# A clipped frame has no texture left to judge, so it also reads as soft: the exposure reason is
# the one that tells the photographer what went wrong.
_REASON_PRIORITY = (
    Photo.RejectReason.OVEREXPOSED,
    Photo.RejectReason.UNDEREXPOSED,
    Photo.RejectReason.BLURRY,
)


def _primary_reason(reasons: tuple[str, ...]) -> str:
    return next((r for r in _REASON_PRIORITY if r in reasons), reasons[0])


def photo_ingest(*, photo_id: int) -> None:
    """Run the ingest stage for one uploaded photo. Idempotent: a photo that has left `uploaded`
    (or that a curator decided) is not touched again."""
    photo = Photo.objects.get(pk=photo_id)
    if photo.status != Photo.Status.UPLOADED or photo.curator_decision:
        logger.info("photo %s is %s; ingest has nothing to do", photo_id, photo.status)
        return
    data = b""
    result: ValidationResult | None = None
    unreadable: UnreadableImage | None = None
    if settings.PIPELINE_VALIDATION == "lambda":
        # The validator Lambda already judged this object: take its verdict, don't re-read it.
        try:
            found = lambda_mode.lambda_validation(key=photo.original.name)
        except lambda_mode.LambdaResultError as missing:
            gallery_services.photo_mark_failed(
                photo_id=photo.pk, detail=str(missing), cause="validator Lambda result"
            )
            return
        photo.sha256, photo.size_bytes = found.sha256, found.size_bytes
        result, unreadable = found.result, found.unreadable
    else:
        data, photo.sha256 = _read_original(photo)
        photo.size_bytes = len(data)
    duplicate = _exact_duplicate_of(photo)
    if duplicate is not None:
        photo.save(update_fields=["sha256", "size_bytes", "updated_at"])
        gallery_services.photo_reject(
            photo_id=photo.pk,
            reason=Photo.RejectReason.DUPLICATE,
            detail=f"Same file as {duplicate.original_filename}, uploaded earlier.",
            cause="exact duplicate (sha256)",
            duplicate_of_id=duplicate.pk,
        )
        return
    if result is None and unreadable is None:
        try:
            result = validate(
                data,
                validator_thresholds(),
                filename=photo.original_filename,
                preview_edges=(settings.PREVIEW_LONG_EDGE, settings.THUMBNAIL_LONG_EDGE),
            )
        except UnreadableImage as error:
            unreadable = error
    if result is None:
        assert unreadable is not None
        if unreadable.exif is not None:
            _apply_exif(photo, unreadable.exif)
        photo.save()
        gallery_services.photo_reject(
            photo_id=photo.pk,
            reason=Photo.RejectReason.UNREADABLE,
            detail=f"{unreadable.reason.value}: {unreadable.detail}",
            cause="validator could not read the image",
        )
        return
    with transaction.atomic():
        _apply_result(photo, result)
        photo.save()
        if result.passed:
            gallery_services.photo_queue_for_scoring(photo_id=photo.pk)
        else:
            gallery_services.photo_reject(
                photo_id=photo.pk,
                reason=_primary_reason(result.reasons),
                detail=result.describe(),
                cause="validator verdict",
            )


def photo_ingest_gave_up(*, photo_id: int, detail: str) -> None:
    gallery_services.photo_mark_failed(photo_id=photo_id, detail=detail, cause="ingest gave up")
