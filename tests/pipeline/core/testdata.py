from __future__ import annotations

import json
from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata"
CAMERA_METADATA = TESTDATA / "camera-metadata"
PHOTOS = TESTDATA / "photos"
REAL_PHOTOS = TESTDATA / "real-photos"


def real_photo_labels() -> dict[str, str]:
    """File name -> label (keep, soft, featureless) of the labelled real camera photos."""
    entries = json.loads((REAL_PHOTOS / "labels.json").read_text())
    return {entry["file"]: entry["label"] for entry in entries}
