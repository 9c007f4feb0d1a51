"""Curator writes beyond approve/reject: ratings, re-runs, duplicate groups. Status changes go
through the transition functions in gallery.services, so every one leaves its PhotoEvent.
("Not a duplicate" is pipeline.services.photo_mark_not_duplicate: the dedup index decides.)"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from culling import services as culling_services
from gallery import services
from gallery.models import Photo

Status = Photo.Status


class CurationError(ValueError):
    """A curator asked for something that cannot be done; the message is for people."""


def photo_revalidate(*, photo_id: int, curator: User) -> bool:
    """Run ingest (validator, dedup) again. False when nothing moved: a curator's decision is
    final, and a photo already waiting for ingest needs nothing."""
    with transaction.atomic():
        moved = _reset(photo_id, to_status=Status.UPLOADED, cause="re-validate", curator=curator)
        if moved:
            transaction.on_commit(lambda: services.photo_enqueue_ingest(photo_id=photo_id))
    return moved


def photo_rescore(*, photo_id: int, curator: User) -> bool:
    """Put the photo back in the GPU queue. False when nothing moved (see photo_revalidate)."""
    with transaction.atomic():
        return _reset(photo_id, to_status=Status.AWAITING_SCORE, cause="re-score", curator=curator)


def _reset(photo_id: int, *, to_status: str, cause: str, curator: User) -> bool:
    photo = Photo.objects.select_for_update().get(pk=photo_id)
    if photo.curator_decision or photo.status == to_status:
        return False
    services.photo_reset_for_reprocessing(
        photo_id=photo_id,
        to_status=to_status,
        cause=f"{cause} requested by {curator.get_username()}",
    )
    return True


def duplicate_group_keep(*, keeper_id: int, member_ids: Sequence[int], curator: User) -> Photo:
    """Approve the keeper and reject every other member of its duplicate group, in one go."""
    if keeper_id not in member_ids:
        raise CurationError("the photo to keep must belong to the group")
    with transaction.atomic():
        keeper = culling_services.photo_pick(
            photo_id=keeper_id, curator=curator, note="kept as the best of its duplicate group"
        )
        for member_id in member_ids:
            if member_id != keeper_id:
                culling_services.photo_reject(
                    photo_id=member_id,
                    curator=curator,
                    reason=Photo.CuratorRejectReason.DUPLICATE,
                    note=f"{keeper.original_filename} was kept",
                )
    return keeper
