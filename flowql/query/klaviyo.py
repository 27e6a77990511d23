"""Klaviyo queries: the reporting endpoints (flow, campaign, form and segment values and
series reports), the metrics list and a metric's flow triggers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flowql.apis import Api
from flowql.diagnostics import Severity, did_you_mean
from flowql.endpoints import encode_query, percent_encode
from flowql.klaviyo_revisions import (
    DEFAULT_REVISION,
    REVISIONS,
    ReportRules,
    Revision,
    RevisionError,
    resolve_revision,
)
from flowql.query.plan import (
    UTC,
    Checks,
    Plan,
    QueryBase,
    Request,
    parse_filter,
    plan_filter,
    required_id,
)
from flowql.times import TimeError, format_wall_clock, written_zone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from flowql.ast import Expr
    from flowql.model import DataModel
    from flowql.query.plan import TimeValue

__all__ = [
    "KLAVIYO_FORM_STATISTICS",
    "KLAVIYO_INTERVALS",
    "KLAVIYO_MESSAGE_STATISTICS",
    "KLAVIYO_METRICS_ENDPOINTS",
    "KLAVIYO_REPORTS",
    "KLAVIYO_REVISION",
    "KLAVIYO_SEGMENT_STATISTICS",
    "KLAVIYO_TIMEFRAMES",
    "JSON_API",
    "KlaviyoMetricsQuery",
    "KlaviyoReportQuery",
    "plan_revision",
    "timeframe_range",
]

KLAVIYO_REVISION = DEFAULT_REVISION
"""The Klaviyo API revision flowql sends unless told otherwise: the newest one whose spec the
project holds (:mod:`flowql.klaviyo_revisions`)."""

JSON_API = "application/vnd.api+json"
"""The media type of Klaviyo's requests and answers (JSON:API), as its spec gives it."""

_DEFAULT = REVISIONS[DEFAULT_REVISION]

KLAVIYO_TIMEFRAMES = _DEFAULT.timeframes
"""The timeframe keys of Klaviyo's reporting API (at the default revision)."""


def _month_start(year: int, month: int) -> dt.datetime:
    while month < 1:
        year, month = year - 1, month + 12
    return dt.datetime(year, month, 1, tzinfo=UTC)


def timeframe_range(key: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The range a Klaviyo timeframe key covers at ``now``, in UTC (Klaviyo uses the account's
    time zone; the length, which the interval limits are checked against, is the same but for
    a daylight-saving hour). Weeks start on Monday. Raises KeyError for an unknown key."""
    now = now.astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - dt.timedelta(days=today.weekday())
    month = _month_start(now.year, now.month)
    ranges = {
        "today": (today, now),
        "yesterday": (today - dt.timedelta(days=1), today),
        "this_week": (monday, now),
        "last_week": (monday - dt.timedelta(days=7), monday),
        "this_month": (month, now),
        "last_month": (_month_start(now.year, now.month - 1), month),
        "this_year": (dt.datetime(now.year, 1, 1, tzinfo=UTC), now),
        "last_year": (
            dt.datetime(now.year - 1, 1, 1, tzinfo=UTC),
            dt.datetime(now.year, 1, 1, tzinfo=UTC),
        ),
        "last_3_months": (_month_start(now.year, now.month - 3), month),
        "last_12_months": (_month_start(now.year, now.month - 12), month),
    }
    if key in ranges:
        return ranges[key]
    days = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}[key]
    return today - dt.timedelta(days=days), today


KLAVIYO_REPORTS: dict[str, ReportRules] = _DEFAULT.reports
"""Klaviyo's reports at the default revision, by name (``flow-values`` is ``POST
/api/flow-values-reports``): their statistics, group-by fields (a flow group_by must include
``flow_id`` and ``flow_message_id``, a campaign one ``campaign_id`` and ``campaign_message_id``;
``form_version_id`` needs ``form_id``; segment reports take none), the groupings results carry
by default, intervals, filter rules, and whether they need a ``conversion_metric_id``. Another
revision's: ``flowql.klaviyo_revisions.REVISIONS[name].reports``."""

KLAVIYO_MESSAGE_STATISTICS = KLAVIYO_REPORTS["flow-values"].statistics
KLAVIYO_FORM_STATISTICS = KLAVIYO_REPORTS["form-values"].statistics
KLAVIYO_SEGMENT_STATISTICS = KLAVIYO_REPORTS["segment-values"].statistics
"""The statistics of Klaviyo's segment reports (flow and campaign reports share
:data:`KLAVIYO_MESSAGE_STATISTICS`, form reports have :data:`KLAVIYO_FORM_STATISTICS`), at the
default revision."""

KLAVIYO_INTERVALS: dict[str, dt.timedelta | None] = {
    name: None if days is None else dt.timedelta(days=days)
    for name, days in KLAVIYO_REPORTS["flow-series"].intervals.items()
}
"""Series intervals and the longest timeframe each takes (None: only the year's limit; weekly),
at the default revision."""


def _tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)  # type: ignore[return-value]  # reported by validation


def plan_revision(checks: Checks, name: object, now: dt.datetime) -> Revision | None:
    """The revision tables a query is checked against (FQ718 for a malformed or unknown name;
    a warning for a retired revision, and for one flowql holds no spec for)."""
    if name is not None and not isinstance(name, str):
        checks.add("FQ718", "revision: a Klaviyo revision is text (YYYY-MM-DD)", field="revision")
        return None
    try:
        revision = resolve_revision(name)
    except RevisionError as exc:
        checks.add("FQ718", f"revision: {exc}", exc.hint, field="revision")
        return None
    if name is not None and name != revision.name:
        checks.add(
            "FQ718",
            f"flowql holds no spec of Klaviyo revision {name}: the query is checked against "
            f"{revision.name}'s rules and sent as {name}",
            f"use {DEFAULT_REVISION} to be checked against the revision sent",
            severity=Severity.WARNING,
            field="revision",
        )
    if revision.retired(now.date()):
        checks.add(
            "FQ718",
            f"Klaviyo retired revision {revision.name} on {revision.retired_on.isoformat()}: "
            "the live API no longer serves it",
            f"use {DEFAULT_REVISION}, the newest revision flowql holds the spec of",
            severity=Severity.WARNING,
            field="revision",
        )
    return revision


def _having(table: str, name: str) -> Callable[[ReportRules], bool]:
    """Whether a report's ``table`` (statistics, group_by) has ``name``."""
    return lambda rules: name in getattr(rules, table)


def _newest_with(report: str, has: Callable[[ReportRules], bool], current: Revision) -> str:
    """ ", which revision X has" for a hint, or "" when no held revision has it."""
    for revision in sorted(REVISIONS.values(), key=lambda r: r.date, reverse=True):
        rules = revision.reports.get(report)
        if revision is not current and rules is not None and has(rules):
            return f"Klaviyo revision {revision.name} has it (--revision {revision.name})"
    return ""


@dataclass(frozen=True)
class KlaviyoReportQuery(QueryBase):
    """A Klaviyo reporting query: ``report`` is one of :data:`KLAVIYO_REPORTS` (``flow-values``,
    ``flow-series``, ``campaign-values``, ``form-values``, ``form-series``, ``segment-values``,
    ``segment-series``).

    ``statistics`` (at least one, each known to the report); a ``timeframe`` key (such as
    ``last_30_days``) or a custom ``start`` and ``end`` of at most one year (Klaviyo reads them
    as wall-clock times in the account's time zone and ignores offsets: each is sent as the wall
    clock it was written with, its own offset or ``tz``); series reports an ``interval``
    (hourly up to 7 days, daily up to 60 days, weekly up to the year, monthly up to 52 weeks);
    flow and campaign reports a ``conversion_metric_id``; ``group_by`` fields of the report;
    ``filter`` compiled for the report family's target. ``revision`` is the Klaviyo API
    revision the query is checked against and sent with (default :data:`KLAVIYO_REVISION`).
    Lists may be given as lists or as comma-separated text.
    """

    report: str
    statistics: Sequence[str] = ()
    timeframe: str | None = None
    start: TimeValue | None = None
    end: TimeValue | None = None
    interval: str | None = None
    conversion_metric_id: str | None = None
    group_by: Sequence[str] = ()
    filter: str | Expr | None = None
    post_filter: bool = False
    tz: str | None = None
    revision: str | None = None

    api = Api.KLAVIYO

    def __post_init__(self) -> None:
        object.__setattr__(self, "statistics", _tuple(self.statistics))
        object.__setattr__(self, "group_by", _tuple(self.group_by))

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        revision = plan_revision(checks, self.revision, now)
        if revision is None:
            return None
        # Messages name the revision when the query chose one.
        at = f" at revision {revision.name}" if self.revision is not None else ""
        spec = revision.reports.get(self.report)
        if spec is None:
            checks.add(
                "FQ701",
                f"unknown Klaviyo report '{self.report}'",
                did_you_mean(self.report, revision.reports) or "use " + ", ".join(revision.reports),
            )
            return None
        if not self.statistics:
            checks.add(
                "FQ712",
                f"the {self.report} report needs at least one statistic",
                "for example " + ", ".join(spec.statistics[:3]),
            )
        seen: set[str] = set()
        for name in self.statistics:
            if name not in spec.statistics:
                checks.add(
                    "FQ712",
                    f"the {self.report} report has no statistic '{name}'{at}",
                    did_you_mean(str(name), spec.statistics)
                    or _newest_with(self.report, _having("statistics", name), revision),
                    field="statistics",
                )
            elif name in seen:
                checks.add(
                    "FQ712",
                    f"the statistic '{name}' is listed twice",
                    severity=Severity.WARNING,
                )
            seen.add(str(name))
        for name in self.group_by:
            if not spec.group_by:
                checks.add(
                    "FQ713",
                    f"the {self.report} report takes no group_by{at}",
                    _newest_with(self.report, lambda r: bool(r.group_by), revision) or None,
                    field="group_by",
                )
                break
            if name not in spec.group_by:
                checks.add(
                    "FQ713",
                    f"the {self.report} report cannot group by '{name}'{at}",
                    did_you_mean(str(name), spec.group_by)
                    or _newest_with(self.report, _having("group_by", name), revision)
                    or "it groups by " + ", ".join(spec.group_by),
                    field="group_by",
                )
        if self.group_by and spec.group_by:
            needed = [n for n in spec.required_group_by if n not in self.group_by]
            needed += [
                needs
                for field_name, needs in spec.prerequisites
                if field_name in self.group_by and needs not in self.group_by
            ]
            if needed:
                checks.add(
                    "FQ713",
                    f"a {self.report} group_by must include " + " and ".join(needed),
                    "add " + ", ".join(needed) + " to group_by, or leave group_by out",
                    field="group_by",
                )
        custom = self.start is not None or self.end is not None
        length: dt.timedelta | None = None
        first: dt.datetime | None = None
        timeframe: dict[str, str] = {}
        if self.timeframe is not None and custom:
            checks.add("FQ702", "give a timeframe key or a custom start and end, not both")
        elif self.timeframe is not None:
            if self.timeframe not in revision.timeframes:
                checks.add(
                    "FQ709",
                    f"unknown timeframe '{self.timeframe}'",
                    did_you_mean(str(self.timeframe), revision.timeframes)
                    or "use " + ", ".join(revision.timeframes),
                    field="timeframe",
                )
            else:
                first, hi = timeframe_range(self.timeframe, now)
                length = hi - first
                timeframe = {"key": self.timeframe}
        elif custom:
            start = checks.time("start", self.start, now, self.tz)
            end = checks.time("end", self.end, now, self.tz)
            if self.start is None or self.end is None:
                checks.add("FQ702", "a custom timeframe needs both start and end")
            if start is not None and end is not None:
                # Klaviyo reads the wall clock in the account's zone: the range it reads runs
                # from wall clock to wall clock, whatever the offsets say.
                try:
                    zones = (written_zone(self.start, self.tz), written_zone(self.end, self.tz))
                except TimeError:
                    zones = (UTC, UTC)  # the tz was reported by checks.time
                texts = (format_wall_clock(start, zones[0]), format_wall_clock(end, zones[1]))
                walls = [_wall(text) for text in texts]
                start, end = walls[0], walls[1]
                if zones[0] != zones[1] and texts[0][19:] != texts[1][19:]:
                    checks.add(
                        "FQ702",
                        f"start and end carry different offsets ({texts[0][19:]} and "
                        f"{texts[1][19:]}); Klaviyo ignores offsets and reads both in the "
                        f"account's time zone, from {texts[0][:19]} to {texts[1][:19]}",
                        "write both times in one zone (or give tz)",
                        severity=Severity.WARNING,
                    )
                timeframe = {"start": texts[0], "end": texts[1]}
            if checks.range(start, end, "the timeframe"):
                assert start is not None
                assert end is not None
                if end > _add_year(start):
                    checks.add(
                        "FQ710",
                        "a Klaviyo report timeframe is at most one year; this one is "
                        f"{(end - start).days} days",
                        "split the range into years",
                    )
                length = end - start
                first = start
        else:
            checks.add(
                "FQ701",
                "a Klaviyo report needs a timeframe",
                "give a timeframe key (last_30_days...) or a custom start and end",
            )
        if spec.data_since is not None and first is not None:
            since = dt.datetime.combine(spec.data_since, dt.time(), tzinfo=UTC)
            if first < since and not checks.timeless:
                checks.add(
                    "FQ703",
                    f"the {self.report} report has no data before {spec.data_since.isoformat()}; "
                    f"this timeframe starts {first.date().isoformat()}",
                    f"start on or after {spec.data_since.isoformat()}",
                    field="start" if custom else "timeframe",
                )
        if spec.series:
            if self.interval is None:
                checks.add(
                    "FQ704",
                    f"the {self.report} report needs an interval",
                    "use " + ", ".join(spec.intervals),
                )
            elif self.interval not in spec.intervals:
                checks.add(
                    "FQ704",
                    f"unknown interval '{self.interval}'",
                    "use " + ", ".join(spec.intervals),
                    field="interval",
                )
            else:
                days = spec.intervals[self.interval]
                longest = None if days is None else dt.timedelta(days=days)
                if longest is not None and length is not None and length > longest:
                    checks.add(
                        "FQ710",
                        f"the {self.interval} interval covers at most {_days(longest)}; this "
                        f"timeframe is {_days(length)}"
                        + (" now" if self.timeframe is not None else ""),
                        "choose a coarser interval or a shorter timeframe",
                    )
        elif self.interval is not None:
            checks.add(
                "FQ701",
                f"the {self.report} report takes no interval",
                f"use {spec.family}-series for a series",
            )
        if spec.conversion and not (
            isinstance(self.conversion_metric_id, str) and self.conversion_metric_id
        ):
            checks.add(
                "FQ711",
                f"the {self.report} report needs a conversion_metric_id",
                "pass the id of the metric conversions count (`flowql query klaviyo metrics` "
                "lists them)",
            )
        source, expr = parse_filter(checks, self.filter)
        records = frozenset(self.group_by or spec.default_group_by)
        plan = plan_filter(
            checks,
            source,
            expr,
            target=f"klaviyo-{spec.family}-report",
            what=f"{self.report} report",
            post_filter=self.post_filter,
            record_keys=records,
            record_hint="group by that field to post-filter on it",
            options={"revision": revision.name},
        )
        if checks.failed:
            return None
        attributes: dict[str, object] = {
            "statistics": list(self.statistics),
            "timeframe": timeframe,
        }
        if spec.series:
            attributes["interval"] = self.interval
        if spec.conversion:
            attributes["conversion_metric_id"] = self.conversion_metric_id
        if plan.compiled is not None and plan.compiled.filter:
            attributes["filter"] = plan.compiled.filter
        if self.group_by:
            attributes["group_by"] = list(self.group_by)
        body = {"data": {"type": spec.type, "attributes": attributes}}
        request = Request(
            "POST",
            spec.path.removeprefix("/api/"),
            body=body,
            limiter="reports",
            headers=_headers(self.revision or revision.name, body=True),
        )
        return Plan(self, (request,), plan)


def _headers(revision: str, *, body: bool = False) -> tuple[tuple[str, str], ...]:
    """A Klaviyo request's headers besides the credentials: the revision, and the JSON:API
    media type the spec gives for answers and bodies."""
    headers = (("revision", revision), ("Accept", JSON_API))
    return (*headers, ("Content-Type", JSON_API)) if body else headers


def _wall(text: str) -> dt.datetime:
    """A wall-clock text (``2026-11-01T00:00:00-05:00``) read as if it were UTC: the time
    Klaviyo reads, for lengths and comparisons."""
    return dt.datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def _add_year(moment: dt.datetime) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def _days(length: dt.timedelta) -> str:
    days = length.total_seconds() / 86400
    return f"{days:g} days" if days != 1 else "1 day"


KLAVIYO_METRICS_ENDPOINTS = ("metrics", "flow-triggers")


@dataclass(frozen=True)
class KlaviyoMetricsQuery(QueryBase):
    """Klaviyo's metrics: ``metrics`` lists them (``GET /api/metrics``, every page; the filter
    takes ``==`` on ``integration.name`` or ``integration.category``), ``flow-triggers`` the
    flows a metric (``metric_id``) triggers."""

    endpoint: str = "metrics"
    metric_id: str | None = None
    filter: str | Expr | None = None
    post_filter: bool = False
    revision: str | None = None

    api = Api.KLAVIYO

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        revision = plan_revision(checks, self.revision, now)
        if revision is None:
            return None
        headers = _headers(self.revision or revision.name)
        if self.endpoint not in KLAVIYO_METRICS_ENDPOINTS:
            checks.add(
                "FQ701",
                f"unknown Klaviyo metrics endpoint '{self.endpoint}'",
                "use metrics or flow-triggers",
            )
            return None
        source, expr = parse_filter(checks, self.filter)
        if self.endpoint == "flow-triggers":
            metric = required_id(
                checks,
                "metric_id",
                self.metric_id,
                hint="name the metric (--metric-id ID): `flowql query klaviyo metrics` lists them",
            )
            plan = plan_filter(
                checks,
                source,
                expr,
                target=None,
                what="flow-triggers endpoint",
                post_filter=self.post_filter,
                record_keys=frozenset({"type", "id"}),
            )
            if checks.failed or metric is None:
                return None
            path = f"metrics/{percent_encode(metric)}/relationships/flow-triggers"
            return Plan(self, (Request("GET", path, headers=headers),), plan)
        if self.metric_id is not None:
            checks.add("FQ701", "the metrics endpoint lists every metric; it takes no metric_id")
        plan = plan_filter(
            checks,
            source,
            expr,
            target="klaviyo-metrics",
            what="metrics endpoint",
            post_filter=self.post_filter,
            record_keys=None,
            options={"revision": revision.name},
        )
        if checks.failed:
            return None
        params = []
        if plan.compiled is not None and plan.compiled.filter:
            params.append(("filter", plan.compiled.filter))
        request = Request("GET", "metrics" + encode_query(params), headers=headers)
        return Plan(self, (request,), plan)
