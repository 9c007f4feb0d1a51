"""Thin Celery tasks: take an id, call one service, own the retries."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import DatabaseError

from gallery import task_names
from gallery.models import Photo
from pipeline import services
from pipeline.config import IngestConfig
from pipeline.core.errors import UnreadableImage
from pipeline.reconciler import IngestReconciler

logger = logging.getLogger(__name__)

# Failures of the infrastructure around a photo, worth retrying; bad *input* never raises here
# (the validator turns it into a recorded rejection).
TRANSIENT_ERRORS = (DatabaseError, OSError, BotoCoreError, ClientError)


_RETRYING_TASK = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": settings.INGEST_MAX_RETRIES,
    "soft_time_limit": settings.INGEST_TASK_TIME_LIMIT_S,
    "time_limit": settings.INGEST_TASK_TIME_LIMIT_S + 30,
}


def _retry_delay(retries: int) -> int:
    return min(5 << retries, 300)


@shared_task(
    name=task_names.INGEST_PHOTO,
    **_RETRYING_TASK,
)  # type: ignore[untyped-decorator]  # celery ships no type hints
def ingest_photo(self: Task, photo_id: int) -> None:
    try:
        services.photo_ingest(photo_id=photo_id, config=IngestConfig.from_settings())
    except Photo.DoesNotExist:
        logger.warning("photo %s no longer exists; nothing to ingest", photo_id)
    except SoftTimeLimitExceeded:
        services.photo_ingest_gave_up(
            photo_id=photo_id,
            detail=f"Processing took longer than {settings.INGEST_TASK_TIME_LIMIT_S} s.",
        )
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= self.max_retries:
            services.photo_ingest_gave_up(
                photo_id=photo_id,
                detail=f"Gave up after {self.request.retries} retries: {error}",
            )
            return
        raise self.retry(exc=error, countdown=_retry_delay(self.request.retries)) from error


@shared_task(name=task_names.REGENERATE_PREVIEWS, **_RETRYING_TASK)  # type: ignore[untyped-decorator]
def regenerate_previews(self: Task, photo_id: int) -> None:
    try:
        services.photo_regenerate_previews(photo_id=photo_id, config=IngestConfig.from_settings())
    except Photo.DoesNotExist:
        logger.warning("photo %s no longer exists; no previews to render", photo_id)
    except UnreadableImage as unreadable:
        logger.warning("photo %s: cannot render previews: %s", photo_id, unreadable)
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= self.max_retries:
            logger.error("photo %s: gave up rendering previews: %s", photo_id, error)
            return
        raise self.retry(exc=error, countdown=_retry_delay(self.request.retries)) from error


_reconciler: IngestReconciler | None = None


@worker_ready.connect  # type: ignore[untyped-decorator]
def start_ingest_reconciler(**_: Any) -> None:
    global _reconciler
    if settings.INGEST_RECONCILE_EVERY_S <= 0:
        return
    _reconciler = IngestReconciler(
        every_s=settings.INGEST_RECONCILE_EVERY_S,
        older_than_s=settings.INGEST_RECONCILE_AFTER_S,
        parts_idle_s=settings.DIRECT_UPLOAD_MAX_AGE_S,
    )
    _reconciler.start()


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def stop_ingest_reconciler(**_: Any) -> None:
    if _reconciler is not None:
        _reconciler.stop()
