"""What every web process does once before serving, whichever server runs it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from gallery.upload_handlers import sweep_stale_upload_files


def sweep_spooled_uploads() -> None:
    """Django removes each spooled upload when its request ends; this removes the ones a killed
    web process (SIGKILL, OOM) left half written."""
    if settings.FILE_UPLOAD_TEMP_DIR:
        sweep_stale_upload_files(
            folder=Path(settings.FILE_UPLOAD_TEMP_DIR), older_than_s=settings.UPLOAD_TEMP_MAX_AGE_S
        )
