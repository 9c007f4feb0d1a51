"""The one exception the pure core raises for input it cannot turn into pixels or metadata."""

from __future__ import annotations

from enum import StrEnum


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
    """Any input that cannot be decoded. `reason` is machine-readable; `detail` is for people."""

    def __init__(self, reason: UnreadableReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
