"""Direct multipart uploads: to S3 in S3 mode, to this server's disk in local mode. Views parse,
call one service, shape the answer."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery import direct_upload
from gallery.api.serializers import ApiError, PhotoOutput
from gallery.api.throttling import UploadRateThrottle
from gallery.direct_upload import DirectUpload, PartUrl, UploadedPart
from gallery.request_user import signed_in_user


class UploadStateOutput(serializers.Serializer[None]):
    upload = serializers.CharField(help_text="Opaque token naming this upload; keep it to resume.")
    filename = serializers.CharField()
    size = serializers.IntegerField()
    part_size = serializers.IntegerField()
    part_count = serializers.IntegerField()


class PartOutput(serializers.Serializer[UploadedPart]):
    number = serializers.IntegerField()
    size = serializers.IntegerField()
    etag = serializers.CharField()


class PartUrlOutput(serializers.Serializer[PartUrl]):
    number = serializers.IntegerField()
    size = serializers.IntegerField()
    url = serializers.URLField()
    headers = serializers.DictField(child=serializers.CharField())


def _state(upload: DirectUpload) -> dict[str, Any]:
    return {
        "upload": upload.token,
        "filename": upload.filename,
        "size": upload.size,
        "part_size": upload.part_size,
        "part_count": upload.part_count,
    }


class UploadStartInput(serializers.Serializer[None]):
    filename = serializers.CharField(max_length=1024)
    size = serializers.IntegerField(min_value=0)


class UploadProgressOutput(UploadStateOutput):
    parts = serializers.ListField(child=PartOutput())
    missing = serializers.ListField(child=serializers.IntegerField())
    photo = PhotoOutput(required=False)


class PartRequestInput(serializers.Serializer[None]):
    number = serializers.IntegerField(min_value=1)
    content_md5 = serializers.CharField(required=False, default="", allow_blank=True)


class PartsRequestInput(serializers.Serializer[None]):
    parts: serializers.ListSerializer[None] = serializers.ListSerializer(
        child=PartRequestInput(), min_length=1, max_length=1000
    )


class PartUrlsOutput(serializers.Serializer[None]):
    parts = serializers.ListField(child=PartUrlOutput())


class DirectUploadCreateApi(APIView):
    throttle_classes = [UploadRateThrottle]

    @extend_schema(
        request=UploadStartInput,
        responses={
            201: UploadStateOutput,
            400: ApiError,
            413: ApiError,
            501: ApiError,
            503: ApiError,
        },
        description=(
            "Start a direct upload of one file of exactly `size` bytes. Then request part URLs, "
            "PUT each part to its URL with the headers given, and complete."
        ),
    )
    def post(self, request: Request) -> Response:
        body = UploadStartInput(data=request.data)
        body.is_valid(raise_exception=True)
        upload = direct_upload.direct_upload_create(
            owner=signed_in_user(request), **body.validated_data
        )
        return Response(_state(upload), status=status.HTTP_201_CREATED)


class DirectUploadDetailApi(APIView):
    @extend_schema(
        responses={200: UploadProgressOutput, 404: ApiError, 503: ApiError},
        description=(
            "The parts already uploaded and those missing: how a client resumes. Once the "
            "upload is complete, `photo` is the photo it became and nothing is missing, so a "
            "client whose completion answer was lost does not send the file again."
        ),
    )
    def get(self, request: Request, token: str) -> Response:
        upload = direct_upload.direct_upload_from_token(owner=signed_in_user(request), token=token)
        photo = direct_upload.direct_upload_photo(upload)
        if photo is not None:
            return Response(
                {**_state(upload), "parts": [], "missing": [], "photo": PhotoOutput(photo).data}
            )
        parts = direct_upload.direct_upload_list_parts(upload=upload)
        return Response(
            {
                **_state(upload),
                "parts": [asdict(part) for part in parts],
                "missing": direct_upload.missing_parts(upload, parts),
            }
        )

    @extend_schema(responses={204: None, 404: ApiError, 409: ApiError, 503: ApiError})
    def delete(self, request: Request, token: str) -> Response:
        upload = direct_upload.direct_upload_from_token(owner=signed_in_user(request), token=token)
        direct_upload.direct_upload_abort(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DirectUploadPartsApi(APIView):
    @extend_schema(
        request=PartsRequestInput,
        responses={200: PartUrlsOutput, 400: ApiError, 404: ApiError},
        description=(
            "Presigned URLs for the given parts. Each URL accepts only a PUT of exactly that "
            "part's size, with the headers listed (Content-MD5 when you sent `content_md5`)."
        ),
    )
    def post(self, request: Request, token: str) -> Response:
        body = PartsRequestInput(data=request.data)
        body.is_valid(raise_exception=True)
        upload = direct_upload.direct_upload_from_token(owner=signed_in_user(request), token=token)
        urls = direct_upload.direct_upload_part_urls(
            upload=upload,
            parts=[direct_upload.PartRequest(**part) for part in body.validated_data["parts"]],
        )
        return Response({"parts": [asdict(url) for url in urls]})


class DirectUploadCompleteApi(APIView):
    @extend_schema(
        request=None,
        responses={
            201: PhotoOutput,
            400: ApiError,
            404: ApiError,
            409: ApiError,
            503: ApiError,
        },
        description=(
            "Assemble the uploaded parts into the original and create its photo. 409 lists the "
            "parts still missing. Completing again returns the same photo."
        ),
    )
    def post(self, request: Request, token: str) -> Response:
        upload = direct_upload.direct_upload_from_token(owner=signed_in_user(request), token=token)
        photo = direct_upload.direct_upload_complete(upload=upload)
        return Response(PhotoOutput(photo).data, status=status.HTTP_201_CREATED)


class DirectUploadPartApi(APIView):
    """Local mode's stand-in for a presigned S3 part URL."""

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={204: None, 400: ApiError, 404: ApiError, 501: ApiError},
        description=(
            "Local mode only (the part URLs name it): the body is part `number`, exactly its "
            "size; with `Content-MD5`, its digest is checked."
        ),
    )
    def put(self, request: Request, token: str, number: int) -> Response:
        # The body is read as a stream, never parsed: a part is up to DIRECT_UPLOAD_PART_BYTES.
        upload = direct_upload.direct_upload_from_token(owner=signed_in_user(request), token=token)
        direct_upload.direct_upload_store_part(
            upload=upload,
            number=number,
            stream=request.stream or io.BytesIO(),
            length=int(request.headers.get("Content-Length") or 0),
            content_md5=request.headers.get("Content-MD5", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
