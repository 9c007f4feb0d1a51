"""Slow clients on loopback, for `make faults` and tests/deploy/test_slow_clients.py.

Each client opens a connection and sends its request one byte every `interval_s`: half of them
drip the request headers (slowloris), half send the headers of an upload and then drip its body.
Standard library only; one thread drives every client.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def _request_bytes(index: int, host: str) -> tuple[bytes, bytes]:
    """(sent at once, dripped one byte at a time) for client `index`."""
    if index % 2 == 0:
        return b"", f"GET /accounts/login/ HTTP/1.1\r\nHost: {host}\r\nX-Pad: {'a' * 500}".encode()
    head = (
        f"POST /api/photos/ HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    return head, b"b" * 100_000


@dataclass
class SlowClients:
    """Connections that a background thread feeds one byte each every `interval_s`."""

    host: str
    port: int
    count: int
    interval_s: float
    sockets: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        pending: list[tuple[socket.socket, bytes]] = []
        for index in range(self.count):
            conn = socket.create_connection((self.host, self.port), timeout=10)
            head, drip = _request_bytes(index, f"{self.host}:{self.port}")
            if head:
                conn.sendall(head)
            conn.setblocking(False)
            self.sockets.append(conn)
            pending.append((conn, drip))
        self._thread = threading.Thread(target=self._drip, args=(pending,), daemon=True)
        self._thread.start()

    def _drip(self, pending: list[tuple[socket.socket, bytes]]) -> None:
        offset = 0
        while not self._stop.wait(self.interval_s):
            for conn, drip in pending:
                try:
                    conn.send(drip[offset : offset + 1])
                except OSError:
                    continue  # the server dropped it; held() counts that
            offset += 1

    def held(self) -> int:
        """How many connections the server still keeps open (none answered, none closed)."""
        held = 0
        for conn in self.sockets:
            try:
                peeked = conn.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                held += 1  # nothing to read: open, and still waiting for the request
                continue
            except OSError:
                continue
            if not peeked:
                continue  # closed by the server
        return held

    def close(self) -> None:
        self._stop.set()
        for conn in self.sockets:
            conn.close()


@contextmanager
def slow_clients(
    host: str, port: int, *, count: int = 50, interval_s: float = 3.0
) -> Iterator[SlowClients]:
    clients = SlowClients(host=host, port=port, count=count, interval_s=interval_s)
    try:
        clients.open()
        # Let every client get past its first bytes, so each holds whatever a request holds.
        time.sleep(interval_s + 0.5)
        yield clients
    finally:
        clients.close()


def timed_get(url: str, *, timeout_s: float = 30.0) -> tuple[int | None, float]:
    """(HTTP status or None when no answer came, milliseconds taken)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            response.read()
            status: int | None = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = None
    return status, (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[18]
