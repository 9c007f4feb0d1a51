"""The bucket-item layout shared by the DynamoDB store and the in-memory store that models it.

A bucket row is 16 bytes: photo id and pHash, both signed 64-bit big-endian. Rows of one bucket
live in a binary set, so adding a row twice is a no-op. A bucket with more rows than
`SHARD_ROWS` spills into further items (shards) of the same partition.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

_ROW = struct.Struct(">qq")
ROW_BYTES = _ROW.size
# 16,000 rows = 256 KB of row data: well under DynamoDB's 400 KB item limit with the keys.
SHARD_ROWS = 16_000
BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25
# Per-item bookkeeping besides the rows: key attributes and names, as DynamoDB sizes them.
ITEM_OVERHEAD_BYTES = 48


def pack_row(photo_id: int, phash: int) -> bytes:
    return _ROW.pack(photo_id, phash)


def unpack_rows(rows: Iterable[bytes]) -> list[tuple[int, int]]:
    return [_ROW.unpack(row) for row in rows]


def read_units(item_bytes: int, *, consistent: bool = True) -> float:
    """DynamoDB read units for reading one item (a missing item still costs the minimum)."""
    units = max(1, math.ceil(item_bytes / 4096))
    return float(units) if consistent else units / 2
