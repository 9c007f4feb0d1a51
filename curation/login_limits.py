"""Who a client is, and what it is told when sign-ins are locked (django-axes and the API's
throttles share the address rule)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse


class LoginLimitBackend(AxesStandaloneBackend):  # type: ignore[misc]  # axes is untyped
    """django-axes' lockout check for every sign-in that comes with a request (the login pages,
    the admin). An authenticate() call without one (a script, the test client's login) has no
    client to limit: it goes on to the next backend instead of failing."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket's, or with TRUSTED_PROXY_COUNT proxies in front (a load
    balancer), the address the outermost trusted proxy saw, from X-Forwarded-For. The part of
    the header a client wrote itself is never trusted. DRF's NUM_PROXIES follows the same rule."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))]


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, round(seconds / 60))
    response = HttpResponse(
        "<!doctype html><title>Too many attempts</title><h1>Too many sign-in attempts</h1>"
        f"<p>Too many wrong passwords for this account or from this address. "
        f"Try again in {minutes} minutes.</p>",
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
