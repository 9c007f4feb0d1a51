"""Query parameters read strictly: a value that is not what the page offers is refused with a
4xx, never passed on to become a 500 (`?page=²` passes str.isdigit but not int())."""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
# Far past any real library (48 photos a page), far below a BIGINT offset.
MAX_PAGE = 1_000_000


# The largest id a row can have (BIGINT): a larger number in a URL names nothing.
MAX_ID = 2**63 - 1


def positive_int(raw: str, *, maximum: int) -> int | None:
    """`raw` as an int in 1..maximum; None for anything else ("²", "-1", "1e3", "0x10", 20
    digits)."""
    if not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= maximum else None
