"""A chart as text for a terminal: :func:`text_chart`.

Lines are drawn in Braille dots (2 by 4 to a character cell) when there is one series; several
series are drawn one mark each (``*``, ``+``, ``o``...) so that they can be told apart without
colour, the legend naming them. Bars are horizontal, in eighths of a cell (``▏`` to ``█``), each
with its value and unit. Plain text, no colour and no library: it goes through a pipe, a pager
and the REPL's output alike, and costs nothing to import.
"""

from __future__ import annotations

import datetime as dt

from flowql.plot.chart import y_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.plot.chart import Chart

__all__ = ["text_chart"]

MARKS = "*+ox#@%&"
"""The mark of each series when there are several."""

_BRAILLE = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] of a cell
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_MAX_BARS = 40


def text_chart(chart: Chart, *, width: int = 80, height: int = 16) -> str:
    """``chart`` drawn in ``width`` columns; a line chart's plot area is ``height`` rows."""
    import textwrap

    width = max(width, 40)
    lines = textwrap.wrap(chart.title, width) or [""]
    if chart.kind == "bar":
        lines += _bars(chart, width)
    else:
        lines += _lines(chart, width, max(height, 4))
    for note in chart.notes:
        lines += textwrap.wrap("note: " + note, width, subsequent_indent="  ")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def tick(value: float) -> str:
    """A number as an axis or a bar shows it: whole numbers whole, others to 3 significant
    digits (a hundred and more: to the unit)."""
    if abs(value - round(value)) < 1e-9 * max(1.0, abs(value)) or abs(value) >= 100:
        return str(round(value))
    return f"{value:.3g}"


def _lines(chart: Chart, width: int, height: int) -> list[str]:
    ys = [y for s in chart.series for y in s.y if y is not None]
    xs = [x for s in chart.series for x in s.x]
    if not ys or not xs:
        return ["(no values to draw)"]
    low, high = y_range(ys)
    first, last = min(xs), max(xs)
    span = (last - first).total_seconds() or 1.0
    middle = height // 2
    labels = [tick(high), tick(high - (high - low) * middle / (height - 1)), tick(low)]
    gutter = max(len(t) for t in labels)
    columns = width - gutter - 2
    braille = len(chart.series) == 1
    sub_x, sub_y = (2, 4) if braille else (1, 1)
    dots_w, dots_h = columns * sub_x, height * sub_y
    cells: list[list[int]] = [[0] * columns for _ in range(height)]
    marks: list[list[str]] = [[" "] * columns for _ in range(height)]

    def position(x: dt.datetime, y: float) -> tuple[int, int]:
        col = round((x - first).total_seconds() / span * (dots_w - 1))
        row = round((high - y) / (high - low) * (dots_h - 1))
        return col, row

    def put(col: int, row: int, mark: str) -> None:
        if braille:
            cells[row // 4][col // 2] |= _BRAILLE[row % 4][col % 2]
        else:
            marks[row][col] = mark

    for index, series in enumerate(chart.series):
        mark = MARKS[index % len(MARKS)]
        previous: tuple[int, int] | None = None
        for x, y in zip(series.x, series.y, strict=False):
            if y is None:
                previous = None
                continue
            here = position(x, y)
            for col, row in _segment(previous or here, here):
                put(col, row, mark)
            previous = here
    if braille:
        rows = ["".join(chr(0x2800 + c) if c else " " for c in dots) for dots in cells]
    else:
        rows = ["".join(line) for line in marks]
    out = [f"{' ' * gutter}  {chart.y_label}"]
    for number, text in enumerate(rows):
        label = ""
        if number == 0:
            label = labels[0]
        elif number == middle and height > 4:
            label = labels[1]
        elif number == height - 1:
            label = labels[2]
        out.append(f"{label:>{gutter}} ┤{text}" if label else f"{'':>{gutter}} │{text}")
    out.append(f"{'':>{gutter}} └" + "─" * columns)
    out.append(" " * (gutter + 2) + _time_axis(first, last, columns))
    out.append(" " * (gutter + 2) + chart.x_label.center(columns).rstrip())
    if len(chart.series) > 1:
        out += [
            _fit(f"  {MARKS[i % len(MARKS)]} {s.label}", width) for i, s in enumerate(chart.series)
        ]
    else:
        out.append(_fit(f"  ⣿ {chart.series[0].label}", width))
    return out


def _segment(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """The dots of a straight line from ``start`` to ``end`` (Bresenham's)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x1 >= x0 else -1), (1 if y1 >= y0 else -1)
    error = dx + dy
    out = []
    while True:
        out.append((x0, y0))
        if (x0, y0) == (x1, y1):
            return out
        twice = 2 * error
        if twice >= dy:
            error += dy
            x0 += sx
        if twice <= dx:
            error += dx
            y0 += sy


def _time_axis(first: dt.datetime, last: dt.datetime, columns: int) -> str:
    """The first and last times under the axis's ends (dates left out when both share one)."""
    same_day = first.date() == last.date()
    shape = "%H:%M" if same_day else "%Y-%m-%d %H:%M"
    if last - first < dt.timedelta(minutes=2):
        shape = "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S"
    left, right = first.strftime(shape), last.strftime(shape)
    if same_day:
        left = first.strftime("%Y-%m-%d ") + left
    if first == last:
        return left
    gap = max(columns - len(left) - len(right), 1)
    return left + " " * gap + right


def _bars(chart: Chart, width: int) -> list[str]:
    shown = list(zip(chart.categories, chart.values, strict=True))[:_MAX_BARS]
    if not shown:
        return ["(no values to draw)"]
    unit = f" {chart.unit}" if chart.unit and chart.unit != "%" else chart.unit
    numbers = [v for _, v in shown if v is not None]
    texts = ["-" if v is None else tick(v) + unit for _, v in shown]
    name_w = min(max(len(c) for c, _ in shown), width // 3)
    value_w = max(len(t) for t in texts)
    bar_w = max(width - name_w - value_w - 4, 5)
    top = max([abs(v) for v in numbers] or [1.0]) or 1.0
    out = []
    for (name, value), text in zip(shown, texts, strict=True):
        bar = ""
        if value is not None:
            eighths = round(abs(value) / top * bar_w * 8)
            bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
            if value < 0:
                bar = "░" * len(bar)
        out.append(f"{_fit(name, name_w):<{name_w}} │{bar:<{bar_w}} {text:>{value_w}}")
    if len(chart.categories) > len(shown):
        out.append(f"… {len(chart.categories) - len(shown)} more not drawn")
    return out
