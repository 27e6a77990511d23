"""The Klaviyo API of the sandbox: ``GET /api/metrics/`` (filter, sparse fields, cursor
paging), ``GET /api/metrics/{id}/``, ``GET /api/metrics/{id}/relationships/flow-triggers`` and
the reporting endpoints (``flow-values-reports``, ``flow-series-reports``,
``campaign-values-reports``, ``form-values-reports``, ``form-series-reports``,
``segment-values-reports``, ``segment-series-reports``).

Every request needs the ``revision`` header. Errors are JSON:API ``errors[]`` (rendered by the
server from :class:`~flowql.sandbox._util.RequestError`), with ``source.pointer`` into the body or
``source.parameter`` naming the query parameter or header.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from flowql.query import KLAVIYO_TIMEFRAMES
from flowql.sandbox import klaviyo_filter
from flowql.sandbox._klaviyo_data import (
    FORM_FIELDS,
    MESSAGE_FIELDS,
)
from flowql.sandbox._util import (
    UTC,
    RequestError,
    Response,
    epoch_ms,
    from_ms,
    iso_offset,
    parse_iso,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from flowql.sandbox._klaviyo_data import KlaviyoData
    from flowql.sandbox._util import Request

__all__ = ["FAMILIES", "REPORTS", "TIMEFRAME_KEYS", "KlaviyoAPI", "timeframe_range"]

PAGE_SIZE = 200
MAX_LIST_ITEMS = 100
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
_REVISION = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.[a-z0-9]+)?")

# The documented names (statistics, group-bys, fields, timeframe keys) are the client's: one
# list of Klaviyo's facts. What the sandbox does with them (ranges, intervals, filters) is its
# own reading.
TIMEFRAME_KEYS = tuple(sorted(KLAVIYO_TIMEFRAMES))
INTERVAL_LIMITS = {
    "hourly": (timedelta(days=7), "7 days"),
    "daily": (timedelta(days=60), "60 days"),
    "weekly": (timedelta(weeks=52), "52 weeks"),
    "monthly": (timedelta(weeks=52), "52 weeks"),
}


class Family:
    """What one report family takes: its filter fields (name -> operators, whether the field
    holds a list, the values it takes when few), group-bys, statistics, and whether it needs a
    conversion metric."""

    def __init__(
        self,
        name: str,
        fields: dict[str, tuple[tuple[str, ...], bool, tuple[str, ...] | None]],
        statistics: tuple[str, ...],
        *,
        group_by: tuple[str, ...] | None,
        default_group_by: tuple[str, ...],
        required_group_by: tuple[str, ...] = (),
        prerequisites: dict[str, str] | None = None,
        conversion: bool = False,
        relationships: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        self.name = name
        self.fields = fields
        self.statistics = statistics
        self.group_by = group_by
        self.default_group_by = default_group_by
        self.required_group_by = required_group_by
        self.prerequisites = prerequisites or {}
        self.conversion = conversion
        self.relationships = relationships


def _family(report: str, relationships: tuple[tuple[str, str, str], ...] = ()) -> Family:
    """A family from the facts flowql already lists once: the report's statistics and group-bys
    (:data:`flowql.query.KLAVIYO_REPORTS`) and the filter fields of its target's capability
    table. The sandbox's own reading is what it does with them."""
    from importlib import import_module

    from flowql.query import KLAVIYO_REPORTS

    facts = KLAVIYO_REPORTS[report]
    fields = import_module(f"flowql.targets.klaviyo_{facts.family}_report").FIELDS
    return Family(
        facts.family,
        {f.name: (f.operators, f.kind == "list", f.values) for f in fields},
        facts.statistics,
        group_by=facts.group_by or None,
        default_group_by=facts.default_group_by,
        required_group_by=facts.required_group_by,
        prerequisites=dict(facts.prerequisites),
        conversion=facts.conversion,
        relationships=relationships,
    )


FAMILIES = {
    "flow": _family(
        "flow-values",
        (
            ("flows", "flow", "flow_id"),
            ("flow-messages", "flow-message", "flow_message_id"),
        ),
    ),
    "campaign": _family("campaign-values", (("campaigns", "campaign", "campaign_id"),)),
    "form": _family("form-values"),
    "segment": _family("segment-values"),
}
"""The report families and their rules."""

REPORTS = {
    "flow-values-reports": ("flow", False),
    "flow-series-reports": ("flow", True),
    "campaign-values-reports": ("campaign", False),
    "form-values-reports": ("form", False),
    "form-series-reports": ("form", True),
    "segment-values-reports": ("segment", False),
    "segment-series-reports": ("segment", True),
}
"""Each report endpoint: its family, and whether it is a series."""

_METRIC_FIELDS = {"integration.name", "integration.category"}
_METRIC_ATTRIBUTES = ("name", "created", "updated", "integration")
_INTEGRATION_ATTRIBUTES = ("object", "id", "key", "name", "category")


# --- timeframes ---------------------------------------------------------------------------


def _month_start(year: int, month: int) -> datetime:
    while month <= 0:
        month += 12
        year -= 1
    return datetime(year, month, 1, tzinfo=UTC)


def timeframe_range(key: str, now: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` a timeframe key means at ``now`` (the account's timezone is UTC;
    weeks start on Monday; ``this_*`` and ``today`` end now)."""
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    month = _month_start(now.year, now.month)
    if key == "today":
        return today, now
    if key == "yesterday":
        return today - timedelta(days=1), today
    if key == "this_week":
        return monday, now
    if key == "last_week":
        return monday - timedelta(days=7), monday
    if key == "this_month":
        return month, now
    if key == "last_month":
        return _month_start(now.year, now.month - 1), month
    if key == "this_year":
        return datetime(now.year, 1, 1, tzinfo=UTC), now
    if key == "last_year":
        return datetime(now.year - 1, 1, 1, tzinfo=UTC), datetime(now.year, 1, 1, tzinfo=UTC)
    if key == "last_3_months":
        return _month_start(now.year, now.month - 3), month
    if key == "last_12_months":
        return _month_start(now.year, now.month - 12), month
    days = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}[key]
    return today - timedelta(days=days), today


def _plus_year(moment: datetime) -> datetime:
    year = moment.year + 1
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def _buckets(start: datetime, end: datetime, interval: str) -> list[datetime]:
    if interval == "hourly":
        first = start.replace(minute=0, second=0, microsecond=0)
    else:
        first = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if interval == "weekly":
            first -= timedelta(days=first.weekday())
        elif interval == "monthly":
            first = first.replace(day=1)
    out = []
    at = first
    while at < end:
        out.append(at)
        if interval == "hourly":
            at += timedelta(hours=1)
        elif interval == "daily":
            at += timedelta(days=1)
        elif interval == "weekly":
            at += timedelta(weeks=1)
        else:
            at = (
                _month_start(at.year, at.month + 1)
                if at.month < 12
                else _month_start(at.year + 1, 1)
            )
    return out


# --- statistics ------------------------------------------------------------------------------


def _rate(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _message_statistics(
    vector: Sequence[float], names: Sequence[str], factor: float
) -> dict[str, float | int]:
    v = dict(zip(MESSAGE_FIELDS, vector, strict=True))
    count = {
        k: round(x) for k, x in v.items() if k not in ("conversion_value", "text_message_spend")
    }
    conversions = round(count["conversions"] * factor)
    conversion_uniques = min(conversions, round(count["conversion_uniques"] * factor))
    value = round(v["conversion_value"] * factor, 2)
    spend = round(v["text_message_spend"], 2)
    recipients, delivered = count["recipients"], count["delivered"]
    bounced, failed = count["bounced"], count["failed"]
    values: dict[str, float | int] = {
        "average_order_value": round(value / conversions, 2) if conversions else 0.0,
        "bounce_rate": _rate(bounced, recipients),
        "bounced": bounced,
        "bounced_or_failed": bounced + failed,
        "bounced_or_failed_rate": _rate(bounced + failed, recipients),
        "click_rate": _rate(count["clicks_unique"], delivered),
        "click_to_open_rate": _rate(count["clicks_unique"], count["opens_unique"]),
        "clicks": count["clicks"],
        "clicks_unique": count["clicks_unique"],
        "conversion_rate": _rate(conversion_uniques, delivered),
        "conversion_uniques": conversion_uniques,
        "conversion_value": value,
        "conversions": conversions,
        "delivered": delivered,
        "delivery_rate": _rate(delivered, recipients),
        "failed": failed,
        "failed_rate": _rate(failed, recipients),
        "message_segment_count_sum": count["message_segment_count_sum"],
        "open_rate": _rate(count["opens_unique"], delivered),
        "opens": count["opens"],
        "opens_unique": count["opens_unique"],
        "recipients": recipients,
        "revenue_per_recipient": round(value / recipients, 2) if recipients else 0.0,
        "spam_complaint_rate": _rate(count["spam_complaints"], delivered),
        "spam_complaints": count["spam_complaints"],
        "text_message_credit_usage_amount": count["text_message_credit_usage_amount"],
        "text_message_roi": round((value - spend) / spend, 4) if spend else 0.0,
        "text_message_spend": spend,
        "unsubscribe_rate": _rate(count["unsubscribe_uniques"], delivered),
        "unsubscribe_uniques": count["unsubscribe_uniques"],
        "unsubscribes": count["unsubscribes"],
    }
    return {name: values[name] for name in names}


def _form_statistics(vector: Sequence[float], names: Sequence[str]) -> dict[str, float | int]:
    count = {k: round(x) for k, x in zip(FORM_FIELDS, vector, strict=True)}
    values: dict[str, float | int] = dict(count)
    values["submit_rate"] = _rate(count["submits"], count["viewed_form_uniques"])
    return {name: values[name] for name in names}


# --- the API -----------------------------------------------------------------------------------


class KlaviyoAPI:
    """Answers the Klaviyo requests, from :class:`~flowql.sandbox._klaviyo_data.KlaviyoData`."""

    def __init__(self, data: KlaviyoData, now: Callable[[], datetime]) -> None:
        self.data = data
        self.now = now

    def handle(self, request: Request) -> Response:
        """The answer to one authenticated Klaviyo request."""
        revision = request.headers.get("revision")
        if revision is None:
            raise RequestError(
                400,
                "The revision header is required (for example revision: 2024-10-15).",
                parameter="revision",
            )
        if _REVISION.fullmatch(revision) is None:
            raise RequestError(
                400,
                f"Invalid revision {revision[:40]!r}: expected YYYY-MM-DD.",
                parameter="revision",
            )
        rest = request.segments[1:]
        if rest[:1] == ["metrics"]:
            _method(request, "GET")
            if len(rest) == 1:
                return self.metrics(request)
            metric = self.data.metric_by_id.get(rest[1])
            if metric is None:
                raise RequestError(404, f"A metric with id {rest[1][:40]!r} does not exist.")
            if len(rest) == 2:
                _no_parameters(request)
                return Response({"data": self._metric(request, metric, None)})
            if rest[2:] == ["relationships", "flow-triggers"]:
                _no_parameters(request)
                return Response(
                    {
                        "data": [
                            {"type": "flow", "id": flow["id"]}
                            for flow in self.data.flows
                            if flow["trigger_metric_id"] == metric["id"]
                        ]
                    }
                )
        elif len(rest) == 1 and rest[0] in REPORTS:
            _method(request, "POST")
            family, series = REPORTS[rest[0]]
            return Response(self.report(request, rest[0], FAMILIES[family], series))
        raise RequestError(404, f"No such path: {request.path}")

    # --- metrics ---------------------------------------------------------------------

    def metrics(self, request: Request) -> Response:
        """A page of the account's metrics."""
        params: dict[str, str] = {}
        for key, value in request.query:
            if key not in ("filter", "fields[metric]", "page[cursor]"):
                raise RequestError(400, f"{key!r} is not a valid query parameter.", parameter=key)
            if key in params:
                raise RequestError(400, f"{key!r} is given more than once.", parameter=key)
            params[key] = value
        fields = None
        if "fields[metric]" in params:
            fields = [f for f in params["fields[metric]"].split(",") if f]
            allowed = {*_METRIC_ATTRIBUTES, *(f"integration.{a}" for a in _INTEGRATION_ATTRIBUTES)}
            for name in fields:
                if name not in allowed:
                    raise RequestError(
                        400,
                        f"{name!r} is not a valid field for the resource 'metric'.",
                        parameter="fields[metric]",
                    )
        metrics = self.data.metrics
        if "filter" in params:
            conditions = _read_filter(params["filter"], parameter="filter")
            seen: set[str] = set()
            for condition in conditions:
                if condition.field not in _METRIC_FIELDS or condition.operator != "equals":
                    raise RequestError(
                        400,
                        f"Invalid filter: {condition.operator}({condition.field},...) is not "
                        "supported; filter with equals on integration.name or "
                        "integration.category.",
                        parameter="filter",
                    )
                if not isinstance(condition.value, str):
                    raise RequestError(
                        400,
                        f"Invalid filter: {condition.field} takes a string.",
                        parameter="filter",
                    )
                if condition.field in seen:
                    raise RequestError(
                        400,
                        f"Invalid filter: {condition.field} is filtered more than once.",
                        parameter="filter",
                    )
                seen.add(condition.field)
            metrics = [m for m in metrics if klaviyo_filter.matches(conditions, m)]
        offset = 0
        if "page[cursor]" in params:
            offset = _read_cursor(params["page[cursor]"])
        page = metrics[offset : offset + PAGE_SIZE]
        base = f"{request.base}{request.path}"

        def link(at: int) -> str:
            pairs = [(k, v) for k, v in request.query if k != "page[cursor]"]
            if at:
                pairs.append(("page[cursor]", _cursor(at)))
            return base + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")

        links = {
            "self": request.url,
            "next": link(offset + PAGE_SIZE) if offset + PAGE_SIZE < len(metrics) else None,
            "prev": link(max(0, offset - PAGE_SIZE)) if offset else None,
        }
        return Response({"data": [self._metric(request, m, fields) for m in page], "links": links})

    def _metric(
        self, request: Request, metric: dict[str, Any], fields: list[str] | None
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for name in _METRIC_ATTRIBUTES:
            value = metric[name]
            if fields is None or name in fields:
                attributes[name] = value
            elif name == "integration":
                wanted = {f.split(".", 1)[1] for f in fields if f.startswith("integration.")}
                if wanted:
                    attributes[name] = {k: v for k, v in value.items() if k in wanted}
        return {
            "type": "metric",
            "id": metric["id"],
            "attributes": attributes,
            "links": {"self": f"{request.base}/api/metrics/{metric['id']}/"},
        }

    # --- reports -------------------------------------------------------------------------

    def report(
        self, request: Request, endpoint: str, family: Family, series: bool
    ) -> dict[str, Any]:
        """A values or series report."""
        _no_parameters(request)
        kind = endpoint[:-1]  # flow-values-report
        attributes = _report_body(request.body, kind)
        allowed = {"statistics", "timeframe", "filter"}
        if series:
            allowed.add("interval")
        if family.conversion:
            allowed.add("conversion_metric_id")
        if family.group_by is not None:
            allowed.add("group_by")
        for name in attributes:
            if name not in allowed:
                raise RequestError(
                    400,
                    f"'{name}' is not a valid attribute of a {kind}.",
                    pointer=f"/data/attributes/{name}",
                )
        statistics = _statistics(attributes, family)
        start, end = self._timeframe(attributes)
        interval = None
        if series:
            interval = attributes.get("interval")
            if interval is None:
                raise RequestError(
                    400, "'interval' is a required attribute.", pointer="/data/attributes/interval"
                )
            if interval not in INTERVAL_LIMITS:
                raise RequestError(
                    400,
                    f"'{str(interval)[:40]}' is not a valid interval: use one of "
                    + ", ".join(sorted(INTERVAL_LIMITS)),
                    pointer="/data/attributes/interval",
                )
            limit, said = INTERVAL_LIMITS[interval]
            if end - start > limit:
                raise RequestError(
                    400,
                    f"The timeframe is too long for the {interval} interval: at most {said}.",
                    pointer="/data/attributes/interval",
                )
        factor = 1.0
        if family.conversion:
            metric_id = attributes.get("conversion_metric_id")
            if metric_id is None:
                raise RequestError(
                    400,
                    "'conversion_metric_id' is a required attribute.",
                    pointer="/data/attributes/conversion_metric_id",
                )
            if not isinstance(metric_id, str) or metric_id not in self.data.metric_by_id:
                raise RequestError(
                    400,
                    f"The conversion metric {str(metric_id)[:40]!r} does not exist.",
                    pointer="/data/attributes/conversion_metric_id",
                )
            factor = self.data.metric_factor[metric_id]
        group_by = _group_by(attributes, family)
        conditions = _report_filter(attributes.get("filter"), family)
        now_ms = epoch_ms(self.now())
        start_ms, end_ms = epoch_ms(start), min(epoch_ms(end), now_ms)
        edges = [epoch_ms(b) for b in _buckets(start, end, interval)] if interval else [start_ms]
        windows = [
            (max(a, start_ms), min(b, end_ms))
            for a, b in zip(edges, [*edges[1:], epoch_ms(end)], strict=True)
        ]
        groups = self._groups(family, conditions, group_by, windows, start_ms, end_ms)
        results = []
        for grouping, vectors in groups:
            per_window = [
                self._statistics(family, vector, statistics, factor, window, grouping)
                for vector, window in zip(vectors, windows, strict=True)
            ]
            if series:
                stats: dict[str, Any] = {name: [w[name] for w in per_window] for name in statistics}
            else:
                stats = per_window[0]
            results.append({"groupings": grouping, "statistics": stats})
        out_attributes: dict[str, Any] = {"results": results}
        if series:
            out_attributes["date_times"] = [iso_offset(from_ms(e)) for e in edges]
        data: dict[str, Any] = {"type": kind, "attributes": out_attributes}
        if family.relationships:
            url = f"{request.base}{request.path.rstrip('/')}/"
            data["relationships"] = {
                name: {
                    "data": _unique(
                        [{"type": kind_, "id": g[key]} for g, _ in groups if g.get(key)]
                    ),
                    "links": {
                        "self": f"{url}relationships/{name}/",
                        "related": f"{url}{name}/",
                    },
                }
                for name, kind_, key in family.relationships
            }
        data["links"] = {"self": request.url}
        return {"data": data}

    def _timeframe(self, attributes: dict[str, Any]) -> tuple[datetime, datetime]:
        pointer = "/data/attributes/timeframe"
        if "timeframe" not in attributes:
            raise RequestError(400, "'timeframe' is a required attribute.", pointer=pointer)
        timeframe = attributes["timeframe"]
        if not isinstance(timeframe, dict):
            raise RequestError(400, "The timeframe must be an object.", pointer=pointer)
        if "key" in timeframe:
            if set(timeframe) != {"key"}:
                raise RequestError(
                    400, "Give a timeframe key or a start and end, not both.", pointer=pointer
                )
            key = timeframe["key"]
            if key not in TIMEFRAME_KEYS:
                raise RequestError(
                    400,
                    f"'{str(key)[:40]}' is not a valid timeframe key.",
                    pointer=f"{pointer}/key",
                )
            return timeframe_range(key, self.now())
        if set(timeframe) != {"start", "end"}:
            raise RequestError(
                400, "The timeframe needs a key, or a start and an end.", pointer=pointer
            )
        moments = []
        for name in ("start", "end"):
            value = timeframe[name]
            moment = parse_iso(value) if isinstance(value, str) else None
            if moment is None or (isinstance(value, str) and "T" not in value.upper()):
                raise RequestError(
                    400,
                    f"The timeframe {name} must be an ISO 8601 date-time.",
                    pointer=f"{pointer}/{name}",
                )
            # Klaviyo ignores the offset and reads the time in the account's timezone (UTC).
            moments.append(moment.replace(tzinfo=UTC))
        start, end = moments
        if end <= start:
            raise RequestError(400, "The timeframe must end after it starts.", pointer=pointer)
        if end > _plus_year(start):
            raise RequestError(400, "The timeframe is longer than 1 year.", pointer=pointer)
        return start, end

    def _groups(
        self,
        family: Family,
        conditions: list[klaviyo_filter.Condition],
        group_by: tuple[str, ...],
        windows: list[tuple[int, int]],
        start_ms: int,
        end_ms: int,
    ) -> list[tuple[dict[str, Any], list[list[float]]]]:
        """The groups of matching rows, in order of first appearance, each with its count
        vector per window (the segment family's groups carry the segment index instead)."""
        data = self.data
        if family.name == "campaign":
            sent_rows = data.campaign_rows(start_ms, end_ms)
            rows = [row for row, _, _ in sent_rows]
        else:
            sent_rows = []
            rows = {
                "flow": data.flow_rows,
                "form": data.form_rows,
                "segment": data.segment_rows,
            }[family.name]
        matching = [r for r in rows if klaviyo_filter.matches(conditions, r.values)]
        width = {
            "flow": len(MESSAGE_FIELDS),
            "campaign": len(MESSAGE_FIELDS),
            "form": len(FORM_FIELDS),
            "segment": 2,
        }[family.name]
        per_row: dict[int, list[list[float]]] = {}
        if family.name == "campaign":
            by_id = {id(row): (sent, counts) for row, sent, counts in sent_rows}
            for row in matching:
                sent, counts = by_id[id(row)]
                per_row[id(row)] = [
                    list(counts) if a <= sent < b else [0.0] * width for a, b in windows
                ]
        elif family.name != "segment":
            daily = data.flow_daily if family.name == "flow" else data.form_daily
            indexes = [r.index for r in matching]
            for w, (a, b) in enumerate(windows):
                totals = daily.total(indexes, a, b, width)
                for row, vector in zip(matching, totals, strict=True):
                    per_row.setdefault(id(row), [[] for _ in windows])[w] = vector
        else:
            for row in matching:
                per_row[id(row)] = [
                    [float(row.index)] + data.segment_daily.total([row.index], a, b, 2)[0]
                    for a, b in windows
                ]
        groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[list[float]]]] = {}
        for row in matching:
            for grouping in _expand(row.values, group_by):
                key = tuple(grouping.values())
                vectors = per_row[id(row)]
                if key not in groups:
                    groups[key] = (grouping, [list(v) for v in vectors])
                    continue
                totals = groups[key][1]
                # Segment rows are one per segment, grouped by segment_id: never merged.
                for total, vector in zip(totals, vectors, strict=True):
                    for i, value in enumerate(vector):
                        total[i] += value
        return list(groups.values())

    def _statistics(
        self,
        family: Family,
        vector: list[float],
        names: list[str],
        factor: float,
        window: tuple[int, int],
        grouping: dict[str, Any],
    ) -> dict[str, float | int]:
        if family.name in ("flow", "campaign"):
            return _message_statistics(vector, names, factor)
        if family.name == "form":
            return _form_statistics(vector, names)
        index = int(vector[0])
        added, removed = round(vector[1]), round(vector[2])
        values = {
            "members_added": added,
            "members_removed": removed,
            "net_members_changed": added - removed,
            "total_members": self.data.segment_total(index, window[1]),
        }
        return {name: values[name] for name in names}


# --- request parts ----------------------------------------------------------------------------


def _method(request: Request, method: str) -> None:
    if request.method != method:
        raise RequestError(
            405, f'Method "{request.method}" not allowed.', headers={"Allow": method}
        )


def _no_parameters(request: Request) -> None:
    if request.query:
        key = request.query[0][0]
        raise RequestError(400, f"{key!r} is not a valid query parameter.", parameter=key)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _read_cursor(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not re.fullmatch(r"offset:\d{1,9}", raw):
        raise RequestError(400, "Invalid page cursor.", parameter="page[cursor]")
    return int(raw.split(":")[1])


def _read_filter(
    text: str, *, parameter: str | None = None, pointer: str | None = None
) -> list[klaviyo_filter.Condition]:
    try:
        return klaviyo_filter.parse(text)
    except klaviyo_filter.FilterSyntaxError as exc:
        raise RequestError(
            400, f"Invalid filter provided: {exc}.", parameter=parameter, pointer=pointer
        ) from None


def _report_body(body: bytes, kind: str) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestError(
            400, "The request body is not valid JSON.", code="parse_error", pointer="/"
        ) from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise RequestError(
            400, "The body must be a JSON:API document with a 'data' object.", pointer="/data"
        )
    if data.get("type") != kind:
        raise RequestError(
            409,
            f"The resource type must be '{kind}', not {str(data.get('type'))[:40]!r}.",
            code="conflict",
            pointer="/data/type",
        )
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise RequestError(400, "'attributes' must be an object.", pointer="/data/attributes")
    return attributes


def _statistics(attributes: dict[str, Any], family: Family) -> list[str]:
    pointer = "/data/attributes/statistics"
    statistics = attributes.get("statistics")
    if statistics is None:
        raise RequestError(400, "'statistics' is a required attribute.", pointer=pointer)
    if not isinstance(statistics, list) or not statistics:
        raise RequestError(400, "'statistics' must be a non-empty list.", pointer=pointer)
    for i, name in enumerate(statistics):
        if not isinstance(name, str) or name not in family.statistics:
            raise RequestError(
                400,
                f"{str(name)[:40]!r} is not a valid statistic for {family.name} reports.",
                pointer=f"{pointer}/{i}",
            )
    return list(dict.fromkeys(statistics))


def _group_by(attributes: dict[str, Any], family: Family) -> tuple[str, ...]:
    pointer = "/data/attributes/group_by"
    value = attributes.get("group_by")
    if value is None:
        return family.default_group_by
    assert family.group_by is not None
    if not isinstance(value, list):
        raise RequestError(400, "'group_by' must be a list.", pointer=pointer)
    for i, name in enumerate(value):
        if name not in family.group_by:
            raise RequestError(
                400,
                f"{str(name)[:40]!r} is not a valid group_by for {family.name} reports.",
                pointer=f"{pointer}/{i}",
            )
    for name in family.required_group_by:
        if name not in value:
            raise RequestError(400, f"group_by must include {name}.", pointer=pointer)
    for name, needs in family.prerequisites.items():
        if name in value and needs not in value:
            raise RequestError(400, f"Grouping by {name} needs {needs} too.", pointer=pointer)
    return tuple(dict.fromkeys(value))


def _report_filter(text: object, family: Family) -> list[klaviyo_filter.Condition]:
    pointer = "/data/attributes/filter"
    if text is None:
        return []
    if not isinstance(text, str):
        raise RequestError(400, "'filter' must be a string.", pointer=pointer)
    conditions = _read_filter(text, pointer=pointer)
    seen: set[str] = set()
    for condition in conditions:
        spec = family.fields.get(condition.field)
        if spec is None:
            raise RequestError(
                400,
                f"Invalid filter: {condition.field!r} is not a filterable field of {family.name} "
                "reports; use " + ", ".join(family.fields),
                pointer=pointer,
            )
        operators, _, values = spec
        if condition.operator not in operators:
            raise RequestError(
                400,
                f"Invalid filter: {condition.field} takes "
                + " and ".join(operators)
                + f", not {condition.operator}.",
                pointer=pointer,
            )
        if condition.field in seen:
            raise RequestError(
                400,
                f"Invalid filter: only one filter per field ({condition.field} has more).",
                pointer=pointer,
            )
        seen.add(condition.field)
        items = condition.value if isinstance(condition.value, list) else [condition.value]
        if len(items) > MAX_LIST_ITEMS:
            raise RequestError(
                400,
                f"Invalid filter: at most {MAX_LIST_ITEMS} items in a list, not {len(items)}.",
                pointer=pointer,
            )
        if not items:
            raise RequestError(400, "Invalid filter: an empty list.", pointer=pointer)
        for item in items:
            if not isinstance(item, str):
                raise RequestError(
                    400, f"Invalid filter: {condition.field} takes strings.", pointer=pointer
                )
            if values is not None and item not in values:
                raise RequestError(
                    400,
                    f"Invalid filter: {item[:40]!r} is not a valid {condition.field}; use "
                    + ", ".join(values),
                    pointer=pointer,
                )
    return conditions


def _expand(values: dict[str, Any], group_by: tuple[str, ...]) -> list[dict[str, Any]]:
    """The groupings a row belongs to: one, or one per item of a list field grouped by."""
    out: list[dict[str, Any]] = [{}]
    for name in group_by:
        value = values.get(name)
        options = (value or [None]) if isinstance(value, list) else [value]
        out = [{**g, name: option} for g in out for option in options]
    return out


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for item in items:
        key = tuple(item.values())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
