"""Scoring turned on after photos were reviewed unscored: `backfill --stage score` hands them to
the worker, which scores them with the tiny Qwen3-VL. Also the embedded default end to end on
SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from pytest_django import Settings

from gallery.models import Photo, PhotoEvent
from gpu_worker.scoring import Scorer
from gpu_worker.worker import ScoringWorker, WorkerOptions
from pipeline.config import IngestConfig
from pipeline.services import photo_ingest
from tests.gallery.factories import photo_uploaded
from tests.support.paths import PHOTOS, REPO_ROOT

from .conftest import TEST_PIXEL_BUDGET

S = Photo.Status
SOURCES = ("IMG_4120.JPG", "elephants.jpg", "cat_brown.jpg")


@pytest.mark.django_db
def test_backfill_hands_unscored_photos_to_the_worker_which_scores_them(
    tiny_scorer: Scorer, photographer: User, settings: Settings, tmp_path: Path
) -> None:
    photos = [photo_uploaded(owner=photographer, source=name) for name in SOURCES]
    for photo in photos:
        photo_ingest(photo_id=photo.pk, config=IngestConfig.from_settings(scoring_enabled=False))
    assert {p.status for p in Photo.objects.all()} == {S.UNSCORED}

    settings.SCORING_ENABLED = True
    out = StringIO()
    call_command("backfill", "--stage", "score", "--checkpoint-dir", str(tmp_path), stdout=out)
    assert "processed: 3" in out.getvalue()
    worker = ScoringWorker(
        scorer=tiny_scorer,
        options=WorkerOptions(
            owner="test-host:1:abc",
            threshold=0.0,
            lease_seconds=60,
            claim_size=8,
            poll_seconds=0.1,
            until_empty=True,
        ),
    )
    worker.run()

    assert worker.stats.scored == 3
    for photo in photos:
        photo.refresh_from_db()
        assert photo.status == S.SCORED
        assert photo.vlm_score is not None and 0.0 <= photo.vlm_score <= 1.0
        assert photo.vlm_model_id == "tiny-qwen3-vl"
        history = list(PhotoEvent.objects.filter(photo=photo).values_list("to_status", flat=True))
        assert history[-3:] == [S.UNSCORED, S.AWAITING_SCORE, S.SCORED]


def _manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`make run`'s settings: SQLite, local files, no scorer unless `extra` configures one."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "VLM_", "SCORING_"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "curation.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parjanya.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "BACKFILL_CHECKPOINT_DIR": str(tmp_path / "backfill"),
        **extra,
    }


def _create_uploads(paths: list[Path]) -> str:
    """`manage.py shell` code that stores `paths` as one photographer's uploads."""
    return f"""
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from gallery.models import Photo
owner = get_user_model().objects.create_user("ansel")
for path in {[str(p) for p in paths]!r}:
    name = path.rsplit("/", 1)[-1]
    key = default_storage.save("originals/" + name, ContentFile(open(path, "rb").read()))
    Photo.objects.create(owner=owner, original=key, original_filename=name)
"""


_STATUSES = (
    "from gallery.models import Photo; "
    "print(sorted((p.status, p.vlm_score is not None) for p in Photo.objects.all()))"
)


def test_embedded_default_on_sqlite_reviews_unscored_then_scores_on_cpu(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    off = _embedded_env(tmp_path)
    on = _embedded_env(
        tmp_path,
        VLM_MODEL_PATH=str(tiny_model_dir),
        VLM_BACKEND="transformers",
        VLM_DEVICE="cpu",
        VLM_MIN_PIXELS=str(TEST_PIXEL_BUDGET["min_pixels"]),
        VLM_MAX_PIXELS=str(TEST_PIXEL_BUDGET["max_pixels"]),
    )
    _manage(off, "migrate", "--noinput")
    _manage(off, "shell", "-c", _create_uploads([PHOTOS / name for name in SOURCES[:2]]))

    # Ingest in this process, as the Celery worker would: no scorer, so straight to review.
    _manage(off, "backfill", "--stage", "validate", "--inline")
    assert (
        _manage(off, "shell", "-c", _STATUSES)
        .strip()
        .endswith("[('unscored', False), ('unscored', False)]")
    )

    # A model is configured: backfill queues them and the CPU worker scores them on SQLite.
    _manage(on, "backfill", "--stage", "score")
    log = _manage(on, "run_gpu_worker", "--until-empty", "--threshold", "0")
    assert "2 scored" in log
    assert (
        _manage(on, "shell", "-c", _STATUSES)
        .strip()
        .endswith("[('scored', True), ('scored', True)]")
    )


def test_scorer_with_a_missing_model_directory_fails_with_a_plain_error(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path, VLM_MODEL_PATH=str(tmp_path / "no-such-model"))
    done = subprocess.run(
        [sys.executable, "manage.py", "run_gpu_worker"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no-such-model" in done.stderr
    assert "Traceback" not in done.stderr
