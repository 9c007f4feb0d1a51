"""In S3 mode a large file goes from the browser straight to the bucket in parts; when the
connection drops, choosing the file again sends only the parts the bucket is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import Screenshot, drop_part_two_once, large_upload_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_large_file_goes_to_s3_in_parts_and_resumes(
    page: Page,
    live_server: LiveServer,
    celery_worker: None,
    s3_storage: str,
    settings: Settings,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    big, violations = large_upload_page(page, live_server, settings, tmp_path)

    parts_sent = drop_part_two_once(page, re.compile(r"[?&]partNumber=(\d+)"))

    chooser = page.get_by_label("Or choose files")
    chooser.set_input_files(big)
    first = page.locator("#upload-list li").nth(0)
    expect(first.get_by_role("alert")).to_contain_text("choose the same file again")
    assert parts_sent == ["1", "2"]
    screenshot(page, "direct-upload-interrupted")

    chooser.set_input_files(big)
    second = page.locator("#upload-list li").nth(1)
    status = second.locator("[data-role=status]")
    expect(status).to_have_text(re.compile("Awaiting score|Rejected"), timeout=60_000)
    assert parts_sent == ["1", "2", "2", "3"]  # part 1 was not sent again
    screenshot(page, "direct-upload-resumed")

    photo = Photo.objects.get()
    assert photo.original_filename == "astronaut-wall.tif"
    assert photo.size_bytes == big.stat().st_size
    assert photo.status != Photo.Status.UPLOADED

    # The preview comes from the bucket through a signed URL; the CSP allows that origin.
    page.goto(f"{live_server.url}/photos/{photo.uid}/", wait_until="networkidle")
    preview = page.get_by_role("img", name="astronaut-wall.tif")
    expect(preview).to_be_visible()
    assert preview.evaluate("image => image.naturalWidth") > 0
    assert violations == []
