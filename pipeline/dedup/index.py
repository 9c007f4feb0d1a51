"""The dedup entry points the ingest paths call, written once against the `DedupStore` protocol.

No Django, no boto3: the Celery ingest task passes a `SqlStore`, the Lambda a `DynamoDbStore`.

Concurrency: every write path runs inside `store.critical_section(scope)`, which admits one
writer per scope at a time and makes the previous holder's writes visible to the next. Inside
it the order is: read the photo's own record (idempotency), search, decide, write the buckets,
write the record last. "Insert then search" or "search then insert" without it can end with two
originals: each worker searches before the other's row is visible (or breaks the tie by id
while visibility follows another order). With the section, the second worker always sees the
first one's rows, so of two near-identical uploads exactly one is the original.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from pipeline.dedup.rules import (
    DEFAULT_DHASH_RADIUS,
    DedupOutcome,
    FrameKey,
    IndexedPhoto,
    decide,
)
from pipeline.dedup.search import DEFAULT_RADIUS, MultiIndex


@dataclass
class StoreStats:
    """Cumulative counters, read by the benchmark and tests."""

    lookups: int = 0
    candidates: int = 0
    requests: int = 0
    read_units: float = 0.0
    max_round_trips: int = 0

    def record_lookup(
        self, *, candidates: int, requests: int, read_units: float, trips: int
    ) -> None:
        self.lookups += 1
        self.candidates += candidates
        self.requests += requests
        self.read_units += read_units
        self.max_round_trips = max(self.max_round_trips, trips)


class DedupStore(Protocol):
    """Where the index lives. Implementations: SQL (Django), DynamoDB (boto3), in-memory."""

    index: MultiIndex
    stats: StoreStats

    def critical_section(self, scope: str) -> AbstractContextManager[None]:
        """Mutual exclusion per scope, across processes and machines."""
        ...

    def get_photo(self, scope: str, photo_id: int) -> IndexedPhoto | None: ...

    def lookup(self, scope: str, phash: int, radius: int) -> list[IndexedPhoto]:
        """Every indexed photo whose pHash lies within `radius` of `phash` (exact)."""
        ...

    def not_duplicate_of(self, scope: str, photo_id: int) -> set[int]:
        """Ids a curator declared `photo_id` is not a duplicate of."""
        ...

    def save_photo(self, scope: str, photo: IndexedPhoto, previous: IndexedPhoto | None) -> None:
        """Write the record, and file it in the buckets when its outcome is indexed.

        `previous` is what `get_photo` returned, so the store can drop stale bucket rows.
        """
        ...

    def delete_photo(self, scope: str, photo: IndexedPhoto) -> None: ...

    def save_decision(self, scope: str, a: int, b: int) -> None: ...

    def bulk_load(self, scope: str, photos: Sequence[IndexedPhoto]) -> None:
        """Seed an empty scope in bulk (backfill, benchmark); no critical section."""
        ...


def _evaluate(
    store: DedupStore,
    *,
    scope: str,
    photo_id: int,
    phash: int,
    dhash: int,
    frame: FrameKey,
    radius: int,
    dhash_radius: int,
    key: str,
    filed_at: int = 0,
) -> IndexedPhoto:
    """Decide the photo. `filed_at` is its place in the filing order when it was filed before
    (0: a first filing, placed after every match, and after now)."""
    matches = store.lookup(scope, phash, radius)
    outcome = decide(
        photo_id=photo_id,
        phash=phash,
        dhash=dhash,
        frame=frame,
        matches=matches,
        not_duplicate_of=store.not_duplicate_of(scope, photo_id),
        radius=radius,
        dhash_radius=dhash_radius,
        filed_at=filed_at,
    )
    # Clocks of the Lambda and the workers may disagree: after every match keeps the order.
    seq = filed_at or max([time.time_ns() // 1_000_000, *(m.seq + 1 for m in matches)])
    return IndexedPhoto(photo_id, phash, dhash, frame, outcome, key, seq)


def index_photo(
    store: DedupStore,
    *,
    scope: str,
    photo_id: int,
    phash: int,
    dhash: int,
    frame: FrameKey,
    key: str = "",
    radius: int = DEFAULT_RADIUS,
    dhash_radius: int = DEFAULT_DHASH_RADIUS,
    again: bool = False,
) -> DedupOutcome:
    """Search the scope for near-duplicates of a photo and file it.

    Returns ORIGINAL, DUPLICATE (`duplicate_of`) or PAIRED (`paired_with`). Idempotent per
    photo_id: calling it again for the same photo returns the stored outcome and writes nothing
    (a retried Lambda event, a redelivered task). With `again` it decides the photo afresh
    against the index as it is now, at `radius`, and files the new outcome in place of any
    stored one (a re-validation, a changed radius): the stored verdict is never replayed, and
    curators' "not a duplicate" decisions still hold.
    """
    if not again:
        known = store.get_photo(scope, photo_id)
        if known is not None:
            return known.outcome
    with store.critical_section(scope):
        known = store.get_photo(scope, photo_id)
        if known is not None and not again:
            return known.outcome
        photo = _evaluate(
            store,
            scope=scope,
            photo_id=photo_id,
            phash=phash,
            dhash=dhash,
            frame=frame,
            radius=radius,
            dhash_radius=dhash_radius,
            key=key or (known.key if known is not None else ""),
            filed_at=known.seq if known is not None else 0,
        )
        store.save_photo(scope, photo, known)
        return photo.outcome


def redecide_photo(
    store: DedupStore,
    *,
    scope: str,
    photo_id: int,
    radius: int = DEFAULT_RADIUS,
    dhash_radius: int = DEFAULT_DHASH_RADIUS,
) -> DedupOutcome | None:
    """`index_photo(again=True)` from the hashes and frame the index already holds for the
    photo (no image read); None when the index does not know it."""
    known = store.get_photo(scope, photo_id)
    if known is None:
        return None
    return index_photo(
        store,
        scope=scope,
        photo_id=photo_id,
        phash=known.phash,
        dhash=known.dhash,
        frame=known.frame,
        key=known.key,
        radius=radius,
        dhash_radius=dhash_radius,
        again=True,
    )


def remove_photo(store: DedupStore, *, scope: str, photo_id: int) -> bool:
    """Take a photo out of the index because the validator, judging it again, now rejects it:
    only frames that pass or are borderline are filed. False if the index did not know it.

    Photos already marked duplicates of it keep pointing at it: their status is history. (A
    photo a curator rejects stays in: a re-upload of that frame is still its duplicate.)
    """
    with store.critical_section(scope):
        known = store.get_photo(scope, photo_id)
        if known is None:
            return False
        store.delete_photo(scope, known)
        return True


def matched_key(store: DedupStore, *, scope: str, outcome: DedupOutcome) -> str | None:
    """The storage key of the photo an outcome points at (its original or partner), if any."""
    if outcome.other_id is None:
        return None
    other = store.get_photo(scope, outcome.other_id)
    return None if other is None or not other.key else other.key


def dedup_mark_not_duplicate(
    store: DedupStore,
    *,
    scope: str,
    photo_id: int,
    other_id: int,
    radius: int = DEFAULT_RADIUS,
    dhash_radius: int = DEFAULT_DHASH_RADIUS,
) -> DedupOutcome | None:
    """Remember a curator's "not a duplicate" for (photo_id, other_id); re-decide the pair.

    The pair never matches again, in either direction. Whichever of the two was a duplicate of
    (or paired with) the other is evaluated again without that match: usually it becomes an
    original and is filed in the index. Returns `photo_id`'s outcome now (None if unknown).
    """
    with store.critical_section(scope):
        store.save_decision(scope, photo_id, other_id)
        for this, that in ((photo_id, other_id), (other_id, photo_id)):
            known = store.get_photo(scope, this)
            if known is None or known.outcome.other_id != that:
                continue
            photo = _evaluate(
                store,
                scope=scope,
                photo_id=this,
                phash=known.phash,
                dhash=known.dhash,
                frame=known.frame,
                radius=radius,
                dhash_radius=dhash_radius,
                key=known.key,
                filed_at=known.seq,
            )
            store.save_photo(scope, photo, known)
        current = store.get_photo(scope, photo_id)
        return None if current is None else current.outcome
