"""A curator invites a photographer; the link works once, until it expires, and nowhere else."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from accounts import services
from accounts.models import Invitation
from accounts.roles import PHOTOGRAPHERS

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/invitation/add/"
NEW_PASSWORD = "kodachrome-64-slide"


@pytest.fixture
def curator_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("minor", password="pw-minor-1234"))
    return client


def _invite(client: Client, email: str = "vivian@example.com", name: str = "Vivian") -> str:
    response = client.post(ADD, {"email": email, "name": name})
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'value="(http://testserver/accounts/invitation/[^"]+/)"', html)
    assert found, html
    return found.group(1).removeprefix("http://testserver")


def _accept(path: str, username: str = "vivian", password: str = NEW_PASSWORD) -> HttpResponseBase:
    return Client().post(path, {"username": username, "password1": password, "password2": password})


def test_invite_shows_the_link_once_mails_it_and_stores_only_a_digest(
    curator_client: Client, settings: Settings
) -> None:
    path = _invite(curator_client)
    token = path.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash and len(token) >= 40
    assert (invitation.email, invitation.name) == ("vivian@example.com", "Vivian")
    valid_for = invitation.expires_at - invitation.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < valid_for <= timedelta(days=7)
    (message,) = mail.outbox
    assert message.to == ["vivian@example.com"] and f"http://testserver{path}" in message.body
    # The link is not on the invitation's own page afterwards.
    page = curator_client.get(f"/admin/accounts/invitation/{invitation.pk}/change/")
    assert token not in page.content.decode()


def test_the_invitee_chooses_a_name_and_password_and_lands_on_upload(
    curator_client: Client,
) -> None:
    path = _invite(curator_client, email="Vivian.Maier@Example.com")
    invitee = Client()
    form = invitee.get(path).content.decode()
    assert 'value="Vivian.Maier"' in form  # user name suggested from the address
    assert "Vivian.Maier@example.com" in form

    weak = invitee.post(path, {"username": "vivian", "password1": "123", "password2": "123"})
    assert "This password is too short" in weak.content.decode()
    assert not User.objects.filter(username="vivian").exists()

    response = invitee.post(
        path, {"username": "vivian", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/upload/"
    user = User.objects.get(username="vivian")
    assert user.email == "Vivian.Maier@example.com" and user.first_name == "Vivian"
    assert list(user.groups.values_list("name", flat=True)) == [PHOTOGRAPHERS]
    assert not user.is_staff
    assert "Welcome, vivian" in invitee.get("/upload/").content.decode()  # logged in
    invitation = Invitation.objects.get()
    assert invitation.accepted_user == user and invitation.accepted_at is not None


def test_a_used_link_does_not_work_again(curator_client: Client) -> None:
    path = _invite(curator_client)
    _accept(path)
    again = Client().get(path)
    assert again.status_code == 410 and "This invitation has been used" in again.content.decode()
    second = _accept(path, username="impostor")
    assert second.status_code == 410
    assert not User.objects.filter(username="impostor").exists()


def test_an_expired_link_is_refused_in_plain_words(curator_client: Client) -> None:
    issued = services.invitation_issue(
        email="late@example.com",
        name="",
        created_by=User.objects.get(username="minor"),
        valid_for=timedelta(days=7),
        link_for=lambda token: f"/accounts/invitation/{token}/",
        now=timezone.now() - timedelta(days=8),
    )
    page = Client().get(issued.link)
    assert page.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    assert _accept(issued.link, username="late").status_code == 410
    assert not User.objects.filter(username="late").exists()


def test_an_unknown_link_is_a_plain_not_found(db: None) -> None:
    page = Client().get("/accounts/invitation/not-a-real-token/")
    assert page.status_code == 404
    assert "We do not know this invitation" in page.content.decode()


def test_sending_a_new_link_retires_the_old_one(curator_client: Client) -> None:
    old = _invite(curator_client)
    invitation = Invitation.objects.get()
    response = curator_client.post(
        "/admin/accounts/invitation/",
        {"action": "send_new_link", "_selected_action": [invitation.pk]},
    )
    new = re.search(r'value="http://testserver(/accounts/invitation/[^"]+/)"', response.text)
    assert new and new.group(1) != old
    assert Client().get(old).status_code == 404
    assert _accept(new.group(1)).status_code == 302
    assert len(mail.outbox) == 2


def test_an_address_with_an_account_or_an_open_invitation_is_not_invited_twice(
    curator_client: Client, photographer: User
) -> None:
    photographer.email = "ansel@example.com"
    photographer.save()
    taken = curator_client.post(ADD, {"email": "ANSEL@example.com", "name": ""})
    assert "ANSEL@example.com already has an account" in taken.content.decode()
    _invite(curator_client, email="vivian@example.com")
    twice = curator_client.post(ADD, {"email": "vivian@example.com", "name": ""})
    assert "An invitation to vivian@example.com is still open" in twice.content.decode()
    assert Invitation.objects.count() == 1


def test_a_mail_server_that_refuses_loses_nothing(
    curator_client: Client, settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    settings.EMAIL_USE_TLS = False
    response = curator_client.post(ADD, {"email": "vivian@example.com", "name": ""})
    html = response.content.decode()
    assert "The email could not be sent" in html
    link = re.search(r'value="http://testserver(/accounts/invitation/[^"]+/)"', html)
    assert link and _accept(link.group(1)).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_two_tabs_accepting_at_once_make_one_account() -> None:
    curator = User.objects.create_superuser("minor", password="pw-minor-1234")
    issued = services.invitation_issue(
        email="vivian@example.com",
        name="",
        created_by=curator,
        valid_for=timedelta(days=1),
        link_for=lambda token: token,
    )
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(username: str) -> None:
        start.wait()
        try:
            services.invitation_accept(token=issued.link, username=username, password=NEW_PASSWORD)
            outcomes.append("created")
        except services.InvitationUnusable as unusable:
            outcomes.append(unusable.problem)
        finally:
            connection.close()

    tabs = [threading.Thread(target=accept, args=(name,)) for name in ("vivian", "vivian2")]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    assert sorted(outcomes) == ["accepted", "created"]
    assert User.objects.filter(email="vivian@example.com").count() == 1
