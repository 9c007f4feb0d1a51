"""Resumable uploads in local mode: the same /api/uploads/ flow as S3 mode, with the parts
written to this server's disk, so an interrupted large file resumes with only what is missing."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import OperationalError, connections
from PIL import Image
from pytest_django import Settings
from rest_framework.test import APIClient
from skimage import data

from gallery import services
from gallery.models import Photo
from pipeline.reconciler import IngestReconciler

pytestmark = pytest.mark.django_db

PART = 5 * 1024 * 1024


@pytest.fixture(autouse=True)
def parts_of_5_mib(settings: Settings) -> None:
    settings.DIRECT_UPLOAD_PART_BYTES = PART
    settings.DIRECT_UPLOAD_MAX_BYTES = 40 * 1024 * 1024


@pytest.fixture(scope="module")
def big_tiff() -> bytes:
    """A real photo as an uncompressed 2200x2200 RGB TIFF: 14.5 MB, three 5 MiB parts."""
    image = Image.fromarray(np.ascontiguousarray(data.astronaut())).resize((2200, 2200))
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF")
    return buffer.getvalue()


def _start(api: APIClient, name: str, size: int) -> dict[str, Any]:
    created = api.post("/api/uploads/", {"filename": name, "size": size}, format="json")
    assert created.status_code == 201, created.json()
    return dict(created.json())


def _urls(api: APIClient, token: str, numbers: list[int]) -> dict[int, dict[str, Any]]:
    answer = api.post(
        f"/api/uploads/{token}/parts/",
        {"parts": [{"number": n} for n in numbers]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    return {part["number"]: part for part in answer.json()["parts"]}


def _put(api: APIClient, url: str, body: bytes, **headers: str) -> Any:
    return api.put(url, body, content_type="application/octet-stream", follow=False, **headers)


def _chunk(content: bytes, number: int) -> bytes:
    return content[(number - 1) * PART : number * PART]


def test_an_interrupted_local_upload_resumes_with_only_the_missing_parts(
    api: APIClient, photographer: User, big_tiff: bytes
) -> None:
    state = _start(api, "wall.tif", len(big_tiff))
    token = state["upload"]
    assert state["part_count"] == 3
    urls = _urls(api, token, [1, 2, 3])
    # The part URL carries the upload re-signed (a fresh timestamp), so only its shape is fixed.
    assert re.fullmatch(r"/api/uploads/[^/]+/parts/1/", urls[1]["url"])
    assert _put(api, urls[1]["url"], _chunk(big_tiff, 1)).status_code == 204
    # Part 2 arrives cut short: refused whole, nothing of it kept.
    short = _put(api, urls[2]["url"], _chunk(big_tiff, 2)[:1000])
    assert short.status_code == 400 and "exactly" in short.json()["detail"]

    assert api.get(f"/api/uploads/{token}/").json()["missing"] == [2, 3]
    early = api.post(f"/api/uploads/{token}/complete/")
    assert early.status_code == 409 and early.json()["missing"] == [2, 3]
    for number in (2, 3):
        assert _put(api, urls[number]["url"], _chunk(big_tiff, number)).status_code == 204

    done = api.post(f"/api/uploads/{token}/complete/")
    assert done.status_code == 201, done.json()
    photo = Photo.objects.get(uid=done.json()["id"])
    assert (photo.owner, photo.original_filename, photo.format) == (
        photographer,
        "wall.tif",
        "tiff",
    )
    with default_storage.open(str(photo.original.name), "rb") as original:
        assert hashlib.sha256(original.read()).digest() == hashlib.sha256(big_tiff).digest()
    assert not any(Path(default_storage.path("partial")).iterdir())
    # Completing again gives the same photo, and so does asking where the upload stands.
    assert api.post(f"/api/uploads/{token}/complete/").json()["id"] == str(photo.uid)
    state = api.get(f"/api/uploads/{token}/").json()
    assert (state["missing"], state["photo"]["id"]) == ([], str(photo.uid))


def _send_every_part(api: APIClient, name: str, content: bytes) -> str:
    token = _start(api, name, len(content))["upload"]
    for number, part in _urls(api, token, [1, 2, 3]).items():
        assert _put(api, part["url"], _chunk(content, number)).status_code == 204
    return str(token)


# The second request runs on its own thread and database connection: it must see what the
# first one committed.
@pytest.mark.django_db(transaction=True)
def test_a_complete_sent_again_while_the_first_still_assembles_gets_the_same_photo(
    api: APIClient, photographer: User, big_tiff: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _send_every_part(api, "wall.tif", big_tiff)
    retry = APIClient()
    retry.force_authenticate(photographer)
    retried: list[Any] = []

    def complete_again() -> None:
        retried.append(retry.post(f"/api/uploads/{token}/complete/"))
        connections.close_all()

    second = threading.Thread(target=complete_again)
    second_waits = threading.Event()
    real_flock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        if threading.current_thread() is second:
            second_waits.set()
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    record = services.photo_record_original

    def record_once_the_retry_arrives(**kwargs: Any) -> Photo:
        # The first request has assembled the original and is about to write its row: the
        # client's retry arrives now, and is made to wait for the first to finish.
        second.start()
        second_waits.wait(timeout=10)
        return record(**kwargs)

    monkeypatch.setattr(services, "photo_record_original", record_once_the_retry_arrives)

    first = api.post(f"/api/uploads/{token}/complete/")
    second.join(timeout=30)

    assert first.status_code == 201, first.json()
    (again,) = retried
    assert again.status_code == 201, again.json()
    assert again.json()["id"] == first.json()["id"]
    photo = Photo.objects.get()
    with default_storage.open(str(photo.original.name), "rb") as original:
        assert original.read() == big_tiff
    assert not any(Path(default_storage.path("partial")).iterdir())


def test_a_complete_whose_row_could_not_be_written_completes_on_retry(
    api: APIClient, big_tiff: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _send_every_part(api, "wall.tif", big_tiff)
    record = services.photo_record_original
    attempts: list[None] = []

    def database_drops_the_first_write(**kwargs: Any) -> Photo:
        attempts.append(None)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return record(**kwargs)

    monkeypatch.setattr(services, "photo_record_original", database_drops_the_first_write)

    assert api.post(f"/api/uploads/{token}/complete/").status_code == 503
    assert not Photo.objects.exists()
    # Nothing needs sending again.
    assert api.get(f"/api/uploads/{token}/").json()["missing"] == []
    done = api.post(f"/api/uploads/{token}/complete/")
    assert done.status_code == 201, done.json()
    photo = Photo.objects.get()
    with default_storage.open(str(photo.original.name), "rb") as original:
        assert original.read() == big_tiff
    originals = Path(default_storage.path("originals"))
    assert [p for p in originals.rglob("*") if p.is_file()] == [Path(photo.original.path)]
    assert not any(Path(default_storage.path("partial")).iterdir())


def test_a_part_that_does_not_match_its_md5_is_refused(api: APIClient, big_tiff: bytes) -> None:
    token = _start(api, "wall.tif", len(big_tiff))["upload"]
    url = f"/api/uploads/{token}/parts/1/"
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    answer = _put(api, url, _chunk(big_tiff, 1), HTTP_CONTENT_MD5=wrong)
    assert answer.status_code == 400 and answer.json()["error"] == "bad_digest"
    right = base64.b64encode(hashlib.md5(_chunk(big_tiff, 1)).digest()).decode()
    assert _put(api, url, _chunk(big_tiff, 1), HTTP_CONTENT_MD5=right).status_code == 204


def test_content_that_is_not_a_photo_is_removed_at_completion(
    api: APIClient, big_tiff: bytes
) -> None:
    fake = b"not a tiff at all " * (len(big_tiff) // 18 + 1)
    fake = fake[: len(big_tiff)]
    token = _start(api, "wall.tif", len(fake))["upload"]
    for number in (1, 2, 3):
        assert (
            _put(api, f"/api/uploads/{token}/parts/{number}/", _chunk(fake, number)).status_code
            == 204
        )
    refused = api.post(f"/api/uploads/{token}/complete/")
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported"
    assert not Photo.objects.exists()
    assert not any(Path(default_storage.path("partial")).iterdir())
    originals = Path(default_storage.path("originals"))
    assert not originals.exists() or not any(p.is_file() for p in originals.rglob("*"))


def test_another_user_cannot_send_parts_and_abort_drops_them(
    api: APIClient, other_photographer: User, big_tiff: bytes
) -> None:
    token = _start(api, "wall.tif", len(big_tiff))["upload"]
    url = f"/api/uploads/{token}/parts/1/"
    assert _put(api, url, _chunk(big_tiff, 1)).status_code == 204
    stranger = APIClient()
    stranger.force_authenticate(other_photographer)
    assert _put(stranger, url, _chunk(big_tiff, 1)).status_code == 404
    assert api.delete(f"/api/uploads/{token}/").status_code == 204
    assert api.get(f"/api/uploads/{token}/").status_code == 404
    assert not any(Path(default_storage.path("partial")).iterdir())


# The reconciler closes its database connection after each pass: only a transactional test
# can go on using the database afterwards.
@pytest.mark.django_db(transaction=True)
def test_the_reconciler_sweeps_the_parts_of_abandoned_uploads_only(
    api: APIClient, big_tiff: bytes, settings: Settings
) -> None:
    partial = Path(default_storage.path("partial"))
    abandoned = _start(api, "left.tif", len(big_tiff))["upload"]
    assert _put(api, _urls(api, abandoned, [1])[1]["url"], _chunk(big_tiff, 1)).status_code == 204
    (left,) = partial.iterdir()
    resumed = _start(api, "kept.tif", len(big_tiff))["upload"]
    assert _put(api, _urls(api, resumed, [1])[1]["url"], _chunk(big_tiff, 1)).status_code == 204
    # Nobody touched the first upload for longer than a token lives; the second just got a part.
    long_ago = time.time() - settings.DIRECT_UPLOAD_MAX_AGE_S - 60
    for path in (left, *left.iterdir()):
        os.utime(path, (long_ago, long_ago))

    IngestReconciler(
        every_s=60, older_than_s=600, parts_idle_s=settings.DIRECT_UPLOAD_MAX_AGE_S
    ).run_once()

    (kept,) = partial.iterdir()
    assert kept != left
    # The upload still in progress completes as if nothing happened.
    for number in (2, 3):
        url = _urls(api, resumed, [number])[number]["url"]
        assert _put(api, url, _chunk(big_tiff, number)).status_code == 204
    done = api.post(f"/api/uploads/{resumed}/complete/")
    assert done.status_code == 201, done.json()


def test_a_part_request_without_a_number_names_the_part(api: APIClient, big_tiff: bytes) -> None:
    token = _start(api, "wall.tif", len(big_tiff))["upload"]
    answer = api.post(f"/api/uploads/{token}/parts/", {"parts": [{"number": 1}, {}]}, format="json")
    assert answer.status_code == 400
    assert answer.json()["detail"] == "parts.1.number: This field is required."
