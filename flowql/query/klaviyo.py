"""Klaviyo queries: the reporting endpoints (flow, campaign, form and segment values and
series reports), the metrics list and a metric's flow triggers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flowql.apis import Api
from flowql.diagnostics import Severity, did_you_mean
from flowql.endpoints import encode_query, percent_encode
from flowql.query.plan import (
    UTC,
    Checks,
    Plan,
    QueryBase,
    Request,
    format_time,
    parse_filter,
    plan_filter,
    required_id,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

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
    "KlaviyoMetricsQuery",
    "KlaviyoReportQuery",
    "timeframe_range",
]

KLAVIYO_REVISION = "2024-10-15"
"""The Klaviyo API revision flowql sends (the clients take another)."""


KLAVIYO_TIMEFRAMES = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "last_7_days",
    "this_month",
    "last_month",
    "last_30_days",
    "last_3_months",
    "last_90_days",
    "this_year",
    "last_12_months",
    "last_365_days",
    "last_year",
)
"""The timeframe keys of Klaviyo's reporting API."""


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


KLAVIYO_MESSAGE_STATISTICS = (
    "average_order_value",
    "bounce_rate",
    "bounced",
    "bounced_or_failed",
    "bounced_or_failed_rate",
    "click_rate",
    "click_to_open_rate",
    "clicks",
    "clicks_unique",
    "conversion_rate",
    "conversion_uniques",
    "conversion_value",
    "conversions",
    "delivered",
    "delivery_rate",
    "failed",
    "failed_rate",
    "message_segment_count_sum",
    "open_rate",
    "opens",
    "opens_unique",
    "recipients",
    "revenue_per_recipient",
    "spam_complaint_rate",
    "spam_complaints",
    "text_message_credit_usage_amount",
    "text_message_roi",
    "text_message_spend",
    "unsubscribe_rate",
    "unsubscribe_uniques",
    "unsubscribes",
)
KLAVIYO_FORM_STATISTICS = (
    "closed_form",
    "closed_form_uniques",
    "qualified_form",
    "qualified_form_uniques",
    "submit_rate",
    "submits",
    "submitted_form_step",
    "submitted_form_step_uniques",
    "viewed_form",
    "viewed_form_step",
    "viewed_form_step_uniques",
    "viewed_form_uniques",
)
KLAVIYO_SEGMENT_STATISTICS = (
    "members_added",
    "members_removed",
    "net_members_changed",
    "total_members",
)
"""The statistics of Klaviyo's segment reports (flow and campaign reports share
:data:`KLAVIYO_MESSAGE_STATISTICS`, form reports have :data:`KLAVIYO_FORM_STATISTICS`)."""
_FLOW_GROUP_BY = (
    "flow_id",
    "flow_message_id",
    "flow_message_name",
    "flow_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
)
_CAMPAIGN_GROUP_BY = (
    "campaign_id",
    "campaign_message_id",
    "campaign_message_name",
    "group",
    "group_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
)


@dataclass(frozen=True)
class _Report:
    family: str
    series: bool
    statistics: tuple[str, ...]
    group_by: tuple[str, ...]
    default_groupings: tuple[str, ...]
    conversion: bool
    required_group_by: tuple[str, ...] = ()
    prerequisites: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> str:
        return f"klaviyo-{self.family}-report"


def _flow(series: bool) -> _Report:
    return _Report(
        "flow",
        series,
        KLAVIYO_MESSAGE_STATISTICS,
        _FLOW_GROUP_BY,
        ("flow_id", "flow_message_id", "send_channel"),
        True,
        ("flow_id", "flow_message_id"),
    )


def _form(series: bool) -> _Report:
    return _Report(
        "form",
        series,
        KLAVIYO_FORM_STATISTICS,
        ("form_id", "form_version_id"),
        ("form_id",),
        False,
        prerequisites=(("form_version_id", "form_id"),),
    )


def _segment(series: bool) -> _Report:
    return _Report("segment", series, KLAVIYO_SEGMENT_STATISTICS, (), ("segment_id",), False)


KLAVIYO_REPORTS: dict[str, _Report] = {
    "flow-values": _flow(False),
    "flow-series": _flow(True),
    "campaign-values": _Report(
        "campaign",
        False,
        KLAVIYO_MESSAGE_STATISTICS,
        _CAMPAIGN_GROUP_BY,
        ("campaign_id", "campaign_message_id", "send_channel"),
        True,
        ("campaign_id", "campaign_message_id"),
    ),
    "form-values": _form(False),
    "form-series": _form(True),
    "segment-values": _segment(False),
    "segment-series": _segment(True),
}
"""Klaviyo's reports by name (``flow-values`` is ``POST /api/flow-values-reports/``): their
statistics, group-by fields (a group-by must include ``flow_id`` and ``flow_message_id`` for
flows, ``campaign_id`` and ``campaign_message_id`` for campaigns; ``form_version_id`` needs
``form_id``; segment reports take none), the groupings results carry by default, and whether
they need a ``conversion_metric_id``."""

KLAVIYO_INTERVALS: dict[str, dt.timedelta | None] = {
    "hourly": dt.timedelta(days=7),
    "daily": dt.timedelta(days=60),
    "weekly": dt.timedelta(weeks=52),
    "monthly": dt.timedelta(weeks=52),
}
"""Series intervals and the longest timeframe each takes."""


def _tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)  # type: ignore[return-value]  # reported by validation


@dataclass(frozen=True)
class KlaviyoReportQuery(QueryBase):
    """A Klaviyo reporting query: ``report`` is one of :data:`KLAVIYO_REPORTS` (``flow-values``,
    ``flow-series``, ``campaign-values``, ``form-values``, ``form-series``, ``segment-values``,
    ``segment-series``).

    ``statistics`` (at least one, each known to the report); a ``timeframe`` key (such as
    ``last_30_days``) or a custom ``start`` and ``end`` of at most one year; series reports an
    ``interval`` (hourly up to 7 days, daily up to 60 days, weekly, monthly up to 52 weeks);
    flow and campaign reports a ``conversion_metric_id``; ``group_by`` fields of the report;
    ``filter`` compiled for the report family's target. Lists may be given as lists or as
    comma-separated text.
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

    api = Api.KLAVIYO

    def __post_init__(self) -> None:
        object.__setattr__(self, "statistics", _tuple(self.statistics))
        object.__setattr__(self, "group_by", _tuple(self.group_by))

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        spec = KLAVIYO_REPORTS.get(self.report)
        if spec is None:
            checks.add(
                "FQ701",
                f"unknown Klaviyo report '{self.report}'",
                did_you_mean(self.report, KLAVIYO_REPORTS) or "use " + ", ".join(KLAVIYO_REPORTS),
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
                    f"the {self.report} report has no statistic '{name}'",
                    did_you_mean(str(name), spec.statistics),
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
                checks.add("FQ713", f"the {self.report} report takes no group_by")
                break
            if name not in spec.group_by:
                checks.add(
                    "FQ713",
                    f"the {self.report} report cannot group by '{name}'",
                    did_you_mean(str(name), spec.group_by)
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
                )
        custom = self.start is not None or self.end is not None
        length: dt.timedelta | None = None
        timeframe: dict[str, str] = {}
        if self.timeframe is not None and custom:
            checks.add("FQ702", "give a timeframe key or a custom start and end, not both")
        elif self.timeframe is not None:
            if self.timeframe not in KLAVIYO_TIMEFRAMES:
                checks.add(
                    "FQ709",
                    f"unknown timeframe '{self.timeframe}'",
                    did_you_mean(str(self.timeframe), KLAVIYO_TIMEFRAMES)
                    or "use " + ", ".join(KLAVIYO_TIMEFRAMES),
                    field="timeframe",
                )
            else:
                lo, hi = timeframe_range(self.timeframe, now)
                length = hi - lo
                timeframe = {"key": self.timeframe}
        elif custom:
            start = checks.time("start", self.start, now, self.tz)
            end = checks.time("end", self.end, now, self.tz)
            if self.start is None or self.end is None:
                checks.add("FQ702", "a custom timeframe needs both start and end")
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
                timeframe = {"start": format_time(start), "end": format_time(end)}
        else:
            checks.add(
                "FQ701",
                "a Klaviyo report needs a timeframe",
                "give a timeframe key (last_30_days...) or a custom start and end",
            )
        if spec.series:
            if self.interval is None:
                checks.add(
                    "FQ704",
                    f"the {self.report} report needs an interval",
                    "use " + ", ".join(KLAVIYO_INTERVALS),
                )
            elif self.interval not in KLAVIYO_INTERVALS:
                checks.add(
                    "FQ704",
                    f"unknown interval '{self.interval}'",
                    "use " + ", ".join(KLAVIYO_INTERVALS),
                    field="interval",
                )
            else:
                longest = KLAVIYO_INTERVALS[self.interval]
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
        records = frozenset(self.group_by or spec.default_groupings)
        plan = plan_filter(
            checks,
            source,
            expr,
            target=spec.target,
            what=f"{self.report} report",
            post_filter=self.post_filter,
            record_keys=records,
            record_hint="group by that field to post-filter on it",
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
        body = {"data": {"type": f"{self.report}-report", "attributes": attributes}}
        request = Request("POST", f"{self.report}-reports/", body=body, limiter="reports")
        return Plan(self, (request,), plan)


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
    """Klaviyo's metrics: ``metrics`` lists them (``GET /api/metrics/``, every page; the filter
    takes ``==`` on ``integration.name`` or ``integration.category``), ``flow-triggers`` the
    flows a metric (``metric_id``) triggers."""

    endpoint: str = "metrics"
    metric_id: str | None = None
    filter: str | Expr | None = None
    post_filter: bool = False

    api = Api.KLAVIYO

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:

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
            return Plan(self, (Request("GET", path),), plan)
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
        )
        if checks.failed:
            return None
        params = []
        if plan.compiled is not None and plan.compiled.filter:
            params.append(("filter", plan.compiled.filter))
        return Plan(self, (Request("GET", "metrics/" + encode_query(params)),), plan)
