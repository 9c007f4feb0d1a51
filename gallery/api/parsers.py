"""The upload API's multipart parser: one file's bad name or a request with too many files
gets a JSON answer, and never costs the other files in the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

# Stands in for a file name Django cannot use ("", ".", ".."); the view refuses that file.
NAMELESS = "\x00"


class _KeepsNamelessFiles(DjangoMultiPartParser):
    # Django skips a part whose name sanitises to nothing without reading past its body, so the
    # next part's parse fails and the whole request with it; a placeholder keeps it in step.
    def sanitize_file_name(self, file_name: str) -> str:
        return super().sanitize_file_name(file_name) or NAMELESS


def too_many_files_error() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    return {
        "file": "",
        "error": "too_many_files",
        "detail": f"Send at most {limit} files per request; split the rest into more requests.",
    }


class UploadParser(MultiPartParser):
    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> DataAndFiles[Any, Any]:
        context = parser_context or {}
        request = context["request"]
        meta = {**request.META, "CONTENT_TYPE": media_type}
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            body = cast(Any, stream)  # the request's body stream, as DRF's own parser passes it
            parser = _KeepsNamelessFiles(meta, body, request.upload_handlers, encoding)
            data, files = parser.parse()
        except TooManyFilesSent as error:
            raise ParseError({"created": [], "errors": [too_many_files_error()]}) from error
        except MultiPartParserError as error:
            raise ParseError(f"Multipart form parse error - {error}") from error
        return DataAndFiles(data, files)
