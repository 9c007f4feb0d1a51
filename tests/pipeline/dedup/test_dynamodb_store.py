"""DynamoDB-specific behaviour, against a real dynalite: shards, item size, the scope lease."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from pipeline.core.hashcode import to_signed64
from pipeline.dedup.dynamodb_store import DynamoDbStore, LeaseLostError, LockTimeoutError
from pipeline.dedup.index import index_photo
from pipeline.dedup.layout import SHARD_ROWS
from pipeline.dedup.rules import DedupOutcome, FrameKey, IndexedPhoto, OutcomeKind

ORIGINAL = DedupOutcome(OutcomeKind.ORIGINAL)


def _items(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=table)["Items"]
    return items


def test_a_hot_bucket_spills_into_shards_and_every_row_is_still_found(
    dynamodb_table: tuple[Any, str],
) -> None:
    client, table = dynamodb_table
    store = DynamoDbStore(client, table, shard_rows=4)
    rng = random.Random(2)
    top = 0x1ABC << 51
    # Ten unrelated hashes sharing their first 13-bit chunk: one hot bucket.
    hashes = {pid: to_signed64(top | rng.getrandbits(51)) for pid in range(1, 11)}
    for pid, phash in hashes.items():
        outcome = index_photo(
            store, scope="hot", photo_id=pid, phash=phash, dhash=0, frame=FrameKey()
        )
        assert outcome.kind is OutcomeKind.ORIGINAL
    shards = [i for i in _items(client, table) if i["pk"]["S"] == "hot#b#0:1abc"]
    assert sorted(int(i["sk"]["N"]) for i in shards) == [0, 1, 2]
    assert sum(len(i["r"]["BS"]) for i in shards) == 10
    for pid, phash in hashes.items():
        assert [p.photo_id for p in store.lookup("hot", phash, 8)] == [pid]


def test_default_shards_stay_under_the_400_kb_item_limit(
    dynamodb_table: tuple[Any, str],
) -> None:
    """dynalite enforces DynamoDB's 400 KB item limit; one row over a full shard must load."""
    client, table = dynamodb_table
    store = DynamoDbStore(client, table)
    phash = to_signed64(0x0123_4567_89AB_CDEF)
    photos = [IndexedPhoto(pid, phash, 0, FrameKey(), ORIGINAL) for pid in range(1, SHARD_ROWS + 2)]
    store.bulk_load("big", photos)
    label = store.index.bucket_keys(phash)[0].label()
    head = client.get_item(TableName=table, Key={"pk": {"S": f"big#b#{label}"}, "sk": {"N": "0"}})
    assert int(head["Item"]["n"]["N"]) == 2
    assert len(store.lookup("big", phash, 0)) == SHARD_ROWS + 1


def test_the_scope_lease_excludes_a_second_holder_until_it_expires(
    dynamodb_table: tuple[Any, str],
) -> None:
    client, table = dynamodb_table
    holder = DynamoDbStore(client, table, lease_ms=1_500, margin_ms=500)
    waiter = DynamoDbStore(client, table, lock_wait_s=0.3)
    with holder.critical_section("s1"):
        with pytest.raises(LockTimeoutError), waiter.critical_section("s1"):
            pass
        with waiter.critical_section("s2"):
            pass  # other scopes are not blocked
        time.sleep(1.1)
        # Past lease minus margin: the holder must not write any more.
        with pytest.raises(LeaseLostError):
            holder.save_decision("s1", 1, 2)
        time.sleep(0.5)
        # The lease has expired (a crashed holder): a new worker gets in.
        with DynamoDbStore(client, table, lock_wait_s=2).critical_section("s1"):
            pass


def test_scope_may_not_contain_the_key_separator(dynamodb_table: tuple[Any, str]) -> None:
    client, table = dynamodb_table
    with pytest.raises(ValueError):
        DynamoDbStore(client, table).get_photo("a#b", 1)
