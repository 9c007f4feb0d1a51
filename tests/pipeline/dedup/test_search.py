"""The search finds every stored hash within the radius (exact recall), on any chunk layout."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.hashcode import hamming_distance, to_signed64
from pipeline.dedup.search import BucketKey, MultiIndex, brute_force, flip_bits, within

LAYOUTS = [(13, 13, 13, 13, 12), (22, 21, 21), (16, 16, 16, 16), (11, 11, 11, 11, 10, 10)]
signed64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def _found(index: MultiIndex, query: int, stored: int, radius: int) -> bool:
    probed = set(index.probes(query, radius))
    filed = set(index.bucket_keys(stored))
    return bool(probed & filed) and hamming_distance(query, stored) <= radius


@pytest.mark.parametrize("widths", LAYOUTS)
@settings(max_examples=300, deadline=None)
@given(
    query=signed64,
    flips=st.sets(st.integers(min_value=0, max_value=63), max_size=8),
    radius=st.integers(min_value=0, max_value=10),
)
def test_every_hash_within_radius_is_probed(
    widths: tuple[int, ...], query: int, flips: set[int], radius: int
) -> None:
    index = MultiIndex(widths)
    stored = flip_bits(query, flips)
    assert _found(index, query, stored, radius) == (len(flips) <= radius)


@pytest.mark.parametrize("widths", LAYOUTS)
def test_worst_case_spread_of_eight_flips_is_found(widths: tuple[int, ...]) -> None:
    """The crops the old scheme missed: differences spread over every chunk."""
    index = MultiIndex(widths)
    rng = random.Random(4)
    for _ in range(2_000):
        query = to_signed64(rng.getrandbits(64))
        # Put the 8 flipped bits as evenly as possible across the chunks.
        starts = [sum(widths[:i]) for i in range(len(widths))]
        bits = [
            63 - (starts[i % len(widths)] + rng.randrange(widths[i % len(widths)]))
            for i in range(8)
        ]
        stored = flip_bits(query, bits)
        assert _found(index, query, stored, 8) == (hamming_distance(query, stored) <= 8)


def test_old_4x16_exact_chunk_scheme_misses_distance_4_that_multi_index_finds() -> None:
    query = to_signed64(0x0123_4567_89AB_CDEF)
    stored = flip_bits(query, [0, 16, 32, 48])  # one bit in each 16-bit chunk
    old_scheme_hit = any((query >> s) & 0xFFFF == (stored >> s) & 0xFFFF for s in (0, 16, 32, 48))
    assert not old_scheme_hit
    assert _found(MultiIndex((16, 16, 16, 16)), query, stored, 8)
    assert _found(MultiIndex(), query, stored, 8)


def test_default_layout_needs_one_batch_get_at_radius_8() -> None:
    probes = MultiIndex().probes(to_signed64(0xDEAD_BEEF_0000_FFFF), 8)
    assert len(probes) == 57
    assert len(set(probes)) == 57


def test_probe_counts_of_the_documented_layouts() -> None:
    assert len(MultiIndex((22, 21, 21)).probes(0, 8)) == 718
    assert len(MultiIndex((16, 16, 16, 16)).probes(0, 8)) == 188


def test_bucket_keys_are_one_per_chunk_and_round_trip_through_encode() -> None:
    index = MultiIndex()
    keys = index.bucket_keys(to_signed64(0xFFFF_FFFF_FFFF_FFFF))
    assert [k.chunk for k in keys] == [0, 1, 2, 3, 4]
    assert keys[0] == BucketKey(0, 0x1FFF)
    assert keys[4] == BucketKey(4, 0xFFF)
    assert len({k.encode() for k in keys}) == 5


def test_verification_matches_brute_force_on_a_clustered_population() -> None:
    rng = random.Random(7)
    index = MultiIndex()
    centre = to_signed64(rng.getrandbits(64))
    population = [
        (i, flip_bits(centre, rng.sample(range(64), rng.randrange(0, 14)))) for i in range(3_000)
    ]
    buckets: dict[BucketKey, list[tuple[int, int]]] = {}
    for pid, h in population:
        for key in index.bucket_keys(h):
            buckets.setdefault(key, []).append((pid, h))
    for query in [centre] + [h for _, h in population[:200]]:
        candidates = {row for key in index.probes(query, 8) for row in buckets.get(key, [])}
        assert {pid for pid, _ in within(query, candidates, 8)} == brute_force(query, population)


def test_layout_must_cover_64_bits() -> None:
    with pytest.raises(ValueError):
        MultiIndex((16, 16, 16))
