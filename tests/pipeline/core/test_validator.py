"""The validator as the ingest task sees it: formats, orientation, verdicts, limits, errors."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from skimage import data as skdata

from pipeline.core.errors import UnreadableImage, UnreadableReason
from pipeline.core.formats import ImageFormat
from pipeline.core.validator import (
    DEFAULT_THRESHOLDS,
    FLAG_POSSIBLY_OVEREXPOSED,
    FLAG_POSSIBLY_SOFT,
    REASON_BLURRY,
    REASON_OVEREXPOSED,
    REASON_UNDEREXPOSED,
    Thresholds,
    Verdict,
    validate,
)
from tests.support.paths import PHOTOS

from .frames import Defect, make_dng, make_frame, make_jpeg

# A camera-sized frame (large enough to be analysed at half scale) that stays quick to make.
WIDTH, HEIGHT = 2400, 1600


@cache
def frame_jpeg(defect: Defect) -> bytes:
    return make_jpeg(7, WIDTH, HEIGHT, defect)


@cache
def upright_photo() -> NDArray[np.uint8]:
    """A real photo, 2000x1500, right side up, with content that tells up from down."""
    return np.asarray(
        Image.fromarray(skdata.coffee()).resize((2000, 1500), Image.Resampling.LANCZOS)
    )


# How a camera stores a frame that must be shown upright with each Exif orientation.
STORED_FOR_ORIENTATION = {
    1: lambda im: im,
    3: lambda im: im.transpose(Image.Transpose.ROTATE_180),
    6: lambda im: im.transpose(Image.Transpose.ROTATE_90),
    8: lambda im: im.transpose(Image.Transpose.ROTATE_270),
    2: lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
}


def stored_with_orientation(orientation: int, fmt: str) -> bytes:
    stored = STORED_FOR_ORIENTATION[orientation](Image.fromarray(upright_photo()))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, fmt, exif=exif.tobytes(), **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def assert_upright(preview: bytes, long_edge: int) -> None:
    image = Image.open(io.BytesIO(preview))
    assert image.format == "JPEG"
    assert max(image.size) == long_edge
    reference = Image.fromarray(upright_photo())
    assert image.size == (long_edge, round(long_edge * 1500 / 2000))
    got = np.asarray(image.convert("RGB"), dtype=np.float32)
    want = np.asarray(reference.resize(image.size, Image.Resampling.BOX), dtype=np.float32)
    flipped = want[::-1, ::-1]
    error = np.abs(got - want).mean()
    assert error < 8.0
    assert error < np.abs(got - flipped).mean() / 3


@pytest.mark.parametrize("orientation", sorted(STORED_FOR_ORIENTATION))
@pytest.mark.parametrize("fmt", ["JPEG", "TIFF", "PNG"])
def test_previews_come_out_right_side_up(fmt: str, orientation: int) -> None:
    result = validate(stored_with_orientation(orientation, fmt), preview_edges=(1600, 400))
    assert result.exif.orientation == orientation
    assert (result.width, result.height) == (2000, 1500)
    assert set(result.previews) == {1600, 400}
    assert_upright(result.previews[1600], 1600)
    assert_upright(result.previews[400], 400)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_raw_previews_come_out_right_side_up(orientation: int) -> None:
    stored = STORED_FOR_ORIENTATION[orientation](Image.fromarray(upright_photo()))
    dng = make_dng(np.asarray(stored), orientation=orientation)
    result = validate(dng, filename="frame.dng", preview_edges=(1600, 400))
    assert result.format is ImageFormat.DNG
    assert (result.width, result.height) == (2000, 1500)
    assert_upright(result.previews[1600], 1600)
    assert_upright(result.previews[400], 400)


def test_heic_from_an_iphone_is_shown_upright() -> None:
    # The file records Orientation 6 (rotate 90 CW) in Exif and no irot box in the container.
    result = validate((PHOTOS / "iphone_7.heic").read_bytes(), preview_edges=(1600, 400))
    assert result.format is ImageFormat.HEIC
    assert (result.width, result.height) == (3024, 4032)
    assert Image.open(io.BytesIO(result.previews[400])).size == (300, 400)
    assert Image.open(io.BytesIO(result.previews[1600])).size == (1200, 1600)


def test_raw_with_embedded_preview_is_judged_from_the_preview() -> None:
    rgb = make_frame(7, WIDTH, HEIGHT)
    result = validate(make_dng(rgb), filename="frame.dng")
    assert result.format is ImageFormat.DNG
    assert (result.width, result.height) == (WIDTH, HEIGHT)
    assert "decode_preview" in result.timings_ms
    assert result.passed, result.reasons


def test_raw_without_usable_preview_falls_back_to_the_sensor_data() -> None:
    rgb = make_frame(7, WIDTH, HEIGHT)
    result = validate(make_dng(rgb, preview=False), filename="frame.dng", preview_edges=(400,))
    assert "demosaic_half" in result.timings_ms
    assert (result.width, result.height) == (WIDTH, HEIGHT)
    thumbnail = np.asarray(Image.open(io.BytesIO(result.previews[400])), dtype=np.float32)
    reference = np.asarray(Image.fromarray(rgb).resize((400, 267)), dtype=np.float32)
    assert np.abs(thumbnail - reference).mean() < 20.0


def test_raw_preview_threshold_decides_the_path() -> None:
    dng = make_dng(make_frame(7, WIDTH, HEIGHT))
    strict = Thresholds.from_overrides({"min_preview_long_edge": WIDTH + 1})
    assert "demosaic_half" in validate(dng, strict, filename="frame.dng").timings_ms


def test_dng_is_recognised_whatever_its_name() -> None:
    result = validate(make_dng(make_frame(7, WIDTH, HEIGHT)), filename="upload.tif")
    assert result.format is ImageFormat.DNG
    assert (result.width, result.height) == (WIDTH, HEIGHT)


def test_sharp_frame_passes() -> None:
    result = validate(frame_jpeg(Defect.SHARP))
    assert result.passed
    assert result.reasons == ()
    assert result.format is ImageFormat.JPEG


@pytest.mark.parametrize("defect", [Defect.BLUR2, Defect.BLUR4])
def test_blurred_frames_are_rejected_as_blurry(defect: Defect) -> None:
    # Gaussian sigma 2 and 4 px on a 2400 px frame: a blur radius of 0.17 % and 0.33 % of the
    # long edge, visible full screen.
    result = validate(frame_jpeg(defect))
    assert result.verdict is Verdict.REJECT
    assert result.reasons == (REASON_BLURRY,)
    assert result.describe().startswith("Blurry: sharpness")


def test_motion_blur_is_at_least_flagged() -> None:
    result = validate(frame_jpeg(Defect.MOTION))
    assert result.verdict is not Verdict.PASS
    assert REASON_BLURRY in result.reasons or FLAG_POSSIBLY_SOFT in result.flags


def test_one_pixel_of_blur_is_invisible_at_viewing_size() -> None:
    # Real camera output is this soft at pixel level (demosaicing, AA filters, JPEG): judged at
    # the viewing scale it is not blur.
    assert validate(frame_jpeg(Defect.BLUR1)).verdict is Verdict.PASS


def test_borderline_sharpness_is_flagged_and_explained() -> None:
    score = validate(frame_jpeg(Defect.BLUR2)).sharpness.score
    limits = {"min_sharpness": score - 0.01, "sharpness_margin": 0.05}
    thresholds = Thresholds.from_overrides(limits)
    result = validate(frame_jpeg(Defect.BLUR2), thresholds)
    assert (result.verdict, result.flags, result.reasons) == (
        Verdict.BORDERLINE,
        (FLAG_POSSIBLY_SOFT,),
        (),
    )
    assert result.passed
    assert result.describe() == (
        f"Possibly soft: sharpness {score:.2f} is near the {score - 0.01:.2f} limit; "
        "passed, flagged for the curator."
    )


def test_high_iso_noise_is_not_mistaken_for_detail_or_blur() -> None:
    assert validate(frame_jpeg(Defect.NOISE)).passed


def test_shallow_depth_of_field_is_not_blurry() -> None:
    result = validate(frame_jpeg(Defect.SHALLOW_DOF))
    assert result.passed, result.describe()


def test_overexposed_frame_is_at_least_flagged() -> None:
    # +2 EV (the +/-2.5 EV calibration targets are on the real photos).
    result = validate(frame_jpeg(Defect.PLUS2EV))
    assert result.verdict is not Verdict.PASS
    assert REASON_OVEREXPOSED in result.reasons or FLAG_POSSIBLY_OVEREXPOSED in result.flags
    assert "overexposed" in result.describe().lower()
    assert "clipped white" in result.describe()


def test_underexposed_frame_is_rejected_in_words() -> None:
    strict = Thresholds.from_overrides({"min_bright_level": 0.6})
    result = validate(frame_jpeg(Defect.MINUS2EV), strict)
    assert result.reasons == (REASON_UNDEREXPOSED,)
    assert result.describe().startswith("Underexposed: even the brightest parts of the frame")


def test_high_key_photo_that_clips_nothing_is_not_overexposed() -> None:
    # A 30 MP bird-on-snow frame: nearly all of it is bright, none of it is blown out.
    result = validate((PHOTOS / "6720px_white.jpg").read_bytes())
    assert (result.width, result.height) == (6720, 4480)
    assert result.exposure.mean_luminance > 0.9
    assert result.exposure.highlight_clipped < 0.01
    assert REASON_OVEREXPOSED not in result.reasons


def test_luminance_histogram_counts_the_measured_pixels() -> None:
    result = validate(frame_jpeg(Defect.SHARP))
    histogram = result.exposure.luminance_histogram
    assert len(histogram) == 256
    assert result.metrics_json()["luminance_histogram"] == list(histogram)
    mean = sum(i * n for i, n in enumerate(histogram)) / sum(histogram) / 255
    assert mean == pytest.approx(result.exposure.mean_luminance)


def test_thresholds_from_settings_override_the_verdict() -> None:
    lenient = Thresholds.from_overrides({"min_sharpness": 0.0, "sharpness_margin": 0.0})
    assert validate(frame_jpeg(Defect.BLUR4), lenient).verdict is Verdict.PASS
    assert lenient.max_pixels == DEFAULT_THRESHOLDS.max_pixels


@pytest.mark.parametrize(
    "overrides",
    [{"min_sharpnes": 0.3}, {"min_sharpness": "high"}, {"max_pixels": 1.5}, {"min_sharpness": -1}],
)
def test_bad_threshold_overrides_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Thresholds.from_overrides(overrides)


def test_pixel_limit_refuses_large_images_before_decoding() -> None:
    with pytest.raises(UnreadableImage) as caught:
        validate(frame_jpeg(Defect.SHARP), Thresholds(max_pixels=WIDTH * HEIGHT - 1))
    assert caught.value.reason is UnreadableReason.TOO_LARGE


def test_decompression_bomb_png_is_refused() -> None:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    # 100000 x 100000 RGB that would inflate to 30 GB; the file itself is tiny.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    )
    with pytest.raises(UnreadableImage) as caught:
        validate(bomb + chunk(b"IEND", b""))
    assert caught.value.reason is UnreadableReason.TOO_LARGE


def test_truncated_jpeg_is_unreadable_but_keeps_its_exif() -> None:
    original = (PHOTOS / "IMG_4120.JPG").read_bytes()
    with pytest.raises(UnreadableImage) as caught:
        validate(original[: len(original) // 2])
    assert caught.value.reason is UnreadableReason.TRUNCATED
    assert caught.value.exif is not None and caught.value.exif.model == "iPhone SE"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", UnreadableReason.EMPTY),
        (b"%PDF-1.7 not an image at all", UnreadableReason.UNSUPPORTED),
        (b"\xff\xd8\xff\xe0" + b"\0" * 200, UnreadableReason.CORRUPT),
    ],
)
def test_non_images_are_unreadable(payload: bytes, reason: UnreadableReason) -> None:
    with pytest.raises(UnreadableImage) as caught:
        validate(payload)
    assert caught.value.reason is reason


def test_format_comes_from_content_not_name() -> None:
    result = validate((PHOTOS / "this-is-a-jpeg.png").read_bytes(), filename="this-is-a-jpeg.png")
    assert result.format is ImageFormat.JPEG


def test_file_objects_are_accepted() -> None:
    with (PHOTOS / "cat_brown.jpg").open("rb") as upload:
        from_file = validate(upload)
    from_bytes = validate((PHOTOS / "cat_brown.jpg").read_bytes())
    assert (from_file.phash, from_file.exif, from_file.exposure, from_file.sharpness) == (
        from_bytes.phash,
        from_bytes.exif,
        from_bytes.exposure,
        from_bytes.sharpness,
    )


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "I;16", "P"])
def test_other_pixel_modes_are_measured(mode: str) -> None:
    image = Image.fromarray(skdata.astronaut())
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
    else:
        converted = image.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "TIFF" if mode == "I;16" else "PNG"
    buffer = io.BytesIO()
    converted.save(buffer, fmt)
    result = validate(buffer.getvalue(), preview_edges=(400,))
    assert (result.width, result.height) == (512, 512)
    assert 0.3 < result.exposure.mean_luminance < 0.7
    assert Image.open(io.BytesIO(result.previews[400])).mode == "RGB"


def test_timings_cover_every_step() -> None:
    result = validate(frame_jpeg(Defect.SHARP), preview_edges=(400,))
    assert {"open", "decode", "sharpness", "exposure", "hashes", "previews", "total"} <= set(
        result.timings_ms
    )
