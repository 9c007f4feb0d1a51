from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.dedup.dynamodb_store import DynamoDbStore, create_table, make_client
from pipeline.dedup.index import DedupStore
from pipeline.dedup.memory_store import MemoryStore
from pipeline.dedup.search import MultiIndex

# Small shards, so the hot-bucket path (spilling into shard 1, 2, ...) runs in every store test.
SHARD_ROWS = 3


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.dynalite"):
        config.pluginmanager.import_plugin("tests.support.dynalite")


@pytest.fixture(scope="session", autouse=True)
def _aws_credentials() -> None:
    # dynalite ignores credentials, botocore insists on some; child processes inherit them.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "dynalite")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "dynalite")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def dynamodb_table(dynalite_endpoint: str) -> Iterator[tuple[Any, str]]:
    client = make_client(dynalite_endpoint)
    table = f"dedup-{uuid.uuid4().hex[:12]}"
    create_table(client, table)
    yield client, table
    client.delete_table(TableName=table)


@pytest.fixture(params=["memory", "sql", "dynamodb"])
def store(request: pytest.FixtureRequest) -> DedupStore:
    """Each store-agnostic test runs once per store (modules using it need `django_db`)."""
    if request.param == "memory":
        return MemoryStore(MultiIndex(), shard_rows=SHARD_ROWS)
    if request.param == "sql":
        from pipeline.dedup.sql_store import SqlStore

        return SqlStore()
    client, table = request.getfixturevalue("dynamodb_table")
    return DynamoDbStore(client, table, shard_rows=SHARD_ROWS)
