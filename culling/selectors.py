"""Reads for the workspace: which frames a view covers (a shoot, a stack, a selection, a filter),
its progress, and the frames as the workspace script reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from culling.tiles import TILE
from gallery.models import Photo, ReviewRequest
from gallery.selectors import photo_console_item
from gallery.shoot_selectors import CAPTURE_ORDER, CULLABLE_STATUSES

# Frames a curator culls: what the pipeline kept, and whatever a curator already decided.
CULLABLE = Q(status__in=CULLABLE_STATUSES) | ~Q(curator_decision="")
FILTERS: dict[str, tuple[str, Q]] = {
    "": ("every frame", Q()),
    "undecided": ("not yet decided", Q(curator_decision="")),
    "picked": ("picked", Q(curator_decision=Photo.CuratorDecision.APPROVED)),
    "rejected": ("rejected", Q(curator_decision=Photo.CuratorDecision.REJECTED)),
}
MAX_SELECTION = 5000


class SelectionTooLarge(ValueError):
    """More frames chosen than one request may name."""


# Frames one workspace page carries (its script holds them all): a card dump of a day's shoot
# fits; "every frame to cull" of a large library shows the oldest this many.
MAX_FRAMES = 3000


@dataclass(frozen=True)
class Scope:
    """One of: a shoot, a stack, chosen photos; narrowed by a filter (FILTERS' keys)."""

    shoot_id: int | None = None
    stack_id: int | None = None
    uids: tuple[str, ...] = ()
    filter: str = ""


def scope_photos(scope: Scope) -> QuerySet[Photo]:
    """The scope's cullable frames in capture order; a stack's frames all of them (the burst
    frames the near-duplicate index set aside are there to be compared and picked from). A
    selection past MAX_SELECTION raises SelectionTooLarge rather than quietly losing frames."""
    chosen = len(set(scope.uids))
    if chosen > MAX_SELECTION:
        raise SelectionTooLarge(
            f"{chosen} frames chosen: at most {MAX_SELECTION} can be taken at once. "
            "Export the whole shoot (with a filter) instead, or choose fewer frames."
        )
    photos = Photo.objects.all() if scope.stack_id is not None else Photo.objects.filter(CULLABLE)
    if scope.shoot_id is not None:
        photos = photos.filter(shoot_id=scope.shoot_id)
    if scope.stack_id is not None:
        photos = photos.filter(stack_id=scope.stack_id)
    if scope.uids:
        photos = photos.filter(uid__in=scope.uids)
    photos = photos.filter(FILTERS.get(scope.filter, FILTERS[""])[1])
    return photos.select_related("owner", "shoot", "stack").order_by(*CAPTURE_ORDER)


def chosen_photos(uids: Sequence[str], *, shoot_id: int | None = None) -> list[Photo]:
    """The frames a curator selected, in capture order; with `shoot_id`, those of that shoot."""
    photos = Photo.objects.filter(uid__in=uids[:MAX_SELECTION])
    if shoot_id is not None:
        photos = photos.filter(shoot_id=shoot_id)
    return list(photos.order_by(*CAPTURE_ORDER))


def scope_spans_owners(photos: QuerySet[Photo]) -> bool:
    return photos.order_by().values("owner_id").distinct().count() > 1


def undecided_count() -> int:
    return Photo.objects.filter(status__in=CULLABLE_STATUSES, curator_decision="").count()


def open_review_count() -> int:
    return ReviewRequest.objects.filter(answered_at__isnull=True).count()


def frame(photo: Photo) -> dict[str, Any]:
    """One frame as the workspace script reads it."""
    return {
        **photo_console_item(photo=photo),
        "thumb": reverse("gallery:photo-file", args=[photo.uid, "thumbnail"])
        if photo.thumbnail
        else "",
        "tiles": reverse("culling:tile", args=[photo.uid, 0, 0]).removesuffix("0/0.jpg"),
        "width": photo.width,
        "height": photo.height,
        "tile": TILE,
        "reason": photo.curator_reject_reason,
        "rejectText": photo.reject_detail if photo.curator_decision == "rejected" else "",
        # Why the pipeline kept it out of the shoot's frames (a stack shows it all the same).
        "setAside": photo.reject_detail
        if not photo.curator_decision and photo.status not in CULLABLE_STATUSES
        else "",
        "stars": photo.curator_rating or 0,
        "label": photo.curator_label,
        "stack": photo.stack_id,
        "best": bool(photo.stack_id and photo.stack and photo.stack.best_photo_id == photo.pk),
        "score": None if photo.vlm_score is None else round(photo.vlm_score, 2),
        "sharpness": None if photo.sharpness is None else round(photo.sharpness, 2),
        "flags": [str(Photo.ValidatorFlag(code).label) for code in photo.validator_flags],
    }


def frames(photos: Sequence[Photo]) -> list[dict[str, Any]]:
    return [frame(photo) for photo in photos]
