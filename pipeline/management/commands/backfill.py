"""`manage.py backfill`: re-run a pipeline stage over a filtered part of the library.

    manage.py backfill --stage validate --status rejected --reason blurry --dry-run
    manage.py backfill --stage score --since 2026-01-01 --rate 50
    manage.py backfill --stage validate --resume        # after Ctrl-C or a kill
    manage.py backfill --stage validate --flag possibly_soft   # re-judge the flagged frames

See the `pipeline.backfill` package (plan, checkpoint, run) for how it streams, checkpoints
and stays idempotent.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from gallery.models import Photo
from pipeline.backfill.checkpoint import checkpoint_cursor
from pipeline.backfill.plan import BackfillError, BackfillPlan, Mode, Stage, backfill_plan
from pipeline.backfill.run import BackfillOptions, BackfillSummary, backfill_run
from pipeline.config import IngestConfig
from pipeline.selectors import BackfillFilter, owner_id_for_username

logger = logging.getLogger("pipeline.backfill")

EXIT_INTERRUPTED = 130
_LOG_EVERY_S = 10.0


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _choices(values: list[str], allowed: list[str], what: str) -> tuple[str, ...]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise CommandError(f"unknown {what}: {', '.join(unknown)} (one of {', '.join(allowed)})")
    return tuple(values)


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO date (midnight UTC) or date-time (UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r} is not an ISO date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} photos/s" if task.speed else "")


class _RichProgress:
    """A bar with count, rate and ETA, for a terminal."""

    def __init__(self, stage: Stage) -> None:
        self._progress = Progress(
            TextColumn(f"backfill {stage.value}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._progress.add_task("photos", total=None)

    def start(self, *, total: int, done: int) -> None:
        self._progress.start()
        self._progress.update(self._task, total=total, completed=done)

    def advance(self, count: int = 1) -> None:
        self._progress.advance(self._task, count)

    def finish(self) -> None:
        self._progress.stop()


class _LogProgress:
    """Plain log lines every few seconds, for logs and pipes."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage
        self._total = 0
        self._done = 0
        self._started = self._last = time.monotonic()

    def start(self, *, total: int, done: int) -> None:
        self._total, self._done = total, done
        self._started = self._last = time.monotonic()
        logger.info("backfill %s: %d photos to consider", self._stage.value, total - done)

    def advance(self, count: int = 1) -> None:
        self._done += count
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY_S:
            self._last = now
            self._log(now)

    def _log(self, now: float) -> None:
        rate = self._done / (now - self._started) if now > self._started else 0.0
        eta = (self._total - self._done) / rate if rate else 0.0
        logger.info(
            "backfill %s: %d/%d photos, %.0f photos/s, ETA %.0f s",
            self._stage.value,
            self._done,
            self._total,
            rate,
            eta,
        )

    def finish(self) -> None:
        self._log(time.monotonic())


class _StopFlag:
    """The first Ctrl-C (or SIGTERM) asks the run to stop after the photo in hand; a second
    Ctrl-C stops at once. Either way the checkpoint and journal say where to resume."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("stopping after the current photo; Ctrl-C again to stop at once")

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Command(BaseCommand):
    help = "Re-run a pipeline stage (validate, dedup, previews, score, all) over the library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stage", required=True, choices=[s.value for s in Stage])
        parser.add_argument(
            "--status", action="append", default=[], help="comma-separated; repeatable"
        )
        parser.add_argument(
            "--reason", action="append", default=[], help="reject reason(s), comma-separated"
        )
        parser.add_argument(
            "--flag",
            action="append",
            default=[],
            help="validator flag(s) or note(s), comma-separated: photos carrying any of them",
        )
        parser.add_argument("--owner", help="username of the photos' owner")
        parser.add_argument("--since", help="uploaded at or after (ISO date or date-time, UTC)")
        parser.add_argument("--until", help="uploaded before (ISO date or date-time, UTC)")
        parser.add_argument("--ids", action="append", default=[], help="photo ids, comma-separated")
        parser.add_argument("--limit", type=int, help="consider at most this many photos")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would run; change nothing"
        )
        parser.add_argument(
            "--inline", action="store_true", help="run in this process, not via Celery"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--rate", type=float, help="at most this many photos per second")
        parser.add_argument("--queue", help="Celery queue to send to (default: the task's own)")
        parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
        parser.add_argument(
            "--checkpoint-dir",
            type=Path,
            help="where checkpoints live (default: settings.BACKFILL_CHECKPOINT_DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stage = Stage(options["stage"])
        filters = self._filters(options)
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["rate"] is not None and options["rate"] <= 0:
            raise CommandError("--rate must be positive")
        checkpoint_dir = options["checkpoint_dir"] or Path(settings.BACKFILL_CHECKPOINT_DIR)
        if options["verbosity"] < 2:
            # One log line per status change is noise at 100k photos; -v 2 brings them back.
            for name in ("gallery.services", "pipeline.services"):
                logging.getLogger(name).setLevel(logging.WARNING)
        try:
            if options["dry_run"]:
                self._dry_run(stage, filters, limit, checkpoint_dir, resume=options["resume"])
                return
            stop = _StopFlag()
            with stop.installed():
                summary = backfill_run(
                    options=BackfillOptions(
                        stage=stage,
                        filters=filters,
                        checkpoint_dir=checkpoint_dir,
                        config=IngestConfig.from_settings(),
                        limit=limit,
                        mode=Mode.INLINE if options["inline"] else Mode.ENQUEUE,
                        batch_size=options["batch_size"],
                        rate=options["rate"],
                        queue=options["queue"],
                        resume=options["resume"],
                    ),
                    progress=_RichProgress(stage) if sys.stderr.isatty() else _LogProgress(stage),
                    should_stop=stop,
                )
        except BackfillError as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            raise CommandError(
                "interrupted at once; continue with the same command and --resume",
                returncode=EXIT_INTERRUPTED,
            ) from None
        self._report(summary)

    def _filters(self, options: dict[str, Any]) -> BackfillFilter:
        owner_id = None
        if options["owner"]:
            owner_id = owner_id_for_username(username=options["owner"])
            if owner_id is None:
                raise CommandError(f"no user named {options['owner']!r}")
        ids = [item for value in options["ids"] for item in _csv(value)]
        if not all(item.isdigit() for item in ids):
            raise CommandError("--ids takes photo ids (integers), comma-separated")
        since = _moment(options["since"], "--since")
        until = _moment(options["until"], "--until")
        if since and until and since >= until:
            raise CommandError("--since must be before --until")
        return BackfillFilter(
            statuses=_choices(
                [s for value in options["status"] for s in _csv(value)],
                Photo.Status.values,
                "status",
            ),
            reasons=_choices(
                [r for value in options["reason"] for r in _csv(value)],
                Photo.RejectReason.values,
                "reason",
            ),
            owner_id=owner_id,
            since=since,
            until=until,
            ids=tuple(int(item) for item in ids),
            flags=_choices(
                [f for value in options["flag"] for f in _csv(value)],
                Photo.ValidatorFlag.values,
                "flag",
            ),
        )

    def _dry_run(
        self,
        stage: Stage,
        filters: BackfillFilter,
        limit: int | None,
        checkpoint_dir: Path,
        *,
        resume: bool,
    ) -> None:
        started = time.perf_counter()
        after_id, left = 0, limit
        if resume:
            after_id, left = checkpoint_cursor(
                checkpoint_dir=checkpoint_dir, stage=stage, filters=filters, limit=limit
            )
        plan = backfill_plan(stage=stage, filters=filters, limit=left, after_id=after_id)
        elapsed = time.perf_counter() - started
        self._print_plan(plan)
        self.stdout.write(
            f"dry run: {plan.total} photos in {elapsed:.3f} s "
            f"({plan.total / elapsed if elapsed else 0:.0f} rows/s); nothing was changed"
        )

    def _print_plan(self, plan: BackfillPlan) -> None:
        self.stdout.write(f"stage {plan.stage.value}: {plan.action}")
        if plan.by_status:
            self._print_counts(plan)
        else:
            self.stdout.write("no photo matches these filters")
        self.stdout.write(f"total: {plan.total} photos, {plan.would_run} would run")

    def _print_counts(self, plan: BackfillPlan) -> None:
        columns = sorted({verdict for counts in plan.by_status.values() for verdict in counts})
        widths = [max([len("status"), *(len(s) for s in plan.by_status)])]
        widths += [max(len(c), 8) for c in columns]
        header = ["status", *columns]
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for status, counts in plan.by_status.items():
            cells = [status.ljust(widths[0])]
            cells += [
                str(counts.get(c, 0)).rjust(w) for c, w in zip(columns, widths[1:], strict=True)
            ]
            self.stdout.write("  ".join(cells))

    def _report(self, summary: BackfillSummary) -> None:
        if summary.already_complete:
            self.stdout.write(
                f"this backfill already completed ({summary.checkpoint}); nothing to do"
            )
        self.stdout.write(
            f"backfill {summary.stage.value} ({summary.mode.value}"
            f"{', resumed' if summary.resumed else ''}): {summary.handled} photos in "
            f"{summary.elapsed_s:.1f} s ({summary.rows_per_s:.0f} rows/s)"
        )
        self.stdout.write(f"  processed: {summary.processed}")
        for label, tally in (("skipped", summary.skipped), ("failed", summary.failed)):
            detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(tally.items()))
            self.stdout.write(
                f"  {label}: {sum(tally.values())}" + (f" ({detail})" if detail else "")
            )
        if summary.interrupted:
            raise CommandError(
                f"interrupted; continue with the same command and --resume "
                f"(checkpoint {summary.checkpoint})",
                returncode=EXIT_INTERRUPTED,
            )
        if summary.failed:
            raise CommandError(f"{sum(summary.failed.values())} photo(s) failed", returncode=1)
