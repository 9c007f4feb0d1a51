"""Reads of photos. Every photographer-facing read is scoped to its owner here, once."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from gallery.models import Photo


def photo_list_for_owner(*, owner: User, status: str | None = None) -> QuerySet[Photo]:
    photos = Photo.objects.filter(owner=owner)
    if status:
        photos = photos.filter(status=status)
    return photos.order_by("-created_at", "-id")


def photo_get_for_owner(*, owner: User, uid: str) -> Photo | None:
    """The owner's photo, or None: someone else's photo is indistinguishable from a missing one."""
    return Photo.objects.filter(owner=owner, uid=uid).first()
