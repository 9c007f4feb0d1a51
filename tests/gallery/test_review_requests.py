"""A photographer asks for a second look at a rejected photo; a curator answers by deciding it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from culling import services as culling_services
from gallery import services
from gallery.models import Photo, ReviewRequest
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db

Status = Photo.Status


@pytest.fixture
def curator() -> User:
    # The Curators group's photo permissions, granted directly: a transactional test elsewhere
    # in the run may have flushed the groups the data migration made.
    user = get_user_model().objects.create_user("minor", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="gallery", codename__in=["view_photo", "change_photo"]
        )
    )
    return get_user_model().objects.get(pk=user.pk)


def _ask(client: Client, photo: Photo, note: str) -> str:
    response = client.post(f"/photos/{photo.uid}/review/", {"note": note}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_rejected_photo_can_be_sent_for_review_once_with_a_note(
    ansel: Client, photographer: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, detail="Too soft to use.")
    assert "Ask for a review" in ansel.get(f"/photos/{photo.uid}/").content.decode()

    assert "Write a note for the curator" in _ask(ansel, photo, "   ")
    html = _ask(ansel, photo, "The softness is the fog, on purpose.")
    assert "Asked for a review." in html
    assert "“The softness is the fog, on purpose.”" in html
    assert "Waiting for a curator to look again." in html
    assert "Think the rejection is wrong?" not in html
    event = photo.events.order_by("-id").first()
    assert event is not None and event.cause == "photographer asked for a review"
    assert event.detail == "The softness is the fog, on purpose." and event.actor == photographer

    assert "already asked for" in _ask(ansel, photo, "Again!")
    assert ReviewRequest.objects.filter(photo=photo).count() == 1


def test_only_the_owner_and_only_for_a_rejected_photo(
    client: Client, photographer: User, other_photographer: User
) -> None:
    scored = make_photo(owner=photographer, status=Status.SCORED)
    rejected = make_photo(owner=photographer, status=Status.REJECTED)
    client.force_login(photographer)
    assert "Ask for a review" not in client.get(f"/photos/{scored.uid}/").content.decode()
    assert "Only a rejected photo" in _ask(client, scored, "Why not?")

    client.force_login(other_photographer)
    response = client.post(f"/photos/{rejected.uid}/review/", {"note": "let me in"})
    assert response.status_code == 404
    assert client.get(f"/photos/{rejected.uid}/review/").status_code == 405
    assert not ReviewRequest.objects.exists()


def test_the_curator_answers_from_the_queue_and_the_photographer_reads_it(
    ansel: Client, photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, filename="fog.jpg")
    _ask(ansel, photo, "The softness is the fog, on purpose.")
    review = ReviewRequest.objects.get()

    desk = Client()
    desk.force_login(curator)
    queue = desk.get("/admin/gallery/reviewrequest/", {"answered": "no"}).content.decode()
    assert "fog.jpg" in queue and "The softness is the fog, on purpose." in queue
    answer = desk.post(
        f"/admin/gallery/reviewrequest/{review.pk}/change/",
        {"decision": "approved", "answer": "You are right: the fog carries it."},
    )
    assert answer.status_code == 302
    still_open = desk.get("/admin/gallery/reviewrequest/", {"answered": "no"}).content.decode()
    assert "The softness is the fog, on purpose." not in still_open

    photo.refresh_from_db()
    assert photo.status == Status.APPROVED and photo.curated_by == curator
    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert "The curator answered on" in html and ">approved<" in html
    assert "“You are right: the fog carries it.”" in html
    # Answered: the curator cannot change the answer from the queue, only the photo itself.
    assert desk.post(
        f"/admin/gallery/reviewrequest/{review.pk}/change/", {"decision": "rejected"}
    ).status_code in (302, 403)
    review.refresh_from_db()
    assert review.decision == "approved"


def test_any_curator_decision_on_the_photo_answers_the_request(
    photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED)
    services.photo_request_review(photo_id=photo.pk, owner=photographer, note="Look again?")
    culling_services.photo_reject(
        photo_id=photo.pk, curator=curator, reason="out_of_focus", note="Still soft."
    )
    review = ReviewRequest.objects.get()
    assert (review.decision, review.answer, review.answered_by) == (
        "rejected",
        "Out of focus: Still soft.",
        curator,
    )


def test_the_answered_list_costs_the_same_queries_for_one_request_or_many(
    photographer: User, curator: User, django_assert_max_num_queries: Any
) -> None:
    desk = Client()
    desk.force_login(curator)

    def answered(count: int) -> None:
        for _ in range(count):
            photo = make_photo(owner=photographer, status=Status.REJECTED)
            services.photo_request_review(photo_id=photo.pk, owner=photographer, note="Again?")
            culling_services.photo_pick(photo_id=photo.pk, curator=curator)

    answered(1)
    with CaptureQueriesContext(connection) as one:
        desk.get("/admin/gallery/reviewrequest/", {"answered": "yes"})
    answered(5)
    with django_assert_max_num_queries(len(one)):
        page = desk.get("/admin/gallery/reviewrequest/", {"answered": "yes"})
    assert page.content.decode().count(f"Approved by {curator}") == 6


def test_a_request_for_a_photo_without_a_thumbnail_shows_no_broken_image(
    ansel: Client, photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, filename="broken.jpg")
    Photo.objects.filter(pk=photo.pk).update(thumbnail="", preview="")
    services.photo_request_review(photo_id=photo.pk, owner=photographer, note="Readable?")
    desk = Client()
    desk.force_login(curator)
    queue = desk.get("/admin/gallery/reviewrequest/").content.decode()
    assert "broken.jpg" in queue
    assert f"/photos/{photo.uid}/thumbnail" not in queue


def test_a_reject_from_the_review_queue_needs_a_preset_reason_the_photographer_reads(
    ansel: Client, photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, filename="pier.jpg")
    _ask(ansel, photo, "The tilt is deliberate.")
    review = ReviewRequest.objects.get()
    desk = Client()
    desk.force_login(curator)
    change = f"/admin/gallery/reviewrequest/{review.pk}/change/"

    refused = desk.post(change, {"decision": "rejected", "answer": "Still crooked."})
    assert "Choose a reason: the photographer sees it." in refused.content.decode()
    review.refresh_from_db()
    assert review.is_open

    answered = desk.post(
        change, {"decision": "rejected", "reason": "composition", "answer": "Still crooked."}
    )
    assert answered.status_code == 302
    photo.refresh_from_db()
    assert (photo.curator_reject_reason, photo.reject_detail) == (
        "composition",
        "Composition: Still crooked.",
    )
    assert "“Composition: Still crooked.”" in ansel.get(f"/photos/{photo.uid}/").content.decode()


def test_a_decision_changed_after_the_answer_is_what_the_photographer_reads_last(
    ansel: Client, photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, filename="fog.jpg")
    _ask(ansel, photo, "Look again?")
    culling_services.photo_reject(
        photo_id=photo.pk, curator=curator, reason="other", note="test reject"
    )
    culling_services.photo_pick(photo_id=photo.pk, curator=curator, note="Changed my mind.")

    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert "Picked by the curator" in html
    assert "kept rejected" in html  # the answer, as it was given
    assert "Since then the curator has changed the decision: " in html
    assert '<strong class="pick">picked</strong>.' in html
    assert "“Changed my mind.”" in html


def test_a_curator_reject_confirmed_again_answers_the_request(
    ansel: Client, photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED, filename="pan.jpg")
    culling_services.photo_reject(photo_id=photo.pk, curator=curator, reason="motion_blur")
    _ask(ansel, photo, "It is sharp, please look again.")
    for _ in range(2):  # a second, identical reject changes nothing: the request stays answered
        culling_services.photo_reject(photo_id=photo.pk, curator=curator, reason="motion_blur")
    review = ReviewRequest.objects.get()
    assert (review.decision, review.answer, review.answered_by) == (
        "rejected",
        "Motion blur",
        curator,
    )
    html = ansel.get(f"/photos/{photo.uid}/").content.decode()
    assert "Waiting for a curator to look again." not in html
    assert "The curator answered on" in html

    # Undoing the confirmation opens the request again.
    culling_services.decision_undo(curator=curator)
    review.refresh_from_db()
    assert review.is_open
