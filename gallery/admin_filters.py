"""Changelist filters for the curator admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from gallery.models import Photo


class ScoreRangeFilter(admin.SimpleListFilter):
    title = "VLM score"
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


class CameraFilter(admin.SimpleListFilter):
    title = "camera"
    parameter_name = "camera"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        models = (
            Photo.objects.exclude(camera_model="")
            .order_by("camera_model")
            .values_list("camera_model", flat=True)
            .distinct()
        )
        return [(model, model) for model in models]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> QuerySet[Photo]:
        value = self.value()
        return queryset.filter(camera_model=value) if value else queryset
