"""Template context every page may need."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def scoring(request: HttpRequest) -> dict[str, bool]:
    """Whether photos that pass the validator are scored: the curator pages say so when not."""
    return {"scoring_enabled": settings.SCORING_ENABLED}
