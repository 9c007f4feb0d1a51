"""Streams every uploaded file to a temporary file while hashing it and enforcing the size limit.

Django's default handlers keep small files in memory and know nothing of per-file limits; this
one never holds a whole file in memory, stops reading a file the moment it passes the limit, and
hands the services the sha256 and the first bytes (for format sniffing) without a second read.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    SkipFile,
    TemporaryFileUploadHandler,
)

from pipeline.core.sniff import SNIFF_BYTES

logger = logging.getLogger(__name__)


class HashedUpload(TemporaryUploadedFile):
    sha256: str
    head: bytes
    # Written as S3 object metadata by gallery.storage.OriginalsS3Storage.
    object_metadata: dict[str, str]


class HashingSizeLimitedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.max_bytes: int = settings.UPLOAD_MAX_FILE_BYTES
        # Read by the upload view to report which files were refused for size.
        self.oversized: list[str] = []

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        if settings.FILE_UPLOAD_TEMP_DIR:
            Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
        # The temporary file's name never carries the client's text: Django would put its
        # "extension" in it, and a long non-Latin one exceeds the file system's 255 bytes.
        self.file = HashedUpload(
            "upload", self.content_type, 0, self.charset, self.content_type_extra
        )
        self.file.name = self.file_name or ""
        self._digest = hashlib.sha256()
        self._head = b""
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.oversized.append(self.file_name or "")
            self.file.close()
            raise SkipFile(f"{self.file_name} exceeds {self.max_bytes} bytes")
        self._digest.update(raw_data)
        if len(self._head) < SNIFF_BYTES:
            self._head += raw_data[: SNIFF_BYTES - len(self._head)]
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedUpload:
        uploaded = super().file_complete(file_size)
        assert isinstance(uploaded, HashedUpload)
        uploaded.sha256 = self._digest.hexdigest()
        uploaded.head = self._head
        return uploaded


def sweep_stale_upload_files(*, folder: Path, older_than_s: float) -> int:
    """Remove spooled uploads a killed web process left behind: Django deletes them when a
    request ends, on every path, but a SIGKILL ends no request. Only files older than any live
    upload may be (`older_than_s`) go, so a sweep in one web process never touches another's
    upload in progress. Returns how many were removed."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another process's sweep got there first
    if removed:
        logger.info("removed %d stale upload file(s) from %s", removed, folder)
    return removed
