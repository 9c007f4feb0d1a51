"""Photographer-facing pages and the auth-checked file views: thin views over selectors."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from gallery import selectors
from gallery.filenames import download_filename
from gallery.models import Photo
from gallery.query_params import MAX_PAGE, positive_int
from gallery.request_user import signed_in_user
from pipeline.core.formats import picker_accept

PAGE_SIZE = 48
# Score filter choices offered on the gallery page (minimum VLM score).
MIN_SCORES = ("0.4", "0.6", "0.8")


@login_required
@require_GET
def gallery_home(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in Photo.Status.values:
        status = None
    min_score = request.GET.get("min_score") or None
    if min_score not in MIN_SCORES:
        min_score = None
    flag = request.GET.get("flag") or None
    if flag not in Photo.ValidatorFlag.values:
        flag = None
    photos = selectors.photo_list_for_owner(
        owner=signed_in_user(request),
        status=status,
        min_score=float(min_score) if min_score else None,
        flag=flag,
    )
    page = selectors.photo_page(photos=photos, number=_page_number(request), size=PAGE_SIZE)
    filters = "&".join(
        f"{key}={value}"
        for key, value in (("status", status), ("min_score", min_score), ("flag", flag))
        if value
    )
    return render(
        request,
        "gallery/home.html",
        {
            "page": page,
            "statuses": Photo.Status.choices,
            "status": status,
            "min_scores": MIN_SCORES,
            "min_score": min_score,
            "flags": Photo.ValidatorFlag.choices,
            "flag": flag,
            "filters": filters,
            "in_flight": selectors.IN_FLIGHT_STATUSES,
        },
    )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page")
    if raw is None:
        return 1
    number = positive_int(raw, maximum=MAX_PAGE)
    if number is None:
        raise Http404("No such page.")
    return number


@login_required
@require_GET
def photo_detail(request: HttpRequest, uid: str) -> HttpResponse:
    photo = selectors.photo_get_for_owner(owner=signed_in_user(request), uid=uid)
    if photo is None:
        raise Http404
    return render(
        request,
        "gallery/photo_detail.html",
        {
            "photo": photo,
            "exif": selectors.photo_exif_rows(photo=photo),
            "in_flight": selectors.IN_FLIGHT_STATUSES,
        },
    )


def _storage_has_local_files() -> bool:
    """Local media (streamed by Django) or a remote store such as S3 (signed URLs, direct
    multipart uploads)."""
    try:
        default_storage.path("")
    except NotImplementedError:
        return False
    return True


@login_required
@require_GET
def upload_page(request: HttpRequest) -> HttpResponse:
    direct = not _storage_has_local_files()
    return render(
        request,
        "gallery/upload.html",
        {
            "accept": picker_accept(),
            # In S3 mode, files bigger than one part go straight to the bucket in resumable
            # multipart uploads; smaller ones (and everything in local mode) go to the API.
            "direct_upload_url": reverse("uploads:create") if direct else "",
            "direct_upload_min_bytes": settings.DIRECT_UPLOAD_PART_BYTES,
        },
    )


_KINDS = {"original", "preview", "thumbnail"}


@login_required
@require_GET
def photo_file(request: HttpRequest, uid: str, kind: str) -> HttpResponseBase:
    """The original, preview or thumbnail, for the owner or staff only. Media is never served
    from a public URL: local files stream from here; in S3 mode this redirects to a short-lived
    signed URL."""
    if kind not in _KINDS:
        raise Http404
    photo = selectors.photo_get_for_viewer(user=request.user, uid=uid)
    if photo is None:
        raise Http404
    field = getattr(photo, kind)
    if not field:
        raise Http404
    name = field.name
    if not _storage_has_local_files():
        return HttpResponseRedirect(default_storage.url(name))
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    is_original = kind == "original"
    response = FileResponse(
        handle,
        as_attachment=is_original,
        filename=(
            download_filename(photo.original_filename, fmt=photo.format)
            if is_original
            else f"{photo.uid}-{kind}.jpg"
        ),
        content_type=(mimetypes.guess_type(name)[0] or "application/octet-stream"),
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
