"""Logging in and out, sign-up, password change and reset, as a user meets them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from pytest_django import Settings

from accounts.roles import PHOTOGRAPHERS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "pw-ansel-1234"  # tests/conftest.py's photographer
NEW_PASSWORD = "silver-gelatin-print"


def _log_in(client: Client, username: str, password: str, **extra: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_each_role_lands_on_its_own_home_after_login(client: Client, photographer: User) -> None:
    page = client.get(LOGIN).content.decode()
    assert "gallery/app.css" in page and "Forgot your password?" in page
    assert _log_in(client, "ansel", PASSWORD)["Location"] == "/"

    User.objects.create_user("minor", password="pw-minor-1234", is_staff=True)
    assert _log_in(Client(), "minor", "pw-minor-1234").url == "/admin/"
    # A page that sent the user to log in is where they go back to.
    assert _log_in(Client(), "minor", "pw-minor-1234", next="/upload/").url == "/upload/"
    assert _log_in(Client(), "ansel", PASSWORD, next="https://evil.example/").url == "/"


def test_pages_send_anonymous_visitors_to_the_app_login(client: Client) -> None:
    response = client.get("/upload/")
    assert response["Location"] == f"{LOGIN}?next=/upload/"


def test_logout_lands_on_the_app_login_page(client: Client, photographer: User) -> None:
    client.force_login(photographer)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(response["Location"]).content.decode()
    assert "You are logged out." in page and "<h1>Log in</h1>" in page
    assert client.get("/").status_code == 302  # the session is gone


def test_the_admin_logout_also_lands_on_the_app_login_page(client: Client) -> None:
    client.force_login(User.objects.create_superuser("minor", password="pw-minor-1234"))
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "You are logged out." in client.get(LOGIN).content.decode()


def test_sign_up_is_closed_by_default(client: Client) -> None:
    assert "Create an account" not in client.get(LOGIN).content.decode()
    page = client.get("/accounts/signup/")
    assert page.status_code == 404 and "Sign-up is closed" in page.content.decode()
    client.post(
        "/accounts/signup/",
        {
            "username": "walker",
            "email": "walker@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert not User.objects.filter(username="walker").exists()


def test_sign_up_when_open_makes_a_photographer(client: Client, settings: Settings) -> None:
    settings.SIGNUP_OPEN = True
    assert 'href="/accounts/signup/"' in client.get(LOGIN).content.decode()
    no_email = client.post(
        "/accounts/signup/",
        {"username": "walker", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert "This field is required" in no_email.content.decode()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "walker",
            "email": "walker@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/upload/"
    user = User.objects.get(username="walker")
    assert list(user.groups.values_list("name", flat=True)) == [PHOTOGRAPHERS]
    assert not user.is_staff
    assert client.get("/upload/").status_code == 200


def test_password_reset_mail_carries_a_working_link(photographer: User) -> None:
    photographer.email = "ansel@example.com"
    photographer.save()
    client = Client()
    response = client.post("/accounts/password_reset/", {"email": "ANSEL@example.com"})
    assert response["Location"] == "/accounts/password_reset/done/"
    (message,) = mail.outbox
    assert message.to == ["ansel@example.com"] and "ansel" in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", str(message.body))
    assert link, message.body

    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert _log_in(Client(), "ansel", NEW_PASSWORD).url == "/"
    # The link works once.
    again = Client().get(link.group(1), follow=True).content.decode()
    assert "This link does not work any more" in again


def test_the_admin_login_offers_the_app_password_reset(client: Client) -> None:
    page = client.get("/admin/login/").content.decode()
    assert 'href="/admin/password_reset/"' in page
    assert client.get("/admin/password_reset/")["Location"] == "/accounts/password_reset/"


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client: Client,
) -> None:
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_password_change_in_the_app(client: Client, photographer: User) -> None:
    client.force_login(photographer)
    assert "Change your password" in client.get("/accounts/password_change/").content.decode()
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "Your password is changed." in response.content.decode()
    assert _log_in(Client(), "ansel", PASSWORD).status_code == 200  # the form again: refused
    assert _log_in(Client(), "ansel", NEW_PASSWORD).url == "/"
