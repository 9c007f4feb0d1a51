"""Signal receivers, connected in AccountsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest


def say_logged_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Both logouts, the app's and the admin's, land on the app's login page: tell the user
    why they are there. (The message outlives the session flush: it travels in a cookie.)"""
    if request is not None:
        messages.info(request, "You are logged out.", fail_silently=True)
