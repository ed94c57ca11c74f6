"""A small server-rendered SVG bar chart: the recent weeks' funnel, no JavaScript needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from sender_service.reports.charts import STAGES

_W, _H = 620, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 12, 16, 46


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 4:
            return step * 4
    return value


def weekly_svg(weeks: Sequence[str], series: Mapping[str, Sequence[int]], title: str) -> Markup:
    """Grouped bars per week (positive, meeting requested, booked), with a legend and gridlines."""
    top = _nice_max(max([1, *(v for values in series.values() for v in values)]))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    group = plot_w / max(len(weeks), 1)
    bar = min(22.0, group * 0.8 / len(STAGES))
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        value = top * i // 4
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{value}</text>'
        )
    for n, week in enumerate(weeks):
        centre = _LEFT + group * (n + 0.5)
        for s, (name, colour) in enumerate(STAGES):
            value = series[name][n]
            height = plot_h * value / top
            x = centre + (s - len(STAGES) / 2) * bar
            y = _TOP + plot_h - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{height:.1f}" '
                f'rx="2" fill="{colour}"><title>{escape(name)}, week of {week}: {value}'
                "</title></rect>"
            )
        parts.append(
            f'<text x="{centre:.1f}" y="{_H - _BOTTOM + 18}" class="tick" '
            f'text-anchor="middle">{escape(week)}</text>'
        )
    x = _LEFT
    for name, colour in STAGES:
        parts.append(
            f'<rect x="{x}" y="{_H - 14}" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{x + 15}" y="{_H - 5}" class="legend">{escape(name)}</text>'
        )
        x += 30 + 8 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))
