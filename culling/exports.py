"""Decisions leaving the app: a ZIP of XMP sidecars, a CSV of decisions, and a ZIP of the picked
originals. Each is a generator of byte chunks for a StreamingHttpResponse: the ZIP is written by
the standard library's zipfile into a sink that hands every write on at once, so an export of
20 GB holds one read buffer in memory, never the archive. The ZIPs' file names are decided first,
in a pass over a few columns of the scope; the photos then stream from the database in chunks."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from culling import xmp
from gallery.filenames import download_filename
from gallery.models import Photo

CHUNK = 1024 * 1024
ROWS = 500  # photos fetched from the database at a time
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


# What a ZIP's DOS date can hold.
_ZIP_EARLIEST = datetime(1980, 1, 1)
_ZIP_LATEST = datetime(2107, 12, 31, 23, 59, 58)
README = "README.txt"


def _entry(name: str, when: datetime | None) -> zipfile.ZipInfo:
    """A stored member dated `when`'s wall-clock reading. Capture times without an offset are
    stored as UTC holding the camera's clock (pipeline.services), so the date is read in UTC,
    never shifted into the server's zone; a camera whose clock reset (1970) gets 1980-01-01,
    the earliest a ZIP can say, rather than breaking the archive half-way."""
    stamp = (when or timezone.now()).astimezone(UTC).replace(tzinfo=None)
    stamp = min(max(stamp, _ZIP_EARLIEST), _ZIP_LATEST)
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    return info


def _xmp_marks(photo: Photo) -> xmp.Marks:
    return xmp.Marks(
        picked=photo.curator_decision == Photo.CuratorDecision.APPROVED,
        rejected=photo.curator_decision == Photo.CuratorDecision.REJECTED,
        stars=photo.curator_rating,
        label=photo.curator_label,
    )


@dataclass(frozen=True)
class _Named:
    """A photo's place in an archive: its folder ("" or "<photographer>/") and file name."""

    folder: str
    name: str
    format: str
    numbered: bool  # its own name was taken by a photo before it


def _numbered(name: str, number: int) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        return f"{name} ({number})"
    return f"{stem} ({number}).{extension}"


def _names(
    photos: QuerySet[Photo], *, by_owner: bool, name: Callable[[str, str], str]
) -> dict[int, _Named]:
    """Every photo of the scope with a name of its own, decided in a light first pass over a few
    columns: a name already taken in its folder (two bodies' DSC_0001.NEF, numbering reset on
    another day) becomes `DSC_0001 (2).NEF`, `(3)`, … in capture order. Names are compared as
    Windows and macOS compare them, regardless of case."""
    owner = f"owner__{get_user_model().USERNAME_FIELD}"
    taken: set[str] = set()
    named: dict[int, _Named] = {}
    rows = photos.values_list("pk", "original_filename", "format", owner)
    for pk, filename, fmt, username in rows.iterator(chunk_size=ROWS):
        folder = f"{username}/" if by_owner else ""
        wanted = candidate = name(filename, fmt)
        number = 1
        while (folder + candidate).casefold() in taken:
            number += 1
            candidate = _numbered(wanted, number)
        taken.add((folder + candidate).casefold())
        named[pk] = _Named(folder, candidate, fmt, numbered=number > 1)
    return named


def _in_order(photos: QuerySet[Photo], named: dict[int, _Named]) -> Iterator[tuple[Photo, _Named]]:
    """The photos themselves, streamed. One picked or added after the first pass is left for the
    next export: the archive is the scope as the export began."""
    for photo in photos.iterator(chunk_size=ROWS):
        if photo.pk in named:
            yield photo, named[photo.pk]


NUMBERED = (
    "Some photos share a file name (two camera bodies, or numbering that started again), so the",
    "later ones in capture order were given a number to keep every one. Which is which:",
)
SIDECARS_NOTED = (
    "Photos that share a file name (two camera bodies, or numbering that started again) have",
    "numbered sidecars, so that every photo has its own: rename them to match the files on your",
    "disk. A photo whose stem-only name (IMG_0001.xmp) belongs to another, such as a JPEG beside",
    "its RAW, has darktable's sidecar (IMG_0001.JPG.xmp) only. The photos concerned:",
)


def _readme(intro: tuple[str, ...], lines: list[str]) -> bytes:
    return "\n".join([*intro, "", *lines, ""]).encode("utf-8")


def _noted(photo: Photo, files: str, *notes: str) -> str:
    captured = photo.captured_at.strftime("%Y-%m-%d %H:%M:%S") if photo.captured_at else "unknown"
    shoot = photo.shoot.name if photo.shoot else "no shoot"
    return "; ".join(
        (
            f"{files}: {photo.original_filename} by {photo.owner.get_username()}, {shoot}, "
            f"captured {captured}, id {photo.uid}",
            *(note for note in notes if note),
        )
    )


@dataclass(frozen=True)
class _Sidecars:
    names: list[str]
    withheld: str  # why the stem-only name is not this photo's, or ""


def _sidecar_names(named: dict[int, _Named]) -> dict[int, _Sidecars]:
    """Two sidecars per photo, one for each naming convention: darktable's `NAME.EXT.xmp`, and
    `NAME.xmp` for Lightroom Classic and Capture One. When a RAW and its JPEG share a stem, the
    stem-only name belongs to the RAW, as Lightroom's does; the JPEG keeps darktable's."""
    stem_owner: dict[str, int] = {}
    full_owner: dict[str, int] = {}
    for pk, place in named.items():
        short, full = (place.folder + n for n in xmp.sidecar_names(place.name))
        full_owner[full.casefold()] = pk
        current = stem_owner.get(short.casefold())
        if current is None or (named[current].format == "jpeg" and place.format != "jpeg"):
            stem_owner[short.casefold()] = pk
    chosen: dict[int, _Sidecars] = {}
    for pk, place in named.items():
        short, full = (place.folder + n for n in xmp.sidecar_names(place.name))
        # A stem-only name that is another photo's darktable name (`A.JPG` beside `A.JPG.NEF`)
        # stays that photo's: it must not be written twice.
        owner = full_owner.get(short.casefold(), stem_owner[short.casefold()])
        if owner == pk:
            # A name without an extension has one sidecar name for both conventions.
            chosen[pk] = _Sidecars(list(dict.fromkeys((full, short))), "")
        else:
            other = named[owner]
            chosen[pk] = _Sidecars([full], f"{short} is the sidecar of {other.folder}{other.name}")
    return chosen


def xmp_zip(photos: QuerySet[Photo], *, by_owner: bool) -> Iterator[bytes]:
    """The sidecars under the photos' own names, which they must match on the photographer's
    disk. Photos sharing a name get numbered ones; a README.txt names every photo whose
    sidecars are numbered or fewer than two."""
    named = _names(photos, by_owner=by_owner, name=lambda filename, _fmt: filename)
    sidecars = _sidecar_names(named)
    noted: list[str] = []
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for photo, place in _in_order(photos, named):
            content = xmp.sidecar(_xmp_marks(photo))
            mine = sidecars[photo.pk]
            for name in mine.names:
                archive.writestr(name, content)
            if place.numbered or mine.withheld:
                noted.append(_noted(photo, ", ".join(mine.names), mine.withheld))
            yield from sink.drain()
        if noted:
            archive.writestr(README, _readme(SIDECARS_NOTED, noted))
    yield from sink.drain()


def originals_zip(photos: QuerySet[Photo], *, by_owner: bool) -> Iterator[bytes]:
    """The original files, stored as they are (already compressed), read and sent a chunk at a
    time; ZIP64 throughout, so members and archives past 4 GB are fine. Each is named as its
    single download is (the extension of the format its bytes proved); every picked photo is
    in, photos sharing a name numbered, with a README.txt saying which is which."""
    named = _names(
        photos, by_owner=by_owner, name=lambda filename, fmt: download_filename(filename, fmt=fmt)
    )
    numbered: list[str] = []
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for photo, place in _in_order(photos, named):
            info = _entry(place.folder + place.name, photo.captured_at)
            with (
                default_storage.open(str(photo.original.name), "rb") as source,
                archive.open(info, "w", force_zip64=True) as member,
            ):
                while chunk := source.read(CHUNK):
                    member.write(chunk)
                    yield from sink.drain()
            if place.numbered:
                numbered.append(_noted(photo, place.folder + place.name))
            yield from sink.drain()
        if numbered:
            archive.writestr(_entry(README, None), _readme(NUMBERED, numbered))
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
