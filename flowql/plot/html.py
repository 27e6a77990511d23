"""A chart as a self-contained HTML page: :func:`page`.

The page is one file with nothing to fetch: the chart is an inline SVG written here (no
library, no script), with a Content-Security-Policy that forbids every request, so it opens the
same with or without a network. Each value is an element of its own that carries its data
(``<circle class="point" data-series="m_825_1" data-x="2026-11-22T10:00:00Z" data-y="12">``
for a line's points, ``<rect class="bar" data-category="Spain" data-value="115">`` for bars),
with a tooltip (``<title>``), so a browser, a test or a screen reader finds the numbers.
"""

from __future__ import annotations

from html import escape

from flowql.plot.chart import COLORS, y_range
from flowql.plot.terminal import tick

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt

    from flowql.plot.chart import Chart

__all__ = ["page", "svg"]

_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fff; }
figure { margin: 0; }
svg text { font-family: system-ui, sans-serif; font-size: 12px; fill: #222; }
svg .title { font-size: 16px; font-weight: 600; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .axis { stroke: #444; stroke-width: 1; }
figcaption { font-size: 0.9rem; color: #555; margin-top: 0.5rem; }
"""
_MARGIN = (80, 24, 64, 64)  # left, right, top, bottom


def page(chart: Chart, *, size: tuple[int, int] = (960, 540)) -> str:
    """The HTML page of ``chart`` with its SVG of ``size`` pixels."""
    notes = "".join(f"<p>{escape(n)}</p>" for n in chart.notes)
    caption = f"<figcaption>{notes}</figcaption>" if notes else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="generator" content="flowql">\n'
        f"<title>{escape(chart.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<figure>\n{svg(chart, size=size)}\n{caption}</figure>\n</body>\n</html>\n"
    )


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def svg(chart: Chart, *, size: tuple[int, int] = (960, 540)) -> str:
    """``chart`` as an SVG element of ``size`` pixels."""
    width, height = size
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_attr(chart.title)}" '
        f'data-kind="{chart.kind}">',
        f'<text class="title" x="{width / 2:.1f}" y="28" text-anchor="middle">'
        f"{escape(chart.title)}</text>",
    ]
    if chart.kind == "bar":
        parts += _bars(chart, width, height)
    else:
        parts += _lines(chart, width, height)
    parts.append("</svg>")
    return "\n".join(parts)


def _labels(chart: Chart, width: int, height: int) -> list[str]:
    left, right, top, bottom = _MARGIN
    middle = (top + height - bottom) / 2
    return [
        f'<text class="x-label" x="{(left + width - right) / 2:.1f}" y="{height - 14}" '
        f'text-anchor="middle">{escape(chart.x_label)}</text>',
        f'<text class="y-label" x="18" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 18 {middle:.1f})">{escape(chart.y_label)}</text>',
    ]


def _iso(moment: dt.datetime) -> str:
    from flowql.times import format_time

    return format_time(moment)


def _lines(chart: Chart, width: int, height: int) -> list[str]:
    left, right, top, bottom = _MARGIN
    xs = [x for s in chart.series for x in s.x]
    ys = [y for s in chart.series for y in s.y if y is not None]
    if not xs:
        return _labels(chart, width, height)
    first, last = min(xs), max(xs)
    span = (last - first).total_seconds() or 1.0
    low, high = y_range(ys)
    plot_w, plot_h = width - left - right, height - top - bottom

    def place(x: dt.datetime, y: float) -> tuple[float, float]:
        return (
            left + (x - first).total_seconds() / span * plot_w,
            top + (high - y) / (high - low) * plot_h,
        )

    out: list[str] = []
    for step in range(5):
        value = low + (high - low) * step / 4
        y = top + plot_h - plot_h * step / 4
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="y-tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(tick(value))}</text>"
        )
    same_day = first.date() == last.date()
    for step in range(5):
        moment = first + (last - first) * step / 4
        shown = _iso(moment) if step == 0 or not same_day else moment.strftime("%H:%M:%S")
        x = left + plot_w * step / 4
        anchor = "start" if step == 0 else ("end" if step == 4 else "middle")
        out.append(
            f'<text class="x-tick" x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}">'
            f"{escape(shown)}</text>"
        )
        if first == last:
            break
    out.append(
        f'<polyline class="axis" fill="none" points="{left},{top} {left},{top + plot_h} '
        f'{left + plot_w},{top + plot_h}"/>'
    )
    for index, series in enumerate(chart.series):
        color = COLORS[index % len(COLORS)]
        key = _attr(series.key)
        out.append(f'<g class="series" data-series="{key}" data-label="{_attr(series.label)}">')
        runs: list[list[tuple[float, float]]] = [[]]
        for moment, number in zip(series.x, series.y, strict=False):
            if number is None:
                runs.append([])
            else:
                runs[-1].append(place(moment, number))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{px:.2f},{py:.2f}" for px, py in run)
                out.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
                )
        for moment, number in zip(series.x, series.y, strict=False):
            if number is None:
                continue
            px, py = place(moment, number)
            when = _iso(moment)
            out.append(
                f'<circle class="point" cx="{px:.2f}" cy="{py:.2f}" r="2.5" fill="{color}" '
                f'data-series="{key}" data-x="{when}" data-y="{number!r}">'
                f"<title>{escape(series.label)} {when}: {escape(tick(number))}</title></circle>"
            )
        out.append("</g>")
    at = float(left)
    for index, series in enumerate(chart.series):  # the legend: one row above the plot
        color = COLORS[index % len(COLORS)]
        out.append(
            f'<rect class="legend" x="{at:.1f}" y="{top - 22}" width="10" height="10" '
            f'fill="{color}"/><text x="{at + 14:.1f}" y="{top - 13}">{escape(series.label)}</text>'
        )
        at += 34 + 7 * len(series.label)
    return out + _labels(chart, width, height)


def _bars(chart: Chart, width: int, height: int) -> list[str]:
    _, right, top, bottom = _MARGIN
    longest = max((len(c) for c in chart.categories), default=4)
    left = min(24 + 7 * longest, width // 3)
    plot_w, plot_h = width - left - right - 60, height - top - bottom
    count = max(len(chart.categories), 1)
    numbers = [abs(v) for v in chart.values if v is not None]
    top_value = max(numbers or [1.0]) or 1.0
    band = plot_h / count
    out = [
        f'<polyline class="axis" fill="none" points="{left},{top} {left},{top + plot_h}"/>',
    ]
    unit = f" {chart.unit}" if chart.unit and chart.unit != "%" else chart.unit
    for index, (name, value) in enumerate(zip(chart.categories, chart.values, strict=True)):
        y = top + band * index
        length = 0.0 if value is None else abs(value) / top_value * plot_w
        shown = "-" if value is None else tick(value) + unit
        out.append(
            f'<rect class="bar" x="{left}" y="{y + band * 0.15:.2f}" width="{length:.2f}" '
            f'height="{band * 0.7:.2f}" fill="{COLORS[0]}" data-category="{_attr(name)}" '
            f'data-value="{"" if value is None else repr(value)}">'
            f"<title>{escape(name)}: {escape(shown)}</title></rect>"
        )
        middle = y + band / 2 + 4
        out.append(
            f'<text class="category" x="{left - 6}" y="{middle:.2f}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        out.append(
            f'<text class="value" x="{left + length + 6:.2f}" y="{middle:.2f}">'
            f"{escape(shown)}</text>"
        )
    return out + _labels(chart, width, height)
