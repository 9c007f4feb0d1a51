"""Photographer-facing pages: thin views over selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gallery import selectors
from gallery.models import Photo


@login_required
def gallery_home(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in Photo.Status.values:
        status = None
    photos = selectors.photo_list_for_owner(owner=request.user, status=status)
    page = Paginator(photos, 48).get_page(request.GET.get("page"))
    return render(
        request,
        "gallery/home.html",
        {"page": page, "statuses": Photo.Status.choices, "status": status},
    )
