"""Faults, with real worker processes (manage.py run_gpu_worker) on the real PostgreSQL test
database, scoring real photos with the tiny model."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from gallery.models import Photo, PhotoEvent
from tests.support.paths import REPO_ROOT as REPO

from .conftest import jpeg_bytes, make_awaiting_photo, real_photos

pytestmark = pytest.mark.django_db(transaction=True)

SCORED_LINE = re.compile(r"photo (\d+) scored")
STARTED_LINE = re.compile(r"worker \S+: transformers")
CLAIMED_LINE = re.compile(r"claimed (\d+) photos")
RELEASED_LINE = re.compile(r"released (\d+) unstarted photos")


class WorkerProcess:
    """`manage.py run_gpu_worker` in a child process, its log collected line by line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_gpu_worker", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(pattern.search(line) for line in self.lines):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"never logged {pattern.pattern!r}:\n{self.log}")
                self._changed.wait(0.1)

    def finish(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"worker did not exit:\n{self.log}") from None

    @property
    def owner_prefix(self) -> str:
        """The start of this process's lease owner, `<instance>:<pid>:`."""
        return f"{socket.gethostname()}:{self.proc.pid}:"

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def scored_ids(self) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := SCORED_LINE.search(line))]


@pytest.fixture
def worker_env(media_root: Path) -> dict[str, str]:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "DATABASE_URL": f"postgres://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
        # Two workers share two cores in these tests.
        "OMP_NUM_THREADS": "1",
    }


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], tiny_model_dir: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*, lease_seconds: float, batch_size: int = 2) -> WorkerProcess:
        worker = WorkerProcess(
            worker_env,
            "--model-path", str(tiny_model_dir),
            "--backend", "transformers",
            "--batch-size", str(batch_size),
            "--max-pixels", str(64 * 32 * 32),
            "--poll-seconds", "0.2",
            "--lease-seconds", str(lease_seconds),
        )  # fmt: skip
        started.append(worker)
        return worker

    yield start
    # Before the test database is flushed, whatever happened in the test.
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


def queue_photos(owner: User, count: int) -> list[int]:
    """Queue `count` photos in one transaction: polling workers see the whole queue at once, so
    their first claims are full ones."""
    previews = [jpeg_bytes(image, long_edge=320) for _, image in real_photos()]
    with transaction.atomic():
        return [
            make_awaiting_photo(owner, preview=previews[i % len(previews)], age_s=count - i).pk
            for i in range(count)
        ]


def assert_scored_exactly_once(photo_ids: list[int]) -> None:
    for photo in Photo.objects.filter(pk__in=photo_ids):
        assert photo.status in ("scored", "rejected"), (photo.pk, photo.status)
        assert photo.vlm_score is not None
        assert photo.scoring_lease_owner == ""
    events = PhotoEvent.objects.filter(photo_id__in=photo_ids, from_status="awaiting_score")
    assert sorted(events.values_list("photo_id", flat=True)) == sorted(photo_ids)


def start_idle_pair(start: Callable[..., WorkerProcess], **options: Any) -> list[WorkerProcess]:
    """Two workers, both loaded and polling an empty queue: whatever is queued next, they work
    on at the same time. (Starting them together also halves the model-loading wait.)"""
    workers = [start(**options) for _ in range(2)]
    for worker in workers:
        worker.wait_for(STARTED_LINE)
    return workers


def wait_until_scored(photo_ids: list[int], workers: list[WorkerProcess]) -> None:
    deadline = time.monotonic() + 120
    while Photo.objects.filter(pk__in=photo_ids, status="awaiting_score").exists():
        assert time.monotonic() < deadline, [worker.log for worker in workers]
        time.sleep(0.2)


def test_sigkill_mid_batch_leases_expire_and_photos_are_scored_exactly_once(
    start_worker: Callable[..., WorkerProcess], photographer: User
) -> None:
    doomed, survivor = start_idle_pair(start_worker, lease_seconds=3)
    photo_ids = queue_photos(photographer, 24)
    doomed.wait_for(SCORED_LINE)
    doomed.proc.send_signal(signal.SIGKILL)
    doomed.finish()
    orphaned = set(
        Photo.objects.filter(pk__in=photo_ids, status="awaiting_score")
        .filter(scoring_lease_owner__startswith=doomed.owner_prefix)
        .values_list("pk", flat=True)
    )
    assert orphaned, "the worker was not killed mid-batch: it held no lease"

    wait_until_scored(photo_ids, [doomed, survivor])
    survivor.proc.send_signal(signal.SIGTERM)
    assert survivor.finish() == 0, survivor.log

    # The survivor took the dead worker's photos once their leases ran out, and no photo was
    # run through the model by both.
    assert orphaned <= set(survivor.scored_ids)
    assert not set(doomed.scored_ids) & set(survivor.scored_ids)
    assert len(survivor.scored_ids) == len(set(survivor.scored_ids))
    assert_scored_exactly_once(photo_ids)


def test_two_workers_share_the_queue_and_sigterm_drains_cleanly(
    start_worker: Callable[..., WorkerProcess], photographer: User
) -> None:
    stopped, other = start_idle_pair(start_worker, lease_seconds=600, batch_size=4)
    photo_ids = queue_photos(photographer, 32)
    stopped.wait_for(SCORED_LINE)
    stopped.proc.send_signal(signal.SIGTERM)
    assert stopped.finish() == 0, stopped.log

    # It stopped early rather than draining the queue, and every photo it claimed is accounted
    # for: scored (the batch in hand was finished) or released at once, not left to sit out a
    # 10-minute lease.
    claimed = sum(int(n) for n in CLAIMED_LINE.findall(stopped.log))
    released = sum(int(n) for n in RELEASED_LINE.findall(stopped.log))
    assert 0 < len(stopped.scored_ids) < len(photo_ids), stopped.log
    assert claimed == len(stopped.scored_ids) + released, stopped.log
    assert not Photo.objects.filter(scoring_lease_owner__startswith=stopped.owner_prefix).exists()
    assert "stopped:" in stopped.log

    wait_until_scored(photo_ids, [stopped, other])
    other.proc.send_signal(signal.SIGTERM)
    assert other.finish() == 0, other.log

    first, second = stopped.scored_ids, other.scored_ids
    assert second, "the other worker scored nothing"
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(photo_ids)
    assert_scored_exactly_once(photo_ids)


@pytest.mark.parametrize("remove", [None, "tokenizer.json"])
def test_missing_or_incomplete_model_directory_stops_the_worker_at_startup(
    worker_env: dict[str, str], tiny_model_dir: Path, tmp_path: Path, remove: str | None
) -> None:
    model_dir = tmp_path / "Qwen3-VL-8B-Instruct"
    if remove:
        shutil.copytree(tiny_model_dir, model_dir)
        (model_dir / remove).unlink()
    worker = WorkerProcess(worker_env, "--model-path", str(model_dir))
    assert worker.finish() == 1
    expected = f"missing: {remove}" if remove else "does not exist"
    assert str(model_dir) in worker.log and expected in worker.log, worker.log
