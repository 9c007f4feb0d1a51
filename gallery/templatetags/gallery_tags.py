"""Small template helpers shared by the photographer pages and the curator admin."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from gallery.models import Photo

register = template.Library()


@register.simple_tag
def photo_labels_json() -> SafeString:
    """Status and reason labels for the scripts that update badges in place, so the wording
    lives in one place: the model's choices."""
    return json_script(
        {"status": dict(Photo.Status.choices), "reason": dict(Photo.RejectReason.choices)},
        "photo-labels",
    )


@register.filter
def percent(fraction: float | None, digits: int = 1) -> str:
    """0.0123 -> "1.2%"; a missing measurement shows as a dash."""
    return "—" if fraction is None else f"{fraction * 100:.{digits}f}%"
