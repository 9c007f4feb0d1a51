"""The API's one exception handler (settings REST_FRAMEWORK["EXCEPTION_HANDLER"]).

Views raise; this shapes the answer, always `{"error": code, "detail": words}`: a refused direct
upload becomes its JSON error, a file store that does not answer becomes 503 with Retry-After,
and DRF's own errors (invalid input, authentication, throttling, not found) get the same shape,
invalid input with its `fields` too. A database that does not answer is left to
curation.unavailable's middleware, which answers the API and the pages alike.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from gallery.direct_upload import DirectUploadError

logger = logging.getLogger(__name__)

STORAGE_DOWN = "The file store is not answering; send the request again shortly."


def _storage_down(exc: Exception) -> bool:
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if not isinstance(exc, ClientError):
        return False
    # A 5xx (SlowDown, ServiceUnavailable, InternalError) is the store failing, not the request.
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DirectUploadError):
        return Response({"error": exc.code, "detail": exc.message, **exc.extra}, status=exc.status)
    if _storage_down(exc):
        logger.error("file store unavailable for %s: %s", context["request"].path, exc)
        return Response(
            {"error": "storage_unavailable", "detail": STORAGE_DOWN},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.UNAVAILABLE_RETRY_AFTER_S)},
        )
    # DRF's handler would convert Django's own two, but after the shaping below.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _error_body(exc)
    return response


UNREADABLE_BODY = (
    "The request body could not be read: send valid JSON, or multipart/form-data for uploads."
)


def _error_body(exc: exceptions.APIException) -> Any:
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail = _first_problem(fields) or "The request is not valid."
        return {"error": "invalid", "detail": detail, "fields": fields}
    if isinstance(exc.detail, dict):
        return exc.detail  # already shaped where it was raised (the upload parser's refusal)
    if isinstance(exc, exceptions.ParseError):
        # DRF's words quote the parser ("JSON parse error - Expecting property name...").
        return {"error": "parse_error", "detail": UNREADABLE_BODY}
    return {"error": exc.get_codes(), "detail": str(exc.detail)}


def _first_problem(errors: Any, path: str = "") -> str | None:
    """The first field error in words, with where it is: `parts.0.number: This field is
    required.`"""
    if isinstance(errors, str):
        return f"{path}: {errors}" if path and path != "non_field_errors" else errors
    items = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for key, value in items:
        if isinstance(errors, list) and isinstance(value, str):
            return _first_problem(value, path)
        found = _first_problem(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None
