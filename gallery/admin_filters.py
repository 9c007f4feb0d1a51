"""Changelist filters for the curator admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import BadRequest
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest

from gallery.models import Photo
from gallery.query_params import positive_int
from gallery.selectors import photo_flag_q

MAX_USER_ID = 2**63 - 1  # BIGINT


class ScoreRangeFilter(admin.SimpleListFilter):
    title = "model score"
    parameter_name = "score"
    # The pipeline rejects below 0.4 (design.md); the upper bands split what it kept.
    RANGES: dict[str, tuple[str, Q]] = {
        "none": ("not scored", Q(vlm_score__isnull=True)),
        "low": ("below 0.4", Q(vlm_score__lt=0.4)),
        "fair": ("0.4 to 0.6", Q(vlm_score__gte=0.4, vlm_score__lt=0.6)),
        "good": ("0.6 to 0.8", Q(vlm_score__gte=0.6, vlm_score__lt=0.8)),
        "great": ("0.8 and above", Q(vlm_score__gte=0.8)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        chosen = self.RANGES.get(self.value() or "")
        return queryset.filter(chosen[1]) if chosen else queryset


class ClippingFilter(admin.SimpleListFilter):
    title = "clipping"
    parameter_name = "clipping"
    RANGES: dict[str, tuple[str, Q]] = {
        "none": ("under 1%", Q(highlight_clip__lt=0.01, shadow_clip__lt=0.01)),
        "some": ("1% or more", Q(highlight_clip__gte=0.01) | Q(shadow_clip__gte=0.01)),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        chosen = self.RANGES.get(self.value() or "")
        return queryset.filter(chosen[1]) if chosen else queryset


def _camera_models() -> list[str]:
    return list(
        Photo.objects.exclude(camera_model="")
        .order_by("camera_model")
        .values_list("camera_model", flat=True)
        .distinct()
    )


class CameraFilter(admin.SimpleListFilter):
    title = "camera"
    parameter_name = "camera"
    # The list of cameras is a DISTINCT over every photo, the costliest query of the page
    # (~100 ms at 100k photos); it changes rarely, so it is cached briefly. A new camera shows up
    # in the sidebar within CACHE_SECONDS; filtering by it works at once.
    CACHE_KEY = "gallery:admin:camera-models"
    CACHE_SECONDS = 120

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        cached = cache.get_or_set(self.CACHE_KEY, _camera_models, self.CACHE_SECONDS)
        models: list[str] = cached or []
        # A camera newer than the cached list is still a valid choice: keep it, or the admin
        # would drop the filter altogether.
        chosen = self.value()
        if chosen and chosen not in models:
            models = sorted([*models, chosen])
        return [(model, model) for model in models]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        value = self.value()
        return queryset.filter(camera_model=value) if value else queryset


class PhotographerFilter(admin.SimpleListFilter):
    title = "photographer"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # One index probe per user (EXISTS on owner_id) instead of a DISTINCT over every photo.
        users = (
            get_user_model()
            .objects.filter(Exists(Photo.objects.filter(owner=OuterRef("pk"))))
            .order_by("username")
        )
        return [(str(user.pk), user.get_username()) for user in users]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        value = self.value()
        if not value:
            return queryset
        owner_id = positive_int(value, maximum=MAX_USER_ID)
        if owner_id is None:
            raise BadRequest("The photographer filter takes a user id.")
        return queryset.filter(owner_id=owner_id)


class ValidatorFlagFilter(admin.SimpleListFilter):
    """Frames the validator sent on with a doubt (possibly soft, over- or underexposed), or
    whose file carries a note (trailing data): each an indexed boolean column."""

    title = "validator flag"
    parameter_name = "flag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(Photo.ValidatorFlag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        value = self.value()
        if value not in Photo.ValidatorFlag.values:
            return queryset
        return queryset.filter(photo_flag_q([value]))
