"""Real outages for fault tests: a broker or a database on a port where nothing listens."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.db import connection

from curation.celery import app


def closed_port() -> int:
    """A local TCP port with nothing listening: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _use_broker(url: str) -> None:
    app.conf.broker_url = app.conf.broker_write_url = url
    # Drop pooled connections and producers bound to the previous URL.
    app.amqp._producer_pool = None
    app._pool = None


@contextmanager
def broker_unreachable() -> Iterator[None]:
    saved = app.conf.broker_url
    _use_broker(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        yield
    finally:
        _use_broker(saved)


@contextmanager
def database_unreachable() -> Iterator[None]:
    """This process's PostgreSQL connection re-opened against a closed port. Needs a
    transactional test: the connection is closed under pytest-django's feet."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(closed_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


def queued_task_args(broker_url: str, task: str) -> list[list[object]]:
    """The args of every `task` message waiting in the Redis broker's default queue."""
    args = []
    for raw in redis.Redis.from_url(broker_url).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == task:
            args.append(json.loads(base64.b64decode(message["body"]))[0])
    return args
