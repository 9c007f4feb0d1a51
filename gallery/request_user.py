"""The signed-in user of a request, typed as the project's User model.

Django and DRF type `request.user` as "some user, or anonymous". Every view that acts for a user
is behind login_required, IsAuthenticated or the admin's staff check, so the user is real; this
says so once, checked, instead of a cast or an ignore comment at each call.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request


def signed_in_user(request: HttpRequest | Request) -> User:
    user = request.user
    if not isinstance(user, User):
        # Unreachable behind the views' guards; refused rather than passed on as anonymous.
        raise PermissionDenied
    return user
