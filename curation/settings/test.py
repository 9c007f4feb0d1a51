"""The test suite runs against the production-like stack: PostgreSQL and Redis on 127.0.0.1."""

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/parjanya")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
