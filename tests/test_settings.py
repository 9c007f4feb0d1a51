"""Production settings refuse to run insecurely."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import REPO_ROOT

_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
)


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=REPO_ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "curation.settings.production", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _run({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_forces_debug_off_and_secure_cookies() -> None:
    result = _run({"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "curation.settings.local", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_misspelt_ingest_setting_stops_the_app_at_start_and_names_itself() -> None:
    # System checks run before `migrate` (what make run and the image's migrate role run
    # first) and `runserver`: a typo must stop the app there, not fail every ingest later.
    typo = _check({"VALIDATOR_THRESHOLDS": '{"min_sharpnes": 0.3}'})
    assert typo.returncode != 0
    assert "VALIDATOR_THRESHOLDS: unknown threshold(s): min_sharpnes" in typo.stderr
    assert "min_sharpness" in typo.stderr  # the known names, to correct it from
    assert "Traceback" not in typo.stderr

    scope = _check({"DEDUP_SCOPE": "galaxy"})
    assert scope.returncode != 0
    assert "DEDUP_SCOPE must be 'owner' or 'global'" in scope.stderr

    assert _check({"VALIDATOR_THRESHOLDS": '{"min_sharpness": 0.3}'}).returncode == 0
