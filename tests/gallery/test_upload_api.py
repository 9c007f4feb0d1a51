"""The upload API as a photographer's client sees it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db


def _upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _stored_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def test_upload_stores_original_under_unguessable_key(api: APIClient, media_root: Path) -> None:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    response = api.post(
        "/api/photos/", {"files": [_upload("My Cat.jpg", data)]}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    created = response.json()["created"]
    assert len(created) == 1
    assert created[0]["status"] == "uploaded"
    assert created[0]["format"] == "jpeg"
    assert created[0]["size_bytes"] == len(data)
    photo = Photo.objects.get(uid=created[0]["id"])
    assert "cat" not in str(photo.original.name).lower()
    assert photo.original_filename == "My Cat.jpg"
    assert (media_root / str(photo.original.name)).read_bytes() == data
    assert photo.events.get().to_status == "uploaded"


def test_many_files_each_get_their_own_result(api: APIClient, media_root: Path) -> None:
    good = (PHOTOS / "elephants.jpg").read_bytes()
    files = [
        _upload("elephants.jpg", good),
        _upload("notes.jpg", b"shopping list: milk, eggs\n" * 10),
        _upload("empty.jpg", b""),
    ]
    response = api.post("/api/photos/", {"files": files}, format="multipart")

    assert response.status_code == 207
    body = response.json()
    assert [c["original_filename"] for c in body["created"]] == ["elephants.jpg"]
    errors = {e["file"]: e["error"] for e in body["errors"]}
    assert errors == {"notes.jpg": "unsupported", "empty.jpg": "empty"}
    assert len(_stored_files(media_root)) == 1


def test_text_file_named_jpg_is_refused_and_nothing_is_stored(
    api: APIClient, media_root: Path
) -> None:
    response = api.post(
        "/api/photos/",
        {"files": [_upload("holiday.jpg", b"not a photo at all")]},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["file"] == "holiday.jpg"
    assert error["error"] == "unsupported"
    assert "content" in error["detail"]
    assert Photo.objects.count() == 0
    assert _stored_files(media_root) == []


def test_zero_byte_file_is_refused(api: APIClient) -> None:
    response = api.post("/api/photos/", {"files": [_upload("x.jpg", b"")]}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["error"] == "empty"


def test_format_is_sniffed_from_content_not_extension(api: APIClient) -> None:
    data = (PHOTOS / "this-is-a-jpeg.png").read_bytes()
    response = api.post(
        "/api/photos/",
        {"files": [_upload("this-is-a-jpeg.png", data, "image/png")]},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["created"][0]["format"] == "jpeg"


def test_truncated_jpeg_is_kept_for_the_pipeline_to_judge(api: APIClient) -> None:
    data = (PHOTOS / "beach_sand.jpg").read_bytes()
    response = api.post(
        "/api/photos/",
        {"files": [_upload("beach.jpg", data[: len(data) // 3])]},
        format="multipart",
    )
    assert response.status_code == 201
    assert Photo.objects.get().status == "uploaded"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\evil.jpg", "evil.jpg"),
        ("bell\x07and\x1bescape\u202e.jpg", "bellandescape.jpg"),
        ("日本の" * 120 + ".jpg", None),
    ],
)
def test_hostile_file_names_are_sanitised(api: APIClient, sent: str, kept: str | None) -> None:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    response = api.post("/api/photos/", {"files": [_upload(sent, data)]}, format="multipart")
    assert response.status_code == 201, response.json()
    name = response.json()["created"][0]["original_filename"]
    if kept is not None:
        assert name == kept
    else:
        assert len(name) <= 200
        assert name.endswith(".jpg")
        assert name.startswith("日本の")
    assert "/" not in name and "\\" not in name


@override_settings(UPLOAD_MAX_FILE_BYTES=50_000)
def test_file_over_the_limit_gets_413_and_leaves_nothing(api: APIClient, media_root: Path) -> None:
    data = (PHOTOS / "elephants.jpg").read_bytes()
    assert len(data) > 50_000
    response = api.post("/api/photos/", {"files": [_upload("big.jpg", data)]}, format="multipart")
    assert response.status_code == 413
    assert response.json()["errors"][0] == {
        "file": "big.jpg",
        "error": "too_large",
        "detail": "big.jpg is larger than the limit of 50000 bytes.",
    }
    assert Photo.objects.count() == 0
    assert _stored_files(media_root) == []


def test_anonymous_upload_is_refused() -> None:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    response = APIClient().post(
        "/api/photos/", {"files": [_upload("cat.jpg", data)]}, format="multipart"
    )
    assert response.status_code == 401
    assert Photo.objects.count() == 0


def test_token_authentication_works(photographer: User) -> None:
    token = Token.objects.create(user=photographer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    response = client.post(
        "/api/photos/", {"files": [_upload("cat.jpg", data)]}, format="multipart"
    )
    assert response.status_code == 201


def test_photographer_cannot_read_another_photographers_photo(
    api: APIClient, other_photographer: User
) -> None:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    uid = api.post(
        "/api/photos/", {"files": [_upload("cat.jpg", data)]}, format="multipart"
    ).json()["created"][0]["id"]
    intruder = APIClient()
    intruder.force_authenticate(other_photographer)

    assert intruder.get(f"/api/photos/{uid}/").status_code == 404
    assert intruder.get("/api/photos/").json()["results"] == []
    assert api.get(f"/api/photos/{uid}/").json()["id"] == uid


def test_list_filters_by_status_and_paginates(api: APIClient) -> None:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    for i in range(3):
        api.post("/api/photos/", {"files": [_upload(f"cat{i}.jpg", data)]}, format="multipart")
    Photo.objects.filter(original_filename="cat0.jpg").update(status="rejected")

    everything = api.get("/api/photos/").json()
    assert everything["count"] == 3
    rejected = api.get("/api/photos/?status=rejected").json()
    assert [p["original_filename"] for p in rejected["results"]] == ["cat0.jpg"]
    assert api.get("/api/photos/?status=bogus").status_code == 400


def test_openapi_schema_and_docs_are_served(api: APIClient) -> None:
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/photos/" in schema.content
    assert api.get("/api/docs/").status_code == 200
