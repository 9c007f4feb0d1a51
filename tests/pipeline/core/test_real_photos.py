"""The labelled real camera photos: a photo a photographer would keep is never rejected.

77 unmodified originals from phones, compacts and DSLRs of over 20 makers (see the README in
../shared/testdata). Each is its own test case, so a regression names the camera.
"""

from __future__ import annotations

from functools import cache

import pytest

from pipeline.core.validator import ValidationResult, Verdict, validate
from tests.support.paths import REAL_PHOTOS, real_photo_labels

LABELS = real_photo_labels()
KEEP = sorted(name for name, label in LABELS.items() if label == "keep")
OTHERS = sorted(name for name, label in LABELS.items() if label != "keep")


@cache
def judged(name: str) -> ValidationResult:
    return validate((REAL_PHOTOS / name).read_bytes(), filename=name)


@pytest.mark.parametrize("name", KEEP)
def test_a_photo_worth_keeping_is_never_rejected(name: str) -> None:
    result = judged(name)
    assert result.verdict is not Verdict.REJECT, result.describe()
    assert result.passed


@pytest.mark.parametrize("name", OTHERS)
def test_soft_and_featureless_photos_get_a_verdict_in_words(name: str) -> None:
    # Any verdict is acceptable for these; what matters is that they are read and explained.
    result = judged(name)
    assert result.describe().endswith(".")


def test_few_photos_worth_keeping_are_flagged_borderline() -> None:
    borderline = [name for name in KEEP if judged(name).verdict is Verdict.BORDERLINE]
    assert len(borderline) <= 0.10 * len(KEEP), borderline


def test_the_moon_on_a_black_sky_is_not_underexposed() -> None:
    result = judged("Kodak_PIXPRO_FZ201.jpg")
    assert result.exposure.shadow_clipped > 0.9  # almost all of it is black sky
    assert result.verdict is Verdict.PASS, result.describe()


def test_a_blown_window_behind_people_is_not_overexposed() -> None:
    result = judged("Issue_177.jpg")
    assert result.exposure.highlight_clipped > 0.2
    assert "overexposed" not in result.reasons


@pytest.mark.parametrize("name", ["Issue_437_dotnet_.heic", "Issue_487.heic"])
def test_an_evenly_toned_surface_is_not_an_exposure_failure(name: str) -> None:
    result = judged(name)
    assert {"overexposed", "underexposed"}.isdisjoint(result.reasons), result.describe()
