"""Pick, reject with a reason, unflag, stars and labels are events; undo puts the marks back and
the photographer reads the reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from culling import services, views
from gallery import services as gallery_services
from gallery.models import Photo, PhotoEvent
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db
Status = Photo.Status


def _marks(photo: Photo) -> tuple[object, ...]:
    photo.refresh_from_db()
    return (
        photo.status,
        photo.curator_decision,
        photo.curator_reject_reason,
        photo.reject_detail,
        photo.curator_rating,
        photo.curator_label,
    )


def test_each_decision_is_an_event_and_undo_walks_them_back(
    photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    untouched = _marks(photo)

    services.photo_pick(photo_id=photo.pk, curator=curator)
    services.photo_set_rating(photo_id=photo.pk, curator=curator, stars=3)
    services.photo_set_label(photo_id=photo.pk, curator=curator, label="red")
    services.photo_reject(
        photo_id=photo.pk, curator=curator, reason="eyes_closed", note="blink in frame 2"
    )
    assert _marks(photo) == (
        Status.REJECTED,
        "rejected",
        "eyes_closed",
        "Eyes closed: blink in frame 2",
        3,
        "red",
    )
    decisions = PhotoEvent.objects.filter(photo=photo, actor=curator)
    assert [e.cause for e in decisions] == [
        "curator: pick",
        "curator: rate",
        "curator: label",
        "curator: reject",
    ]
    assert decisions.last().before["status"] == Status.APPROVED  # type: ignore[union-attr]

    services.decision_undo(curator=curator)  # the reject
    assert _marks(photo) == (Status.APPROVED, "approved", "", "", 3, "red")
    services.decision_undo(curator=curator)  # the label
    services.decision_undo(curator=curator)  # the stars
    services.decision_undo(curator=curator)  # the pick
    assert _marks(photo) == untouched
    assert services.decision_undo(curator=curator) is None


def test_unflag_returns_a_pipeline_reject_to_what_the_pipeline_said(
    photographer: User, curator: User
) -> None:
    photo = make_photo(
        owner=photographer,
        status=Status.REJECTED,
        reason=Photo.RejectReason.BLURRY,
        detail="too soft to use",
    )
    services.photo_pick(photo_id=photo.pk, curator=curator)
    services.photo_set_rating(photo_id=photo.pk, curator=curator, stars=2)
    services.photo_unflag(photo_id=photo.pk, curator=curator)
    photo.refresh_from_db()
    assert (photo.status, photo.reject_reason, photo.reject_detail) == (
        Status.REJECTED,
        Photo.RejectReason.BLURRY,
        "too soft to use",
    )
    assert photo.curator_decision == ""
    assert photo.curator_rating == 2  # stars survive an unflag


def test_a_refused_undo_answers_with_the_frame_as_it_is_now(
    photographer: User, curator: User, curator_client: Client, django_user_model: type[User]
) -> None:
    other = django_user_model.objects.create_user("walker", is_staff=True)
    photo = make_photo(owner=photographer, status=Status.SCORED, filename="IMG_0021.JPG")
    services.photo_pick(photo_id=photo.pk, curator=curator)
    services.photo_reject(photo_id=photo.pk, curator=other, reason="composition")

    refused = curator_client.post("/admin/cull/undo/")
    assert refused.status_code == 409
    assert refused.json()["error"].startswith("IMG_0021.JPG changed after that decision")
    # The workspace redraws the frame: rejected by the other curator, no longer "picked".
    assert refused.json()["frame"]["decision"] == "rejected"


def test_undo_refuses_when_someone_changed_the_photo_since_then_goes_on_to_the_one_before(
    photographer: User, curator: User, django_user_model: type[User]
) -> None:
    other = django_user_model.objects.create_user("walker", is_staff=True)
    earlier = make_photo(owner=photographer, status=Status.SCORED)
    photo = make_photo(owner=photographer, status=Status.SCORED)
    services.photo_pick(photo_id=earlier.pk, curator=curator)
    services.photo_pick(photo_id=photo.pk, curator=curator)
    services.photo_reject(photo_id=photo.pk, curator=other, reason="composition")
    with pytest.raises(services.DecisionError, match="changed after that decision"):
        services.decision_undo(curator=curator)
    photo.refresh_from_db()
    assert photo.status == Status.REJECTED

    # The next undo is not stuck on the same refusal: it takes back the pick before it.
    assert services.decision_undo(curator=curator) == earlier
    earlier.refresh_from_db()
    assert earlier.curator_decision == ""
    photo.refresh_from_db()
    assert photo.status == Status.REJECTED
    assert services.decision_undo(curator=curator) is None


def test_the_same_label_twice_takes_it_off_and_bad_input_is_refused(
    photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    services.photo_set_label(photo_id=photo.pk, curator=curator, label="green")
    services.photo_set_label(photo_id=photo.pk, curator=curator, label="green")
    photo.refresh_from_db()
    assert photo.curator_label == ""
    with pytest.raises(services.DecisionError, match="choose a reason"):
        services.photo_reject(photo_id=photo.pk, curator=curator, reason="ugly")
    with pytest.raises(services.DecisionError, match="0 to 5"):
        services.photo_set_rating(photo_id=photo.pk, curator=curator, stars=6)


def test_the_photographer_reads_the_reason(
    photographer: User, curator: User, curator_client: Client, client: Client
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    answer = curator_client.post(
        f"/admin/cull/photos/{photo.uid}/decide/",
        {"action": "reject", "reason": "motion_blur", "note": "panning too slow"},
    )
    assert answer.status_code == 200
    assert answer.json()["rejectText"] == "Motion blur: panning too slow"
    client.force_login(photographer)
    page = client.get(f"/photos/{photo.uid}/")
    html = page.content.decode()
    assert "Rejected by the curator: Motion blur" in html and "“panning too slow”" in html

    undone = curator_client.post("/admin/cull/undo/")
    assert undone.json()["frame"]["decision"] == ""
    bad = curator_client.post(f"/admin/cull/photos/{photo.uid}/decide/", {"action": "rate"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "stars: 0 to 5"}


def test_photographers_cannot_reach_the_workspace(photographer: User, client: Client) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    client.force_login(photographer)
    answer = client.post(f"/admin/cull/photos/{photo.uid}/decide/", {"action": "pick"})
    assert answer.status_code == 302  # to the admin login
    photo.refresh_from_db()
    assert photo.curator_decision == ""


def test_the_detail_page_rejects_with_a_preset_reason_too(
    photographer: User, curator_client: Client, client: Client
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    page = curator_client.get(f"/admin/gallery/photo/{photo.pk}/change/").content.decode()
    assert '<option value="eyes_closed">Eyes closed</option>' in page
    curator_client.post(
        f"/admin/gallery/photo/review/{photo.uid}/decide/",
        {"decision": "rejected", "reason": "eyes_closed", "note": "", "next": "change"},
    )
    photo.refresh_from_db()
    assert (photo.curator_reject_reason, photo.reject_detail) == ("eyes_closed", "Eyes closed")
    client.force_login(photographer)
    assert "Eyes closed" in client.get(f"/photos/{photo.uid}/").content.decode()


def test_a_pick_in_the_workspace_answers_a_review_request(
    photographer: User, curator: User
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, reason=Photo.RejectReason.BLURRY)
    request = gallery_services.photo_request_review(
        photo_id=photo.pk, owner=photographer, note="It is sharp at 100 %, please look again"
    )
    services.photo_pick(photo_id=photo.pk, curator=curator)
    request.refresh_from_db()
    assert (request.decision, request.answered_by) == ("approved", curator)


def test_undoing_the_decision_that_answered_a_review_request_reopens_it(
    photographer: User, curator: User, client: Client
) -> None:
    photo = make_photo(owner=photographer, status=Status.REJECTED, reason=Photo.RejectReason.BLURRY)
    request = gallery_services.photo_request_review(
        photo_id=photo.pk, owner=photographer, note="It is sharp at 100 %, please look again"
    )
    services.photo_pick(photo_id=photo.pk, curator=curator)
    services.photo_set_rating(photo_id=photo.pk, curator=curator, stars=4)
    services.decision_undo(curator=curator)  # the stars: the request stays answered
    request.refresh_from_db()
    assert request.is_open is False

    services.decision_undo(curator=curator)  # the pick that answered it
    request.refresh_from_db()
    assert request.is_open and (request.decision, request.answer, request.answered_by) == (
        "",
        "",
        None,
    )
    client.force_login(photographer)
    page = client.get(f"/photos/{photo.uid}/").content.decode()
    assert "Waiting for a curator to look again." in page
    # Back in the curators' queue, and the next decision answers it.
    services.photo_reject(photo_id=photo.pk, curator=curator, reason="out_of_focus")
    request.refresh_from_db()
    assert (request.decision, request.answered_by) == ("rejected", curator)


def test_only_a_bad_stars_value_is_answered_about_stars(
    photographer: User, curator: User, curator_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = make_photo(owner=photographer, status=Status.SCORED)
    url = f"/admin/cull/photos/{photo.uid}/decide/"
    for sent in ("", "²", "2.5", "-1", "three", "9" * 5000):
        bad = curator_client.post(url, {"action": "rate", "stars": sent})
        assert (bad.status_code, bad.json()) == (400, {"error": "stars: 0 to 5"}), sent
    too_many = curator_client.post(url, {"action": "rate", "stars": "7"})
    assert too_many.json() == {"error": "a rating is 0 to 5 stars, not 7"}
    assert curator_client.post(url, {"action": "rate", "stars": "3"}).json()["stars"] == 3

    def broken(**_: object) -> Photo:
        raise ValueError("a fault in the pick")

    # A fault elsewhere is a server error to fix, not a message that blames the stars.
    monkeypatch.setitem(views.DECISIONS, "pick", broken)
    client = Client(raise_request_exception=False)
    client.force_login(curator)
    answer = client.post(url, {"action": "pick"})
    assert answer.status_code == 500
    assert b"stars" not in answer.content
