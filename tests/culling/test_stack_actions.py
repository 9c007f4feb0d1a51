"""From a stack's workspace a curator picks its best frame, splits frames off or dissolves it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gallery.models import Photo, Shoot, Stack
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db


def _stack(owner: User) -> tuple[Stack, list[Photo]]:
    shoot = Shoot.objects.create(owner=owner, name="Pier", capture_day=datetime.date(2026, 6, 1))
    stack = Stack.objects.create(shoot=shoot, camera_key="Canon EOS R5")
    photos = [make_photo(owner=owner, status=Photo.Status.SCORED) for _ in range(3)]
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(shoot=shoot, stack=stack)
    return stack, photos


def test_split_then_dissolve(photographer: User, curator_client: Client) -> None:
    stack, photos = _stack(photographer)
    url = f"/admin/cull/stacks/{stack.pk}/change/"
    page = curator_client.get(f"/admin/cull/stacks/{stack.pk}/").content.decode()
    assert "Dissolve stack" in page

    answer = curator_client.post(url, {"action": "split", "ids": str(photos[0].uid)})
    assert answer.json() == {"next": f"/admin/cull/shoots/{stack.shoot_id}/"}
    assert set(stack.photos.values_list("pk", flat=True)) == {photos[1].pk, photos[2].pk}
    photos[0].refresh_from_db()
    assert (photos[0].stack_id, photos[0].stack_locked) == (None, True)

    everything = ",".join(str(p.uid) for p in photos[1:])
    refused = curator_client.post(url, {"action": "split", "ids": everything})
    assert refused.status_code == 400
    assert refused.json()["error"] == "Choose some, but not all, frames of the stack to split off."

    curator_client.post(url, {"action": "dissolve"})
    assert not Stack.objects.filter(pk=stack.pk).exists()
    assert Photo.objects.filter(stack__isnull=False).count() == 0
