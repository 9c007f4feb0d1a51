"""The upload API. Views parse, call one service per file, and shape the answer."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery import selectors, services
from gallery.api.parsers import NAMELESS, UploadParser
from gallery.api.serializers import (
    ApiError,
    PhotoOutput,
    PhotoPage,
    PhotoStatusOutput,
    StatusFeedInput,
    StatusFeedOutput,
    UploadInput,
    UploadOutput,
)
from gallery.api.throttling import UploadRateThrottle
from gallery.models import Photo
from gallery.request_user import signed_in_user
from gallery.upload_handlers import HashedUpload, HashingSizeLimitedUploadHandler


def _oversized_files(request: Request) -> list[str]:
    return [
        name
        for handler in request._request.upload_handlers
        if isinstance(handler, HashingSizeLimitedUploadHandler)
        for name in handler.oversized
    ]


class PhotoListCreateApi(APIView):
    parser_classes = [UploadParser]
    throttle_classes = [UploadRateThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=Photo.Status.values, required=False),
            OpenApiParameter(
                "flag",
                enum=Photo.ValidatorFlag.values,
                required=False,
                description="Only photos carrying this validator flag or note.",
            ),
            OpenApiParameter("page", int, required=False),
        ],
        operation_id="photos_list",
        responses={200: PhotoPage, 400: ApiError, 404: ApiError},
        description=(
            "Your photos, newest first, 50 a page: follow `next`. 400 for an unknown `status` or "
            "`flag`, 404 for a page past the last."
        ),
    )
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status") or None
        flag = request.query_params.get("flag") or None
        for name, value, allowed in (
            ("status", status_filter, Photo.Status.values),
            ("flag", flag, Photo.ValidatorFlag.values),
        ):
            if value and value not in allowed:
                return Response(
                    {
                        "error": f"invalid_{name}",
                        "detail": f"{name} must be one of {', '.join(allowed)}",
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
        photos = selectors.photo_list_for_owner(
            owner=signed_in_user(request), status=status_filter, flag=flag
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            photos.select_related("duplicate_of"), request, view=self
        )
        return paginator.get_paginated_response(PhotoOutput(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadInput},
        responses={
            201: UploadOutput,
            207: UploadOutput,
            400: UploadOutput,
            413: UploadOutput,
            503: UploadOutput,
        },
        description=(
            "Upload one or many files in the multipart field `files`. Each file gets its own "
            "result: 201 when all were stored, 207 when some were refused, "
            "400 or 413 when none was, 503 (with Retry-After) when the file store is down."
        ),
    )
    def post(self, request: Request) -> Response:
        uploads = request.FILES.getlist("files")
        try:
            return self._store(request, uploads)
        finally:
            # A spooled file that storage moved into place must be closed here, not by the
            # garbage collector, whose late unlink of the moved path raises (and is logged).
            for upload in uploads:
                upload.close()

    def _store(self, request: Request, uploads: list[Any]) -> Response:
        oversized = _oversized_files(request)
        created: list[Photo] = []
        errors: list[dict[str, Any]] = [
            {
                "file": name,
                "error": "too_large",
                "detail": f"{name} is larger than the limit of {settings.UPLOAD_MAX_FILE_BYTES} "
                "bytes.",
            }
            for name in oversized
        ]
        storage_down = False
        for upload in uploads:
            if upload.name == NAMELESS:
                errors.append(
                    {
                        "file": "",
                        "error": "bad_name",
                        "detail": "A file arrived without a usable name (empty, . or ..); "
                        "rename it and send it again.",
                    }
                )
                continue
            if storage_down:
                errors.append(_storage_unavailable(upload.name))
                continue
            try:
                created.append(
                    services.photo_create_from_upload(
                        owner=signed_in_user(request), upload=cast(HashedUpload, upload)
                    )
                )
            except services.UploadRejected as rejected:
                errors.append(
                    {"file": upload.name, "error": rejected.code, "detail": rejected.message}
                )
            except services.StorageUnavailable:
                storage_down = True
                errors.append(_storage_unavailable(upload.name))
        if not uploads and not oversized:
            errors.append(
                {"file": "", "error": "no_files", "detail": "Send files in the `files` field."}
            )
        body = {"created": PhotoOutput(created, many=True).data, "errors": errors}
        response = Response(body, status=_upload_status(created=len(created), errors=errors))
        if storage_down:
            response["Retry-After"] = str(settings.UNAVAILABLE_RETRY_AFTER_S)
        return response


def _storage_unavailable(name: str | None) -> dict[str, Any]:
    return {
        "file": name,
        "error": "storage_unavailable",
        "detail": f"{name} was not stored: the file store is not answering. Send it again shortly.",
    }


def _upload_status(*, created: int, errors: list[dict[str, Any]]) -> int:
    if not errors:
        return status.HTTP_201_CREATED
    if created:
        return status.HTTP_207_MULTI_STATUS
    if any(error["error"] == "storage_unavailable" for error in errors):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    if all(error["error"] == "too_large" for error in errors):
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    return status.HTTP_400_BAD_REQUEST


class PhotoDetailApi(APIView):
    @extend_schema(responses={200: PhotoOutput, 404: ApiError})
    def get(self, request: Request, uid: str) -> Response:
        photo = selectors.photo_get_for_owner(owner=signed_in_user(request), uid=uid)
        if photo is None:
            raise NotFound("No such photo in your library.")
        return Response(PhotoOutput(photo).data)


class PhotoStatusFeedApi(APIView):
    @extend_schema(
        parameters=[StatusFeedInput],
        responses={200: StatusFeedOutput, 400: ApiError},
        description=(
            "One read for all the photos a page follows: without `since`, every photo the "
            "pipeline may still move; with the last answer's `cursor` as `since`, every photo "
            "changed since (a change may come twice), new uploads included, with the count per "
            "status. Poll this instead of each photo."
        ),
    )
    def get(self, request: Request) -> Response:
        query = StatusFeedInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        feed = selectors.photo_status_feed(
            owner=signed_in_user(request), since=query.validated_data.get("since")
        )
        return Response(
            {
                "cursor": feed.cursor.isoformat(),
                "more": feed.more,
                "photos": PhotoStatusOutput(feed.photos, many=True).data,
                "counts": feed.counts,
            }
        )


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Every address under /api/ that names no operation, whatever the method. An address
    missing only its final slash is redirected for a read (as Django would, `/api/docs`), but
    not for a write: a client follows a redirect with a GET, and the upload would be lost."""
    detail = f"There is no API at {request.path}."
    slashed = request.path + "/"
    if not request.path.endswith("/") and resolve(slashed).func is not api_not_found:
        if request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(slashed + (f"?{query}" if query else ""))
        detail += f" Addresses end with a slash: {slashed}"
    return JsonResponse({"error": "not_found", "detail": detail}, status=404)
