"""Account writes: invitations, self sign-up and API tokens. Every photographer account is made
here, in the "Photographers" group."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Group, User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import selectors
from accounts.models import Invitation
from accounts.roles import PHOTOGRAPHERS
from accounts.tokens import token_digest, token_new

logger = logging.getLogger(__name__)

# Builds the absolute accept link from a token; the caller knows the host the curator used.
LinkFor = Callable[[str], str]


class AccountError(Exception):
    """A request that cannot be granted, in words for the person who made it."""


class InvitationUnusable(AccountError):
    """The link is unknown, expired or already used: `problem` says which."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str  # shown once to the curator: only its token's digest is stored
    emailed: bool


def invitation_issue(
    *,
    email: str,
    name: str,
    created_by: User,
    valid_for: timedelta,
    link_for: LinkFor,
    now: datetime | None = None,
) -> IssuedInvitation:
    now = now or timezone.now()
    email = User.objects.normalize_email(email).strip()
    with transaction.atomic():
        _refuse_taken_email(email)
        if pending := selectors.invitation_pending_for_email(email=email, now=now):
            raise AccountError(
                f"An invitation to {email} is still open until "
                f"{timezone.localtime(pending.expires_at):%Y-%m-%d %H:%M}. "
                'Select it and use "Send a new link" to send it again.'
            )
        token, digest = token_new()
        invitation = Invitation.objects.create(
            email=email,
            name=name.strip(),
            token_hash=digest,
            created_by=created_by,
            expires_at=now + valid_for,
        )
    return _invitation_send(invitation, link_for(token))


def invitation_reissue(
    *,
    invitation_id: int,
    valid_for: timedelta,
    link_for: LinkFor,
    now: datetime | None = None,
) -> IssuedInvitation:
    """A new link and a new expiry for an invitation not yet accepted; the old link stops
    working."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if invitation.accepted_at is not None:
            raise AccountError(f"{invitation.email} accepted their invitation already.")
        token, invitation.token_hash = token_new()
        invitation.expires_at = now + valid_for
        invitation.save(update_fields=["token_hash", "expires_at"])
    return _invitation_send(invitation, link_for(token))


def _invitation_send(invitation: Invitation, link: str) -> IssuedInvitation:
    """Mail the link. A mail server that refuses is logged, not fatal: the curator still has the
    link on screen to pass on."""
    inviter = invitation.created_by
    context = {
        "invitation": invitation,
        "link": link,
        "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
    }
    try:
        send_mail(
            subject="You are invited to Parjanya",
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (OSError, smtplib.SMTPException):
        logger.exception("could not email invitation %s", invitation.pk)
        return IssuedInvitation(invitation=invitation, link=link, emailed=False)
    return IssuedInvitation(invitation=invitation, link=link, emailed=True)


def invitation_accept(
    *, token: str, username: str, password: str, now: datetime | None = None
) -> User:
    """Create the invitee's photographer account and use up the invitation, at most once even
    when two tabs submit together (the invitation row is locked)."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=token_digest(token)).first()
        )
        if invitation is None:
            raise InvitationUnusable("unknown")
        state = invitation.state(now)
        if state != Invitation.State.PENDING:
            raise InvitationUnusable(state)
        user = _photographer_create(
            username=username, email=invitation.email, password=password, name=invitation.name
        )
        invitation.accepted_at = now
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user


def photographer_sign_up(*, username: str, email: str, password: str) -> User:
    with transaction.atomic():
        return _photographer_create(username=username, email=email, password=password, name="")


def _photographer_create(*, username: str, email: str, password: str, name: str) -> User:
    _refuse_taken_email(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password, first_name=name[:150]
            )
    except IntegrityError as taken:
        raise AccountError(f"The user name {username} was just taken: choose another.") from taken
    # get_or_create: a group an administrator deleted comes back, still with no permissions.
    group, _ = Group.objects.get_or_create(name=PHOTOGRAPHERS)
    user.groups.add(group)
    return user


def _refuse_taken_email(email: str) -> None:
    # One account per address, or a password reset would reach two accounts.
    if selectors.email_has_account(email=email):
        raise AccountError(
            f"{email} already has an account. Its owner can reset the password from the login page."
        )


def api_token_create(*, user: User) -> str:
    """A new API token for this user; the previous one, if any, stops working."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
    return str(token.key)


def api_token_revoke(*, user: User) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0
