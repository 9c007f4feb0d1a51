"""Exact Hamming-radius search over 64-bit perceptual hashes by multi-index hashing.

Pure: no Django, no boto3. Hashes are signed 64-bit ints (`pipeline.core.hashcode`). Why this
method and the 13/13/13/13/12 layout, with figures: docs/adr/0007-dedup-layout.md.
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
