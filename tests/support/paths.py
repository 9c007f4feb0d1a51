"""Where the shared real test files live (outside the repository, never copied into it)."""

from __future__ import annotations

import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
PHOTOS = TESTDATA / "photos"
CAMERA_METADATA = TESTDATA / "camera-metadata"
REAL_PHOTOS = TESTDATA / "real-photos"


def real_photo_labels() -> dict[str, str]:
    """File name -> label (keep, soft, featureless) of the labelled real camera photos."""
    entries = json.loads((REAL_PHOTOS / "labels.json").read_text())
    return {entry["file"]: entry["label"] for entry in entries}
