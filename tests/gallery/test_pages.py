"""The photographer's pages and the file views, as a photographer (or a stranger) meets them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.http import StreamingHttpResponse
from django.test import Client

from gallery import views
from gallery.models import Photo
from tests.gallery.factories import make_photo
from tests.gallery.pages import gallery_tiles
from tests.support.paths import PHOTOS

pytestmark = pytest.mark.django_db

Status = Photo.Status


def test_pages_need_a_login(client: Client, photographer: User) -> None:
    photo = make_photo(owner=photographer)
    for url in ("/", "/upload/", f"/photos/{photo.uid}/", f"/photos/{photo.uid}/original"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_gallery_shows_only_my_photos_as_lazy_thumbnails(
    ansel: Client, photographer: User, other_photographer: User
) -> None:
    mine = make_photo(owner=photographer, filename="mine.jpg")
    theirs = make_photo(owner=other_photographer, filename="theirs.jpg")
    html = ansel.get("/").content.decode()
    assert gallery_tiles(html) == [str(mine.uid)]
    assert "theirs.jpg" not in html and str(theirs.uid) not in html
    assert (
        f'<img class="thumb" src="/photos/{mine.uid}/thumbnail" loading="lazy" decoding="async" '
        'alt="mine.jpg"' in html
    )


def test_gallery_filters_by_status_and_score(ansel: Client, photographer: User) -> None:
    great = make_photo(owner=photographer, status=Status.SCORED, score=0.9)
    fair = make_photo(owner=photographer, status=Status.SCORED, score=0.55)
    blurry = make_photo(owner=photographer, status=Status.REJECTED, detail="Too soft to use.")

    assert gallery_tiles(ansel.get("/", {"min_score": "0.8"}).content.decode()) == [str(great.uid)]
    assert set(gallery_tiles(ansel.get("/", {"status": "scored"}).content.decode())) == {
        str(great.uid),
        str(fair.uid),
    }
    rejected = ansel.get("/", {"status": "rejected"}).content.decode()
    assert gallery_tiles(rejected) == [str(blurry.uid)] and "Too soft to use." in rejected
    # Unknown filter values are ignored rather than breaking the page.
    assert (
        len(gallery_tiles(ansel.get("/", {"status": "nope", "min_score": "x"}).content.decode()))
        == 3
    )


def test_gallery_is_paginated_and_keeps_filters(
    ansel: Client, photographer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        make_photo(owner=photographer, status=Status.SCORED, score=0.9)
    first = ansel.get("/", {"min_score": "0.8"}).content.decode()
    assert len(gallery_tiles(first)) == 2
    assert 'href="?page=2&min_score=0.8" rel="next"' in first
    assert (
        len(gallery_tiles(ansel.get("/", {"min_score": "0.8", "page": "2"}).content.decode())) == 1
    )


def test_photo_detail_for_the_owner_only(
    ansel: Client, photographer: User, other_photographer: User
) -> None:
    mine = make_photo(owner=photographer, camera_model="EOS 6D", iso=800)
    theirs = make_photo(owner=other_photographer)
    html = ansel.get(f"/photos/{mine.uid}/").content.decode()
    assert f'src="/photos/{mine.uid}/preview" alt="cat_brown.jpg"' in html
    assert '<th scope="row">ISO</th><td>800</td>' in html
    assert ansel.get(f"/photos/{theirs.uid}/").status_code == 404


def test_files_are_served_to_the_owner_and_staff_only(
    client: Client, photographer: User, other_photographer: User
) -> None:
    photo = make_photo(owner=photographer, filename="My Cat.jpg")
    client.force_login(photographer)
    original = client.get(f"/photos/{photo.uid}/original")
    assert isinstance(original, StreamingHttpResponse)
    assert b"".join(original.streaming_content) == (PHOTOS / "cat_brown.jpg").read_bytes()
    assert 'attachment; filename="My Cat.jpg"' in original["Content-Disposition"]
    assert original["Cache-Control"] == "private, max-age=3600"
    thumbnail = client.get(f"/photos/{photo.uid}/thumbnail")
    assert isinstance(thumbnail, StreamingHttpResponse)
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert b"".join(thumbnail.streaming_content)[:2] == b"\xff\xd8"

    client.force_login(other_photographer)
    for kind in ("original", "preview", "thumbnail"):
        assert client.get(f"/photos/{photo.uid}/{kind}").status_code == 404

    curator = get_user_model().objects.create_user("minor", password="x", is_staff=True)
    curator.user_permissions.add(Permission.objects.get(codename="view_photo"))
    client.force_login(curator)
    assert client.get(f"/photos/{photo.uid}/preview").status_code == 200
    assert client.get(f"/photos/{photo.uid}/secrets").status_code == 404


def test_media_has_no_public_url(client: Client, photographer: User) -> None:
    photo = make_photo(owner=photographer)
    assert client.get(f"/media/{photo.original.name}").status_code == 404


def test_upload_page_has_a_labelled_multi_file_input_for_raw_too(ansel: Client) -> None:
    html = ansel.get("/upload/").content.decode()
    assert '<label for="file-input">' in html
    accept = re.search(r'<input id="file-input" type="file" multiple accept="([^"]*)"', html)
    assert accept and {"image/*", ".nef", ".cr3", ".dng"} <= set(accept.group(1).split(","))
    assert 'data-csrf="' in html and 'data-api="/api/photos/"' in html
    # Large files go in resumable parts in local mode too (tests/gallery/test_local_parts.py).
    assert 'data-direct-url="/api/uploads/"' in html
