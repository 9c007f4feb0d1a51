"""`manage.py backfill` against real PostgreSQL and a real Redis broker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from pytest_django import Settings

from gallery.models import Photo, PhotoEvent
from pipeline.backfill.run import RateLimiter
from tests.support.celery_worker import database_url, wait_until
from tests.support.outages import queued_messages
from tests.support.paths import PHOTOS, REPO_ROOT

S = Photo.Status
R = Photo.RejectReason


def _photo(owner: User, status: str, reason: str = "", **fields: Any) -> Photo:
    return Photo.objects.create(
        owner=owner,
        original=fields.pop("original", f"originals/{uuid.uuid4().hex}.jpg"),
        original_filename=fields.pop("original_filename", "frame.jpg"),
        status=status,
        reject_reason=reason,
        **fields,
    )


@pytest.fixture
def library(photographer: User, other_photographer: User) -> dict[str, Photo]:
    """One photo in every situation backfill distinguishes, in id order."""
    return {
        "uploaded": _photo(photographer, S.UPLOADED),
        "awaiting": _photo(photographer, S.AWAITING_SCORE),
        "paired": _photo(photographer, S.PAIRED),
        "scored": _photo(photographer, S.SCORED, vlm_score=0.8),
        "low_score": _photo(photographer, S.REJECTED, R.LOW_SCORE, vlm_score=0.2),
        "blurry": _photo(photographer, S.REJECTED, R.BLURRY),
        "unreadable": _photo(photographer, S.REJECTED, R.UNREADABLE),
        "failed": _photo(photographer, S.FAILED, R.ERROR),
        "approved": _photo(photographer, S.APPROVED, curator_decision="approved"),
        "curator_rejected": _photo(
            photographer, S.REJECTED, R.CURATOR, curator_decision="rejected"
        ),
        "other_owner": _photo(other_photographer, S.SCORED, vlm_score=0.9),
    }


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of its own on the test broker, so nothing else consumes or sends to it."""
    name = f"backfill-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


def _messages(queue: str) -> list[tuple[str, list[int]]]:
    """(task name, args) of every message waiting on the queue, oldest first."""
    return queued_messages(settings.CELERY_BROKER_URL, queue)


def _backfill(*args: str, checkpoints: Path) -> str:
    out = StringIO()
    call_command("backfill", *args, "--checkpoint-dir", str(checkpoints), stdout=out)
    return out.getvalue()


def _state(photos: dict[str, Photo]) -> dict[str, tuple[str, str, str]]:
    return {
        name: Photo.objects.values_list("status", "reject_reason", "curator_decision").get(
            pk=photo.pk
        )
        for name, photo in photos.items()
    }


def _backfill_events(photo: Photo) -> int:
    return PhotoEvent.objects.filter(photo=photo, cause="backfill").count()


@pytest.mark.django_db
def test_dry_run_counts_per_status_and_changes_nothing(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    before = (_state(library), PhotoEvent.objects.count())

    out = _backfill("--stage", "validate", "--dry-run", "--queue", queue, checkpoints=tmp_path)

    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:-2]}
    assert out.splitlines()[1].split() == ["status", "curator", "decision", "would", "run"]
    assert rows == {
        "approved": ["1", "0"],
        "awaiting_score": ["0", "1"],
        "failed": ["0", "1"],
        "paired": ["0", "1"],
        "rejected": ["1", "3"],
        "scored": ["0", "2"],
        "uploaded": ["0", "1"],
    }
    assert "total: 11 photos, 9 would run" in out
    assert (_state(library), PhotoEvent.objects.count()) == before
    assert _messages(queue) == []
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_a_dry_run_that_matches_nothing_says_so(library: dict[str, Photo], tmp_path: Path) -> None:
    out = _backfill(
        "--stage", "validate", "--since", "2099-01-01", "--dry-run", checkpoints=tmp_path
    )  # fmt: skip

    assert out.splitlines()[1:3] == [
        "no photo matches these filters",
        "total: 0 photos, 0 would run",
    ]


@pytest.mark.django_db
def test_score_dry_run_says_why_photos_are_left_alone(
    library: dict[str, Photo], tmp_path: Path
) -> None:
    out = _backfill("--stage", "score", "--dry-run", checkpoints=tmp_path)

    assert "total: 11 photos, 3 would run" in out
    header = out.splitlines()[1]
    for reason in (
        "already awaiting score",
        "curator decision",
        "not past the validator",
        "paired (its twin is scored)",
    ):
        assert reason in header


@pytest.mark.django_db
def test_validate_enqueues_ingest_for_every_photo_a_curator_has_not_decided(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    curated = {name: library[name] for name in ("approved", "curator_rejected")}
    curated_before = _state(curated)
    curated_events = PhotoEvent.objects.filter(photo__in=curated.values()).count()

    out = _backfill(
        "--stage", "validate", "--queue", queue, "--batch-size", "3", checkpoints=tmp_path
    )

    expected = sorted(p.pk for name, p in library.items() if name not in curated)
    sent = _messages(queue)
    assert {task for task, _ in sent} == {"pipeline.ingest_photo"}
    assert sorted(args[0] for _, args in sent) == expected
    for name, photo in library.items():
        if name in curated:
            continue
        photo.refresh_from_db()
        assert photo.status == S.UPLOADED, name
        assert photo.reject_reason == ""
        assert _backfill_events(photo) == (0 if name == "uploaded" else 1), name
    assert _state(curated) == curated_before
    assert PhotoEvent.objects.filter(photo__in=curated.values()).count() == curated_events
    assert "processed: 9" in out
    assert "skipped: 2 (curator decision: 2)" in out
    assert "failed: 0" in out


@pytest.mark.django_db
def test_previews_enqueues_for_ingested_photos_and_changes_no_status(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    before = (_state(library), PhotoEvent.objects.count())

    out = _backfill("--stage", "previews", "--queue", queue, checkpoints=tmp_path)

    left_alone = {"uploaded", "unreadable"}
    expected = sorted(p.pk for name, p in library.items() if name not in left_alone)
    sent = _messages(queue)
    assert {task for task, _ in sent} == {"pipeline.regenerate_previews"}
    assert sorted(args[0] for _, args in sent) == expected
    assert (_state(library), PhotoEvent.objects.count()) == before
    assert "skipped: 2 (not ingested yet: 1, unreadable original: 1)" in out


@pytest.mark.django_db
def test_resuming_a_finished_run_does_nothing_again(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    _backfill("--stage", "validate", "--queue", queue, checkpoints=tmp_path)
    events = PhotoEvent.objects.count()
    messages = len(_messages(queue))

    out = _backfill("--stage", "validate", "--queue", queue, "--resume", checkpoints=tmp_path)

    assert "already completed" in out
    assert PhotoEvent.objects.count() == events
    assert len(_messages(queue)) == messages


@pytest.mark.django_db
def test_resume_without_a_checkpoint_is_refused(library: dict[str, Photo], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="nothing to resume"):
        _backfill("--stage", "validate", "--resume", checkpoints=tmp_path)


@pytest.mark.django_db
def test_score_sends_scored_and_low_scored_photos_back_to_the_gpu(
    library: dict[str, Photo], tmp_path: Path
) -> None:
    before = _state(library)

    out = _backfill("--stage", "score", checkpoints=tmp_path)

    after = _state(library)
    moved = {name for name in library if after[name] != before[name]}
    assert moved == {"scored", "low_score", "other_owner"}
    assert {after[name][0] for name in moved} == {S.AWAITING_SCORE}
    assert "processed: 3" in out
    assert "already awaiting score: 1" in out
    assert "curator decision: 2" in out
    assert "not past the validator: 4" in out
    assert "paired (its twin is scored): 1" in out


def _selected_for_validation(queue: str, checkpoints: Path, *args: str) -> list[int]:
    """The photo ids a `--stage validate` run with these filters sends to the queue."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    _backfill("--stage", "validate", "--queue", queue, *args, checkpoints=checkpoints)
    return sorted(a[0] for _, a in _messages(queue))


@pytest.mark.django_db
def test_filters_select_by_owner_status_reason_ids_dates_and_limit(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    old = datetime(2025, 1, 10, tzinfo=UTC)
    Photo.objects.filter(pk=library["blurry"].pk).update(created_at=old)
    Photo.objects.filter(pk=library["failed"].pk).update(created_at=old + timedelta(days=1))

    def selected(*args: str) -> list[int]:
        return _selected_for_validation(queue, tmp_path, *args)

    ids = {name: photo.pk for name, photo in library.items()}
    assert selected("--owner", "dorothea") == [ids["other_owner"]]
    assert selected("--status", "rejected", "--reason", "blurry,low_score") == sorted(
        [ids["blurry"], ids["low_score"]]
    )
    assert selected("--ids", f"{ids['scored']},{ids['approved']}") == [ids["scored"]]
    assert selected("--since", "2025-01-10", "--until", "2025-01-11") == [ids["blurry"]]
    assert selected("--until", "2025-06-01T00:00:00+00:00") == sorted(
        [ids["blurry"], ids["failed"]]
    )
    assert selected("--limit", "3") == [ids["uploaded"], ids["awaiting"], ids["paired"]]


@pytest.mark.django_db
def test_unknown_filter_values_are_refused(library: dict[str, Photo], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown status: finished"):
        _backfill("--stage", "validate", "--status", "finished", checkpoints=tmp_path)
    with pytest.raises(CommandError, match="no user named"):
        _backfill("--stage", "validate", "--owner", "nobody", checkpoints=tmp_path)


@pytest.mark.django_db
def test_a_failure_is_reported_per_reason_and_exits_non_zero(
    photographer: User, tmp_path: Path
) -> None:
    photo = _photo(photographer, S.SCORED)  # its original was never stored
    out = StringIO()

    with pytest.raises(CommandError) as failure:
        call_command(
            "backfill", "--stage", "previews", "--inline",
            "--checkpoint-dir", str(tmp_path), stdout=out,
        )  # fmt: skip

    assert failure.value.returncode == 1
    assert "failed: 1 (FileNotFoundError: 1)" in out.getvalue()
    photo.refresh_from_db()
    assert photo.status == S.SCORED


def _stored(owner: User, source: Path, status: str, reason: str = "") -> Photo:
    key = default_storage.save(
        f"originals/{uuid.uuid4().hex}.jpg", ContentFile(source.read_bytes())
    )
    return _photo(
        owner,
        status,
        reason,
        original=key,
        original_filename=source.name,
        size_bytes=source.stat().st_size,
    )


@pytest.mark.django_db
def test_inline_validate_applies_changed_thresholds(
    photographer: User, settings: Settings, tmp_path: Path
) -> None:
    photo = _stored(photographer, PHOTOS / "elephants.jpg", S.SCORED)
    decided = _stored(photographer, PHOTOS / "cat_brown.jpg", S.APPROVED)
    Photo.objects.filter(pk=decided.pk).update(curator_decision="approved")

    # A threshold no photo meets, then one every photo meets (elephants.jpg is well exposed).
    settings.VALIDATOR_THRESHOLDS = {"min_sharpness": 1e9}
    out = _backfill("--stage", "validate", "--inline", checkpoints=tmp_path)

    photo.refresh_from_db()
    assert (photo.status, photo.reject_reason) == (S.REJECTED, R.BLURRY)
    assert photo.preview.name and photo.thumbnail.name
    assert "processed: 1" in out
    assert "skipped: 1 (curator decision: 1)" in out

    settings.VALIDATOR_THRESHOLDS = {"min_sharpness": 0.0}
    _backfill("--stage", "validate", "--inline", checkpoints=tmp_path)

    photo.refresh_from_db()
    decided.refresh_from_db()
    assert (photo.status, photo.reject_reason) == (S.AWAITING_SCORE, "")
    assert (decided.status, decided.curator_decision) == (S.APPROVED, "approved")
    assert _backfill_events(photo) == 2
    assert _backfill_events(decided) == 0


@pytest.mark.django_db
def test_inline_previews_regenerates_previews_and_keeps_the_status(
    photographer: User, tmp_path: Path
) -> None:
    photo = _stored(photographer, PHOTOS / "elephants.jpg", S.SCORED)
    Photo.objects.filter(pk=photo.pk).update(curator_decision="approved", status=S.APPROVED)

    _backfill("--stage", "previews", "--inline", checkpoints=tmp_path)

    photo.refresh_from_db()
    assert photo.status == S.APPROVED
    assert photo.preview.name and photo.thumbnail.name
    with default_storage.open(photo.preview.name) as preview:
        assert preview.read(3) == b"\xff\xd8\xff"
    assert default_storage.exists(photo.thumbnail.name)


def test_rate_limiter_spaces_calls_evenly() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()

    assert now[0] == pytest.approx(1.0)
    assert slept == pytest.approx([0.25] * 4)


# --- Real processes: interruption and resumption ------------------------------------------


def _command(*args: str) -> list[str]:
    return [sys.executable, "manage.py", "backfill", *args]


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


def _checkpoint(directory: Path) -> dict[str, int] | None:
    found = list(directory.glob("backfill-*.json"))
    return json.loads(found[0].read_text()) if found else None


def _mid_batch(directory: Path) -> bool:
    """At least one batch is checkpointed and photos of the next one are journalled."""
    checkpoint = _checkpoint(directory)
    journal = list(directory.glob("backfill-*.journal"))
    return bool(checkpoint and checkpoint["after_id"] > 0 and journal and journal[0].read_text())


@pytest.mark.django_db(transaction=True)
def test_a_killed_inline_run_resumes_without_doing_anything_twice(
    photographer: User, tmp_path: Path
) -> None:
    sources = [PHOTOS / n for n in ("elephants.jpg", "cat_brown.jpg", "beach_sand.jpg")]
    photos = [_stored(photographer, sources[i % 3], S.SCORED) for i in range(24)]
    checkpoints = tmp_path / "checkpoints"
    args: tuple[str, ...] = ("--stage", "validate", "--inline", "--batch-size", "4")
    args += ("--checkpoint-dir", str(checkpoints))

    first = subprocess.Popen(
        _command(*args, "--rate", "6"), cwd=REPO_ROOT, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # Kill it mid-batch: after at least one checkpoint, with photos in the journal.
        wait_until(
            lambda: _mid_batch(checkpoints),
            timeout_s=120,
            what="the first checkpoint and a journalled photo",
        )
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    done_before = sum(_backfill_events(p) for p in photos)
    assert 0 < done_before < len(photos)

    second = subprocess.run(
        _command(*args, "--resume"), cwd=REPO_ROOT, env=_env(),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert second.returncode == 0, second.stdout + second.stderr
    assert "processed: 24" in second.stdout
    for photo in photos:
        events = list(PhotoEvent.objects.filter(photo=photo).order_by("pk"))
        resets = [e for e in events if e.cause == "backfill"]
        ingested = [e for e in events if e.from_status == S.UPLOADED]
        assert len(resets) == 1, (photo.pk, [str(e) for e in events])
        assert len(ingested) == 1, (photo.pk, [str(e) for e in events])
        photo.refresh_from_db()
        assert photo.status in (S.AWAITING_SCORE, S.REJECTED)


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_cleanly_and_resume_finishes_the_rest(
    photographer: User, tmp_path: Path
) -> None:
    photos = [_photo(photographer, S.SCORED) for _ in range(30)]
    args = ("--stage", "score", "--batch-size", "5", "--checkpoint-dir", str(tmp_path))

    first = subprocess.Popen(
        _command(*args, "--rate", "15"), cwd=REPO_ROOT, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until(
        lambda: Photo.objects.filter(status=S.AWAITING_SCORE).exists(),
        timeout_s=60,
        what="the first batch to be sent back to the GPU",
    )
    first.send_signal(signal.SIGINT)
    stdout, stderr = first.communicate(timeout=60)

    assert first.returncode == 130, stdout + stderr
    assert "interrupted; continue with the same command and --resume" in stderr
    moved = Photo.objects.filter(status=S.AWAITING_SCORE).count()
    assert 0 < moved < len(photos)

    second = subprocess.run(
        _command(*args, "--resume"), cwd=REPO_ROOT, env=_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"processed: 30\b", second.stdout)
    assert Photo.objects.filter(status=S.AWAITING_SCORE).count() == len(photos)
    assert all(_backfill_events(p) == 1 for p in photos)


@pytest.mark.django_db
def test_flag_selects_the_photos_the_validator_flagged(
    library: dict[str, Photo], queue: str, tmp_path: Path
) -> None:
    soft = _photo(library["scored"].owner, S.SCORED, flag_possibly_soft=True)
    dark = _photo(library["scored"].owner, S.SCORED, flag_possibly_underexposed=True)
    polyglot = _photo(library["scored"].owner, S.AWAITING_SCORE, note_trailing_data=True)

    def selected(*args: str) -> list[int]:
        return _selected_for_validation(queue, tmp_path, *args)

    assert selected("--flag", "possibly_soft") == [soft.pk]
    assert selected("--flag", "possibly_soft,possibly_underexposed") == [soft.pk, dark.pk]
    assert selected("--flag", "trailing_data") == [polyglot.pk]
    assert selected("--flag", "possibly_overexposed") == []
    with pytest.raises(CommandError, match="unknown flag: soft"):
        _backfill("--stage", "validate", "--flag", "soft", checkpoints=tmp_path)


@pytest.mark.django_db
def test_inline_validate_of_flagged_photos_applies_the_new_verdict(
    photographer: User, tmp_path: Path
) -> None:
    flagged = _stored(photographer, PHOTOS / "elephants.jpg", S.SCORED)
    Photo.objects.filter(pk=flagged.pk).update(
        validator_verdict="borderline", flag_possibly_soft=True
    )
    unflagged = _stored(photographer, PHOTOS / "cat_brown.jpg", S.SCORED)

    out = _backfill(
        "--stage", "validate", "--flag", "possibly_soft", "--inline", checkpoints=tmp_path
    )

    flagged.refresh_from_db()
    unflagged.refresh_from_db()
    assert "processed: 1" in out
    # Today's validator passes elephants.jpg outright: the doubt is gone with the new verdict.
    assert (flagged.status, flagged.validator_verdict) == (S.AWAITING_SCORE, "pass")
    assert flagged.validator_flags == []
    assert (unflagged.status, _backfill_events(unflagged)) == (S.SCORED, 0)


def _ingest_queued(queue: str) -> set[int]:
    return {args[0] for task, args in _messages(queue) if task == "pipeline.ingest_photo"}


def _reset_to_uploaded(photos: list[Photo]) -> set[int]:
    return set(
        Photo.objects.filter(pk__in=[p.pk for p in photos], status=S.UPLOADED).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_in_enqueue_mode_resets_only_what_it_sent(
    photographer: User, tmp_path: Path, queue: str
) -> None:
    photos = [_photo(photographer, S.SCORED) for _ in range(20)]
    args = ("--stage", "validate", "--queue", queue, "--checkpoint-dir", str(tmp_path))
    first = subprocess.Popen(
        _command(*args, "--rate", "2"), cwd=REPO_ROOT, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until(lambda: bool(_messages(queue)), timeout_s=60, what="the first message")
    first.send_signal(signal.SIGINT)
    stdout, stderr = first.communicate(timeout=60)

    assert first.returncode == 130, stdout + stderr
    assert "interrupted; continue with the same command and --resume" in stderr
    assert "processed:" in stdout  # the summary is printed before the non-zero exit
    sent = _ingest_queued(queue)
    # One batch of 20, yet only the photos whose message went out were reset.
    assert 0 < len(sent) < len(photos)
    assert _reset_to_uploaded(photos) == sent


@pytest.mark.django_db(transaction=True)
def test_sigkill_in_enqueue_mode_leaves_nothing_resume_does_not_pick_up(
    photographer: User, tmp_path: Path, queue: str
) -> None:
    photos = [_photo(photographer, S.SCORED) for _ in range(20)]
    args = ("--stage", "validate", "--queue", queue, "--checkpoint-dir", str(tmp_path))
    first = subprocess.Popen(
        _command(*args, "--rate", "4"), cwd=REPO_ROOT, env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until(lambda: len(_messages(queue)) >= 2, timeout_s=60, what="two messages")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    sent = _ingest_queued(queue)
    reset = _reset_to_uploaded(photos)
    # At most the photo in hand was reset without its message (the reconciler sends it).
    assert len(reset - sent) <= 1
    assert len(reset) < len(photos)

    second = subprocess.run(
        _command(*args, "--resume"), cwd=REPO_ROOT, env=_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode == 0, second.stdout + second.stderr
    assert _ingest_queued(queue) == {p.pk for p in photos}
    assert all(_backfill_events(p) == 1 for p in photos)
