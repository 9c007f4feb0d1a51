"""What an API client sees when it gets something wrong: one JSON shape, `{"error", "detail"}`,
in words, with the status its schema documents (tests/test_api_fuzz.py checks every operation's
answers against the schema)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gallery.models import Photo
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db


def test_an_address_without_its_final_slash_is_a_json_404_that_says_so(api: APIClient) -> None:
    # Django would redirect (301), and a client following it would turn the upload into a GET.
    with (PHOTOS / "elephants.jpg").open("rb") as photo:
        answer = api.post("/api/photos", {"files": [photo]}, format="multipart")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "not_found",
        "detail": "There is no API at /api/photos. Addresses end with a slash: /api/photos/",
    }
    assert Photo.objects.count() == 0


def test_a_read_without_its_final_slash_is_redirected(api: APIClient) -> None:
    answer = api.get("/api/photos?status=rejected")
    assert answer.status_code == 301
    assert answer["Location"] == "/api/photos/?status=rejected"


@pytest.mark.parametrize("path", ["/api/nothing/", "/api/photos/not-a-uuid/"])
def test_an_unknown_address_is_a_json_404(api: APIClient, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": f"There is no API at {path}."}


def test_no_credentials_is_401_with_the_scheme_to_use() -> None:
    answer = APIClient().get("/api/photos/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"
    assert answer.json() == {
        "error": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


def test_a_body_that_is_not_json_is_refused_without_the_parsers_words(api: APIClient) -> None:
    answer = api.post("/api/uploads/", "{", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["error"] == "parse_error"
    assert "Expecting" not in answer.json()["detail"]


def test_invalid_fields_are_named_with_where_they_are(api: APIClient) -> None:
    answer = api.post("/api/uploads/", {"filename": "a.jpg", "size": -1}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid"
    assert body["detail"] == "size: Ensure this value is greater than or equal to 0."
    assert list(body["fields"]) == ["size"]


def test_a_photo_that_does_not_exist_is_a_json_404(api: APIClient) -> None:
    answer = api.get("/api/photos/e3e70682-c209-4cac-a29f-6fbed82c07cd/")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "No such photo in your library."}
