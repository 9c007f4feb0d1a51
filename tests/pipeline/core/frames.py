"""Test-frame generators shared with the benchmarks (scripts/testimages.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from testimages import Defect, make_dng, make_frame, make_jpeg

__all__ = ["Defect", "make_dng", "make_frame", "make_jpeg"]
