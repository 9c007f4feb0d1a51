"""What every operation of the API may also answer, added to the OpenAPI schema once
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) rather than repeated on each view."""

from __future__ import annotations

from typing import Any

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
_COMMON = {
    "401": {
        "description": "No credentials, or a token that is not valid (`WWW-Authenticate: Token`).",
        "content": _ERROR,
    },
    "429": {
        "description": "Too many requests (uploads, or wrong tokens from this address); "
        "`Retry-After` says how many seconds to wait.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": _ERROR,
    },
}


def document_common_errors(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in _COMMON.items():
                operation.setdefault("responses", {}).setdefault(code, response)
    return result
