"""From a shoot's workspace a curator renames it, merges another shoot of the same photographer
into it, splits the selected frames off into a new shoot, merges the selected frames' stacks and
adds frames to a stack; a change that cannot be made is answered in words."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.test import Client

from gallery.models import Photo, Shoot, Stack
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 6, 13)


def _shoot(owner: User, name: str, frames: int, *, day: datetime.date = DAY) -> list[Photo]:
    photos = [
        make_photo(owner=owner, status=Photo.Status.SCORED, filename=f"{name}_{n}.JPG")
        for n in range(frames)
    ]
    shoot = Shoot.objects.create(owner=owner, name=name, capture_day=day)
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(shoot=shoot)
    # The ingest filed them in their upload day's shoot, left empty now.
    Shoot.objects.filter(photos__isnull=True).delete()
    return [Photo.objects.get(pk=p.pk) for p in photos]


def _stacked(photos: list[Photo]) -> Stack:
    assert photos[0].shoot_id is not None
    stack = Stack.objects.create(shoot_id=photos[0].shoot_id, camera_key="Canon EOS R5")
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(stack=stack)
    return stack


def _ids(photos: list[Photo]) -> str:
    return ",".join(str(p.uid) for p in photos)


def _change(client: Client, shoot_id: int | None, **fields: str) -> dict[str, str]:
    answer = client.post(f"/admin/cull/shoots/{shoot_id}/change/", fields)
    assert answer.status_code in (200, 400), answer.content
    body: dict[str, str] = answer.json()
    return body


def test_rename(photographer: User, curator_client: Client) -> None:
    shoot_id = _shoot(photographer, "Saturday", 1)[0].shoot_id
    assert _change(curator_client, shoot_id, action="rename", name=" Wedding ") == {
        "next": f"/admin/cull/shoots/{shoot_id}/"
    }
    assert (
        "Wedding — ansel" in curator_client.get(f"/admin/cull/shoots/{shoot_id}/").content.decode()
    )

    assert _change(curator_client, shoot_id, action="rename", name="  ") == {
        "error": "A shoot needs a name."
    }
    assert Shoot.objects.get(pk=shoot_id or 0).name == "Wedding"


def test_merge_offers_and_takes_only_the_same_photographers_shoots(
    photographer: User, other_photographer: User, curator_client: Client
) -> None:
    saturday = _shoot(photographer, "Saturday", 2)
    sunday = _shoot(photographer, "Sunday", 1, day=DAY + datetime.timedelta(days=1))
    theirs = _shoot(other_photographer, "Theirs", 1)
    target = saturday[0].shoot_id
    page = curator_client.get(f"/admin/cull/shoots/{target}/")
    assert [s.name for s in page.context["merge_candidates"]] == ["Sunday"]
    assert "Sunday (1 frame)" in page.content.decode()

    refused = _change(curator_client, target, action="merge", source=str(theirs[0].shoot_id))
    assert refused == {"error": "Only shoots of one photographer can be merged."}
    assert _change(curator_client, target, action="merge", source="") == {
        "error": "Choose another shoot to merge into this one."
    }

    assert _change(curator_client, target, action="merge", source=str(sunday[0].shoot_id)) == {
        "next": f"/admin/cull/shoots/{target}/"
    }
    listing = curator_client.get("/admin/cull/").context["shoots"]
    assert [(s.name, s.frame_count) for s in listing] == [("Theirs", 1), ("Saturday", 3)]


def test_split_the_selected_frames_into_a_new_shoot(
    photographer: User, curator_client: Client
) -> None:
    photos = _shoot(photographer, "Wedding", 3)
    shoot_id = photos[0].shoot_id
    assert _change(curator_client, shoot_id, action="split", ids="", name="Reception") == {
        "error": "Choose at least one photo of this shoot to split off."
    }
    # A new shoot is named by the curator: two "Wedding" shoots would be told apart by nobody.
    assert _change(curator_client, shoot_id, action="split", ids=_ids(photos[1:]), name=" ") == {
        "error": "A shoot needs a name."
    }
    assert Shoot.objects.count() == 1

    answer = _change(
        curator_client, shoot_id, action="split", ids=_ids(photos[1:]), name="Reception"
    )
    reception = Shoot.objects.get(name="Reception")
    assert answer == {"next": f"/admin/cull/shoots/{reception.pk}/"}
    frames = curator_client.get(answer["next"]).context["frames"]
    assert [f["name"] for f in frames] == ["Wedding_1.JPG", "Wedding_2.JPG"]
    left = curator_client.get(f"/admin/cull/shoots/{shoot_id}/").context["frames"]
    assert [f["name"] for f in left] == ["Wedding_0.JPG"]


def test_merge_the_stacks_of_the_selected_frames(
    photographer: User, curator_client: Client
) -> None:
    photos = _shoot(photographer, "Pier", 5)
    first, second = _stacked(photos[:2]), _stacked(photos[2:4])
    shoot_id = photos[0].shoot_id
    refused = _change(curator_client, shoot_id, action="stack", ids=_ids(photos[:2]))
    assert refused == {"error": "Choose at least two stacks to merge."}

    chosen = _ids([photos[1], photos[2], photos[4]])
    assert _change(curator_client, shoot_id, action="stack", ids=chosen) == {
        "next": f"/admin/cull/shoots/{shoot_id}/"
    }
    assert not Stack.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.manual
    assert set(first.photos.values_list("pk", flat=True)) == {p.pk for p in photos[:4]}
    page = curator_client.get(f"/admin/cull/shoots/{shoot_id}/").content.decode()
    assert f"Stack {first.pk} · 4 frames" in page


def test_add_selected_frames_to_a_stack(
    photographer: User, other_photographer: User, curator_client: Client
) -> None:
    photos = _shoot(photographer, "Pier", 4)
    stack = _stacked(photos[:2])
    elsewhere = _shoot(other_photographer, "Theirs", 1)
    url = f"/admin/cull/stacks/{stack.pk}/change/"
    refused = curator_client.post(url, {"action": "add", "ids": _ids([photos[2], *elsewhere])})
    assert refused.status_code == 400
    assert refused.json() == {"error": "Only photos of the stack's shoot can join it."}
    empty = curator_client.post(url, {"action": "add", "ids": ""})
    assert empty.json() == {"error": "Choose the frames to add to the stack."}
    already = curator_client.post(url, {"action": "add", "ids": _ids(photos[:2])})
    assert already.json() == {"error": "Those frames are already in this stack."}

    added = curator_client.post(url, {"action": "add", "ids": _ids(photos[2:])})
    assert added.json() == {"next": f"/admin/cull/shoots/{stack.shoot_id}/"}
    stack.refresh_from_db()
    assert stack.manual
    assert stack.photos.count() == 4


def test_shoot_changes_need_the_curators_change_permission(
    photographer: User, curator_client: Client
) -> None:
    shoot_id = _shoot(photographer, "Saturday", 1)[0].shoot_id
    viewer = get_user_model().objects.create_user(
        "viewer", password="pw-viewer-1234", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_photo"))
    client = Client()
    client.force_login(viewer)
    answer = client.post(
        f"/admin/cull/shoots/{shoot_id}/change/", {"action": "rename", "name": "x"}
    )
    assert answer.status_code == 403
    assert Shoot.objects.get(pk=shoot_id or 0).name == "Saturday"
    unknown = curator_client.post(f"/admin/cull/shoots/{shoot_id}/change/", {"action": "zap"})
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "action must be rename, merge, split or stack"}
