"""Benchmark `manage.py backfill` over a seeded library (`make bench-backfill`).

It seeds its own PostgreSQL database (`parjanya_bench_backfill`, created if missing, emptied on
every run) and sends to a queue of its own on the test broker (Redis db 15), deleted afterwards:
nobody's data is touched. Each backfill runs as a real `manage.py` process, whose own timing
(Django start-up excluded) gives the rows/s and whose peak RSS comes from wait4().

1. dry run over the whole library (a realistic mix of statuses);
2. enqueue after an outage: every photo stuck in `uploaded`, its ingest re-sent; over the first
   10% and over all of it, so the two peak RSS figures show whether memory stays flat;
3. enqueue after a threshold change over a sample of scored photos: each one's status is reset
   (one transition and audit row per photo) before its message goes out.

The last line: `backfill: dryrun_rows_s=… enqueue_rows_s=… peak_rss_mb=…` (enqueue over all
photos; peak RSS is the largest of the runs).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/parjanya_bench_backfill"

# (status, reject reason, curator decision, share in percent): roughly a library a year in.
MIX = [
    ("scored", "", "", 55),
    ("rejected", "low_score", "", 10),
    ("rejected", "blurry", "", 10),
    ("rejected", "duplicate", "", 5),
    ("rejected", "overexposed", "", 3),
    ("rejected", "underexposed", "", 2),
    ("rejected", "unreadable", "", 1),
    ("awaiting_score", "", "", 5),
    ("uploaded", "", "", 2),
    ("failed", "error", "", 1),
    ("approved", "", "approved", 5),
    ("rejected", "curator", "rejected", 1),
]


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _seed(count: int, *, everything: tuple[str, str, str] | None = None) -> None:
    """Empty the bench database and bulk-insert `count` photos (the mix, or all alike)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from gallery.models import Photo, PhotoEvent

    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {PhotoEvent._meta.db_table}, {Photo._meta.db_table} RESTART IDENTITY CASCADE"
        )
    owner, _ = get_user_model().objects.get_or_create(username="bench-backfill")
    kinds = [everything] if everything else [kind[:3] for kind in MIX]
    weights = [1] if everything else [kind[3] for kind in MIX]
    cycle = [kind for kind, weight in zip(kinds, weights, strict=True) for _ in range(weight)]
    batch: list[Photo] = []
    for i in range(count):
        status, reason, decision = cycle[i % len(cycle)]
        batch.append(
            Photo(
                owner=owner,
                original=f"originals/{uuid.uuid4().hex}.jpg",
                original_filename=f"IMG_{i:06d}.JPG",
                format="jpeg",
                size_bytes=8_000_000,
                status=status,
                reject_reason=reason,
                curator_decision=decision,
            )
        )
        if len(batch) == 5_000:
            Photo.objects.bulk_create(batch)
            batch = []
    Photo.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Photo._meta.db_table}")


def _backfill(env: dict[str, str], *args: str) -> tuple[str, float]:
    """Run `manage.py backfill`; its stdout and its peak RSS in MiB."""
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "backfill", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        raise SystemExit(f"backfill {' '.join(args)} failed ({process.returncode}):\n{text}")
    return text, usage.ru_maxrss / 1024


def _rate(text: str) -> float:
    match = re.search(r"\((\d+) rows/s\)", text)
    if match is None:
        raise SystemExit(f"no rows/s in the backfill output:\n{text}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--reset-sample", type=int, default=5_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    options = parser.parse_args()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "DATABASE_URL": options.database_url,
    }
    os.environ.update(env)
    sys.path.insert(0, str(REPO_ROOT))
    _ensure_database(options.database_url)

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    queue = f"bench-backfill-{os.getpid()}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    photos = options.photos
    try:
        with tempfile.TemporaryDirectory() as checkpoints:
            common = ["--stage", "validate", "--queue", queue, "--checkpoint-dir", checkpoints]

            started = time.perf_counter()
            _seed(photos)
            seeded_s = time.perf_counter() - started
            print(f"seeded {photos} photos (mixed statuses) in {seeded_s:.1f} s")
            text, dry_rss = _backfill(env, *common, "--dry-run")
            dry_rate = _rate(text)
            print(text.strip())
            print(f"dry run: {dry_rate:.0f} rows/s, peak RSS {dry_rss:.0f} MiB")

            _seed(photos, everything=("uploaded", "", ""))
            tenth = max(1, photos // 10)
            text, small_rss = _backfill(env, *common, "--limit", str(tenth))
            print(f"enqueue, {tenth} stuck uploads: {_rate(text):.0f} rows/s, "
                  f"peak RSS {small_rss:.0f} MiB")  # fmt: skip
            broker.delete(queue)
            text, enqueue_rss = _backfill(env, *common)
            enqueue_rate = _rate(text)
            sent = broker.llen(queue)
            broker.delete(queue)
            print(f"enqueue, {photos} stuck uploads: {enqueue_rate:.0f} rows/s, "
                  f"peak RSS {enqueue_rss:.0f} MiB, {sent} messages on the broker")  # fmt: skip
            if sent != photos:
                raise SystemExit(f"expected {photos} messages on the broker, found {sent}")

            sample = min(options.reset_sample, photos)
            _seed(sample, everything=("scored", "", ""))
            text, reset_rss = _backfill(env, *common)
            broker.delete(queue)
            print(f"enqueue with a status reset per photo, {sample} scored photos: "
                  f"{_rate(text):.0f} rows/s, peak RSS {reset_rss:.0f} MiB")  # fmt: skip
    finally:
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    peak = max(dry_rss, small_rss, enqueue_rss, reset_rss)
    print(
        f"backfill: dryrun_rows_s={dry_rate:.0f} enqueue_rows_s={enqueue_rate:.0f} "
        f"peak_rss_mb={peak:.0f}"
    )


if __name__ == "__main__":
    main()
