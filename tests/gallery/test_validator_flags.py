"""Validator flags as people meet them: the curator admin, the photographer's gallery, the API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from gallery.models import VALIDATOR_FLAG_FIELDS, Photo
from pipeline.core import validator
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db

Status = Photo.Status
CHANGELIST = "/admin/gallery/photo/"
SOFT: dict[str, Any] = {"validator_verdict": "borderline", "flag_possibly_soft": True}
SOFT_WORDS = "Possibly soft — passed, flagged for the curator"


@pytest.fixture
def staff(client: Client) -> Client:
    curator = get_user_model().objects.create_superuser("minor", password="pw-minor-1234")
    client.force_login(curator)
    return client


@pytest.fixture
def library(photographer: User) -> dict[str, Photo]:
    """A clean pass, a soft frame sent on and scored, a dark one still waiting, a polyglot."""
    return {
        "clean": make_photo(
            owner=photographer, status=Status.SCORED, filename="clean.jpg", validator_verdict="pass"
        ),
        "soft": make_photo(owner=photographer, status=Status.SCORED, filename="soft.jpg", **SOFT),
        "dark": make_photo(
            owner=photographer,
            status=Status.AWAITING_SCORE,
            filename="dark.jpg",
            validator_verdict="borderline",
            flag_possibly_underexposed=True,
        ),
        "polyglot": make_photo(
            owner=photographer,
            status=Status.SCORED,
            filename="polyglot.jpg",
            validator_verdict="pass",
            note_trailing_data=True,
        ),
    }


def _names(html: str) -> set[str]:
    return set(re.findall(r"\b(clean|soft|dark|polyglot)\.jpg\b", html))


# --- curator admin ---------------------------------------------------------------------------


def test_admin_filters_by_validator_flag(staff: Client, library: dict[str, Photo]) -> None:
    sidebar = staff.get(CHANGELIST).content.decode()
    assert "By validator flag" in sidebar
    for label in ("Possibly soft", "Possibly overexposed", "Possibly underexposed"):
        assert label in sidebar
    assert "Extra data after the image" in sidebar

    assert _names(staff.get(CHANGELIST, {"flag": "possibly_soft"}).content.decode()) == {"soft"}
    assert _names(staff.get(CHANGELIST, {"flag": "possibly_underexposed"}).content.decode()) == {
        "dark"
    }
    assert _names(staff.get(CHANGELIST, {"flag": "trailing_data"}).content.decode()) == {"polyglot"}
    borderline = staff.get(CHANGELIST, {"validator_verdict__exact": "borderline"})
    assert _names(borderline.content.decode()) == {"soft", "dark"}


def test_admin_badges_on_the_changelist_and_the_detail_page(
    staff: Client, library: dict[str, Photo]
) -> None:
    rows = staff.get(CHANGELIST).content.decode()
    assert (
        f'<span class="pj-badge pj-flag" data-flag="possibly_soft" title="{SOFT_WORDS}">'
        "Possibly soft</span>" in rows
    )
    assert rows.count('class="pj-badge pj-flag"') == 3

    detail = staff.get(f"{CHANGELIST}{library['soft'].pk}/change/").content.decode()
    assert 'data-flag="possibly_soft"' in detail
    assert "Validator: Borderline: flagged, sent on." in detail
    assert f"<li>{SOFT_WORDS}</li>" in detail
    clean = staff.get(f"{CHANGELIST}{library['clean'].pk}/change/").content.decode()
    assert "pj-flag" not in clean and "Validator: Passed." in clean


def _queue(html: str) -> list[dict[str, Any]]:
    found = re.search(r'id="review-queue" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return list(json.loads(found.group(1)))


def test_review_queue_can_show_only_flagged_photos(
    staff: Client, library: dict[str, Photo]
) -> None:
    everything = _queue(staff.get(f"{CHANGELIST}review/").content.decode())
    assert {item["name"] for item in everything} == {"clean.jpg", "soft.jpg", "polyglot.jpg"}

    page = staff.get(f"{CHANGELIST}review/", {"flag": "possibly_soft"}).content.decode()
    assert [(item["name"], item["flags"]) for item in _queue(page)] == [
        ("soft.jpg", ["Possibly soft"])
    ]
    assert '<option value="possibly_soft" selected>' in page
    waiting = staff.get(
        f"{CHANGELIST}review/", {"status": "awaiting_score", "flag": "possibly_underexposed"}
    )
    assert [item["name"] for item in _queue(waiting.content.decode())] == ["dark.jpg"]


def test_dashboard_shows_flagged_frames_apart_from_the_savings(
    staff: Client, library: dict[str, Photo]
) -> None:
    html = staff.get(f"{CHANGELIST}dashboard/").content.decode()
    flagged = re.search(r'<p id="flagged-sent-on">(.*?)</p>', html, re.S)
    assert flagged is not None
    # The soft frame (scored, 0.9 s) and the dark one (waiting) went on to the GPU.
    assert ">2 flagged, sent on</a>" in flagged.group(1)
    assert "not counted as saved" in flagged.group(1)


# --- photographer's gallery ------------------------------------------------------------------


def test_gallery_tiles_and_detail_say_what_the_flag_means(
    ansel: Client, library: dict[str, Photo]
) -> None:
    html = ansel.get("/").content.decode()
    tile = re.search(r'<li data-photo="{}".*?</li>'.format(library["soft"].uid), html, re.S)
    assert tile is not None and f'<span class="flag">{SOFT_WORDS}</span>' in tile.group(0)
    clean = re.search(r'<li data-photo="{}".*?</li>'.format(library["clean"].uid), html, re.S)
    assert clean is not None and 'class="flag"' not in clean.group(0)

    detail = ansel.get(f"/photos/{library['polyglot'].uid}/").content.decode()
    assert (
        '<li class="flag">Extra data after the image: the photo was read normally and the file '
        "is kept as uploaded</li>" in detail
    )
    assert "possibly_" not in detail and "trailing_data" not in detail  # no codes on the page


def test_gallery_filters_by_flag_and_keeps_it_across_pages(
    ansel: Client, library: dict[str, Photo]
) -> None:
    assert _names(ansel.get("/", {"flag": "possibly_soft"}).content.decode()) == {"soft"}
    # An unknown flag is ignored, not an error.
    assert _names(ansel.get("/", {"flag": "bogus"}).content.decode()) == {
        "clean",
        "soft",
        "dark",
        "polyglot",
    }
    assert (
        '<option value="possibly_soft" selected>'
        in ansel.get("/", {"flag": "possibly_soft"}).content.decode()
    )


# --- API -------------------------------------------------------------------------------------


def test_api_exposes_verdict_flags_notes_and_their_words(
    api: APIClient, library: dict[str, Photo]
) -> None:
    soft = api.get(f"/api/photos/{library['soft'].uid}/").json()
    assert (soft["verdict"], soft["flags"], soft["notes"]) == ("borderline", ["possibly_soft"], [])
    assert soft["warnings"] == [SOFT_WORDS]
    assert soft["reject_reason"] == ""
    polyglot = api.get(f"/api/photos/{library['polyglot'].uid}/").json()
    assert (polyglot["verdict"], polyglot["flags"], polyglot["notes"]) == (
        "pass",
        [],
        ["trailing_data"],
    )


def test_api_filters_by_flag_and_refuses_an_unknown_one(
    api: APIClient, library: dict[str, Photo]
) -> None:
    soft = api.get("/api/photos/", {"flag": "possibly_soft"}).json()
    assert [p["original_filename"] for p in soft["results"]] == ["soft.jpg"]
    both = api.get("/api/photos/", {"flag": "trailing_data", "status": "scored"}).json()
    assert [p["original_filename"] for p in both["results"]] == ["polyglot.jpg"]

    refused = api.get("/api/photos/", {"flag": "soft"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_flag"
    assert "possibly_soft" in refused.json()["detail"] and "[" not in refused.json()["detail"]


def test_openapi_schema_documents_verdict_flags_and_the_flag_filter(api: APIClient) -> None:
    schema = api.get("/api/schema/", {"format": "json"}).json()
    photo = schema["components"]["schemas"]["PhotoOutput"]["properties"]
    assert photo["flags"]["items"]["$ref"].endswith("FlagsEnum")
    flags_enum = schema["components"]["schemas"]["FlagsEnum"]["enum"]
    assert set(flags_enum) == {"possibly_soft", "possibly_overexposed", "possibly_underexposed"}
    assert photo["notes"]["items"]["$ref"].endswith("NotesEnum")
    assert "borderline" in photo["verdict"]["description"]
    parameters = schema["paths"]["/api/photos/"]["get"]["parameters"]
    flag = next(p for p in parameters if p["name"] == "flag")
    assert set(flag["schema"]["enum"]) == {*flags_enum, "trailing_data"}


def test_every_flag_and_note_the_validator_can_raise_has_a_column_and_words() -> None:
    raised = {
        value
        for name, value in vars(validator).items()
        if name.startswith(("FLAG_", "NOTE_")) and isinstance(value, str)
    }
    assert raised == set(VALIDATOR_FLAG_FIELDS) == set(Photo.ValidatorFlag.values)
    assert {f.name for f in Photo._meta.get_fields()} >= set(VALIDATOR_FLAG_FIELDS.values())
    assert set(Photo.ValidatorVerdict.values) == {v.value for v in validator.Verdict}
