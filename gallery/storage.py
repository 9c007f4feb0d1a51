"""S3 storage that writes an upload's object metadata along with it.

The validator Lambda sees only the object, so the owner (its dedup scope) and the client's file
name (whose stem pairs RAW and JPEG files of one frame) travel as S3 object metadata, exactly as
the direct multipart uploads set them.
"""

from __future__ import annotations

from typing import Any

from storages.backends.s3 import S3Storage


class OriginalsS3Storage(S3Storage):  # type: ignore[misc]  # django-storages is untyped
    # django-storages builds every write's ExtraArgs here (single and multipart uploads); it is
    # the one place that sees the content object being written.
    def _get_write_parameters(self, name: str, content: Any = None) -> dict[str, Any]:
        params: dict[str, Any] = super()._get_write_parameters(name, content)
        metadata = getattr(content, "object_metadata", None)
        if metadata:
            params["Metadata"] = {**params.get("Metadata", {}), **metadata}
        return params
