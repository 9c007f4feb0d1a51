"""A photographer makes, replaces and revokes their own API token; the API believes only the
current one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def _api_accepts(token: str) -> bool:
    status = Client().get("/api/photos/", HTTP_AUTHORIZATION=f"Token {token}").status_code
    assert status in (200, 401, 403), status  # 403: session auth comes first in REST_FRAMEWORK
    return status == 200


def _shown_token(html: str) -> str:
    found = re.search(r'id="new-token"[^>]*value="([0-9a-f]{40})"', html)
    assert found, html
    return found.group(1)


def test_create_replace_and_revoke_a_token(client: Client, photographer: User) -> None:
    client.force_login(photographer)
    assert "You have no token." in client.get("/accounts/").content.decode()

    created = client.post("/accounts/token/")
    assert created["Cache-Control"] == "no-store"
    first = _shown_token(created.content.decode())
    assert _api_accepts(first)
    later = client.get("/accounts/").content.decode()
    assert first not in later and "You have a token, created" in later  # shown once

    second = _shown_token(client.post("/accounts/token/").content.decode())
    assert second != first
    assert not _api_accepts(first) and _api_accepts(second)

    revoked = client.post("/accounts/token/revoke/", follow=True).content.decode()
    assert "Token revoked" in revoked and "You have no token." in revoked
    assert not _api_accepts(second)


def test_token_pages_need_a_login_and_a_post(client: Client, photographer: User) -> None:
    assert client.post("/accounts/token/")["Location"].startswith("/accounts/login/")
    client.force_login(photographer)
    assert client.get("/accounts/token/").status_code == 405


def test_the_api_guide_explains_the_token_with_this_server_address(
    client: Client, photographer: User
) -> None:
    client.force_login(photographer)
    home = client.get("/").content.decode()
    assert 'href="/accounts/api/"' in home and 'href="/accounts/"' in home
    guide = client.get("/accounts/api/").content.decode()
    assert "Authorization: Token YOUR_TOKEN" in guide
    assert "-F files=@photo.jpg" in guide and "http://testserver/api/photos/" in guide
    assert 'href="/accounts/#api-token"' in guide and 'href="/api/docs/"' in guide
