"""Where the shared real test files live (outside the repository, never copied into it)."""

from __future__ import annotations

from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata"
CAMERA_METADATA = TESTDATA / "camera-metadata"
PHOTOS = TESTDATA / "photos"
