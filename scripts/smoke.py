"""`make smoke`: a newcomer's first run, end to end, from a fresh clone of the current commit.

It clones HEAD into a temporary folder, links the already-built .venv (no second install), runs
`make run` there exactly as the README says on a free port, creates the first account, uploads a
good JPEG, a DNG, a blurred JPEG and a broken file through the API, waits for each to reach its
final verdict, fetches the main pages, then stops `make run` the way a person does (Ctrl-C) and
checks that nothing it started is left running. Last line:

    smoke: fresh_clone_run=ok verdicts=4/4 seconds=...
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.processes import free_port  # noqa: E402

PHOTOS = REPO.parent / "shared" / "testdata" / "photos"
START_TIMEOUT_S = 240.0
VERDICT_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
# Statuses a photo only passes through; with no model configured nothing waits for a scorer.
IN_FLIGHT = {"uploaded", "awaiting_score"}
USERNAME, PASSWORD = "first-curator", "smoke-test-password-7431"


class SmokeFailure(Exception):
    pass


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    # Whether the verdict a photographer sees is the one this file deserves.
    expected: Callable[[dict[str, object]], bool]
    expectation: str


def _blurred_jpeg() -> bytes:
    """A real photo defocused far past anything a photographer would keep. Not the good JPEG's
    scene: a blurred copy of it is rightly caught as its near-duplicate first."""
    with Image.open(PHOTOS / "cat_brown.jpg") as image:
        blurred = image.convert("RGB").filter(ImageFilter.GaussianBlur(radius=max(image.size) / 80))
    buffer = io.BytesIO()
    blurred.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _uploads() -> list[Upload]:
    good = (PHOTOS / "elephants.jpg").read_bytes()

    def not_rejected(photo: dict[str, object]) -> bool:
        return photo["status"] != "rejected"

    def blurry(photo: dict[str, object]) -> bool:
        flags = photo.get("flags") or []
        return photo.get("reject_reason") == "blurry" or (
            isinstance(flags, list) and "possibly_soft" in flags
        )

    def unreadable(photo: dict[str, object]) -> bool:
        return photo.get("reject_reason") == "unreadable"

    return [
        Upload("elephants.jpg", good, not_rejected, "kept"),
        Upload(
            "canon_eos_6d.dng", (PHOTOS / "canon_eos_6d.dng").read_bytes(), not_rejected, "kept"
        ),
        Upload("cat-defocused.jpg", _blurred_jpeg(), blurry, "rejected or flagged as blurry"),
        Upload("broken.jpg", good[: len(good) // 3], unreadable, "rejected as unreadable"),
    ]


def _wait_until(what: str, timeout_s: float, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.5)
    raise SmokeFailure(f"{what}: not within {timeout_s:.0f} s")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _manage(clone: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(clone / ".venv/bin/python"), "manage.py", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _log_in(base: str) -> requests.Session:
    """Log in as a person would: through whatever login page `/` sends an anonymous visitor to."""
    session = requests.Session()
    page = session.get(f"{base}/", timeout=10)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or not match:
        raise SmokeFailure(f"/ did not lead to a login form (HTTP {page.status_code})")
    answer = session.post(
        page.url,
        data={"csrfmiddlewaretoken": match[1], "username": USERNAME, "password": PASSWORD},
        headers={"Referer": page.url},
        timeout=10,
    )
    if "sessionid" not in session.cookies:
        raise SmokeFailure(f"logging in at {page.url} failed (HTTP {answer.status_code})")
    return session


def _run(clone: Path, port: int, log: Path) -> tuple[int, int]:
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "VLM_MODEL_PATH"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        # Its own session, so the Ctrl-C below reaches make and everything under it, as a
        # terminal's would, and nothing else.
        server = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:

            def serving() -> bool:
                if server.poll() is not None:
                    raise SmokeFailure(f"make run exited with code {server.returncode}")
                return _answers(f"{base}/healthz/")

            _wait_until("make run serving /healthz/", START_TIMEOUT_S, serving)
            _wait_until("the first-account hint", 30, lambda: "createsuperuser" in log.read_text())
            _manage(
                clone,
                "createsuperuser",
                "--noinput",
                "--username",
                USERNAME,
                "--email",
                "curator@example.com",
                env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            )
            token = _manage(clone, "drf_create_token", USERNAME, env=env).split()[2]
            verdicts = _upload_and_wait(base, token)
            session = _log_in(base)
            detail = f"/photos/{verdicts[0]}/"
            for path in ("/", "/upload/", "/admin/", detail):
                answer = session.get(f"{base}{path}", timeout=10)
                if answer.status_code != 200:
                    raise SmokeFailure(f"GET {path} answered {answer.status_code}")
            return len(verdicts), len(_uploads())
        finally:
            _stop(server)


def _upload_and_wait(base: str, token: str) -> list[str]:
    headers = {"Authorization": f"Token {token}"}
    uploads = _uploads()
    answer = requests.post(
        f"{base}/api/photos/",
        headers=headers,
        files=[("files", (upload.name, upload.data)) for upload in uploads],
        timeout=60,
    )
    created = {
        photo["original_filename"]: photo["id"] for photo in answer.json().get("created", [])
    }
    if len(created) != len(uploads):
        raise SmokeFailure(f"upload answered {answer.status_code}: {answer.text[:500]}")
    final: dict[str, dict[str, object]] = {}

    def all_final() -> bool:
        for upload in uploads:
            photo = requests.get(
                f"{base}/api/photos/{created[upload.name]}/", headers=headers, timeout=10
            ).json()
            if photo["status"] not in IN_FLIGHT:
                final[upload.name] = photo
        return len(final) == len(uploads)

    try:
        _wait_until("every upload reaching its final verdict", VERDICT_TIMEOUT_S, all_final)
    finally:
        for upload in uploads:
            photo = final.get(upload.name)
            fields = ("status", "reject_reason", "reject_detail")
            state = " ".join(str(photo.get(f) or "") for f in fields) if photo else "in flight"
            print(f"  {upload.name:26} {state.strip()}")
    wrong = [
        f"{u.name} (should be {u.expectation})" for u in uploads if not u.expected(final[u.name])
    ]
    if wrong:
        raise SmokeFailure(f"wrong verdicts: {', '.join(wrong)}")
    return [str(created[u.name]) for u in uploads]


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person stops `make run`; everything it started must be gone afterwards."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            raise SmokeFailure(
                f"make run did not stop within {STOP_TIMEOUT_S:.0f} s of Ctrl-C"
            ) from None
    try:
        os.killpg(server.pid, 0)
    except ProcessLookupError:
        return
    os.killpg(server.pid, signal.SIGKILL)
    raise SmokeFailure("processes started by make run were still running after it stopped")


def main() -> int:
    started = time.monotonic()
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="parjanya-smoke-") as tmp:
        clone = Path(tmp) / "parjanya"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        subprocess.run(["git", "checkout", "--quiet", head], cwd=clone, check=True)
        (clone / ".venv").symlink_to((REPO / ".venv").resolve())
        log = Path(tmp) / "make-run.log"
        try:
            done, total = _run(clone, free_port(), log)
        except (SmokeFailure, subprocess.CalledProcessError, requests.RequestException) as error:
            print(f"smoke: FAILED: {error}\n--- make run output (last 60 lines) ---")
            print(
                "\n".join(log.read_text(errors="replace").splitlines()[-60:])
                if log.exists()
                else "(none)"
            )
            print(f"smoke: fresh_clone_run=failed seconds={time.monotonic() - started:.0f}")
            return 1
    seconds = time.monotonic() - started
    print(f"smoke: fresh_clone_run=ok verdicts={done}/{total} seconds={seconds:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
