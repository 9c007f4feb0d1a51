"""The curator home (the admin index) lists the shoots to cull: read here, so the admin's own
index view needs no change."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from culling import selectors
from gallery import shoot_selectors
from gallery.models import Shoot

register = template.Library()
HOME_SHOOTS = 12


@register.simple_tag
def shoots_to_cull() -> QuerySet[Shoot]:
    return shoot_selectors.shoots_for_curation()[:HOME_SHOOTS]


@register.simple_tag
def review_requests_open() -> int:
    return selectors.open_review_count()


@register.simple_tag
def frames_to_decide() -> int:
    return selectors.undecided_count()
