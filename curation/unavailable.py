"""Answers 503 with Retry-After, not a 500, while a dependency the request needs is down.

The database is the one every request may touch (sessions, tokens, photos); when it refuses
connections the view's OperationalError lands here. API clients get JSON, browsers a short page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

DATABASE_DOWN = "The database is not answering. Nothing was changed; try again shortly."


def unavailable_response(request: HttpRequest, *, code: str, detail: str) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": code, "detail": detail}, status=503)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Unavailable</title><h1>Unavailable</h1><p>{detail}</p>",
            status=503,
        )
    response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_S)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable for %s: %s", request.path, exception)
        return unavailable_response(request, code="database_unavailable", detail=DATABASE_DOWN)
