"""Burst stacks: which neighbouring frames of one camera belong together. Pure decisions; the
database side (gallery/shoot_services.py) finds a new frame's neighbours and applies them.

A stack is a run of a camera's frames in capture order in which each frame follows the one
before within `gap_s` and looks like it (both 64-bit hashes close). A new frame is therefore
compared with two frames only, the one just before and the one just after it from the same
camera, whatever order the uploads arrive in.
Thresholds: docs/adr/0010-stacks-and-keeper-ranking.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from pipeline.core.hashcode import hamming_distance

DEFAULT_GAP_S: Final = 2.0
# Calibrated on derived bursts of the real photos (scripts/bench_stacks.py, ADR 0010).
DEFAULT_MAX_PHASH: Final = 18
DEFAULT_MAX_DHASH: Final = 18


@dataclass(frozen=True)
class StackRules:
    gap_s: float = DEFAULT_GAP_S
    max_phash: int = DEFAULT_MAX_PHASH
    max_dhash: int = DEFAULT_MAX_DHASH


@dataclass(frozen=True)
class Frame:
    """What stacking reads about one photo."""

    captured_at: datetime
    phash: int
    dhash: int


@dataclass(frozen=True)
class Placement:
    """Whether a new frame continues the frame before it and the frame after it."""

    joins_previous: bool
    joins_next: bool


def camera_key(make: str, model: str, serial: str) -> str:
    """Which camera took a frame: its body serial when recorded (two bodies of one model are
    two cameras), else make and model. "" when the file names no camera at all."""
    if serial:
        return f"serial:{serial.strip().casefold()}"
    name = " ".join(part.strip() for part in (make, model) if part.strip()).casefold()
    return f"model:{name}" if name else ""


def looks_alike(a: Frame, b: Frame, rules: StackRules) -> bool:
    return (
        hamming_distance(a.phash, b.phash) <= rules.max_phash
        and hamming_distance(a.dhash, b.dhash) <= rules.max_dhash
    )


def continues(earlier: Frame, later: Frame, rules: StackRules) -> bool:
    """Whether `later` continues the burst `earlier` is in: close in time and alike."""
    gap = abs((later.captured_at - earlier.captured_at).total_seconds())
    return gap <= rules.gap_s and looks_alike(earlier, later, rules)


def place(
    frame: Frame, previous: Frame | None, following: Frame | None, rules: StackRules
) -> Placement:
    """Where a new frame goes, given its camera's frames just before and just after it."""
    return Placement(
        joins_previous=previous is not None and continues(previous, frame, rules),
        joins_next=following is not None and continues(frame, following, rules),
    )
