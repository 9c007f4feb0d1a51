"""The pure pairing and duplicate rules."""

from __future__ import annotations

import pytest

from pipeline.dedup.rules import (
    DedupOutcome,
    FrameKey,
    IndexedPhoto,
    OutcomeKind,
    decide,
    same_frame,
)
from pipeline.dedup.search import flip_bits

BASE = 0x1234_5678_9ABC_DEF0
ORIGINAL = DedupOutcome(OutcomeKind.ORIGINAL)
NO_FRAME = FrameKey()


def _photo(photo_id: int, flips: int = 0, frame: FrameKey = NO_FRAME, **kw: object) -> IndexedPhoto:
    outcome = kw.get("outcome", ORIGINAL)
    return IndexedPhoto(photo_id, flip_bits(BASE, range(flips)), BASE, frame, outcome)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "paired"),
    [
        (FrameKey(True, "IMG_1"), FrameKey(False, "img_1"), True),
        (
            FrameKey(True, captured_at="2024-01-01T10:00:00.200000"),
            FrameKey(False, captured_at="2024-01-01T10:00:00.200000"),
            True,
        ),
        # One file records sub-seconds, the other only whole seconds: compared to the second.
        (
            FrameKey(True, "IMG_1", captured_at="2024-01-01T10:00:00.200000"),
            FrameKey(False, "IMG_1", captured_at="2024-01-01T10:00:00"),
            True,
        ),
        # The next frame of a burst: same camera and settings, 1 s later, another name.
        (
            FrameKey(True, "IMG_2", "2024-01-01T10:00:01", "Canon EOS 6D", "1/200 f/4 100"),
            FrameKey(False, "IMG_1", "2024-01-01T10:00:00", "Canon EOS 6D", "1/200 f/4 100"),
            False,
        ),
        # Within one second, told apart by the sub-seconds the camera recorded.
        (
            FrameKey(True, captured_at="2024-01-01T10:00:00.100000"),
            FrameKey(False, captured_at="2024-01-01T10:00:00.400000"),
            False,
        ),
        # Same stem, but a different moment: a file renamed into a clash, not a twin.
        (
            FrameKey(True, "IMG_1", captured_at="2024-01-01T10:00:05"),
            FrameKey(False, "IMG_1", captured_at="2024-01-01T10:00:00"),
            False,
        ),
        (
            FrameKey(True, camera="Canon EOS 6D #123", exposure="1/200 f/4 100"),
            FrameKey(False, camera="Canon EOS 6D #123", exposure="1/200 f/4 100"),
            False,
        ),
        (FrameKey(False, "IMG_1"), FrameKey(False, "IMG_1"), False),
        (FrameKey(True, "IMG_1"), FrameKey(True, "IMG_1"), False),
        (FrameKey(True), FrameKey(False), False),
    ],
)
def test_raw_and_rendered_file_of_one_frame_pair(a: FrameKey, b: FrameKey, paired: bool) -> None:
    assert same_frame(a, b) is paired
    assert same_frame(b, a) is paired


def _decide(matches: list[IndexedPhoto], frame: FrameKey = NO_FRAME, **kw: object) -> DedupOutcome:
    return decide(
        photo_id=99,
        phash=BASE,
        dhash=BASE,
        frame=frame,
        matches=matches,
        not_duplicate_of=kw.get("not_duplicate_of", set()),  # type: ignore[arg-type]
        radius=8,
    )


def test_closest_match_wins_then_lowest_id() -> None:
    assert _decide([_photo(5, 6), _photo(7, 2), _photo(3, 2)]) == DedupOutcome(
        OutcomeKind.DUPLICATE, 3, 2
    )


def test_a_duplicate_of_a_paired_raw_points_at_the_photo_the_raw_is_paired_with() -> None:
    raw = _photo(4, 1, outcome=DedupOutcome(OutcomeKind.PAIRED, 2, 1))
    assert _decide([raw]).duplicate_of == 2


def test_pair_beats_duplicate() -> None:
    raw = FrameKey(is_raw=True, file_stem="DSC_7")
    outcome = _decide([_photo(1, 0), _photo(2, 3, FrameKey(False, "DSC_7"))], raw)
    assert outcome.paired_with == 2


def test_decided_pairs_and_matches_beyond_the_radius_are_ignored() -> None:
    assert _decide([_photo(1, 9)]).kind is OutcomeKind.ORIGINAL
    assert _decide([_photo(1, 1)], not_duplicate_of={1}).kind is OutcomeKind.ORIGINAL
    raw_of_1 = _photo(4, 1, outcome=DedupOutcome(OutcomeKind.PAIRED, 1, 1))
    assert _decide([raw_of_1], not_duplicate_of={1}).kind is OutcomeKind.ORIGINAL
