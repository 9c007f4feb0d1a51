"""Decisions leaving the app: a ZIP of XMP sidecars, a CSV of decisions, and a ZIP of the picked
originals. Each is a generator of byte chunks for a StreamingHttpResponse: the ZIP is written by
the standard library's zipfile into a sink that hands every write on at once, so an export of
20 GB holds one read buffer in memory, never the archive."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.core.files.storage import default_storage
from django.utils import timezone

from culling import xmp
from gallery.models import Photo

CHUNK = 1024 * 1024
CSV_COLUMNS = (
    "file",
    "photographer",
    "shoot",
    "stack",
    "captured_at",
    "status",
    "decision",
    "reject_reason",
    "note",
    "stars",
    "label",
    "model_score",
    "sharpness",
    "id",
)


class _Sink:
    """A write-only file for zipfile: no seek, no tell, so zipfile writes sizes after each
    member (data descriptors) and every write can leave for the client immediately."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        if data:
            self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        chunks, self._chunks = self._chunks, []
        yield from chunks


def _entry(name: str, when: datetime | None) -> zipfile.ZipInfo:
    stamp = timezone.localtime(when or timezone.now())
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    return info


def _folder(photo: Photo, by_owner: bool) -> str:
    return f"{photo.owner.get_username()}/" if by_owner else ""


def _xmp_marks(photo: Photo) -> xmp.Marks:
    return xmp.Marks(
        picked=photo.curator_decision == Photo.CuratorDecision.APPROVED,
        rejected=photo.curator_decision == Photo.CuratorDecision.REJECTED,
        stars=photo.curator_rating,
        label=photo.curator_label,
    )


def _unique(photos: Iterable[Photo], by_owner: bool) -> Iterator[tuple[str, Photo]]:
    """Each photo with its archive folder; a second file of the same name in one folder (a
    re-upload) is left out, as an editor could not tell the two sidecars apart."""
    seen: set[str] = set()
    for photo in photos:
        name = _folder(photo, by_owner) + photo.original_filename
        if name not in seen:
            seen.add(name)
            yield _folder(photo, by_owner), photo


def xmp_zip(photos: Iterable[Photo], *, by_owner: bool) -> Iterator[bytes]:
    """Two sidecars per photo, one for each naming convention. When a RAW and its JPEG share a
    stem, the stem-only name belongs to the RAW, as Lightroom's does."""
    chosen = list(_unique(photos, by_owner))
    stem_owner: dict[str, Photo] = {}
    for folder, photo in chosen:
        short, _ = xmp.sidecar_names(photo.original_filename)
        current = stem_owner.get(folder + short)
        if current is None or (current.format == "jpeg" and photo.format != "jpeg"):
            stem_owner[folder + short] = photo
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder, photo in chosen:
            content = xmp.sidecar(_xmp_marks(photo))
            short, full = xmp.sidecar_names(photo.original_filename)
            names = [full] + ([short] if stem_owner[folder + short] is photo else [])
            for name in names:
                archive.writestr(folder + name, content)
            yield from sink.drain()
    yield from sink.drain()


def originals_zip(photos: Iterable[Photo], *, by_owner: bool) -> Iterator[bytes]:
    """The original files, stored as they are (already compressed), read and sent a chunk at a
    time; ZIP64 throughout, so members and archives past 4 GB are fine."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for folder, photo in _unique(photos, by_owner):
            info = _entry(folder + photo.original_filename, photo.captured_at)
            with (
                default_storage.open(str(photo.original.name), "rb") as source,
                archive.open(info, "w", force_zip64=True) as member,
            ):
                while chunk := source.read(CHUNK):
                    member.write(chunk)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()


def decisions_csv(photos: Iterable[Photo]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for photo in photos:
        writer.writerow(
            (
                photo.original_filename,
                photo.owner.get_username(),
                photo.shoot.name if photo.shoot else "",
                photo.stack_id or "",
                photo.captured_at.isoformat() if photo.captured_at else "",
                photo.status,
                {"approved": "picked", "rejected": "rejected"}.get(photo.curator_decision, ""),
                photo.get_curator_reject_reason_display() if photo.curator_reject_reason else "",
                photo.curator_note,
                photo.curator_rating or "",
                photo.curator_label,
                "" if photo.vlm_score is None else f"{photo.vlm_score:.3f}",
                "" if photo.sharpness is None else f"{photo.sharpness:.2f}",
                photo.uid,
            )
        )
        if buffer.tell() > CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
