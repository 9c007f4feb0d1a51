"""The migration that moves the SQL dedup index from `Photo.pk` to the storage-key identity the
validator Lambda uses keeps every record and decision of a photo that still exists, and its
upload order."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gallery.models import Photo
from pipeline.dedup.identity import dedup_photo_id
from pipeline.models import DedupDecision, DedupPhoto
from tests.gallery.factories import photo_uploaded

BEFORE = [("pipeline", "0001_initial")]
AFTER = [("pipeline", "0002_dedup_photo_object_key")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_records_are_rekeyed_to_the_storage_key_identity(photographer: User) -> None:
    original = photo_uploaded(owner=photographer)
    copy = photo_uploaded(owner=photographer)
    gone = photo_uploaded(owner=photographer)
    old = _migrate(BEFORE).loader.project_state(BEFORE).apps
    record, decision = (
        old.get_model("pipeline", "DedupPhoto"),
        old.get_model("pipeline", "DedupDecision"),
    )
    scope = str(photographer.pk)
    for photo, kind, other in (
        (original, "original", None),
        (copy, "duplicate", original.pk),
        (gone, "original", None),
    ):
        record.objects.create(
            scope=scope, photo_id=photo.pk, phash=1, dhash=1, kind=kind, other_id=other
        )
    decision.objects.create(scope=scope, photo_id=copy.pk, other_id=original.pk)
    Photo.objects.filter(pk=gone.pk).delete()

    executor = _migrate(AFTER)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {row.object_key: row for row in DedupPhoto.objects.filter(scope=scope)}
    original_key, copy_key = str(original.original.name), str(copy.original.name)
    assert set(rows) == {original_key, copy_key}
    first, second = rows[original_key], rows[copy_key]
    assert first.photo_id == dedup_photo_id(original_key)
    assert (second.kind, second.other_id) == ("duplicate", first.photo_id)
    assert first.seq < second.seq
    assert set(DedupDecision.objects.values_list("photo_id", "other_id")) == {
        (second.photo_id, first.photo_id)
    }
