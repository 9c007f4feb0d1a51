"""Account reads: invitations by token or address, suggested user names, where a user lands."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Invitation
from accounts.tokens import token_digest


def invitation_for_token(*, token: str) -> Invitation | None:
    return Invitation.objects.filter(token_hash=token_digest(token)).first()


def invitation_pending_for_email(*, email: str, now: datetime) -> Invitation | None:
    return (
        Invitation.objects.filter(email__iexact=email, accepted_at=None, expires_at__gt=now)
        .order_by("-expires_at")
        .first()
    )


def email_has_account(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def username_suggestion(*, email: str) -> str:
    """The address's local part, cut to the characters Django allows in a user name, with a
    number added when it is taken."""
    base = re.sub(r"[^\w.+-]", "", email.partition("@")[0])[:140] or "photographer"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def home_url(*, is_staff: bool) -> str:
    """Curators (staff) start in the curator admin; photographers in their gallery."""
    return reverse("admin:index") if is_staff else reverse("gallery:home")


def api_token_created_at(*, user: User) -> datetime | None:
    return Token.objects.filter(user=user).values_list("created", flat=True).first()
