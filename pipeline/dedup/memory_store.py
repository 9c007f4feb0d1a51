"""An in-memory store that counts what the DynamoDB store would spend on the same lookups.

For the 1M-hash benchmark and fast tests. Its critical section is a per-scope thread lock, so
it is correct within one process only. Requests, read units and round trips are computed for the
DynamoDB item layout (`pipeline.dedup.layout`): one BatchGetItem per 100 probed keys (all in one
parallel round), one more round for extra shards of oversized buckets, and one to fetch the
records of verified matches.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pipeline.dedup.index import StoreStats
from pipeline.dedup.layout import (
    BATCH_GET_KEYS,
    ITEM_OVERHEAD_BYTES,
    ROW_BYTES,
    SHARD_ROWS,
    read_units,
)
from pipeline.dedup.rules import IndexedPhoto
from pipeline.dedup.search import BucketKey, MultiIndex, within

_RECORD_BYTES = 200


class MemoryStore:
    def __init__(self, index: MultiIndex | None = None, *, shard_rows: int = SHARD_ROWS) -> None:
        self.index = index or MultiIndex()
        self.stats = StoreStats()
        self.shard_rows = shard_rows
        self._photos: dict[tuple[str, int], IndexedPhoto] = {}
        self._buckets: defaultdict[tuple[str, BucketKey], dict[int, int]] = defaultdict(dict)
        self._decisions: defaultdict[tuple[str, int], set[int]] = defaultdict(set)
        self._guard = threading.Lock()
        self._scope_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    @contextmanager
    def critical_section(self, scope: str) -> Iterator[None]:
        with self._guard:
            lock = self._scope_locks[scope]
        with lock:
            yield

    def get_photo(self, scope: str, photo_id: int) -> IndexedPhoto | None:
        return self._photos.get((scope, photo_id))

    def lookup(self, scope: str, phash: int, radius: int) -> list[IndexedPhoto]:
        probes = self.index.probes(phash, radius)
        requests = math.ceil(len(probes) / BATCH_GET_KEYS)
        units = 0.0
        extra_shards = 0
        rows: dict[int, int] = {}
        for key in probes:
            bucket = self._buckets.get((scope, key), {})
            shards = max(1, math.ceil(len(bucket) / self.shard_rows))
            extra_shards += shards - 1
            for shard in range(shards):
                in_shard = min(self.shard_rows, len(bucket) - shard * self.shard_rows)
                units += read_units(ITEM_OVERHEAD_BYTES + max(0, in_shard) * ROW_BYTES)
            rows.update(bucket)
        trips = 1
        if extra_shards:
            trips += 1
            requests += math.ceil(extra_shards / BATCH_GET_KEYS)
        matched = [self._photos[(scope, pid)] for pid, _ in within(phash, rows.items(), radius)]
        if matched:
            trips += 1
            requests += math.ceil(len(matched) / BATCH_GET_KEYS)
            units += len(matched) * read_units(_RECORD_BYTES)
        self.stats.record_lookup(
            candidates=len(rows), requests=requests, read_units=units, trips=trips
        )
        return matched

    def not_duplicate_of(self, scope: str, photo_id: int) -> set[int]:
        return set(self._decisions.get((scope, photo_id), ()))

    def save_photo(self, scope: str, photo: IndexedPhoto, previous: IndexedPhoto | None) -> None:
        if previous is not None and previous.outcome.is_indexed:
            self._unfile(scope, previous)
        if photo.outcome.is_indexed:
            for key in self.index.bucket_keys(photo.phash):
                self._buckets[(scope, key)][photo.photo_id] = photo.phash
        self._photos[(scope, photo.photo_id)] = photo

    def bulk_load(self, scope: str, photos: Sequence[IndexedPhoto]) -> None:
        for photo in photos:
            self.save_photo(scope, photo, None)

    def delete_photo(self, scope: str, photo: IndexedPhoto) -> None:
        self._unfile(scope, photo)
        self._photos.pop((scope, photo.photo_id), None)

    def save_decision(self, scope: str, a: int, b: int) -> None:
        self._decisions[(scope, a)].add(b)
        self._decisions[(scope, b)].add(a)

    def _unfile(self, scope: str, photo: IndexedPhoto) -> None:
        for key in self.index.bucket_keys(photo.phash):
            self._buckets.get((scope, key), {}).pop(photo.photo_id, None)
