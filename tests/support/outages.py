"""Real outages for fault tests: a broker or a database on a free port, where nothing listens."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import redis
from django.db import connection

from curation.celery import app
from gallery import services as gallery_services
from tests.support.processes import free_port


def _use_broker(url: str, options: dict[str, Any]) -> None:
    app.conf.broker_url = app.conf.broker_write_url = url
    app.conf.broker_transport_options = options
    # Drop pooled connections and producers bound to the previous URL.
    app.amqp._producer_pool = None
    app._pool = None


@contextmanager
def _broker(url: str, options: dict[str, Any]) -> Iterator[None]:
    saved = app.conf.broker_url, app.conf.broker_transport_options
    _use_broker(url, options)
    try:
        yield
    finally:
        _use_broker(*saved)


@contextmanager
def broker_unreachable() -> Iterator[None]:
    with _broker(f"redis://127.0.0.1:{free_port()}/0", {}):
        try:
            yield
        finally:
            # The broker is back: this process need not wait out the upload back-off.
            gallery_services._broker_down_until = 0.0


def filesystem_broker(folder: Path) -> AbstractContextManager[None]:
    """This process sends to kombu's filesystem transport in `folder`, laid out as a worker
    started with CELERY_BROKER_URL=filesystem://localhost// and CELERY_BROKER_FOLDER=folder
    reads it."""
    queue, processed, control = folder / "queue", folder / "processed", folder / "control"
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }
    return _broker("filesystem://localhost//", options)


@contextmanager
def database_unreachable() -> Iterator[None]:
    """This process's PostgreSQL connection re-opened against a closed port. Needs a
    transactional test: the connection is closed under pytest-django's feet."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


def queued_messages(broker_url: str, queue: str = "celery") -> list[tuple[str, list[Any]]]:
    """(task name, args) of every message waiting on a Redis broker's queue, oldest first."""
    found = []
    for raw in reversed(redis.Redis.from_url(broker_url).lrange(queue, 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def queued_task_args(broker_url: str, task: str) -> list[list[Any]]:
    """The args of every `task` message waiting in the broker's default queue."""
    return [args for name, args in queued_messages(broker_url) if name == task]
