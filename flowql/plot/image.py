"""A chart as PNG or SVG, drawn by matplotlib (the ``flowql[plot]`` extra): :func:`draw`.

matplotlib is imported here only, when a picture file is written; its object-oriented API
(``Figure`` with no pyplot) draws off screen, with no display and no global state. A line
chart's plot area is at :data:`AXES` of the figure and its axes end at the data (the first and
last time; :func:`~flowql.plot.chart.y_range` up and down), so a point's place in the picture
follows from its values alone. SVG keeps its text as text and is the same bytes for the same
chart.
"""

from __future__ import annotations

import datetime as dt
import io

from flowql.plot.chart import COLORS, PlotError, y_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flowql.plot.chart import Chart

__all__ = ["AXES", "DPI", "draw"]

AXES = (0.1, 0.16, 0.86, 0.72)
"""Where a line chart's plot area is, as fractions of the figure: left, bottom, width, height."""

DPI = 100
"""Pixels per inch: a picture of 960 by 540 pixels is 9.6 by 5.4 inches."""


def draw(chart: Chart, fmt: str, *, size: tuple[int, int]) -> bytes:
    """``chart`` as a ``png`` or ``svg`` file of ``size`` pixels (width, height). Raises
    :class:`~flowql.plot.chart.PlotError` (FQ806) when matplotlib is not installed."""
    from flowql.extras import MissingExtraError, require

    try:
        matplotlib = require(
            "matplotlib",
            "plot",
            f"{fmt.upper()} pictures",
            also="(or write .html, which needs nothing more)",
        )
        from matplotlib.figure import Figure
    except MissingExtraError as exc:
        raise PlotError(exc.diagnostics) from None
    settings: Any = {"svg.fonttype": "none", "svg.hashsalt": "flowql", "font.size": 10.0}
    with matplotlib.rc_context(settings):
        figure = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, facecolor="white")
        if chart.kind == "bar":
            _bars(figure, chart)
        else:
            _lines(figure, chart)
        buffer = io.BytesIO()
        metadata: dict[str, str | None] = {"Title": chart.title, "Software": "flowql"}
        if fmt == "svg":
            metadata = {"Title": chart.title, "Date": None, "Creator": "flowql"}
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def _lines(figure: Figure, chart: Chart) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num

    axes = figure.add_axes(AXES)
    xs = [x for s in chart.series for x in s.x]
    ys = [y for s in chart.series for y in s.y if y is not None]
    for index, series in enumerate(chart.series):
        values = [float("nan") if y is None else y for y in series.y]
        axes.plot(
            [float(date2num(x)) for x in series.x],  # type: ignore[no-untyped-call]
            values,
            color=COLORS[index % len(COLORS)],
            linewidth=2,
            marker="o" if len(values) <= 60 else None,
            markersize=3,
            label=series.label,
        )
    if xs:
        first, last = min(xs), max(xs)
        if first == last:
            first, last = first - dt.timedelta(seconds=30), last + dt.timedelta(seconds=30)
        edges = date2num([first, last])  # type: ignore[no-untyped-call]
        axes.set_xlim(float(edges[0]), float(edges[1]))
    axes.set_ylim(*y_range(ys))
    locator = AutoDateLocator(tz=dt.timezone.utc)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = ConciseDateFormatter(locator, tz=dt.timezone.utc)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.grid(True, color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    _dress(axes, chart)
    if len(chart.series) > 1:
        axes.legend(loc="best", fontsize=8, framealpha=0.85)


def _bars(figure: Figure, chart: Chart) -> None:
    longest = max((len(c) for c in chart.categories), default=4)
    left = min(0.08 + 0.0075 * longest, 0.4)
    axes = figure.add_axes((left, AXES[1], 0.94 - left, AXES[3]))
    positions = list(range(len(chart.categories)))
    values = [0.0 if v is None else v for v in chart.values]
    axes.barh(positions, values, color=COLORS[0])
    axes.set_yticks(positions, list(chart.categories))
    axes.invert_yaxis()  # the largest on top, as the table reads
    axes.grid(True, axis="x", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    _dress(axes, chart)


def _dress(axes: Axes, chart: Chart) -> None:
    axes.set_title(chart.title, fontsize=12)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.y_label)


if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
