"""Start a real Celery worker process against the test database and the Redis broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
from django.conf import settings
from django.db import connection

from tests.support.paths import REPO_ROOT
from tests.support.processes import running


def database_url() -> str:
    """The URL of the database the test process is using right now (pytest-django's test_…)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def purge_broker(broker_url: str) -> None:
    redis.Redis.from_url(broker_url).flushdb()


@contextmanager
def celery_worker(
    *, extra_env: dict[str, str] | None = None, concurrency: int = 1, pool: str = "prefork"
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **(extra_env or {}),
    }
    log = Path(settings.MEDIA_ROOT).parent / f"celery-worker-{uuid.uuid4().hex[:6]}.log"
    with running(
        [
            sys.executable, "-m", "celery", "-A", "curation", "worker",
            "--loglevel=INFO", f"--pool={pool}", f"--concurrency={concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        what="the Celery worker", stop_timeout_s=30, log=log, cwd=REPO_ROOT, env=env,
    ) as process:  # fmt: skip
        yield process


def wait_until(predicate: Callable[[], bool], *, timeout_s: float = 90, what: str) -> None:
    """Poll until `predicate` holds. The deadline only bounds a failing test; it asserts nothing
    about speed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def a_backend_waits_for_a_lock(conn: psycopg.Connection) -> bool:
    """Whether some other PostgreSQL backend is blocked on a lock (a worker held mid-task)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s",
        (conn.info.backend_pid,),
    ).fetchone()
    return bool(row and row[0])


def kill_a_worker_mid_ingest(photo_id: int, *, extra_env: dict[str, str]) -> None:
    """Start a worker, hold the photo's row so its ingest blocks half way (after validating and
    writing previews, before it can record anything on the row), then SIGKILL it."""
    with (
        psycopg.connect(database_url(), autocommit=False) as holder,
        psycopg.connect(database_url(), autocommit=True) as observer,
    ):
        holder.execute("SELECT id FROM gallery_photo WHERE id = %s FOR UPDATE", (photo_id,))
        with celery_worker(extra_env=extra_env, pool="solo") as doomed:
            wait_until(lambda: a_backend_waits_for_a_lock(observer), what="the ingest to block")
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        holder.rollback()
