"""Thin Celery tasks: take an id, call one service, own the retries."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from gallery.models import Photo
from pipeline import services

logger = logging.getLogger(__name__)

# Failures of the infrastructure around a photo, worth retrying; bad *input* never raises here
# (the validator turns it into a recorded rejection).
TRANSIENT_ERRORS = (DatabaseError, OSError, BotoCoreError, ClientError)


@shared_task(
    name="pipeline.ingest_photo",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.INGEST_MAX_RETRIES,
    soft_time_limit=settings.INGEST_TASK_TIME_LIMIT_S,
    time_limit=settings.INGEST_TASK_TIME_LIMIT_S + 30,
)  # type: ignore[untyped-decorator]  # celery ships no type hints
def ingest_photo(self: Task, photo_id: int) -> None:
    try:
        services.photo_ingest(photo_id=photo_id)
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
        raise self.retry(exc=error, countdown=min(2**self.request.retries * 5, 300)) from error
