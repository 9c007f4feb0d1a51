"""The dedup index files photos under the id derived from their storage key, as the validator
Lambda does (`pipeline.dedup.identity`), and keeps the key: re-key what Celery filed under
`Photo.pk`, and keep the filing order. Records of photos that no longer exist are dropped with
their buckets."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import migrations, models


def _dedup_id(key: str) -> int:
    # Frozen copy of pipeline.dedup.identity.dedup_photo_id, as of this migration.
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def rekey(apps: Any, schema_editor: Any) -> None:
    dedup_photo = apps.get_model("pipeline", "DedupPhoto")
    decision = apps.get_model("pipeline", "DedupDecision")
    if not dedup_photo.objects.exists() and not decision.objects.exists():
        # A new database, or the index on its own (it migrates without the gallery).
        return
    photo_model = apps.get_model("gallery", "Photo")
    keys = dict(photo_model.objects.values_list("pk", "original"))

    def new_id(old: int | None) -> int | None:
        if old is None or not keys.get(old):
            return None
        return _dedup_id(keys[old])

    for row in dedup_photo.objects.all().iterator():
        photo_id = new_id(row.photo_id)
        if photo_id is None:
            row.delete()
            continue
        # Upload order stands in for the filing order of what was filed before it was kept.
        row.seq = row.photo_id
        row.object_key = keys[row.photo_id]
        row.photo_id = photo_id
        row.other_id = new_id(row.other_id)
        row.save(update_fields=["seq", "object_key", "photo_id", "other_id"])
    for row in decision.objects.all().iterator():
        photo_id, other_id = new_id(row.photo_id), new_id(row.other_id)
        if photo_id is None or other_id is None:
            row.delete()
            continue
        row.photo_id, row.other_id = photo_id, other_id
        row.save(update_fields=["photo_id", "other_id"])


class Migration(migrations.Migration):
    # No dependency on the gallery: the index's tables migrate on their own (the dedup
    # benchmarks and concurrency tests do), and where there are rows to re-key, the gallery's
    # tables were there before them.
    dependencies = [("pipeline", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="dedupphoto",
            name="object_key",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="dedupphoto",
            name="seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
