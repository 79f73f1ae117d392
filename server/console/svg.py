"""Server-rendered SVG charts: no script, no inline style (the CSP forbids both).

Colours come from CSS classes (console.css), so a chart follows the stylesheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Point = float | None


def meter(share: float | None, width: int = 160, height: int = 12) -> SafeString:
    """A horizontal bar for a share in [0, 1]; grey when there is nothing to measure."""
    if share is None:
        return mark_safe(
            f'<svg class="meter" width="{width}" height="{height}" role="img" '
            f'aria-label="no data"><rect class="meter-bg" width="{width}" height="{height}"/></svg>'
        )
    filled = round(max(0.0, min(1.0, share)) * width, 1)
    level = "good" if share >= 0.95 else "warn" if share >= 0.8 else "bad"
    return mark_safe(
        f'<svg class="meter" width="{width}" height="{height}" role="img" '
        f'aria-label="{share:.0%}"><rect class="meter-bg" width="{width}" height="{height}"/>'
        f'<rect class="meter-{level}" width="{filled}" height="{height}"/></svg>'
    )


def line_chart(
    days: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[Point]]],
    *,
    y_max: float | None = None,
    percent: bool = False,
    width: int = 640,
    height: int = 200,
    title: str = "",
) -> SafeString:
    """Lines over days. series: (label, css class, one value per day or None for a gap)."""
    left, right, top, bottom = 44, 28, 12, 28
    pw, ph = width - left - right, height - top - bottom
    values = [v for _, _, vs in series for v in vs if v is not None]
    top_value = y_max if y_max is not None else max(values, default=0) or 1
    n = len(days)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * (v / top_value)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    for frac in (0, 0.5, 1):
        v = top_value * frac
        label = f"{v:.0%}" if percent else f"{v:,.0f}"
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" '
                     f'y2="{y(v):.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 4}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end">{label}</text>')
    if n:
        for i, anchor in ((0, "start"), (n - 1, "end")):
            parts.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" '
                         f'text-anchor="{anchor}">{days[i]:%d %b}</text>')
    for label, css, vs in series:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline class="line {escape(css)}" points="{" ".join(run)}">'
                             f"<title>{escape(label)}</title></polyline>")
            elif len(run) == 1:
                cx, cy = run[0].split(",")
                parts.append(f'<circle class="pt {escape(css)}" cx="{cx}" cy="{cy}" r="2.5">'
                             f"<title>{escape(label)}</title></circle>")
    parts.append("</svg>")
    return mark_safe("".join(parts))
