"""pytest plugin: a real dynalite (DynamoDB-compatible) server on 127.0.0.1 for the session.

dynalite is an npm package pinned in `deploy/dynalite/package.json` + `package-lock.json`. The
first run installs it with `npm ci` into the git-ignored `var/node/` (node >= 20 and the npm
registry needed once); later runs reuse it. Data lives on disk (LevelDB) in a temporary folder,
like a real table would, and is gone when the session ends.

Register with `pytest_plugins = ["tests.support.dynalite"]`; the fixture yields the endpoint URL.
"""

from __future__ import annotations

import fcntl
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PINNED = REPO / "deploy" / "dynalite"
NODE_PREFIX = REPO / "var" / "node"
DYNALITE_BIN = NODE_PREFIX / "node_modules" / ".bin" / "dynalite"


def install_dynalite() -> Path:
    """Install the pinned dynalite into var/node/ unless it is there; safe across processes."""
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    with (NODE_PREFIX / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not DYNALITE_BIN.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(PINNED / name, NODE_PREFIX / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX)],
                check=True,
                timeout=600,
            )
    return DYNALITE_BIN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynalite exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dynalite did not listen on port {port} within {timeout}s")


def start_dynalite(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start dynalite with its data in `data_dir`. Returns the process and the endpoint URL."""
    binary = install_dynalite()
    port = _free_port()
    process = subprocess.Popen(
        [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--path",
            str(data_dir),
            "--createTableMs",
            "0",
            "--deleteTableMs",
            "0",
            "--updateTableMs",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process, timeout=30)
    except BaseException:
        stop_dynalite(process)
        raise
    return process, f"http://127.0.0.1:{port}"


def stop_dynalite(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def dynalite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, endpoint = start_dynalite(tmp_path_factory.mktemp("dynalite"))
    try:
        yield endpoint
    finally:
        stop_dynalite(process)
