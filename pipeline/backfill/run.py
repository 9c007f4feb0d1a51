"""The run loop of `manage.py backfill`: batches, the per-photo work, messages and the rate."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from gallery import services as gallery_services
from gallery import task_names
from gallery.models import Photo
from pipeline import services as pipeline_services
from pipeline.backfill.checkpoint import Checkpoint, CheckpointStore, left, run_key
from pipeline.backfill.plan import (
    BACKFILL_CAUSE,
    REINGEST_STAGES,
    SCORING_OFF,
    SKIP_CURATOR,
    SKIP_DELETED,
    SKIP_NOT_INDEXED,
    BackfillError,
    Mode,
    Outcome,
    Stage,
    Status,
    skip_reason,
)
from pipeline.config import IngestConfig
from pipeline.core.errors import UnreadableImage
from pipeline.selectors import (
    BackfillFilter,
    BackfillRow,
    photo_backfill_batch,
    photo_backfill_count,
    photo_backfill_lock,
)

logger = logging.getLogger(__name__)


class ProgressSink(Protocol):
    def start(self, *, total: int, done: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def finish(self) -> None: ...


class RateLimiter:
    """At most `rate` calls per second, evenly spaced (no bursts after a pause)."""

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


@dataclass(frozen=True)
class BackfillOptions:
    stage: Stage
    filters: BackfillFilter
    checkpoint_dir: Path
    # Built once by the command. `config.scoring_enabled`: whether a scorer will claim what this
    # run queues, and where inline re-ingests send the photos that pass.
    config: IngestConfig
    limit: int | None = None
    mode: Mode = Mode.ENQUEUE
    batch_size: int = 500
    rate: float | None = None
    queue: str | None = None
    resume: bool = False


@dataclass(frozen=True)
class BackfillSummary:
    stage: Stage
    mode: Mode
    handled: int  # photos this attempt went through; the counters below cover all attempts
    processed: int
    skipped: dict[str, int]
    failed: dict[str, int]
    elapsed_s: float
    resumed: bool
    already_complete: bool
    interrupted: bool
    checkpoint: Path

    @property
    def rows_per_s(self) -> float:
        return self.handled / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Done:
    """One photo's result. `task` is a Celery task still to send for it, once its status change
    is committed (a worker must not see the photo before its reset)."""

    photo_id: int
    outcome: Outcome
    reason: str = ""
    task: str | None = None


class _Worker:
    """Does one stage's database part to one photo (all of it, inline) and says how it went."""

    def __init__(self, options: BackfillOptions) -> None:
        self.stage = options.stage
        self.inline = options.mode is Mode.INLINE
        self.config = options.config

    def __call__(self, photo_id: int) -> _Done:
        try:
            if self.stage is Stage.PREVIEWS:
                return self._previews(photo_id)
            if self.stage is Stage.SCORE:
                return self._score(photo_id)
            if self.stage is Stage.DEDUP:
                return self._dedup(photo_id)
            return self._reingest(photo_id)
        except Photo.DoesNotExist:
            return _Done(photo_id, Outcome.SKIPPED, SKIP_DELETED)

    def _reingest(self, photo_id: int) -> _Done:
        photo = gallery_services.photo_reset_for_reprocessing(
            photo_id=photo_id, to_status=Status.UPLOADED, cause=BACKFILL_CAUSE
        )
        if photo.curator_decision:  # decided since the batch was read
            return _Done(photo_id, Outcome.SKIPPED, SKIP_CURATOR)
        if not self.inline:
            return _Done(photo_id, Outcome.PROCESSED, task=task_names.INGEST_PHOTO)
        try:
            pipeline_services.photo_ingest(photo_id=photo_id, config=self.config)
        except Photo.DoesNotExist:
            raise
        except Exception as error:
            # Inline has no retry: record the failure on the photo, as the task does when it
            # gives up, so it does not sit in `uploaded` and a later backfill can re-run it.
            logger.exception("photo %s: ingest failed", photo_id)
            pipeline_services.photo_ingest_gave_up(
                photo_id=photo_id, detail=f"Re-processing this photo failed: {error}"
            )
            return _Done(photo_id, Outcome.FAILED, type(error).__name__)
        return _Done(photo_id, Outcome.PROCESSED)

    def _score(self, photo_id: int) -> _Done:
        photo = gallery_services.photo_reset_for_reprocessing(
            photo_id=photo_id, to_status=Status.AWAITING_SCORE, cause=BACKFILL_CAUSE
        )
        if photo.curator_decision:
            return _Done(photo_id, Outcome.SKIPPED, SKIP_CURATOR)
        return _Done(photo_id, Outcome.PROCESSED)

    def _dedup(self, photo_id: int) -> _Done:
        # No image is read, so this runs here in both modes; nothing is sent.
        if pipeline_services.photo_redecide_dedup(photo_id=photo_id, config=self.config) == (
            "not indexed"
        ):
            return _Done(photo_id, Outcome.SKIPPED, SKIP_NOT_INDEXED)
        return _Done(photo_id, Outcome.PROCESSED)

    def _previews(self, photo_id: int) -> _Done:
        if not self.inline:
            return _Done(photo_id, Outcome.PROCESSED, task=task_names.REGENERATE_PREVIEWS)
        try:
            pipeline_services.photo_regenerate_previews(photo_id=photo_id, config=self.config)
        except UnreadableImage as unreadable:
            return _Done(photo_id, Outcome.FAILED, f"unreadable ({unreadable.reason.value})")
        except Photo.DoesNotExist:
            raise
        except Exception as error:
            logger.exception("photo %s: previews failed", photo_id)
            return _Done(photo_id, Outcome.FAILED, type(error).__name__)
        return _Done(photo_id, Outcome.PROCESSED)


class _Sender:
    """Sends tasks over one broker connection for the whole run, not one per message."""

    def __init__(self, producer: Any, queue: str | None) -> None:
        self.producer = producer
        self.queue = queue

    def __call__(self, task: str, photo_id: int) -> None:
        try:
            current_app.send_task(task, args=[photo_id], queue=self.queue, producer=self.producer)
        except BrokerError as error:
            raise BackfillError(
                f"stopped: the Celery broker refused photo {photo_id} ({error}); "
                "continue with the same command and --resume"
            ) from error


def _start(options: BackfillOptions, store: CheckpointStore, key: str) -> tuple[Checkpoint, bool]:
    existing = store.load()
    if options.resume:
        if existing is None:
            raise BackfillError(
                f"nothing to resume: no checkpoint for this stage and these filters ({store.path})"
            )
        return existing, True
    if existing is not None and not existing.completed:
        logger.warning(
            "an interrupted run of this backfill (checkpoint %s) is being replaced; "
            "pass --resume to continue it instead",
            store.path,
        )
    store.journal_reset()
    checkpoint = Checkpoint(
        key=key,
        stage=options.stage.value,
        filters=options.filters.as_json(),
        limit=options.limit,
        run_id=uuid.uuid4().hex,
        started_at=datetime.now(UTC).isoformat(),
    )
    store.save(checkpoint)
    return checkpoint, False


@contextlib.contextmanager
def _sender(options: BackfillOptions) -> Iterator[_Sender | None]:
    if options.mode is not Mode.ENQUEUE:
        yield None
        return
    with current_app.producer_or_acquire() as producer:
        yield _Sender(producer, options.queue)


def backfill_run(
    *,
    options: BackfillOptions,
    progress: ProgressSink,
    should_stop: Callable[[], bool] = lambda: False,
) -> BackfillSummary:
    """Run a stage over the selected photos (see the module docstring). Stops between two
    photos when `should_stop()` turns true; the checkpoint and journal then say where."""
    if options.stage is Stage.SCORE and not options.config.scoring_enabled:
        raise BackfillError(SCORING_OFF)
    key = run_key(stage=options.stage, filters=options.filters, limit=options.limit)
    store = CheckpointStore(options.checkpoint_dir, stage=options.stage, key=key)
    checkpoint, resumed = _start(options, store, key)
    already_complete = checkpoint.completed
    started = time.perf_counter()
    interrupted = False
    # Photos the interrupted attempt finished after its last checkpoint.
    finished: set[int] = set()
    for photo_id, outcome, reason in store.journal_entries(after_id=checkpoint.after_id):
        finished.add(photo_id)
        checkpoint.count(outcome, reason)
    handled = 0
    if not already_complete:
        total = photo_backfill_count(
            filters=options.filters, after_id=checkpoint.after_id, limit=left(checkpoint)
        )
        progress.start(total=total, done=len(finished))
        limiter = RateLimiter(options.rate)
        try:
            with _sender(options) as send:
                batches = _Batches(checkpoint, store, _Worker(options), send, limiter, progress)
                interrupted = _walk(options, batches, finished, should_stop)
                handled = batches.handled
        finally:
            store.close()
            progress.finish()
    return BackfillSummary(
        stage=options.stage,
        mode=options.mode,
        handled=handled,
        processed=checkpoint.processed,
        skipped=dict(checkpoint.skipped),
        failed=dict(checkpoint.failed),
        elapsed_s=time.perf_counter() - started,
        resumed=resumed,
        already_complete=already_complete,
        interrupted=interrupted,
        checkpoint=store.path,
    )


class _Batches:
    """Applies one batch, photo by photo: its database part (and, in enqueue mode, its message
    right after), then its record in the journal."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        store: CheckpointStore,
        worker: _Worker,
        send: _Sender | None,
        limiter: RateLimiter,
        progress: ProgressSink,
    ) -> None:
        self.checkpoint = checkpoint
        self.store = store
        self.worker = worker
        self.send = send
        self.limiter = limiter
        self.progress = progress
        self.handled = 0

    def _record(self, done: _Done) -> None:
        self.checkpoint.count(done.outcome, done.reason)
        self.store.journal_append(done.photo_id, done.outcome, done.reason)
        self.progress.advance()
        self.handled += 1

    def _one(self, stage: Stage, row: BackfillRow) -> _Done:
        reason = skip_reason(stage, row)
        if reason is not None:
            return _Done(row.id, Outcome.SKIPPED, reason)
        if self.send is None:
            self.limiter.wait()
        return self.worker(row.id)

    def _one_locked(self, stage: Stage, photo_id: int, now: BackfillRow | None) -> _Done:
        if now is None:
            return _Done(photo_id, Outcome.SKIPPED, SKIP_DELETED)
        if stage in REINGEST_STAGES and now.status == Status.UPLOADED and not now.curator_decided:
            return _Done(photo_id, Outcome.PROCESSED, task=task_names.INGEST_PHOTO)
        return self._one(stage, now)

    def _one_enqueued(self, stage: Stage, photo_id: int) -> _Done:
        """The photo's reset commits on its own, just before its message is sent: a stop or a
        kill at any moment leaves at most this one photo reset and unsent (the ingest
        reconciler re-sends it), never a whole batch waiting in `uploaded`."""
        with transaction.atomic():
            # Read the row as it is now, locked: a photo already where the stage sends it
            # needs only its message (after an outage, that is every photo).
            current = photo_backfill_lock(ids=[photo_id])
            done = self._one_locked(stage, photo_id, current.get(photo_id))
        if done.task is not None and self.send is not None:
            self.send(done.task, done.photo_id)
        return done

    def apply(self, stage: Stage, rows: list[BackfillRow], should_stop: Callable[[], bool]) -> bool:
        """Returns True when stopped before the end of the batch. Each photo is its own unit
        of work, recorded as soon as it is done, and a stop is honoured before the next one."""
        for row in rows:
            if self.send is None:
                if should_stop():
                    return True
                self._record(self._one(stage, row))
                continue
            if skip_reason(stage, row) is None:
                self.limiter.wait()
            # After the wait: a stop asked for while waiting sends nothing more.
            if should_stop():
                return True
            self._record(self._one_enqueued(stage, row.id))
        return False


def _walk(
    options: BackfillOptions,
    batches: _Batches,
    finished: set[int],
    should_stop: Callable[[], bool],
) -> bool:
    """The batch loop. Returns True when stopped early."""
    checkpoint, store = batches.checkpoint, batches.store
    while True:
        remaining = left(checkpoint)
        size = options.batch_size if remaining is None else min(options.batch_size, remaining)
        rows = (
            photo_backfill_batch(filters=options.filters, after_id=checkpoint.after_id, size=size)
            if size
            else []
        )
        if not rows:
            break
        todo = [row for row in rows if row.id not in finished]
        if batches.apply(options.stage, todo, should_stop):
            return True
        checkpoint.after_id = rows[-1].id
        checkpoint.seen += len(rows)
        store.save(checkpoint)
        store.journal_reset()
        finished.clear()
    checkpoint.completed = True
    store.save(checkpoint)
    return False
