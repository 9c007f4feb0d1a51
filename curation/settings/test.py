"""The test suite runs against the production-like stack: PostgreSQL and Redis on 127.0.0.1."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/parjanya")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
# How long an unacknowledged task waits before Redis hands it to another worker: short in tests
# that kill a worker mid-task.
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60),
        # Sweep for such tasks every second (kombu's default is every ~100 s).
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
# Production-like: passing photos wait for the scorer. Tests of the embedded default turn it off.
SCORING_ENABLED = env.bool("SCORING_ENABLED", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
