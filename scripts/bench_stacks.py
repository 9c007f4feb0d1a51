"""`make bench-stacks`: burst stacks on derived bursts of the real photos, assigned one frame at a
time by the ingest's own service over a 100k-photo library in a scratch PostgreSQL database.

Ground truth (tests/support/bursts.py): bursts of small shifts, crops and exposure steps a
fraction of a second apart, unrelated frames shot within the gap, a second body of the same model
at the same scenes, retakes after a pause. The library around them: 100k photos of the same
photographer over 200 other days, on the same two bodies. Frames arrive the way parallel workers
finish them: in capture order, shuffled within windows of 8. Precision and recall count pairs
of frames that share a stack against pairs that share a burst. The last line is the summary
`stacks: precision=… recall=… assign_p50_ms_100k=…`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from math import comb
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.test")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from gallery import shoot_services  # noqa: E402
from gallery.models import Photo, Shoot  # noqa: E402
from pipeline.config import IngestConfig  # noqa: E402
from pipeline.core.stacking import StackRules  # noqa: E402
from tests.support import bursts  # noqa: E402

CACHE = Path(__file__).resolve().parents[1] / "var" / "bench-stacks"
Status = Photo.Status


def truth(count: int) -> list[bursts.TruthFrame]:
    """The ground-truth timeline, hashed once and cached (hashing ~5k frames takes a minute)."""
    path = CACHE / f"truth-v1-{count}.json"
    if path.exists():
        rows = json.loads(path.read_text())
        return [
            bursts.TruthFrame(
                **{
                    **r,
                    "camera": tuple(r["camera"]),
                    "captured_at": datetime.fromisoformat(r["captured_at"]),
                }
            )
            for r in rows
        ]
    frames = bursts.timeline(bursts=count)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps([{**f.__dict__, "captured_at": f.captured_at.isoformat()} for f in frames])
    )
    return frames


def seed_library(owner_id: int, photos: int, rng: random.Random) -> None:
    """`photos` stacked-for-nothing photos on 200 days before the ground truth's day."""
    days = 200
    shoots = {
        day: Shoot.objects.create(
            owner_id=owner_id,
            name=f"day {day}",
            capture_day=(bursts.START - timedelta(days=day + 1)).date(),
            is_day_default=True,
        )
        for day in range(days)
    }
    batch: list[Photo] = []
    for index in range(photos):
        day = index % days
        camera = bursts.CAMERA_A if index % 3 else bursts.CAMERA_B
        batch.append(
            Photo(
                owner_id=owner_id,
                original=f"originals/bench/{index}.jpg",
                original_filename=f"IMG_{index:06d}.JPG",
                status=Status.UNSCORED,
                validator_verdict="pass",
                camera_make=camera[0],
                camera_model=camera[1],
                camera_serial=camera[2],
                captured_at=bursts.START
                - timedelta(days=day + 1)
                + timedelta(seconds=(index // days) * 1.7),
                phash=rng.getrandbits(64) - (1 << 63),
                dhash=rng.getrandbits(64) - (1 << 63),
                width=6000,
                height=4000,
                shoot=shoots[day],
            )
        )
        if len(batch) == 5000:
            Photo.objects.bulk_create(batch)
            batch = []
    Photo.objects.bulk_create(batch)


def arrival(frames: Sequence[Photo], rng: random.Random, window: int) -> list[Photo]:
    ordered = list(frames)
    out: list[Photo] = []
    for start in range(0, len(ordered), window):
        chunk = ordered[start : start + window]
        rng.shuffle(chunk)
        out.extend(chunk)
    return out


def pair_scores(predicted: list[object], actual: list[object]) -> tuple[float, float]:
    """Pairwise precision and recall of `predicted` labels (None: alone) against `actual`."""

    def pairs(counts: Counter[object]) -> int:
        return sum(comb(n, 2) for n in counts.values())

    both = pairs(
        Counter(
            (p, a)
            for p, a in zip(predicted, actual, strict=True)
            if p is not None and a is not None
        )
    )
    said = pairs(Counter(p for p in predicted if p is not None))
    true = pairs(Counter(a for a in actual if a is not None))
    return (both / said if said else 1.0), (both / true if true else 1.0)


def run(
    frames: list[bursts.TruthFrame],
    owner_id: int,
    rules: StackRules,
    window: int,
    rng: random.Random,
) -> tuple[float, float, list[float]]:
    """Insert the ground-truth frames as uploads, then finish each one's ingest in arrival
    order: file it in its shoot and stack it, timing the stacking."""
    Photo.objects.filter(original__startswith="originals/truth/").delete()
    rows = Photo.objects.bulk_create(
        Photo(
            owner_id=owner_id,
            original=f"originals/truth/{index}.jpg",
            original_filename=f"T_{index:05d}.JPG",
            status=Status.UPLOADED,
            validator_verdict="pass",
            camera_make=f.camera[0],
            camera_model=f.camera[1],
            camera_serial=f.camera[2],
            captured_at=f.captured_at,
            phash=f.phash,
            dhash=f.dhash,
            width=6000,
            height=4000,
        )
        for index, f in enumerate(frames)
    )
    timings: list[float] = []
    queries: list[int] = []
    for photo in arrival(rows, rng, window):
        shoot_services.photo_file_in_shoot(photo)
        Photo.objects.filter(pk=photo.pk).update(status=Status.UNSCORED)
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            shoot_services.photo_stack(photo_id=photo.pk, rules=rules)
            timings.append((time.perf_counter() - started) * 1e3)
        queries.append(len(captured))
    print(f"  queries per assignment: median {statistics.median(queries):.0f}, max {max(queries)}")
    stack_of = dict(Photo.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "stack_id"))
    predicted: list[object] = [stack_of[r.pk] for r in rows]
    actual: list[object] = [f.burst for f in frames]
    precision, recall = pair_scores(predicted, actual)
    return precision, recall, timings


def _round_trip_ms() -> float:
    timings = []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1e3)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--bursts", type=int, default=500)
    parser.add_argument("--keepdb", action="store_true", help="reuse (and keep) the library")
    args = parser.parse_args()
    rules = IngestConfig.from_settings().stack_rules

    started = time.perf_counter()
    frames = truth(args.bursts)
    in_bursts = sum(f.burst is not None for f in frames)
    print(
        f"ground truth: {len(frames)} frames, {len({f.burst for f in frames} - {None})} "
        f"bursts ({in_bursts} frames in bursts), {time.perf_counter() - started:.0f} s"
    )

    original_name = connection.settings_dict["NAME"]
    # Beside the database DATABASE_URL names, so benches of several checkouts never share one.
    connection.settings_dict["TEST"]["NAME"] = f"{original_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        users = get_user_model().objects
        owner = users.filter(username="bench-stacks").first()
        if owner is None:
            owner = users.create_user("bench-stacks")
            started = time.perf_counter()
            seed_library(owner.pk, args.photos, random.Random(16))
            print(f"seeded {Photo.objects.count()} photos in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE gallery_photo")
        print(
            f"round trip (SELECT 1) p50_ms={_round_trip_ms():.2f}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print(f"rules: gap {rules.gap_s} s, pHash <= {rules.max_phash}, dHash <= {rules.max_dhash}")
        for label, window in (("fully shuffled", len(frames)), ("shuffled within 8", 8)):
            precision, recall, timings = run(frames, owner.pk, rules, window, random.Random(7))
            cuts = statistics.quantiles(timings, n=100)
            print(
                f"{label}: precision={precision:.4f} recall={recall:.4f} "
                f"assign_p50_ms={cuts[49]:.2f} p95_ms={cuts[94]:.2f} "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
        library = Photo.objects.count()
        print(
            f"stacks: precision={precision:.4f} recall={recall:.4f} "
            f"assign_p50_ms_100k={cuts[49]:.2f}  (library {library} photos)"
        )
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(original_name, verbosity=0)


if __name__ == "__main__":
    main()
