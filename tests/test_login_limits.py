"""Sign-in attempts are limited per account and per address (django-axes): 429 with
Retry-After, and the right password does not get through a lockout."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from pytest_django import Settings

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def three_tries(settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3


@pytest.fixture
def curator() -> None:
    get_user_model().objects.create_superuser("minor", password="right-pw-1234")
    get_user_model().objects.create_user("other", password="other-pw-1234")


def _sign_in(client: Client, username: str, password: str) -> int:
    return client.post(LOGIN, {"username": username, "password": password}).status_code


def test_an_account_is_locked_after_the_limit_from_any_address(curator: None) -> None:
    for i in range(2):
        assert _sign_in(Client(REMOTE_ADDR=f"192.0.2.{i}"), "minor", "guess") == 200
    # The failure that reaches the limit is already answered with the lockout.
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.3"), "minor", "guess") == 429
    locked = Client(REMOTE_ADDR="198.51.100.9").post(
        LOGIN, {"username": "minor", "password": "right-pw-1234"}
    )
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 900
    assert b"Too many" in locked.content
    # Another account from that address still signs in.
    assert _sign_in(Client(REMOTE_ADDR="198.51.100.9"), "other", "other-pw-1234") == 200


def test_an_address_is_locked_after_the_limit_whatever_the_account(curator: None) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for name in ("a", "b"):
        assert _sign_in(attacker, name, "guess") == 200
    assert _sign_in(attacker, "c", "guess") == 429
    assert _sign_in(attacker, "minor", "right-pw-1234") == 429
    # The curator, from their own address, is not locked out by someone else's guesses.
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.50"), "minor", "right-pw-1234") == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    curator: None, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # The attacker writes a different first hop each time; the balancer's last one is what counts.
    for i, name in enumerate(("a", "b", "c")):
        spoofing = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.7")
        assert _sign_in(spoofing, name, "guess") == (429 if name == "c" else 200)
    # Same balancer, another client: not locked.
    neighbour = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.77")
    assert _sign_in(neighbour, "minor", "right-pw-1234") == 302
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")
    assert _sign_in(attacker, "other", "other-pw-1234") == 429


def test_a_right_password_resets_the_accounts_count(curator: None) -> None:
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(2):
        assert _sign_in(client, "minor", "guess") == 200
    assert _sign_in(client, "minor", "right-pw-1234") == 302
    for _ in range(2):
        assert _sign_in(Client(REMOTE_ADDR="192.0.2.2"), "minor", "guess") == 200
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.3"), "minor", "right-pw-1234") == 302
