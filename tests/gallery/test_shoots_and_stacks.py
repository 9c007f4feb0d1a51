"""Shoots and burst stacks, built at ingest from real photos, and the curator's changes to them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from PIL import Image, ImageFilter

from gallery import services, shoot_selectors, shoot_services
from gallery.models import Photo, Shoot, Stack
from pipeline.config import IngestConfig
from pipeline.services import photo_ingest
from tests.gallery.factories import photo_ingested, photo_stored
from tests.support import bursts

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
BODY_A = ("Canon", "EOS R5", "031033000111")
BODY_B = ("Canon", "EOS R5", "031033000222")


def _jpeg(image: Image.Image, *, at: datetime | None, camera: tuple[str, str, str]) -> bytes:
    """A camera JPEG: the image with the Exif a camera writes (capture time to the ms)."""
    exif = Image.Exif()
    if at is not None:
        exif[0x010F], exif[0x0110] = camera[0], camera[1]
        extra = exif.get_ifd(0x8769)
        extra[0x9003] = at.strftime("%Y:%m:%d %H:%M:%S")
        extra[0x9291] = f"{at.microsecond // 1000:03d}"
        extra[0xA431] = camera[2]
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def _subject(name: str) -> Image.Image:
    return bursts.subjects()[name]


def _burst_frames(subject: str, count: int) -> list[Image.Image]:
    image = _subject(subject)
    return [
        bursts.derive(image, shift=(0.006 * i, -0.004 * i), zoom=0.01 * i, ev=0.0)
        for i in range(count)
    ]


@pytest.fixture
def burst_shoot(photographer: User) -> dict[str, Photo]:
    """A four-frame burst (one frame soft), then an unrelated frame 0.6 s after it, another
    body at the same scene, and the same subject again 5 s later; uploaded out of order."""
    frames = _burst_frames("Canon_EOS_30D_4_.jpg", 4)
    frames[2] = frames[2].filter(ImageFilter.GaussianBlur(0.45))
    files: dict[str, bytes] = {
        f"IMG_{i:04d}.JPG": _jpeg(frame, at=START + timedelta(milliseconds=300 * i), camera=BODY_A)
        for i, frame in enumerate(frames)
    }
    files["IMG_0004.JPG"] = _jpeg(
        _subject("Nikon_D70.jpg"), at=START + timedelta(seconds=1.5), camera=BODY_A
    )
    files["B_0001.JPG"] = _jpeg(frames[1], at=START + timedelta(milliseconds=450), camera=BODY_B)
    files["IMG_0005.JPG"] = _jpeg(frames[0], at=START + timedelta(seconds=6.5), camera=BODY_A)
    order = ["IMG_0002.JPG", "IMG_0005.JPG", "IMG_0000.JPG", "B_0001.JPG", "IMG_0003.JPG",
             "IMG_0004.JPG", "IMG_0001.JPG"]  # fmt: skip
    return {
        name: photo_ingested(owner=photographer, filename=name, content=files[name])
        for name in order
    }


def _stacks(shoot: Shoot) -> list[list[str]]:
    return [
        [p.original_filename for p in stack.photos.order_by(*shoot_selectors.CAPTURE_ORDER)]
        for stack in shoot_selectors.shoot_stacks(shoot_id=shoot.pk)
    ]


def test_a_burst_is_one_stack_whatever_order_its_frames_arrive_in(
    burst_shoot: dict[str, Photo],
) -> None:
    for name, photo in burst_shoot.items():
        # Burst frames this close are near-duplicates to the dedup index; they stack all the same.
        assert photo.validator_verdict != "reject", f"{name}: {photo.reject_detail}"
    shoot = burst_shoot["IMG_0000.JPG"].shoot
    assert shoot is not None
    assert {p.shoot_id for p in burst_shoot.values()} == {shoot.pk}
    assert shoot.name == "Saturday 13 June 2026"

    # The unrelated frame, the other body's frame and the retake after a pause stand alone.
    assert _stacks(shoot) == [["IMG_0000.JPG", "IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]]
    stack = Stack.objects.get()
    assert stack.camera_key == "serial:031033000111"
    soft = burst_shoot["IMG_0002.JPG"]
    assert stack.best_photo is not None
    assert stack.best_photo.pk != soft.pk
    assert stack.best_photo.sharpness is not None and soft.sharpness is not None
    assert stack.best_photo.sharpness > soft.sharpness

    listed = shoot_selectors.shoots_for_curation().get()
    waiting = sum(p.status == Photo.Status.UNSCORED for p in burst_shoot.values())
    assert (listed.photo_count, listed.undecided_count, listed.stack_count) == (7, waiting, 1)


def test_a_frame_whose_ingest_dies_while_stacking_is_ingested_again_and_stacked(
    photographer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (
        _jpeg(frame, at=START + timedelta(milliseconds=300 * i), camera=BODY_A)
        for i, frame in enumerate(_burst_frames("Canon_EOS_30D_4_.jpg", 2))
    )
    photo_ingested(owner=photographer, filename="IMG_0000.JPG", content=first)
    late = photo_stored(owner=photographer, filename="IMG_0001.JPG", content=second)
    config = IngestConfig.from_settings(scoring_enabled=False)

    def database_gone(**_: object) -> None:
        raise OperationalError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(shoot_services, "photo_stack", database_gone)
        with pytest.raises(OperationalError):
            photo_ingest(photo_id=late.pk, config=config)
    late.refresh_from_db()
    # Still `uploaded`, so the task's retry (or the reconciler) ingests it again.
    assert late.status == Photo.Status.UPLOADED
    assert not late.events.exists()

    photo_ingest(photo_id=late.pk, config=config)
    late.refresh_from_db()
    # A burst frame this close is the first one's near-duplicate; it stacks all the same.
    assert late.status == Photo.Status.REJECTED
    assert late.events.count() == 1
    assert late.shoot is not None
    assert _stacks(late.shoot) == [["IMG_0000.JPG", "IMG_0001.JPG"]]


def test_a_stack_shows_the_burst_frames_the_near_duplicate_index_set_aside(
    burst_shoot: dict[str, Photo], django_user_model: type[User]
) -> None:
    stack = Stack.objects.get()
    members = {p.original_filename: p for p in stack.photos.all()}
    set_aside = [p for p in members.values() if p.status == Photo.Status.REJECTED]
    assert set_aside, "the burst's later frames are near-duplicates of its first"
    curator = django_user_model.objects.create_superuser("minor", password="pw-minor-1234")
    desk = Client()
    desk.force_login(curator)

    shoot_page = desk.get(f"/admin/cull/shoots/{stack.shoot_id}/").context["frames"]
    assert not {f["name"] for f in shoot_page} & {p.original_filename for p in set_aside}
    frames = desk.get(f"/admin/cull/stacks/{stack.pk}/").context["frames"]
    assert sorted(f["name"] for f in frames) == sorted(members)
    aside = next(f for f in frames if f["name"] == set_aside[0].original_filename)
    assert aside["setAside"].startswith("Near-duplicate of IMG_000")

    # The curator prefers a frame the pipeline set aside: picking it keeps it.
    answer = desk.post(f"/admin/cull/photos/{aside['id']}/decide/", {"action": "pick"})
    assert answer.json()["decision"] == "approved"
    set_aside[0].refresh_from_db()
    assert set_aside[0].status == Photo.Status.APPROVED


def _restack(photos: dict[str, Photo]) -> None:
    for photo in photos.values():
        shoot_services.photo_stack(
            photo_id=photo.pk, rules=IngestConfig.from_settings().stack_rules
        )


def test_stacking_again_keeps_what_a_curator_split_merged_or_dissolved(
    burst_shoot: dict[str, Photo],
) -> None:
    shoot = burst_shoot["IMG_0000.JPG"].shoot
    assert shoot is not None
    stack = Stack.objects.get()
    _restack(burst_shoot)
    assert Stack.objects.get().pk == stack.pk

    tail = shoot_services.stack_split(
        stack_id=stack.pk,
        photo_ids=[burst_shoot["IMG_0002.JPG"].pk, burst_shoot["IMG_0003.JPG"].pk],
    )
    assert tail is not None
    _restack(burst_shoot)
    assert _stacks(shoot) == [["IMG_0000.JPG", "IMG_0001.JPG"], ["IMG_0002.JPG", "IMG_0003.JPG"]]

    merged = shoot_services.stack_merge(stack_ids=[stack.pk, tail.pk])
    chosen = burst_shoot["IMG_0002.JPG"]
    shoot_services.stack_set_best(stack_id=merged.pk, photo_id=chosen.pk)
    _restack(burst_shoot)
    assert _stacks(shoot) == [["IMG_0000.JPG", "IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]]
    assert Stack.objects.get().best_photo_id == chosen.pk

    shoot_services.stack_dissolve(stack_id=merged.pk)
    _restack(burst_shoot)
    assert _stacks(shoot) == []


def test_a_frame_arriving_inside_a_stack_it_does_not_continue_breaks_the_stack(
    photographer: User,
) -> None:
    frames = _burst_frames("Canon_PowerShot_G11.jpg", 3)
    at = [START + timedelta(milliseconds=400 * i) for i in range(5)]
    first = photo_ingested(
        owner=photographer, filename="A0.JPG", content=_jpeg(frames[0], at=at[0], camera=BODY_A)
    )
    photo_ingested(
        owner=photographer, filename="A1.JPG", content=_jpeg(frames[1], at=at[1], camera=BODY_A)
    )
    photo_ingested(
        owner=photographer, filename="A2.JPG", content=_jpeg(frames[2], at=at[3], camera=BODY_A)
    )
    shoot = first.shoot
    assert shoot is not None
    assert _stacks(shoot) == [["A0.JPG", "A1.JPG", "A2.JPG"]]
    # A late upload between A1 and A2 of something else: the burst ends at A1.
    photo_ingested(
        owner=photographer,
        filename="X.JPG",
        content=_jpeg(_subject("Nikon_D70.jpg"), at=at[2], camera=BODY_A),
    )
    assert _stacks(shoot) == [["A0.JPG", "A1.JPG"]]


def _measured(owner: User, name: str, captured_at: datetime | None) -> Photo:
    photo = Photo.objects.create(owner=owner, original=f"originals/{name}", original_filename=name)
    recorded = services.photo_record_measurements(
        photo_id=photo.pk, measurements={"captured_at": captured_at}
    )
    assert recorded is not None
    return recorded


def test_shoots_are_one_per_photographer_and_day_renamable_merged_and_split(
    photographer: User, other_photographer: User
) -> None:
    saturday = _measured(photographer, "sat.jpg", START)
    sunday = _measured(photographer, "sun.jpg", START + timedelta(days=1))
    theirs = _measured(other_photographer, "theirs.jpg", START)
    undated = _measured(photographer, "scan.png", None)

    assert saturday.shoot_id != sunday.shoot_id
    assert theirs.shoot_id != saturday.shoot_id
    assert undated.shoot is not None
    assert undated.shoot.capture_day == undated.created_at.date()

    assert saturday.shoot_id is not None and sunday.shoot_id is not None
    shoot_services.shoot_rename(shoot_id=saturday.shoot_id, name="Wedding")
    wedding = shoot_services.shoot_merge(source_ids=[sunday.shoot_id], target_id=saturday.shoot_id)
    assert wedding.name == "Wedding"
    # A late upload from Sunday follows its day into the merged shoot.
    late = _measured(photographer, "sun2.jpg", START + timedelta(days=1, hours=2))
    assert late.shoot_id == wedding.pk
    assert [s.name for s in shoot_selectors.shoots_for_curation(owner_id=photographer.pk)] == [
        undated.shoot.name,
        "Wedding",
    ]
    with pytest.raises(shoot_services.ShootError):
        shoot_services.shoot_merge(source_ids=[wedding.pk], target_id=theirs.shoot_id or 0)

    reception = shoot_services.shoot_split(
        shoot_id=wedding.pk, photo_ids=[sunday.pk, late.pk], name="Reception"
    )
    assert sorted(reception.photos.values_list("original_filename", flat=True)) == [
        "sun.jpg",
        "sun2.jpg",
    ]
    assert list(wedding.photos.values_list("original_filename", flat=True)) == ["sat.jpg"]
    # Re-measuring a photo a curator placed leaves it in its shoot.
    services.photo_record_measurements(
        photo_id=late.pk, measurements={"captured_at": late.captured_at}
    )
    late.refresh_from_db()
    assert late.shoot_id == reception.pk


def test_photos_uploaded_before_shoots_existed_are_filed_by_the_migration(
    photographer: User,
) -> None:
    migration = import_module("gallery.migrations.0010_shoots_for_existing_photos")
    saturday = Photo.objects.create(
        owner=photographer, original="originals/a.jpg", original_filename="a.jpg", captured_at=START
    )
    same_day = Photo.objects.create(
        owner=photographer,
        original="originals/b.jpg",
        original_filename="b.jpg",
        captured_at=START + timedelta(hours=3),
    )
    undated = Photo.objects.create(
        owner=photographer, original="originals/c.png", original_filename="c.png"
    )
    migration.file_existing_photos(apps, None)
    for photo in (saturday, same_day, undated):
        photo.refresh_from_db()
    assert saturday.shoot is not None and saturday.shoot_id == same_day.shoot_id
    assert saturday.shoot.name == "Saturday 13 June 2026"
    assert undated.shoot is not None and undated.shoot.capture_day == undated.created_at.date()
