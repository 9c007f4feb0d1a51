"""Exact Hamming-radius search over 64-bit perceptual hashes by multi-index hashing.

Pure: no Django, no boto3. Hashes are signed 64-bit ints (`pipeline.core.hashcode`).

## The method (Norouzi, Punjani & Fleet, CVPR 2012)
The 64 hash bits are split into m disjoint chunks. Every stored hash is filed under m bucket keys,
one per chunk: (chunk index, chunk value). A lookup at radius r probes, for each chunk, every
value within a small Hamming radius of the query's chunk, reads the rows of those buckets
(candidates) and keeps those within r on the full 64 bits.

Exactness rests on the refined pigeonhole principle. Write r = s*m + a with 0 <= a < m. If a
stored hash h has d(h, q) <= r, then one of the first a+1 chunks differs by at most s, or one of
the other m-a-1 chunks differs by at most s-1. Otherwise the first a+1 chunks each differ by
>= s+1 and the rest by >= s, so d(h, q) >= (a+1)(s+1) + (m-a-1)s = r+1: a contradiction. Probing
chunk i at radius s (i <= a) or s-1 (i > a, skipped when s-1 < 0) therefore finds every hash
within r, and verification on the full hash removes everything farther. Recall is 100% by
construction; `tests/pipeline/dedup/test_search.py` checks it against brute force.

## The default layout: 5 chunks of 13/13/13/13/12 bits
At r = 8: s = 1, a = 3, so chunks 0-3 are probed at radius 1 (14 values each) and chunk 4 at
radius 0: 57 probes, one DynamoDB BatchGetItem (100 keys). The alternatives at r = 8:

| layout                       | probe radii | probes | BatchGetItem calls |
|------------------------------|-------------|--------|--------------------|
| 3 chunks 22/21/21            | 2,2,2       | 718    | 8                  |
| 4 chunks 16/16/16/16         | 2,1,1,1     | 188    | 2                  |
| 5 chunks 13/13/13/13/12      | 1,1,1,1,0   | 57     | 1                  |

Wider chunks give fewer candidates per lookup but far more probes. In DynamoDB every probed
key costs at least one read unit (strongly consistent, missing items included) and dynalite
answers about 10 ms per 100-key batch, whereas verifying a candidate is one XOR and a popcount.
So the item count, not the candidate count, sets the cost. Measured by `make bench-dedup` at 1M
hashes (real-photo hashes plus random ones), per lookup including the fetch of the matches:

| layout   | candidates | requests | read units | recall |
|----------|------------|----------|------------|--------|
| 13x4+12  | 7,314      | 2        | 68.9       | 100%   |
| 22/21/21 | 344        | 9        | 729.4      | 100%   |
| old 4x16 exact-chunk GSIs | 89 | 4 | 2.0      | 64.3%  |

The radius-0 chunk is the narrowest one, because its bucket is read once while the others are
read 14 times.

The bucket layout is fixed when a store is created (changing it means re-indexing); the lookup
radius may be anything up to the radius the layout was sized for, and is exact at every radius.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from pipeline.core.hashcode import hamming_distance, to_signed64, to_unsigned64

DEFAULT_RADIUS = 8
DEFAULT_WIDTHS: tuple[int, ...] = (13, 13, 13, 13, 12)


@dataclass(frozen=True, slots=True)
class BucketKey:
    """One bucket: the value of one chunk of the hash."""

    chunk: int
    value: int

    def encode(self) -> int:
        """A single non-negative integer: chunk index above bit 32, chunk value below it."""
        return (self.chunk << 32) | self.value

    def label(self) -> str:
        return f"{self.chunk}:{self.value:x}"


def _neighbours(value: int, width: int, radius: int) -> list[int]:
    """All `width`-bit values within `radius` bits of `value`, `value` itself first."""
    out = [value]
    for k in range(1, radius + 1):
        for bits in combinations(range(width), k):
            flipped = value
            for bit in bits:
                flipped ^= 1 << bit
            out.append(flipped)
    return out


@dataclass(frozen=True, slots=True)
class MultiIndex:
    """A split of the 64 hash bits into disjoint chunks, most significant chunk first."""

    widths: tuple[int, ...] = DEFAULT_WIDTHS

    def __post_init__(self) -> None:
        if sum(self.widths) != 64 or any(w <= 0 or w > 32 for w in self.widths):
            raise ValueError(f"chunk widths must be 1..32 bits and sum to 64: {self.widths}")

    @property
    def name(self) -> str:
        return "x".join(str(w) for w in self.widths)

    def chunk_values(self, phash: int) -> tuple[int, ...]:
        bits = to_unsigned64(phash)
        values = []
        shift = 64
        for width in self.widths:
            shift -= width
            values.append((bits >> shift) & ((1 << width) - 1))
        return tuple(values)

    def bucket_keys(self, phash: int) -> tuple[BucketKey, ...]:
        """The buckets a stored hash is filed under: one per chunk."""
        return tuple(BucketKey(i, v) for i, v in enumerate(self.chunk_values(phash)))

    def probe_radii(self, radius: int) -> tuple[int, ...]:
        """Per-chunk probe radius from the refined pigeonhole principle; -1 means skip."""
        if radius < 0:
            raise ValueError("radius must be >= 0")
        m = len(self.widths)
        s, a = divmod(radius, m)
        return tuple(s if i <= a else s - 1 for i in range(m))

    def probes(self, phash: int, radius: int = DEFAULT_RADIUS) -> list[BucketKey]:
        """Every bucket that can hold a hash within `radius` of `phash`, without repeats."""
        out: list[BucketKey] = []
        for i, (value, width, probe_radius) in enumerate(
            zip(self.chunk_values(phash), self.widths, self.probe_radii(radius), strict=True)
        ):
            if probe_radius >= 0:
                out.extend(BucketKey(i, v) for v in _neighbours(value, width, probe_radius))
        return out


def within(query: int, candidates: Iterable[tuple[int, int]], radius: int) -> list[tuple[int, int]]:
    """Verification on the full hash: the (photo_id, phash) pairs within `radius` of `query`."""
    return [(pid, h) for pid, h in candidates if hamming_distance(query, h) <= radius]


def brute_force(
    query: int, indexed: Sequence[tuple[int, int]], radius: int = DEFAULT_RADIUS
) -> set[int]:
    """Ground truth for tests and the benchmark: ids of every indexed hash within `radius`."""
    return {pid for pid, _ in within(query, indexed, radius)}


def flip_bits(phash: int, bits: Iterable[int]) -> int:
    """`phash` with the given bit positions (0 = least significant) inverted."""
    value = to_unsigned64(phash)
    for bit in bits:
        value ^= 1 << bit
    return to_signed64(value)
