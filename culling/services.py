"""The curator's marks on a photo (pick, reject with a reason, unflag, stars, colour label) and
their undo. Each decision is one PhotoEvent carrying the marks before and after it; undo puts the
`before` back through `decision_undo`, itself an event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from gallery.models import Photo, PhotoEvent, ReviewRequest, curator_reject_detail

Status = Photo.Status
Decision = Photo.CuratorDecision
RejectReason = Photo.CuratorRejectReason
Label = Photo.Label

# What a decision may change, and what its event records before and after.
MARK_FIELDS: tuple[str, ...] = (
    "status",
    "reject_reason",
    "reject_detail",
    "curator_decision",
    "curator_reject_reason",
    "curator_note",
    "curator_rating",
    "curator_label",
)
DECISION_CAUSE = "curator: "
UNDO_CAUSE = "undo: "


# What a reject without one of the preset reasons is answered (the photographer always reads why).
REASON_MISSING = "choose a reason: " + ", ".join(str(c.label) for c in RejectReason)


class DecisionError(ValueError):
    """A decision that cannot be made; the message is for people."""


class UndoRefused(DecisionError):
    """The decision to undo was overtaken: `photo_id` has changed since."""

    def __init__(self, message: str, *, photo_id: int) -> None:
        super().__init__(message)
        self.photo_id = photo_id


Marks = dict[str, Any]


def _marks(photo: Photo) -> Marks:
    return {name: getattr(photo, name) for name in MARK_FIELDS}


def _pipeline_state(photo: Photo) -> Marks:
    """Where the pipeline last left the photo (its latest event without an actor): what an
    unflag returns it to. A photo with no such event keeps its status."""
    event = (
        PhotoEvent.objects.filter(photo=photo, actor__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return {}
    rejected = event.to_status in (Status.REJECTED, Status.FAILED)
    return {
        "status": event.to_status,
        "reject_reason": event.reason if rejected else "",
        "reject_detail": event.detail if rejected else "",
    }


def _decide(*, photo_id: int, curator: User, kind: str, change: Callable[[Photo], None]) -> Photo:
    with transaction.atomic():
        photo = Photo.objects.select_for_update().get(pk=photo_id)
        before = _marks(photo)
        change(photo)
        after = _marks(photo)
        # A pick or reject answers the photographer's open request for a review, even one that
        # confirms the photo as it stands (rejected again, for the same reason).
        open_request = ReviewRequest.objects.filter(photo=photo, answered_at__isnull=True)
        answers = kind in ("pick", "reject") and open_request.exists()
        if after == before and not answers:
            return photo
        photo.curated_by = curator
        photo.curated_at = timezone.now()
        _set_scoring_clock(photo, before["status"])
        photo.save()
        event = PhotoEvent.objects.create(
            photo=photo,
            from_status=before["status"],
            to_status=after["status"],
            cause=f"{DECISION_CAUSE}{kind}",
            detail=photo.reject_detail if kind == "reject" else "",
            reason=photo.reject_reason if after["status"] != before["status"] else "",
            actor=curator,
            before=before,
            after=after,
        )
        if answers:
            # Answered at the moment of its event, which is how undoing the decision finds it.
            open_request.update(
                decision=photo.curator_decision,
                answer=photo.reject_detail if kind == "reject" else photo.curator_note,
                answered_by=curator,
                answered_at=event.created_at,
            )
    return photo


def _set_scoring_clock(photo: Photo, previous_status: str) -> None:
    """A photo returned to the GPU queue waits from now; one leaving it no longer waits."""
    if photo.status == previous_status:
        return
    photo.awaiting_score_since = timezone.now() if photo.status == Status.AWAITING_SCORE else None
    photo.scoring_lease_owner = ""
    photo.scoring_lease_expires_at = None


def photo_pick(*, photo_id: int, curator: User, note: str = "") -> Photo:
    """Pick (approve), with an optional note that the photographer reads."""
    note = note.strip()

    def change(photo: Photo) -> None:
        photo.status = Status.APPROVED
        photo.reject_reason = ""
        photo.reject_detail = ""
        photo.curator_decision = Decision.APPROVED
        photo.curator_reject_reason = ""
        photo.curator_note = note

    return _decide(photo_id=photo_id, curator=curator, kind="pick", change=change)


def photo_reject(*, photo_id: int, curator: User, reason: str, note: str = "") -> Photo:
    """Reject with one of the preset reasons and an optional note; both reach the photographer
    as the photo's reject detail."""
    if reason not in RejectReason.values:
        raise DecisionError(REASON_MISSING)
    note = note.strip()

    def change(photo: Photo) -> None:
        photo.status = Status.REJECTED
        photo.reject_reason = Photo.RejectReason.CURATOR
        photo.reject_detail = curator_reject_detail(reason, note)
        photo.curator_decision = Decision.REJECTED
        photo.curator_reject_reason = reason
        photo.curator_note = note

    return _decide(photo_id=photo_id, curator=curator, kind="reject", change=change)


def photo_unflag(*, photo_id: int, curator: User) -> Photo:
    """Neither picked nor rejected: back where the pipeline left it. Stars and label stay."""

    def change(photo: Photo) -> None:
        if not photo.curator_decision:
            return
        photo.curator_decision = ""
        photo.curator_reject_reason = ""
        photo.curator_note = ""
        for name, value in _pipeline_state(photo).items():
            setattr(photo, name, value)

    return _decide(photo_id=photo_id, curator=curator, kind="unflag", change=change)


def photo_set_rating(*, photo_id: int, curator: User, stars: int) -> Photo:
    """0 to 5 stars; 0 clears them."""
    if not 0 <= stars <= 5:
        raise DecisionError(f"a rating is 0 to 5 stars, not {stars}")

    def change(photo: Photo) -> None:
        photo.curator_rating = stars or None

    return _decide(photo_id=photo_id, curator=curator, kind="rate", change=change)


def photo_set_label(*, photo_id: int, curator: User, label: str) -> Photo:
    """A colour label; giving the photo the label it already has takes it off (as in
    Lightroom), and "" clears it."""
    if label and label not in Label.values:
        raise DecisionError("a label is " + ", ".join(Label.values))

    def change(photo: Photo) -> None:
        photo.curator_label = "" if label == photo.curator_label else label

    return _decide(photo_id=photo_id, curator=curator, kind="label", change=change)


def decision_undo(*, curator: User) -> Photo | None:
    """Undo this curator's latest decision not yet undone; None when there is none. A photo
    someone changed since keeps that change: the undo is refused, in words, and that decision
    is passed over, so the next undo reaches the one before it."""
    with transaction.atomic():
        event = (
            PhotoEvent.objects.select_for_update()
            .filter(
                actor=curator,
                undone_at__isnull=True,
                undo_refused_at__isnull=True,
                cause__startswith=DECISION_CAUSE,
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if event is None:
            return None
        photo = Photo.objects.select_for_update().get(pk=event.photo_id)
        current = _marks(photo)
        refused = any(current[name] != value for name, value in event.after.items())
        if refused:
            event.undo_refused_at = timezone.now()
            event.save(update_fields=["undo_refused_at"])
        else:
            _undo(event, photo, current, curator=curator)
    if refused:
        # Raised once the pass-over is committed.
        raise UndoRefused(
            f"{photo.original_filename} changed after that decision, so it was not undone; "
            "undo again for your decision before it",
            photo_id=photo.pk,
        )
    return photo


def _undo(event: PhotoEvent, photo: Photo, current: Marks, *, curator: User) -> None:
    """Put back the marks `event` changed on `photo` (locked; `current` its marks now)."""
    for name, value in event.before.items():
        setattr(photo, name, value)
    _set_scoring_clock(photo, current["status"])
    photo.curated_by = curator
    photo.curated_at = timezone.now()
    photo.save()
    event.undone_at = timezone.now()
    event.save(update_fields=["undone_at"])
    # The request the decision answered is open again: the photographer still waits.
    ReviewRequest.objects.filter(
        photo=photo, answered_by=curator, answered_at=event.created_at
    ).update(decision="", answer="", answered_by=None, answered_at=None)
    kind = event.cause.removeprefix(DECISION_CAUSE)
    PhotoEvent.objects.create(
        photo=photo,
        from_status=current["status"],
        to_status=photo.status,
        cause=f"{UNDO_CAUSE}{kind}",
        detail=f"undid the {kind} of {event.created_at:%Y-%m-%d %H:%M:%S}",
        actor=curator,
        before=current,
        after=_marks(photo),
    )
