"""Limits on what one client can make the API do: uploads per user, and wrong tokens per
client address. Both answer 429 with Retry-After (DRF's Throttled).

Counts live in Django's cache ("default"): per process with the local-memory default, shared by
every web process once CACHE_URL names a Redis.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    """Upload requests (POST) per photographer; reading and polling are not limited."""

    scope = "uploads"

    def get_rate(self) -> str:
        return str(settings.UPLOAD_THROTTLE_RATE)

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        return bool(super().allow_request(request, view))


class _TokenFailures(SimpleRateThrottle):
    """Wrong tokens from one client address, in a sliding window."""

    scope = "token_failures"
    # Set by SimpleRateThrottle.__init__ from the rate; the stubs do not declare them.
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        return str(settings.TOKEN_FAILURE_THROTTLE_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return str(self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)})

    def wait_if_blocked(self, request: Request) -> float | None:
        """Seconds until this address may try a token again; None when it may now."""
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) < self.num_requests:
            return None
        return float(self.wait() or self.duration)

    def record_failure(self) -> None:
        self.throttle_success()


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication that stops guessing: past TOKEN_FAILURE_THROTTLE_RATE wrong tokens
    from one address, every token from there is refused with 429 until the window passes, so a
    right token found by guessing is useless. Requests without a token are not counted."""

    def authenticate(self, request: Request) -> Any:
        if not request.headers.get("Authorization", "").lower().startswith("token "):
            return None
        failures = _TokenFailures()
        wait = failures.wait_if_blocked(request)
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many wrong tokens from this address.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            failures.record_failure()
            raise
