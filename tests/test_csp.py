"""Every page carries a Content-Security-Policy that runs no inline code; the S3 bucket's origin
is allowed for uploads and images only when a bucket is configured."""

from __future__ import annotations

import os
import subprocess
import sys

from django.test import Client

from tests.support.paths import REPO_ROOT


def _directives(header: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parsed}


def test_login_page_carries_a_policy_without_inline_code(db: None) -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]


_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
    "print(' '.join(d['connect-src'])); print(' '.join(d['img-src'])); "
    "print(' '.join(d['script-src']))"
)


def _policy_with(env: dict[str, str]) -> list[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=REPO_ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "curation.settings.local", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_a_configured_bucket_is_allowed_for_uploads_and_images_only() -> None:
    connect, img, script = _policy_with(
        {
            "AWS_STORAGE_BUCKET_NAME": "photos",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.net:8443/",
            "AWS_S3_ADDRESSING_STYLE": "path",
        }
    )
    assert connect == "'self' https://s3.example.net:8443"
    assert img == "'self' data: https://s3.example.net:8443"
    assert script == "'self'"


def test_aws_bucket_without_an_endpoint_allows_its_regional_hosts() -> None:
    connect, _, _ = _policy_with(
        {"AWS_STORAGE_BUCKET_NAME": "photos", "AWS_S3_REGION_NAME": "eu-west-1"}
    )
    assert connect.split() == [
        "'self'",
        "https://s3.eu-west-1.amazonaws.com",
        "https://photos.s3.eu-west-1.amazonaws.com",
        "https://photos.s3.amazonaws.com",
    ]
