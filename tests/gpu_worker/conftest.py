from __future__ import annotations

import functools
import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import TypedDict

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from pytest_django import Settings
from skimage import data

from gallery.models import Photo
from gpu_worker.scoring import Scorer, ScorerConfig, load_scorer
from tests.support.paths import PHOTOS
from tests.support.paths import REPO_ROOT as REPO


# Small enough that a CPU forward pass takes tens of milliseconds, large enough for a real grid.
class PixelBudget(TypedDict):
    min_pixels: int
    max_pixels: int


TEST_PIXEL_BUDGET = PixelBudget(min_pixels=16 * 32 * 32, max_pixels=64 * 32 * 32)


def build_tiny_model(out_dir: Path) -> Path:
    script = REPO / "scripts" / "build_tiny_vlm.py"
    subprocess.run([sys.executable, str(script), str(out_dir)], check=True, capture_output=True)
    return out_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("vlm") / "tiny-qwen3-vl")


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir: Path) -> Scorer:
    config = ScorerConfig(model_path=tiny_model_dir, batch_size=4, **TEST_PIXEL_BUDGET)
    return load_scorer(config, backend="transformers")


@functools.cache
def real_photos() -> list[tuple[str, Image.Image]]:
    """Real photographs at preview size (long edge <= 1600 px), as the worker sees them.
    Decoded once per session (one is 30 MP); callers must not modify the images."""
    images: list[tuple[str, Image.Image]] = [
        (path.name, Image.open(path)) for path in sorted(PHOTOS.glob("*.jpg"))
    ]
    images += [
        (name, Image.fromarray(getattr(data, name)()))
        for name in ("astronaut", "coffee", "chelsea", "camera", "rocket")
    ]
    for _, image in images:
        image.thumbnail((1600, 1600))
    return images


def make_awaiting_photo(
    owner: User, *, preview: bytes | None, name: str = "photo.jpg", age_s: float = 0
) -> Photo:
    """A photo as the ingest stage leaves it: validated, with a preview, awaiting its score."""
    photo = Photo.objects.create(
        owner=owner,
        original=f"originals/{name}",
        original_filename=name,
        status=Photo.Status.AWAITING_SCORE,
        awaiting_score_since=timezone.now() - timedelta(seconds=age_s),
    )
    if preview is not None:
        photo.preview = default_storage.save(f"previews/{photo.uid}.jpg", ContentFile(preview))
        photo.save(update_fields=["preview"])
    return photo


def jpeg_bytes(image: Image.Image, *, long_edge: int = 1600) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((long_edge, long_edge))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="session")
def golden_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("golden")
    for name, image in real_photos():
        (directory / f"{Path(name).stem}.jpg").write_bytes(jpeg_bytes(image))
    return directory


@pytest.fixture
def tiny_model_settings(settings: Settings, tiny_model_dir: Path) -> Settings:
    settings.VLM_MODEL_PATH = str(tiny_model_dir)
    settings.VLM_BACKEND = "transformers"
    settings.VLM_MIN_PIXELS = TEST_PIXEL_BUDGET["min_pixels"]
    settings.VLM_MAX_PIXELS = TEST_PIXEL_BUDGET["max_pixels"]
    settings.VLM_BATCH_SIZE = 4
    return settings
