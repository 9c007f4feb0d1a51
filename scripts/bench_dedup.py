"""`make bench-dedup`: the exact multi-index search against the old 4 x 16-bit GSI scheme.

Hashes: pHash/dHash (imagehash) of real photos (scikit-image samples, the shared test photos and
the LFW face crops), cut into many crops, flips and rotations so the skew of real hash chunks
is there, topped up with random hashes. Near-duplicate pairs: 300 real crops, each edited six
ways (re-encode, resize, 3% crop, 1 degree rotation, watermark, brightness). Both are cached in
var/bench-dedup/.

Indexes of 10k and 100k hashes in dynalite and in SQL (SQLite and PostgreSQL), and 1M in the
in-memory store that counts DynamoDB requests and read units. For each: recall against brute
force on the near-duplicate queries, candidates, requests and read units per lookup, sequential
round trips, p50/p95 lookup latency, insert throughput. Figures are printed, never asserted.

Run from the repository root with PYTHONPATH=. (the make target does).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from PIL import Image, ImageEnhance, ImageOps

from pipeline.core.hashcode import hamming_distance, to_signed64
from pipeline.dedup.dynamodb_store import DynamoDbStore, create_table, make_client
from pipeline.dedup.index import index_photo
from pipeline.dedup.layout import read_units
from pipeline.dedup.memory_store import MemoryStore
from pipeline.dedup.rules import DedupOutcome, FrameKey, IndexedPhoto, OutcomeKind
from pipeline.dedup.search import DEFAULT_RADIUS, MultiIndex
from tests.pipeline.dedup.realphotos import NEAR_DUPLICATE_EDITS, hashes, sources
from tests.support.dynalite import start_dynalite
from tests.support.processes import stop

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "var" / "bench-dedup"
CORPUS_FILE = CACHE / "hashes-v1.npz"
CROPS_PER_PHOTO = 2_500
CROPS_PER_FACE = 40
PAIR_BASES = 300
RADIUS = DEFAULT_RADIUS
LATENCY_QUERIES = 600
INSERTS = 100
ORIGINAL = DedupOutcome(OutcomeKind.ORIGINAL)
NO_FRAME = FrameKey()
# Old scheme item: id, pHash and four chunk attributes, as DynamoDB sizes them.
BASELINE_ITEM_BYTES = 48


# -- corpus ------------------------------------------------------------------------------------


def _crops(job: tuple[str, int, int]) -> list[tuple[int, int]]:
    name, seed, count = job
    rng = random.Random(seed)
    if name.startswith("lfw:"):
        pixels = skimage.data.lfw_subset()[int(name[4:])]
        image = Image.fromarray((pixels * 255).astype(np.uint8)).convert("RGB")
        image = image.resize((100, 100), Image.Resampling.BICUBIC)
    else:
        image = sources()[name]
    out = []
    for _ in range(count):
        frac = rng.uniform(0.3, 1.0)
        w, h = max(8, int(image.width * frac)), max(8, int(image.height * rng.uniform(0.3, 1.0)))
        x, y = rng.randrange(image.width - w + 1), rng.randrange(image.height - h + 1)
        tile = image.crop((x, y, x + w, y + h))
        tile.thumbnail((96, 96))
        roll = rng.random()
        if roll < 0.2:
            tile = ImageOps.mirror(tile)
        elif roll < 0.3:
            tile = tile.rotate(rng.choice([90, 180, 270]), expand=True)
        elif roll < 0.5:
            tile = ImageEnhance.Brightness(tile).enhance(rng.uniform(0.6, 1.4))
        out.append(hashes(tile))
    return out


def _pairs(job: tuple[str, int]) -> list[tuple[int, int, int, int, str]]:
    name, seed = job
    rng = random.Random(seed)
    image = sources()[name]
    frac = rng.uniform(0.5, 1.0)
    w, h = int(image.width * frac), int(image.height * frac)
    x, y = rng.randrange(image.width - w + 1), rng.randrange(image.height - h + 1)
    base = image.crop((x, y, x + w, y + h))
    a = hashes(base)
    return [(*a, *hashes(edit(base)), label) for label, edit in NEAR_DUPLICATE_EDITS.items()]


@dataclass
class Corpus:
    real: np.ndarray  # (n, 3): source index, pHash, dHash
    pairs: np.ndarray  # (n, 4): pHash a, dHash a, pHash b, dHash b (b = edited a)
    edits: list[str]


def load_corpus() -> Corpus:
    if CORPUS_FILE.exists():
        data = np.load(CORPUS_FILE)
        return Corpus(data["real"], data["pairs"], [str(e) for e in data["edits"]])
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    names = list(sources())
    jobs = [(name, i, CROPS_PER_PHOTO) for i, name in enumerate(names)]
    jobs += [(f"lfw:{i}", 1000 + i, CROPS_PER_FACE) for i in range(200)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        crops = pool.map(_crops, jobs, chunksize=4)
        pair_rows = pool.map(
            _pairs, [(names[i % len(names)], 5000 + i) for i in range(PAIR_BASES)], chunksize=4
        )
    real = np.array(
        [(src, p, d) for src, rows in enumerate(crops) for p, d in rows], dtype=np.int64
    )
    flat = [row for rows in pair_rows for row in rows]
    pairs = np.array([row[:4] for row in flat], dtype=np.int64)
    edits = [row[4] for row in flat]
    np.savez(CORPUS_FILE, real=real, pairs=pairs, edits=np.array(edits))
    print(
        f"corpus: hashed {len(real)} crops, {len(pairs)} pairs in "
        f"{time.perf_counter() - started:.0f}s (cached in {CORPUS_FILE.relative_to(REPO)})"
    )
    return Corpus(real, pairs, edits)


# -- populations, truth ------------------------------------------------------------------------


def population(corpus: Corpus, size: int, seed: int = 1) -> np.ndarray:
    """pHash, dHash of `size` photos: pair originals, then real crops, then random hashes."""
    rng = np.random.default_rng(seed)
    bases = corpus.pairs[:: len(NEAR_DUPLICATE_EDITS), :2]
    real = corpus.real[rng.permutation(len(corpus.real)), 1:]
    rows = [bases, real[: max(0, size - len(bases))]]
    missing = size - sum(len(r) for r in rows)
    if missing > 0:
        rows.append(rng.integers(-(2**63), 2**63 - 1, size=(missing, 2), dtype=np.int64))
    return np.concatenate(rows)[:size]


def truth(index_hashes: np.ndarray, queries: np.ndarray, radius: int) -> list[set[int]]:
    """Brute force: for each query, the ids (row + 1) of every hash within `radius`."""
    table = index_hashes.view(np.uint64)
    out = []
    for q in queries.view(np.uint64):
        out.append({int(i) + 1 for i in np.nonzero(np.bitwise_count(table ^ q) <= radius)[0]})
    return out


def skew(index_hashes: np.ndarray, widths: Sequence[int]) -> str:
    parts = []
    shift = 64
    table = index_hashes.view(np.uint64)
    for width in widths:
        shift -= width
        values = (table >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        counts = np.bincount(values.astype(np.int64), minlength=1 << width)
        uniform = len(table) / (1 << width)
        parts.append(f"{counts.max() / uniform:.0f}x/{counts.max() / len(table):.1%}")
    return " ".join(parts)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    recall: float
    candidates: float
    requests: float
    read_units: float
    round_trips: int
    p50_ms: float
    p95_ms: float
    inserts_per_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        ru = f"{self.read_units:7.1f}" if not math.isnan(self.read_units) else "    n/a"
        return (
            f"{self.label:<34} recall={self.recall:7.2%} cand/lookup={self.candidates:8.0f} "
            f"req/lookup={self.requests:5.1f} rru/lookup={ru} trips={self.round_trips} "
            f"p50={self.p50_ms:6.2f}ms p95={self.p95_ms:6.2f}ms inserts/s={self.inserts_per_s:6.0f}"
        )


@dataclass
class Counters:
    candidates: int = 0
    requests: int = 0
    read_units: float = 0.0
    trips: int = 0
    lookups: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def measure(
    label: str,
    lookup: Callable[[int], set[int]],
    counters: Callable[[], tuple[int, int, float, int, int]],
    queries: np.ndarray,
    expected: list[set[int]],
    insert: Callable[[int, int, int], None] | None,
    first_new_id: int,
    latency_queries: int,
) -> Result:
    before = counters()
    found_total = 0
    truth_total = 0
    latencies = []
    for i, query in enumerate(queries.tolist()):
        started = time.perf_counter()
        found = lookup(query)
        if i < latency_queries:
            latencies.append((time.perf_counter() - started) * 1000)
        found_total += len(found & expected[i])
        truth_total += len(expected[i])
    after = counters()
    n = after[4] - before[4] or 1
    rate = float("nan")
    if insert is not None:
        rng = random.Random(3)
        started = time.perf_counter()
        for k in range(INSERTS):
            insert(
                first_new_id + k, to_signed64(rng.getrandbits(64)), to_signed64(rng.getrandbits(64))
            )
        rate = INSERTS / (time.perf_counter() - started)
    latencies.sort()
    return Result(
        label=label,
        recall=found_total / truth_total if truth_total else 1.0,
        candidates=(after[0] - before[0]) / n,
        requests=(after[1] - before[1]) / n,
        read_units=(after[2] - before[2]) / n,
        round_trips=after[3],
        p50_ms=statistics.median(latencies),
        p95_ms=latencies[int(len(latencies) * 0.95) - 1],
        inserts_per_s=rate,
    )


def _store_counters(store: Any) -> Callable[[], tuple[int, int, float, int, int]]:
    s = store.stats
    return lambda: (s.candidates, s.requests, s.read_units, s.max_round_trips, s.lookups)


def _photos(hashes_: np.ndarray) -> list[IndexedPhoto]:
    return [
        IndexedPhoto(i + 1, p, d, NO_FRAME, ORIGINAL) for i, (p, d) in enumerate(hashes_.tolist())
    ]


def bench_store(
    label: str,
    store: Any,
    hashes_: np.ndarray,
    queries: np.ndarray,
    expected: list[set[int]],
    latency_queries: int,
) -> Result:
    scope = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    store.bulk_load(scope, _photos(hashes_))
    load_s = time.perf_counter() - started

    def insert(photo_id: int, phash: int, dhash: int) -> None:
        index_photo(store, scope=scope, photo_id=photo_id, phash=phash, dhash=dhash, frame=NO_FRAME)

    result = measure(
        label,
        lambda q: {p.photo_id for p in store.lookup(scope, q, RADIUS)},
        _store_counters(store),
        queries,
        expected,
        insert,
        len(hashes_) + 1,
        latency_queries,
    )
    result.extra["load_s"] = load_s
    return result


# -- the old 4 x 16-bit GSI scheme -------------------------------------------------------------


def _chunks16(phash: int) -> list[int]:
    bits = phash & (2**64 - 1)
    return [(bits >> (48 - 16 * i)) & 0xFFFF for i in range(4)]


class BaselineMemory:
    """Four exact-match chunk indexes; read units as four eventually consistent GSI Queries."""

    def __init__(self, hashes_: np.ndarray) -> None:
        self.gsi: list[defaultdict[int, list[tuple[int, int]]]] = [
            defaultdict(list) for _ in range(4)
        ]
        for i, phash in enumerate(hashes_[:, 0].tolist()):
            for g, value in enumerate(_chunks16(phash)):
                self.gsi[g][value].append((i + 1, phash))
        self.c = Counters()

    def lookup(self, query: int) -> set[int]:
        rows: set[tuple[int, int]] = set()
        for g, value in enumerate(_chunks16(query)):
            hits = self.gsi[g].get(value, [])
            rows.update(hits)
            pages = max(1, math.ceil(len(hits) * BASELINE_ITEM_BYTES / 1_000_000))
            self.c.requests += pages
            self.c.read_units += read_units(len(hits) * BASELINE_ITEM_BYTES, consistent=False)
        self.c.candidates += len(rows)
        self.c.lookups += 1
        self.c.trips = max(self.c.trips, 1)
        return {pid for pid, h in rows if hamming_distance(query, h) <= RADIUS}

    def counters(self) -> tuple[int, int, float, int, int]:
        c = self.c
        return (c.candidates, c.requests, c.read_units, c.trips, c.lookups)


class BaselineDynamo:
    """The old table: one item per photo, chunk attributes c0..c3, one GSI on each."""

    def __init__(self, client: Any, pool: ThreadPoolExecutor) -> None:
        self.client = client
        self.pool = pool
        self.table = f"baseline-{uuid.uuid4().hex[:8]}"
        self.c = Counters()
        client.create_table(
            TableName=self.table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}]
            + [{"AttributeName": f"c{g}", "AttributeType": "N"} for g in range(4)],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": f"gsi{g}",
                    "KeySchema": [{"AttributeName": f"c{g}", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["ph"]},
                }
                for g in range(4)
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
        )

    @staticmethod
    def item(photo_id: int, phash: int) -> dict[str, Any]:
        item = {"id": {"N": str(photo_id)}, "ph": {"N": str(phash)}}
        for g, value in enumerate(_chunks16(phash)):
            item[f"c{g}"] = {"N": str(value)}
        return item

    def load(self, hashes_: np.ndarray) -> None:
        items = [self.item(i + 1, p) for i, p in enumerate(hashes_[:, 0].tolist())]
        batches = [items[i : i + 25] for i in range(0, len(items), 25)]

        def write(batch: list[dict[str, Any]]) -> None:
            pending = [{"PutRequest": {"Item": item}} for item in batch]
            while pending:
                response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = response["UnprocessedItems"].get(self.table, [])

        list(self.pool.map(write, batches))

    def _query(self, g: int, value: int) -> tuple[list[tuple[int, int]], int, float]:
        rows: list[tuple[int, int]] = []
        requests = 0
        units = 0.0
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": f"gsi{g}",
                "KeyConditionExpression": "#c = :v",
                "ExpressionAttributeNames": {"#c": f"c{g}"},
                "ExpressionAttributeValues": {":v": {"N": str(value)}},
                "ReturnConsumedCapacity": "TOTAL",
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = self.client.query(**kwargs)
            requests += 1
            units += response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
            rows.extend((int(i["id"]["N"]), int(i["ph"]["N"])) for i in response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                return rows, requests, units

    def lookup(self, query: int) -> set[int]:
        results = list(self.pool.map(lambda gv: self._query(*gv), enumerate(_chunks16(query))))
        rows = {row for found, _, _ in results for row in found}
        with self.c.lock:
            self.c.requests += sum(r for _, r, _ in results)
            self.c.read_units += sum(u for _, _, u in results)
            self.c.candidates += len(rows)
            self.c.lookups += 1
            self.c.trips = max(self.c.trips, max(r for _, r, _ in results))
        return {pid for pid, h in rows if hamming_distance(query, h) <= RADIUS}

    def insert(self, photo_id: int, phash: int, _dhash: int) -> None:
        self.client.put_item(TableName=self.table, Item=self.item(photo_id, phash))

    def counters(self) -> tuple[int, int, float, int, int]:
        c = self.c
        return (c.candidates, c.requests, c.read_units, c.trips, c.lookups)


# -- calibration of the dHash confirmation -----------------------------------------------------


def calibrate(corpus: Corpus) -> None:
    """False-match rates on unrelated real photos, recall on real near-duplicates.

    Precision is for a lookup with one true duplicate in a library of n photos:
    1 / (1 + false-match rate * n). With no false match among the photos-only pairs the rate
    is below 3 / pairs at 95% confidence.
    """
    rng = np.random.default_rng(9)
    real = corpus.real
    a = rng.integers(0, len(real), 3_000_000)
    b = rng.integers(0, len(real), 3_000_000)
    unrelated = real[a, 0] != real[b, 0]
    a, b = a[unrelated], b[unrelated]
    pd = np.bitwise_count((real[a, 1] ^ real[b, 1]).view(np.uint64))
    dd = np.bitwise_count((real[a, 2] ^ real[b, 2]).view(np.uint64))
    # LFW's 100 non-face 25x25 patches, upscaled, are almost featureless: every hash collapses.
    photos_only = (real[a, 0] < len(sources())) & (real[b, 0] < len(sources()))
    near_p = np.bitwise_count((corpus.pairs[:, 0] ^ corpus.pairs[:, 2]).view(np.uint64))
    near_d = np.bitwise_count((corpus.pairs[:, 1] ^ corpus.pairs[:, 3]).view(np.uint64))
    in_radius = near_p <= RADIUS
    print(
        f"\ncalibration: {len(a):,} pairs of crops of unrelated real photos "
        f"({photos_only.sum():,} without the LFW patches), {len(near_p):,} real near-duplicate "
        f"pairs ({in_radius.sum()} within pHash {RADIUS})"
    )
    print(
        f"  unrelated within pHash<={RADIUS}: {np.mean(pd <= RADIUS):.2e} "
        f"(photos only {np.mean(pd[photos_only] <= RADIUS):.2e})   "
        f"within dHash<={RADIUS}: {np.mean(dd <= RADIUS):.2e}"
    )
    for t in (6, 8, 10, 12, 14, 16):
        match = (pd <= RADIUS) & (dd <= t)
        rates = [np.mean(match), np.mean(match[photos_only])]
        kept = np.mean(near_d[in_radius] <= t)
        print(
            f"  pHash<={RADIUS} & dHash<={t:2}: near-dups kept {kept:7.2%}  false-match rate "
            + " / ".join(f"{r:.1e}" for r in rates)
            + "  false matches per lookup at 1M "
            + " / ".join(f"{r * 1e6:.2f}" for r in rates)
            + "  precision at 10k "
            + " / ".join(f"{1 / (1 + r * 1e4):.4f}" for r in rates)
            + "  (all / photos only)"
        )
    for edit in NEAR_DUPLICATE_EDITS:
        mask = np.array([e == edit for e in corpus.edits])
        print(
            f"  {edit:<10} pHash distance p50={np.median(near_p[mask]):4.1f} "
            f"max={near_p[mask].max():2}  within {RADIUS}: {np.mean(near_p[mask] <= RADIUS):.1%}"
        )


# -- main --------------------------------------------------------------------------------------


def _configure_django(sqlite_path: Path, pg_name: str | None) -> list[str]:
    import django
    from django.conf import settings

    databases: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            # As curation/settings/base.py configures the embedded default.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
    if pg_name:
        databases["pg"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": pg_name,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": 5432,
        }
    settings.configure(
        DATABASES=databases, INSTALLED_APPS=["pipeline.apps.PipelineConfig"], USE_TZ=True
    )
    django.setup()
    from django.core.management import call_command

    for alias in databases:
        call_command("migrate", "pipeline", database=alias, verbosity=0)
    return list(databases)


def _create_pg_database() -> str | None:
    try:
        import psycopg

        name = "parjanya_bench_dedup"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        return name
    except Exception as error:
        print(f"PostgreSQL not available ({error}); SQL figures are SQLite only")
        return None


def _drop_pg_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="dynalite and SQL index sizes")
    parser.add_argument("--big", type=int, default=1_000_000, help="in-memory index size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    total_started = time.perf_counter()
    # dynalite ignores credentials; botocore wants some.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "dynalite")
    corpus = load_corpus()
    queries = corpus.pairs[:, 2].copy()
    print(
        f"queries: {len(queries)} edited copies of {PAIR_BASES} real crops; "
        f"radius {RADIUS}; layout {MultiIndex().name} vs the old 4x16 exact-chunk GSIs"
    )
    results: dict[str, Result] = {}

    tmp = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    pg_name = _create_pg_database()
    aliases = _configure_django(tmp / "bench.sqlite3", pg_name)
    from pipeline.dedup.sql_store import SqlStore

    dynalite, endpoint = start_dynalite(tmp / "dynalite")
    pool = ThreadPoolExecutor(max_workers=8)
    try:
        client = make_client(endpoint)
        for size in sizes:
            hashes_ = population(corpus, size)
            expected = truth(hashes_[:, 0], queries, RADIUS)
            print(
                f"\n== {size:,} hashes (chunk skew max/uniform per chunk: "
                f"{skew(hashes_[:, 0], MultiIndex().widths)}) =="
            )
            table = f"dedup-bench-{uuid.uuid4().hex[:8]}"
            create_table(client, table)
            store = DynamoDbStore(client, table)
            r = bench_store(
                f"dynalite multi-index {size // 1000}k",
                store,
                hashes_,
                queries,
                expected,
                LATENCY_QUERIES,
            )
            results[f"dyn{size}"] = r
            print(r.line(), f"(seeded in {r.extra['load_s']:.0f}s)")
            base = BaselineDynamo(client, pool)
            started = time.perf_counter()
            base.load(hashes_)
            seeded = time.perf_counter() - started
            r = measure(
                f"dynalite baseline 4x16 GSI {size // 1000}k",
                base.lookup,
                base.counters,
                queries,
                expected,
                base.insert,
                size + 1,
                LATENCY_QUERIES,
            )
            results[f"base{size}"] = r
            print(r.line(), f"(seeded in {seeded:.0f}s)")
            client.delete_table(TableName=table)
            client.delete_table(TableName=base.table)
            for alias in aliases:
                engine = "SQLite" if alias == "default" else "PostgreSQL"
                sql = SqlStore(using=alias)
                r = bench_store(
                    f"{engine} multi-index {size // 1000}k",
                    sql,
                    hashes_,
                    queries,
                    expected,
                    LATENCY_QUERIES,
                )
                r.read_units = float("nan")
                results[f"{alias}{size}"] = r
                print(r.line(), f"(loaded in {r.extra['load_s']:.0f}s)")
    finally:
        pool.shutdown()
        stop(dynalite)
        if pg_name:
            _drop_pg_database(pg_name)

    hashes_ = population(corpus, args.big)
    expected = truth(hashes_[:, 0], queries, RADIUS)
    print(
        f"\n== {args.big:,} hashes in memory, DynamoDB requests and strongly consistent read "
        f"units counted (skew: {skew(hashes_[:, 0], MultiIndex().widths)}) =="
    )
    for widths in [MultiIndex().widths, (22, 21, 21)]:
        mem = MemoryStore(MultiIndex(widths))
        r = bench_store(
            f"memory multi-index {MultiIndex(widths).name}",
            mem,
            hashes_,
            queries,
            expected,
            len(queries),
        )
        results[f"mem{widths}"] = r
        print(r.line())
        del mem
    base_mem = BaselineMemory(hashes_)
    r = measure(
        "memory baseline 4x16 GSI",
        base_mem.lookup,
        base_mem.counters,
        queries,
        expected,
        None,
        0,
        len(queries),
    )
    results["membase"] = r
    print(r.line())
    calibrate(corpus)

    ours = [v for k, v in results.items() if not k.startswith(("base", "membase"))]
    recall = min(r.recall for r in ours)
    baseline_recall = min(
        results["membase"].recall, *(v.recall for k, v in results.items() if k.startswith("base"))
    )
    trips = max(r.round_trips for k, r in results.items() if k.startswith(("dyn", "mem(")))
    p50 = results[f"dyn{max(sizes)}"].p50_ms
    print(
        "\nindex_photo on DynamoDB = lookup round trips + 7 (record check, lease, re-check, "
        "decisions, bucket writes in parallel, record, release)"
    )
    print(f"total {time.perf_counter() - total_started:.0f}s")
    print(
        f"dedup: recall={recall:.4f} baseline_recall={baseline_recall:.4f} round_trips={trips} "
        f"p50_ms_100k={p50:.1f} rru_1m={results[f'mem{MultiIndex().widths}'].read_units:.1f} "
        f"baseline_rru_1m={results['membase'].read_units:.1f}"
    )


if __name__ == "__main__":
    main()
