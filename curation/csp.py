"""The Content-Security-Policy every page is served with (README "Faults and limits").

Scripts and styles come from our own static files only: no inline code, no `unsafe-inline`, no
`unsafe-eval`, so an injected `<script>` or `onclick=` never runs. The one origin besides our own
is the S3 bucket, and only when one is configured: the browser sends direct uploads to it and
loads signed image URLs from it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import NONE, SELF

# Swagger UI's stylesheet draws its icons as data: SVGs.
_DATA = "data:"


def bucket_origins(
    *, bucket: str, endpoint_url: str | None, region: str, addressing_style: str
) -> list[str]:
    """The origins a browser reaches the bucket at through the URLs boto3 signs: the endpoint
    itself (path style) and the bucket's own host name (virtual-hosted style)."""
    if not bucket:
        return []
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        endpoint = f"{parts.scheme}://{parts.netloc}"
        virtual = f"{parts.scheme}://{bucket}.{parts.netloc}"
    else:
        endpoint = f"https://s3.{region}.amazonaws.com"
        virtual = f"https://{bucket}.s3.{region}.amazonaws.com"
    if addressing_style == "path":
        return [endpoint]
    if addressing_style == "virtual":
        return [virtual]
    # "auto": boto3 picks per bucket name and region; a us-east-1 bucket may also be signed
    # against the global host.
    extra = [f"https://{bucket}.s3.amazonaws.com"] if not endpoint_url else []
    return [endpoint, virtual, *extra]


def content_security_policy(*, bucket_origins: list[str]) -> dict[str, object]:
    """django-csp's CONTENT_SECURITY_POLICY setting."""
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            "img-src": [SELF, _DATA, *bucket_origins],
            "connect-src": [SELF, *bucket_origins],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }
