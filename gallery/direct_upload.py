"""Direct-to-S3 uploads for large files: presigned multipart uploads that bypass the web tier.

The flow, for a client holding a session or token:
1. `direct_upload_create`: the client declares the file name and exact size. We start an S3
   multipart upload under an unguessable original key, with the content type fixed by us, and
   hand back an opaque upload token.
2. `direct_upload_part_urls`: presigned `UploadPart` URLs. Each URL signs the part's exact
   `Content-Length` (and its `Content-MD5` when the client sends one), so S3 itself refuses a
   part of any other size or content: the object can only ever be the declared size, which is
   at most the configured limit, and it only ever has the content type we chose.
3. `direct_upload_list_parts`: what S3 already holds, so an interrupted upload resumes by
   sending only the missing parts.
4. `direct_upload_complete`: assembles the parts S3 lists (never a client-supplied list),
   checks the size, sniffs the format from the object's first bytes, and creates the `Photo`,
   whose ingest is enqueued on commit. Completing twice returns the same photo.
5. `direct_upload_abort`: drops the parts.

The token is signed (Django's signing, so it cannot be forged or altered) and names its owner:
another user's token is treated exactly like an unknown one. Nothing is kept in the database
until completion; abandoned multipart uploads are removed by the bucket's lifecycle rule
(AbortIncompleteMultipartUpload).

With local storage (`make run`, a single server) the same API and the same browser code resume
too: part URLs point at this server (`direct_upload_store_part`), parts are files under
`<MEDIA_ROOT>/partial/<upload id>/`, and completion concatenates them into the original. In place
of the lifecycle rule, the reconciler's pass removes the part folders of uploads untouched for
DIRECT_UPLOAD_MAX_AGE_S (`direct_upload_sweep_abandoned`).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import logging
import math
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse
from storages.backends.s3 import S3Storage

from gallery import services
from gallery.filenames import sanitize_filename
from gallery.models import Photo
from pipeline.core.formats import FORMATS, FORMATS_IN_WORDS, ImageFormat, format_named_by
from pipeline.core.sniff import SNIFF_BYTES, sniff_format

logger = logging.getLogger(__name__)

# S3's multipart rules: every part but the last is at least 5 MiB; at most 10,000 parts.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000
_SIGNING_SALT_NS = "gallery.direct_upload"
# Local mode: where parts wait for completion, under the (never publicly served) media root.
PARTIAL_DIR = "partial"
_COPY_CHUNK = 1024 * 1024


class DirectUploadError(Exception):
    """A refused request; `code` is stable, `message` is for people, `status` is the HTTP one."""

    status = 400

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class DirectUploadUnavailable(DirectUploadError):
    status = 501


class DirectUploadNotFound(DirectUploadError):
    status = 404

    def __init__(self) -> None:
        super().__init__("not_found", "No such upload in progress for this account.")


class DirectUploadTooLarge(DirectUploadError):
    status = 413


class DirectUploadConflict(DirectUploadError):
    status = 409


@dataclass(frozen=True)
class DirectUpload:
    """One multipart upload in progress, as carried by its signed token."""

    owner_id: int
    key: str
    upload_id: str
    filename: str
    fmt: ImageFormat
    size: int
    part_size: int

    @property
    def part_count(self) -> int:
        return math.ceil(self.size / self.part_size)

    def part_bytes(self, number: int) -> int:
        """The exact size of part `number` (1-based): every part is full except the last."""
        if number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)

    @property
    def token(self) -> str:
        return signing.dumps(asdict(self), salt=_SIGNING_SALT_NS, compress=True)


@dataclass(frozen=True)
class PartRequest:
    number: int
    content_md5: str = ""


@dataclass(frozen=True)
class PartUrl:
    number: int
    size: int
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class UploadedPart:
    number: int
    size: int
    etag: str


def _s3() -> tuple[Any, str]:
    """The boto3 client and bucket of Django's default storage: one configuration for both."""
    if not isinstance(default_storage, S3Storage):
        raise DirectUploadUnavailable(
            "unavailable", "Direct uploads need S3 storage (set AWS_STORAGE_BUCKET_NAME)."
        )
    return default_storage.connection.meta.client, default_storage.bucket_name


def _local_parts_root() -> Path | None:
    """Where local mode keeps parts; None when the storage is S3 (or has no local files)."""
    if isinstance(default_storage, S3Storage):
        return None
    try:
        return Path(default_storage.path(PARTIAL_DIR))
    except NotImplementedError:
        return None


def _local_dir(upload: DirectUpload) -> Path:
    root = _local_parts_root()
    if root is None:
        raise DirectUploadUnavailable("unavailable", "This upload was started in S3 mode.")
    return root / upload.upload_id


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _part_size_for(size: int) -> int:
    """The configured part size, raised when needed to stay within S3's 10,000 parts."""
    configured: int = max(settings.DIRECT_UPLOAD_PART_BYTES, MIN_PART_BYTES)
    return max(configured, math.ceil(size / MAX_PARTS))


def direct_upload_create(*, owner: AbstractBaseUser, filename: str, size: int) -> DirectUpload:
    """Start a multipart upload for a file of exactly `size` bytes."""
    local = _local_parts_root()
    if local is None:
        client, bucket = _s3()
    name = sanitize_filename(filename)
    if size <= 0:
        raise DirectUploadError("empty", f"{name} is empty (0 bytes).")
    if size > settings.DIRECT_UPLOAD_MAX_BYTES:
        raise DirectUploadTooLarge(
            "too_large",
            f"{name} is {size} bytes; the limit is {settings.DIRECT_UPLOAD_MAX_BYTES} bytes.",
        )
    fmt = format_named_by(name)
    if fmt is None:
        raise DirectUploadError(
            "unsupported",
            f"{name} is not named as a picture format we take: {FORMATS_IN_WORDS} are.",
        )
    key = services.original_storage_key(fmt=fmt.value)
    if local is not None:
        upload_id = uuid.uuid4().hex
        (local / upload_id).mkdir(parents=True)
    else:
        created = client.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType=FORMATS[fmt].content_type,
            Metadata=services.original_object_metadata(owner_id=owner.pk, filename=name),
        )
        upload_id = created["UploadId"]
    return DirectUpload(
        owner_id=owner.pk,
        key=key,
        upload_id=upload_id,
        filename=name,
        fmt=fmt,
        size=size,
        part_size=_part_size_for(size),
    )


def direct_upload_from_token(*, owner: AbstractBaseUser, token: str) -> DirectUpload:
    """The caller's upload named by `token`; anything else (forged, expired, someone else's)
    is not found."""
    try:
        fields = signing.loads(
            token, salt=_SIGNING_SALT_NS, max_age=settings.DIRECT_UPLOAD_MAX_AGE_S
        )
        upload = DirectUpload(**{**fields, "fmt": ImageFormat(fields["fmt"])})
    except (signing.BadSignature, TypeError, KeyError, ValueError) as invalid:
        raise DirectUploadNotFound from invalid
    if upload.owner_id != owner.pk:
        raise DirectUploadNotFound
    return upload


def _content_md5(value: str, number: int) -> str:
    try:
        digest = base64.b64decode(value, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 16:
        raise DirectUploadError(
            "invalid_md5", f"content_md5 of part {number} is not a base64 MD5 digest."
        )
    return value


def direct_upload_part_urls(*, upload: DirectUpload, parts: Sequence[PartRequest]) -> list[PartUrl]:
    """Presigned URLs for the requested parts; each is valid only for the part's exact size.
    In local mode, URLs of this server, which checks the size (and Content-MD5) itself."""
    local = _local_parts_root()
    if local is None:
        client, bucket = _s3()
    numbers = [part.number for part in parts]
    if len(set(numbers)) != len(numbers):
        raise DirectUploadError("invalid_parts", "A part number was requested twice.")
    urls = []
    for part in parts:
        if not 1 <= part.number <= upload.part_count:
            raise DirectUploadError(
                "invalid_parts",
                f"Part {part.number} does not exist: this upload has parts 1 to "
                f"{upload.part_count}.",
            )
        size = upload.part_bytes(part.number)
        if local is not None:
            headers = {"Content-Length": str(size)}
            if part.content_md5:
                headers["Content-MD5"] = _content_md5(part.content_md5, part.number)
            url = reverse("uploads:part", args=[upload.token, part.number])
            urls.append(PartUrl(number=part.number, size=size, url=url, headers=headers))
            continue
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumber": part.number,
            "ContentLength": size,
        }
        headers = {"Content-Length": str(size)}
        if part.content_md5:
            params["ContentMD5"] = headers["Content-MD5"] = _content_md5(
                part.content_md5, part.number
            )
        url = client.generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=settings.DIRECT_UPLOAD_URL_EXPIRE_S
        )
        urls.append(PartUrl(number=part.number, size=size, url=url, headers=headers))
    return urls


def _listed_parts(client: Any, bucket: str, upload: DirectUpload) -> list[UploadedPart]:
    pages = client.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=upload.key, UploadId=upload.upload_id
    )
    return [
        UploadedPart(number=part["PartNumber"], size=part["Size"], etag=part["ETag"])
        for page in pages
        for part in page.get("Parts", [])
    ]


def direct_upload_photo(upload: DirectUpload) -> Photo | None:
    """The photo this upload already became, if it was completed."""
    return Photo.objects.filter(owner_id=upload.owner_id, original=upload.key).first()


def _local_parts(upload: DirectUpload) -> list[UploadedPart]:
    folder = _local_dir(upload)
    if not folder.is_dir():
        raise DirectUploadNotFound
    return [
        UploadedPart(number=int(path.name), size=path.stat().st_size, etag="")
        for path in sorted(folder.iterdir())
        if path.name.isdigit()
    ]


def direct_upload_store_part(
    *, upload: DirectUpload, number: int, stream: IO[bytes], length: int, content_md5: str = ""
) -> UploadedPart:
    """Local mode: write part `number` from `stream`, all or nothing. Like S3 with a presigned
    URL, only the part's exact size is taken, and its Content-MD5 is checked when sent."""
    if not 1 <= number <= upload.part_count:
        raise DirectUploadError(
            "invalid_parts",
            f"Part {number} does not exist: this upload has parts 1 to {upload.part_count}.",
        )
    expected = upload.part_bytes(number)
    if length != expected:
        raise DirectUploadError(
            "wrong_size", f"Part {number} must be exactly {expected} bytes, not {length}."
        )
    folder = _local_dir(upload)
    if not folder.is_dir():
        raise DirectUploadNotFound
    digest = hashlib.md5(usedforsecurity=False)
    partial = folder / f"{number:05d}.{uuid.uuid4().hex}.tmp"
    received = 0
    try:
        with partial.open("wb") as out:
            while received < expected:
                chunk = stream.read(min(_COPY_CHUNK, expected - received))
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        if received != expected:
            raise DirectUploadError(
                "incomplete_part", f"Part {number} arrived cut short ({received} bytes)."
            )
        if content_md5 and base64.b64encode(digest.digest()).decode() != content_md5:
            raise DirectUploadError("bad_digest", f"Part {number} does not match its Content-MD5.")
        partial.replace(folder / f"{number:05d}")
    finally:
        partial.unlink(missing_ok=True)
    return UploadedPart(number=number, size=received, etag="")


def direct_upload_list_parts(*, upload: DirectUpload) -> list[UploadedPart]:
    """The parts S3 holds for this upload, in order (what a resuming client need not resend)."""
    if _local_parts_root() is not None:
        return _local_parts(upload)
    client, bucket = _s3()
    try:
        return _listed_parts(client, bucket, upload)
    except ClientError as error:
        if _error_code(error) == "NoSuchUpload":
            raise DirectUploadNotFound from error
        raise


def missing_parts(upload: DirectUpload, uploaded: Sequence[UploadedPart]) -> list[int]:
    """Part numbers still to send: absent, or present with a size other than expected."""
    complete = {part.number for part in uploaded if part.size == upload.part_bytes(part.number)}
    return [number for number in range(1, upload.part_count + 1) if number not in complete]


def _discard(client: Any, bucket: str, key: str) -> None:
    client.delete_object(Bucket=bucket, Key=key)


def _require_every_part(upload: DirectUpload, uploaded: Sequence[UploadedPart]) -> None:
    missing = missing_parts(upload, uploaded)
    if missing:
        raise DirectUploadConflict(
            "incomplete",
            f"{len(missing)} of {upload.part_count} parts are still missing.",
            missing=missing,
        )


def direct_upload_complete(*, upload: DirectUpload) -> Photo:
    """Assemble the parts, check the object, and create its Photo (ingest enqueued on commit).

    Idempotent: completing an upload that already became a photo returns that photo.
    """
    if _local_parts_root() is not None:
        return _complete_local(upload)
    client, bucket = _s3()
    try:
        uploaded = _listed_parts(client, bucket, upload)
    except ClientError as error:
        if _error_code(error) != "NoSuchUpload":
            raise
        photo = direct_upload_photo(upload)
        if photo is None:
            raise DirectUploadNotFound from error
        return photo
    _require_every_part(upload, uploaded)
    try:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=upload.key,
            UploadId=upload.upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": part.number, "ETag": part.etag} for part in uploaded]
            },
        )
    except ClientError as error:
        # A concurrent completion of the same upload got there first.
        if _error_code(error) != "NoSuchUpload":
            raise
        raise DirectUploadConflict(
            "completing", "This upload is being completed by another request; retry."
        ) from error
    try:
        return _photo_from_completed_object(client, bucket, upload)
    except BaseException:
        # Never leave an original without its row.
        _discard(client, bucket, upload.key)
        raise


@contextmanager
def _local_lock(upload: DirectUpload) -> Iterator[None]:
    """Hold the exclusive lock on the upload's folder; nothing to hold once the folder is gone
    (completed or aborted).

    Completing and aborting take it, so they run one at a time per upload: a client that
    retries a completion while a large file is still being assembled waits for that completion
    and gets its photo, instead of assembling the file a second time. A lock on the folder
    needs nothing from the database (SQLite included) and is enough: local mode is a single
    server."""
    try:
        handle = os.open(_local_dir(upload), os.O_RDONLY)
    except FileNotFoundError:
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _complete_local(upload: DirectUpload) -> Photo:
    with _local_lock(upload):
        photo = direct_upload_photo(upload)
        if photo is not None:
            return photo
        return _assemble_local(upload, _local_dir(upload))


def _assemble_local(upload: DirectUpload, folder: Path) -> Photo:
    uploaded = _local_parts(upload)
    _require_every_part(upload, uploaded)
    target = Path(default_storage.path(upload.key))
    target.parent.mkdir(parents=True, exist_ok=True)
    assembled = folder / f"assembled.{uuid.uuid4().hex}.tmp"
    try:
        with assembled.open("wb") as out:
            for part in uploaded:
                with (folder / f"{part.number:05d}").open("rb") as source:
                    shutil.copyfileobj(source, out, _COPY_CHUNK)
        assembled.replace(target)
    finally:
        assembled.unlink(missing_ok=True)
    try:
        with target.open("rb") as original:
            head = original.read(SNIFF_BYTES)
        photo = _photo_from_original(upload, size=target.stat().st_size, head=head)
    except DirectUploadError:
        # The content itself is refused, and would be again: its parts are of no more use.
        target.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except BaseException:
        # Never leave an original without its row. The parts stay, so that a retry after,
        # say, a database error completes without the client sending the file again.
        target.unlink(missing_ok=True)
        raise
    # The parts go only once the row is committed: the API runs in autocommit, so the
    # transaction of photo_record_original is the outermost one.
    shutil.rmtree(folder, ignore_errors=True)
    return photo


def _photo_from_completed_object(client: Any, bucket: str, upload: DirectUpload) -> Photo:
    size = client.head_object(Bucket=bucket, Key=upload.key)["ContentLength"]
    head = client.get_object(Bucket=bucket, Key=upload.key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
    return _photo_from_original(upload, size=size, head=head["Body"].read())


def _photo_from_original(upload: DirectUpload, *, size: int, head: bytes) -> Photo:
    """Check the assembled original (its size and sniffed format) and create its Photo."""
    if size != upload.size:
        raise DirectUploadError(
            "size_mismatch", f"{upload.filename} is {size} bytes, not the {upload.size} declared."
        )
    fmt = sniff_format(head, upload.filename)
    if fmt is None:
        raise DirectUploadError("unsupported", services.not_a_format_we_take(upload.filename))
    if fmt is not upload.fmt:
        raise DirectUploadError(
            "content_mismatch",
            f"{upload.filename} is named as {upload.fmt.value.upper()} but its content is "
            f"{fmt.value.upper()}; upload it under its real extension.",
        )
    return photo_create_from_object(
        owner_id=upload.owner_id,
        key=upload.key,
        filename=upload.filename,
        fmt=fmt,
        size_bytes=size,
    )


def photo_create_from_object(
    *, owner_id: int, key: str, filename: str, fmt: ImageFormat, size_bytes: int
) -> Photo:
    """The Photo for an original already in S3 under `key`. The sha256 is left for the ingest
    task, which streams the object anyway (or takes it from the validator Lambda)."""
    return services.photo_record_original(
        owner_id=owner_id,
        key=key,
        filename=filename,
        fmt=fmt.value,
        size_bytes=size_bytes,
        cause="direct upload",
    )


def direct_upload_sweep_abandoned(*, idle_s: float) -> int:
    """Local mode: remove the parts of uploads nobody has touched for `idle_s`. S3 mode needs no
    sweep: the bucket's lifecycle rule aborts stale multipart uploads. An upload's newest part
    (or its folder) dates its last activity, so a resumed upload is never swept. Returns how many
    uploads were removed."""
    root = _local_parts_root()
    if root is None or not root.is_dir():
        return 0
    cutoff = time.time() - idle_s
    removed = 0
    for folder in root.iterdir():
        try:
            newest = max(
                [folder.stat().st_mtime, *(part.stat().st_mtime for part in folder.iterdir())]
            )
        except (FileNotFoundError, NotADirectoryError):
            continue  # completed, aborted or swept meanwhile
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed the parts of %d abandoned upload(s)", removed)
    return removed


def direct_upload_abort(*, upload: DirectUpload) -> None:
    """Drop the upload's parts. Aborting twice is fine; aborting a completed upload is not."""
    if _local_parts_root() is not None:
        with _local_lock(upload):
            _refuse_if_completed(upload)
            shutil.rmtree(_local_dir(upload), ignore_errors=True)
        return
    client, bucket = _s3()
    _refuse_if_completed(upload)
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=upload.key, UploadId=upload.upload_id)
    except ClientError as error:
        if _error_code(error) != "NoSuchUpload":
            raise


def _refuse_if_completed(upload: DirectUpload) -> None:
    if direct_upload_photo(upload) is not None:
        raise DirectUploadConflict(
            "completed", "This upload is complete and is now a photo; there is nothing to abort."
        )
