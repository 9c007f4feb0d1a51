"""`make run`'s runner: which processes a newcomer gets. The run itself, from a fresh clone, is
`make smoke`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_django import Settings

from curation import local_runner
from tests.support.paths import REPO_ROOT


def _names(port: int = 8123) -> list[str]:
    return [child.name for child in local_runner._children("127.0.0.1", port)]


def test_without_a_model_make_run_starts_no_scorer(settings: Settings) -> None:
    settings.VLM_MODEL_PATH = ""
    assert _names() == ["web", "worker"]


def test_with_a_model_make_run_also_starts_the_scoring_loop(
    settings: Settings, tmp_path: Path
) -> None:
    settings.VLM_MODEL_PATH = str(tmp_path)
    children = {child.name: child for child in local_runner._children("127.0.0.1", 8123)}
    assert list(children) == ["web", "worker", "scorer"]
    assert children["scorer"].argv[-1] == "run_gpu_worker"
    # Only the web server ends the run; a worker or scorer that dies is restarted.
    assert [name for name, child in children.items() if child.essential] == ["web"]


def test_the_web_server_listens_where_asked(settings: Settings) -> None:
    web = local_runner._children("0.0.0.0", 9001)[0]
    assert web.argv[-2:] == ["0.0.0.0:9001", "--noreload"]
    # The banner gives an address this machine can open, not the wildcard.
    assert local_runner.Runner("0.0.0.0", 9001).base == "http://127.0.0.1:9001"


def test_a_misspelt_setting_stops_make_run_before_anything_starts(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.local",
        "VALIDATOR_THRESHOLDS": '{"min_sharpnes": 0.3}',
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "curation.local_runner", "--port", "9"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert "cannot start until its settings are fixed" in run.stdout
    assert "VALIDATOR_THRESHOLDS: unknown threshold(s): min_sharpnes" in run.stdout
    assert "worker |" not in run.stdout  # nothing was started
    assert not (tmp_path / "media").exists()  # nor prepared
