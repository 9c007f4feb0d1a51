"""Normalised camera metadata, read with Pillow (JPEG, TIFF, PNG, HEIC, CR3) or exifread (RAW).

Every reader turns its source into three plain tag tables (IFD0, the Exif IFD, the GPS IFD) keyed
by the numeric TIFF tag, so a single normaliser decides what each field means. Metadata is a
courtesy, never a reason to refuse an upload: a malformed tag becomes None, not an error.
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from numbers import Rational

import exifread
from PIL import ExifTags, Image

TagTable = Mapping[int, object]

# TIFF/Exif tag numbers, from the Exif 2.32 specification.
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_EXPOSURE_TIME, _F_NUMBER, _ISO = 0x829A, 0x829D, 0x8827
_DATETIME_ORIGINAL, _OFFSET_TIME, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9010, 0x9011
_FOCAL_LENGTH, _SUBSEC_ORIGINAL = 0x920A, 0x9291
_PIXEL_X, _PIXEL_Y, _LENS_MODEL = 0xA002, 0xA003, 0xA434
# Exif 2.3 BodySerialNumber (Exif IFD); DNG's CameraSerialNumber sits in IFD0.
_BODY_SERIAL, _DNG_CAMERA_SERIAL = 0xA431, 0xC62F
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_ALT_REF, _GPS_ALT = 1, 2, 3, 4, 5, 6

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
# Canon's CR3 keeps its TIFF-structured metadata in this uuid box inside `moov`.
_CANON_CR3_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


@dataclass(frozen=True)
class Exif:
    """What the camera recorded. Any field may be None when the file does not say."""

    make: str | None = None
    model: str | None = None
    # The camera body's serial number: tells two bodies of one model apart (stacks, pairs).
    body_serial: str | None = None
    lens: str | None = None
    # Aware when the file records an offset (OffsetTimeOriginal / OffsetTime), naive otherwise:
    # a naive time is the camera's wall clock in an unknown zone.
    captured_at: datetime | None = None
    iso: int | None = None
    exposure_time: float | None = None  # seconds
    f_number: float | None = None
    focal_length_mm: float | None = None
    orientation: int | None = None  # 1..8, as in the Exif specification
    gps_lat: float | None = None  # degrees, north positive
    gps_lon: float | None = None  # degrees, east positive
    gps_alt: float | None = None  # metres above sea level
    width: int | None = None  # the pixel dimensions the camera recorded in the Exif IFD
    height: int | None = None


EMPTY_EXIF = Exif()


def _first(value: object) -> object:
    if isinstance(value, (tuple, list)):
        return value[0] if value else None
    return value


def _number(value: object) -> float | None:
    value = _first(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, Rational):
        if value.denominator == 0:
            return None
        return float(Fraction(int(value.numerator), int(value.denominator)))
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _integer(value: object) -> int | None:
    number = _number(value)
    return round(number) if number is not None else None


def _text(value: object) -> str | None:
    value = _first(value) if isinstance(value, (tuple, list)) and value else value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned or None


def _degrees(value: object, ref: object) -> float | None:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        return None
    parts = [_number(part) for part in value]
    if any(part is None for part in parts):
        return None
    degrees, minutes, seconds = (float(part or 0.0) for part in parts)
    result = degrees + minutes / 60.0 + seconds / 3600.0
    reference = (_text(ref) or "").upper()
    return -result if reference in ("S", "W") else result


def _altitude(value: object, ref: object) -> float | None:
    altitude = _number(value)
    if altitude is None:
        return None
    below_sea_level = _integer(ref) == 1 or _first(ref) == b"\x01"
    return -altitude if below_sea_level else altitude


def _captured_at(stamp: object, subsec: object, offset: object) -> datetime | None:
    text = _text(stamp)
    if text is None:
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    fraction = _text(subsec)
    if fraction and fraction.isdigit():
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    match = _OFFSET.match(_text(offset) or "")
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if delta < timedelta(hours=24):
            moment = moment.replace(tzinfo=timezone(sign * delta))
    return moment


def normalise(ifd0: TagTable, exif: TagTable, gps: TagTable) -> Exif:
    """Build the normalised record from the three raw tag tables."""
    orientation = _integer(ifd0.get(_ORIENTATION))
    return Exif(
        make=_text(ifd0.get(_MAKE)),
        model=_text(ifd0.get(_MODEL)),
        body_serial=_text(exif.get(_BODY_SERIAL)) or _text(ifd0.get(_DNG_CAMERA_SERIAL)),
        lens=_text(exif.get(_LENS_MODEL)),
        captured_at=_captured_at(
            exif.get(_DATETIME_ORIGINAL) or ifd0.get(_DATETIME_ORIGINAL) or ifd0.get(_DATETIME),
            exif.get(_SUBSEC_ORIGINAL),
            exif.get(_OFFSET_TIME_ORIGINAL) or exif.get(_OFFSET_TIME),
        ),
        iso=_integer(exif.get(_ISO)),
        exposure_time=_number(exif.get(_EXPOSURE_TIME)),
        f_number=_number(exif.get(_F_NUMBER)),
        focal_length_mm=_number(exif.get(_FOCAL_LENGTH)),
        orientation=orientation if orientation is not None and 1 <= orientation <= 8 else None,
        gps_lat=_degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF)),
        gps_lon=_degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF)),
        gps_alt=_altitude(gps.get(_GPS_ALT), gps.get(_GPS_ALT_REF)),
        width=_integer(exif.get(_PIXEL_X)),
        height=_integer(exif.get(_PIXEL_Y)),
    )


def exif_from_pillow(tags: Image.Exif) -> Exif:
    """Normalise the Exif that Pillow read from an opened image (JPEG, TIFF, PNG, HEIC)."""
    try:
        return normalise(
            dict(tags),
            dict(tags.get_ifd(ExifTags.IFD.Exif)),
            dict(tags.get_ifd(ExifTags.IFD.GPSInfo)),
        )
    except Exception:
        # Broken metadata must never cost the photo.
        return EMPTY_EXIF


def _tiff_table(tiff: bytes) -> dict[int, object]:
    """The first IFD of a standalone TIFF structure, parsed by Pillow."""
    tags = Image.Exif()
    tags.load(b"Exif\x00\x00" + tiff)
    return dict(tags)


def iter_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """ISO-BMFF boxes between start and end: (type, payload start, payload end)."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1 and position + 16 <= end:
            size = struct.unpack_from(">Q", data, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def exif_from_cr3(data: bytes) -> Exif:
    """Canon CR3: CMT1 holds IFD0, CMT2 the Exif IFD and CMT4 the GPS IFD, each as a TIFF."""
    try:
        tables: dict[bytes, dict[int, object]] = {}
        for kind, start, end in iter_boxes(data, 0, len(data)):
            if kind != b"moov":
                continue
            for inner, inner_start, inner_end in iter_boxes(data, start, end):
                if inner != b"uuid" or data[inner_start : inner_start + 16] != _CANON_CR3_UUID:
                    continue
                for item, item_start, item_end in iter_boxes(data, inner_start + 16, inner_end):
                    if item in (b"CMT1", b"CMT2", b"CMT4"):
                        tables[item] = _tiff_table(data[item_start:item_end])
        return normalise(tables.get(b"CMT1", {}), tables.get(b"CMT2", {}), tables.get(b"CMT4", {}))
    except Exception:
        # Broken metadata must never cost the photo.
        return EMPTY_EXIF


def exif_from_raw_container(data: bytes) -> Exif:
    """TIFF-based RAW containers (DNG, CR2, NEF, ARW, ORF, RW2) and RAF, through exifread."""
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception:
        # Broken metadata must never cost the photo.
        return EMPTY_EXIF
    tables: dict[str, dict[int, object]] = {"Image": {}, "EXIF": {}, "GPS": {}}
    for key, tag in tags.items():
        group = str(key).split(" ", 1)[0]
        number = getattr(tag, "tag", None)
        if group in tables and isinstance(number, int):
            tables[group].setdefault(number, _exifread_value(getattr(tag, "values", None)))
    return normalise(tables["Image"], tables["EXIF"], tables["GPS"])


def _exifread_value(values: object) -> object:
    if isinstance(values, list):
        return tuple(
            Fraction(int(v.numerator), int(v.denominator))
            if isinstance(v, Rational) and v.denominator
            else v
            for v in values
        )
    return values
