"""Bad parameters and requests get a 4xx with a plain answer, never a 500, and never cost the
good files of the same request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.gallery.factories import make_photo
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db

BAD_PAGES = ["²", "99999999999999999999", "0", "-1", "abc", "1e3"]


def _multipart(names: list[str], data: bytes) -> bytes:
    """A multipart body written by hand: Django's test client refuses names like '..'."""
    parts = [
        b"--BOUNDARY\r\n"
        + f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'.encode()
        + b"Content-Type: image/jpeg\r\n\r\n"
        + data
        + b"\r\n"
        for name in names
    ]
    return b"".join(parts) + b"--BOUNDARY--\r\n"


@pytest.mark.parametrize("page", BAD_PAGES)
def test_bad_page_numbers_are_404_on_the_gallery_and_the_api(
    page: str, client: Client, api: APIClient, photographer: User
) -> None:
    make_photo(owner=photographer)
    client.force_login(photographer)
    assert client.get("/", {"page": page}).status_code == 404
    listing = api.get("/api/photos/", {"page": page})
    assert listing.status_code == 404
    assert "detail" in listing.json()


def test_a_page_past_the_end_is_empty_not_an_error(client: Client, photographer: User) -> None:
    client.force_login(photographer)
    assert client.get("/", {"page": "7"}).status_code == 200


def test_a_bad_status_filter_is_400(api: APIClient) -> None:
    response = api.get("/api/photos/", {"status": "²"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_status"


@pytest.mark.parametrize("owner", ["²", "99999999999999999999", "-3", "x"])
def test_a_bad_photographer_filter_in_the_admin_is_400(
    owner: str, client: Client, photographer: User
) -> None:
    make_photo(owner=photographer)
    client.force_login(get_user_model().objects.create_superuser("minor", password="x"))
    assert client.get("/admin/gallery/photo/", {"owner": owner}).status_code == 400
    assert client.get("/admin/gallery/photo/", {"owner": str(photographer.pk)}).status_code == 200


def test_too_many_files_is_a_json_error_naming_the_limit(
    api: APIClient, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    data = (PHOTOS / "elephants.jpg").read_bytes()
    body = _multipart([f"p{i}.jpg" for i in range(4)], data)
    response = api.post("/api/photos/", body, content_type="multipart/form-data; boundary=BOUNDARY")
    assert response.status_code == 400
    assert response.json()["errors"][0]["error"] == "too_many_files"
    assert "at most 3 files" in response.json()["errors"][0]["detail"]
    assert Photo.objects.count() == 0


def test_a_bad_file_name_fails_that_file_only(api: APIClient) -> None:
    data = (PHOTOS / "elephants.jpg").read_bytes()
    long_extension = "x." + "я" * 120
    # (A part with an empty file name is an empty file input: browsers send one, it is skipped.)
    body = _multipart(["ok.jpg", "..", "", long_extension, "last.jpg"], data)
    response = api.post("/api/photos/", body, content_type="multipart/form-data; boundary=BOUNDARY")
    assert response.status_code == 207, response.content
    result = response.json()
    created = [c["original_filename"] for c in result["created"]]
    assert created[0] == "ok.jpg" and created[-1] == "last.jpg" and len(created) == 3
    assert created[1].startswith("x.яяя")
    assert [e["error"] for e in result["errors"]] == ["bad_name"]
    assert Photo.objects.count() == 3


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("evil.jpg\u202egpj.exe", "evil.jpggpj.jpg"),
        ("poly.html", "poly.jpg"),
        # The client's extension names the proved format: kept as the camera wrote it.
        ("My Cat.jpeg", "My Cat.jpeg"),
        ("IMG_0001.JPG", "IMG_0001.JPG"),
        ("IMG_0002.CR3", "IMG_0002.jpg"),
        ("no extension", "no extension.jpg"),
    ],
)
def test_originals_download_under_their_stem_and_detected_format(
    stored: str, served: str, client: Client, photographer: User
) -> None:
    photo = make_photo(owner=photographer, filename=stored)
    client.force_login(photographer)
    response = client.get(f"/photos/{photo.uid}/original")
    assert response["Content-Disposition"] == f'attachment; filename="{served}"'
