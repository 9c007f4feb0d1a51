"""The scoring worker loop, after Zulip's long-running queue workers: claim, process, record,
with a stop flag that a signal handler sets.

Guarantees:
- A photo is scored by the worker that holds its lease. A worker that dies (SIGKILL, lost spot
  instance) leaves leases that expire; another worker then claims those photos.
- SIGTERM (spot interruption notice, scale-in) finishes the batch in hand, releases the photos it
  claimed but had not started, and returns.
- One photo that cannot be read or that the processor refuses fails alone, with its reason.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.storage import default_storage
from PIL import Image

from gallery.models import Photo
from gallery.services import photo_mark_unscorable, photo_record_score

from .images import decode_image
from .scoring import Scorer
from .selectors import scoring_queue_counts
from .services import (
    ClaimedPhoto,
    photo_claim_for_scoring,
    photo_extend_scoring_leases,
    photo_release_scoring_leases,
    queue_wait_seconds,
)

logger = logging.getLogger(__name__)

# What a corrupt or truncated image raises inside Pillow (UnidentifiedImageError is an OSError).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


class UnreadablePreview(Exception):
    pass


@dataclass
class WorkerStats:
    scored: int = 0
    rejected: int = 0
    failed: int = 0
    released: int = 0
    scoring_seconds: float = 0.0

    @property
    def images_per_second(self) -> float:
        return self.scored / self.scoring_seconds if self.scoring_seconds else 0.0


@dataclass(frozen=True)
class WorkerOptions:
    owner: str
    threshold: float
    lease_seconds: float
    claim_size: int
    poll_seconds: float
    # Exit once no photo awaits a score (tests, backfills) instead of polling forever.
    until_empty: bool = False


def load_preview(photo: ClaimedPhoto) -> Image.Image:
    """The preview's pixels. A missing or undecodable preview is the photo's problem; any other
    storage error is the infrastructure's and propagates (the lease expires; a retry follows)."""
    if not photo.preview:
        raise UnreadablePreview("the photo has no preview to score")
    try:
        with default_storage.open(photo.preview, "rb") as stream:
            data = stream.read()
    except Exception as exc:
        if default_storage.exists(photo.preview):
            raise
        raise UnreadablePreview(f"preview {photo.preview} is missing from storage") from exc
    try:
        return decode_image(data)
    except DECODE_ERRORS as exc:
        raise UnreadablePreview(f"preview {photo.preview} cannot be decoded: {exc}") from exc


class ScoringWorker:
    def __init__(self, *, scorer: Scorer, options: WorkerOptions) -> None:
        self.scorer = scorer
        self.options = options
        self.stats = WorkerStats()
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Safe to call from a signal handler: it only sets a flag."""
        self._stop.set()

    def run(self) -> WorkerStats:
        scorer, opts = self.scorer, self.options
        logger.info(
            "worker %s: %s %s@%s, batch %d, claim %d, lease %.0fs, threshold %.2f",
            opts.owner,
            scorer.backend,
            scorer.model_id,
            scorer.model_revision[:12],
            scorer.batch_size,
            opts.claim_size,
            opts.lease_seconds,
            opts.threshold,
        )
        while not self._stop.is_set():
            claimed = photo_claim_for_scoring(
                owner=opts.owner, limit=opts.claim_size, lease_seconds=opts.lease_seconds
            )
            if claimed:
                waits = queue_wait_seconds(claimed)
                logger.info(
                    "claimed %d photos; queue wait mean %.1fs, max %.1fs",
                    len(claimed),
                    statistics.fmean(waits) if waits else 0.0,
                    max(waits, default=0.0),
                )
                self.process(claimed)
            elif opts.until_empty and scoring_queue_counts().empty:
                break
            else:
                self._stop.wait(opts.poll_seconds)
        stats = self.stats
        logger.info(
            "worker %s stopped: %d scored (%d below threshold), %d failed, %d released; "
            "%.1f images/s",
            opts.owner,
            stats.scored,
            stats.rejected,
            stats.failed,
            stats.released,
            stats.images_per_second,
        )
        return stats

    def process(self, claimed: Sequence[ClaimedPhoto]) -> None:
        pending = list(claimed)
        batch_size = self.scorer.batch_size
        while pending:
            if self._stop.is_set():
                released = photo_release_scoring_leases(
                    owner=self.options.owner, photo_ids=[p.photo_id for p in pending]
                )
                self.stats.released += released
                logger.info("stopping: released %d unstarted photos", released)
                return
            batch, pending = pending[:batch_size], pending[batch_size:]
            self._score_batch(batch)
            if pending:
                photo_extend_scoring_leases(
                    owner=self.options.owner,
                    photo_ids=[p.photo_id for p in pending],
                    lease_seconds=self.options.lease_seconds,
                )

    def _fail(self, photo: ClaimedPhoto, detail: str) -> None:
        photo_mark_unscorable(photo_id=photo.photo_id, detail=detail)
        self.stats.failed += 1
        logger.warning("photo %d unscorable: %s", photo.photo_id, detail)

    def _score_batch(self, batch: Sequence[ClaimedPhoto]) -> None:
        ready: list[tuple[ClaimedPhoto, Image.Image]] = []
        for photo in batch:
            try:
                ready.append((photo, load_preview(photo)))
            except UnreadablePreview as exc:
                self._fail(photo, str(exc))
        if not ready:
            return
        started = time.perf_counter()
        results: list[tuple[ClaimedPhoto, float, float, float]] = []
        try:
            scored = self.scorer.score([image for _, image in ready])
            results = [
                (photo, score, mass, scored.runtime_ms_per_image)
                for (photo, _), score, mass in zip(
                    ready, scored.scores, scored.digit_mass, strict=True
                )
            ]
        except ValueError:
            # The processor refuses some images (an extreme aspect ratio, say): score one at a
            # time so that only the photo at fault fails.
            for photo, image in ready:
                try:
                    single = self.scorer.score([image])
                except ValueError as exc:
                    self._fail(photo, f"the model's processor refused the preview: {exc}")
                else:
                    results.append(
                        (photo, single.scores[0], single.digit_mass[0], single.runtime_ms_per_image)
                    )
        elapsed = time.perf_counter() - started
        self.stats.scoring_seconds += elapsed
        for photo, score, mass, runtime_ms in results:
            self._record(photo, score, mass, runtime_ms)
        if results:
            logger.info(
                "scored %d photos in %.0f ms: %.1f images/s",
                len(results),
                elapsed * 1000,
                len(results) / elapsed,
            )

    def _record(self, photo: ClaimedPhoto, score: float, mass: float, runtime_ms: float) -> None:
        updated = photo_record_score(
            photo_id=photo.photo_id,
            score=score,
            model_id=self.scorer.model_id,
            model_revision=self.scorer.model_revision,
            runtime_ms=runtime_ms,
            threshold=self.options.threshold,
        )
        self.stats.scored += 1
        if updated.status == Photo.Status.REJECTED:
            self.stats.rejected += 1
        # A digit mass far below 1 means the model wanted to answer something other than a
        # digit: a prompt or chat-template mismatch, worth seeing before trusting the scores.
        logger.info(
            "photo %d scored %.4f (digit mass %.2f): %s",
            photo.photo_id,
            score,
            mass,
            updated.status,
        )
