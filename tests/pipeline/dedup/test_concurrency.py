"""Near-identical uploads indexed at the same moment by separate OS processes.

Every round, WORKERS processes wait on a barrier and then index near-identical hashes of one
real photo into a fresh scope. Whatever the interleaving, each round must end with exactly one
original and every other photo a duplicate of it.
"""

from __future__ import annotations

import multiprocessing
import random
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from pipeline.dedup.search import flip_bits
from tests.pipeline.dedup.realphotos import hashes, sources

WORKERS = 4
ROUNDS = 8

Config = dict[str, Any]
Result = tuple[int, int, str, int | None]


def _configure_django(database: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["pipeline.apps.PipelineConfig"],
        USE_TZ=True,
    )
    django.setup()


def _make_store(config: Config) -> Any:
    if config["backend"] == "dynamodb":
        from pipeline.dedup.dynamodb_store import DynamoDbStore, make_client

        return DynamoDbStore(make_client(config["endpoint"]), config["table"])
    _configure_django(config["database"])
    from pipeline.dedup.sql_store import SqlStore

    return SqlStore()


def _migrate(config: Config) -> None:
    _configure_django(config["database"])
    from django.core.management import call_command

    call_command("migrate", "pipeline", verbosity=0)


def _race(
    config: Config,
    worker: int,
    plan: list[list[tuple[int, int]]],
    barrier: Barrier,
    results: Queue[Result],
) -> None:
    from pipeline.dedup.index import index_photo
    from pipeline.dedup.rules import FrameKey

    store = _make_store(config)
    for round_, photos in enumerate(plan):
        phash, dhash = photos[worker]
        photo_id = round_ * 100 + worker + 1
        barrier.wait(timeout=60)
        outcome = index_photo(
            store,
            scope=f"race-{config['prefix']}-{round_}",
            photo_id=photo_id,
            phash=phash,
            dhash=dhash,
            frame=FrameKey(),
        )
        results.put((round_, photo_id, outcome.kind.value, outcome.other_id))


def _race_all(config: Config) -> list[Result]:
    rng = random.Random(5)
    base_phash, base_dhash = hashes(sources()["astronaut"])
    plan = [
        [
            (flip_bits(base_phash, rng.sample(range(64), 2)), flip_bits(base_dhash, [w]))
            for w in range(WORKERS)
        ]
        for _ in range(ROUNDS)
    ]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(config, w, plan, barrier, results)) for w in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    collected = [results.get(timeout=180) for _ in range(WORKERS * ROUNDS)]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return collected


def _assert_one_original_per_round(results: list[Result]) -> None:
    for round_ in range(ROUNDS):
        outcomes = [r for r in results if r[0] == round_]
        originals = [pid for _, pid, kind, _ in outcomes if kind == "original"]
        assert len(originals) == 1, outcomes
        duplicates = [(kind, other) for _, pid, kind, other in outcomes if pid != originals[0]]
        assert duplicates == [("duplicate", originals[0])] * (WORKERS - 1), outcomes


def test_concurrent_workers_on_dynamodb(
    dynamodb_table: tuple[Any, str], dynalite_endpoint: str
) -> None:
    _client, table = dynamodb_table
    config = {"backend": "dynamodb", "endpoint": dynalite_endpoint, "table": table, "prefix": "d"}
    _assert_one_original_per_round(_race_all(config))


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_postgresql() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the test settings do not use PostgreSQL")
    config = {"backend": "sql", "database": dict(connection.settings_dict), "prefix": "p"}
    _assert_one_original_per_round(_race_all(config))


def test_concurrent_workers_on_sqlite(tmp_path: Path) -> None:
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "dedup.sqlite3"),
        "OPTIONS": {"timeout": 30},
    }
    config = {"backend": "sql", "database": database, "prefix": "s"}
    ctx = multiprocessing.get_context("spawn")
    migrate = ctx.Process(target=_migrate, args=(config,))
    migrate.start()
    migrate.join(timeout=120)
    assert migrate.exitcode == 0
    _assert_one_original_per_round(_race_all(config))
