"""The shoot list counts the frames the workspace shows; what the pipeline set aside (a
duplicate, a blurry frame) is counted apart, so "2 frames" never opens as "frame 1 of 1"."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from culling import services as culling_services
from gallery import services
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
    assert '<td data-label="Frames">1 <small>+1 set aside by the pipeline</small></td>' in listing
    workspace = curator_client.get(f"/admin/cull/shoots/{shoot.pk}/")
    assert [frame["name"] for frame in workspace.context["frames"]] == ["IMG_1.JPG"]


def test_frames_still_in_the_pipeline_or_failed_are_not_left_to_decide(
    photographer: User, curator: User, curator_client: Client
) -> None:
    shoot = Shoot.objects.create(
        owner=photographer, name="Harbour", capture_day=datetime.date(2026, 5, 3)
    )
    picked = make_photo(owner=photographer, status=Status.SCORED, filename="IMG_1.JPG")
    culling_services.photo_pick(photo_id=picked.pk, curator=curator)
    broken = make_photo(owner=photographer, status=Status.UPLOADED, filename="IMG_2.JPG")
    services.photo_mark_failed(photo_id=broken.pk, detail="gave up", cause="ingest gave up")
    make_photo(owner=photographer, status=Status.AWAITING_SCORE, filename="IMG_3.JPG")
    Photo.objects.update(shoot=shoot)

    listing = curator_client.get("/admin/cull/").content.decode()
    (row,) = (line for line in listing.splitlines() if ">Harbour</a>" in line)
    # Nothing in the workspace is left to decide, whatever the pipeline still holds.
    assert "✓ all decided" in row
    assert '<td data-label="Frames">1 <small>+2 set aside by the pipeline</small></td>' in row
    workspace = curator_client.get(f"/admin/cull/shoots/{shoot.pk}/?filter=undecided")
    assert workspace.context["frames"] == []
