"""The production web entry: gunicorn's asyncio worker serves this app (deploy/docker/
entrypoint.py), so a client that sends its request slowly holds a connection, not a worker
(docs/adr/0006-slow-clients-asgi-worker.md)."""

import os
import warnings

from django.core.asgi import get_asgi_application

# WhiteNoise's file responses are synchronous iterators; Django streams them from a thread,
# which is right for files cached a year by content hash, and would warn on every one.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.production")

application = get_asgi_application()

from curation.startup import sweep_spooled_uploads  # noqa: E402 (needs Django set up)

sweep_spooled_uploads()
