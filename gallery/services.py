"""Every write to a Photo goes through here. Each status transition is one function that writes
the new status and a PhotoEvent with its cause in the same transaction."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from celery import current_app
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from gallery import shoot_services, task_names
from gallery.filenames import sanitize_filename
from gallery.models import (
    VALIDATOR_FLAG_FIELDS,
    Photo,
    PhotoEvent,
    ReviewRequest,
)
from gallery.upload_handlers import HashedUpload
from pipeline.core.formats import FORMATS_IN_WORDS
from pipeline.core.sniff import sniff_format

logger = logging.getLogger(__name__)

UNSCORED_DETAIL = (
    "Passed the validator. Not scored: no model is configured (VLM_MODEL_PATH is empty). "
    "Once it is, `manage.py backfill --stage score` scores it."
)
Status = Photo.Status
Reason = Photo.RejectReason

# What a broker that is down or unreachable raises from a send (kombu wraps the client's own
# connection errors in OperationalError; a refused socket can surface as OSError).
BROKER_ERRORS = (KombuError, OSError)
# What a local disk or an S3 endpoint that cannot take a file raises.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class StorageUnavailable(Exception):
    """The file store could not take an original; nothing of that file was kept."""


class UploadRejected(Exception):
    """An upload refused before anything was stored; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def original_storage_key(*, fmt: str) -> str:
    """An unguessable key that leaks neither the owner nor the client's file name."""
    token = uuid.uuid4().hex
    return f"originals/{token[:2]}/{token}.{fmt}"


def original_object_metadata(*, owner_id: int, filename: str) -> dict[str, str]:
    """What the validator Lambda reads from an original in S3: its dedup scope and the client's
    file name. S3 metadata must be ASCII, hence the quoting."""
    return {"owner": str(owner_id), "filename": quote(filename)}


def not_a_format_we_take(filename: str) -> str:
    """Why a file whose content is none of our formats is refused, whichever way it came."""
    return (
        f"{filename} is not a picture format we take (checked by its content, not its name): "
        f"{FORMATS_IN_WORDS} are."
    )


def photo_create_from_upload(*, owner: User, upload: HashedUpload) -> Photo:
    """Store one uploaded file and create its Photo; the ingest task is enqueued on commit."""
    filename = sanitize_filename(upload.name or "")
    if upload.size == 0:
        raise UploadRejected("empty", f"{filename} is empty (0 bytes).")
    fmt = sniff_format(upload.head, filename)
    if fmt is None:
        raise UploadRejected("unsupported", not_a_format_we_take(filename))
    upload.object_metadata = original_object_metadata(owner_id=owner.pk, filename=filename)
    key = original_storage_key(fmt=fmt.value)
    try:
        key = default_storage.save(key, upload)
    except STORAGE_ERRORS as error:
        logger.error("storage refused an original: %s", error)
        _delete_quietly(key)
        raise StorageUnavailable from error
    try:
        return photo_record_original(
            owner_id=owner.pk,
            key=key,
            filename=filename,
            fmt=fmt.value,
            size_bytes=upload.size or 0,
            sha256=upload.sha256,
            cause="upload",
        )
    except BaseException:
        # Never leave an original without its row. The ingest is sent only after the commit
        # and never raises (photo_enqueue_ingest), so a row that exists never lands here.
        _delete_quietly(key)
        raise


def _delete_quietly(key: str) -> None:
    """Remove a partly or wholly written original whose upload failed; a store that is down
    for the write may be down for the delete too, and that must not hide the first error."""
    try:
        default_storage.delete(key)
    except STORAGE_ERRORS as error:
        logger.error("could not remove the unrecorded original %s: %s", key, error)


def photo_record_original(
    *,
    owner_id: int,
    key: str,
    filename: str,
    fmt: str,
    size_bytes: int,
    sha256: str = "",
    cause: str,
) -> Photo:
    """The Photo, in `uploaded`, for an original already in storage under `key`, with its first
    event; its ingest is enqueued on commit. Shared by the web upload and direct S3 uploads."""
    with transaction.atomic():
        photo = Photo.objects.create(
            owner_id=owner_id,
            original=key,
            original_filename=filename,
            format=fmt,
            size_bytes=size_bytes,
            sha256=sha256,
        )
        PhotoEvent.objects.create(
            photo=photo, from_status="", to_status=Status.UPLOADED, cause=cause, actor_id=owner_id
        )
        # robust: nothing that happens after the commit may undo the upload it committed.
        transaction.on_commit(lambda: photo_enqueue_ingest(photo_id=photo.pk), robust=True)
    return photo


# After a send fails, this process leaves the broker alone for this long: each failed send costs
# about 0.6 s (a refused connection, with kombu's retries), so a 100-file upload to a dead broker
# would otherwise outlast the web timeout. The reconciler sends what is skipped.
BROKER_BACKOFF_S = 10.0
_broker_down_until = 0.0


def photo_enqueue_ingest(*, photo_id: int) -> bool:
    """Hand the photo's ingest to the broker and note when. A broker that is down is logged,
    not raised: the photo is safely `uploaded`, and the reconciler sends it once the broker
    answers again. True when the broker took the message."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.warning("photo %s: broker down moments ago, left to the reconciler", photo_id)
        return False
    try:
        # By name, through the project's app: gallery sits below the pipeline and the wiring.
        current_app.send_task(task_names.INGEST_PHOTO, args=[photo_id])
    except BROKER_ERRORS as error:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_S
        logger.warning("photo %s: broker unavailable, left to the reconciler: %s", photo_id, error)
        return False
    Photo.objects.filter(pk=photo_id).update(ingest_queued_at=timezone.now())
    return True


def photo_reconcile_ingest(*, older_than_s: int, limit: int = 500) -> list[int]:
    """Send the ingest again for photos still `uploaded` whose message the broker never took,
    or took more than `older_than_s` ago: a broker that was down, a worker killed with the
    message in hand, a transport that never redelivers (kombu's filesystem broker). Returns the
    ids sent.

    Idempotent: each photo is marked queued in the transaction that picks it, and rows another
    reconciler holds are skipped, so one photo is sent once per `older_than_s` however many
    workers run this. A photo whose first message turns up after all is ingested once; the
    second message finds it no longer `uploaded`."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    stale = Q(ingest_queued_at__lt=cutoff) | Q(ingest_queued_at__isnull=True, created_at__lt=cutoff)
    with transaction.atomic():
        photo_ids = list(
            Photo.objects.select_for_update(skip_locked=True)
            .filter(stale, status=Status.UPLOADED, curator_decision="")
            .order_by("id")
            .values_list("pk", flat=True)[:limit]
        )
        Photo.objects.filter(pk__in=photo_ids).update(ingest_queued_at=now)
    sent: list[int] = []
    for photo_id in photo_ids:
        try:
            current_app.send_task(task_names.INGEST_PHOTO, args=[photo_id])
        except BROKER_ERRORS as error:
            unsent = photo_ids[len(sent) :]
            Photo.objects.filter(pk__in=unsent).update(ingest_queued_at=None)
            logger.warning("reconciler: broker unavailable, %d photos wait: %s", len(unsent), error)
            break
        sent.append(photo_id)
    if sent:
        logger.info("reconciler: re-sent the ingest of %d photos: %s", len(sent), sent)
    return sent


def _record_transition(
    photo: Photo,
    *,
    to_status: str,
    cause: str,
    reason: str = "",
    detail: str = "",
    event_detail: str = "",
    actor: User | None = None,
) -> Photo:
    """Write the new status and its audit row. The caller holds the row lock (select_for_update)
    and has checked that the transition is allowed. `detail` explains the status on the photo
    and its event; `event_detail` goes on the event alone (a photo that moves on has no reject
    detail, but its history says why it moved)."""
    from_status = photo.status
    photo.status = to_status
    photo.reject_reason = reason
    photo.reject_detail = detail
    photo.awaiting_score_since = timezone.now() if to_status == Status.AWAITING_SCORE else None
    photo.scoring_lease_owner = ""
    photo.scoring_lease_expires_at = None
    photo.save()
    PhotoEvent.objects.create(
        photo=photo,
        from_status=from_status,
        to_status=to_status,
        cause=cause,
        detail=detail or event_detail,
        reason=reason,
        actor=actor,
    )
    logger.info("photo %s: %s -> %s (%s)", photo.pk, from_status, to_status, cause)
    return photo


def _lock(photo_id: int) -> Photo:
    return Photo.objects.select_for_update().get(pk=photo_id)


def _pipeline_may_move(photo: Photo, *, expected: frozenset[str]) -> bool:
    """Pipeline stages only move photos that are where they expect them, and never override a
    curator: that is what makes every stage idempotent and a curator's decision final."""
    return not photo.curator_decision and photo.status in expected


_INGESTING = frozenset({Status.UPLOADED})
_SCORING = frozenset({Status.AWAITING_SCORE})
_IN_PIPELINE = frozenset({Status.UPLOADED, Status.AWAITING_SCORE})


# What the ingest stage measures on an original, and nothing else: status, scoring and curation
# columns change only through the transitions below.
MEASUREMENT_FIELDS = frozenset(
    {
        "sha256",
        "size_bytes",
        "width",
        "height",
        "camera_make",
        "camera_model",
        "camera_serial",
        "lens",
        "captured_at",
        "iso",
        "exposure_time_s",
        "f_number",
        "focal_length_mm",
        "orientation",
        "gps_lat",
        "gps_lon",
        "gps_alt",
        "sharpness",
        "highlight_clip",
        "shadow_clip",
        "mean_luminance",
        "validator_metrics",
        "validator_reasons",
        "validator_verdict",
        *VALIDATOR_FLAG_FIELDS.values(),
        "phash",
        "dhash",
        "jpeg_quality",
        "preview",
        "thumbnail",
    }
)


@transaction.atomic
def photo_record_measurements(*, photo_id: int, measurements: Mapping[str, object]) -> Photo | None:
    """Write what ingest measured. Validation runs for seconds without a lock, so the write checks
    again under it: a photo that left `uploaded` or that a curator decided meanwhile is left as it
    is, and None says so. Only the measurement columns are written."""
    unknown = set(measurements) - MEASUREMENT_FIELDS
    if unknown:
        raise ValueError(f"not measurement columns: {sorted(unknown)}")
    shoot_services.lock_owner_of(photo_id=photo_id)  # filing it in a shoot, below
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_INGESTING):
        logger.info("photo %s is %s; measurements not recorded", photo_id, photo.status)
        return None
    for column, value in measurements.items():
        setattr(photo, column, value)
    photo.save(update_fields=[*measurements, "updated_at"])
    shoot_services.photo_file_in_shoot(photo)
    return photo


@transaction.atomic
def photo_queue_for_scoring(
    *, photo_id: int, cause: str = "validator passed", detail: str = ""
) -> Photo:
    """`detail` (for example the validator's flags in words) is recorded on the event."""
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_INGESTING):
        return photo
    return _record_transition(
        photo, to_status=Status.AWAITING_SCORE, cause=cause, event_detail=detail
    )


@transaction.atomic
def photo_mark_unscored(
    *, photo_id: int, cause: str = "validator passed", detail: str = ""
) -> Photo:
    """The validator passed the photo and no scorer is configured: it goes to review now rather
    than wait for a score that would never come. The status label tells the photographer; the
    how-to for operators goes on the event only."""
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_INGESTING):
        return photo
    return _record_transition(
        photo,
        to_status=Status.UNSCORED,
        cause=f"{cause}; no scorer configured",
        event_detail="; ".join(part for part in (detail, UNSCORED_DETAIL) if part),
    )


@transaction.atomic
def photo_mark_paired(*, photo_id: int, partner_id: int, detail: str) -> Photo:
    """The RAW+JPEG rule: this file is the same frame as `partner_id`, which carries it on."""
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_INGESTING):
        return photo
    photo.paired_with_id = partner_id
    return _record_transition(
        photo, to_status=Status.PAIRED, cause="paired with its twin", detail=detail
    )


@transaction.atomic
def photo_reject(
    *,
    photo_id: int,
    reason: str,
    detail: str,
    cause: str,
    duplicate_of_id: int | None = None,
) -> Photo:
    """The pipeline's reject: validator verdicts, unreadable files, duplicates."""
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_IN_PIPELINE):
        return photo
    photo.duplicate_of_id = duplicate_of_id
    return _record_transition(
        photo, to_status=Status.REJECTED, cause=cause, reason=reason, detail=detail
    )


@transaction.atomic
def photo_mark_failed(*, photo_id: int, detail: str, cause: str) -> Photo:
    """Infrastructure gave up on this photo (retries exhausted); backfill can re-run it."""
    shoot_services.lock_owner_of(photo_id=photo_id)  # filing it in a shoot, below
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_IN_PIPELINE):
        return photo
    shoot_services.photo_file_in_shoot(photo)
    return _record_transition(
        photo, to_status=Status.FAILED, cause=cause, reason=Reason.ERROR, detail=detail
    )


@transaction.atomic
def photo_record_score(
    *,
    photo_id: int,
    score: float,
    model_id: str,
    model_revision: str,
    runtime_ms: float,
    threshold: float,
) -> Photo:
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_SCORING):
        return photo
    photo.vlm_score = score
    photo.vlm_model_id = model_id
    photo.vlm_model_revision = model_revision
    photo.vlm_runtime_ms = runtime_ms
    if score < threshold:
        return _record_transition(
            photo,
            to_status=Status.REJECTED,
            cause=f"scored by {model_id}",
            reason=Reason.LOW_SCORE,
            detail=f"quality score {score:.3f} is below the threshold {threshold:.2f}",
        )
    return _record_transition(photo, to_status=Status.SCORED, cause=f"scored by {model_id}")


@transaction.atomic
def photo_mark_unscorable(*, photo_id: int, detail: str) -> Photo:
    photo = _lock(photo_id)
    if not _pipeline_may_move(photo, expected=_SCORING):
        return photo
    return _record_transition(
        photo,
        to_status=Status.FAILED,
        cause="scoring failed",
        reason=Reason.UNREADABLE,
        detail=detail,
    )


@transaction.atomic
def photo_reset_for_reprocessing(*, photo_id: int, to_status: str, cause: str) -> Photo:
    """Send a photo back to an earlier stage (backfill, admin re-validate / re-score). Photos a
    curator has decided are left alone."""
    if to_status not in (Status.UPLOADED, Status.AWAITING_SCORE):
        raise ValueError(f"cannot reprocess into {to_status}")
    photo = _lock(photo_id)
    if photo.curator_decision or photo.status == to_status:
        return photo
    if to_status == Status.UPLOADED:
        # Its ingest is sent right after this commits: the reconciler waits its usual age
        # before sending it again (it does if this process dies first).
        photo.ingest_queued_at = timezone.now()
    return _record_transition(photo, to_status=to_status, cause=cause)


REVIEW_NOTE_MAX_CHARS = 2000


class ReviewRefused(Exception):
    """A request for a review that cannot be taken; the message is for the photographer."""


@transaction.atomic
def photo_request_review(*, photo_id: int, owner: User, note: str) -> ReviewRequest:
    """The owner of a rejected photo asks a curator to look again: the request, with the
    note, joins the curators' queue, and the photo's history records it. Once per photo: the
    curator's decision is the answer."""
    photo = _lock(photo_id)
    note = note.strip()
    if photo.owner_id != owner.pk:
        raise ReviewRefused("Only the photographer who uploaded a photo can ask for its review.")
    if photo.status != Status.REJECTED:
        raise ReviewRefused("Only a rejected photo can be sent for a review.")
    if not note:
        raise ReviewRefused("Write a note for the curator: what should they look at again?")
    if len(note) > REVIEW_NOTE_MAX_CHARS:
        raise ReviewRefused(f"Keep the note under {REVIEW_NOTE_MAX_CHARS} characters.")
    if photo.review_requests.exists():
        raise ReviewRefused("A review of this photo was already asked for.")
    review = ReviewRequest.objects.create(photo=photo, note=note)
    PhotoEvent.objects.create(
        photo=photo,
        from_status=photo.status,
        to_status=photo.status,
        cause="photographer asked for a review",
        detail=note,
        actor=owner,
    )
    logger.info("photo %s: review requested", photo.pk)
    return review
