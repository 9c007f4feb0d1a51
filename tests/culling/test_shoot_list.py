"""The shoot list counts the frames the workspace shows; what the pipeline set aside (a
duplicate, a blurry frame) is counted apart, so "2 frames" never opens as "frame 1 of 1"."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gallery.models import Photo, Shoot
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db
Status = Photo.Status


def test_the_shoot_list_and_the_workspace_count_the_same_frames(
    photographer: User, curator_client: Client
) -> None:
    shoot = Shoot.objects.create(
        owner=photographer, name="Pier", capture_day=datetime.date(2026, 5, 2)
    )
    kept = make_photo(owner=photographer, status=Status.SCORED, filename="IMG_1.JPG")
    make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Photo.RejectReason.DUPLICATE,
        duplicate_of=kept,
        filename="IMG_1 copy.JPG",
    )
    Photo.objects.update(shoot=shoot)

    listing = curator_client.get("/admin/cull/").content.decode()
    assert "<td>1 <small>+1 set aside by the pipeline</small></td>" in listing
    workspace = curator_client.get(f"/admin/cull/shoots/{shoot.pk}/")
    assert [frame["name"] for frame in workspace.context["frames"]] == ["IMG_1.JPG"]
