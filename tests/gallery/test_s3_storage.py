"""Originals in S3 mode (django-storages against a real SeaweedFS): stored, private, and
reachable only through a presigned URL."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import urllib3
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.support.paths import PHOTOS
from tests.support.seaweedfs import SeaweedS3

pytestmark = pytest.mark.django_db

_http = urllib3.PoolManager(retries=False)


def _upload_cat(api: APIClient) -> tuple[Photo, bytes]:
    data = (PHOTOS / "cat_brown.jpg").read_bytes()
    response = api.post(
        "/api/photos/",
        {"files": [SimpleUploadedFile("cat.jpg", data, content_type="image/jpeg")]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return Photo.objects.get(uid=response.json()["created"][0]["id"]), data


def test_api_upload_stores_the_original_in_the_bucket(
    api: APIClient, seaweedfs: SeaweedS3, s3_storage: str
) -> None:
    photo, data = _upload_cat(api)

    key = str(photo.original.name)
    stored = seaweedfs.client().get_object(Bucket=s3_storage, Key=key)
    assert stored["Body"].read() == data
    assert key.startswith("originals/")
    assert "cat" not in key
    # What the validator Lambda needs to dedup it in the owner's library and pair RAW+JPEG.
    assert stored["Metadata"] == {"owner": str(photo.owner_id), "filename": "cat.jpg"}


def test_unicode_file_names_travel_as_ascii_metadata(
    api: APIClient, seaweedfs: SeaweedS3, s3_storage: str
) -> None:
    response = api.post(
        "/api/photos/",
        {"files": [SimpleUploadedFile("夕焼け 1.jpg", (PHOTOS / "cat_brown.jpg").read_bytes())]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    head = seaweedfs.client().head_object(Bucket=s3_storage, Key=photo.original.name)
    assert unquote(head["Metadata"]["filename"]) == "夕焼け 1.jpg"


def test_originals_are_not_readable_or_listable_anonymously(
    api: APIClient, seaweedfs: SeaweedS3, s3_storage: str
) -> None:
    photo, _ = _upload_cat(api)

    unsigned_get = _http.request("GET", f"{seaweedfs.endpoint}/{s3_storage}/{photo.original.name}")
    unsigned_list = _http.request("GET", f"{seaweedfs.endpoint}/{s3_storage}?list-type=2")

    assert unsigned_get.status == 403
    assert unsigned_list.status == 403
    assert str(photo.original.name).encode() not in unsigned_list.data


def test_presigned_url_serves_the_original(api: APIClient, s3_storage: str) -> None:
    photo, data = _upload_cat(api)

    url = default_storage.url(photo.original.name)
    response = _http.request("GET", url)

    assert "X-Amz-Signature=" in url
    assert response.status == 200
    assert response.data == data
    tampered = _http.request("GET", url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
    assert tampered.status == 403
