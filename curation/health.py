"""Liveness and readiness for load balancers.

`/healthz/` answers without touching anything, so a slow database does not get healthy web
tasks killed. `/readyz/` checks the database, the broker and the file store. It answers 503, the
failing ones named, while the database or the store is down: no request can be served then. A
broker outage is reported (`"degraded": true`) but the task stays ready, because uploads are
still accepted and the reconciler sends them on later; failing readiness for it would only get
every web task replaced during a Redis outage.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from amqp.exceptions import ChannelError
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from curation.celery import app as celery_app

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1)
        # ChannelError: the broker answered; Redis creates the queue with its first message.
        with contextlib.suppress(ChannelError):
            broker.default_channel.queue_declare(
                queue=celery_app.conf.task_default_queue, passive=True
            )


def _storage() -> None:
    try:
        root = Path(default_storage.path(""))
    except NotImplementedError:
        # A remote store (S3): one HEAD request that must come back, found or not.
        default_storage.exists("readyz")
        return
    if not (root.is_dir() and os.access(root, os.W_OK)):
        raise OSError(f"media folder {root} is not a writable folder")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
}
# Down, these degrade the service without stopping it (see the module docstring).
DEGRADING = frozenset({"broker"})


def readyz(request: HttpRequest) -> HttpResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            logger.warning("readiness: %s unavailable: %s", name, error)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    down = {name for name, value in results.items() if value != "ok"}
    ready = not (down - DEGRADING)
    response = JsonResponse(
        {"ready": ready, "degraded": bool(down), "checks": results},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_S)
    return response


class HealthCheckMiddleware:
    """Answers the two probes before anything reads the Host header: a load balancer's health
    check addresses the task by its private IP, which is not (and should not be) in
    ALLOWED_HOSTS. First in MIDDLEWARE; the probes reveal nothing but ok/unavailable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz/":
            return healthz(request)
        if request.path == "/readyz/":
            return readyz(request)
        return self.get_response(request)
