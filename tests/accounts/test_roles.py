"""The "Curators" group is all a staff user needs for every curator task; "Photographers" opens
nothing in the admin."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client

from accounts.models import Invitation
from accounts.roles import CURATORS, PHOTOGRAPHERS
from gallery.models import Photo
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db

Status = Photo.Status
Reason = Photo.RejectReason
CHANGELIST = "/admin/gallery/photo/"


def _staff(username: str, *groups: str) -> User:
    user = User.objects.create_user(username, password="pw-staff-1234", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def curator() -> User:
    return _staff("minor", CURATORS)


@pytest.fixture
def as_curator(client: Client, curator: User) -> Client:
    client.force_login(curator)
    return client


def _act(client: Client, action: str, photos: list[Photo], **extra: str) -> Any:
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [p.pk for p in photos], **extra}
    )
    assert response.status_code in (200, 302), action
    return response


def _state(photo: Photo) -> tuple[str, str]:
    photo.refresh_from_db()
    return photo.status, photo.reject_reason


def test_a_curator_without_superuser_does_every_curator_task(
    as_curator: Client, curator: User, photographer: User
) -> None:
    assert not curator.is_superuser
    index = as_curator.get("/admin/").content.decode()
    assert 'href="/admin/gallery/photo/"' in index and 'href="/admin/accounts/invitation/"' in index

    scored = [make_photo(owner=photographer, status=Status.SCORED) for _ in range(4)]
    listing = as_curator.get(CHANGELIST)
    assert listing.status_code == 200 and scored[0].original_filename in listing.content.decode()
    detail = as_curator.get(f"{CHANGELIST}{scored[0].pk}/change/").content.decode()
    assert f'src="/photos/{scored[0].uid}/preview"' in detail and "awaiting_score" in detail
    for kind in ("original", "preview", "thumbnail"):
        assert as_curator.get(f"/photos/{scored[0].uid}/{kind}").status_code == 200, kind
    assert as_curator.get("/admin/gallery/photo/dashboard/").status_code == 200
    for page in (
        "/admin/cull/",
        "/admin/cull/all/",
        f"/admin/cull/export/xmp.zip?ids={scored[0].uid}",
    ):
        assert as_curator.get(page).status_code == 200, page

    # Actions from the changelist.
    _act(as_curator, "approve", [scored[0]])
    assert _state(scored[0]) == (Status.APPROVED, "")
    _act(as_curator, "reject_with_reason", [scored[1]], apply="1", reason="composition")
    assert _state(scored[1]) == (Status.REJECTED, Reason.CURATOR)
    blurry = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    _act(as_curator, "revalidate", [blurry])
    assert _state(blurry) == (Status.UPLOADED, "")
    low = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.LOW_SCORE)
    _act(as_curator, "rescore", [low])
    assert _state(low) == (Status.AWAITING_SCORE, "")
    copy = make_photo(
        owner=photographer, status=Status.REJECTED, reason=Reason.DUPLICATE, duplicate_of=scored[2]
    )
    _act(as_curator, "mark_not_duplicate", [copy])
    copy.refresh_from_db()
    assert copy.duplicate_of is None

    # The keyboard review queue: list, decide, rate.
    page = as_curator.get("/admin/gallery/photo/review/").content.decode()
    found = re.search(r'id="review-queue" type="application/json">(.*?)</script>', page, re.S)
    assert found, page
    queue = json.loads(found.group(1))
    assert str(scored[3].uid) in [item["id"] for item in queue]
    rated = as_curator.post(f"/admin/gallery/photo/review/{scored[3].uid}/rate/", {"rating": "4"})
    assert rated.json()["rating"] == 4
    decided = as_curator.post(
        f"/admin/gallery/photo/review/{scored[3].uid}/decide/", {"decision": "approved"}
    )
    assert decided.json()["status"] == Status.APPROVED

    # Duplicate groups: the list, one group, and keeping one frame.
    root = make_photo(owner=photographer, status=Status.SCORED, filename="root.jpg")
    twin = make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Reason.DUPLICATE,
        duplicate_of=root,
        filename="twin.jpg",
    )
    assert "root.jpg" in as_curator.get("/admin/gallery/photo/duplicates/").content.decode()
    group = f"/admin/gallery/photo/duplicates/{root.uid}/"
    assert "twin.jpg" in as_curator.get(group).content.decode()
    as_curator.post(group, {"keep": str(twin.uid)})
    assert _state(twin) == (Status.APPROVED, "")

    # Invitations.
    assert as_curator.get("/admin/accounts/invitation/add/").status_code == 200
    as_curator.post("/admin/accounts/invitation/add/", {"email": "new@example.com", "name": ""})
    assert Invitation.objects.get().created_by == curator
    assert mail.outbox[0].to == ["new@example.com"]
    assert as_curator.get("/admin/accounts/invitation/").status_code == 200
    as_curator.post(
        "/admin/accounts/invitation/",
        {
            "action": "delete_selected",
            "_selected_action": [Invitation.objects.get().pk],
            "post": "yes",
        },
    )
    assert not Invitation.objects.exists()  # withdrawn


def test_staff_without_a_role_is_refused_curator_pages(client: Client, photographer: User) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    client.force_login(_staff("nobody"))
    for url in (
        CHANGELIST,
        "/admin/gallery/photo/dashboard/",
        "/admin/gallery/photo/review/",
        "/admin/accounts/invitation/add/",
    ):
        assert client.get(url).status_code == 403, url
    client.post(f"/admin/gallery/photo/review/{photo.uid}/decide/", {"decision": "approved"})
    assert _state(photo) == (Status.SCORED, "")


def test_the_photographers_group_opens_nothing_in_the_admin(client: Client) -> None:
    assert not Group.objects.get(name=PHOTOGRAPHERS).permissions.exists()
    # Even a photographer someone made staff by mistake sees no model in the admin.
    client.force_login(_staff("ansel", PHOTOGRAPHERS))
    assert client.get(CHANGELIST).status_code == 403
    assert "permission to view or edit anything" in client.get("/admin/").content.decode()
