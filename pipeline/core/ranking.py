"""Which frame to suggest: the best frame of a stack, and the keeper among copies of one frame.

One ranking serves both (docs/adr/0010-stacks-and-keeper-ranking.md). Every candidate is first
judged as a copy: more pixels, then a clearly lighter compression. Only then, and only among
distinct exposures (a stack), does the picture count: the validator's verdict and flags,
sharpness, exposure and the VLM score. Among copies of one frame the picture is the same, so
those measures differ only by what processing did to it (JPEG artefacts read as detail), and
are left out. Provenance breaks what is left: a copy that kept the camera's capture time, then
the earliest, then the heavier file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

# JPEG qualities are compared in steps of this many points, and everything from TOP_QUALITY up
# counts as one class: cameras write 75 to 99 (66 of the 72 real camera JPEGs 85 or more), and
# a re-save above its source's quality adds no detail, so it must not outrank the source. The
# estimate is exact only for libjpeg's own tables. ADR 0010 has the figures.
QUALITY_STEP: Final = 10
TOP_QUALITY: Final = 85
# A lossless copy (RAW, PNG, TIFF) ranks above any JPEG.
LOSSLESS: Final = 100
# Sharpness differences below this are noise between frames of one burst.
SHARPNESS_STEP: Final = 0.05
VERDICT_ORDER: Final = {"pass": 0, "borderline": 1, "reject": 2}


@dataclass(frozen=True)
class Candidate:
    """What the ranking reads about one photo. Measures are None when unknown."""

    photo_id: int
    width: int | None
    height: int | None
    size_bytes: int
    lossless: bool
    jpeg_quality: int | None  # estimated, pipeline/core/compression.py; None when not a JPEG
    captured_at: datetime | None
    uploaded_at: datetime
    verdict: str = ""  # the validator's verdict value; "" when it has none
    flag_count: int = 0
    sharpness: float | None = None
    clipped: float | None = None  # highlight plus shadow clipped fraction
    vlm_score: float | None = None

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


def compression_class(candidate: Candidate) -> int:
    """Higher is lighter compression, in QUALITY_STEP steps. A lossy file whose quality cannot
    be estimated (HEIC) counts as the top JPEG class."""
    if candidate.lossless:
        return LOSSLESS
    if candidate.jpeg_quality is None or candidate.jpeg_quality >= TOP_QUALITY:
        return TOP_QUALITY
    return candidate.jpeg_quality // QUALITY_STEP * QUALITY_STEP


def _fidelity(candidate: Candidate) -> tuple[int, int]:
    return (-candidate.pixels, -compression_class(candidate))


def _picture(candidate: Candidate) -> tuple[float, ...]:
    sharpness = candidate.sharpness if candidate.sharpness is not None else 0.0
    return (
        VERDICT_ORDER.get(candidate.verdict, len(VERDICT_ORDER)),
        candidate.flag_count,
        -round(sharpness / SHARPNESS_STEP),
        candidate.clipped if candidate.clipped is not None else 1.0,
        -(candidate.vlm_score if candidate.vlm_score is not None else float("-inf")),
    )


def _provenance(candidate: Candidate) -> tuple[float, ...]:
    moment = candidate.captured_at or candidate.uploaded_at
    return (
        candidate.captured_at is None,
        moment.timestamp(),
        candidate.uploaded_at.timestamp(),
        -candidate.size_bytes / max(1, candidate.pixels),
        candidate.photo_id,
    )


def copy_rank(candidate: Candidate) -> tuple[float, ...]:
    """Sort key among copies of one frame (a duplicate group): smaller is better."""
    return (*_fidelity(candidate), *_provenance(candidate))


def frame_rank(candidate: Candidate) -> tuple[float, ...]:
    """Sort key among distinct frames (a stack): smaller is better."""
    return (*_fidelity(candidate), *_picture(candidate), *_provenance(candidate))


def best_copy(candidates: Sequence[Candidate]) -> Candidate:
    """The keeper among copies of one frame."""
    if not candidates:
        raise ValueError("no candidates to rank")
    return min(candidates, key=copy_rank)


def best_frame(candidates: Sequence[Candidate]) -> Candidate:
    """The suggested best frame of a stack."""
    if not candidates:
        raise ValueError("no candidates to rank")
    return min(candidates, key=frame_rank)
