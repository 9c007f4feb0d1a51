"""Reads of photos. Every photographer-facing read is scoped to its owner here, once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Floor, Least
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gallery.models import (
    IN_FLIGHT_STATUSES,
    VALIDATOR_FLAG_FIELDS,
    Photo,
    PhotoEvent,
    ReviewRequest,
)
from gallery.shoot_selectors import ranking_candidate
from pipeline.core.ranking import best_copy

Status = Photo.Status
Reason = Photo.RejectReason

HISTOGRAM_METRIC = "luminance_histogram"


def photo_flag_q(flags: Sequence[str]) -> Q:
    """Photos carrying any of these validator flag or note codes (Photo.ValidatorFlag): an
    equality on each flag's indexed boolean column. Raises KeyError for an unknown code."""
    condition = Q()
    for code in flags:
        condition |= Q(**{VALIDATOR_FLAG_FIELDS[code]: True})
    return condition


class Sort(models.TextChoices):
    NEWEST = "newest", "Newest upload first"
    OLDEST = "oldest", "Oldest upload first"
    CAPTURED_NEWEST = "captured_newest", "Capture time, newest first"
    CAPTURED_OLDEST = "captured_oldest", "Capture time, oldest first"
    SCORE = "score", "Model score, highest first"


# Each sort as one key and a direction, ties broken by id the same way, so previous/next on the
# detail page is a keyset step. A photo without a capture time sorts by its upload time, one
# without a score below every score.
_SORT_KEYS: dict[str, tuple[Any, bool]] = {
    Sort.NEWEST: (F("created_at"), True),
    Sort.OLDEST: (F("created_at"), False),
    Sort.CAPTURED_NEWEST: (Coalesce("captured_at", "created_at"), True),
    Sort.CAPTURED_OLDEST: (Coalesce("captured_at", "created_at"), False),
    Sort.SCORE: (Coalesce("vlm_score", Value(-1.0)), True),
}
GROUPED_BY_DAY = frozenset({Sort.CAPTURED_NEWEST, Sort.CAPTURED_OLDEST})


@dataclass(frozen=True)
class PhotoFilter:
    """What a photographer narrowed their gallery to; every field optional."""

    status: str | None = None
    reason: str | None = None
    flag: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    captured_from: date | None = None
    captured_to: date | None = None
    sort: str = Sort.NEWEST

    @property
    def narrowed(self) -> bool:
        return any(
            value is not None
            for value in (
                self.status,
                self.reason,
                self.flag,
                self.min_score,
                self.max_score,
                self.captured_from,
                self.captured_to,
            )
        )


def photo_list_for_owner(
    *,
    owner: User,
    status: str | None = None,
    min_score: float | None = None,
    flag: str | None = None,
    filters: PhotoFilter | None = None,
) -> QuerySet[Photo]:
    chosen = filters or PhotoFilter(status=status, min_score=min_score, flag=flag)
    photos = Photo.objects.filter(owner=owner)
    if chosen.status:
        photos = photos.filter(status=chosen.status)
    if chosen.reason:
        photos = photos.filter(reject_reason=chosen.reason)
    if chosen.flag:
        photos = photos.filter(photo_flag_q([chosen.flag]))
    if chosen.min_score is not None:
        photos = photos.filter(vlm_score__gte=chosen.min_score)
    if chosen.max_score is not None:
        photos = photos.filter(vlm_score__lt=chosen.max_score)
    if chosen.captured_from is not None:
        photos = photos.filter(captured_at__date__gte=chosen.captured_from)
    if chosen.captured_to is not None:
        photos = photos.filter(captured_at__date__lte=chosen.captured_to)
    key, descending = _SORT_KEYS[chosen.sort]
    order = ("-sort_key", "-id") if descending else ("sort_key", "id")
    return photos.annotate(sort_key=key).order_by(*order)


@dataclass(frozen=True)
class Neighbours:
    previous: Photo | None
    next: Photo | None


def photo_neighbours(*, owner: User, photo: Photo, filters: PhotoFilter) -> Neighbours:
    """The photos before and after `photo` in the gallery as filtered and sorted: two indexed
    keyset reads, whatever the size of the library."""
    photos = photo_list_for_owner(owner=owner, filters=filters)
    key, descending = _SORT_KEYS[filters.sort]
    here = Photo.objects.filter(pk=photo.pk).annotate(sort_key=key).values_list("sort_key")
    value = here[0][0]
    later = Q(sort_key__gt=value) | Q(sort_key=value, id__gt=photo.pk)
    earlier = Q(sort_key__lt=value) | Q(sort_key=value, id__lt=photo.pk)
    after, before = (earlier, later) if descending else (later, earlier)
    return Neighbours(
        previous=photos.filter(before).reverse().first(),
        next=photos.filter(after).first(),
    )


def photo_status_counts_for_owner(*, owner: User) -> dict[str, int]:
    """How many of the owner's photos are in each status (only statuses that have some)."""
    rows = Photo.objects.filter(owner=owner).order_by().values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    return {status: counts[status] for status in Status.values if status in counts}


# A change is stamped (updated_at) when its transaction writes it but seen only once it commits,
# so a feed read never trusts its own cursor to the microsecond: it looks back this far again.
# Transactions that write a photo are short row-lock updates, far under this.
FEED_OVERLAP = timedelta(seconds=10)
FEED_LIMIT = 2000


@dataclass(frozen=True)
class StatusFeed:
    """Photos changed since a cursor, the cursor for the next read, and, when anything
    changed, the owner's count per status (the gallery's chips)."""

    photos: list[Photo]
    cursor: datetime
    more: bool
    counts: dict[str, int] | None = None


def photo_status_feed(*, owner: User, since: datetime | None) -> StatusFeed:
    """One read for every photo a page watches. Without `since`: every in-flight photo. With
    it: every photo of the owner changed since then (some again: see FEED_OVERLAP; clients
    apply a change idempotently), new photos included. At most FEED_LIMIT rows; `more` says to
    read again at once. The counts are read only when something changed: an idle tick costs one
    indexed query."""
    now = timezone.now()
    photos = Photo.objects.filter(owner=owner)
    if since is None:
        photos = photos.filter(status__in=IN_FLIGHT_STATUSES)
    else:
        photos = photos.filter(updated_at__gt=since - FEED_OVERLAP)
    rows = list(photos.order_by("updated_at", "id")[: FEED_LIMIT + 1])
    counts = photo_status_counts_for_owner(owner=owner) if rows else None
    if len(rows) <= FEED_LIMIT:
        return StatusFeed(photos=rows, cursor=now, more=False, counts=counts)
    rows = rows[:FEED_LIMIT]
    # The next read starts at the last row returned (inclusive: rows sharing its stamp).
    cursor = rows[-1].updated_at + FEED_OVERLAP - timedelta(microseconds=1)
    return StatusFeed(photos=rows, cursor=cursor, more=True, counts=counts)


@dataclass(frozen=True)
class PhotoPage:
    """One page of photos, without a total: counting a large library on every page view (and
    every status poll) costs more than the rest of the page put together."""

    photos: list[Photo]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next


def photo_page(*, photos: QuerySet[Photo], number: int, size: int) -> PhotoPage:
    number = max(number, 1)
    offset = (number - 1) * size
    rows = list(photos[offset : offset + size + 1])
    return PhotoPage(photos=rows[:size], number=number, has_next=len(rows) > size)


def photo_get_for_owner(*, owner: User, uid: str) -> Photo | None:
    """The owner's photo, or None: someone else's photo is indistinguishable from a missing one."""
    return Photo.objects.filter(owner=owner, uid=uid).first()


def photo_get_for_viewer(*, user: User | AnonymousUser, uid: str) -> Photo | None:
    """The photo if this user may see it: its owner, or a curator (staff with the
    `gallery.view_photo` permission). None otherwise."""
    if not user.is_authenticated:
        return None
    if user.is_staff and user.has_perm("gallery.view_photo"):
        return Photo.objects.filter(uid=uid).first()
    return Photo.objects.filter(owner=user, uid=uid).first()


def photo_review_request(*, photo: Photo) -> ReviewRequest | None:
    """The photographer's request for a review of this photo, open or answered; None if none."""
    return photo.review_requests.select_related("answered_by").order_by("-created_at").first()


def photo_events(*, photo: Photo) -> QuerySet[PhotoEvent]:
    return photo.events.select_related("actor").order_by("created_at", "id")


def photo_luminance_histogram(*, photo: Photo) -> list[int] | None:
    """256-bin luminance histogram: the validator's when it recorded one, else measured on the
    stored preview (photos ingested before the validator kept it). None without either."""
    bins = (photo.validator_metrics or {}).get(HISTOGRAM_METRIC)
    if isinstance(bins, list) and len(bins) == 256 and all(isinstance(b, int) for b in bins):
        return bins
    if not photo.preview:
        return None
    try:
        name = str(photo.preview.name)
        with default_storage.open(name, "rb") as preview, Image.open(preview) as image:
            return list(image.convert("L").histogram())
    except (OSError, Image.DecompressionBombError):
        return None


def _one_decimal(value: float) -> str:
    """21.3125 -> "21.3", 50.0 -> "50": EXIF stores focal lengths as fractions."""
    return f"{round(value, 1):g}"


def photo_exif_rows(*, photo: Photo) -> list[tuple[str, str]]:
    """The EXIF facts worth showing, formatted for people, in a stable order; missing ones left
    out."""
    rows: list[tuple[str, Any]] = [
        ("Camera", photo.camera_name),
        ("Lens", photo.lens),
        ("Captured", photo.captured_at and photo.captured_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("ISO", photo.iso),
        ("Exposure", photo.exposure_time_s and _exposure(photo.exposure_time_s)),
        ("Aperture", photo.f_number and f"f/{photo.f_number:g}"),
        ("Focal length", photo.focal_length_mm and f"{_one_decimal(photo.focal_length_mm)} mm"),
        ("Dimensions", photo.width and photo.height and f"{photo.width} × {photo.height} px"),  # noqa: RUF001
        ("Orientation", photo.orientation_words),
        (
            "GPS",
            photo.gps_lat is not None
            and photo.gps_lon is not None
            and f"{photo.gps_lat:.5f}, {photo.gps_lon:.5f}",
        ),
    ]
    return [(label, str(value)) for label, value in rows if value]


def _exposure(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:g} s"
    return f"1/{round(1 / seconds)} s"


# --- Dashboard -----------------------------------------------------------------------------


def _library(shoot_id: int | None) -> QuerySet[Photo]:
    """Every photo, or one shoot's: the dashboard's scope."""
    return Photo.objects.filter(shoot_id=shoot_id) if shoot_id is not None else Photo.objects.all()


def photo_status_counts(*, shoot_id: int | None = None) -> dict[str, int]:
    counts = dict.fromkeys(Status.values, 0)
    for row in _library(shoot_id).order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def photo_reason_counts(*, shoot_id: int | None = None) -> dict[str, int]:
    """Rejected and failed photos by reason."""
    counts = dict.fromkeys(Reason.values, 0)
    rows = (
        _library(shoot_id)
        .exclude(reject_reason="")
        .order_by()
        .values("reject_reason")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["reject_reason"]] = row["n"]
    return counts


def pipeline_rejections_by_reason(
    *, reasons: Sequence[str], shoot_id: int | None = None
) -> dict[str, int]:
    """Photos the pipeline last left rejected for one of `reasons`, counted from the event
    history: the latest event without an actor (a pipeline move) of each photo. What a curator
    did afterwards (kept one photo of a duplicate group, approved a blurry frame) does not change
    what the pipeline stopped; a photo sent through the pipeline again counts as it now ended."""
    last = PhotoEvent.objects.filter(photo=OuterRef("pk"), actor__isnull=True).order_by(
        "-created_at", "-id"
    )
    rows = (
        _library(shoot_id)
        .annotate(
            last_status=Subquery(last.values("to_status")[:1]),
            last_reason=Subquery(last.values("reason")[:1]),
        )
        .filter(last_status=Status.REJECTED, last_reason__in=reasons)
        .order_by()
        .values("last_reason")
        .annotate(n=Count("pk"))
    )
    return {row["last_reason"]: row["n"] for row in rows}


@dataclass(frozen=True)
class ScoreBin:
    low: float
    high: float
    count: int


def photo_score_distribution(*, bins: int = 10, shoot_id: int | None = None) -> list[ScoreBin]:
    """VLM scores in equal-width bins over [0, 1]; a score of exactly 1.0 falls in the last."""
    index = Least(Cast(Floor(F("vlm_score") * bins), IntegerField()), bins - 1)
    rows = (
        _library(shoot_id)
        .filter(vlm_score__isnull=False)
        .order_by()
        .annotate(bin=index)
        .values("bin")
        .annotate(n=Count("id"))
    )
    counts = {row["bin"]: row["n"] for row in rows}
    return [
        ScoreBin(low=i / bins, high=(i + 1) / bins, count=counts.get(i, 0)) for i in range(bins)
    ]


# --- Duplicate groups ----------------------------------------------------------------------


def duplicate_group_list() -> QuerySet[Photo]:
    """Photos that others were marked duplicates of, with how many of those still wait for a
    curator; groups a curator has settled drop out."""
    return (
        Photo.objects.annotate(
            pending=Count("duplicates", filter=Q(duplicates__curator_decision=""))
        )
        .filter(pending__gt=0)
        .select_related("owner")
        .order_by("-created_at", "-id")
    )


def duplicate_group_members(*, root: Photo) -> list[Photo]:
    """The photo the others duplicate, then its duplicates, oldest first."""
    duplicates = Photo.objects.filter(duplicate_of=root).select_related("owner").order_by("id")
    return [root, *duplicates]


def duplicate_group_suggested_keeper(*, photos: Sequence[Photo]) -> Photo:
    """The copy to keep: most pixels, then the lightest compression, then the copy that kept its
    capture time and came first (pipeline/core/ranking.py, shared with stacks). A copy a curator
    rejected is suggested only when every copy was rejected."""
    if not photos:
        raise ValueError("an empty group has no keeper")
    rejected = Photo.CuratorDecision.REJECTED
    pool = [p for p in photos if p.curator_decision != rejected] or list(photos)
    best = best_copy([ranking_candidate(p) for p in pool])
    return next(p for p in photos if p.pk == best.photo_id)


@dataclass(frozen=True)
class DuplicateCard:
    """One card of a duplicate group: a photo and the byte-identical copies shown with it."""

    photo: Photo
    same_file: tuple[Photo, ...]


def duplicate_group_cards(*, photos: Sequence[Photo]) -> list[DuplicateCard]:
    """The group with byte-identical copies (same sha256) collapsed into the card of the first
    of them; the keeper's copies collapse into the keeper's card."""
    keeper = duplicate_group_suggested_keeper(photos=photos) if photos else None
    by_file: dict[str, list[Photo]] = {}
    cards: list[Photo] = []
    for photo in sorted(photos, key=lambda p: (p != keeper, p.created_at, p.pk)):
        if photo.sha256 and photo.sha256 in by_file:
            by_file[photo.sha256].append(photo)
            continue
        by_file[photo.sha256 or f"#{photo.pk}"] = []
        cards.append(photo)
    order = {p.pk: i for i, p in enumerate(photos)}
    return [
        DuplicateCard(card, tuple(by_file[card.sha256 or f"#{card.pk}"]))
        for card in sorted(cards, key=lambda p: order[p.pk])
    ]


def duplicate_group_identical_copies(*, photo: Photo, photos: Sequence[Photo]) -> list[Photo]:
    """The members byte-identical to `photo`, without it: the rest of its card."""
    for card in duplicate_group_cards(photos=photos):
        files = [card.photo, *card.same_file]
        if any(p.pk == photo.pk for p in files):
            return [p for p in files if p.pk != photo.pk]
    return []


# --- Review queue --------------------------------------------------------------------------


def photo_list_for_review(
    *, statuses: Sequence[str], flag: str | None = None, limit: int = 200
) -> QuerySet[Photo]:
    """Photos in any of `statuses` that no curator has decided yet, oldest first; only those
    carrying the validator flag `flag` when one is given."""
    photos = Photo.objects.filter(status__in=statuses, curator_decision="")
    if flag:
        photos = photos.filter(photo_flag_q([flag]))
    return photos.select_related("owner").order_by("created_at", "id")[:limit]


def photo_console_item(*, photo: Photo) -> dict[str, Any]:
    """What every curator-console script reads of a photo (the review queue, the workspace):
    its id, name, owner, preview, admin page and the curator's decision."""
    return {
        "id": str(photo.uid),
        "name": photo.original_filename,
        "owner": photo.owner.get_username(),
        "preview": reverse("gallery:photo-file", args=[photo.uid, "preview"])
        if photo.preview
        else "",
        "detail": reverse("admin:gallery_photo_change", args=[photo.pk]),
        "decision": photo.curator_decision,
    }
