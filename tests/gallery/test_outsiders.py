"""Outsiders get nothing: staff need the view permission for files, and a shared library never
names another photographer's file."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from gallery.models import Photo
from pipeline.config import IngestConfig
from pipeline.services import photo_ingest
from tests.gallery.factories import make_photo, photo_uploaded

pytestmark = pytest.mark.django_db


def test_staff_without_the_view_permission_get_no_file(client: Client, photographer: User) -> None:
    photo = make_photo(owner=photographer)
    staff = get_user_model().objects.create_user("intern", password="x", is_staff=True)
    client.force_login(staff)
    for kind in ("original", "preview", "thumbnail"):
        assert client.get(f"/photos/{photo.uid}/{kind}").status_code == 404

    staff.user_permissions.add(Permission.objects.get(codename="view_photo"))
    staff = get_user_model().objects.get(pk=staff.pk)  # permissions are cached per instance
    client.force_login(staff)
    for kind in ("original", "preview", "thumbnail"):
        assert client.get(f"/photos/{photo.uid}/{kind}").status_code == 200


def _ingested(owner: User, filename: str) -> Photo:
    photo = photo_uploaded(owner=owner, source="elephants.jpg", filename=filename)
    photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=True))
    photo.refresh_from_db()
    return photo


def test_a_copy_of_another_photographers_photo_names_no_file_and_no_id(
    settings: Settings, photographer: User, other_photographer: User
) -> None:
    settings.DEDUP_SCOPE = "global"
    secret = _ingested(other_photographer, "bob-secret-client-wedding-2026.jpg")
    copy = _ingested(photographer, "my-elephants.jpg")

    assert copy.status == Photo.Status.REJECTED
    assert copy.reject_reason == Photo.RejectReason.DUPLICATE
    assert copy.reject_detail == "A copy of this photo is already in the library."
    assert copy.duplicate_of_id == secret.pk  # curators still see the group

    api = APIClient()
    api.force_authenticate(photographer)
    shown = api.get(f"/api/photos/{copy.uid}/").json()
    assert shown["duplicate_of"] is None
    browser = Client()
    browser.force_login(photographer)
    for body in (
        str(shown),
        api.get("/api/photos/").content.decode(),
        api.get("/api/photos/feed/", {"since": "2000-01-01T00:00:00Z"}).content.decode(),
        browser.get(f"/photos/{copy.uid}/").content.decode(),
        browser.get("/").content.decode(),
    ):
        assert "wedding" not in body
        assert str(secret.uid) not in body


def test_a_copy_of_ones_own_photo_still_names_it(settings: Settings, photographer: User) -> None:
    settings.DEDUP_SCOPE = "global"
    first = _ingested(photographer, "first.jpg")
    again = _ingested(photographer, "again.jpg")
    assert again.reject_detail == "Same file as first.jpg, uploaded earlier."
    api = APIClient()
    api.force_authenticate(photographer)
    assert api.get(f"/api/photos/{again.uid}/").json()["duplicate_of"] == str(first.uid)
