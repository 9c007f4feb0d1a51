"""Charts drawn as inline SVG: no JavaScript, no image requests, readable by screen readers
through their title and aria-label."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from gallery.selectors import ScoreBin

register = template.Library()

# Bins counted as clipped at each end of the 0-255 luminance scale: the pure black and pure
# white values plus their immediate neighbours, where JPEG noise spreads a clipped region.
CLIP_BINS = 3
_CLIPPED = "#dc2626"
_BAR = "#4b5563"


@register.simple_tag
def luminance_histogram_svg(
    bins: Sequence[int] | None,
    highlight_clip: float | None = None,
    shadow_clip: float | None = None,
) -> SafeString:
    if not bins:
        return mark_safe('<p class="muted">No histogram recorded for this photo.</p>')
    width, height = 512, 160
    # Scale to the interior so a clipped spike at either end cannot flatten everything else;
    # the spike is drawn to the top and marked instead.
    interior_peak = max(bins[CLIP_BINS:-CLIP_BINS]) or 1
    bar_width = width / len(bins)
    bars = []
    for i, count in enumerate(bins):
        clipped = i < CLIP_BINS or i >= len(bins) - CLIP_BINS
        bar_height = min(count / interior_peak, 1.0) * (height - 16)
        if bar_height <= 0:
            continue
        bars.append(
            f'<rect x="{i * bar_width:.2f}" y="{height - bar_height:.2f}" '
            f'width="{bar_width:.2f}" height="{bar_height:.2f}" '
            f'fill="{_CLIPPED if clipped else _BAR}"/>'
        )
    shadow = _percent(shadow_clip)
    highlight = _percent(highlight_clip)
    label = f"Luminance histogram; shadows clipped {shadow}, highlights clipped {highlight}"
    return format_html(
        '<svg class="histogram" viewBox="0 0 {w} {h2}" role="img" '
        'aria-label="{label}"><title>{label}</title>'
        '<rect x="0" y="0" width="{edge}" height="{h}" fill="{c}" fill-opacity="0.12"/>'
        '<rect x="{right}" y="0" width="{edge}" height="{h}" fill="{c}" fill-opacity="0.12"/>'
        "{bars}"
        '<text x="2" y="{ty}" font-size="12" fill="{c}">◀ shadows clipped {shadow}</text>'
        '<text x="{w}" y="{ty}" font-size="12" fill="{c}" text-anchor="end">'
        "highlights clipped {highlight} ▶</text></svg>",
        w=width,
        h=height,
        h2=height + 18,
        ty=height + 14,
        edge=f"{CLIP_BINS * bar_width:.2f}",
        right=f"{width - CLIP_BINS * bar_width:.2f}",
        c=_CLIPPED,
        bars=mark_safe("".join(bars)),  # noqa: S308 - built above from numbers only
        label=label,
        shadow=shadow,
        highlight=highlight,
    )


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.1f}%"


@register.simple_tag
def score_distribution_svg(distribution: Sequence[ScoreBin]) -> SafeString:
    width, height, top = 520, 180, 14
    peak = max((b.count for b in distribution), default=0) or 1
    slot = width / max(len(distribution), 1)
    parts = []
    for i, b in enumerate(distribution):
        bar_height = b.count / peak * (height - top - 20)
        x = i * slot + 3
        y = height - 20 - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 6:.1f}" height="{bar_height:.1f}" '
            f'fill="{"#dc2626" if b.high <= 0.4 else "#2563eb"}">'
            f"<title>{b.low:.1f} to {b.high:.1f}: {b.count}</title></rect>"
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{max(y - 3, 11):.1f}" font-size="11" '
            f'text-anchor="middle">{b.count}</text>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{height - 6}" font-size="11" '
            f'text-anchor="middle">{b.low:.1f}</text>'
        )
    summary = ", ".join(f"{b.low:.1f} to {b.high:.1f}: {b.count}" for b in distribution)
    return format_html(
        '<svg class="score-chart" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="VLM score distribution. {summary}"><title>VLM score distribution</title>'
        "{parts}</svg>",
        w=width,
        h=height,
        summary=summary,
        parts=mark_safe("".join(parts)),  # noqa: S308 - built above from numbers only
    )
