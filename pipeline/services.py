"""Django-side orchestration of the ingest stage: storage in, pure core, results and status out."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Literal

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from gallery import services as gallery_services
from gallery import shoot_services
from gallery.models import VALIDATOR_FLAG_FIELDS, Photo, validator_flag_words
from pipeline import lambda_mode
from pipeline.config import IngestConfig, dedup_store
from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.validator import ValidationResult, Verdict, validate
from pipeline.dedup.identity import dedup_photo_id, enters_index
from pipeline.dedup.index import (
    dedup_mark_not_duplicate,
    index_photo,
    matched_key,
    redecide_photo,
    remove_photo,
)
from pipeline.dedup.rules import DedupOutcome, OutcomeKind, frame_key

logger = logging.getLogger(__name__)


def _read_original(photo: Photo) -> tuple[bytes, str]:
    """The original's bytes and sha256. One read, so a 200 MB RAW is held once (chunks copied
    into a buffer were held twice at the end). The upload handler hashed the bytes as they
    arrived; only originals that came another way (direct S3 uploads) are hashed here."""
    with photo.original.open("rb") as source:
        data = source.read()
    return data, photo.sha256 or hashlib.sha256(data).hexdigest()


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


def _result_columns(
    photo: Photo, result: ValidationResult, config: IngestConfig
) -> dict[str, object]:
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
        **_store_previews(photo, result, config),
    }


def _store_previews(photo: Photo, result: ValidationResult, config: IngestConfig) -> dict[str, str]:
    """Write the preview and thumbnail files; their storage names, by column."""
    return {
        "preview": _replace_file(
            f"previews/{photo.uid.hex}.jpg", result.previews[config.preview_edge]
        ),
        "thumbnail": _replace_file(
            f"thumbnails/{photo.uid.hex}.jpg", result.previews[config.thumbnail_edge]
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
class _Match:
    """A dedup outcome with the photo it points at (None for an original, or when that photo
    is gone)."""

    kind: OutcomeKind
    other: Photo | None
    distance: int | None


@dataclass(frozen=True)
class _Judgement:
    """What the validator said about an original, from this process or from the Lambda."""

    sha256: str
    size_bytes: int
    result: ValidationResult | None
    unreadable: UnreadableImage | None
    # Set when the validator Lambda already filed the photo in the shared index.
    dedup: _Match | None = None


def _validate_with_previews(photo: Photo, data: bytes, config: IngestConfig) -> ValidationResult:
    return validate(
        data,
        config.thresholds,
        filename=photo.original_filename,
        preview_edges=config.preview_edges,
    )


def _judge_in_process(photo: Photo, config: IngestConfig) -> _Judgement:
    data, sha256 = _read_original(photo)
    try:
        result = _validate_with_previews(photo, data, config)
    except UnreadableImage as unreadable:
        return _Judgement(sha256, len(data), None, unreadable)
    return _Judgement(sha256, len(data), result, None)


def _by_key(key: str | None) -> Photo | None:
    return None if not key else Photo.objects.filter(original=key).first()


def _judge_by_lambda(photo: Photo, config: IngestConfig) -> _Judgement:
    """The validator Lambda already judged this object: take its verdict, don't re-read it."""
    found = lambda_mode.lambda_validation(key=str(photo.original.name), config=config)
    dedup = None
    if found.dedup is not None:
        dedup = _Match(
            OutcomeKind(found.dedup.kind), _by_key(found.dedup.other_key), found.dedup.distance
        )
    return _Judgement(found.sha256, found.size_bytes, found.result, found.unreadable, dedup)


def _dedup_id(photo: Photo) -> int:
    """The photo's id in the dedup index: the Lambda's too (`pipeline.dedup.identity`)."""
    return dedup_photo_id(str(photo.original.name))


def _resolve(photo: Photo, outcome: DedupOutcome, config: IngestConfig) -> _Match:
    """The index's outcome with its dedup id turned back into a Photo, through the storage key
    the index keeps."""
    key = matched_key(
        dedup_store(config.dedup),
        scope=config.dedup.scope(owner_id=photo.owner_id),
        outcome=outcome,
    )
    return _Match(outcome.kind, _by_key(key), outcome.distance)


def _file(photo: Photo, result: ValidationResult, config: IngestConfig, *, again: bool) -> _Match:
    """File a frame that goes on in the index. The first ingest files it once (a redelivered
    task gets the same answer); a later one (`again`: backfill, "not a duplicate" of a photo
    the index never saw) decides afresh at the current radius."""
    outcome = index_photo(
        dedup_store(config.dedup),
        scope=config.dedup.scope(owner_id=photo.owner_id),
        photo_id=_dedup_id(photo),
        key=str(photo.original.name),
        phash=result.phash,
        dhash=result.dhash,
        frame=frame_key(result, photo.original_filename),
        radius=config.dedup.radius,
        dhash_radius=config.dedup.dhash_radius,
        again=again,
    )
    return _resolve(photo, outcome, config)


def _unfile(photo: Photo, config: IngestConfig) -> None:
    """A frame judged again and rejected leaves the index: only frames that go on are in it."""
    remove_photo(
        dedup_store(config.dedup),
        scope=config.dedup.scope(owner_id=photo.owner_id),
        photo_id=_dedup_id(photo),
    )


def _judged_before(photo: Photo) -> bool:
    """Whether the photo has left `uploaded` before (backfill, "not a duplicate", a failure
    retried): then it is judged afresh, never by a verdict stored for an earlier pass."""
    return photo.events.filter(from_status=Photo.Status.UPLOADED).exists()


# In a library shared across photographers (DEDUP_SCOPE=global), what a photographer reads about
# a match in someone else's photos: neither its file name nor its id.
SOMEONE_ELSES_COPY = "A copy of this photo is already in the library."
SOMEONE_ELSES_FRAME = "The same frame is already in the library; that file is scored for both."


def _record_dedup_outcome(
    photo: Photo,
    outcome: _Match,
    *,
    scoring_enabled: bool,
    cause: str = "validator passed",
    detail: str = "",
) -> None:
    """Move a frame the validator sent on: to scoring (or to review unscored when no scorer is
    configured), paired, or rejected as a duplicate. `cause` and `detail` describe the
    validator's verdict on the event that moves it on."""
    other = outcome.other
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
    identical = same_file is not None or (bool(photo.sha256) and photo.sha256 == other.sha256)
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


def photo_ingest(*, photo_id: int, config: IngestConfig) -> None:
    """Run the ingest stage for one uploaded photo: validate, then dedup what passed. An original
    that passes waits for its score, or goes straight to review as `unscored` when no scorer is
    configured (`config.scoring_enabled`).

    In lambda mode the first ingest takes the validator Lambda's verdict; any later one
    (backfill, "not a duplicate", a failure retried) validates here with the current thresholds
    and decides dedup again at the current radius, so no stored verdict is replayed.

    Idempotent: a photo that has left `uploaded` (or that a curator decided) is not touched
    again, and a redelivered task that died half way repeats the same writes (fixed preview
    names, an index entry keyed by the photo's storage key).
    """
    photo = Photo.objects.get(pk=photo_id)
    if photo.status != Photo.Status.UPLOADED or photo.curator_decision:
        logger.info("photo %s is %s; ingest has nothing to do", photo_id, photo.status)
        return
    again = _judged_before(photo)
    try:
        judged = (
            _judge_by_lambda(photo, config)
            if config.lambda_results is not None and not again
            else _judge_in_process(photo, config)
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
        if again:
            _unfile(photo, config)
        gallery_services.photo_reject(
            photo_id=photo.pk,
            reason=Photo.RejectReason.UNREADABLE,
            detail=unreadable_words(unreadable),
            cause=f"validator could not read the image ({unreadable.reason.value})",
        )
        return
    result = judged.result
    recorded = gallery_services.photo_record_measurements(
        photo_id=photo.pk, measurements=columns | _result_columns(photo, result, config)
    )
    if recorded is None:
        return
    photo = recorded
    if not enters_index(result):
        if again:
            _unfile(photo, config)
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
    outcome = judged.dedup or _file(photo, result, config, again=again)
    # The move out of `uploaded` and the stacking commit together: a task that dies between
    # them would leave a photo that no redelivery ingests again and that is never stacked.
    with transaction.atomic():
        # The photographer's stacking lock before the photo's row lock, as everywhere else.
        shoot_services.lock_owner_of(photo_id=photo.pk)
        _record_dedup_outcome(
            photo,
            outcome,
            scoring_enabled=config.scoring_enabled,
            cause="validator: borderline, sent on" if borderline else "validator passed",
            detail=_sent_on_detail(result),
        )
        shoot_services.photo_stack(photo_id=photo.pk, rules=config.stack_rules)


def photo_regenerate_previews(*, photo_id: int, config: IngestConfig) -> Photo:
    """Render the preview and thumbnail again from the original; nothing else on the photo
    changes. Raises UnreadableImage when the original cannot be decoded."""
    photo = Photo.objects.get(pk=photo_id)
    data, _ = _read_original(photo)
    previews = _store_previews(photo, _validate_with_previews(photo, data, config), config)
    for column, name in previews.items():
        setattr(photo, column, name)
    photo.save(update_fields=["preview", "thumbnail", "updated_at"])
    return photo


def photo_ingest_gave_up(*, photo_id: int, detail: str) -> None:
    """Record that ingest gave up; the photographer reads `detail`, reprs and paths cut out."""
    gallery_services.photo_mark_failed(
        photo_id=photo_id, detail=for_people(detail), cause="ingest gave up"
    )


def _move_on(photo: Photo, outcome: _Match, *, cause: str, config: IngestConfig) -> None:
    """Back to `uploaded` without its old duplicate or pair link, then on as `outcome` says."""
    Photo.objects.filter(pk=photo.pk).update(duplicate_of=None, paired_with=None)
    gallery_services.photo_reset_for_reprocessing(
        photo_id=photo.pk, to_status=Photo.Status.UPLOADED, cause=cause
    )
    photo.refresh_from_db()
    _record_dedup_outcome(photo, outcome, scoring_enabled=config.scoring_enabled)


def photo_mark_not_duplicate(
    *,
    photo_id: int,
    curator: User,
    config: IngestConfig,
) -> Photo:
    """A curator's "not a duplicate": remembered by the index, so the pair never matches again,
    and the photo goes on to scoring (or is paired) as the index now decides."""
    photo = Photo.objects.select_related("duplicate_of").get(pk=photo_id)
    if photo.duplicate_of is None:
        raise NotADuplicate(f"{photo.original_filename} is not marked as a duplicate")
    original_name = photo.duplicate_of.original_filename
    outcome = dedup_mark_not_duplicate(
        dedup_store(config.dedup),
        scope=config.dedup.scope(owner_id=photo.owner_id),
        photo_id=_dedup_id(photo),
        other_id=_dedup_id(photo.duplicate_of),
        radius=config.dedup.radius,
        dhash_radius=config.dedup.dhash_radius,
    )
    cause = f"{curator.get_username()}: not a duplicate of {original_name}"
    with transaction.atomic():
        if outcome is None:
            # Not in the index (validated before dedup existed): judge it again from the
            # start. Its ingest sees it has left `uploaded` before, so it validates afresh.
            Photo.objects.filter(pk=photo.pk).update(duplicate_of=None)
            gallery_services.photo_reset_for_reprocessing(
                photo_id=photo.pk, to_status=Photo.Status.UPLOADED, cause=cause
            )
            transaction.on_commit(lambda: gallery_services.photo_enqueue_ingest(photo_id=photo_id))
        else:
            _move_on(photo, _resolve(photo, outcome, config), cause=cause, config=config)
    photo.refresh_from_db()
    return photo


DedupRedecision = Literal["changed", "unchanged", "not indexed"]


def _as_now(photo: Photo, outcome: _Match) -> bool:
    """Whether the photo already stands where `outcome` puts it."""
    other_id = outcome.other.pk if outcome.other is not None else None
    if outcome.kind is OutcomeKind.DUPLICATE and other_id is not None:
        return photo.status == Photo.Status.REJECTED and photo.duplicate_of_id == other_id
    if outcome.kind is OutcomeKind.PAIRED and other_id is not None:
        return photo.status == Photo.Status.PAIRED and photo.paired_with_id == other_id
    return photo.duplicate_of_id is None and photo.status != Photo.Status.PAIRED


def photo_redecide_dedup(*, photo_id: int, config: IngestConfig) -> DedupRedecision:
    """`backfill --stage dedup`: decide the photo's dedup again from the hashes the index holds,
    at the current radius (no image is read). A photo whose outcome changes moves to it: a
    duplicate that no longer matches goes on to scoring, a photo that now matches is rejected
    as a duplicate. Photos a curator decided are left alone."""
    photo = Photo.objects.get(pk=photo_id)
    if photo.curator_decision:
        return "unchanged"
    outcome = redecide_photo(
        dedup_store(config.dedup),
        scope=config.dedup.scope(owner_id=photo.owner_id),
        photo_id=_dedup_id(photo),
        radius=config.dedup.radius,
        dhash_radius=config.dedup.dhash_radius,
    )
    if outcome is None:
        return "not indexed"
    match = _resolve(photo, outcome, config)
    if _as_now(photo, match):
        return "unchanged"
    with transaction.atomic():
        _move_on(photo, match, cause="backfill: dedup decided again", config=config)
    return "changed"


class NotADuplicate(Exception):
    """The photo has no duplicate link to undo."""
