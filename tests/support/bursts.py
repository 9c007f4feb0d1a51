"""Ground truth for burst stacks, derived from the real camera photos.

Each real photo becomes the subject of bursts: frames with small shifts, crops (zoom steps) and
exposure steps, a fraction of a second apart. Between bursts the photographer shoots unrelated
frames, sometimes within the stacking gap of a burst; a second camera shoots the same subjects at
the same moments. `timeline()` returns every frame in capture order with the burst it belongs to
(or None for a frame that belongs to no burst), hashed the way the validator hashes (the
luminance of a copy at least 512 pixels on its long edge).

Shared by tests/pipeline/test_stacks.py and scripts/bench_stacks.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from PIL import Image, ImageEnhance

from pipeline.core.hashing import dhash, phash
from tests.support.paths import REAL_PHOTOS

WORKING_LONG_EDGE = 640
START = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
CAMERA_A = ("Canon", "EOS R5", "")
CAMERA_B = ("Canon", "EOS R5", "031033000123")


@dataclass(frozen=True)
class TruthFrame:
    camera: tuple[str, str, str]  # make, model, body serial
    captured_at: datetime
    phash: int
    dhash: int
    burst: int | None  # ground-truth burst id; None for a frame in no burst
    subject: str  # the real photo it shows
    edit: str  # how it was derived, for people reading a failure


@cache
def subjects() -> dict[str, Image.Image]:
    """The real photos, RGB, WORKING_LONG_EDGE on the long side."""
    out: dict[str, Image.Image] = {}
    for path in sorted(REAL_PHOTOS.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg"):
            continue
        with Image.open(path) as opened:
            opened.draft("RGB", (WORKING_LONG_EDGE * 2, WORKING_LONG_EDGE * 2))
            image = opened.convert("RGB")
        image.thumbnail((WORKING_LONG_EDGE, WORKING_LONG_EDGE))
        out[path.name] = image
    return out


def derive(
    image: Image.Image, *, shift: tuple[float, float], zoom: float, ev: float
) -> Image.Image:
    """A frame of the same scene: the framing moved by `shift` (fractions of the size), zoomed in
    by `zoom` (fraction cut off), exposure changed by `ev` stops. Same output size."""
    width, height = image.size
    cut = zoom + 2 * max(abs(shift[0]), abs(shift[1]))
    box_w, box_h = width * (1 - cut), height * (1 - cut)
    left = max(0.0, (width - box_w) / 2 + shift[0] * width)
    top = max(0.0, (height - box_h) / 2 + shift[1] * height)
    frame = image.resize(
        (width, height), Image.Resampling.BILINEAR, box=(left, top, left + box_w, top + box_h)
    )
    return ImageEnhance.Brightness(frame).enhance(2.0**ev) if ev else frame


def hashes(image: Image.Image) -> tuple[int, int]:
    luma = image.convert("L")
    return phash(luma), dhash(luma)


def _burst_edits(
    rng: random.Random, length: int
) -> list[tuple[str, tuple[float, float], float, float]]:
    """Per frame: a label, the cumulative shift, zoom and exposure, as a hand-held burst drifts."""
    kind = rng.choice(("shift", "crop", "exposure", "mixed"))
    sx = sy = zoom = ev = 0.0
    edits = []
    for index in range(length):
        if index:
            if kind in ("shift", "mixed"):
                sx = max(-0.05, min(0.05, sx + rng.uniform(-0.012, 0.012)))
                sy = max(-0.05, min(0.05, sy + rng.uniform(-0.012, 0.012)))
            if kind in ("crop", "mixed"):
                zoom = min(0.12, zoom + rng.uniform(0.0, 0.03))
            if kind in ("exposure", "mixed"):
                ev = rng.choice((-1.0, -2 / 3, -1 / 3, 0.0, 1 / 3, 2 / 3))
        edits.append((f"{kind}:{index}", (sx, sy), zoom, ev))
    return edits


def timeline(*, bursts: int, seed: int = 16) -> list[TruthFrame]:
    """`bursts` bursts on camera A, with unrelated frames and camera B around them, in capture
    order. Frame counts: about 5 per burst on A, plus a third again of singles and B frames."""
    rng = random.Random(seed)
    names = sorted(subjects())
    frames: list[TruthFrame] = []
    moment = START
    for burst in range(bursts):
        subject = rng.choice(names)
        image = subjects()[subject]
        length = rng.randint(2, 9)
        for index, (edit, shift, zoom, ev) in enumerate(_burst_edits(rng, length)):
            if index:
                moment += timedelta(seconds=rng.uniform(0.08, 1.2))
            ph, dh = hashes(derive(image, shift=shift, zoom=zoom, ev=ev))
            frames.append(TruthFrame(CAMERA_A, moment, ph, dh, burst, subject, edit))
            if rng.random() < 0.15:
                # A second body of the same model at the same scene: its own burst, never
                # stacked with A's.
                other = derive(image, shift=(-shift[0], shift[1]), zoom=zoom, ev=ev)
                ph, dh = hashes(other)
                offset = timedelta(seconds=rng.uniform(-0.3, 0.3))
                frames.append(
                    TruthFrame(CAMERA_B, moment + offset, ph, dh, -1 - burst, subject, "B")
                )
        roll = rng.random()
        if roll < 0.35:
            # An unrelated frame shot right after the burst, within the stacking gap.
            moment += timedelta(seconds=rng.uniform(0.2, 1.9))
            other_subject = rng.choice([n for n in names if n != subject])
            ph, dh = hashes(subjects()[other_subject])
            frames.append(TruthFrame(CAMERA_A, moment, ph, dh, None, other_subject, "unrelated"))
        elif roll < 0.5:
            # The same subject again after a pause longer than the gap: a new burst.
            moment += timedelta(seconds=rng.uniform(2.5, 6.0))
            continue
        moment += timedelta(seconds=rng.uniform(2.1, 30.0))
    frames.sort(key=lambda f: f.captured_at)
    return _singletons_have_no_burst(frames)


def _singletons_have_no_burst(frames: list[TruthFrame]) -> list[TruthFrame]:
    """A "burst" of one frame is no burst."""
    sizes: dict[int, int] = {}
    for frame in frames:
        if frame.burst is not None:
            sizes[frame.burst] = sizes.get(frame.burst, 0) + 1
    return [
        frame
        if frame.burst is None or sizes[frame.burst] > 1
        else TruthFrame(
            frame.camera,
            frame.captured_at,
            frame.phash,
            frame.dhash,
            None,
            frame.subject,
            frame.edit,
        )
        for frame in frames
    ]
