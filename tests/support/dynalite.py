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
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import free_port, listening, start, stop

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


def start_dynalite(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start dynalite with its data in `data_dir`, once it listens. Returns the process (stop it
    with tests.support.processes.stop) and the endpoint URL."""
    binary = install_dynalite()
    port = free_port()
    process = start(
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
        what="dynalite",
        ready=listening(port),
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def dynalite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, endpoint = start_dynalite(tmp_path_factory.mktemp("dynalite"))
    try:
        yield endpoint
    finally:
        stop(process)
