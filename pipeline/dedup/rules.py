"""Pure duplicate, pair and decision rules. No Django, no boto3.

- The index is keyed on pHash (searched at `radius`); a pHash match counts only when the dHash
  is also within `dhash_radius` (default 12). Calibrated by `make bench-dedup` on 60k crops of
  real photos and 1,800 real near-duplicate pairs. dHash <= 12 keeps 99.6% of the pairs pHash
  finds within 8 (<= 10: 98.8%, <= 8: 96.1%). Among 2.15M pairs of crops of different photos,
  pHash alone fell within 8 at 9.3e-7 and pHash plus dHash <= 12 never did (< 1.4e-6 at 95%).
  Adding LFW's featureless 25x25 non-face patches, on which both hashes collapse, the rate is
  3.1e-6 for both: about 3 false matches per lookup in a 1M library, 0.03 in a 10k one, which
  is why the default scope is one photographer's library.
- A RAW and a non-RAW file of the same frame are a pair, not a duplicate: same file stem, same
  capture time, or the same camera with the same exposure settings.
- A curator's "not a duplicate" decision on a pair of photos is final: that pair never matches.
- Only originals and paired photos are filed in the index, so every match is a kept photo, and
  a duplicate always points at the original its match stands for (a paired RAW stands for the
  photo it is paired with).
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pipeline.core.formats import RAW_FORMATS
from pipeline.core.hashcode import hamming_distance
from pipeline.core.validator import ValidationResult

DEFAULT_DHASH_RADIUS = 12


@dataclass(frozen=True, slots=True)
class FrameKey:
    """What identifies the camera frame a file came from, for the RAW+JPEG pairing rule.

    `captured_at` is the EXIF capture time as an ISO string (with sub-seconds when the camera
    wrote them); `camera` is make, model and serial joined; `exposure` is exposure time,
    aperture and ISO joined. Empty strings mean unknown and never match.
    """

    is_raw: bool = False
    file_stem: str = ""
    captured_at: str = ""
    camera: str = ""
    exposure: str = ""


class OutcomeKind(enum.StrEnum):
    ORIGINAL = "original"
    DUPLICATE = "duplicate"
    PAIRED = "paired"


@dataclass(frozen=True, slots=True)
class DedupOutcome:
    """The verdict for one photo. `other_id` is the original (duplicate) or the partner (pair)."""

    kind: OutcomeKind
    other_id: int | None = None
    distance: int | None = None

    @property
    def duplicate_of(self) -> int | None:
        return self.other_id if self.kind is OutcomeKind.DUPLICATE else None

    @property
    def paired_with(self) -> int | None:
        return self.other_id if self.kind is OutcomeKind.PAIRED else None

    @property
    def is_indexed(self) -> bool:
        """Whether the photo is filed in the search index (duplicates are not)."""
        return self.kind is not OutcomeKind.DUPLICATE


@dataclass(frozen=True, slots=True)
class IndexedPhoto:
    """A photo as the dedup store remembers it."""

    photo_id: int
    phash: int
    dhash: int
    frame: FrameKey
    outcome: DedupOutcome
    # The original's storage key (`pipeline.dedup.identity`): what a match resolves to.
    key: str = ""
    # When it was first filed (ms, after every match it saw; 0: unknown). Deciding a photo
    # again matches it only against photos filed before it, so upload order still decides
    # which of two is the original.
    seq: int = 0

    @property
    def stands_for(self) -> int:
        """The photo a duplicate of this one is a duplicate of."""
        if self.outcome.kind is OutcomeKind.PAIRED and self.outcome.other_id is not None:
            return self.outcome.other_id
        return self.photo_id


def _same(a: str, b: str) -> bool:
    return bool(a) and a.casefold() == b.casefold()


def same_frame(a: FrameKey, b: FrameKey) -> bool:
    """A RAW and a rendered file (JPEG, HEIC...) of one exposure."""
    if a.is_raw == b.is_raw:
        return False
    return (
        _same(a.file_stem, b.file_stem)
        or _same(a.captured_at, b.captured_at)
        or (_same(a.camera, b.camera) and _same(a.exposure, b.exposure))
    )


def decide(
    *,
    photo_id: int,
    phash: int,
    dhash: int,
    frame: FrameKey,
    matches: Sequence[IndexedPhoto],
    not_duplicate_of: Collection[int],
    radius: int,
    dhash_radius: int = DEFAULT_DHASH_RADIUS,
    filed_at: int = 0,
) -> DedupOutcome:
    """The outcome for a photo, given the indexed photos whose pHash lies within `radius`.

    `not_duplicate_of` holds the ids a curator declared this photo is not a duplicate of. A
    photo decided again passes its own `filed_at` (`IndexedPhoto.seq`): photos filed after it
    do not count.
    """
    confirmed = sorted(
        (
            (hamming_distance(phash, m.phash), m)
            for m in matches
            if m.photo_id != photo_id
            and m.photo_id not in not_duplicate_of
            and m.stands_for not in not_duplicate_of
            and m.stands_for != photo_id
            and not (filed_at and m.seq > filed_at)
            and hamming_distance(phash, m.phash) <= radius
            and hamming_distance(dhash, m.dhash) <= dhash_radius
        ),
        key=lambda dm: (dm[0], dm[1].photo_id),
    )
    for distance, match in confirmed:
        if same_frame(frame, match.frame):
            return DedupOutcome(OutcomeKind.PAIRED, match.stands_for, distance)
    if confirmed:
        distance, closest = confirmed[0]
        return DedupOutcome(OutcomeKind.DUPLICATE, closest.stands_for, distance)
    return DedupOutcome(OutcomeKind.ORIGINAL)


def frame_key(result: ValidationResult, filename: str) -> FrameKey:
    """What pairs a RAW and a rendered file of one exposure (see pipeline.dedup.rules)."""
    exif = result.exif
    camera = " ".join(part for part in (exif.make, exif.model) if part)
    exposure = (
        f"{exif.exposure_time}s f/{exif.f_number} ISO{exif.iso}"
        if exif.exposure_time and exif.f_number and exif.iso
        else ""
    )
    return FrameKey(
        is_raw=result.format in RAW_FORMATS,
        file_stem=posixpath.splitext(filename)[0],
        captured_at=exif.captured_at.isoformat() if exif.captured_at else "",
        camera=camera,
        exposure=exposure,
    )
