"""Photographer-facing pages and the auth-checked file views: thin views over selectors."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
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
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import selectors, services
from gallery.filenames import download_filename
from gallery.models import UNSCORED_HELP, Photo
from gallery.query_params import MAX_PAGE, positive_int
from gallery.request_user import signed_in_user
from pipeline.core.formats import FORMATS_IN_WORDS, picker_accept

PAGE_SIZE = 48
# Score range choices offered on the gallery page (bounds of the model's 0-1 score).
SCORE_BOUNDS = ("0.2", "0.4", "0.6", "0.8")
# The query parameters of the gallery's filters, in the order links carry them.
FILTER_PARAMS = (
    "status",
    "reason",
    "flag",
    "min_score",
    "max_score",
    "captured_from",
    "captured_to",
    "sort",
)


def _choice(request: HttpRequest, name: str, allowed: Sequence[str]) -> str | None:
    value = request.GET.get(name) or None
    return value if value in allowed else None


def _day(request: HttpRequest, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name) or "")
    except ValueError:
        return None


def _filters(request: HttpRequest) -> selectors.PhotoFilter:
    """The gallery's filters from the query string; a value the page does not offer is
    ignored, so a stale or hand-edited link still shows a gallery."""
    min_score = _choice(request, "min_score", SCORE_BOUNDS)
    max_score = _choice(request, "max_score", SCORE_BOUNDS)
    return selectors.PhotoFilter(
        status=_choice(request, "status", Photo.Status.values),
        reason=_choice(request, "reason", Photo.RejectReason.values),
        flag=_choice(request, "flag", Photo.ValidatorFlag.values),
        min_score=float(min_score) if min_score else None,
        max_score=float(max_score) if max_score else None,
        captured_from=_day(request, "captured_from"),
        captured_to=_day(request, "captured_to"),
        sort=_choice(request, "sort", selectors.Sort.values) or selectors.Sort.NEWEST,
    )


def _query(filters: selectors.PhotoFilter) -> str:
    """The filters as a query string (without the default sort), for pagination and detail
    links."""
    values = {
        "status": filters.status,
        "reason": filters.reason,
        "flag": filters.flag,
        "min_score": filters.min_score,
        "max_score": filters.max_score,
        "captured_from": filters.captured_from,
        "captured_to": filters.captured_to,
        "sort": None if filters.sort == selectors.Sort.NEWEST else filters.sort,
    }
    return urlencode([(name, str(values[name])) for name in FILTER_PARAMS if values[name]])


def _filter_words(filters: selectors.PhotoFilter) -> list[str]:
    """The filters in force, in words, for an empty result to name them."""
    words = []
    if filters.status:
        words.append(f"status “{Photo.Status(filters.status).label}”")
    if filters.reason:
        words.append(f"reason “{Photo.RejectReason(filters.reason).label}”")
    if filters.flag:
        words.append(f"flag “{Photo.ValidatorFlag(filters.flag).label}”")
    if filters.min_score is not None:
        words.append(f"model score at least {filters.min_score:g}")
    if filters.max_score is not None:
        words.append(f"model score below {filters.max_score:g}")
    if filters.captured_from:
        words.append(f"taken on or after {filters.captured_from.isoformat()}")
    if filters.captured_to:
        words.append(f"taken on or before {filters.captured_to.isoformat()}")
    return words


@login_required
@require_GET
def gallery_home(request: HttpRequest) -> HttpResponse:
    owner = signed_in_user(request)
    filters = _filters(request)
    photos = selectors.photo_list_for_owner(owner=owner, filters=filters)
    page = selectors.photo_page(photos=photos, number=_page_number(request), size=PAGE_SIZE)
    counts = selectors.photo_status_counts_for_owner(owner=owner)
    return render(
        request,
        "gallery/home.html",
        {
            "page": page,
            "filter": filters,
            "filters": _query(filters),
            "filter_words": _filter_words(filters),
            "status_counts": [
                (status, Photo.Status(status).label, n) for status, n in counts.items()
            ],
            "total": sum(counts.values()),
            "statuses": Photo.Status.choices,
            "reasons": Photo.RejectReason.choices,
            "flags": Photo.ValidatorFlag.choices,
            "score_bounds": SCORE_BOUNDS,
            "min_score": _choice(request, "min_score", SCORE_BOUNDS),
            "max_score": _choice(request, "max_score", SCORE_BOUNDS),
            "sorts": selectors.Sort.choices,
            "grouped": filters.sort in selectors.GROUPED_BY_DAY,
            "unscored_help": UNSCORED_HELP,
            # A new upload belongs at the top of the first page, newest first, unfiltered;
            # anywhere else the page only says it arrived.
            "new_photos": "insert" if page.number == 1 and _unsorted(filters) else "announce",
        },
    )


def _unsorted(filters: selectors.PhotoFilter) -> bool:
    return not filters.narrowed and filters.sort == selectors.Sort.NEWEST


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
    owner = signed_in_user(request)
    photo = selectors.photo_get_for_owner(owner=owner, uid=uid)
    if photo is None:
        raise Http404
    filters = _filters(request)
    return render(
        request,
        "gallery/photo_detail.html",
        {
            "photo": photo,
            "exif": selectors.photo_exif_rows(photo=photo),
            "neighbours": selectors.photo_neighbours(
                owner=owner,
                photo=photo,
                filters=filters,
            ),
            "filters": _query(filters),
            "review": selectors.photo_review_request(photo=photo),
            "review_note_max": services.REVIEW_NOTE_MAX_CHARS,
            "unscored_help": UNSCORED_HELP,
        },
    )


@login_required
@require_POST
def photo_request_review(request: HttpRequest, uid: str) -> HttpResponse:
    owner = signed_in_user(request)
    photo = selectors.photo_get_for_owner(owner=owner, uid=uid)
    if photo is None:
        raise Http404
    try:
        services.photo_request_review(
            photo_id=photo.pk,
            owner=owner,
            note=request.POST.get("note", ""),
        )
    except services.ReviewRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Asked for a review. The curator's answer will show here.")
    return HttpResponseRedirect(reverse("gallery:photo-detail", args=[photo.uid]))


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
    return render(
        request,
        "gallery/upload.html",
        {
            "accept": picker_accept(),
            "formats_in_words": FORMATS_IN_WORDS,
            # Files bigger than one part go in resumable multipart uploads (straight to the
            # bucket in S3 mode, to this server's disk in local mode); smaller ones whole.
            "direct_upload_url": reverse("uploads:create"),
            "direct_upload_min_bytes": settings.DIRECT_UPLOAD_PART_BYTES,
        },
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API's own
    pages); they all get the gallery's."""
    return HttpResponseRedirect(static("gallery/favicon.svg"))


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
