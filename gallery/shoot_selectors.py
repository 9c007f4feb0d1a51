"""Reads for shoots and stacks, and the bridge from a Photo row to the shared ranking."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from gallery.models import FLAG_CODES, VALIDATOR_FLAG_FIELDS, Photo, ReviewRequest, Shoot, Stack
from pipeline.core.formats import LOSSLESS_FORMATS, ImageFormat
from pipeline.core.ranking import Candidate

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Frames that stack: the validator sent them on, and they are not the twin of a frame already
# counted, nor a copy of one (a "duplicate" captured at another moment is a burst frame the
# near-duplicate index could not tell from a copy: it belongs in the stack). Frames still being
# ingested stack when their own ingest ends.
STACKABLE = (
    Q(validator_verdict__in=(Photo.ValidatorVerdict.PASS, Photo.ValidatorVerdict.BORDERLINE))
    & Q(paired_with__isnull=True)
    & (Q(duplicate_of__isnull=True) | ~Q(duplicate_of__captured_at=F("captured_at")))
    & ~Q(status__in=(Photo.Status.UPLOADED, Photo.Status.FAILED))
    & Q(captured_at__isnull=False, phash__isnull=False, dhash__isnull=False)
)
# What a curator culls in the workspace: what the pipeline kept, and whatever a curator decided.
# The rest of a shoot (duplicates, unreadable or blurry frames, RAW/JPEG twins, uploads still in
# the pipeline) is "set aside", counted apart so the shoot list and the workspace agree.
CULLABLE_STATUSES = (Photo.Status.SCORED, Photo.Status.UNSCORED)
_SET_ASIDE = Q(photos__curator_decision="") & ~Q(photos__status__in=CULLABLE_STATUSES)
# Undecided: in the workspace and not yet decided, as its "not yet decided" filter counts.
_UNDECIDED_IN_SHOOT = Q(photos__curator_decision="", photos__status__in=CULLABLE_STATUSES)
CAPTURE_ORDER = ("captured_at", "created_at", "id")
# The columns stacking and ranking read: loading only these keeps a neighbour lookup cheap.
STACKING_FIELDS = (
    "owner_id",
    "shoot_id",
    "stack_id",
    "stack_locked",
    "camera_make",
    "camera_model",
    "camera_serial",
    "captured_at",
    "created_at",
    "phash",
    "dhash",
    "format",
    "width",
    "height",
    "size_bytes",
    "jpeg_quality",
    "validator_verdict",
    *VALIDATOR_FLAG_FIELDS.values(),
    "sharpness",
    "highlight_clip",
    "shadow_clip",
    "vlm_score",
)


def ranking_candidate(photo: Photo) -> Candidate:
    """What the shared ranking (pipeline/core/ranking.py) reads about a photo."""
    clipped = (
        None
        if photo.highlight_clip is None and photo.shadow_clip is None
        else (photo.highlight_clip or 0.0) + (photo.shadow_clip or 0.0)
    )
    known_format = photo.format in ImageFormat.__members__.values()
    return Candidate(
        photo_id=photo.pk,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        lossless=known_format and ImageFormat(photo.format) in LOSSLESS_FORMATS,
        jpeg_quality=photo.jpeg_quality,
        captured_at=photo.captured_at,
        uploaded_at=photo.created_at,
        verdict=photo.validator_verdict,
        flag_count=sum(bool(getattr(photo, VALIDATOR_FLAG_FIELDS[c])) for c in FLAG_CODES),
        sharpness=photo.sharpness,
        clipped=clipped,
        vlm_score=photo.vlm_score,
    )


def shoot_resolve(shoot: Shoot) -> Shoot:
    """The shoot that stands for `shoot` now: itself, or the one it was merged into."""
    seen = {shoot.pk}
    while shoot.merged_into_id is not None and shoot.merged_into_id not in seen:
        seen.add(shoot.merged_into_id)
        shoot = Shoot.objects.get(pk=shoot.merged_into_id)
    return shoot


class ShootCounts(TypedDict):
    photo_count: int
    set_aside_count: int
    frame_count: int
    undecided_count: int
    stack_count: int
    open_review_count: int


def _per_shoot(rows: QuerySet[Any]) -> Coalesce:
    """How many of `rows` (filtered by `shoot_id`) each shoot has, as a correlated subquery:
    joining stacks and review requests beside photos would count over photos x stacks rows."""
    counted = rows.filter(shoot_id=OuterRef("pk")).order_by().values("shoot_id")
    return Coalesce(Subquery(counted.annotate(n=Count("*")).values("n")), 0)


def shoots_for_curation(
    *, owner_id: int | None = None
) -> QuerySet[WithAnnotations[Shoot, ShootCounts]]:
    """Live shoots (merged ones excluded), newest day first, with `photo_count`,
    `set_aside_count` (not in the workspace), `frame_count` (the rest: what the workspace
    shows), `undecided_count`, `stack_count` and `open_review_count`."""
    shoots = Shoot.objects.filter(merged_into__isnull=True).select_related("owner")
    if owner_id is not None:
        shoots = shoots.filter(owner_id=owner_id)
    return shoots.order_by("-capture_day", "-id").annotate(
        photo_count=Count("photos"),
        set_aside_count=Count("photos", filter=_SET_ASIDE),
        frame_count=Count("photos", filter=~_SET_ASIDE),
        undecided_count=Count("photos", filter=_UNDECIDED_IN_SHOOT),
        stack_count=_per_shoot(Stack.objects.all()),
        open_review_count=_per_shoot(
            # A photographer's request for a second look that no curator has answered yet.
            ReviewRequest.objects.filter(answered_at__isnull=True).annotate(
                shoot_id=F("photo__shoot_id")
            )
        ),
    )


def shoot_stacks(*, shoot_id: int) -> QuerySet[Stack]:
    """The shoot's stacks in capture order of their first frame, with `size`."""
    return (
        Stack.objects.filter(shoot_id=shoot_id)
        .select_related("best_photo")
        .annotate(size=Count("photos"), first_captured_at=Min("photos__captured_at"))
        .order_by("first_captured_at", "id")
    )


def stacking_view(*, photo_id: int, gap: timedelta) -> tuple[Photo, bool, list[Photo]]:
    """A photo about to be stacked, whether it is stackable, and the stackable photos of its
    photographer's shoot captured within `gap` of it in capture order: the candidates its
    neighbours are chosen from. Each photo comes with its stack, and each stack with its best
    frame's ranking columns.

    One statement for a stackable photo (the common case): the window is an index range on
    capture time bounded by the photo's own row (InitPlans), so its cost does not grow with the
    library; a photo that is not stackable is not in that result and is read on its own."""
    me = Photo.objects.filter(pk=photo_id).order_by()
    moment = Subquery(me.values("captured_at"))
    window = Q(
        owner_id=Subquery(me.values("owner_id")),
        captured_at__gte=ExpressionWrapper(moment - gap, DateTimeField()),
        captured_at__lte=ExpressionWrapper(moment + gap, DateTimeField()),
    )
    rows = list(_with_stacks(Photo.objects.filter(STACKABLE, Q(pk=photo_id) | window)))
    photo = next((p for p in rows if p.pk == photo_id), None)
    if photo is None:
        return _with_stacks(Photo.objects.filter(pk=photo_id)).get(), False, []
    # The shoot is matched here, not in SQL: the planner would intersect the range with the
    # shoot's whole index entry (12k rows for a big day) instead of reading the range alone.
    return photo, True, [p for p in rows if p.pk != photo_id and p.shoot_id == photo.shoot_id]


def _with_stacks(photos: QuerySet[Photo]) -> QuerySet[Photo]:
    return (
        photos.select_related("stack__best_photo")
        .only(
            *STACKING_FIELDS,
            "stack__manual",
            "stack__best_photo_id",
            "stack__shoot_id",
            "stack__camera_key",
            *(f"stack__best_photo__{name}" for name in STACKING_FIELDS),
        )
        .order_by(*CAPTURE_ORDER)
    )
