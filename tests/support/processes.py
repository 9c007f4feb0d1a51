"""The one harness for every server the tests (and the benchmarks) start as a child process:
free ports, wait until it answers, then stop it with SIGTERM and, if it lingers, SIGKILL.

A deadline here only bounds a failing start or stop; nothing asserts how fast a server is.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_POLL_S = 0.1


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 where nothing listens now: a server may take them, and a client that
    connects to one is refused at once (a dependency that is down). All sockets stay open until
    every port is chosen, so the same port is never handed out twice."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def listening(port: int) -> Callable[[], bool]:
    """A readiness probe: something accepts TCP connections on 127.0.0.1:`port`."""

    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    return probe


def _log_tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n" + log.read_text(errors="replace")[-5000:]


def wait_until_ready(
    process: subprocess.Popen[Any],
    ready: Callable[[], bool],
    *,
    what: str,
    timeout_s: float = 30.0,
    log: Path | None = None,
) -> None:
    """Poll `ready` until it holds; fail at once if the process exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}{_log_tail(log)}")
        if ready():
            return
        time.sleep(_POLL_S)
    raise RuntimeError(f"{what} did not answer within {timeout_s:.0f} s{_log_tail(log)}")


def stop(process: subprocess.Popen[Any], *, timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `timeout_s`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start(
    command: Sequence[str],
    *,
    what: str,
    ready: Callable[[], bool] | None = None,
    start_timeout_s: float = 30.0,
    log: Path | None = None,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Start `command` and, given a `ready` probe, return once it answers. Its output goes to
    `log` (shown when it fails to start) or nowhere; `popen` takes cwd, env and the like."""
    if log is None:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen
        )
    else:
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    if ready is not None:
        try:
            wait_until_ready(process, ready, what=what, timeout_s=start_timeout_s, log=log)
        except BaseException:
            stop(process)
            raise
    return process


@contextmanager
def running(
    command: Sequence[str],
    *,
    what: str,
    ready: Callable[[], bool] | None = None,
    start_timeout_s: float = 30.0,
    stop_timeout_s: float = 10.0,
    log: Path | None = None,
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """`start`, yield the process, then `stop` it whatever happened. One that had already
    exited with an error (it crashed, or a test killed it) prints the end of its `log`."""
    process = start(
        command, what=what, ready=ready, start_timeout_s=start_timeout_s, log=log, **popen
    )
    try:
        yield process
    finally:
        exited = process.poll()
        stop(process, timeout_s=stop_timeout_s)
        if exited not in (None, 0):
            print(f"{what} exited with {exited}{_log_tail(log)}")
