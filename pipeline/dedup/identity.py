"""Who a photo is in the dedup index, which library it is searched in, and which frames are filed.

One definition for both ingest paths: the validator Lambda (which sees an object in S3 before,
or without, any database row) and the Celery ingest (which starts from the `Photo`). So the
identity is the original's storage key, the one thing both know: `dedup_photo_id(key)`. The
index record keeps the key too, so either side turns a match back into its object (Django: the
`Photo` whose `original` it is).

No Django, no boto3.
"""

from __future__ import annotations

import enum
import hashlib

from pipeline.core.validator import ValidationResult

GLOBAL_SCOPE = "global"


class ScopeRule(enum.StrEnum):
    """`DEDUP_SCOPE`: search each photographer's own library, or one library shared by all."""

    OWNER = "owner"
    GLOBAL = "global"


def dedup_photo_id(key: str) -> int:
    """The id an original is filed under: 63 bits of the SHA-256 of its storage key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def dedup_scope(rule: ScopeRule, *, owner: int | str | None) -> str | None:
    """The scope a photo of `owner` is searched and filed in; None when the rule needs an owner
    and there is none (an object stored without its `owner` metadata)."""
    if rule is ScopeRule.GLOBAL:
        return GLOBAL_SCOPE
    return None if owner is None or owner == "" else str(owner)


def enters_index(result: ValidationResult) -> bool:
    """Frames that pass or are borderline go on, so they are filed and matched against. A
    rejected frame stays out: a sharp retake must not be turned away as a duplicate of its
    blurred first try."""
    return result.passed
