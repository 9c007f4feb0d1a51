"""Throttles: too many uploads or wrong tokens get 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("elephants.jpg", (PHOTOS / "elephants.jpg").read_bytes())


def test_upload_requests_past_the_rate_get_429_and_reading_goes_on(
    api: APIClient, settings: Settings
) -> None:
    settings.UPLOAD_THROTTLE_RATE = "2/minute"
    for _ in range(2):
        assert (
            api.post("/api/photos/", {"files": [_photo()]}, format="multipart").status_code == 201
        )
    refused = api.post("/api/photos/", {"files": [_photo()]}, format="multipart")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert api.get("/api/photos/").status_code == 200


def test_wrong_tokens_from_one_address_lock_it_out_even_with_the_right_token(
    photographer: User, settings: Settings
) -> None:
    settings.TOKEN_FAILURE_THROTTLE_RATE = "5/minute"
    good = Token.objects.create(user=photographer)
    client = APIClient()
    for attempt in range(5):
        client.credentials(HTTP_AUTHORIZATION=f"Token wrong{attempt:036d}")
        assert client.get("/api/photos/").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION="Token wrong-again")
    refused = client.get("/api/photos/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    client.credentials(HTTP_AUTHORIZATION=f"Token {good.key}")
    assert client.get("/api/photos/").status_code == 429

    # Another address is not affected.
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.7")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {good.key}")
    assert elsewhere.get("/api/photos/").status_code == 200


def test_right_tokens_are_never_counted(photographer: User, settings: Settings) -> None:
    settings.TOKEN_FAILURE_THROTTLE_RATE = "2/minute"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=photographer).key}")
    assert all(client.get("/api/photos/").status_code == 200 for _ in range(5))
