"""`make run`: SQLite, local media, filesystem broker. Nothing to install but the venv."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"
# Mail goes to the console (the `make run` log): password-reset and invitation links show there.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
