"""The ingest's settings, checked whenever Django runs its system checks (`check`, which
`make run` runs before it starts anything; `migrate`, the image's migrate role; `runserver`): a
typo in an override stops the app at start instead of failing every ingest while the health
checks say all is well."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from pipeline.config import IngestConfig


def ingest_settings(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    try:
        IngestConfig.from_settings()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="pipeline.E001")]
    return []
