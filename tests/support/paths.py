from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
PHOTOS = TESTDATA / "photos"
CAMERA_METADATA = TESTDATA / "camera-metadata"
