"""Direct-to-S3 multipart uploads against a real SeaweedFS, as a client would drive them."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import urllib.parse
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import urllib3
from django.contrib.auth.models import User
from PIL import Image
from pytest_django import Settings
from rest_framework.test import APIClient
from skimage import data

from gallery.models import Photo
from tests.support.paths import PHOTOS
from tests.support.processes import free_port
from tests.support.seaweedfs import SeaweedS3

pytestmark = pytest.mark.django_db

PART = 5 * 1024 * 1024
_http = urllib3.PoolManager(retries=False)


@pytest.fixture
def direct_settings(settings: Settings, s3_storage: str) -> str:
    settings.DIRECT_UPLOAD_MAX_BYTES = 40 * 1024 * 1024
    settings.DIRECT_UPLOAD_PART_BYTES = PART
    settings.DIRECT_UPLOAD_URL_EXPIRE_S = 600
    settings.DIRECT_UPLOAD_MAX_AGE_S = 3600
    return s3_storage


@pytest.fixture(scope="module")
def big_tiff(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real photo as an uncompressed 2200x2200 RGB TIFF: 14.5 MB, three 5 MiB parts."""
    image = Image.fromarray(np.ascontiguousarray(data.astronaut())).resize((2200, 2200))
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF")
    return buffer.getvalue()


def _create(api: APIClient, name: str, size: int) -> Any:
    return api.post("/api/uploads/", {"filename": name, "size": size}, format="json")


def _part_urls(
    api: APIClient, token: str, numbers: list[int], content: bytes | None = None
) -> dict[int, dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for number in numbers:
        part: dict[str, Any] = {"number": number}
        if content is not None:
            chunk = content[(number - 1) * PART : number * PART]
            part["content_md5"] = base64.b64encode(hashlib.md5(chunk).digest()).decode()
        parts.append(part)
    response = api.post(f"/api/uploads/{token}/parts/", {"parts": parts}, format="json")
    assert response.status_code == 200, response.json()
    return {part["number"]: part for part in response.json()["parts"]}


def _put(part: dict[str, Any], body: bytes) -> urllib3.BaseHTTPResponse:
    """PUT as a browser does: Content-Length always comes from the body actually sent."""
    headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
    return _http.request("PUT", part["url"], body=body, headers=headers)


def _put_cut_short(part: dict[str, Any], body: bytes) -> None:
    """A PUT whose connection drops halfway through the body."""
    url = urllib.parse.urlsplit(part["url"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest("PUT", f"{url.path}?{url.query}", skip_accept_encoding=True)
    for name, value in part["headers"].items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(body[: len(body) // 2])
    connection.close()


def _upload_parts(api: APIClient, token: str, content: bytes, numbers: list[int]) -> None:
    for number, part in _part_urls(api, token, numbers, content).items():
        response = _put(part, content[(number - 1) * PART : number * PART])
        assert response.status == 200, response.data


def _bucket_keys(seaweedfs: SeaweedS3, bucket: str) -> list[str]:
    listed = seaweedfs.client().list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_multipart_upload_creates_the_callers_photo_and_enqueues_ingest(
    api: APIClient,
    photographer: User,
    seaweedfs: SeaweedS3,
    direct_settings: str,
    big_tiff: bytes,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    created = _create(api, "Astronaut scan.tif", len(big_tiff))
    assert created.status_code == 201, created.json()
    token = created.json()["upload"]
    assert created.json()["part_count"] == 3

    _upload_parts(api, token, big_tiff, [1, 2, 3])
    with django_capture_on_commit_callbacks() as enqueued:
        completed = api.post(f"/api/uploads/{token}/complete/")

    assert completed.status_code == 201, completed.json()
    body = completed.json()
    assert body["status"] == "uploaded"
    assert body["format"] == "tiff"
    assert body["size_bytes"] == len(big_tiff)
    assert body["original_filename"] == "Astronaut scan.tif"
    photo = Photo.objects.get(uid=body["id"])
    assert photo.owner == photographer
    assert "astronaut" not in str(photo.original.name).lower()
    assert len(enqueued) == 1
    stored = seaweedfs.client().get_object(Bucket=direct_settings, Key=photo.original.name)
    assert stored["ContentType"] == "image/tiff"
    assert stored["Body"].read() == big_tiff
    assert api.get(f"/api/photos/{photo.uid}/").status_code == 200


def test_interrupted_upload_resumes_with_only_the_missing_parts(
    api: APIClient, seaweedfs: SeaweedS3, direct_settings: str, big_tiff: bytes
) -> None:
    token = _create(api, "scan.tiff", len(big_tiff)).json()["upload"]
    _upload_parts(api, token, big_tiff, [1])
    # The connection drops in the middle of part 2: S3 refuses the short body.
    _put_cut_short(_part_urls(api, token, [2])[2], big_tiff[PART : 2 * PART])

    state = api.get(f"/api/uploads/{token}/")
    assert state.status_code == 200
    assert [part["number"] for part in state.json()["parts"]] == [1]
    assert state.json()["missing"] == [2, 3]
    early = api.post(f"/api/uploads/{token}/complete/")
    assert early.status_code == 409
    assert early.json()["missing"] == [2, 3]

    _upload_parts(api, token, big_tiff, state.json()["missing"])
    completed = api.post(f"/api/uploads/{token}/complete/")

    assert completed.status_code == 201, completed.json()
    photo = Photo.objects.get(uid=completed.json()["id"])
    stored = seaweedfs.client().get_object(Bucket=direct_settings, Key=photo.original.name)
    assert stored["Body"].read() == big_tiff


def test_s3_refuses_parts_of_another_size_or_content(
    api: APIClient, direct_settings: str, big_tiff: bytes
) -> None:
    token = _create(api, "scan.tif", len(big_tiff)).json()["upload"]
    first = big_tiff[:PART]
    part = _part_urls(api, token, [1], big_tiff)[1]

    longer = _put(part, first + b"extra bytes to grow the original")
    tampered = _put(part, b"\0" + first[1:])
    shorter = _put(part, first[:-1])

    assert longer.status == 403
    assert tampered.status == 400
    assert b"BadDigest" in tampered.data
    assert shorter.status == 403
    assert api.get(f"/api/uploads/{token}/").json()["parts"] == []


def test_declared_size_over_the_limit_is_refused(api: APIClient, direct_settings: str) -> None:
    response = _create(api, "huge.cr3", 41 * 1024 * 1024)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("notes.jpg", b"shopping list: milk, eggs\n" * 40, "unsupported"),
        ("renamed.jpg", (PHOTOS / "canon_eos_6d.dng").read_bytes(), "content_mismatch"),
    ],
)
def test_completion_checks_the_content_and_removes_what_it_refuses(
    api: APIClient,
    seaweedfs: SeaweedS3,
    direct_settings: str,
    name: str,
    content: bytes,
    error: str,
) -> None:
    token = _create(api, name, len(content)).json()["upload"]
    _upload_parts(api, token, content, [1])

    response = api.post(f"/api/uploads/{token}/complete/")

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert name in response.json()["detail"]
    assert Photo.objects.count() == 0
    assert _bucket_keys(seaweedfs, direct_settings) == []


def test_unsupported_name_and_empty_file_are_refused_at_creation(
    api: APIClient, direct_settings: str
) -> None:
    assert _create(api, "notes.txt", 1000).json()["error"] == "unsupported"
    assert _create(api, "empty.jpg", 0).json()["error"] == "empty"


def test_another_user_cannot_see_complete_or_abort_my_upload(
    api: APIClient, other_photographer: User, direct_settings: str
) -> None:
    content = (PHOTOS / "cat_brown.jpg").read_bytes()
    token = _create(api, "cat.jpg", len(content)).json()["upload"]
    _upload_parts(api, token, content, [1])
    intruder = APIClient()
    intruder.force_authenticate(other_photographer)

    assert intruder.get(f"/api/uploads/{token}/").status_code == 404
    assert (
        intruder.post(
            f"/api/uploads/{token}/parts/", {"parts": [{"number": 1}]}, format="json"
        ).status_code
        == 404
    )
    assert intruder.post(f"/api/uploads/{token}/complete/").status_code == 404
    assert intruder.delete(f"/api/uploads/{token}/").status_code == 404
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert api.get(f"/api/uploads/{forged}/").status_code == 404
    assert APIClient().get(f"/api/uploads/{token}/").status_code in (401, 403)

    assert api.post(f"/api/uploads/{token}/complete/").status_code == 201
    assert Photo.objects.get().owner != other_photographer


def test_completing_twice_gives_the_same_photo(
    api: APIClient, seaweedfs: SeaweedS3, direct_settings: str
) -> None:
    content = (PHOTOS / "elephants.jpg").read_bytes()
    token = _create(api, "elephants.jpg", len(content)).json()["upload"]
    _upload_parts(api, token, content, [1])

    first = api.post(f"/api/uploads/{token}/complete/")
    again = api.post(f"/api/uploads/{token}/complete/")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Photo.objects.count() == 1
    # A client whose completion answer was lost asks where it stands: done, nothing to resend.
    state = api.get(f"/api/uploads/{token}/").json()
    assert (state["missing"], state["photo"]["id"]) == ([], first.json()["id"])
    assert api.delete(f"/api/uploads/{token}/").status_code == 409
    assert _bucket_keys(seaweedfs, direct_settings) == [Photo.objects.get().original.name]


def test_abort_drops_the_parts(api: APIClient, seaweedfs: SeaweedS3, direct_settings: str) -> None:
    content = (PHOTOS / "elephants.jpg").read_bytes()
    token = _create(api, "elephants.jpg", len(content)).json()["upload"]
    part = _part_urls(api, token, [1])[1]

    assert api.delete(f"/api/uploads/{token}/").status_code == 204

    assert _put(part, content).status == 404
    assert api.get(f"/api/uploads/{token}/").status_code == 404
    assert api.post(f"/api/uploads/{token}/complete/").status_code == 404
    assert _bucket_keys(seaweedfs, direct_settings) == []
    assert api.delete(f"/api/uploads/{token}/").status_code == 204


def test_file_store_down_answers_503_with_retry_after_in_plain_words(
    api: APIClient, settings: Settings, direct_settings: str
) -> None:
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    response = _create(api, "big.tif", 3 * PART)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "error": "storage_unavailable",
        "detail": "The file store is not answering; send the request again shortly.",
    }
