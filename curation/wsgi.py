import os
from pathlib import Path

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.production")

application = get_wsgi_application()

# Django removes each spooled upload when its request ends; these are the ones a killed web
# process (SIGKILL, OOM) left half written.
from gallery.upload_handlers import sweep_stale_upload_files  # noqa: E402 (needs Django set up)

if settings.FILE_UPLOAD_TEMP_DIR:
    sweep_stale_upload_files(
        folder=Path(settings.FILE_UPLOAD_TEMP_DIR), older_than_s=settings.UPLOAD_TEMP_MAX_AGE_S
    )
