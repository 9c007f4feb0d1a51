"""The one exception the pure core raises for input it cannot turn into pixels or metadata."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.core.exif import Exif


class UnreadableReason(StrEnum):
    """Stable reason codes: stored on the Photo row and shown to the photographer."""

    EMPTY = "empty"
    TRUNCATED = "truncated"
    UNSUPPORTED = "unsupported"
    CORRUPT = "corrupt"
    NO_SENSOR_DATA = "no_sensor_data"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"


class UnreadableImage(Exception):
    """Any input that cannot be decoded. `reason` is machine-readable; `detail` is for people.

    `exif` carries the metadata that could still be read when the pixels could not (a RAW file
    whose sensor data was stripped keeps its camera, lens and date), or None if none could be.
    """

    def __init__(self, reason: UnreadableReason, detail: str, *, exif: Exif | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.exif = exif
