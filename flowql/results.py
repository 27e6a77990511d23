"""Typed query results, with records the python target can filter and JSON and CSV export.

Every result is a frozen :class:`Result`: which API and endpoint it came from, the time
``windows`` it was fetched in (a range longer than one request allows is split), the filter
part the API applied (``sent_filter``) and the part applied on this machine
(``post_filter``, canonical FlowQL; None when nothing was), and warnings. Each kind adds its
own data:

- :class:`TimeSeries`: points in time order and ``totals``. When the points come from several
  windows, totals are recomputed where they can be (count metrics are summed: ``recomputed``)
  and set to None where they cannot (durations, rates: ``not_recomputed``); each window's own
  totals are kept in ``window_totals``.
- :class:`DimensionalRows`: grouped metrics (the Flow API's group-by), one row per dimension
  value and window, and totals as above.
- :class:`Sessions`: Conviva sessions, as the API returns them.
- :class:`ViewerSummary`: a viewer's summary metrics.
- :class:`ReportRows`: Klaviyo report rows (groupings and statistics; series add date-times).
- :class:`Rows`: plain rows (Klaviyo metrics and flow triggers, Flow XO's top lists).

``to_records()`` gives flat dicts (nested objects become dotted keys, such as
``integration.name``), with the keys a filter uses, so
:func:`flowql.targets.python.filter_records` applies to them, and times as aware UTC
datetimes; ``to_json()`` and ``to_csv()`` export them (times as ISO 8601, in a given zone).
``metric_info`` holds each metric's label and unit where the data model gives them
(:class:`MetricInfo`). Results never hold credentials.

A range fetched in several windows comes back merged (:mod:`flowql.merging`): one row per
group, counts summed, shares recomputed from their counts, and what cannot be merged set to
None and named in ``not_merged``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field

from flowql.cells import cell_text, json_default
from flowql.query import format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import tzinfo
    from typing import Any, TypeVar

    import polars

    from flowql.diagnostics import Diagnostic
    from flowql.query import Window

    Record = dict[str, object]
    Predicate = Callable[[Mapping[str, object]], bool]
    R = TypeVar("R", bound="Result")
    R2 = TypeVar("R2", bound="_Totals")

__all__ = [
    "NAMES",
    "DimensionalRow",
    "DimensionalRows",
    "MetricInfo",
    "Point",
    "ReportRow",
    "ReportRows",
    "Result",
    "Rows",
    "Sessions",
    "TimeSeries",
    "ViewerSummary",
    "cell_text",
    "flatten",
    "record_columns",
    "records_csv",
]

NAMES = ("labels", "keys")
"""How columns are headed in tables and CSV: by the data model's ``labels`` (with the unit) or
by their ``keys``."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What the data model says of a metric: its ``label`` and ``unit`` (``count``, ``sec``,
    ``%``), and for a share, ``share_of``: the count it is the share of and the count it is
    a share in (``("m_825_1", "m_825_3")``: complete out of init)."""

    label: str
    unit: str = ""
    share_of: tuple[str, str] | None = None

    def heading(self) -> str:
        """``Login Process Complete (count)``; the label alone when there is no unit."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def to_dict(self) -> dict[str, object]:
        """``{"label": ..., "unit": ...}``, JSON-ready."""
        return {"label": self.label, "unit": self.unit}


def flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested mappings as one flat dict with dotted keys: ``{"a": {"b": 1}}`` is
    ``{"a.b": 1}``. Lists and scalars are kept as they are."""
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def records_csv(
    records: Sequence[Record],
    *,
    headings: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
) -> str:
    """Records as CSV with a header row (every key, in order of first appearance, or its
    heading in ``headings``); lists and objects are written as JSON, None as an empty cell,
    times in ``zone``."""
    import csv
    import io

    buffer = io.StringIO()
    columns = record_columns(records)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([(headings or {}).get(c, c) for c in columns])
    for record in records:
        writer.writerow([cell_text(record.get(c), zone) for c in columns])
    return buffer.getvalue()


def record_columns(records: Iterable[Record]) -> list[str]:
    """Every key of ``records``, in order of first appearance."""
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(key)
    return list(seen)


@dataclass(frozen=True, kw_only=True)
class Result:
    """What every result has: where it came from, how it was fetched, and what was filtered
    where. Subclasses add their data and :meth:`to_records`."""

    api: str
    endpoint: str
    windows: tuple[Window, ...] = ()
    sent_filter: str | None = None
    post_filter: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    metric_info: Mapping[str, MetricInfo] = field(default_factory=dict)

    def to_records(self) -> list[Record]:
        """The result as flat dicts, one per row, point or session."""
        raise NotImplementedError

    def filtered(self: R, predicate: Predicate) -> R:
        """The same result with only the rows ``predicate`` accepts (it is called on each
        row's record)."""
        raise NotImplementedError

    def meta(self) -> dict[str, object]:
        """The metadata, JSON-ready: api, endpoint, windows, filters, warnings."""
        return {
            "api": self.api,
            "endpoint": self.endpoint,
            "windows": [w.to_dict() for w in self.windows],
            "sent_filter": self.sent_filter,
            "post_filter": self.post_filter,
            "warnings": [d.to_dict() for d in self.warnings],
            "metrics": {key: info.to_dict() for key, info in self.metric_info.items()},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The metadata and the records as one JSON document:
        ``{"api": ..., "endpoint": ..., ..., "records": [...]}``."""
        document = self.meta()
        document["records"] = self.to_records()
        return json.dumps(document, indent=indent, ensure_ascii=False, default=json_default)

    def columns(self) -> list[str]:
        """Every record key, in order of first appearance."""
        return record_columns(self.to_records())

    def headings(self, names: str = "labels") -> dict[str, str]:
        """Each metric's column heading: its label and unit (``Login Process Duration
        (sec)``) with ``names="labels"``, its key with ``"keys"``."""
        if names == "keys":
            return {}
        return {key: info.heading() for key, info in self.metric_info.items()}

    def to_csv(self, *, names: str = "keys", zone: tzinfo | None = None) -> str:
        """The records as CSV with a header row (every key, in order of first appearance, or
        with ``names="labels"`` the metrics' labels); lists and objects are written as JSON,
        None as an empty cell, times as ISO 8601 in ``zone`` (UTC by default)."""
        return records_csv(self.to_records(), headings=self.headings(names), zone=zone)

    def __len__(self) -> int:
        return len(self.to_records())

    def to_arrow(self) -> Any:
        """The records as a typed ``pyarrow.Table`` (the ``flowql[arrow]`` extra)."""
        from flowql.frames import to_arrow

        return to_arrow(self)

    def to_pandas(self) -> Any:
        """The records as a typed ``pandas.DataFrame`` (the ``flowql[pandas]`` extra)."""
        from flowql.frames import to_pandas

        return to_pandas(self)

    def to_polars(self) -> polars.DataFrame:
        """The records as a typed ``polars.DataFrame`` (the ``flowql[polars]`` extra)."""
        from flowql.frames import to_polars

        return to_polars(self)


# --- time series ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a time series: its time (None when the API gives none) and its values."""

    timestamp: dt.datetime | None
    values: Mapping[str, object]

    def to_record(self) -> Record:
        """``{"timestamp": datetime, **values}``."""
        record: Record = {"timestamp": self.timestamp}
        record.update(self.values)
        return record


@dataclass(frozen=True, kw_only=True)
class _Totals(Result):
    totals: Mapping[str, object] = field(default_factory=dict)
    recomputed: tuple[str, ...] = ()
    not_recomputed: tuple[str, ...] = ()
    window_totals: tuple[Mapping[str, object], ...] = ()
    not_merged: tuple[str, ...] = ()
    bucket: str | None = None
    bucketed_by: str | None = None
    partial_buckets: tuple[dt.datetime, ...] = ()

    @property
    def totals_recomputed(self) -> bool | None:
        """None when the totals are the server's own (one request); True when every total was
        recomputed across windows; False when some could not be (see ``not_recomputed``)."""
        if not self.recomputed and not self.not_recomputed:
            return None
        return not self.not_recomputed

    def meta(self) -> dict[str, object]:
        """The metadata, with the totals and what was recomputed."""
        out = super().meta()
        out["totals"] = dict(self.totals)
        out["totals_recomputed"] = self.totals_recomputed
        out["recomputed"] = list(self.recomputed)
        out["not_recomputed"] = list(self.not_recomputed)
        out["not_merged"] = list(self.not_merged)
        out["bucket"] = self.bucket
        out["bucketed_by"] = self.bucketed_by
        out["partial_buckets"] = [format_time(t) for t in self.partial_buckets]
        return out


@dataclass(frozen=True, kw_only=True)
class TimeSeries(_Totals):
    """Metrics over time: ``points`` in time order, and ``totals`` (see :class:`Result`)."""

    points: tuple[Point, ...] = ()

    def to_records(self) -> list[Record]:
        """One record per point: ``timestamp`` and each metric."""
        return [p.to_record() for p in self.points]

    def filtered(self, predicate: Predicate) -> TimeSeries:
        """The points whose record ``predicate`` accepts; totals are then marked not
        recomputed (they describe every point)."""
        kept = tuple(p for p in self.points if predicate(p.to_record()))
        return _stale(dataclasses.replace(self, points=kept))


def _stale(result: R2) -> R2:
    """``result`` with every total set to None and marked not recomputed: after a
    post-filter, the server's totals describe rows that are no longer there."""
    keys = tuple(result.totals)
    return dataclasses.replace(
        result, totals=dict.fromkeys(keys), recomputed=(), not_recomputed=keys
    )


@dataclass(frozen=True, slots=True)
class DimensionalRow:
    """One dimension value's metrics: the dimension's ``value`` and any other attributes the
    API gives (``country_code``), the ``metrics``, and the window (or time) it covers."""

    value: object
    metrics: Mapping[str, object]
    attributes: Mapping[str, object] = field(default_factory=dict)
    window: Window | None = None
    timestamp: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class DimensionalRows(_Totals):
    """Metrics grouped by ``dimension`` (a key): one row per group (per group and time, for
    slices of time or buckets), totals as for :class:`TimeSeries`. A range fetched in several
    windows is merged (:mod:`flowql.merging`); ``window_rows`` keeps the rows each window gave,
    which buckets are made from."""

    dimension: str
    rows: tuple[DimensionalRow, ...] = ()
    window_rows: tuple[DimensionalRow, ...] = ()

    def _record(self, row: DimensionalRow) -> Record:
        # Windows are how a range was fetched, not part of a row: the records of one window and
        # of many have the same columns (the result's ``windows`` say what was fetched).
        record: Record = {}
        if row.timestamp is not None:
            record["timestamp"] = row.timestamp
        record[self.dimension] = row.value
        record.update(row.attributes)
        record.update(row.metrics)
        return record

    def to_records(self) -> list[Record]:
        """One record per row: its time (for slices of time and buckets), the dimension (under
        its key, so a filter on that key applies), the other attributes, and each metric."""
        return [self._record(r) for r in self.rows]

    def filtered(self, predicate: Predicate) -> DimensionalRows:
        """The rows (and window rows) whose record ``predicate`` accepts; totals then marked
        not recomputed."""
        kept = tuple(r for r in self.rows if predicate(self._record(r)))
        windows = tuple(r for r in self.window_rows if predicate(self._record(r)))
        return _stale(dataclasses.replace(self, rows=kept, window_rows=windows))

    def meta(self) -> dict[str, object]:
        """The metadata, with the dimension."""
        out = super().meta()
        out["dimension"] = self.dimension
        return out


# --- sessions ------------------------------------------------------------------------------------


# Sessions V3 filter keys whose value a session holds elsewhere than in its selected dimensions.
_SESSION_FIELDS = {
    "geo_city_name": "geo_info.city",
    "geo_state_name": "geo_info.state.name",
    "geo_country_name": "geo_info.country.name",
    "geo_continent": "geo_info.continent",
    "geo_dma": "geo_info.dma",
    "isp": "network_info.isp",
    "asn": "network_info.asn.value",
    "cdn": "network_info.cdn",
}


def session_record(session: Mapping[str, object]) -> Record:
    """A Conviva session as a flat record: nested fields as dotted keys
    (``device_info.os``), and, under the names the filters use, the status flags
    (``is_video_start_failure_tech``), the selected dimensions (``device_os``,
    ``browser_name``), the geography and network (``geo_city_name`` from ``geo_info.city``,
    ``isp``, ``asn``; ``cdn`` is the CDN when the session used one, else the list) and the
    custom tags (``tag_<name>``)."""
    record: Record = {}
    tags = session.get("tags")
    status = session.get("status_info")
    for key, value in session.items():
        if key in ("tags", "status_info"):
            continue
        if isinstance(value, dict):
            record.update(flatten(value, key + "."))
        else:
            record[key] = value
    if isinstance(status, dict):
        record.update(status)
    if isinstance(tags, dict):
        selected = tags.get("selected_dimensions")
        if isinstance(selected, dict):
            for key, value in selected.items():
                record.setdefault(key, value)
        custom = tags.get("custom_tags")
        if isinstance(custom, dict):
            for key, value in custom.items():
                record[f"tag_{key}"] = value
    for key, path in _SESSION_FIELDS.items():
        if key not in record and path in record:
            value = record[path]
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            record[key] = value
    return record


def session_start(session: Mapping[str, object]) -> int:
    """A session's start in epoch milliseconds (0 when it has none), for ordering."""
    stamps = session.get("timestamps")
    if isinstance(stamps, dict):
        start = stamps.get("start")
        if isinstance(start, dict) and isinstance(start.get("epoch_ms"), (int, float)):
            return int(start["epoch_ms"])
    return 0


@dataclass(frozen=True, kw_only=True)
class Sessions(Result):
    """Conviva sessions, in start-time order, each as the API returns it (``sessions``)."""

    sessions: tuple[Mapping[str, object], ...] = ()

    def to_records(self) -> list[Record]:
        """One flat record per session (see :func:`session_record`)."""
        return [session_record(s) for s in self.sessions]

    def filtered(self, predicate: Predicate) -> Sessions:
        """The sessions whose record ``predicate`` accepts."""
        kept = tuple(s for s in self.sessions if predicate(session_record(s)))
        return dataclasses.replace(self, sessions=kept)


@dataclass(frozen=True, kw_only=True)
class ViewerSummary(Result):
    """A viewer's summary metrics (``total``, as the API nests them) and the API's ``_meta``."""

    total: Mapping[str, object] = field(default_factory=dict)
    info: Mapping[str, object] = field(default_factory=dict)

    def to_records(self) -> list[Record]:
        """One record, every metric as a dotted key (``plays.count``); none when empty."""
        return [flatten(self.total)] if self.total else []

    def filtered(self, predicate: Predicate) -> ViewerSummary:
        """The summary if ``predicate`` accepts it, else an empty one."""
        if predicate(flatten(self.total)):
            return self
        return dataclasses.replace(self, total={})

    def meta(self) -> dict[str, object]:
        """The metadata, with the API's ``_meta``."""
        out = super().meta()
        out["info"] = dict(self.info)
        return out


# --- Klaviyo reports and plain rows --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of a Klaviyo report: its ``groupings`` and ``statistics`` (numbers, or for a
    series lists aligned with the report's ``date_times``)."""

    groupings: Mapping[str, object]
    statistics: Mapping[str, object]


@dataclass(frozen=True, kw_only=True)
class ReportRows(Result):
    """A Klaviyo report: ``rows``, and for a series report the ``date_times`` the statistics'
    lists are aligned with."""

    rows: tuple[ReportRow, ...] = ()
    date_times: tuple[str, ...] | None = None

    def to_records(self) -> list[Record]:
        """Values reports: one record per row, groupings then statistics. Series reports: one
        record per row and date-time: ``date_time``, the groupings, each statistic's value
        then."""
        out: list[Record] = []
        for row in self.rows:
            if self.date_times is None:
                out.append({**row.groupings, **row.statistics})
                continue
            for i, moment in enumerate(self.date_times):
                record: Record = {"date_time": moment, **row.groupings}
                for name, values in row.statistics.items():
                    record[name] = (
                        values[i] if isinstance(values, list) and i < len(values) else None
                    )
                out.append(record)
        return out

    def filtered(self, predicate: Predicate) -> ReportRows:
        """The rows whose groupings ``predicate`` accepts."""
        kept = tuple(r for r in self.rows if predicate(dict(r.groupings)))
        return dataclasses.replace(self, rows=kept)

    def meta(self) -> dict[str, object]:
        """The metadata, with the date-times of a series."""
        out = super().meta()
        out["date_times"] = list(self.date_times) if self.date_times is not None else None
        return out


@dataclass(frozen=True, kw_only=True)
class Rows(Result):
    """Plain rows (Klaviyo metrics and flow triggers, Flow XO's top messages and flows), each
    a flat mapping."""

    rows: tuple[Mapping[str, object], ...] = ()

    def to_records(self) -> list[Record]:
        """Each row as a flat record."""
        return [flatten(r) for r in self.rows]

    def filtered(self, predicate: Predicate) -> Rows:
        """The rows whose record ``predicate`` accepts."""
        return dataclasses.replace(self, rows=tuple(r for r in self.rows if predicate(flatten(r))))
