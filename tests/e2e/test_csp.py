"""Every page a photographer and a curator reach runs under the site's Content-Security-Policy
without a single violation in Chromium: no inline script, handler or style is left anywhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gallery.models import Photo
from tests.e2e.helpers import log_in, make_user, watch_csp_violations
from tests.gallery.factories import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _selected_text(page: Page) -> str:
    return str(
        page.evaluate(
            "(() => { const box = document.activeElement;"
            " return box.value.substring(box.selectionStart, box.selectionEnd); })()"
        )
    )


def _visit(page: Page, url: str) -> Page:
    """Opens the page and waits until its scripts, styles, images and first fetches are done."""
    page.goto(url, wait_until="networkidle")
    return page


def test_the_watch_catches_an_inline_style(page: Page, live_server: LiveServer) -> None:
    """The watch below would report a real violation: an inline style set on a served page."""
    violations = watch_csp_violations(page)
    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")
    assert any("style-src" in v for v in violations), violations


def test_photographer_pages_run_without_csp_violations(page: Page, live_server: LiveServer) -> None:
    ansel = make_user("ansel")
    photo = make_photo(owner=ansel, status=Photo.Status.SCORED, filename="cat.jpg")
    violations = watch_csp_violations(page)
    base = live_server.url

    log_in(page, live_server, "ansel")
    expect(_visit(page, f"{base}/").get_by_role("img", name="cat.jpg")).to_be_visible()
    expect(_visit(page, f"{base}/upload/").get_by_label("Or choose files")).to_be_attached()
    expect(
        _visit(page, f"{base}/photos/{photo.uid}/").get_by_role("img", name="cat.jpg")
    ).to_be_visible()
    expect(_visit(page, f"{base}/accounts/api/").get_by_role("heading").first).to_be_visible()
    expect(
        _visit(page, f"{base}/accounts/password_change/").get_by_label("Old password")
    ).to_be_visible()
    expect(
        _visit(page, f"{base}/accounts/").get_by_role("heading", name="API token")
    ).to_be_visible()

    page.get_by_role("button", name="Create a token").click()
    page.wait_for_load_state("networkidle")  # the deferred script is in place
    token = page.get_by_label("Your new token")
    token.focus()
    # Selected whole on focus by a static script (no onfocus= attribute: the CSP would block it).
    selected = _selected_text(page)
    assert violations == []
    assert selected == token.input_value()
    assert violations == []


def test_curator_pages_run_without_csp_violations(page: Page, live_server: LiveServer) -> None:
    ansel = make_user("ansel")
    root = make_photo(owner=ansel, status=Photo.Status.SCORED, filename="soft.jpg")
    make_photo(
        owner=ansel,
        status=Photo.Status.REJECTED,
        reason=Photo.RejectReason.DUPLICATE,
        duplicate_of=root,
        filename="crisp.jpg",
        source="skimage:astronaut",
    )
    make_user("minor", staff=True)
    violations = watch_csp_violations(page)
    base = live_server.url
    admin = f"{base}/admin"

    log_in(page, live_server, "minor", admin=True)
    expect(_visit(page, f"{admin}/").get_by_role("link", name="Photos").first).to_be_visible()
    expect(_visit(page, f"{admin}/gallery/photo/").locator("#result_list tbody tr")).to_have_count(
        2
    )
    change_form = _visit(page, f"{admin}/gallery/photo/{root.pk}/change/")
    expect(change_form.get_by_role("img", name=re.compile("Luminance histogram"))).to_be_visible()
    expect(_visit(page, f"{admin}/gallery/photo/review/").locator("#review-position")).to_have_text(
        re.compile(r"Photo 1 of")
    )
    expect(
        _visit(page, f"{admin}/gallery/photo/duplicates/").get_by_role("img", name="soft.jpg")
    ).to_be_visible()
    page.get_by_role("link", name=re.compile(r"Open group of 2")).click()
    expect(page.get_by_role("img", name="crisp.jpg")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(
        _visit(page, f"{admin}/gallery/photo/dashboard/").get_by_text("GPU hours saved (estimate)")
    ).to_be_visible()
    expect(
        _visit(page, f"{admin}/accounts/invitation/").get_by_role("link", name="Add invitation")
    ).to_be_visible()
    page.get_by_role("link", name="Add invitation").click()
    page.get_by_label("Email address").fill("vivian@example.com")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_load_state("networkidle")
    link_box = page.locator("input.invitation-link")
    link_box.focus()
    selected = _selected_text(page)
    assert violations == []
    assert selected == link_box.input_value()
    link = link_box.input_value()
    expect(
        _visit(page, f"{base}/api/docs/").get_by_role("heading", name=re.compile("Parjanya API"))
    ).to_be_visible()
    page.context.clear_cookies()
    expect(_visit(page, f"{admin}/login/").get_by_label("Username")).to_be_visible()
    expect(_visit(page, link).get_by_label("Password confirmation")).to_be_visible()
    assert violations == []
