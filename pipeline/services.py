"""Django-side orchestration of the ingest stage: storage in, pure core, results and status out."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from gallery import services as gallery_services
from gallery import shoot_services
from gallery.models import VALIDATOR_FLAG_FIELDS, Photo, validator_flag_words
from pipeline import lambda_mode
from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.stacking import StackRules
from pipeline.core.validator import Thresholds, ValidationResult, Verdict, validate
from pipeline.dedup.index import dedup_mark_not_duplicate, index_photo
from pipeline.dedup.rules import DedupOutcome, OutcomeKind, frame_key
from pipeline.dedup_config import dedup_scope, dedup_store

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


def validator_thresholds() -> Thresholds:
    return Thresholds.from_overrides(settings.VALIDATOR_THRESHOLDS)


def stack_rules() -> StackRules:
    return StackRules(settings.STACK_GAP_S, settings.STACK_MAX_PHASH, settings.STACK_MAX_DHASH)


def _read_original(photo: Photo) -> tuple[bytes, str]:
    """The original's bytes and sha256, streamed from storage in chunks (local or S3)."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with photo.original.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            buffer.write(chunk)
    return buffer.getvalue(), digest.hexdigest()


def _exif_columns(exif: Exif) -> dict[str, object]:
    # Cameras without an offset tag record local time of unknown zone; stored as UTC, so the
    # wall-clock reading is preserved and orders correctly within one shoot.
    captured = exif.captured_at
    if captured is not None and timezone.is_naive(captured):
        captured = captured.replace(tzinfo=UTC)
    return {
        "camera_make": exif.make or "",
        "camera_model": exif.model or "",
        "camera_serial": exif.body_serial or "",
        "lens": exif.lens or "",
        "captured_at": captured,
        "iso": exif.iso,
        "exposure_time_s": exif.exposure_time,
        "f_number": exif.f_number,
        "focal_length_mm": exif.focal_length_mm,
        "orientation": exif.orientation,
        "gps_lat": exif.gps_lat,
        "gps_lon": exif.gps_lon,
        "gps_alt": exif.gps_alt,
    }


def _replace_file(name: str, content: bytes) -> str:
    """Write a derived file under a fixed name, so a re-run replaces it instead of piling up."""
    default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def _result_columns(photo: Photo, result: ValidationResult) -> dict[str, object]:
    # A re-validation clears what the new verdict no longer says.
    raised = set(result.flags) | set(result.notes)
    return {
        "width": result.width,
        "height": result.height,
        **_exif_columns(result.exif),
        "sharpness": result.sharpness.score,
        "highlight_clip": result.exposure.highlight_clipped,
        "shadow_clip": result.exposure.shadow_clipped,
        "mean_luminance": result.exposure.mean_luminance,
        "validator_metrics": result.metrics_json(),
        "validator_reasons": list(result.reasons),
        "validator_verdict": result.verdict.value,
        **{column: code in raised for code, column in VALIDATOR_FLAG_FIELDS.items()},
        "phash": result.phash,
        "dhash": result.dhash,
        "jpeg_quality": result.jpeg_quality,
        **_store_previews(photo, result),
    }


def _store_previews(photo: Photo, result: ValidationResult) -> dict[str, str]:
    """Write the preview and thumbnail files; their storage names, by column."""
    return {
        "preview": _replace_file(
            f"previews/{photo.uid.hex}.jpg", result.previews[settings.PREVIEW_LONG_EDGE]
        ),
        "thumbnail": _replace_file(
            f"thumbnails/{photo.uid.hex}.jpg", result.previews[settings.THUMBNAIL_LONG_EDGE]
        ),
    }


# A clipped frame has no texture left to judge, so it also reads as soft: the exposure reason is
# the one that tells the photographer what went wrong.
_REASON_PRIORITY = (
    Photo.RejectReason.OVEREXPOSED,
    Photo.RejectReason.UNDEREXPOSED,
    Photo.RejectReason.BLURRY,
)


def _primary_reason(reasons: tuple[str, ...]) -> str:
    return next((r for r in _REASON_PRIORITY if r in reasons), reasons[0])


# What the photographer reads first when a file cannot be read; the validator's own detail
# follows in brackets. The reason code itself stays in the data (API, filters), not the words.
_UNREADABLE_WORDS: dict[UnreadableReason, str] = {
    UnreadableReason.EMPTY: "The file is empty",
    UnreadableReason.TRUNCATED: "The file is cut short, so the image could not be read",
    UnreadableReason.UNSUPPORTED: "This file is not an image format Parjanya can read",
    UnreadableReason.CORRUPT: "The image data in this file is damaged",
    UnreadableReason.NO_SENSOR_DATA: "This RAW file holds no usable sensor data",
    UnreadableReason.TOO_LARGE: "The image is too large to process",
    UnreadableReason.TIMEOUT: "Reading the image took too long",
}


# Exception texts can carry what a photographer must never read: object reprs
# ("<_io.BytesIO object at 0x7f...>") and server file paths. Both are cut out; the rest stays.
_OBJECT_REPR = re.compile(r"\s*<[^<>]*\bat 0x[0-9a-fA-F]+>")
_SERVER_PATH = re.compile(r"""\s*['"]?(?<![\w.~])(?:[A-Za-z]:)?(?:[/\\][^\s/\\'"]+){2,}['"]?""")


def for_people(text: str) -> str:
    """`text` without object reprs and server paths, for a photographer to read."""
    text = _SERVER_PATH.sub("", _OBJECT_REPR.sub("", text))
    return re.sub(r"\s{2,}", " ", text).strip().rstrip(":;,").strip()


def unreadable_words(unreadable: UnreadableImage) -> str:
    """The photographer-facing reason for an unreadable file. The validator words its details
    for people; `for_people` still guards against a library's message that slips through, and
    the reason's general sentence stands in when nothing is left. The reason code stays in the
    data, not here."""
    return for_people(unreadable.detail) or f"{_UNREADABLE_WORDS[unreadable.reason]}."


def _sent_on_detail(result: ValidationResult) -> str:
    """The event detail of a frame that goes on: its flags and notes in words, or nothing."""
    return "; ".join(validator_flag_words(code) for code in (*result.flags, *result.notes))


@dataclass(frozen=True)
class _Judgement:
    """What the validator said about an original, from this process or from the Lambda."""

    sha256: str
    size_bytes: int
    result: ValidationResult | None
    unreadable: UnreadableImage | None
    # Set when the validator Lambda already filed the photo in the shared index.
    dedup: DedupOutcome | None = None


def _validate_with_previews(photo: Photo, data: bytes) -> ValidationResult:
    return validate(
        data,
        validator_thresholds(),
        filename=photo.original_filename,
        preview_edges=(settings.PREVIEW_LONG_EDGE, settings.THUMBNAIL_LONG_EDGE),
    )


def _judge_in_process(photo: Photo) -> _Judgement:
    data, sha256 = _read_original(photo)
    try:
        result = _validate_with_previews(photo, data)
    except UnreadableImage as unreadable:
        return _Judgement(sha256, len(data), None, unreadable)
    return _Judgement(sha256, len(data), result, None)


def _judge_by_lambda(photo: Photo) -> _Judgement:
    """The validator Lambda already judged this object: take its verdict, don't re-read it."""
    found = lambda_mode.lambda_validation(key=str(photo.original.name))
    dedup = None
    if found.dedup is not None:
        other = (
            Photo.objects.filter(original=found.dedup.other_key)
            .values_list("pk", flat=True)
            .first()
        )
        dedup = DedupOutcome(OutcomeKind(found.dedup.kind), other, found.dedup.distance)
    return _Judgement(found.sha256, found.size_bytes, found.result, found.unreadable, dedup)


def _index(photo: Photo, result: ValidationResult) -> DedupOutcome:
    return index_photo(
        dedup_store(),
        scope=dedup_scope(owner_id=photo.owner_id),
        photo_id=photo.pk,
        phash=result.phash,
        dhash=result.dhash,
        frame=frame_key(result, photo.original_filename),
        radius=settings.DEDUP_RADIUS,
        dhash_radius=settings.DEDUP_DHASH_RADIUS,
    )


# In a library shared across photographers (DEDUP_SCOPE=global), what a photographer reads about
# a match in someone else's photos: neither its file name nor its id.
SOMEONE_ELSES_COPY = "A copy of this photo is already in the library."
SOMEONE_ELSES_FRAME = "The same frame is already in the library; that file is scored for both."


def _record_dedup_outcome(
    photo: Photo,
    outcome: DedupOutcome,
    *,
    scoring_enabled: bool,
    cause: str = "validator passed",
    detail: str = "",
) -> None:
    """Move a frame the validator sent on: to scoring (or to review unscored when no scorer is
    configured), paired, or rejected as a duplicate. `cause` and `detail` describe the
    validator's verdict on the event that moves it on."""
    other = Photo.objects.filter(pk=outcome.other_id).first() if outcome.other_id else None
    if outcome.kind is OutcomeKind.ORIGINAL or other is None:
        if scoring_enabled:
            gallery_services.photo_queue_for_scoring(photo_id=photo.pk, cause=cause, detail=detail)
        else:
            gallery_services.photo_mark_unscored(photo_id=photo.pk, cause=cause, detail=detail)
        return
    own = other.owner_id == photo.owner_id
    if outcome.kind is OutcomeKind.PAIRED:
        gallery_services.photo_mark_paired(
            photo_id=photo.pk,
            partner_id=other.pk,
            detail=(
                f"Same frame as {other.original_filename}; that file is scored for both."
                if own
                else SOMEONE_ELSES_FRAME
            ),
        )
        return
    # The group hangs off whichever copy came first; the same bytes may be another member.
    same_file = (
        Photo.objects.filter(owner_id=photo.owner_id, sha256=photo.sha256, pk__lt=photo.pk)
        .order_by("pk")
        .first()
        if photo.sha256
        else None
    )
    identical = same_file is not None
    if not own:
        why = SOMEONE_ELSES_COPY
    elif same_file is not None:
        why = f"Same file as {same_file.original_filename}, uploaded earlier."
    else:
        why = (
            f"Near-duplicate of {other.original_filename} "
            f"({outcome.distance} of 64 hash bits differ)."
        )
    gallery_services.photo_reject(
        photo_id=photo.pk,
        reason=Photo.RejectReason.DUPLICATE,
        detail=why,
        cause="exact duplicate" if identical else "near-duplicate",
        # Kept for curators (duplicate groups); the API shows it only within one owner.
        duplicate_of_id=other.pk,
    )


def photo_ingest(*, photo_id: int, scoring_enabled: bool) -> None:
    """Run the ingest stage for one uploaded photo: validate, then dedup what passed. An original
    that passes waits for its score, or goes straight to review as `unscored` when no scorer is
    configured (`scoring_enabled`, settings.SCORING_ENABLED at the entry point).

    Idempotent: a photo that has left `uploaded` (or that a curator decided) is not touched
    again, and a redelivered task that died half way repeats the same writes (fixed preview
    names, an index entry keyed by the photo id).
    """
    photo = Photo.objects.get(pk=photo_id)
    if photo.status != Photo.Status.UPLOADED or photo.curator_decision:
        logger.info("photo %s is %s; ingest has nothing to do", photo_id, photo.status)
        return
    try:
        judged = (
            _judge_by_lambda(photo)
            if settings.PIPELINE_VALIDATION == "lambda"
            else _judge_in_process(photo)
        )
    except lambda_mode.LambdaResultError as missing:
        gallery_services.photo_mark_failed(
            photo_id=photo.pk, detail=str(missing), cause="validator Lambda result"
        )
        return
    columns: dict[str, object] = {"sha256": judged.sha256, "size_bytes": judged.size_bytes}
    if judged.result is None:
        assert judged.unreadable is not None
        unreadable = judged.unreadable
        if unreadable.exif is not None:
            columns |= _exif_columns(unreadable.exif)
        if (
            gallery_services.photo_record_measurements(photo_id=photo.pk, measurements=columns)
            is None
        ):
            return
        gallery_services.photo_reject(
            photo_id=photo.pk,
            reason=Photo.RejectReason.UNREADABLE,
            detail=unreadable_words(unreadable),
            cause=f"validator could not read the image ({unreadable.reason.value})",
        )
        return
    result = judged.result
    recorded = gallery_services.photo_record_measurements(
        photo_id=photo.pk, measurements=columns | _result_columns(photo, result)
    )
    if recorded is None:
        return
    photo = recorded
    if not result.passed:
        # Rejected frames stay out of the index: a sharper retake must not match a blurry one.
        gallery_services.photo_reject(
            photo_id=photo.pk,
            reason=_primary_reason(result.reasons),
            detail=result.describe(),
            cause="validator verdict",
        )
        return
    # Borderline frames go on like passes: a bad frame let through costs a second of GPU time,
    # a good frame rejected is a lost photo. The flags stay on the photo for people to see.
    borderline = result.verdict is Verdict.BORDERLINE
    _record_dedup_outcome(
        photo,
        judged.dedup or _index(photo, result),
        scoring_enabled=scoring_enabled,
        cause="validator: borderline, sent on" if borderline else "validator passed",
        detail=_sent_on_detail(result),
    )
    shoot_services.photo_stack(photo_id=photo.pk, rules=stack_rules())


def photo_regenerate_previews(*, photo_id: int) -> Photo:
    """Render the preview and thumbnail again from the original; nothing else on the photo
    changes. Raises UnreadableImage when the original cannot be decoded."""
    photo = Photo.objects.get(pk=photo_id)
    data, _ = _read_original(photo)
    for column, name in _store_previews(photo, _validate_with_previews(photo, data)).items():
        setattr(photo, column, name)
    photo.save(update_fields=["preview", "thumbnail", "updated_at"])
    return photo


def photo_ingest_gave_up(*, photo_id: int, detail: str) -> None:
    """Record that ingest gave up; the photographer reads `detail`, reprs and paths cut out."""
    gallery_services.photo_mark_failed(
        photo_id=photo_id, detail=for_people(detail), cause="ingest gave up"
    )


def photo_mark_not_duplicate(*, photo_id: int, curator: User, scoring_enabled: bool) -> Photo:
    """A curator's "not a duplicate": remembered by the index, so the pair never matches again,
    and the photo goes on to scoring (or is paired) as the index now decides."""
    photo = Photo.objects.select_related("duplicate_of").get(pk=photo_id)
    if photo.duplicate_of_id is None:
        raise NotADuplicate(f"{photo.original_filename} is not marked as a duplicate")
    original_name = photo.duplicate_of.original_filename if photo.duplicate_of else "its match"
    outcome = dedup_mark_not_duplicate(
        dedup_store(),
        scope=dedup_scope(owner_id=photo.owner_id),
        photo_id=photo.pk,
        other_id=photo.duplicate_of_id,
        radius=settings.DEDUP_RADIUS,
        dhash_radius=settings.DEDUP_DHASH_RADIUS,
    )
    with transaction.atomic():
        Photo.objects.filter(pk=photo.pk).update(duplicate_of=None)
        gallery_services.photo_reset_for_reprocessing(
            photo_id=photo.pk,
            to_status=Photo.Status.UPLOADED,
            cause=f"{curator.get_username()}: not a duplicate of {original_name}",
        )
        photo.refresh_from_db()
        if outcome is None:
            # Not in the index (validated before dedup existed): run the whole ingest again.
            transaction.on_commit(lambda: gallery_services.photo_enqueue_ingest(photo_id=photo_id))
        else:
            _record_dedup_outcome(photo, outcome, scoring_enabled=scoring_enabled)
    photo.refresh_from_db()
    return photo


class NotADuplicate(Exception):
    """The photo has no duplicate link to undo."""
