"""The curator home (the admin index) lists the shoots to cull: read here, so the admin's own
index view needs no change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.db.models import QuerySet

from culling import selectors
from gallery import shoot_selectors
from gallery.models import Shoot

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

register = template.Library()
HOME_SHOOTS = 12


@register.simple_tag
def shoots_to_cull() -> QuerySet[WithAnnotations[Shoot, shoot_selectors.ShootCounts]]:
    return shoot_selectors.shoots_for_curation()[:HOME_SHOOTS]


@register.simple_tag
def review_requests_open() -> int:
    return selectors.open_review_count()


@register.simple_tag
def frames_to_decide() -> int:
    return selectors.undecided_count()
