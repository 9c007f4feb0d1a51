"""`make bench-web`: seed 100k photos in a scratch PostgreSQL database, then time the
photographer's gallery page and the curator changelist through the full Django stack
(middleware, templates, queries). Prints p50/p95 and queries per page; the last line is the
summary `web: gallery_p95_ms=… admin_p95_ms=… queries_gallery=… queries_admin=…`."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.test")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from gallery.models import Photo  # noqa: E402

Status = Photo.Status
Reason = Photo.RejectReason
CAMERAS = (
    [("Canon", f"EOS R{i}") for i in range(1, 8)]
    + [("Nikon", f"Z{i}") for i in range(5, 10)]
    + [("Sony", f"ILCE-7M{i}") for i in range(2, 6)]
)
STATUS_MIX = [
    (Status.SCORED, 0.45),
    (Status.REJECTED, 0.3),
    (Status.AWAITING_SCORE, 0.1),
    (Status.APPROVED, 0.1),
    (Status.UPLOADED, 0.03),
    (Status.FAILED, 0.02),
]
PRE_GPU = [
    Reason.BLURRY,
    Reason.DUPLICATE,
    Reason.OVEREXPOSED,
    Reason.UNDEREXPOSED,
    Reason.UNREADABLE,
]


def seed(total: int, rng: random.Random) -> tuple[User, User]:
    users = get_user_model().objects
    curator = users.create_superuser("bench-curator", password="x")
    photographers = [users.create_user(f"bench-{i}", password="x") for i in range(10)]
    # The photographer we time owns half the library: the worst case for their gallery.
    owners = [photographers[0]] * 9 + photographers[1:]
    statuses, weights = zip(*STATUS_MIX, strict=True)
    batch: list[Photo] = []
    for i in range(total):
        status = rng.choices(statuses, weights)[0]
        reason = ""
        scored = status in (Status.SCORED, Status.APPROVED) or (
            status == Status.REJECTED and rng.random() < 0.3
        )
        if status == Status.REJECTED:
            reason = Reason.LOW_SCORE if scored else rng.choice(PRE_GPU)
        elif status == Status.FAILED:
            reason = Reason.ERROR
        make, model = rng.choice(CAMERAS)
        token = uuid.uuid4()
        batch.append(
            Photo(
                uid=token,
                owner=rng.choice(owners),
                original=f"originals/{token.hex[:2]}/{token.hex}.jpeg",
                original_filename=f"IMG_{i:06d}.JPG",
                format="jpeg",
                size_bytes=rng.randint(2_000_000, 30_000_000),
                width=6000,
                height=4000,
                status=status,
                reject_reason=reason,
                reject_detail=f"{reason} (seeded)" if reason else "",
                camera_make=make,
                camera_model=model,
                captured_at=timezone.now() - timedelta(minutes=rng.randint(0, 3_000_000)),
                sharpness=rng.uniform(5, 400),
                highlight_clip=rng.uniform(0, 0.05),
                shadow_clip=rng.uniform(0, 0.05),
                vlm_score=rng.random() if scored else None,
                vlm_runtime_ms=rng.uniform(400, 1600) if scored else None,
                preview=f"previews/{token.hex}.jpg" if status != Status.UPLOADED else "",
                thumbnail=f"thumbnails/{token.hex}.jpg" if status != Status.UPLOADED else "",
            )
        )
        if len(batch) == 5000:
            Photo.objects.bulk_create(batch)
            batch.clear()
    Photo.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # auto_now_add gave every row the same instant; spread uploads over time instead.
        cursor.execute(
            "UPDATE gallery_photo SET created_at = now() - make_interval(secs => id * 37)"
        )
        # What autovacuum does to a settled table: statistics plus a visibility map, which lets
        # COUNT(*) use index-only scans.
        cursor.execute("VACUUM ANALYZE gallery_photo")
    return photographers[0], curator


def measure(client: Client, urls: Sequence[str], rounds: int) -> tuple[list[float], int]:
    """Milliseconds per request over `rounds` passes of `urls`, and queries for the first."""
    for url in urls:
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        client.get(urls[0])
    # Read now: the next request resets the connection's query log the capture points into.
    queries = len(captured)
    per_url: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(rounds):
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            per_url[url].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, url
    for url, samples in per_url.items():
        print(f"  {url}: median {statistics.median(samples):.1f} ms")
    return [t for samples in per_url.values() for t in samples], queries


def summary(name: str, timings: list[float], queries: int) -> tuple[float, float]:
    cuts = statistics.quantiles(timings, n=100)
    p50, p95 = cuts[49], cuts[94]
    print(f"{name}: n={len(timings)} p50_ms={p50:.1f} p95_ms={p95:.1f} queries={queries}")
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--keepdb", action="store_true", help="reuse (and keep) the seeded database"
    )
    args = parser.parse_args()

    connection.settings_dict["TEST"]["NAME"] = "bench_parjanya_web"
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        users = get_user_model().objects
        if args.keepdb and users.filter(username="bench-curator").exists():
            photographer = users.get(username="bench-0")
            curator = users.get(username="bench-curator")
        else:
            started = time.perf_counter()
            photographer, curator = seed(args.photos, random.Random(7))
            elapsed = time.perf_counter() - started
            print(f"seeded {Photo.objects.count()} photos in {elapsed:.1f} s")

        gallery = Client(HTTP_HOST="localhost")
        gallery.force_login(photographer)
        _, gallery_p95, gallery_queries = run(
            "gallery",
            gallery,
            ["/", "/?page=40", "/?status=scored", "/?min_score=0.8&page=3", "/?status=rejected"],
            args.rounds,
        )
        admin = Client(HTTP_HOST="localhost")
        admin.force_login(curator)
        base = "/admin/gallery/photo/"
        _, admin_p95, admin_queries = run(
            "admin",
            admin,
            [
                base,
                f"{base}?p=200",
                f"{base}?status__exact=rejected&reject_reason__exact=blurry",
                f"{base}?score=great",
                f"{base}?camera=Z7&o=-9",
            ],
            args.rounds,
        )
        # Free-text search scans every file name (no trigram index): reported, not targeted.
        run("admin search", admin, [f"{base}?q=IMG_0424"], max(args.rounds // 3, 3))
        print(
            f"web: gallery_p95_ms={gallery_p95:.1f} admin_p95_ms={admin_p95:.1f} "
            f"queries_gallery={gallery_queries} queries_admin={admin_queries}"
        )
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(original_name, verbosity=0)


def run(name: str, client: Client, urls: list[str], rounds: int) -> tuple[float, float, int]:
    timings, queries = measure(client, urls, rounds)
    p50, p95 = summary(name, timings, queries)
    return p50, p95, queries


if __name__ == "__main__":
    main()
