"""Merging the pieces of a result: windows into one row per group, and points or rows into
buckets (``--bucket 1h``).

A long range is fetched in windows; those are an implementation detail, so a grouped result
comes back as one row per group (or per group and bucket). What each metric becomes when
values are merged follows what the data model says of it (:class:`~flowql.results.MetricInfo`):

- a count (unit ``count``) is summed;
- a share the model links to its count (``percentage_metric``) is recomputed from the summed
  counts: 100 x count / the flow's ``init`` count (the guide's figures: 9505 of 13387 is
  71.0017%);
- anything else (durations, rates, metrics the model does not describe) cannot be merged
  from the values alone: it is set to None and named in the result's ``not_merged``, never
  silently summed or averaged.

One value is never merged: a group seen in one window only keeps its values as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import overload

from flowql.diagnostics import Diagnostic, Severity, did_you_mean
from flowql.errors import FlowQLError
from flowql.results import DimensionalRow, DimensionalRows, MetricInfo, Point, TimeSeries
from flowql.times import parse_tz

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import tzinfo
    from typing import TypeVar

    from flowql.model import FlowModel
    from flowql.query.plan import QueryBase
    from flowql.results import Result

    Q = TypeVar("Q", bound=QueryBase)

__all__ = [
    "BUCKETS",
    "BucketError",
    "bucket_query",
    "bucket_result",
    "bucket_size",
    "merge_rows",
    "merge_values",
    "metric_info",
    "not_merged_warning",
    "partial_note",
    "rebucket",
    "server_granularity",
]

BUCKETS: dict[str, dt.timedelta] = {
    "1m": dt.timedelta(minutes=1),
    "5m": dt.timedelta(minutes=5),
    "10m": dt.timedelta(minutes=10),
    "15m": dt.timedelta(minutes=15),
    "30m": dt.timedelta(minutes=30),
    "1h": dt.timedelta(hours=1),
    "3h": dt.timedelta(hours=3),
    "6h": dt.timedelta(hours=6),
    "12h": dt.timedelta(hours=12),
    "1d": dt.timedelta(days=1),
}
"""The bucket sizes a result can be re-bucketed into. Buckets start on whole multiples of
their size since midnight; days start at midnight in the zone asked for."""


class BucketError(FlowQLError):
    """A bucket that does not exist (FQ717), or that the result cannot be put in."""


def bucket_size(name: str) -> dt.timedelta:
    """The size of bucket ``name``; :class:`BucketError` (FQ717, with a did-you-mean) for a
    name that is not in :data:`BUCKETS`."""
    size = BUCKETS.get(name.strip().lower())
    if size is None:
        raise BucketError(
            Diagnostic(
                "FQ717",
                f"unknown bucket {name!r}",
                None,
                hint=did_you_mean(name, BUCKETS) or f"buckets are {', '.join(BUCKETS)}",
            )
        )
    return size


def metric_info(flow: FlowModel) -> dict[str, MetricInfo]:
    """What the data model says of each metric of ``flow``, its shares included (a share's
    label is its count's, with ``share``; its unit ``%``)."""
    init = [m.key for m in flow.metrics.values() if m.type == "init" and m.unit == "count"]
    out: dict[str, MetricInfo] = {}
    for metric in flow.metrics.values():
        out[metric.key] = MetricInfo(metric.label, metric.unit)
        if metric.percentage:
            share_of = (metric.key, init[0]) if len(init) == 1 else None
            out[metric.percentage] = MetricInfo(f"{metric.label} share", "%", share_of)
    return out


def merge_values(
    pieces: Sequence[Mapping[str, object]], info: Mapping[str, MetricInfo]
) -> tuple[dict[str, object], set[str]]:
    """The values of ``pieces`` (one mapping of metric to value each) merged into one, by the
    rules above; and the keys that could not be merged."""
    keys = dict.fromkeys(itertools.chain.from_iterable(pieces))
    if len(pieces) == 1:
        return dict(pieces[0]), set()
    merged: dict[str, object] = {}
    not_merged: set[str] = set()
    sums: dict[str, float | int | None] = {}

    def total(key: str) -> float | int | None:
        if key not in sums:
            values = [p.get(key) for p in pieces]
            # By type, not isinstance: a bool (or None) among them is not a number to add.
            numeric = {type(v) for v in values} <= _NUMBERS
            sums[key] = sum(values) if numeric else None  # type: ignore[arg-type]
        return sums[key]

    for key in keys:
        meta = info.get(key)
        if meta is not None and meta.unit == "count":
            merged[key] = total(key)
            if merged[key] is None:
                not_merged.add(key)
        elif meta is not None and meta.share_of is not None:
            part, whole = (total(k) for k in meta.share_of)
            if part is None or whole is None:
                merged[key] = None
                not_merged.add(key)
            else:
                merged[key] = 100 * part / whole if whole else None
        else:
            merged[key] = None
            not_merged.add(key)
    return merged, not_merged


def not_merged_warning(
    keys: Sequence[str], info: Mapping[str, MetricInfo], what: str
) -> Diagnostic:
    """The FQ719 warning that ``keys`` could not be merged across ``what`` (``3 windows``,
    ``buckets of 1h``) and are shown empty."""
    named = ", ".join(f"{key} ({info[key].heading()})" if key in info else key for key in keys)
    return Diagnostic(
        "FQ719",
        f"{named} cannot be merged across {what}: shown empty",
        None,
        severity=Severity.WARNING,
        hint="only counts add up, and shares the data model links to their counts; "
        + (
            "the points as fetched (no bucket) keep every value"
            if what.startswith("buckets")
            else "a range of one window (at most 1 hour) keeps every value"
        ),
    )


_NUMBERS = {int, float}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def merge_rows(
    rows: Iterable[DimensionalRow],
    info: Mapping[str, MetricInfo],
    *,
    size: dt.timedelta | None = None,
    zone: tzinfo | None = None,
) -> tuple[tuple[DimensionalRow, ...], tuple[str, ...]]:
    """Rows merged into one per group (its value and attributes), or with ``size`` one per
    group and bucket (by the time of the row, or the start of its window), in order of first
    appearance within each bucket; and the metrics that could not be merged."""
    rows = list(rows)
    sliced = _sliced_windows(rows)
    groups: dict[tuple[dt.datetime | None, object, object], list[DimensionalRow]] = {}
    start: dt.datetime | None = None
    key: tuple[dt.datetime | None, object, object]
    for row in rows:
        if size is not None:
            moment = row.timestamp or (row.window.start if row.window is not None else None)
            start = _bucket_start(moment, size, zone) if moment else None
        elif sliced:  # windows merge; slices of time within a window stay apart
            start = row.timestamp if row.window in sliced else None
        # A group is its value and attributes; the attributes (a country's code) almost always
        # follow from the value, so they are compared, and only made part of the key when a
        # value comes with other attributes too.
        try:
            key = (start, row.value, None)
            group = groups.get(key)
        except TypeError:  # a list or an object as the value: compared by content
            key = (start, _hashable(row.value), None)
            group = groups.get(key)
        if group is not None and group[0].attributes != row.attributes:
            key = (start, key[1], _hashable(dict(row.attributes)))
            group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)
    merged: list[tuple[dt.datetime | None, DimensionalRow]] = []
    not_merged: set[str] = set()
    for (start, _, _), members in groups.items():
        first = members[0]
        if len(members) == 1 and size is None:
            merged.append((start, first))
            continue
        metrics, unmerged = merge_values([m.metrics for m in members], info)
        not_merged |= unmerged
        merged.append((start, DimensionalRow(first.value, metrics, first.attributes, None, start)))
    # By bucket, then the largest groups first (by the model's first count), as the API lists
    # a window's groups.
    count = next((k for k, m in info.items() if m.unit == "count"), None)

    def order(item: tuple[dt.datetime | None, DimensionalRow]) -> tuple[object, ...]:
        moment, row = item
        size = row.metrics.get(count) if count else None
        return (moment is not None, moment or 0, -size if _number(size) else 0)  # type: ignore[operator]

    out = [row for _, row in sorted(merged, key=order)]
    return tuple(out), _ordered(not_merged, info, out)


def _sliced_windows(rows: Sequence[DimensionalRow]) -> set[object]:
    """The windows whose rows are slices of time (more than one timestamp in the window)."""
    moments: dict[object, set[dt.datetime]] = {}
    for row in rows:
        if row.timestamp is not None:
            moments.setdefault(row.window, set()).add(row.timestamp)
    return {window for window, seen in moments.items() if len(seen) > 1}


def _hashable(value: object) -> object:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _ordered(
    keys: set[str], info: Mapping[str, MetricInfo], rows: Sequence[DimensionalRow | Point]
) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.metrics if isinstance(row, DimensionalRow) else row.values))
    return tuple(k for k in seen if k in keys)


def _bucket_start(moment: dt.datetime, size: dt.timedelta, zone: tzinfo | None) -> dt.datetime:
    """The start of the bucket of ``size`` holding ``moment``: whole multiples of ``size``
    since midnight in ``zone`` (UTC by default), as an aware UTC datetime."""
    local = moment.astimezone(zone or dt.timezone.utc)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if size >= dt.timedelta(days=1):
        start = midnight
    else:
        start = midnight + ((local - midnight) // size) * size
    return start.astimezone(dt.timezone.utc)


def _bucket_points(
    points: Iterable[Point], size: dt.timedelta, zone: tzinfo | None, info: Mapping[str, MetricInfo]
) -> tuple[tuple[Point, ...], tuple[str, ...]]:
    buckets: dict[dt.datetime | None, list[Point]] = {}
    for point in points:
        start = _bucket_start(point.timestamp, size, zone) if point.timestamp else None
        buckets.setdefault(start, []).append(point)
    out: list[Point] = []
    not_merged: set[str] = set()
    for start, members in sorted(buckets.items(), key=lambda i: (i[0] is None, i[0] or 0)):
        values, unmerged = merge_values([p.values for p in members], info)
        not_merged |= unmerged
        out.append(Point(start, values))
    return tuple(out), _ordered(not_merged, info, out)


def _step(result: TimeSeries | DimensionalRows) -> dt.timedelta | None:
    """How far apart the result's points (or rows' windows) are: the finest bucket it can be
    put in. None when that cannot be told (one point)."""
    moments = sorted(
        {p.timestamp for p in result.points if p.timestamp}
        if isinstance(result, TimeSeries)
        else {r.timestamp for r in result.window_rows or result.rows if r.timestamp}
    )
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    if gaps:
        return min(gaps)
    if isinstance(result, DimensionalRows):  # one row per window: the windows' size
        rows = result.window_rows or result.rows
        spans = {r.window.end - r.window.start for r in rows if r.window is not None}
        return max(spans) if spans else None
    return None


@overload
def rebucket(result: TimeSeries, bucket: str, *, tz: tzinfo | str | None = None) -> TimeSeries: ...
@overload
def rebucket(
    result: DimensionalRows, bucket: str, *, tz: tzinfo | str | None = None
) -> DimensionalRows: ...
@overload
def rebucket(
    result: TimeSeries | DimensionalRows, bucket: str, *, tz: tzinfo | str | None = None
) -> TimeSeries | DimensionalRows: ...
def rebucket(
    result: TimeSeries | DimensionalRows, bucket: str, *, tz: tzinfo | str | None = None
) -> TimeSeries | DimensionalRows:
    """``result`` with its points (or rows) put in buckets of ``bucket`` (a name of
    :data:`BUCKETS`), each bucket's values merged (see the module's rules; what could not be
    merged is in ``not_merged``). A bucket finer than the result's own steps is a
    :class:`BucketError`."""
    size = bucket_size(bucket)
    zone = parse_tz(tz) if tz is not None else None
    step = _step(result)
    if step is not None and size < step:
        raise BucketError(
            Diagnostic(
                "FQ717",
                f"a bucket of {bucket} is finer than this result's steps of "
                f"{_written(step)}: buckets cannot split them",
                None,
                hint=f"use a bucket of at least {_written(step)}",
            )
        )
    name = bucket.strip().lower()
    info = result.metric_info
    data: dict[str, object]
    if isinstance(result, TimeSeries):
        points, not_merged = _bucket_points(result.points, size, zone, info)
        data = {"points": points}
        starts = [p.timestamp for p in points if p.timestamp is not None]
    else:
        # From the rows each window gave, when the windows were merged: buckets are of them.
        rows, not_merged = merge_rows(result.window_rows or result.rows, info, size=size, zone=zone)
        data = {"rows": rows}
        starts = [r.timestamp for r in rows if r.timestamp is not None]
    return dataclasses.replace(
        result,
        **data,  # type: ignore[arg-type]
        not_merged=_union(result.not_merged, not_merged),
        bucket=name,
        bucketed_by=result.bucketed_by or "flowql",
        warnings=_warned(result, not_merged, f"buckets of {name}"),
        partial_buckets=_partial(result, starts, size),
    )


def _partial(
    result: TimeSeries | DimensionalRows, starts: Sequence[dt.datetime], size: dt.timedelta
) -> tuple[dt.datetime, ...]:
    """The buckets (by start) that reach past the range fetched: the first and last ones of a
    range that does not start or end on a bucket's edge hold only part of their time."""
    if not result.windows:
        return ()
    low = min(w.start for w in result.windows)
    high = max(w.end for w in result.windows)
    return tuple(dict.fromkeys(t for t in starts if t < low or t + size > high))


def _warned(
    result: TimeSeries | DimensionalRows, keys: tuple[str, ...], what: str
) -> tuple[Diagnostic, ...]:
    """The result's warnings, and FQ719 for ``keys`` not merged before (if any)."""
    new = [k for k in keys if k not in result.not_merged]
    if not new:
        return result.warnings
    return (*result.warnings, not_merged_warning(new, result.metric_info, what))


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _written(step: dt.timedelta) -> str:
    from flowql.times import format_duration

    return format_duration(step, weeks=False)


def server_granularity(bucket: str, interval: str | None) -> str | None:
    """The real-time endpoint's ``granularity`` that buckets as ``bucket`` does (``5m`` is
    ``PT5M``), when the server can do it: a whole number of minutes, at most the interval
    (``PT15M`` when none is given). None when it cannot (flowql then buckets)."""
    from flowql.times import TimeError, parse_duration

    size = bucket_size(bucket)
    longest = dt.timedelta(minutes=15)  # the endpoint's longest granularity and interval
    try:
        limit = min(parse_duration(interval), longest) if interval else longest
    except TimeError:  # the query's own check says what is wrong with the interval
        limit = longest
    minutes, rest = divmod(size, dt.timedelta(minutes=1))
    if rest or size > limit:
        return None
    return f"PT{minutes}M"


def bucket_query(query: Q, bucket: str) -> tuple[Q, bool]:
    """``query`` made to bucket as ``bucket`` on the server where the API can (the Flow API's
    real-time ``granularity``, when the query names none), and whether it does. A bucket
    that does not exist is a :class:`BucketError`."""
    from flowql.query import FlowQuery

    bucket_size(bucket)
    if isinstance(query, FlowQuery) and query.endpoint == "real-time" and not query.granularity:
        granularity = server_granularity(bucket, query.interval)
        if granularity is not None:
            return dataclasses.replace(query, granularity=granularity), True
    return query, False


def bucket_result(result: Result, bucket: str, *, tz: tzinfo | str | None, server: bool) -> Result:
    """``result`` in buckets of ``bucket``: marked so when the server bucketed it
    (``server``, see :func:`bucket_query`), else re-bucketed here. A result that is not a
    series or grouped metrics is a :class:`BucketError`."""
    if not isinstance(result, (TimeSeries, DimensionalRows)):
        raise BucketError(
            Diagnostic(
                "FQ717",
                f"a {result.api} {result.endpoint} result has no times to bucket",
                None,
                hint="--bucket applies to Conviva Flow metrics (real-time, historical)",
            )
        )
    if server:
        return dataclasses.replace(result, bucket=bucket.strip().lower(), bucketed_by="server")
    return rebucket(result, bucket, tz=tz)


def partial_note(result: Result, zone: tzinfo | None = None) -> str | None:
    """What to say of a bucketed result's partial buckets (see ``partial_buckets``), or
    None: ``the buckets of 2026-11-22T10:00:00Z and ... hold only part of their time (the range
    starts or ends inside them)``."""
    partial: tuple[dt.datetime, ...] = getattr(result, "partial_buckets", ())
    if not partial:
        return None
    from flowql.times import format_time

    named = " and ".join(format_time(t, zone) for t in partial)
    one = len(partial) == 1
    return (
        f"the bucket{'' if one else 's'} of {named} hold{'s' if one else ''} only part of "
        f"{'its' if one else 'their'} time (the range starts or ends inside "
        f"{'it' if one else 'them'})"
    )
