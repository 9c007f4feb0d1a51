"""EXIF read from real camera files; the expected values were read once with
`exiftool -n` (Image::ExifTool 12.57) and are recorded here as literals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.exif import Exif
from pipeline.core.validator import validate
from tests.support.paths import CAMERA_METADATA, PHOTOS

EXPECTED: dict[str, Exif] = {
    "Apple.jpg": Exif(
        make="Apple",
        model="iPhone 7",
        lens="iPhone 7 back camera 3.99mm f/1.8",
        captured_at=datetime(2016, 9, 28, 18, 18, 5, 813000),
        iso=40,
        exposure_time=0.05,
        f_number=1.8,
        focal_length_mm=3.99,
        orientation=1,
        gps_lat=53.3828472222222,
        gps_lon=-1.45667777777778,
        gps_alt=72.36649215,
        width=4032,
        height=3024,
    ),
    "Canon.jpg": Exif(
        make="Canon",
        model="Canon EOS DIGITAL REBEL",
        captured_at=datetime(2003, 12, 4, 6, 46, 52),
        iso=100,
        exposure_time=4.0,
        f_number=14.0,
        focal_length_mm=34.0,
        orientation=1,
        width=160,
        height=120,
    ),
    "FujiFilm.jpg": Exif(
        make="FUJIFILM",
        model="FinePix2400Zoom",
        captured_at=datetime(2001, 5, 19, 18, 36, 41),
        iso=100,
        f_number=3.5,
        focal_length_mm=6.0,
        orientation=1,
        width=1600,
        height=1200,
    ),
    "GPS.jpg": Exif(
        make="FUJIFILM",
        model="FinePixS1Pro",
        captured_at=datetime(2002, 7, 13, 15, 58, 28),
        iso=0,
        f_number=0.640234375,
        focal_length_mm=0.0,
        orientation=1,
        gps_lat=54.9896666666667,
        gps_lon=-1.91416666666667,
        width=2400,
        height=1600,
    ),
    "Nikon.jpg": Exif(
        make="NIKON",
        model="E775",
        captured_at=datetime(2001, 8, 1, 12, 57, 23),
        iso=100,
        exposure_time=0.004686035614,
        f_number=9.4,
        focal_length_mm=8.6,
        orientation=1,
        width=1600,
        height=1200,
    ),
    "Olympus.jpg": Exif(
        make="OLYMPUS OPTICAL CO.,LTD",
        model="C2000Z",
        captured_at=datetime(1999, 12, 6, 16, 38, 40),
        iso=100,
        exposure_time=0.03333333333,
        f_number=2.0,
        focal_length_mm=7.0,
        orientation=1,
        width=640,
        height=480,
    ),
    "Panasonic.jpg": Exif(
        make="Panasonic",
        model="DMC-FZ3",
        captured_at=datetime(2004, 8, 28, 15, 55, 46),
        iso=80,
        exposure_time=0.0025,
        f_number=4.0,
        focal_length_mm=4.6,
        orientation=1,
        width=2016,
        height=1512,
    ),
    "Sony.jpg": Exif(
        make="SONY",
        model="DSC-F828",
        captured_at=datetime(2003, 12, 18, 13, 51, 33),
        iso=64,
        exposure_time=0.004,
        f_number=7.1,
        focal_length_mm=12.5,
        orientation=1,
        width=3264,
        height=2448,
    ),
}

# RAW containers whose sensor data was stripped: the pixels are unreadable, the metadata is not.
EXPECTED_RAW_STUBS: dict[str, Exif] = {
    "CanonRaw.cr2": Exif(
        make="Canon",
        model="Canon EOS 350D DIGITAL",
        captured_at=datetime(2005, 8, 3, 18, 59, 18),
        iso=400,
        exposure_time=0.06666666667,
        f_number=8.0,
        focal_length_mm=55.0,
        orientation=1,
        width=3456,
        height=2304,
    ),
    "CanonRaw.cr3": Exif(
        make="Canon",
        model="Canon EOS M50",
        body_serial="613040000565",
        lens="EF-M15-45mm f/3.5-6.3 IS STM",
        captured_at=datetime(2018, 2, 21, 12, 8, 56, 210000, tzinfo=UTC),
        iso=12800,
        exposure_time=0.0125,
        f_number=3.5,
        focal_length_mm=15.0,
        orientation=1,
        width=6000,
        height=4000,
    ),
    "DNG.dng": Exif(
        make="Canon",
        model="Canon EOS 350D DIGITAL",
        body_serial="012345678",
        captured_at=datetime(2005, 8, 3, 18, 59, 18),
        iso=400,
        exposure_time=0.06666666667,
        f_number=8.0,
        focal_length_mm=55.0,
        orientation=1,
    ),
    "Nikon.nef": Exif(
        make="NIKON CORPORATION",
        model="NIKON D70",
        captured_at=datetime(2004, 6, 9, 16, 2, 35),
        iso=200,
        exposure_time=0.05,
        f_number=3.5,
        focal_length_mm=18.0,
        orientation=1,
    ),
}

EXPECTED_PHOTOS: dict[str, Exif] = {
    "IMG_4120.JPG": Exif(
        make="Apple",
        model="iPhone SE",
        lens="iPhone SE back camera 4.15mm f/2.2",
        captured_at=datetime(2019, 6, 9, 12, 57, 32, 835000),
        iso=25,
        exposure_time=0.000442086649,
        f_number=2.2,
        focal_length_mm=4.15,
        orientation=1,
        gps_lat=50.0477444444444,
        gps_lon=8.57235555555556,
        gps_alt=103.8469849,
        width=500,
        height=375,
    ),
    "beach_sand.jpg": Exif(
        make="Apple",
        model="iPhone SE",
        lens="iPhone SE back camera 4.15mm f/2.2",
        captured_at=datetime(2017, 2, 15, 14, 13, 40, 249000),
        iso=25,
        exposure_time=0.0004940711462,
        focal_length_mm=4.2,
        gps_lat=-29.2824777777778,
        gps_lon=31.4436361111111,
        gps_alt=-1.990417522,  # GPSAltitudeRef 1: below sea level
    ),
    "canon_eos_6d.dng": Exif(
        make="Canon",
        model="Canon EOS 6D",
        body_serial="033024001432",
        lens="EF24-105mm f/4L IS USM",
        captured_at=datetime(2019, 6, 6, 7, 29, 51, tzinfo=timezone(timedelta(hours=2))),
        iso=1000,
        exposure_time=0.01666666667,
        f_number=5.6,
        focal_length_mm=65.0,
        orientation=1,
    ),
    "iphone_7.heic": Exif(
        make="Apple",
        model="iPhone 7",
        lens="iPhone 7 back camera 3.99mm f/1.8",
        captured_at=datetime(2018, 9, 10, 12, 16, 13, 23000),
        iso=20,
        exposure_time=0.00025,
        f_number=1.8,
        focal_length_mm=3.99,
        orientation=6,
        gps_lat=34.79745,
        gps_lon=134.764633333333,
        width=4032,
        height=3024,
    ),
}


def assert_exif_equal(actual: Exif, expected: Exif) -> None:
    for name, value in expected.__dict__.items():
        got = getattr(actual, name)
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-6, abs=1e-9), name
        else:
            assert got == value, name
            if isinstance(value, datetime):
                assert got.utcoffset() == value.utcoffset(), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exif_of_camera_jpegs_matches_exiftool(name: str) -> None:
    result = validate((CAMERA_METADATA / name).read_bytes(), filename=name)
    assert_exif_equal(result.exif, EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED_PHOTOS))
def test_exif_of_real_photos_matches_exiftool(name: str) -> None:
    result = validate((PHOTOS / name).read_bytes(), filename=name)
    assert_exif_equal(result.exif, EXPECTED_PHOTOS[name])


@pytest.mark.parametrize("name", sorted(EXPECTED_RAW_STUBS))
def test_raw_without_sensor_data_is_unreadable_but_keeps_its_exif(name: str) -> None:
    with pytest.raises(UnreadableImage) as caught:
        validate((CAMERA_METADATA / name).read_bytes(), filename=name)
    assert caught.value.reason is UnreadableReason.NO_SENSOR_DATA
    assert caught.value.exif is not None
    assert_exif_equal(caught.value.exif, EXPECTED_RAW_STUBS[name])


def test_sigma_x3f_stub_is_unreadable_for_missing_sensor_data() -> None:
    with pytest.raises(UnreadableImage) as caught:
        validate((CAMERA_METADATA / "Sigma.x3f").read_bytes(), filename="Sigma.x3f")
    assert caught.value.reason is UnreadableReason.NO_SENSOR_DATA


def test_heic_without_image_data_is_unreadable() -> None:
    with pytest.raises(UnreadableImage) as caught:
        validate((CAMERA_METADATA / "QuickTime.heic").read_bytes(), filename="QuickTime.heic")
    assert caught.value.reason in (UnreadableReason.TRUNCATED, UnreadableReason.CORRUPT)


def test_captured_at_is_aware_only_when_the_file_records_an_offset() -> None:
    with_offset = validate((PHOTOS / "canon_eos_6d.dng").read_bytes())
    without = validate((PHOTOS / "IMG_4120.JPG").read_bytes())
    assert with_offset.exif.captured_at is not None
    assert with_offset.exif.captured_at.utcoffset() == timedelta(hours=2)
    assert without.exif.captured_at is not None and without.exif.captured_at.tzinfo is None
