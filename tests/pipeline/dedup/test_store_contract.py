"""One suite, every store: memory, SQL (Django DB) and DynamoDB (real dynalite)."""

from __future__ import annotations

import random
from functools import cache

import pytest

from pipeline.core.hashcode import hamming_distance, to_signed64
from pipeline.dedup.index import (
    DedupStore,
    dedup_mark_not_duplicate,
    index_photo,
    matched_key,
    redecide_photo,
    remove_photo,
)
from pipeline.dedup.rules import DedupOutcome, FrameKey, IndexedPhoto, OutcomeKind
from pipeline.dedup.search import brute_force, flip_bits
from tests.pipeline.dedup.realphotos import NEAR_DUPLICATE_EDITS, hashes, sources

pytestmark = pytest.mark.django_db

JPEG = FrameKey(is_raw=False, file_stem="IMG_0001", captured_at="2024-05-01T10:00:00.12")
RAW = FrameKey(is_raw=True, file_stem="IMG_0001", captured_at="2024-05-01T10:00:00.12")


@cache
def real(name: str, edit: str | None = None) -> tuple[int, int]:
    image = sources()[name]
    return hashes(NEAR_DUPLICATE_EDITS[edit](image) if edit else image)


def _index(
    store: DedupStore, photo_id: int, hashes_: tuple[int, int], **kwargs: object
) -> DedupOutcome:
    frame = kwargs.pop("frame", FrameKey())
    scope = kwargs.pop("scope", "owner-1")
    return index_photo(
        store,
        scope=str(scope),
        photo_id=photo_id,
        phash=hashes_[0],
        dhash=hashes_[1],
        frame=frame,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_reencoded_copy_of_a_real_photo_is_a_duplicate_of_the_first_upload(
    store: DedupStore,
) -> None:
    assert _index(store, 1, real("astronaut")).kind is OutcomeKind.ORIGINAL
    assert _index(store, 2, real("coffee")).kind is OutcomeKind.ORIGINAL
    outcome = _index(store, 3, real("astronaut", "reencode"))
    assert outcome.kind is OutcomeKind.DUPLICATE
    assert outcome.duplicate_of == 1


@pytest.mark.parametrize("edit", ["crop3", "rotate1", "watermark", "brightness", "resize"])
def test_edited_copies_within_the_threshold_are_found(store: DedupStore, edit: str) -> None:
    _index(store, 10, real("astronaut"))
    _index(store, 11, real("chelsea"))
    outcome = _index(store, 12, real("astronaut", edit))
    assert outcome.duplicate_of == 10


def test_radius_is_the_callers_threshold(store: DedupStore) -> None:
    """A 3% crop of `rocket` moves its pHash by 10 bits: beyond 8, within 10."""
    for scope in ("owner-1", "owner-2"):
        _index(store, 1, real("rocket"), scope=scope)
    assert _index(store, 2, real("rocket", "crop3")).kind is OutcomeKind.ORIGINAL
    assert _index(store, 2, real("rocket", "crop3"), scope="owner-2", radius=10).duplicate_of == 1


def test_unrelated_real_photos_are_all_originals(store: DedupStore) -> None:
    for photo_id, name in enumerate(sources(), start=1):
        assert _index(store, photo_id, real(name)).kind is OutcomeKind.ORIGINAL, name


def test_indexing_twice_returns_the_same_outcome_and_adds_nothing(store: DedupStore) -> None:
    _index(store, 1, real("camera"))
    first = _index(store, 2, real("camera", "reencode"))
    again = _index(store, 2, real("camera", "reencode"))
    assert again == first
    before = store.lookup("owner-1", real("camera")[0], 8)
    assert _index(store, 1, real("camera")).kind is OutcomeKind.ORIGINAL
    assert store.lookup("owner-1", real("camera")[0], 8) == before
    assert [p.photo_id for p in before] == [1]  # the duplicate is not filed in the index


def test_scopes_are_separate_libraries(store: DedupStore) -> None:
    _index(store, 1, real("moon"), scope="owner-1")
    assert _index(store, 2, real("moon"), scope="owner-2").kind is OutcomeKind.ORIGINAL
    assert _index(store, 3, real("moon"), scope="owner-1").duplicate_of == 1


def test_raw_and_jpeg_of_one_frame_are_paired_not_duplicates(store: DedupStore) -> None:
    _index(store, 1, real("clock"), frame=JPEG)
    outcome = _index(store, 2, real("clock", "reencode"), frame=RAW)
    assert outcome.kind is OutcomeKind.PAIRED
    assert outcome.paired_with == 1
    # A third copy of the frame is a duplicate of the JPEG, not of the paired RAW.
    assert _index(store, 3, real("clock", "resize"), frame=FrameKey()).duplicate_of == 1


def test_dhash_must_confirm_a_phash_match(store: DedupStore) -> None:
    phash, dhash = real("coins")
    _index(store, 1, (phash, dhash))
    far_dhash = flip_bits(dhash, range(20))
    assert _index(store, 2, (phash, far_dhash)).kind is OutcomeKind.ORIGINAL
    assert _index(store, 3, (phash, far_dhash), dhash_radius=24).duplicate_of == 1


def test_not_a_duplicate_decision_is_final(store: DedupStore) -> None:
    _index(store, 1, real("retina"))
    assert _index(store, 2, real("retina", "brightness")).duplicate_of == 1
    outcome = dedup_mark_not_duplicate(store, scope="owner-1", photo_id=2, other_id=1)
    assert outcome is not None
    assert outcome.kind is OutcomeKind.ORIGINAL
    assert _index(store, 2, real("retina", "brightness")).kind is OutcomeKind.ORIGINAL
    # A third copy is flagged against the lower id, which is still an original.
    assert _index(store, 3, real("retina", "reencode")).duplicate_of == 1


def test_decision_works_whichever_side_the_curator_names_first(store: DedupStore) -> None:
    _index(store, 1, real("gravel"))
    assert _index(store, 2, real("gravel", "reencode")).duplicate_of == 1
    dedup_mark_not_duplicate(store, scope="owner-1", photo_id=1, other_id=2)
    stored = store.get_photo("owner-1", 2)
    assert stored is not None
    assert stored.outcome.kind is OutcomeKind.ORIGINAL


def test_deciding_again_applies_the_current_radius_and_keeps_upload_order(
    store: DedupStore,
) -> None:
    whole, cut = real("astronaut"), real("astronaut", "crop3")
    distance = hamming_distance(whole[0], cut[0])
    assert 0 < distance <= 8
    _index(store, 1, whole, key="originals/whole.jpg")
    assert _index(store, 2, cut, key="originals/cut.jpg").duplicate_of == 1

    # Narrower: the copy stands alone. Stored outcomes are not replayed.
    narrow = {"radius": distance - 1}
    assert redecide_photo(store, scope="owner-1", photo_id=2, **narrow) == DedupOutcome(
        OutcomeKind.ORIGINAL
    )
    # Wider again: the first upload is decided first and stays the original (the copy was
    # filed after it); the copy goes back to being its duplicate.
    first = redecide_photo(store, scope="owner-1", photo_id=1)
    assert first is not None and first.kind is OutcomeKind.ORIGINAL
    again = redecide_photo(store, scope="owner-1", photo_id=2)
    assert again is not None and again.duplicate_of == 1
    assert matched_key(store, scope="owner-1", outcome=again) == "originals/whole.jpg"
    assert redecide_photo(store, scope="owner-1", photo_id=3) is None


def test_removed_photo_is_no_longer_matched(store: DedupStore) -> None:
    _index(store, 1, real("hubble_deep_field"))
    assert remove_photo(store, scope="owner-1", photo_id=1)
    assert not remove_photo(store, scope="owner-1", photo_id=1)
    assert _index(store, 2, real("hubble_deep_field", "reencode")).kind is OutcomeKind.ORIGINAL


def test_lookup_is_exact_against_brute_force_with_hot_buckets(store: DedupStore) -> None:
    """Many photos share chunk values (shards spill, see SHARD_ROWS); none within r is lost."""
    rng = random.Random(11)
    centre = real("cell")[0]
    population = [
        (pid, to_signed64(rng.getrandbits(64)) if pid % 5 == 0 else flip_bits(centre, bits))
        for pid in range(1, 41)
        for bits in [rng.sample(range(64), rng.randrange(1, 13))]
    ]
    for pid, phash in population:
        _index(store, pid, (phash, 0), dhash_radius=64)
    kept = [
        (pid, phash)
        for pid, phash in population
        if (stored := store.get_photo("owner-1", pid)) and stored.outcome.is_indexed
    ]
    for query in [centre, *(flip_bits(centre, [b]) for b in range(0, 64, 7))]:
        found = {p.photo_id for p in store.lookup("owner-1", query, 8)}
        assert found == brute_force(query, kept)
        assert all(hamming_distance(query, p) <= 8 for pid, p in kept if pid in found)


def test_a_bulk_loaded_library_is_searched_like_an_indexed_one(store: DedupStore) -> None:
    names = ["astronaut", "coffee", "moon", "rocket", "camera"]
    store.bulk_load(
        "owner-1",
        [
            IndexedPhoto(pid, *real(name), FrameKey(), DedupOutcome(OutcomeKind.ORIGINAL))
            for pid, name in enumerate(names, start=1)
        ],
    )
    assert _index(store, 10, real("moon", "watermark")).duplicate_of == 3
    assert [p.photo_id for p in store.lookup("owner-1", real("camera")[0], 8)] == [5]
