"""The ingest reconciler's loop, a thread inside every Celery worker.

Kombu's filesystem transport (the embedded default) never redelivers a message whose worker
died, and Redis waits CELERY_VISIBILITY_TIMEOUT before it does; a broker that was down when a
photo was uploaded never got its message at all. Every `every_s` this loop asks
gallery.services.photo_reconcile_ingest to re-send what has waited longer than `older_than_s`.
Running it inside the worker means nothing extra to start, on either broker; several workers
running it at once is safe (the service skips rows another one holds). The same pass removes the
parts of local-mode resumable uploads abandoned for `parts_idle_s` (their token has expired by
then, so nothing could complete them).
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection

from gallery import direct_upload
from gallery import services as gallery_services

logger = logging.getLogger(__name__)


class IngestReconciler:
    def __init__(self, *, every_s: float, older_than_s: int, parts_idle_s: float) -> None:
        self.every_s = every_s
        self.older_than_s = older_than_s
        self.parts_idle_s = parts_idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-reconciler", daemon=True)

    def start(self) -> None:
        logger.info(
            "ingest reconciler: every %s s, re-sending photos waiting over %s s",
            self.every_s,
            self.older_than_s,
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        # A pass at start-up too: a worker restarted after a crash picks up at once what the
        # dead one left.
        while True:
            self.run_once()
            if self._stop.wait(self.every_s):
                return

    def run_once(self) -> None:
        try:
            direct_upload.direct_upload_sweep_abandoned(idle_s=self.parts_idle_s)
        except OSError as error:
            logger.warning("ingest reconciler: could not sweep abandoned upload parts: %s", error)
        try:
            gallery_services.photo_reconcile_ingest(older_than_s=self.older_than_s)
        except DatabaseError as error:
            logger.warning("ingest reconciler: database unavailable, next pass retries: %s", error)
        finally:
            # No connection held between passes: a pool child forked meanwhile must not
            # inherit an open one.
            connection.close()
