"""Every camera RAW extension is taken the same way by the upload picker, the upload API and the
direct-to-S3 path, and is filed under the same format with the same content type.

The upload paths check only the container (magic bytes, and the extension for RAW formats that
are TIFF files inside); decoding is ingest's business. Where no real file of a format is at hand,
its container is built here: a real TIFF under a TIFF-based RAW's name, or the format's magic
bytes ahead of filler.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import urllib3
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image
from pytest_django import Settings
from rest_framework.test import APIClient
from skimage import data

from gallery.models import Photo
from pipeline.core.formats import FORMATS, RAW_FORMATS
from tests.support.paths import CAMERA_METADATA, PHOTOS
from tests.support.seaweedfs import SeaweedS3

pytestmark = pytest.mark.django_db


def _tiff() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(data.astronaut())).resize((64, 64)).save(buffer, "TIFF")
    return buffer.getvalue()


_FILLER = bytes(4096)

# (file name, content, format it is filed under, content type of the stored original)
RAW_UPLOADS: list[tuple[str, bytes, str, str]] = [
    ("canon_eos_6d.dng", (PHOTOS / "canon_eos_6d.dng").read_bytes(), "dng", "image/x-adobe-dng"),
    ("CanonRaw.cr2", (CAMERA_METADATA / "CanonRaw.cr2").read_bytes(), "cr2", "image/x-canon-cr2"),
    ("CanonRaw.cr3", (CAMERA_METADATA / "CanonRaw.cr3").read_bytes(), "cr3", "image/x-canon-cr3"),
    ("Nikon.nef", (CAMERA_METADATA / "Nikon.nef").read_bytes(), "nef", "image/x-nikon-nef"),
    ("Sigma.x3f", (CAMERA_METADATA / "Sigma.x3f").read_bytes(), "x3f", "image/x-sigma-x3f"),
    ("coolpix.nrw", _tiff(), "nef", "image/x-nikon-nef"),
    ("alpha.arw", _tiff(), "arw", "image/x-sony-arw"),
    ("cybershot.sr2", _tiff(), "arw", "image/x-sony-arw"),
    ("pentax.pef", _tiff(), "pef", "image/x-pentax-pef"),
    ("olympus.orf", b"IIRO\x08\x00\x00\x00" + _FILLER, "orf", "image/x-olympus-orf"),
    ("lumix.rw2", b"IIU\x00\x18\x00\x00\x00" + _FILLER, "rw2", "image/x-panasonic-rw2"),
    ("fuji.raf", b"FUJIFILMCCD-RAW 0201FF383501" + _FILLER, "raf", "image/x-fuji-raf"),
]
_IDS = [name.rsplit(".", 1)[1] for name, *_ in RAW_UPLOADS]


def test_every_raw_extension_the_registry_takes_is_tested_here() -> None:
    taken = {ext for fmt in RAW_FORMATS for ext in FORMATS[fmt].extensions}
    assert taken == set(_IDS)


def test_the_picker_offers_every_raw_extension(photographer: User) -> None:
    browser = Client()
    browser.force_login(photographer)
    html = browser.get("/upload/").content.decode()
    accept = re.search(r'<input id="file-input" type="file" multiple accept="([^"]*)"', html)
    assert accept is not None
    assert set(accept.group(1).split(",")) == {"image/*", *(f".{ext}" for ext in _IDS)}


@pytest.mark.parametrize(("name", "content", "fmt", "content_type"), RAW_UPLOADS, ids=_IDS)
def test_the_upload_api_files_each_raw_format(
    api: APIClient, name: str, content: bytes, fmt: str, content_type: str
) -> None:
    upload = io.BytesIO(content)
    upload.name = name
    response = api.post("/api/photos/", {"files": [upload]}, format="multipart")

    assert response.status_code == 201, response.json()
    created = response.json()["created"][0]
    assert created["format"] == fmt
    assert str(Photo.objects.get(uid=created["id"]).original.name).endswith(f".{fmt}")


@pytest.mark.parametrize(("name", "content", "fmt", "content_type"), RAW_UPLOADS, ids=_IDS)
def test_the_direct_upload_files_each_raw_format(
    api: APIClient,
    settings: Settings,
    s3_storage: str,
    seaweedfs: SeaweedS3,
    name: str,
    content: bytes,
    fmt: str,
    content_type: str,
) -> None:
    settings.DIRECT_UPLOAD_MAX_BYTES = 40 * 1024 * 1024
    settings.DIRECT_UPLOAD_PART_BYTES = 5 * 1024 * 1024
    created = api.post("/api/uploads/", {"filename": name, "size": len(content)}, format="json")
    assert created.status_code == 201, created.json()
    token = created.json()["upload"]
    parts = api.post(f"/api/uploads/{token}/parts/", {"parts": [{"number": 1}]}, format="json")
    part = parts.json()["parts"][0]
    headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
    put = urllib3.PoolManager(retries=False).request(
        "PUT", part["url"], body=content, headers=headers
    )
    assert put.status == 200, put.data

    completed = api.post(f"/api/uploads/{token}/complete/")

    assert completed.status_code == 201, completed.json()
    assert completed.json()["format"] == fmt
    photo = Photo.objects.get(uid=completed.json()["id"])
    stored = seaweedfs.client().get_object(Bucket=s3_storage, Key=photo.original.name)
    assert stored["ContentType"] == content_type
    assert stored["Body"].read() == content
