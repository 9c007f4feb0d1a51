"""The worker loop in-process, on the real database, with the tiny model scoring real photos."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image

from gallery.models import Photo, PhotoEvent
from gpu_worker.images import decode_image
from gpu_worker.scoring import Scorer
from gpu_worker.services import (
    photo_claim_for_scoring,
    photo_release_scoring_leases,
)
from gpu_worker.worker import ScoringWorker, WorkerOptions

from .conftest import jpeg_bytes, make_awaiting_photo, real_photos

pytestmark = pytest.mark.django_db


def run_worker(scorer: Scorer, *, threshold: float = 0.4) -> ScoringWorker:
    worker = ScoringWorker(
        scorer=scorer,
        options=WorkerOptions(
            owner="test-host:1:abc",
            threshold=threshold,
            lease_seconds=60,
            claim_size=2 * scorer.batch_size,
            poll_seconds=0.1,
            until_empty=True,
        ),
    )
    worker.run()
    return worker


def test_worker_records_scores_and_rejects_below_the_threshold(
    tiny_scorer: Scorer, photographer: User
) -> None:
    previews = {name: jpeg_bytes(image) for name, image in real_photos()}
    expected = dict(
        zip(
            previews,
            tiny_scorer.score([decode_image(data) for data in previews.values()]).scores,
            strict=True,
        )
    )
    # A threshold in the middle of what this model gives these photos: some pass, some do not.
    threshold = sorted(expected.values())[len(expected) // 2]
    photos = {
        name: make_awaiting_photo(photographer, preview=data, name=name)
        for name, data in previews.items()
    }

    worker = run_worker(tiny_scorer, threshold=threshold)

    assert worker.stats.scored == len(photos)
    for name, photo in photos.items():
        photo.refresh_from_db()
        assert photo.vlm_score == pytest.approx(expected[name], abs=1e-4)
        if expected[name] < threshold:
            assert (photo.status, photo.reject_reason) == ("rejected", "low_score")
        else:
            assert photo.status == "scored"
        assert photo.vlm_model_id == tiny_scorer.model_id == "tiny-qwen3-vl"
        assert photo.vlm_model_revision == tiny_scorer.model_revision
        assert photo.vlm_runtime_ms is not None and photo.vlm_runtime_ms > 0
        assert photo.scoring_lease_owner == ""
        assert PhotoEvent.objects.filter(photo=photo, from_status="awaiting_score").count() == 1
    assert 0 < worker.stats.rejected < len(photos)


def test_unreadable_previews_fail_alone_with_their_reason(
    tiny_scorer: Scorer, photographer: User
) -> None:
    (_, good_image), (_, other_image) = real_photos()[:2]
    good = make_awaiting_photo(photographer, preview=jpeg_bytes(good_image))
    corrupt = make_awaiting_photo(photographer, preview=b"\xff\xd8\xff\xe0 not really a jpeg")
    truncated = make_awaiting_photo(photographer, preview=jpeg_bytes(other_image)[:3000])
    no_preview = make_awaiting_photo(photographer, preview=None)
    # A 4000x10 strip decodes fine, but the Qwen processor refuses aspect ratios above 200.
    strip = make_awaiting_photo(
        photographer, preview=jpeg_bytes(Image.new("RGB", (4000, 10), "gray"), long_edge=4000)
    )
    missing_file = make_awaiting_photo(photographer, preview=jpeg_bytes(good_image))
    Photo.objects.filter(pk=missing_file.pk).update(preview="previews/gone.jpg")

    worker = run_worker(tiny_scorer)

    good.refresh_from_db()
    assert good.status in ("scored", "rejected") and good.vlm_score is not None
    details = {}
    for photo in (corrupt, truncated, no_preview, strip, missing_file):
        photo.refresh_from_db()
        assert (photo.status, photo.reject_reason) == ("failed", "unreadable"), photo.reject_detail
        assert photo.vlm_score is None
        details[photo.pk] = photo.reject_detail
    assert "cannot be decoded" in details[corrupt.pk]
    assert "cannot be decoded" in details[truncated.pk]
    assert "no preview" in details[no_preview.pk]
    assert "processor refused" in details[strip.pk]
    assert "missing from storage" in details[missing_file.pk]
    assert (worker.stats.scored, worker.stats.failed) == (1, 5)


def test_claims_never_overlap_and_released_photos_return_to_the_queue(
    photographer: User,
) -> None:
    for age in range(6):
        make_awaiting_photo(photographer, preview=None, age_s=100 - age)

    first = photo_claim_for_scoring(owner="a:1:x", limit=4, lease_seconds=60)
    second = photo_claim_for_scoring(owner="b:1:x", limit=4, lease_seconds=60)

    first_ids = [c.photo_id for c in first]
    assert len(first_ids) == 4 and len(second) == 2
    assert not set(first_ids) & {c.photo_id for c in second}
    # Oldest in the queue first.
    oldest, newest, after = (c.awaiting_since for c in (first[0], first[-1], second[0]))
    assert oldest and newest and after and oldest <= newest <= after
    assert photo_claim_for_scoring(owner="c:1:x", limit=4, lease_seconds=60) == []

    photo_release_scoring_leases(owner="a:1:x", photo_ids=first_ids[2:])
    again = photo_claim_for_scoring(owner="c:1:x", limit=4, lease_seconds=60)
    assert {c.photo_id for c in again} == set(first_ids[2:])


def test_expired_leases_are_reclaimed(photographer: User) -> None:
    photo = make_awaiting_photo(photographer, preview=None)
    photo_claim_for_scoring(owner="dead:1:x", limit=1, lease_seconds=60)
    assert photo_claim_for_scoring(owner="live:1:x", limit=1, lease_seconds=60) == []

    Photo.objects.filter(pk=photo.pk).update(
        scoring_lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    reclaimed = photo_claim_for_scoring(owner="live:1:x", limit=1, lease_seconds=60)
    assert [c.photo_id for c in reclaimed] == [photo.pk]


def test_photos_a_curator_decided_are_not_claimed(photographer: User) -> None:
    photo = make_awaiting_photo(photographer, preview=None)
    Photo.objects.filter(pk=photo.pk).update(curator_decision="approved")
    assert photo_claim_for_scoring(owner="a:1:x", limit=5, lease_seconds=60) == []
