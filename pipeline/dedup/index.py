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
) -> IndexedPhoto:
    outcome = decide(
        photo_id=photo_id,
        phash=phash,
        dhash=dhash,
        frame=frame,
        matches=store.lookup(scope, phash, radius),
        not_duplicate_of=store.not_duplicate_of(scope, photo_id),
        radius=radius,
        dhash_radius=dhash_radius,
    )
    return IndexedPhoto(photo_id, phash, dhash, frame, outcome)


def index_photo(
    store: DedupStore,
    *,
    scope: str,
    photo_id: int,
    phash: int,
    dhash: int,
    frame: FrameKey,
    radius: int = DEFAULT_RADIUS,
    dhash_radius: int = DEFAULT_DHASH_RADIUS,
) -> DedupOutcome:
    """Search the scope for near-duplicates of a photo and file it. Idempotent per photo_id.

    Returns ORIGINAL, DUPLICATE (`duplicate_of`) or PAIRED (`paired_with`). Calling it again
    for the same photo returns the stored outcome and writes nothing.
    """
    known = store.get_photo(scope, photo_id)
    if known is not None:
        return known.outcome
    with store.critical_section(scope):
        known = store.get_photo(scope, photo_id)
        if known is not None:
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
        )
        store.save_photo(scope, photo, None)
        return photo.outcome


def remove_photo(store: DedupStore, *, scope: str, photo_id: int) -> bool:
    """Drop a photo from the index (deleted, or rejected by a curator). False if unknown.

    Photos already marked duplicates of it keep pointing at it: their status is history.
    """
    with store.critical_section(scope):
        known = store.get_photo(scope, photo_id)
        if known is None:
            return False
        store.delete_photo(scope, known)
        return True


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
            )
            store.save_photo(scope, photo, known)
        current = store.get_photo(scope, photo_id)
        return None if current is None else current.outcome
