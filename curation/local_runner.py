"""`make run`: the embedded default in one terminal.

    python -m curation.local_runner --host 127.0.0.1 --port 8000

Prepares `var/` and the SQLite database, then runs the web server, the Celery worker and, when
`VLM_MODEL_PATH` is set, the scoring loop, each as a child with its output prefixed. It prints
where to go only once the web server answers. A worker or scorer that dies is restarted, and the
web server keeps serving meanwhile. Ctrl-C (or SIGTERM) asks every child to finish what it is
doing, waits for it, and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Final

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

READY_TIMEOUT_S: Final = 120.0
# Celery finishes the task in hand on SIGTERM; an ingest is seconds, a scoring batch longer.
STOP_GRACE_S: Final = 25.0
RESTART_BACKOFF_S: Final = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class Child:
    name: str
    argv: list[str]
    essential: bool  # the run ends when an essential child ends; the others are restarted
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str], width: int) -> None:
        # A session of its own: the terminal's Ctrl-C reaches only this runner, which then stops
        # each child once, in order, instead of every process receiving a signal at once.
        self.process = subprocess.Popen(  # noqa: S603 (our own commands, no shell)
            self.argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        assert self.process.stdout is not None
        threading.Thread(
            target=_relay, args=(self.process.stdout, self.name.ljust(width)), daemon=True
        ).start()


def _relay(stream: IO[bytes], prefix: str) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{prefix} | {line.decode(errors='replace')}")
        sys.stdout.flush()


LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")


def _local_address(host: str) -> str:
    """Where this machine itself reaches the server: a wildcard address is not one."""
    wildcards = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104 (not bound)
    return wildcards.get(host, host)


def _say(message: str) -> None:
    sys.stdout.write(f"{message}\n")
    sys.stdout.flush()


def _prepare() -> None:
    """Every folder the embedded default writes to, then the database schema."""
    folders = [Path(settings.MEDIA_ROOT)]
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        folders.append(Path(str(settings.DATABASES["default"]["NAME"])).parent)
    # The filesystem broker's queue, processed and control folders (none for Redis).
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    folders += [Path(str(value)) for key, value in transport.items() if "folder" in key]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)


def _children(host: str, port: int) -> list[Child]:
    python, venv_bin = sys.executable, Path(sys.executable).parent
    children = [
        Child("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"], True),
        Child(
            "worker",
            [
                str(venv_bin / "celery"),
                "-A",
                "curation",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
            ],
            False,
        ),
    ]
    if settings.VLM_MODEL_PATH:
        children.append(Child("scorer", [python, "manage.py", "run_gpu_worker"], False))
    return children


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _banner(base: str, host: str) -> None:
    from django.contrib.auth import get_user_model

    python = os.path.relpath(sys.executable)
    lines = [
        "",
        f"  Parjanya is running at {base}/",
        f"  Upload at {base}/upload/ and review at {base}/admin/.",
        "",
    ]
    if host not in LOOPBACK and "*" not in settings.ALLOWED_HOSTS:
        lines += [
            "  Other machines reach it by this machine's name or address only once that is in",
            f"  DJANGO_ALLOWED_HOSTS (now {','.join(settings.ALLOWED_HOSTS)}), e.g.",
            f"      DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,photos.lan make run HOST={host}",
            "",
        ]
    if not get_user_model().objects.exists():
        lines += [
            "  Create the first account (a curator, who can also upload and invite photographers):",
            f"      {python} manage.py createsuperuser",
            "",
        ]
    if not settings.VLM_MODEL_PATH:
        lines += [
            "  Scoring is off (VLM_MODEL_PATH is not set): photos that pass the validator are",
            "  ready for review, not scored. The README says how to turn scoring on.",
            "",
        ]
    lines += ["  Press Ctrl-C to stop.", ""]
    _say("\n".join(lines))


class Runner:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.base = f"http://{_local_address(host)}:{port}"
        self.children = _children(host, port)
        self.width = max(len(child.name) for child in self.children)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.stopping = threading.Event()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start(self.env, self.width)
        code = self._wait_ready()
        if code is None:
            _banner(self.base, self.host)
            code = self._supervise()
        self._stop_all()
        return code

    def _wait_ready(self) -> int | None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        web = self.children[0]
        while not self.stopping.is_set():
            if _answers(f"{self.base}/healthz/"):
                return None
            if web.process is not None and web.process.poll() is not None:
                _say(
                    f"The web server exited with code {web.process.returncode} before it answered."
                )
                return 1
            if time.monotonic() > deadline:
                _say(f"The web server did not answer within {READY_TIMEOUT_S:.0f} s.")
                return 1
            time.sleep(0.3)
        return 0

    def _supervise(self) -> int:
        while not self.stopping.wait(0.5):
            for child in self.children:
                assert child.process is not None
                code = child.process.poll()
                if code is None:
                    continue
                if child.essential:
                    _say(f"The {child.name} process exited with code {code}; stopping everything.")
                    return 1
                self._restart(child, code)
        return 0

    def _restart(self, child: Child, code: int) -> None:
        # A child that ran a good while before dying starts again from the shortest wait.
        if time.monotonic() - child.started_at > 60:
            child.restarts = 0
        delay = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
        _say(f"The {child.name} process exited with code {code}; restarting it in {delay:.0f} s.")
        child.restarts += 1
        if not self.stopping.wait(delay):
            child.start(self.env, self.width)

    def _stop_all(self) -> None:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        if running:
            _say("Stopping: " + ", ".join(c.name for c in running) + " (finishing work in hand)...")
        for child in running:
            assert child.process is not None
            # The main process only: Celery then stops its own pool without errors.
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"The {child.name} process did not stop in {STOP_GRACE_S:.0f} s; killing it.")
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        _say("Stopped.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.local")
    django.setup()
    try:
        # call_command skips the system checks unless told, and they are what catches a
        # misspelt setting before anything starts.
        call_command("check")
    except SystemCheckError as error:
        _say(f"Parjanya cannot start until its settings are fixed.\n{error}")
        return 2
    _prepare()
    return Runner(args.host, args.port).run()


if __name__ == "__main__":
    sys.exit(main())
