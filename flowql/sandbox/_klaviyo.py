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

from flowql.sandbox import klaviyo_filter
from flowql.sandbox._klaviyo_data import (
    FORM_FIELDS,
    MESSAGE_FIELDS,
)
from flowql.sandbox._klaviyo_revisions import (
    DEFAULT_REVISION,
    RETIRED_MODES,
    REVISIONS,
    SCOPES,
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
    from flowql.sandbox._klaviyo_revisions import Report, Revision
    from flowql.sandbox._util import Request

__all__ = ["REPORTS", "KlaviyoAPI", "timeframe_range"]

PAGE_SIZE = 200
MAX_LIST_ITEMS = 100
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# The spec's format: YYYY-MM-DD[.suffix].
_REVISION = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.[a-z0-9]+)?")
_JSON_TYPES = ("application/vnd.api+json", "application/json")

REPORTS = (
    "flow-values-reports",
    "flow-series-reports",
    "campaign-values-reports",
    "form-values-reports",
    "form-series-reports",
    "segment-values-reports",
    "segment-series-reports",
)
"""The report endpoints (``-series-`` ones are series)."""

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
    """Answers the Klaviyo requests, from :class:`~flowql.sandbox._klaviyo_data.KlaviyoData`,
    by the rules of the revision each request names.

    ``no_scopes_key`` is an API key that authenticates but holds no scope (every operation
    answers 403); ``retired`` says what a retired revision gets (one of
    :data:`~flowql.sandbox._klaviyo_revisions.RETIRED_MODES`)."""

    def __init__(
        self,
        data: KlaviyoData,
        now: Callable[[], datetime],
        *,
        no_scopes_key: str | None = None,
        retired: Callable[[], str] = lambda: "serve",
    ) -> None:
        self.data = data
        self.now = now
        self.no_scopes_key = no_scopes_key
        self.retired = retired

    def handle(self, request: Request) -> Response:
        """The answer to one authenticated Klaviyo request."""
        revision = self._revision(request)
        rest = request.segments[1:]
        if rest[:1] == ["metrics"]:
            _method(request, "GET")
            if len(rest) == 1:
                self._scopes(request, "metrics")
                return self.metrics(request, revision)
            if len(rest) == 2 or rest[2:] == ["relationships", "flow-triggers"]:
                self._scopes(request, "metrics" if len(rest) == 2 else "flow-triggers")
                metric = self.data.metric_by_id.get(rest[1])
                if metric is None:
                    raise RequestError(404, f"A metric with id {rest[1][:40]!r} does not exist.")
                if len(rest) == 2:
                    fields = _metric_fields(request, revision)
                    document: dict[str, Any] = {"data": self._metric(request, metric, fields)}
                else:
                    _no_parameters(request)
                    document = {
                        "data": [
                            {"type": "flow", "id": flow["id"]}
                            for flow in self.data.flows
                            if flow["trigger_metric_id"] == metric["id"]
                        ]
                    }
                if revision.top_links:
                    document["links"] = {"self": request.url}
                return Response(document)
        elif len(rest) == 1 and rest[0] in REPORTS:
            _method(request, "POST")
            report = revision.reports[rest[0]]
            self._scopes(request, report.family)
            return Response(self.report(request, rest[0], report, revision))
        raise RequestError(404, f"No such path: {request.path}")

    def _revision(self, request: Request) -> Revision:
        """The revision a request names, or the error Klaviyo gives for it."""
        name = request.headers.get("revision")
        if name is None or not name.strip():
            raise RequestError(
                400,
                f"The revision header is required (for example revision: {DEFAULT_REVISION}).",
                parameter="revision",
            )
        served = ", ".join(
            f"{r}{' (retired)' if REVISIONS[r].retired(self.now()) else ''}" for r in REVISIONS
        )
        if _REVISION.fullmatch(name) is None:
            raise RequestError(
                400,
                f"Invalid revision {name[:40]!r}: expected YYYY-MM-DD[.suffix].",
                parameter="revision",
            )
        revision = REVISIONS.get(name)
        if revision is None:
            # Klaviyo's policy: "the revision passed in must be a valid revision".
            raise RequestError(
                400,
                f"{name!r} is not a valid revision; the sandbox serves {served}.",
                parameter="revision",
            )
        if revision.retired(self.now()):
            mode = self.retired()
            assert mode in RETIRED_MODES
            if mode == "gone":
                raise RequestError(
                    410,
                    f"Revision {name} was retired on {revision.retires.isoformat()}; use a "
                    f"supported revision ({DEFAULT_REVISION}).",
                    code="gone",
                    parameter="revision",
                )
            if mode == "forward":
                supported = [r for r in REVISIONS.values() if not r.retired(self.now())]
                if supported:
                    return min(supported, key=lambda r: r.name)
        return revision

    def _scopes(self, request: Request, operation: str) -> None:
        """403 for the sandbox's key without scopes."""
        if self.no_scopes_key is None:
            return
        _, _, key = request.headers.get("authorization", "").strip().partition(" ")
        if key.strip() == self.no_scopes_key:
            raise RequestError(
                403,
                "This API key is missing the scopes this request needs: "
                + ", ".join(SCOPES[operation])
                + ".",
                code="permission_denied",
            )

    # --- metrics ---------------------------------------------------------------------

    def metrics(self, request: Request, revision: Revision) -> Response:
        """A page of the account's metrics."""
        params: dict[str, str] = {}
        for key, value in request.query:
            if key not in ("filter", "fields[metric]", "page[cursor]"):
                raise RequestError(400, f"{key!r} is not a valid query parameter.", parameter=key)
            if key in params:
                raise RequestError(400, f"{key!r} is given more than once.", parameter=key)
            params[key] = value
        fields = _fieldset(params.get("fields[metric]"), revision)
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

        # The spec's CollectionLinks are strings, not nullable: a missing page has no link.
        links = {"self": request.url}
        if offset + PAGE_SIZE < len(metrics):
            links["next"] = link(offset + PAGE_SIZE)
        if offset:
            links["prev"] = link(max(0, offset - PAGE_SIZE))
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
        self, request: Request, endpoint: str, family: Report, revision: Revision
    ) -> dict[str, Any]:
        """A values or series report."""
        series = "-series-" in endpoint
        kind = endpoint[:-1]  # flow-values-report
        _report_parameters(request, kind, family, revision)
        _content_type(request)
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
                    f"'{name}' is not a valid attribute of a {kind} at revision {revision.name}.",
                    pointer=f"/data/attributes/{name}",
                )
        statistics = _statistics(attributes, family, revision)
        start, end = self._timeframe(attributes, revision)
        if family.earliest is not None and start < family.earliest:
            raise RequestError(
                400,
                "Data is unavailable before June 1st, 2023. Please use a timeframe after "
                "this date.",
                pointer="/data/attributes/timeframe",
            )
        interval = None
        if series:
            interval = attributes.get("interval")
            if interval is None:
                raise RequestError(
                    400, "'interval' is a required attribute.", pointer="/data/attributes/interval"
                )
            if interval not in revision.intervals:
                raise RequestError(
                    400,
                    f"'{str(interval)[:40]}' is not a valid interval: use one of "
                    + ", ".join(revision.intervals),
                    pointer="/data/attributes/interval",
                )
            limit = revision.intervals[interval]
            if limit is not None and end - start > limit:
                said = f"{limit.days} days" if limit.days < 364 else f"{limit.days // 7} weeks"
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
        document: dict[str, Any] = {"data": data}
        if revision.top_links:
            document["links"] = {"self": request.url}
        return document

    def _timeframe(
        self, attributes: dict[str, Any], revision: Revision
    ) -> tuple[datetime, datetime]:
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
            if key not in revision.timeframe_keys:
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
            # "Offset is ignored and the company timezone is used" (UTC here).
            moments.append(moment.replace(tzinfo=UTC))
        start, end = moments
        if end <= start:
            raise RequestError(400, "The timeframe must end after it starts.", pointer=pointer)
        if end > _plus_year(start):
            raise RequestError(400, "The timeframe is longer than 1 year.", pointer=pointer)
        return start, end

    def _groups(
        self,
        family: Report,
        conditions: list[klaviyo_filter.Condition],
        group_by: tuple[str, ...],
        windows: list[tuple[int, int]],
        start_ms: int,
        end_ms: int,
    ) -> list[tuple[dict[str, Any], list[list[float]]]]:
        """The groups of matching rows, in order of first appearance, each with its count
        vector per window (the segment family's groups carry the segment index instead)."""
        data = self.data
        if family.family == "campaign":
            sent_rows = data.campaign_rows(start_ms, end_ms)
            rows = [row for row, _, _ in sent_rows]
        else:
            sent_rows = []
            rows = {
                "flow": data.flow_rows,
                "form": data.form_rows,
                "segment": data.segment_rows,
            }[family.family]
        matching = [r for r in rows if klaviyo_filter.matches(conditions, r.values)]
        width = {
            "flow": len(MESSAGE_FIELDS),
            "campaign": len(MESSAGE_FIELDS),
            "form": len(FORM_FIELDS),
            "segment": 2,
        }[family.family]
        per_row: dict[int, list[list[float]]] = {}
        if family.family == "campaign":
            by_id = {id(row): (sent, counts) for row, sent, counts in sent_rows}
            for row in matching:
                sent, counts = by_id[id(row)]
                per_row[id(row)] = [
                    list(counts) if a <= sent < b else [0.0] * width for a, b in windows
                ]
        elif family.family != "segment":
            daily = data.flow_daily if family.family == "flow" else data.form_daily
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
        family: Report,
        vector: list[float],
        names: list[str],
        factor: float,
        window: tuple[int, int],
        grouping: dict[str, Any],
    ) -> dict[str, float | int]:
        if family.family in ("flow", "campaign"):
            return _message_statistics(vector, names, factor)
        if family.family == "form":
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


def _metric_fields(request: Request, revision: Revision) -> list[str] | None:
    """The one parameter ``GET /api/metrics/{id}`` takes: ``fields[metric]``."""
    params: dict[str, str] = {}
    for key, value in request.query:
        if key != "fields[metric]":
            raise RequestError(400, f"{key!r} is not a valid query parameter.", parameter=key)
        if key in params:
            raise RequestError(400, f"{key!r} is given more than once.", parameter=key)
        params[key] = value
    return _fieldset(params.get("fields[metric]"), revision)


def _fieldset(value: str | None, revision: Revision) -> list[str] | None:
    """The sparse fieldset ``fields[metric]``: the revision's names, and the guide's
    ``integration.<key>`` (its example request asks for ``integration.id``)."""
    if value is None:
        return None
    fields = [f for f in value.split(",") if f]
    allowed = {*revision.metric_fields, *(f"integration.{a}" for a in _INTEGRATION_ATTRIBUTES)}
    for name in fields:
        if name not in allowed:
            raise RequestError(
                400,
                f"{name!r} is not a valid field for the resource 'metric'.",
                parameter="fields[metric]",
            )
    return fields


def _report_parameters(request: Request, kind: str, family: Report, revision: Revision) -> None:
    """A report's query parameters: its sparse fieldset (at revisions that have one) and, on
    the paged reports, a ``page_cursor``."""
    fieldset = f"fields[{kind}]"
    seen: set[str] = set()
    for key, value in request.query:
        if key in seen:
            raise RequestError(400, f"{key!r} is given more than once.", parameter=key)
        seen.add(key)
        if key == fieldset and revision.report_fieldsets:
            names = ("date_times", "id", "results") if "-series-" in kind else ("id", "results")
            for name in value.split(","):
                if name not in names:
                    raise RequestError(
                        400,
                        f"{name[:40]!r} is not a valid field for the resource {kind!r}.",
                        parameter=key,
                    )
            # Every field the answer may hold is one the schema requires: nothing to drop.
        elif key == "page_cursor" and family.paged:
            # Every report fits in one page, so no cursor was ever handed out.
            raise RequestError(400, "Invalid page cursor.", parameter=key)
        else:
            raise RequestError(400, f"{key!r} is not a valid query parameter.", parameter=key)


def _content_type(request: Request) -> None:
    """A body's media type: JSON:API's, or plain JSON (which Klaviyo's guide sends)."""
    given = request.headers.get("content-type")
    if given is None:
        return
    media = given.split(";", 1)[0].strip().lower()
    if media not in _JSON_TYPES:
        raise RequestError(
            415,
            f"Unsupported media type {media[:60]!r}: send application/vnd.api+json.",
            code="unsupported_media_type",
        )


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


MAX_BODY_DEPTH = 32
"""How deep a request body may nest (a report body needs four levels)."""


def _not_json(name: str) -> object:
    """NaN, Infinity and -Infinity, which Python reads and JSON does not have."""
    raise ValueError(f"{name} is not JSON")


def _depth(document: object) -> int:
    """How deep ``document`` nests (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_BODY_DEPTH:
                return depth
            stack.extend((child, depth) for child in item)
    return deepest


def _report_body(body: bytes, kind: str) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: not JSON, or an integer past Python's 4,300 digits; RecursionError: nested
        # deeper than the decoder goes.
        raise RequestError(
            400, "The request body is not valid JSON.", code="parse_error", pointer="/"
        ) from None
    if _depth(document) > MAX_BODY_DEPTH:
        raise RequestError(
            400,
            f"The request body nests deeper than {MAX_BODY_DEPTH} levels.",
            code="parse_error",
            pointer="/",
        )
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


def _statistics(attributes: dict[str, Any], family: Report, revision: Revision) -> list[str]:
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
                f"{str(name)[:40]!r} is not a valid statistic for {family.family} reports at "
                f"revision {revision.name}.",
                pointer=f"{pointer}/{i}",
            )
    return list(dict.fromkeys(statistics))


def _group_by(attributes: dict[str, Any], family: Report) -> tuple[str, ...]:
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
                f"{str(name)[:40]!r} is not a valid group_by for {family.family} reports.",
                pointer=f"{pointer}/{i}",
            )
    for name in family.required_group_by:
        if name not in value:
            raise RequestError(400, f"group_by must include {name}.", pointer=pointer)
    for name, needs in family.prerequisites:
        if name in value and needs not in value:
            raise RequestError(400, f"Grouping by {name} needs {needs} too.", pointer=pointer)
    return tuple(dict.fromkeys(value))


def _report_filter(text: object, family: Report) -> list[klaviyo_filter.Condition]:
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
                f"Invalid filter: {condition.field!r} is not a filterable field of {family.family} "
                "reports; use " + ", ".join(family.fields),
                pointer=pointer,
            )
        operators, values = spec.operators, spec.values
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
