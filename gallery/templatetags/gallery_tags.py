"""Small template helpers shared by the photographer pages and the curator admin."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import json_script
from django.utils.safestring import SafeString

from gallery.models import IN_FLIGHT_STATUSES, Photo

register = template.Library()


@register.simple_tag
def status_feed_json(new_photos: str = "", redraw: bool = False) -> SafeString:
    """What status.js needs: the status labels (the wording lives in one place, the model's
    choices), which statuses are still in flight, the feed's URL, and a cursor of now,
    so the first read brings only what changed after the page was drawn. `new_photos` says what
    the page does with photos uploaded after it was drawn: "insert" their tiles (the gallery's
    first page, newest first, unfiltered), "announce" them (any other gallery view), or nothing.
    `redraw`: the page is redrawn in place when its photo changes (a detail page waiting for the
    curator's answer to a review request)."""
    return json_script(
        {
            "status": dict(Photo.Status.choices),
            "in_flight": list(IN_FLIGHT_STATUSES),
            "feed": reverse("api:photo-feed"),
            "since": timezone.now().isoformat(),
            "new_photos": new_photos,
            "redraw": bool(redraw),
        },
        "status-feed",
    )


@register.filter
def percent(fraction: float | None, digits: int = 1) -> str:
    """0.0123 -> "1.2%"; a missing measurement shows as a dash."""
    return "—" if fraction is None else f"{fraction * 100:.{digits}f}%"


@register.filter
def stars(rating: int | None) -> str:
    """A curator's 1-5 rating as five stars, filled to the rating: 3 -> "★★★☆☆"."""
    filled = max(0, min(rating or 0, 5))
    return "★" * filled + "☆" * (5 - filled)
