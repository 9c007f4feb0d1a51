"""A virtual environment with only requirements/lambda.txt: no Django anywhere on its path.

Built once per content of the Lambda requirements under the git-ignored var/lambda-venv/ (pip's
own cache makes a rebuild quick), and shared by the clean-environment test and
`make bench-lambda`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
REQUIREMENTS = (REPO / "requirements" / "lambda.txt", REPO / "requirements" / "core.txt")
VENVS = REPO / "var" / "lambda-venv"

# Runs inside the clean environment: the event on stdin, the handler's answer on stdout.
INVOKE = """
import json, sys, time
started = time.perf_counter()
from pipeline.lambda_handler import handler
imported = time.perf_counter()
response = handler(json.load(sys.stdin))
done = time.perf_counter()
print(json.dumps({
    "response": response,
    "import_s": imported - started,
    "invoke_s": done - imported,
    "django_loaded": any(name.split(".")[0] == "django" for name in sys.modules),
}))
"""


def _python() -> str:
    return shutil.which("python3.11") or sys.executable


def lambda_venv() -> Path:
    """The clean environment's interpreter, building the environment if needed."""
    digest = hashlib.sha256()
    for requirement in REQUIREMENTS:
        digest.update(requirement.read_bytes())
    digest.update(_python().encode())
    venv = VENVS / digest.hexdigest()[:16]
    python = venv / "bin" / "python"
    VENVS.mkdir(parents=True, exist_ok=True)
    with (VENVS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([_python(), "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS[0])],
                check=True,
                cwd=REPO,
            )
            (venv / ".complete").touch()
    return python


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """A process environment with the repository (and nothing else) on the import path."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, "PYTHONPATH": str(REPO), **extra}


def invoke_in_clean_venv(event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run the handler on `event` in a fresh process of the clean environment."""
    completed = subprocess.run(
        [str(lambda_venv()), "-c", INVOKE],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env=clean_env(env),
        cwd=REPO,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"handler failed in the clean venv:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
