import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.production")

application = get_wsgi_application()

from curation.startup import sweep_spooled_uploads  # noqa: E402 (needs Django set up)

sweep_spooled_uploads()
