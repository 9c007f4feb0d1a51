"""The duplicate group's keeper on real copies: the camera original over its re-saves, and a file
uploaded twice shown once, labelled "same file"."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from culling import services as culling_services
from gallery import selectors
from gallery.models import Photo
from tests.gallery.factories import photo_ingested
from tests.support.paths import REAL_PHOTOS

pytestmark = pytest.mark.django_db

ORIGINAL = REAL_PHOTOS / "Canon_EOS_D60.jpg"


def _resaved(quality: int) -> bytes:
    with Image.open(ORIGINAL) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_the_camera_original_is_kept_over_resaves_and_a_second_upload_is_the_same_file(
    client: Client, photographer: User
) -> None:
    # The re-saves come first, so the group hangs off one of them.
    q95 = photo_ingested(owner=photographer, filename="export-q95.jpg", content=_resaved(95))
    q60 = photo_ingested(owner=photographer, filename="export-q60.jpg", content=_resaved(60))
    original = photo_ingested(
        owner=photographer, filename="IMG_0042.JPG", content=ORIGINAL.read_bytes()
    )
    again = photo_ingested(
        owner=photographer, filename="IMG_0042 (1).JPG", content=ORIGINAL.read_bytes()
    )
    assert (q95.jpeg_quality, q60.jpeg_quality, original.jpeg_quality) == (95, 60, 89)
    members = selectors.duplicate_group_members(root=q95)
    assert {m.pk for m in members} == {q95.pk, q60.pk, original.pk, again.pk}
    assert selectors.duplicate_group_suggested_keeper(photos=members).pk == original.pk

    curator = get_user_model().objects.create_superuser("minor", password="pw-minor-1234")
    client.force_login(curator)
    page = client.get(f"/admin/gallery/photo/duplicates/{q95.uid}/").content.decode()
    assert f'name="keep" value="{original.uid}" class="button default"' in page
    # The second upload of the same bytes is folded into the original's card.
    assert page.count('<section class="pj-card') == 3
    assert "Same file, 2 uploads" in page and "IMG_0042 (1).JPG" in page
    assert (
        "Keep the suggested photo (IMG_0042.JPG) and reject the other 2 photos and its identical "
        "copy (IMG_0042 (1).JPG)" in page
    )
    assert again.reject_detail == "Same file as IMG_0042.JPG, uploaded earlier."


def test_a_copy_the_curator_rejected_is_not_suggested_as_the_keeper(
    client: Client, photographer: User
) -> None:
    q95 = photo_ingested(owner=photographer, filename="export-q95.jpg", content=_resaved(95))
    q60 = photo_ingested(owner=photographer, filename="export-q60.jpg", content=_resaved(60))
    original = photo_ingested(
        owner=photographer, filename="IMG_0042.JPG", content=ORIGINAL.read_bytes()
    )
    curator = get_user_model().objects.create_superuser("minor", password="pw-minor-1234")
    culling_services.photo_reject(photo_id=original.pk, curator=curator, reason="out_of_focus")
    members = selectors.duplicate_group_members(root=q95)
    assert {m.pk for m in members} == {q95.pk, q60.pk, original.pk}
    # The best of the copies still wanted: the lighter re-save.
    assert selectors.duplicate_group_suggested_keeper(photos=members).pk == q95.pk
    client.force_login(curator)
    page = client.get(f"/admin/gallery/photo/duplicates/{q95.uid}/").content.decode()
    assert f'name="keep" value="{q95.uid}" class="button default"' in page


def _uploaded_twice(photographer: User) -> tuple[Photo, Photo]:
    """One camera file uploaded twice: the copy (a download of it) arrives first."""
    content = (REAL_PHOTOS / "Canon_EOS_5D.jpg").read_bytes()
    copy = photo_ingested(owner=photographer, filename="Canon_EOS_5D_copy.jpg", content=content)
    original = photo_ingested(owner=photographer, filename="Canon_EOS_5D.jpg", content=content)
    assert original.duplicate_of_id == copy.pk
    return copy, original


def test_the_keep_button_says_what_happens_to_an_identical_copy(
    client: Client, photographer: User
) -> None:
    copy, _ = _uploaded_twice(photographer)
    curator = get_user_model().objects.create_superuser("minor", password="pw-minor-1234")
    client.force_login(curator)
    page = client.get(f"/admin/gallery/photo/duplicates/{copy.uid}/").content.decode()
    assert page.count('<section class="pj-card') == 1
    assert "the other 0" not in page
    assert (
        "Keep the suggested photo (Canon_EOS_5D_copy.jpg) and reject its identical copy "
        "(Canon_EOS_5D.jpg)" in page
    )


def test_the_curator_keeps_the_identical_copy_that_was_not_suggested(
    client: Client, photographer: User
) -> None:
    copy, original = _uploaded_twice(photographer)
    curator = get_user_model().objects.create_superuser("minor", password="pw-minor-1234")
    client.force_login(curator)
    url = f"/admin/gallery/photo/duplicates/{copy.uid}/"
    page = client.get(url).content.decode()
    # Still one card, with a button of its own for the second upload.
    assert page.count('<section class="pj-card') == 1
    assert f'name="keep" value="{original.uid}"' in page
    answer = client.post(url, {"keep": str(original.uid)}, follow=True)
    assert "Kept Canon_EOS_5D.jpg; rejected its identical copy (Canon_EOS_5D_copy.jpg)." in (
        answer.content.decode()
    )
    decided = {p.original_filename: p.curator_decision for p in Photo.objects.all()}
    assert decided == {"Canon_EOS_5D.jpg": "approved", "Canon_EOS_5D_copy.jpg": "rejected"}
