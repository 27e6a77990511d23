"""What a picture of a result shows, as data: :class:`Chart`, made by :func:`chart_of`.

A chart is one of two kinds: ``line`` (series over time: a :class:`~flowql.results.TimeSeries`,
a grouped result in buckets, a Klaviyo series report) or ``bar`` (one value per
group: a grouped result of one window, a Klaviyo values report, plain rows). One chart has one
unit: the metrics of a line chart share it (by default the metrics of the first one's unit are
drawn, and the chart's ``notes`` say which were left out). What cannot be drawn as asked raises
:class:`PlotError` (FQ805), saying why.

Labels and units of metrics come from :func:`metric_meta`, the one place that knows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.errors import FlowQLError
from flowql.results import DimensionalRows, ReportRows, Rows, Sessions, TimeSeries, ViewerSummary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from flowql.results import Result

__all__ = [
    "COLORS",
    "KINDS",
    "Chart",
    "PlotError",
    "Series",
    "chart_of",
    "metric_meta",
    "y_range",
]

KINDS = ("auto", "line", "bar")
"""The kinds of picture: ``auto`` is lines for a series over time and bars for groups."""

MAX_LINES = 8
"""At most this many lines in one chart (the largest groups are kept; the notes say so)."""


COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
"""The colour of each line (and of the bars: the first), in files."""


def y_range(values: Iterable[float]) -> tuple[float, float]:
    """The range of a y axis showing ``values``: from 0 (or below, for negative values) to
    their largest and a twentieth more (so that a peak is not cut by the frame), never
    empty."""
    listed = list(values)
    low = min([0.0, *listed])
    high = max([0.0, *listed])
    if high == low:
        high = low + 1.0
    return low, high + (high - low) / 20


class PlotError(FlowQLError):
    """A picture that cannot be drawn as asked (FQ805), or a plotting library that is not
    installed (FQ806)."""


def plot_error(message: str, hint: str | None = None, code: str = "FQ805") -> PlotError:
    """A :class:`PlotError` with one diagnostic."""
    return PlotError(Diagnostic(code, message, None, hint=hint))


@dataclass(frozen=True)
class Series:
    """One line: a metric's (or a group's) values over time. ``y`` holds None where there is
    no number (the line breaks there)."""

    key: str
    label: str
    x: tuple[dt.datetime, ...]
    y: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    """A picture of a result: its ``kind`` (``line`` or ``bar``), ``title``, axis labels and
    ``unit``; the ``series`` of a line chart, or the ``categories`` and ``values`` of a bar
    chart; ``notes`` on what was left out."""

    kind: str
    title: str
    x_label: str
    y_label: str
    unit: str
    series: tuple[Series, ...] = ()
    categories: tuple[str, ...] = ()
    values: tuple[float | None, ...] = ()
    notes: tuple[str, ...] = ()

    def points(self) -> int:
        """How many values the chart draws."""
        return sum(len(s.y) for s in self.series) + len(self.values)


# --- labels and units ----------------------------------------------------------------------------


def metric_meta(result: Result, key: str) -> tuple[str, str]:
    """The label and unit of a result's metric ``key``, such as ``("Login Process Complete",
    "count")``; the key itself and ``""`` when nothing says more.

    They come from the result's ``metric_info`` (the data model the client used); for a
    result without it, from the built-in Conviva data model's metrics (a ``_percentage`` key is
    its count's share, in ``%``)."""
    info = result.metric_info.get(key)
    if info is not None:
        return info.label, info.unit
    if result.api in ("conviva-flow", "conviva-sessions"):
        metrics = _conviva_metrics()
        base = key.removesuffix("_percentage")
        found = metrics.get(base)
        if found is not None:
            if base != key:
                return f"{found[0]} (share)", "%"
            return found
        if base != key:
            return key, "%"
    if key.endswith("_rate"):
        return key, "rate"
    return key, ""


def _conviva_metrics() -> dict[str, tuple[str, str]]:
    from flowql.model import demo_model

    return {
        m.key: (m.label, m.unit)
        for flow in demo_model().flows.values()
        for m in flow.metrics.values()
    }


# --- making a chart ------------------------------------------------------------------------------


def chart_of(result: Result, *, kind: str = "auto", metrics: Sequence[str] = ()) -> Chart:
    """The chart of ``result``: lines or bars (``kind``, see :data:`KINDS`) of ``metrics`` (its
    numeric columns; by default, every metric of the first one's unit for lines, the first
    metric for bars). Raises :class:`PlotError` for an unknown kind or metric, or a result
    that cannot be drawn so, saying why."""
    if kind not in KINDS:
        raise plot_error(
            f"'{kind}' is not a kind of plot",
            did_you_mean(kind, KINDS) or "the kinds are " + ", ".join(KINDS),
        )
    if isinstance(result, (Sessions, ViewerSummary)):
        what = "sessions" if isinstance(result, Sessions) else "a viewer's summary"
        raise plot_error(
            f"{what} cannot be plotted: they are single records, not metrics over time or "
            "per group",
            "plot a conviva-flow query (a time series, or --group-by for bars)",
        )
    if isinstance(result, TimeSeries):
        return _time_series(result, kind, metrics)
    if isinstance(result, DimensionalRows):
        return _grouped(result, kind, metrics)
    if isinstance(result, ReportRows):
        return _report(result, kind, metrics)
    if isinstance(result, Rows):
        return _rows(result, kind, metrics)
    raise plot_error(f"a {type(result).__name__} result cannot be plotted")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _numeric(records: Iterable[Mapping[str, object]], skip: Iterable[str] = ()) -> list[str]:
    """The keys holding a number in some record (and never a string), in order."""
    skipped = set(skip)
    seen: dict[str, bool] = {}
    for record in records:
        for key, value in record.items():
            if key in skipped:
                continue
            if _number(value) is not None:
                seen.setdefault(key, True)
            elif value is not None:
                seen[key] = False
    return [k for k, ok in seen.items() if ok]


def _chosen(result: Result, available: list[str], metrics: Sequence[str]) -> list[str]:
    """The metrics asked for, checked against those the result has."""
    if not available:
        raise plot_error(
            "the result holds no numbers to plot"
            + (" (it has no rows)" if len(result) == 0 else ""),
            "widen the time range or the filter" if len(result) == 0 else None,
        )
    for metric in metrics:
        if metric not in available:
            raise plot_error(
                f"'{metric}' is not a metric of this result",
                did_you_mean(metric, available) or "its metrics are " + ", ".join(available[:12]),
            )
    return list(metrics)


def _label(result: Result, key: str) -> str:
    label, unit = metric_meta(result, key)
    return f"{label} ({unit})" if unit else label


def _one_unit(result: Result, available: list[str], metrics: Sequence[str]) -> list[str]:
    """For lines: the metrics asked for (they must share a unit), or those of the first
    metric's unit."""
    chosen = _chosen(result, available, metrics)
    if chosen:
        units = {key: metric_meta(result, key)[1] for key in chosen}
        if len(set(units.values())) > 1:
            said = ", ".join(f"{k} is {u or 'unitless'}" for k, u in units.items())
            raise plot_error(
                f"one chart has one unit: {said}",
                "plot the metrics of each unit on their own",
            )
        return chosen
    unit = metric_meta(result, available[0])[1]
    return [k for k in available if metric_meta(result, k)[1] == unit]


def _left_out(result: Result, available: Sequence[str], drawn: Sequence[str]) -> list[str]:
    others = [k for k in available if k not in drawn]
    if not others:
        return []
    shown = ", ".join(f"{k} ({metric_meta(result, k)[1] or 'no unit'})" for k in others)
    return [f"not drawn: {shown} (name a metric to draw it)"]


def _unit_label(result: Result, drawn: list[str]) -> tuple[str, str]:
    """The y label and unit of lines of these metrics."""
    unit = metric_meta(result, drawn[0])[1]
    if len(drawn) == 1:
        return _label(result, drawn[0]), unit
    return unit or "value", unit


def _span_title(result: Result, times: Iterable[dt.datetime]) -> str:
    stamps = sorted(times)
    head = f"{result.api} {result.endpoint}"
    if not stamps:
        return head
    from flowql.times import format_time

    first, last = format_time(stamps[0]), format_time(stamps[-1])
    return f"{head}, {first} to {last}" if first != last else f"{head}, {first}"


def _no_bars(what: str, hint: str) -> PlotError:
    return plot_error(f"a bar chart needs one value per group, and {what}", hint)


def _time_series(result: TimeSeries, kind: str, metrics: Sequence[str]) -> Chart:
    if kind == "bar":
        raise _no_bars(
            "a time series has one value per time", "plot it as lines, or group it (--group-by)"
        )
    points = [p for p in result.points if p.timestamp is not None]
    records = [p.values for p in points]
    available = _numeric(records)
    drawn = _one_unit(result, available, metrics)
    x = tuple(p.timestamp for p in points if p.timestamp is not None)
    series = tuple(
        Series(key, _label(result, key), x, tuple(_number(p.values.get(key)) for p in points))
        for key in drawn
    )
    y_label, unit = _unit_label(result, drawn)
    return _lines_over(
        result, x, series, (y_label, unit), _left_out_unless(metrics, result, available, drawn)
    )


def _lines_over(
    result: Result,
    x: Sequence[dt.datetime],
    series: tuple[Series, ...],
    axis: tuple[str, str],
    notes: Sequence[str],
) -> Chart:
    """A line chart of ``series`` over the times ``x``, its y axis labelled ``axis`` (label,
    unit), titled by the result and the span."""
    return Chart(
        "line",
        _span_title(result, x),
        "time (UTC)",
        axis[0],
        axis[1],
        series=series,
        notes=tuple(notes),
    )


def _left_out_unless(
    metrics: Sequence[str], result: Result, available: Sequence[str], drawn: Sequence[str]
) -> list[str]:
    """The notes of what was not drawn, unless the metrics were named (then nothing was left
    out by choice)."""
    return _left_out(result, available, drawn) if not metrics else []


def _grouped(result: DimensionalRows, kind: str, metrics: Sequence[str]) -> Chart:
    records = [r.metrics for r in result.rows]
    available = _numeric(records)
    chosen = _chosen(result, available, metrics)
    if len(chosen) > 1:
        raise plot_error(
            "a grouped result is plotted one metric at a time: "
            + ", ".join(chosen)
            + " were asked for",
            "pick one metric",
        )
    metric = chosen[0] if chosen else available[0]
    notes = _left_out(result, available, [metric]) if not chosen else []
    values: dict[str, list[tuple[dt.datetime | None, float | None]]] = {}
    for row in result.rows:
        when = row.timestamp or (row.window.start if row.window is not None else None)
        values.setdefault(str(row.value), []).append((when, _number(row.metrics.get(metric))))
    repeated = any(len(v) > 1 for v in values.values())
    label, unit = _label(result, metric), metric_meta(result, metric)[1]
    if kind == "bar" or (kind == "auto" and not repeated):
        if repeated:
            count = max(len(v) for v in values.values())
            raise _no_bars(
                f"each {result.dimension} comes {count} times (one per window or time)",
                "plot it as lines over time (--plot-kind line), or query one window",
            )
        ordered = sorted(values.items(), key=lambda kv: -(kv[1][0][1] or 0.0))
        return Chart(
            "bar",
            f"{label} by {result.dimension}",
            label,
            result.dimension,
            unit,
            categories=tuple(k for k, _ in ordered),
            values=tuple(v[0][1] for _, v in ordered),
            notes=tuple(notes),
        )
    if any(when is None for v in values.values() for when, _ in v):
        raise plot_error("these rows have no times: they cannot be drawn as lines", "plot bars")
    totals = {k: sum(y or 0.0 for _, y in v) for k, v in values.items()}
    kept = sorted(values, key=lambda k: -totals[k])[:MAX_LINES]
    if len(values) > len(kept):
        notes.append(
            f"the {len(kept)} largest of {len(values)} {result.dimension} values are drawn"
        )
    series = tuple(
        Series(
            key,
            key,
            tuple(when for when, _ in values[key] if when is not None),
            tuple(y for _, y in values[key]),
        )
        for key in kept
    )
    return Chart(
        "line",
        f"{label} by {result.dimension}",
        "time (UTC)",
        label,
        unit,
        series=series,
        notes=tuple(notes),
    )


def _report(result: ReportRows, kind: str, metrics: Sequence[str]) -> Chart:
    def group(row_groupings: Mapping[str, object]) -> str:
        return " / ".join(str(v) for v in row_groupings.values()) or "all"

    if result.date_times is None:
        available = _numeric(r.statistics for r in result.rows)
        return _bars(
            result,
            kind,
            metrics,
            available,
            [(group(r.groupings), r.statistics) for r in result.rows],
            "group",
        )
    if kind == "bar":
        raise _no_bars(
            "a series report has one value per date-time", "plot it as lines, or ask for values"
        )
    from flowql.times import parse_time

    x = tuple(parse_time(t) for t in result.date_times)
    flat = [
        {k: v for k, vs in r.statistics.items() if isinstance(vs, list) for v in vs[:1]}
        for r in result.rows
    ]
    available = _numeric(flat)
    drawn = _one_unit(result, available, metrics)

    def line(values: object) -> tuple[float | None, ...]:
        listed = values if isinstance(values, list) else []
        return tuple(_number(listed[i]) if i < len(listed) else None for i in range(len(x)))

    if len(result.rows) == 1:
        row = result.rows[0]
        series = tuple(Series(k, _label(result, k), x, line(row.statistics.get(k))) for k in drawn)
        y_label, unit = _unit_label(result, drawn)
    else:
        if metrics and len(drawn) > 1:
            raise plot_error(
                "a series report of several groups is plotted one statistic at a time",
                "pick one statistic",
            )
        drawn = drawn[:1]
        series = tuple(
            Series(group(r.groupings), group(r.groupings), x, line(r.statistics.get(drawn[0])))
            for r in result.rows[:MAX_LINES]
        )
        y_label, unit = _label(result, drawn[0]), metric_meta(result, drawn[0])[1]
    return _lines_over(
        result, x, series, (y_label, unit), _left_out_unless(metrics, result, available, drawn)
    )


def _rows(result: Rows, kind: str, metrics: Sequence[str]) -> Chart:
    records = result.to_records()
    available = _numeric(records)
    names = [k for k in (records[0] if records else {}) if k not in available]
    labelled = [
        (" / ".join(str(r.get(k)) for k in names[:1]) or str(i + 1), r)
        for i, r in enumerate(records)
    ]
    return _bars(result, kind, metrics, available, labelled, names[0] if names else "row")


def _bars(
    result: Result,
    kind: str,
    metrics: Sequence[str],
    available: list[str],
    rows: Sequence[tuple[str, Mapping[str, object]]],
    axis: str,
) -> Chart:
    if kind == "line":
        raise plot_error("lines need values over time, and these rows have no times", "plot bars")
    chosen = _chosen(result, available, metrics)
    if len(chosen) > 1:
        raise plot_error(
            "a bar chart shows one metric: " + ", ".join(chosen) + " were asked for",
            "pick one metric",
        )
    metric = chosen[0] if chosen else available[0]
    notes = _left_out(result, available, [metric]) if not chosen else []
    ordered = sorted(rows, key=lambda r: -(_number(r[1].get(metric)) or 0.0))
    label = _label(result, metric)
    return Chart(
        "bar",
        f"{label} by {axis}",
        label,
        axis,
        metric_meta(result, metric)[1],
        categories=tuple(name for name, _ in ordered),
        values=tuple(_number(r.get(metric)) for _, r in ordered),
        notes=tuple(notes),
    )
