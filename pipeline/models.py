"""The SQL dedup index (`pipeline.dedup.sql_store`): the embedded default store.

Photo ids are plain integers, not foreign keys: the index is keyed by the id both ingest paths
derive from the original's storage key (`pipeline.dedup.identity`) and lives in its own tables,
so it can be rebuilt or moved to DynamoDB without touching the gallery.
"""

from __future__ import annotations

from django.db import models


class DedupScope(models.Model):
    """One row per scope: the row the per-scope critical section locks."""

    scope = models.CharField(max_length=200, unique=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.scope


class DedupPhoto(models.Model):
    """A photo the index knows: its hashes, frame identity and dedup outcome."""

    class Kind(models.TextChoices):
        ORIGINAL = "original"
        DUPLICATE = "duplicate"
        PAIRED = "paired"

    scope = models.CharField(max_length=200)
    photo_id = models.BigIntegerField()
    # The original's storage key; `photo_id` is derived from it (`pipeline.dedup.identity`).
    object_key = models.CharField(max_length=255, blank=True)
    # The filing order (`pipeline.dedup.rules.IndexedPhoto.seq`).
    seq = models.BigIntegerField(default=0)
    phash = models.BigIntegerField()
    dhash = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    other_id = models.BigIntegerField(null=True, blank=True)
    distance = models.SmallIntegerField(null=True, blank=True)
    is_raw = models.BooleanField(default=False)
    file_stem = models.CharField(max_length=255, blank=True)
    captured_at = models.CharField(max_length=40, blank=True)
    camera = models.CharField(max_length=255, blank=True)
    exposure = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "photo_id"], name="dedup_photo_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.photo_id}"


class DedupBucket(models.Model):
    """One row per (photo, chunk): the multi-index. `key` is `BucketKey.encode()`."""

    photo = models.ForeignKey(DedupPhoto, on_delete=models.CASCADE, related_name="buckets")
    scope = models.CharField(max_length=200)
    key = models.BigIntegerField()
    phash = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key"], name="dedup_bucket_probe")]
        constraints = [models.UniqueConstraint(fields=["photo", "key"], name="dedup_bucket_unique")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.key:x}"


class DedupDecision(models.Model):
    """A curator's "not a duplicate": stored in both directions."""

    scope = models.CharField(max_length=200)
    photo_id = models.BigIntegerField()
    other_id = models.BigIntegerField()
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "photo_id", "other_id"], name="dedup_decision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.photo_id}!={self.other_id}"
