"""The API's one exception handler (settings REST_FRAMEWORK["EXCEPTION_HANDLER"]).

Views raise; this shapes the answer: a refused direct upload becomes its JSON error, a file store
that does not answer becomes 503 with Retry-After, and everything else goes to DRF's own handler.
A database that does not answer is left to curation.unavailable's middleware, which answers the
API and the pages alike.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings
from rest_framework import status
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
    return exception_handler(exc, context)
