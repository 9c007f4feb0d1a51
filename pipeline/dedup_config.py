"""The dedup store and scope this process uses, built once from settings."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pipeline.dedup.dynamodb_store import DynamoDbStore, make_client
from pipeline.dedup.index import DedupStore
from pipeline.dedup.sql_store import SqlStore

GLOBAL_SCOPE = "global"


@cache
def dedup_store() -> DedupStore:
    """One per process: the DynamoDB store holds a thread pool and an HTTP connection pool."""
    if settings.DEDUP_STORE == "sql":
        return SqlStore()
    if settings.DEDUP_STORE == "dynamodb":
        client = make_client(settings.DEDUP_ENDPOINT_URL or None, settings.DEDUP_REGION)
        return DynamoDbStore(client, settings.DEDUP_TABLE)
    raise ImproperlyConfigured(
        f"DEDUP_STORE must be 'sql' or 'dynamodb', not {settings.DEDUP_STORE!r}"
    )


def dedup_scope(*, owner_id: int) -> str:
    """A photographer's own library by default; one shared library with DEDUP_SCOPE=global."""
    if settings.DEDUP_SCOPE == "owner":
        return str(owner_id)
    if settings.DEDUP_SCOPE == "global":
        return GLOBAL_SCOPE
    raise ImproperlyConfigured(
        f"DEDUP_SCOPE must be 'owner' or 'global', not {settings.DEDUP_SCOPE!r}"
    )
