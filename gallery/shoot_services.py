"""Writes for shoots and stacks: filing a photo in its shoot, stacking it at ingest, and the
curator's rename, merge and split. Stacking decisions are pipeline/core/stacking.py's; this
module finds the two neighbours a decision needs and applies it.

Manual changes win: a stack a curator split, merged or chose the best frame of is `manual`, and
a photo a curator took out of a stack is `stack_locked`; automatic stacking leaves both alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import formats, timezone

from gallery import shoot_selectors
from gallery.models import Photo, Shoot, Stack
from pipeline.core.ranking import best_frame
from pipeline.core.stacking import Frame, StackRules, camera_key, continues, place


class ShootError(Exception):
    """A curator's shoot or stack change that cannot be made; the message is for people."""


def _default_name(day: date) -> str:
    return formats.date_format(day, "l j F Y")


def shoot_for_day(*, owner_id: int, day: date) -> Shoot:
    """The shoot new frames of `owner_id` captured on `day` go to, created on first use."""
    shoot, _ = Shoot.objects.get_or_create(
        owner_id=owner_id,
        capture_day=day,
        is_day_default=True,
        defaults={"name": _default_name(day)},
    )
    return shoot_selectors.shoot_resolve(shoot)


def capture_day(photo: Photo) -> date:
    """The day a photo was taken (its wall-clock day, see pipeline/services.py), else the day
    it was uploaded."""
    if photo.captured_at is not None:
        return photo.captured_at.date()
    return timezone.localdate(photo.created_at or timezone.now())


def photo_file_in_shoot(photo: Photo) -> None:
    """Put the photo in its day's shoot and save that column. A photo a curator placed (in a
    shoot split off by hand) stays where it is. The caller holds its photographer's lock
    (lock_owner_of), then the photo's row."""
    current = Shoot.objects.filter(pk=photo.shoot_id).first() if photo.shoot_id else None
    if current is not None and current.merged_into_id is not None:
        shoot = shoot_selectors.shoot_resolve(current)
    elif current is not None and not current.is_day_default:
        return
    else:
        shoot = shoot_for_day(owner_id=photo.owner_id, day=capture_day(photo))
    if photo.shoot_id != shoot.pk:
        photo.shoot = shoot
        photo.save(update_fields=["shoot", "updated_at"])


# The advisory-lock namespace stacking takes per photographer (any constant unused elsewhere).
_STACKING_LOCK = 0x5354


def lock_owner_of(
    *, photo_id: int | None = None, stack_id: int | None = None, shoot_id: int | None = None
) -> None:
    """Serialise a photographer's shoots and stacks until the transaction ends: two frames of
    one burst ingested at once must each see the other, and a curator's change must not cross
    an ingest's (a photo filed in a shoot being merged away would be left there). Take it before
    any row lock, as every caller does, so no two transactions wait on each other (PostgreSQL;
    SQLite serialises every write anyway)."""
    if connection.vendor != "postgresql":
        return
    # Table names from the models, never from input: the ids go as parameters.
    if photo_id is not None:
        owner = f"SELECT owner_id FROM {Photo._meta.db_table} WHERE id = %s"  # noqa: S608
    elif shoot_id is not None:
        owner = f"SELECT owner_id FROM {Shoot._meta.db_table} WHERE id = %s"  # noqa: S608
    else:
        owner = (
            f"SELECT owner_id FROM {Shoot._meta.db_table} WHERE id = "  # noqa: S608
            f"(SELECT shoot_id FROM {Stack._meta.db_table} WHERE id = %s)"
        )
    key = next(i for i in (photo_id, shoot_id, stack_id) if i is not None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s, ({owner}))", [_STACKING_LOCK, key])


def _key(photo: Photo) -> str:
    return camera_key(photo.camera_make, photo.camera_model, photo.camera_serial)


def _frame(photo: Photo) -> Frame:
    assert photo.captured_at is not None and photo.phash is not None and photo.dhash is not None
    return Frame(photo.captured_at, photo.phash, photo.dhash)


def _order(photo: Photo) -> tuple[object, ...]:
    return (photo.captured_at, photo.created_at, photo.pk)


def _open_to_stacking(photo: Photo) -> bool:
    return not photo.stack_locked and (photo.stack is None or not photo.stack.manual)


def stack_rank_best(stack_ids: Iterable[int]) -> None:
    """Dissolve stacks left with fewer than two frames; suggest the best frame of the rest (a
    manual stack keeps a best frame a curator chose while it is still a member)."""
    ids = set(stack_ids)
    if ids:
        _rank(Stack.objects.filter(pk__in=ids))


def _rank(stacks: Iterable[Stack]) -> None:
    by_id = {stack.pk: stack for stack in stacks}
    if not by_id:
        return  # most assignments touch no stack but their own: skip building the queries
    members: dict[int, list[Photo]] = {pk: [] for pk in by_id}
    for photo in Photo.objects.filter(stack_id__in=list(by_id)).only(
        *shoot_selectors.STACKING_FIELDS
    ):
        members[photo.stack_id or 0].append(photo)
    for pk, stack in by_id.items():
        frames = members[pk]
        if len(frames) < 2:
            Photo.objects.filter(stack_id=pk).update(stack=None)
            Stack.objects.filter(pk=pk).delete()
            continue
        if stack.manual and stack.best_photo_id in {m.pk for m in frames}:
            continue
        best = best_frame([shoot_selectors.ranking_candidate(m) for m in frames])
        if stack.best_photo_id != best.photo_id:
            stack.best_photo_id = best.photo_id
            Stack.objects.filter(pk=pk).update(
                best_photo_id=best.photo_id, updated_at=timezone.now()
            )


def _move(photos: Iterable[Photo], stack: Stack | None) -> None:
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(stack=stack)


def _split_after(stack: Stack, photo: Photo) -> Stack:
    """Move the members of `stack` captured after `photo` into a new automatic stack."""
    later = [m for m in stack.photos.all() if _order(m) > _order(photo)]
    tail = Stack.objects.create(shoot_id=stack.shoot_id, camera_key=stack.camera_key)
    _move(later, tail)
    return tail


def _neighbours(photo: Photo, window: Sequence[Photo]) -> tuple[Photo | None, Photo | None]:
    """The same camera's stackable frames just before and just after `photo` in its window."""
    key = _key(photo)
    same_camera = [p for p in window if _key(p) == key]
    before = [p for p in same_camera if _order(p) < _order(photo)]
    after = [p for p in same_camera if _order(p) > _order(photo)]
    return (before[-1] if before else None), (after[0] if after else None)


def _detach(photo: Photo, rules: StackRules) -> list[Stack]:
    """Take a re-ingested photo out of its automatic stack, splitting the stack where the photo
    was the only link. Returns the stacks touched."""
    stack = photo.stack
    if stack is None:
        return []
    _move([photo], None)
    photo.stack = None
    members = sorted(stack.photos.all(), key=_order)
    before = [m for m in members if _order(m) < _order(photo)]
    after = [m for m in members if _order(m) > _order(photo)]
    if before and after and not continues(_frame(before[-1]), _frame(after[0]), rules):
        return [stack, _split_after(stack, photo)]
    return [stack]


@transaction.atomic
def photo_stack(*, photo_id: int, rules: StackRules) -> Stack | None:
    """Stack a photo whose ingest has ended with the frames just before and after it from the
    same camera; returns its stack (None when it stands alone). Safe to call again."""
    lock_owner_of(photo_id=photo_id)
    photo, stackable, window = shoot_selectors.stacking_view(
        photo_id=photo_id, gap=timedelta(seconds=rules.gap_s)
    )
    if not _open_to_stacking(photo):
        return photo.stack
    touched = _detach(photo, rules)
    if photo.shoot_id is None or not _key(photo) or not stackable:
        _rank(touched)
        return None
    previous, following = _neighbours(photo, window)
    placement = place(
        _frame(photo),
        _frame(previous) if previous is not None and _open_to_stacking(previous) else None,
        _frame(following) if following is not None and _open_to_stacking(following) else None,
        rules,
    )
    inside = previous.stack if previous is not None else None
    if (
        inside is not None
        and following is not None
        and following.stack_id == inside.pk
        and not inside.manual
        and not (placement.joins_previous and placement.joins_next)
    ):
        # A late frame inside a stack that it does not continue on both sides: the stack
        # breaks where it sits.
        tail = _split_after(inside, photo)
        touched += [inside, tail]
        following.stack = tail
    if not (placement.joins_previous or placement.joins_next):
        _rank(touched)
        return None
    before = previous.stack if placement.joins_previous and previous is not None else None
    after = following.stack if placement.joins_next and following is not None else None
    members: list[Photo] = [photo]
    if placement.joins_previous and before is None and previous is not None:
        members.append(previous)
    if placement.joins_next and following is not None and after is None:
        members.append(following)
    target = before or after
    if target is None:
        best = best_frame([shoot_selectors.ranking_candidate(m) for m in members])
        target = Stack.objects.create(
            shoot_id=photo.shoot_id, camera_key=_key(photo), best_photo_id=best.photo_id
        )
        _move(members, target)
        _rank(touched)
        return target
    contenders = [*members, *_best_frames([target])]
    if after is not None and after.pk != target.pk:
        # The frame bridges two stacks: they become one.
        Photo.objects.filter(stack=after).update(stack=target)
        touched.append(after)
        contenders += _best_frames([after])
    _move(members, target)
    if target.pk in {stack.pk for stack in touched}:
        _rank([*touched])
    else:
        _rank(touched)
        _rank_with(target, contenders)
    return target


def _best_frames(stacks: Sequence[Stack]) -> list[Photo]:
    """The stacks' suggested best frames, as read with them (stacking_view loads them)."""
    return [stack.best_photo for stack in stacks if stack.best_photo is not None]


def _rank_with(stack: Stack, contenders: Sequence[Photo]) -> None:
    """Re-suggest the best frame of an automatic stack that only gained frames: the best of the
    frames it gained and the best frames it had (the ranking is a total order)."""
    best = best_frame([shoot_selectors.ranking_candidate(p) for p in contenders])
    if stack.best_photo_id != best.photo_id:
        stack.best_photo_id = best.photo_id
        Stack.objects.filter(pk=stack.pk).update(
            best_photo_id=best.photo_id, updated_at=timezone.now()
        )


def _shoot_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ShootError("A shoot needs a name.")
    return name[: Shoot._meta.get_field("name").max_length]


@transaction.atomic
def shoot_rename(*, shoot_id: int, name: str) -> Shoot:
    name = _shoot_name(name)
    shoot = Shoot.objects.select_for_update().get(pk=shoot_id)
    shoot.name = name
    shoot.save(update_fields=["name"])
    return shoot


@transaction.atomic
def shoot_merge(*, source_ids: Sequence[int], target_id: int) -> Shoot:
    """Move every photo and stack of the source shoots into the target; later uploads of the
    sources' days follow. Shoots of different photographers are never merged."""
    lock_owner_of(shoot_id=target_id)
    target = Shoot.objects.select_for_update().get(pk=target_id)
    sources = list(
        Shoot.objects.select_for_update().filter(pk__in=source_ids).exclude(pk=target.pk)
    )
    if not sources:
        raise ShootError("Choose another shoot to merge into this one.")
    if any(source.owner_id != target.owner_id for source in sources):
        raise ShootError("Only shoots of one photographer can be merged.")
    for source in sources:
        Photo.objects.filter(shoot=source).update(shoot=target)
        Stack.objects.filter(shoot=source).update(shoot=target)
        Shoot.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.save(update_fields=["merged_into"])
    return target


@transaction.atomic
def shoot_split(*, shoot_id: int, photo_ids: Sequence[int], name: str) -> Shoot:
    """Move the chosen photos of a shoot into a new shoot named `name`. A stack whose frames end
    up on both sides is cut in two, each part a manual stack."""
    name = _shoot_name(name)
    lock_owner_of(shoot_id=shoot_id)
    shoot = Shoot.objects.select_for_update().get(pk=shoot_id)
    moving = list(Photo.objects.filter(shoot=shoot, pk__in=photo_ids).select_related("stack"))
    if not moving:
        raise ShootError("Choose at least one photo of this shoot to split off.")
    if len(moving) == Photo.objects.filter(shoot=shoot).count():
        raise ShootError("Leave at least one photo in the shoot: splitting off all is a rename.")
    days = sorted(capture_day(p) for p in moving)
    new = Shoot.objects.create(owner_id=shoot.owner_id, name=name, capture_day=days[0])
    Photo.objects.filter(pk__in=[p.pk for p in moving]).update(shoot=new)
    touched: set[int] = set()
    moving_ids = {p.pk for p in moving}
    for stack in {p.stack for p in moving if p.stack is not None}:
        member_ids = set(stack.photos.values_list("pk", flat=True))
        if member_ids <= moving_ids:
            stack.shoot = new
            stack.save(update_fields=["shoot", "updated_at"])
            continue
        part = Stack.objects.create(shoot=new, camera_key=stack.camera_key, manual=True)
        Photo.objects.filter(pk__in=member_ids & moving_ids).update(stack=part)
        Stack.objects.filter(pk=stack.pk).update(manual=True)
        touched |= {stack.pk, part.pk}
    stack_rank_best(touched)
    return new


def _curated_stack(stack_id: int) -> Stack:
    lock_owner_of(stack_id=stack_id)
    return Stack.objects.select_for_update().get(pk=stack_id)


@transaction.atomic
def stack_split(*, stack_id: int, photo_ids: Sequence[int]) -> Stack | None:
    """Take the chosen frames out into a stack of their own; both parts become manual. A part
    of one frame is no stack: that frame stands alone, locked against automatic stacking."""
    stack = _curated_stack(stack_id)
    members = list(stack.photos.all())
    leaving = [p for p in members if p.pk in set(photo_ids)]
    staying = [p for p in members if p.pk not in set(photo_ids)]
    if not leaving or not staying:
        raise ShootError("Choose some, but not all, frames of the stack to split off.")
    stack.manual = True
    stack.save(update_fields=["manual", "updated_at"])
    new: Stack | None = None
    if len(leaving) > 1:
        new = Stack.objects.create(
            shoot_id=stack.shoot_id, camera_key=stack.camera_key, manual=True
        )
    Photo.objects.filter(pk__in=[p.pk for p in leaving]).update(stack=new, stack_locked=new is None)
    if len(staying) == 1:
        Photo.objects.filter(pk=staying[0].pk).update(stack_locked=True)
    stack_rank_best({stack.pk, *([new.pk] if new else [])})
    return new


@transaction.atomic
def stack_merge(*, stack_ids: Sequence[int]) -> Stack:
    """Merge stacks of one shoot into the first of `stack_ids`; the result is manual."""
    if stack_ids:
        lock_owner_of(stack_id=stack_ids[0])
    stacks = {s.pk: s for s in Stack.objects.select_for_update().filter(pk__in=stack_ids)}
    if len(stacks) < 2:
        raise ShootError("Choose at least two stacks to merge.")
    ordered = [stacks[i] for i in stack_ids if i in stacks]
    target = ordered[0]
    if any(s.shoot_id != target.shoot_id for s in ordered):
        raise ShootError("Only stacks of one shoot can be merged.")
    Photo.objects.filter(stack__in=ordered[1:]).update(stack=target)
    Stack.objects.filter(pk__in=[s.pk for s in ordered[1:]]).delete()
    target.manual = True
    target.save(update_fields=["manual", "updated_at"])
    stack_rank_best({target.pk})
    target.refresh_from_db()
    return target


@transaction.atomic
def stack_add(*, stack_id: int, photo_ids: Sequence[int]) -> Stack:
    """Put unstacked (or differently stacked) photos of the stack's shoot into it; manual."""
    if not photo_ids:
        raise ShootError("Choose the frames to add to the stack.")
    stack = _curated_stack(stack_id)
    photos = list(Photo.objects.filter(pk__in=photo_ids, shoot_id=stack.shoot_id))
    if len(photos) != len(set(photo_ids)):
        raise ShootError("Only photos of the stack's shoot can join it.")
    if all(p.stack_id == stack.pk for p in photos):
        raise ShootError("Those frames are already in this stack.")
    old = {p.stack_id for p in photos if p.stack_id is not None and p.stack_id != stack.pk}
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(stack=stack, stack_locked=False)
    stack.manual = True
    stack.save(update_fields=["manual", "updated_at"])
    stack_rank_best({stack.pk, *old})
    stack.refresh_from_db()
    return stack


@transaction.atomic
def stack_dissolve(*, stack_id: int) -> None:
    """Unstack every frame; automatic stacking will not stack them again."""
    stack = _curated_stack(stack_id)
    Photo.objects.filter(stack=stack).update(stack=None, stack_locked=True)
    stack.delete()


@transaction.atomic
def stack_set_best(*, stack_id: int, photo_id: int) -> Stack:
    """A curator's choice of best frame; it makes the stack manual, so it is kept."""
    stack = _curated_stack(stack_id)
    if not stack.photos.filter(pk=photo_id).exists():
        raise ShootError("The best frame must be one of the stack's frames.")
    stack.best_photo_id = photo_id
    stack.manual = True
    stack.save(update_fields=["best_photo", "manual", "updated_at"])
    return stack
