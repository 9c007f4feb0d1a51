"""Properties of the sharpness measure on real camera photos, with blur at native resolution."""

from __future__ import annotations

import io
import sys
from functools import cache
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image

from pipeline.core.validator import Verdict, validate
from tests.support.paths import REAL_PHOTOS

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from calibration_sets import BlurKind, blur, encode_like

# Small keep photos (1.2 to 2.2 MP), so each example blurs in well under a second.
SMALL_KEEP = ["Canon_EOS_D60.jpg", "FujiFilm_MX-2900Zoom.jpg", "Issue_211.jpg"]


@cache
def original(name: str) -> tuple[Image.Image, NDArray[np.uint8]]:
    image = Image.open(REAL_PHOTOS / name)
    return image, np.asarray(image.convert("RGB"))


def sharpness_of(rgb: NDArray[np.uint8], like: Image.Image) -> float:
    return validate(encode_like(rgb, like)).sharpness.score


@settings(max_examples=6, deadline=None)
@given(
    name=st.sampled_from(SMALL_KEEP),
    kind=st.sampled_from(list(BlurKind)),
    fraction=st.floats(min_value=0.0005, max_value=0.01),
)
def test_blurring_a_keep_photo_never_raises_its_sharpness(
    name: str, kind: BlurKind, fraction: float
) -> None:
    image, rgb = original(name)
    # Both through the same JPEG encoder, so only the blur differs.
    assert sharpness_of(blur(rgb, kind, fraction, 0), image) <= sharpness_of(rgb, image) + 0.01


@settings(max_examples=6, deadline=None)
@given(
    name=st.sampled_from(SMALL_KEEP),
    kind=st.sampled_from(list(BlurKind)),
    noise=st.floats(min_value=1.0, max_value=30.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_noise_does_not_make_a_blurred_frame_pass(
    name: str, kind: BlurKind, noise: float, seed: int
) -> None:
    rgb = original(name)[1]
    blurred = blur(rgb, kind, 0.006, seed).astype(np.float32)
    grain = np.random.default_rng(seed).normal(0.0, noise, blurred.shape).astype(np.float32)
    noisy = np.clip(blurred + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=92)
    result = validate(buffer.getvalue())
    assert result.verdict is not Verdict.PASS, result.describe()
