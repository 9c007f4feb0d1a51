"""Where a backfill run is: an atomic checkpoint after each batch, plus a journal of the photos
finished since, so `--resume` continues after the last photo done and does none twice."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from pipeline.backfill.plan import BackfillError, Outcome, Stage
from pipeline.selectors import BackfillFilter

CHECKPOINT_VERSION = 1


@dataclass
class Checkpoint:
    key: str
    stage: str
    filters: dict[str, Any]
    limit: int | None
    run_id: str
    started_at: str
    version: int = CHECKPOINT_VERSION
    after_id: int = 0  # every photo up to this id has been considered
    seen: int = 0
    processed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    completed: bool = False

    def count(self, outcome: Outcome, reason: str) -> None:
        if outcome is Outcome.PROCESSED:
            self.processed += 1
        else:
            tally = self.skipped if outcome is Outcome.SKIPPED else self.failed
            tally[reason] = tally.get(reason, 0) + 1


def run_key(*, stage: Stage, filters: BackfillFilter, limit: int | None) -> str:
    """Identifies a run by what it selects, so `--resume` finds the checkpoint of the same
    command line. Batch size, rate and mode may change between attempts."""
    spec = json.dumps(
        {"stage": stage.value, "filters": filters.as_json(), "limit": limit}, sort_keys=True
    )
    return hashlib.sha256(spec.encode()).hexdigest()[:20]


_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


class CheckpointStore:
    """`<dir>/backfill-<stage>-<key>.json` plus its journal, `....journal`: one line per photo
    finished since the last checkpoint ("id outcome reason")."""

    def __init__(self, directory: Path, *, stage: Stage, key: str) -> None:
        self.directory = directory
        self.path = directory / f"backfill-{stage.value}-{key}.json"
        self.journal_path = self.path.with_suffix(".journal")
        self._journal: IO[str] | None = None

    def load(self) -> Checkpoint | None:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        if raw.get("version") != CHECKPOINT_VERSION:
            raise BackfillError(f"{self.path} was written by another version of backfill")
        return Checkpoint(**raw)

    def save(self, checkpoint: Checkpoint) -> None:
        """Atomic: a reader (or the next attempt) sees the old checkpoint or the new one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint-")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(asdict(checkpoint), handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def journal_entries(self, *, after_id: int) -> list[tuple[int, Outcome, str]]:
        """Photos finished after the checkpoint. A torn last line (killed mid-write) is
        ignored: that photo was not recorded, and its services are idempotent."""
        try:
            lines = self.journal_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            parts = line.split("\t")
            if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in _OUTCOMES:
                continue
            photo_id = int(parts[0])
            if photo_id > after_id:
                entries.append((photo_id, Outcome(parts[1]), parts[2]))
        return entries

    def journal_append(self, photo_id: int, outcome: Outcome, reason: str) -> None:
        if self._journal is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._journal = self.journal_path.open("a")
        # One write() per line into the page cache: it survives SIGKILL of this process.
        self._journal.write(f"{photo_id}\t{outcome.value}\t{reason}\n")
        self._journal.flush()

    def journal_reset(self) -> None:
        self.close()
        self.journal_path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def left(checkpoint: Checkpoint) -> int | None:
    return None if checkpoint.limit is None else max(0, checkpoint.limit - checkpoint.seen)


def checkpoint_cursor(
    *, checkpoint_dir: Path, stage: Stage, filters: BackfillFilter, limit: int | None
) -> tuple[int, int | None]:
    """Where `--resume` would continue: (after_id, photos left within the limit)."""
    key = run_key(stage=stage, filters=filters, limit=limit)
    checkpoint = CheckpointStore(checkpoint_dir, stage=stage, key=key).load()
    if checkpoint is None:
        raise BackfillError("nothing to resume: no checkpoint for this stage and these filters")
    return checkpoint.after_id, left(checkpoint)
