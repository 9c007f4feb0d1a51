"""Liveness for load balancers: answers without touching the database, so a slow database
does not get healthy web tasks killed."""

from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
