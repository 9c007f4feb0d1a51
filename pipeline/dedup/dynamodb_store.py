"""The dedup index in one DynamoDB table (boto3 only, no Django).

Item layout, lookups, sharding, retries and the per-scope lease, and why:
docs/adr/0008-dynamodb-table-design.md.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline.dedup.index import StoreStats
from pipeline.dedup.layout import (
    BATCH_GET_KEYS,
    BATCH_WRITE_ITEMS,
    SHARD_ROWS,
    pack_row,
    unpack_rows,
)
from pipeline.dedup.rules import DedupOutcome, FrameKey, IndexedPhoto, OutcomeKind
from pipeline.dedup.search import BucketKey, MultiIndex, within

Item = dict[str, Any]
T = TypeVar("T")


class LeaseLostError(RuntimeError):
    """The scope lease ran out before the holder could write; the caller should retry."""


class LockTimeoutError(RuntimeError):
    """Another worker held the scope lease for longer than we were willing to wait."""


def make_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """A DynamoDB client with standard-mode retries and enough connections for parallel reads."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 10},
        max_pool_connections=32,
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region, config=config)


def create_table(client: Any, table: str) -> None:
    """Create the table (on-demand) if missing and wait until it is active."""
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
    )


def _key(pk: str, sk: int = 0) -> Item:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def _backoff(attempt: int, base: float = 0.005, cap: float = 0.2) -> None:
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))


class DynamoDbStore:
    def __init__(
        self,
        client: Any,
        table: str,
        *,
        index: MultiIndex | None = None,
        shard_rows: int = SHARD_ROWS,
        lease_ms: int = 30_000,
        margin_ms: int = 5_000,
        lock_wait_s: float = 60.0,
        workers: int = 16,
    ) -> None:
        self.client = client
        self.table = table
        self.index = index or MultiIndex()
        self.stats = StoreStats()
        self.shard_rows = shard_rows
        self.lease_ms = lease_ms
        self.margin_ms = margin_ms
        self.lock_wait_s = lock_wait_s
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._leases: dict[str, tuple[str, float]] = {}

    # -- keys -------------------------------------------------------------------------------

    @staticmethod
    def _check_scope(scope: str) -> str:
        if not scope or "#" in scope:
            raise ValueError(f"a dedup scope is a non-empty string without '#': {scope!r}")
        return scope

    def _bucket_pk(self, scope: str, key: BucketKey) -> str:
        return f"{self._check_scope(scope)}#b#{key.label()}"

    def _photo_pk(self, scope: str, photo_id: int) -> str:
        return f"{self._check_scope(scope)}#p#{photo_id}"

    def _decision_pk(self, scope: str, photo_id: int) -> str:
        return f"{self._check_scope(scope)}#nd#{photo_id}"

    # -- batched I/O ------------------------------------------------------------------------

    def _batch_get(self, keys: Sequence[Item]) -> tuple[list[Item], int, float]:
        """Read keys in parallel calls of 100. Returns items, requests made, read units."""
        calls = [keys[i : i + BATCH_GET_KEYS] for i in range(0, len(keys), BATCH_GET_KEYS)]
        items: list[Item] = []
        requests = 0
        units = 0.0
        for found, made, used in self._pool.map(self._batch_get_one, calls):
            items.extend(found)
            requests += made
            units += used
        return items, requests, units

    def _batch_get_one(self, keys: Sequence[Item]) -> tuple[list[Item], int, float]:
        items: list[Item] = []
        pending: list[Item] = list(keys)
        requests = 0
        units = 0.0
        attempt = 0
        while pending:
            response = self.client.batch_get_item(
                RequestItems={self.table: {"Keys": pending, "ConsistentRead": True}},
                ReturnConsumedCapacity="TOTAL",
            )
            requests += 1
            units += sum(c.get("CapacityUnits", 0.0) for c in response["ConsumedCapacity"])
            items.extend(response["Responses"].get(self.table, []))
            pending = response["UnprocessedKeys"].get(self.table, {}).get("Keys", [])
            if pending:
                _backoff(attempt)
                attempt += 1
        return items, requests, units

    def batch_write(self, items: Sequence[Item]) -> None:
        """PutItem many items through parallel BatchWriteItem calls (25 items each)."""
        calls = [items[i : i + BATCH_WRITE_ITEMS] for i in range(0, len(items), BATCH_WRITE_ITEMS)]
        list(self._pool.map(self._batch_write_one, calls))

    def _batch_write_one(self, items: Sequence[Item]) -> None:
        pending: list[Item] = [{"PutRequest": {"Item": item}} for item in items]
        attempt = 0
        while pending:
            response = self.client.batch_write_item(RequestItems={self.table: pending})
            pending = response["UnprocessedItems"].get(self.table, [])
            if pending:
                _backoff(attempt)
                attempt += 1

    def _each(self, function: Callable[[T], object], args: Iterable[T]) -> None:
        """Call `function` on every arg in parallel: one round trip for independent writes."""
        list(self._pool.map(function, args))

    # -- critical section -------------------------------------------------------------------

    @contextmanager
    def critical_section(self, scope: str) -> Iterator[None]:
        pk = f"{self._check_scope(scope)}#lock"
        token = uuid.uuid4().hex
        give_up = time.monotonic() + self.lock_wait_s
        attempt = 0
        while True:
            now_ms = int(time.time() * 1000)
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item={
                        **_key(pk),
                        "owner": {"S": token},
                        "exp": {"N": str(now_ms + self.lease_ms)},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR #exp < :now",
                    ExpressionAttributeNames={"#exp": "exp"},
                    ExpressionAttributeValues={":now": {"N": str(now_ms)}},
                )
                break
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            if time.monotonic() > give_up:
                raise LockTimeoutError(f"dedup scope {scope!r} stayed locked")
            _backoff(attempt, base=0.002, cap=0.05)
            attempt += 1
        self._leases[scope] = (token, time.monotonic() + self.lease_ms / 1000)
        try:
            yield
        finally:
            del self._leases[scope]
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key=_key(pk),
                    ConditionExpression="#owner = :token",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={":token": {"S": token}},
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def _check_lease(self, scope: str) -> None:
        lease = self._leases.get(scope)
        if lease is None:
            raise LeaseLostError(f"writing to dedup scope {scope!r} outside its critical section")
        if time.monotonic() > lease[1] - self.margin_ms / 1000:
            raise LeaseLostError(f"the lease on dedup scope {scope!r} is about to expire")

    # -- records ----------------------------------------------------------------------------

    def _photo_item(self, scope: str, photo: IndexedPhoto) -> Item:
        item: Item = {
            **_key(self._photo_pk(scope, photo.photo_id)),
            "ph": {"N": str(photo.phash)},
            "dh": {"N": str(photo.dhash)},
            "kind": {"S": photo.outcome.kind.value},
            "raw": {"BOOL": photo.frame.is_raw},
        }
        if photo.outcome.other_id is not None:
            item["other"] = {"N": str(photo.outcome.other_id)}
        if photo.outcome.distance is not None:
            item["dist"] = {"N": str(photo.outcome.distance)}
        if photo.seq:
            item["seq"] = {"N": str(photo.seq)}
        for name, value in (
            ("key", photo.key),
            ("stem", photo.frame.file_stem),
            ("at", photo.frame.captured_at),
            ("cam", photo.frame.camera),
            ("exp", photo.frame.exposure),
        ):
            if value:
                item[name] = {"S": value}
        return item

    @staticmethod
    def _photo_from_item(item: Item) -> IndexedPhoto:
        def text(name: str) -> str:
            return str(item[name]["S"]) if name in item else ""

        def number(name: str) -> int | None:
            return int(item[name]["N"]) if name in item else None

        photo_id = int(str(item["pk"]["S"]).rsplit("#", 1)[1])
        return IndexedPhoto(
            photo_id=photo_id,
            phash=int(item["ph"]["N"]),
            dhash=int(item["dh"]["N"]),
            frame=FrameKey(
                is_raw=bool(item["raw"]["BOOL"]),
                file_stem=text("stem"),
                captured_at=text("at"),
                camera=text("cam"),
                exposure=text("exp"),
            ),
            outcome=DedupOutcome(OutcomeKind(text("kind")), number("other"), number("dist")),
            key=text("key"),
            seq=number("seq") or 0,
        )

    def get_photo(self, scope: str, photo_id: int) -> IndexedPhoto | None:
        response = self.client.get_item(
            TableName=self.table, Key=_key(self._photo_pk(scope, photo_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else self._photo_from_item(item)

    def not_duplicate_of(self, scope: str, photo_id: int) -> set[int]:
        response = self.client.get_item(
            TableName=self.table,
            Key=_key(self._decision_pk(scope, photo_id)),
            ConsistentRead=True,
        )
        return {int(v) for v in response.get("Item", {}).get("ids", {}).get("NS", [])}

    def save_decision(self, scope: str, a: int, b: int) -> None:
        self._check_lease(scope)

        def remember(pair: tuple[int, int]) -> None:
            self.client.update_item(
                TableName=self.table,
                Key=_key(self._decision_pk(scope, pair[0])),
                UpdateExpression="ADD ids :ids",
                ExpressionAttributeValues={":ids": {"NS": [str(pair[1])]}},
            )

        self._each(remember, [(a, b), (b, a)])

    # -- lookup -----------------------------------------------------------------------------

    def lookup(self, scope: str, phash: int, radius: int) -> list[IndexedPhoto]:
        probes = self.index.probes(phash, radius)
        shard0, requests, units = self._batch_get(
            [_key(self._bucket_pk(scope, key)) for key in probes]
        )
        trips = 1
        rows = self._rows(shard0)
        more = [
            _key(str(item["pk"]["S"]), shard)
            for item in shard0
            for shard in range(1, int(item.get("n", {}).get("N", "1")))
        ]
        if more:
            extra, made, used = self._batch_get(more)
            rows |= self._rows(extra)
            trips += 1
            requests += made
            units += used
        matched_ids = sorted({pid for pid, _ in within(phash, rows, radius)})
        matches: list[IndexedPhoto] = []
        if matched_ids:
            records, made, used = self._batch_get(
                [_key(self._photo_pk(scope, pid)) for pid in matched_ids]
            )
            matches = [self._photo_from_item(item) for item in records]
            trips += 1
            requests += made
            units += used
        self.stats.record_lookup(
            candidates=len({pid for pid, _ in rows}),
            requests=requests,
            read_units=units,
            trips=trips,
        )
        return sorted(matches, key=lambda p: p.photo_id)

    @staticmethod
    def _rows(items: Iterable[Item]) -> set[tuple[int, int]]:
        rows: set[tuple[int, int]] = set()
        for item in items:
            rows.update(unpack_rows(item.get("r", {}).get("BS", [])))
        return rows

    # -- writes -----------------------------------------------------------------------------

    def save_photo(self, scope: str, photo: IndexedPhoto, previous: IndexedPhoto | None) -> None:
        self._check_lease(scope)
        if previous is not None and previous.outcome.is_indexed:
            self._unfile(scope, previous)
        if photo.outcome.is_indexed:
            self._each(partial(self._file_row, scope, photo), self.index.bucket_keys(photo.phash))
        self._check_lease(scope)
        self.client.put_item(TableName=self.table, Item=self._photo_item(scope, photo))

    def _add_row(self, pk: str, shard: int, row: bytes) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(pk, shard),
                UpdateExpression="ADD r :row",
                ConditionExpression="attribute_not_exists(r) OR size(r) < :cap",
                ExpressionAttributeValues={
                    ":row": {"BS": [row]},
                    ":cap": {"N": str(self.shard_rows)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _shard_count(self, pk: str) -> int:
        response = self.client.get_item(
            TableName=self.table, Key=_key(pk), ConsistentRead=True, ProjectionExpression="n"
        )
        return int(response.get("Item", {}).get("n", {}).get("N", "1"))

    def _file_row(self, scope: str, photo: IndexedPhoto, key: BucketKey) -> None:
        pk = self._bucket_pk(scope, key)
        row = pack_row(photo.photo_id, photo.phash)
        if self._add_row(pk, 0, row):
            return
        while True:
            shards = self._shard_count(pk)
            if self._add_row(pk, shards - 1, row):
                return
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=_key(pk),
                    UpdateExpression="SET n = :new",
                    ConditionExpression="attribute_not_exists(n) OR n = :old",
                    ExpressionAttributeValues={
                        ":new": {"N": str(shards + 1)},
                        ":old": {"N": str(shards)},
                    },
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def _unfile(self, scope: str, photo: IndexedPhoto) -> None:
        row = pack_row(photo.photo_id, photo.phash)

        def unfile_bucket(key: BucketKey) -> None:
            pk = self._bucket_pk(scope, key)
            for shard in range(self._shard_count(pk)):
                self.client.update_item(
                    TableName=self.table,
                    Key=_key(pk, shard),
                    UpdateExpression="DELETE r :row",
                    ExpressionAttributeValues={":row": {"BS": [row]}},
                )

        self._each(unfile_bucket, self.index.bucket_keys(photo.phash))

    def delete_photo(self, scope: str, photo: IndexedPhoto) -> None:
        self._check_lease(scope)
        if photo.outcome.is_indexed:
            self._unfile(scope, photo)
        self.client.delete_item(
            TableName=self.table, Key=_key(self._photo_pk(scope, photo.photo_id))
        )

    def bulk_load(self, scope: str, photos: Sequence[IndexedPhoto]) -> None:
        """Seed an empty scope fast (backfill, benchmark): whole items through BatchWriteItem.

        Only for a scope nobody else is writing to; it overwrites bucket items.
        """
        buckets: dict[str, list[bytes]] = {}
        for photo in photos:
            if photo.outcome.is_indexed:
                row = pack_row(photo.photo_id, photo.phash)
                for key in self.index.bucket_keys(photo.phash):
                    buckets.setdefault(self._bucket_pk(scope, key), []).append(row)
        items = [self._photo_item(scope, photo) for photo in photos]
        for pk, rows in buckets.items():
            shards = [rows[i : i + self.shard_rows] for i in range(0, len(rows), self.shard_rows)]
            for shard, shard_rows in enumerate(shards):
                item: Item = {**_key(pk, shard), "r": {"BS": shard_rows}}
                if shard == 0 and len(shards) > 1:
                    item["n"] = {"N": str(len(shards))}
                items.append(item)
        self.batch_write(items)
