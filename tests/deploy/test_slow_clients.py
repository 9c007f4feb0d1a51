"""Slow clients hold connections, not the production web process (docs/adr/0006): while 50
clients each send one byte every few seconds, ordinary requests are still answered."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from tests.support.paths import REPO_ROOT

# As the scripts import each other: as top-level modules, scripts/ on the path.
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from faults_slow_clients import p95, slow_clients, timed_get

SLOW_CLIENTS = 50


def test_fifty_slow_clients_do_not_stop_the_web_process_answering(production_server: str) -> None:
    address = urlsplit(production_server)
    assert address.hostname and address.port
    with slow_clients(address.hostname, address.port, count=SLOW_CLIENTS, interval_s=3) as clients:
        paths = ["/healthz/", "/accounts/login/"] * 10
        answers = [timed_get(production_server + path) for path in paths]
        held = clients.held()
    statuses = {status for status, _ in answers}
    timings = [ms for _, ms in answers]
    print(
        f"slow clients held={held}/{SLOW_CLIENTS}: {len(answers)} requests, "
        f"p95={p95(timings):.0f} ms max={max(timings):.0f} ms"
    )
    assert statuses == {200}
    # None of them was answered or dropped: each still occupies the server as a slow client does.
    assert held == SLOW_CLIENTS
