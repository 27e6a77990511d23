"""Tests for flowql.query: every documented rule a query is checked against (one test per
rule, asserting the code), time parsing, windows, the URL budget and post-filter planning."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from flowql import parse
from flowql.diagnostics import Diagnostic, Severity
from flowql.model import demo_model
from flowql.query import (
    FLOW_WINDOW,
    SESSIONS_WINDOW,
    FlowQuery,
    FlowXOQuery,
    KlaviyoMetricsQuery,
    KlaviyoReportQuery,
    QueryError,
    SessionsQuery,
    Window,
    format_time,
    parse_time,
    split_windows,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found if d.severity is Severity.ERROR]


def errors_of(query: object, **options: object) -> list[str]:
    return codes(query.validate(now=NOW, **options))  # type: ignore[attr-defined]


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T10:00:00Z", dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("2026-11-22T11:00:00+01:00", dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("2026-11-22", dt.datetime(2026, 11, 22, tzinfo=UTC)),
        (1795341600000, dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("1795341600000", dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("1795341600", dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        (1795341600, dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
        ("now", NOW),
        ("-2h", NOW - dt.timedelta(hours=2)),
        ("-2h30m", NOW - dt.timedelta(hours=2, minutes=30)),
        ("-90m", NOW - dt.timedelta(minutes=90)),
        ("-7d", NOW - dt.timedelta(days=7)),
        ("-1w", NOW - dt.timedelta(days=7)),
        (dt.datetime(2026, 11, 22, 10), dt.datetime(2026, 11, 22, 10, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_every_documented_form(value: object, expected: dt.datetime) -> None:
    # Epoch numbers are told apart by size: seconds below 10**11, milliseconds from there on.
    assert parse_time(value, now=NOW) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "-2 fortnights", "", True])
def test_unreadable_times_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(value, now=NOW)  # type: ignore[arg-type]


def test_times_are_formatted_in_utc_with_milliseconds_only_when_present() -> None:
    assert format_time(dt.datetime(2026, 11, 22, 10, tzinfo=UTC)) == "2026-11-22T10:00:00Z"
    moment = dt.datetime(2026, 11, 22, 11, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert format_time(moment) == "2026-11-22T10:00:00.250Z"


def test_windows_cover_the_range_in_order_without_gaps() -> None:
    start = NOW - dt.timedelta(hours=2, minutes=30)
    windows = split_windows(start, NOW, FLOW_WINDOW)
    assert [w.end - w.start for w in windows] == [
        FLOW_WINDOW,
        FLOW_WINDOW,
        dt.timedelta(minutes=30),
    ]
    assert windows[0].start == start
    assert windows[-1].end == NOW
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert str(windows[0]) == "2026-11-22T09:30:00Z/2026-11-22T10:30:00Z"
    # Edges on whole seconds, and never a window shorter than one (a range of 1 h + 0.5 ms is
    # one window, not a second that rounds to nothing).
    assert split_windows(NOW, NOW + FLOW_WINDOW + dt.timedelta(microseconds=500), FLOW_WINDOW) == [
        split_windows(NOW, NOW + FLOW_WINDOW, FLOW_WINDOW)[0]
    ]
    with pytest.raises(ValueError, match="empty"):
        split_windows(NOW, NOW, FLOW_WINDOW)
    with pytest.raises(ValueError, match="longer than zero"):
        split_windows(start, NOW, dt.timedelta(0))


# --- Conviva Flow API -----------------------------------------------------------------------


def test_a_good_flow_query_has_no_diagnostics() -> None:
    query = FlowQuery("825", "historical", start="-3h", end="now", group_by="geo_country")
    assert query.validate(now=NOW, model=demo_model()) == []
    assert FlowQuery("825", "real-time", interval="PT5M", granularity="PT1M").validate() == []


@pytest.mark.parametrize("interval", ["PT0M", "PT16M", "PT1H", "5", "PT05M"])
def test_flow_real_time_interval_is_pt1m_to_pt15m(interval: str) -> None:
    assert errors_of(FlowQuery("825", "real-time", interval=interval)) == ["FQ704"]


def test_flow_real_time_granularity_is_pt1m_to_pt15m() -> None:
    query = FlowQuery("825", "real-time", interval="PT5M", granularity="PT30S")
    assert errors_of(query) == ["FQ704"]


def test_flow_real_time_takes_no_range() -> None:
    assert errors_of(FlowQuery("825", "real-time", start="-1h", end="now")) == ["FQ701"]


def test_flow_historical_start_must_be_before_end() -> None:
    query = FlowQuery("825", "historical", start="now", end="-1h")
    found = query.validate(now=NOW)
    assert codes(found) == ["FQ702"]
    assert "not before the end" in found[0].message


def test_flow_historical_needs_start_and_end() -> None:
    assert errors_of(FlowQuery("825", "historical", start="-1h")) == ["FQ702"]


def test_flow_historical_reaches_back_7_days_at_most() -> None:
    assert errors_of(FlowQuery("825", "historical", start="-8d", end="-7d")) == ["FQ703"]
    assert errors_of(FlowQuery("825", "historical", start="-7d", end="-6d")) == []


def test_flow_historical_takes_no_interval() -> None:
    query = FlowQuery("825", "historical", start="-1h", end="now", interval="PT5M")
    assert errors_of(query) == ["FQ701"]


def test_flow_query_needs_a_flow_id_and_a_known_endpoint() -> None:
    assert errors_of(FlowQuery("", "real-time")) == ["FQ701"]
    assert errors_of(FlowQuery("825", "yesterday")) == ["FQ701"]


def test_flow_group_by_and_flow_are_checked_against_a_model() -> None:
    model = demo_model()
    bad_key = FlowQuery("825", "real-time", group_by="geo_contry")
    found = bad_key.validate(now=NOW, model=model)
    assert codes(found) == ["FQ713"]
    assert found[0].hint == "did you mean 'geo_country'?"
    assert errors_of(FlowQuery("999", "real-time"), model=model) == ["FQ701"]


def test_flow_historical_ranges_are_split_into_hours() -> None:
    query = FlowQuery("825", "historical", start="-150m", end="now")
    plan = query.plan(now=NOW)
    assert [str(w) for w in plan.windows] == [
        "2026-11-22T09:30:00Z/2026-11-22T10:30:00Z",
        "2026-11-22T10:30:00Z/2026-11-22T11:30:00Z",
        "2026-11-22T11:30:00Z/2026-11-22T12:00:00Z",
    ]
    # A window ends a second before the next starts (inside its last bucket), the last one
    # where the range does.
    assert plan.requests[0].path == "/flow-data/metrics/825/1795339800000_to_1795343399000"
    assert plan.requests[2].path == "/flow-data/metrics/825/1795347000000_to_1795348800000"


def test_flow_filter_is_compiled_into_the_request() -> None:
    query = FlowQuery(
        "825", "real-time", interval="PT5M", filter="geo_country IN ('Spain', 'France')"
    )
    (request,) = query.plan(now=NOW).requests
    assert request.path == (
        "/flow-data/real-time-metrics/825/PT5M?filter=geo_country%20%3D%3D%20%27Spain%27%20OR"
        "%20geo_country%20%3D%3D%20%27France%27"
    )


def test_a_filter_that_does_not_parse_fails_with_its_own_code_and_span() -> None:
    query = FlowQuery("825", "real-time", filter="geo_country = 'Spain'")
    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW)
    assert caught.value.code == "FQ006"
    assert caught.value.source == "geo_country = 'Spain'"
    assert "^" in caught.value.render("<filter>")


def test_every_problem_is_reported_not_only_the_first() -> None:
    query = FlowQuery("", "real-time", interval="PT99M", start="-1h", filter="a = 'b'")
    assert sorted(errors_of(query)) == ["FQ006", "FQ701", "FQ701", "FQ704"]


# --- URL budget ---------------------------------------------------------------------------


def _long_filter(values: int) -> str:
    return "geo_city IN (" + ", ".join(f"'City number {i}'" for i in range(values)) + ")"


def test_the_url_budget_refuses_a_url_over_4096_characters() -> None:
    query = FlowQuery("825", "real-time", filter=_long_filter(200))
    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW)
    assert caught.value.code == "FQ501"
    assert caught.value.span is not None


def test_the_url_budget_warns_near_the_limit_and_the_limit_can_be_raised() -> None:
    near = FlowQuery("825", "real-time", filter=_long_filter(200), url_limit=20_000)
    plan = near.plan(now=NOW)
    assert [w.code for w in plan.warnings] == []
    length = len("https://api.conviva.com" + plan.requests[0].path)
    close = FlowQuery("825", "real-time", filter=_long_filter(200), url_limit=length + 10)
    assert [w.code for w in close.plan(now=NOW).warnings] == ["FQ502"]


def test_the_url_budget_counts_sessions_parameters() -> None:
    values = ", ".join(f"'Device {i:04d}'" for i in range(300))
    query = SessionsQuery(filter=f"device_name IN ({values})")
    assert errors_of(query) == ["FQ501"]


# --- Conviva Sessions V3 -------------------------------------------------------------------


def test_sessions_take_one_time_format_per_request() -> None:
    query = SessionsQuery(start_date="-1h", end_date="now", start_epoch="-1h", end_epoch="now")
    assert errors_of(query) == ["FQ705"]


def test_sessions_time_pairs_are_whole() -> None:
    assert errors_of(SessionsQuery(start_date="-1h")) == ["FQ702"]


@pytest.mark.parametrize("limit", [0, 501, -3])
def test_sessions_limit_is_1_to_500(limit: int) -> None:
    assert errors_of(SessionsQuery(limit=limit)) == ["FQ706"]


def test_sessions_limit_cap_can_be_raised() -> None:
    assert errors_of(SessionsQuery(limit=1500, max_limit=1500)) == []


def test_sessions_viewer_id_xor_viewer_ip() -> None:
    assert errors_of(SessionsQuery("viewer", viewer_id="v", viewer_ip="1.2.3.4")) == ["FQ707"]
    assert errors_of(SessionsQuery("viewer-summary")) == ["FQ707"]
    assert errors_of(SessionsQuery("viewer-summary", viewer_ip="1.2.3.4", days=3)) == []


def test_sessions_filter_id_xor_dimension_filters() -> None:
    query = SessionsQuery(filter_id=9876543210, filter="device_os == 'Android'")
    found = query.validate(now=NOW)
    assert codes(found) == ["FQ708"]
    assert found[0].span is not None


def test_sessions_content_starts_within_31_days() -> None:
    assert errors_of(SessionsQuery(start_date="-32d", end_date="-31d")) == ["FQ703"]


def test_sessions_viewer_fields_belong_to_viewer_endpoints() -> None:
    assert errors_of(SessionsQuery("content", viewer_id="v")) == ["FQ701"]


def test_sessions_ranges_are_split_into_3_hours_keeping_the_format() -> None:
    query = SessionsQuery(start_epoch="-7h", end_epoch="now", limit=10, filter_id=7)
    plan = query.plan(now=NOW)
    assert [w.end - w.start for w in plan.windows] == [SESSIONS_WINDOW] * 2 + [
        dt.timedelta(hours=1)
    ]
    assert plan.requests[0].path == (
        "/insights/3.0/sessions/content?start_epoch=1795323600&end_epoch=1795334400"
        "&limit=10&filter_id=7"
    )
    dated = SessionsQuery("ad", start_date="2026-11-22T10:00:00Z", end_date="now").plan(now=NOW)
    assert dated.requests[0].path == (
        "/insights/3.0/sessions/ad?start_date=2026-11-22T10:00:00Z&end_date=2026-11-22T12:00:00Z"
    )


def test_a_filter_sessions_cannot_express_fails_without_post_filter() -> None:
    query = SessionsQuery(filter="device_os == 'Android' AND geo_city_name ~~ 'Los'")
    found = query.validate(now=NOW)
    assert codes(found) == ["FQ714", "FQ601"]
    assert "post_filter=True" in (found[0].hint or "")


def test_post_filter_sends_what_the_api_takes_and_keeps_the_rest() -> None:
    query = SessionsQuery(
        filter="device_os == 'Android' AND geo_city_name ~~ 'Los' AND is_ended == true",
        post_filter=True,
    )
    plan = query.plan(now=NOW)
    assert plan.filter.sent_text == "device_os == 'Android' AND is_ended == true"
    assert plan.filter.local_text == "geo_city_name ~~ 'Los'"
    assert plan.requests[0].path.endswith("?device_os=Android&is_ended=true")


def test_post_filter_sends_nothing_when_no_and_part_is_expressible() -> None:
    query = SessionsQuery(filter="device_os != 'Android' OR isp == 'X'", post_filter=True)
    plan = query.plan(now=NOW)
    assert plan.filter.sent is None
    assert plan.filter.local_text == "device_os != 'Android' OR isp == 'X'"
    assert plan.requests[0].path == "/insights/3.0/sessions/content"


def test_viewer_endpoints_take_no_filter_except_as_a_post_filter() -> None:
    refused = SessionsQuery("viewer", viewer_id="v", filter="device_os == 'iOS'")
    assert errors_of(refused) == ["FQ714"]
    allowed = SessionsQuery("viewer", viewer_id="v", filter="device_os == 'iOS'", post_filter=True)
    assert allowed.plan(now=NOW).filter.local_text == "device_os == 'iOS'"


def test_flow_post_filter_needs_the_key_in_the_records() -> None:
    # A number is refused by the Flow target, so that part stays local.
    blocked = FlowQuery("825", "real-time", filter="asn == 701", post_filter=True)
    assert errors_of(blocked) == ["FQ715"]
    grouped = FlowQuery("825", "real-time", group_by="asn", filter="asn == 701", post_filter=True)
    plan = grouped.plan(now=NOW)
    assert plan.filter.sent is None
    assert plan.filter.local_text == "asn == 701"


# --- Klaviyo -------------------------------------------------------------------------------


def report(**fields: object) -> KlaviyoReportQuery:
    defaults: dict[str, object] = {
        "statistics": ("clicks", "opens"),
        "timeframe": "last_30_days",
        "conversion_metric_id": "REcTBe",
    }
    defaults.update(fields)
    name = str(defaults.pop("report", "flow-values"))
    return KlaviyoReportQuery(name, **defaults)  # type: ignore[arg-type]


def test_a_good_report_query_plans_the_documented_body() -> None:
    query = report(filter="flow_id == 'T7K2j8'", group_by="flow_id,flow_message_id,send_channel")
    (request,) = query.plan(now=NOW).requests
    assert (request.method, request.path, request.limiter) == (
        "POST",
        "flow-values-reports",
        "reports",
    )
    assert request.body == {
        "data": {
            "type": "flow-values-report",
            "attributes": {
                "statistics": ["clicks", "opens"],
                "timeframe": {"key": "last_30_days"},
                "conversion_metric_id": "REcTBe",
                "filter": 'equals(flow_id,"T7K2j8")',
                "group_by": ["flow_id", "flow_message_id", "send_channel"],
            },
        }
    }


def test_klaviyo_timeframe_keys_are_known() -> None:
    found = report(timeframe="last_31_days").validate(now=NOW)
    assert codes(found) == ["FQ709"]
    assert found[0].hint == "did you mean 'last_30_days'?"


def test_klaviyo_custom_timeframes_are_at_most_a_year() -> None:
    too_long = report(timeframe=None, start="2025-01-01", end="2026-01-02")
    assert errors_of(too_long) == ["FQ710"]
    year = report(timeframe=None, start="2025-01-01", end="2026-01-01")
    assert errors_of(year) == []
    assert year.plan(now=NOW).requests[0].body["data"]["attributes"]["timeframe"] == {  # type: ignore[index]
        "start": "2025-01-01T00:00:00+00:00",
        "end": "2026-01-01T00:00:00+00:00",
    }


def test_klaviyo_timeframe_is_a_key_or_a_custom_range() -> None:
    assert errors_of(report(timeframe=None)) == ["FQ701"]
    assert errors_of(report(start="-2d", end="now")) == ["FQ702"]


@pytest.mark.parametrize(
    ("interval", "timeframe", "expected"),
    [
        ("hourly", "last_7_days", []),
        ("hourly", "last_30_days", ["FQ710"]),
        ("daily", "last_30_days", []),
        ("daily", "last_90_days", ["FQ710"]),
        ("weekly", "last_90_days", []),
        # The spec limits hourly, daily and monthly only: weekly runs to the year's limit.
        ("weekly", "last_365_days", []),
        ("weekly", "last_12_months", []),
        ("hourly", "this_week", []),
        ("hourly", "this_month", ["FQ710"]),
        ("daily", "this_year", ["FQ710"]),
        ("monthly", "last_90_days", []),
        ("monthly", "last_365_days", ["FQ710"]),
        ("fortnightly", "last_30_days", ["FQ704"]),
        (None, "last_30_days", ["FQ704"]),
    ],
)
def test_klaviyo_series_interval_limits(
    interval: str | None, timeframe: str, expected: list[str]
) -> None:
    assert (
        errors_of(report(report="flow-series", interval=interval, timeframe=timeframe)) == expected
    )


def test_klaviyo_timeframe_keys_cover_calendar_ranges() -> None:
    from flowql.query import timeframe_range

    assert timeframe_range("this_month", NOW) == (dt.datetime(2026, 11, 1, tzinfo=UTC), NOW)
    assert timeframe_range("last_month", NOW) == (
        dt.datetime(2026, 10, 1, tzinfo=UTC),
        dt.datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert timeframe_range("this_week", NOW)[0] == dt.datetime(2026, 11, 16, tzinfo=UTC)
    january = dt.datetime(2026, 1, 15, tzinfo=UTC)
    assert timeframe_range("last_3_months", january)[0] == dt.datetime(2025, 10, 1, tzinfo=UTC)
    assert timeframe_range("last_30_days", NOW)[1] == dt.datetime(2026, 11, 22, tzinfo=UTC)


def test_klaviyo_values_reports_take_no_interval() -> None:
    assert errors_of(report(interval="daily")) == ["FQ701"]


def test_klaviyo_conversion_metric_is_required_where_documented() -> None:
    assert errors_of(report(conversion_metric_id=None)) == ["FQ711"]
    assert errors_of(report(report="campaign-values", conversion_metric_id=None)) == ["FQ711"]
    form = report(report="form-values", statistics="viewed_form", conversion_metric_id=None)
    assert errors_of(form) == []


def test_klaviyo_statistics_are_known_to_the_report() -> None:
    assert errors_of(report(statistics=("clicks", "clicksunique"))) == ["FQ712"]
    assert errors_of(report(statistics=())) == ["FQ712"]
    segment = report(report="segment-series", statistics="clicks", interval="daily")
    assert errors_of(segment) == ["FQ712"]


def test_klaviyo_group_by_fields_are_known() -> None:
    assert errors_of(report(group_by=("flow_id", "flow_message_id", "campaign_id"))) == ["FQ713"]


def test_klaviyo_group_by_includes_what_the_report_requires() -> None:
    found = report(group_by="flow_id,send_channel").validate(now=NOW)
    assert codes(found) == ["FQ713"]
    assert found[0].message == "a flow-values group_by must include flow_message_id"
    campaign = report(report="campaign-values", group_by="send_channel")
    assert errors_of(campaign) == ["FQ713"]
    form = report(report="form-values", statistics="submits", group_by="form_version_id")
    assert errors_of(form) == ["FQ713"]
    segment = report(report="segment-values", statistics="total_members", group_by="segment_id")
    assert errors_of(segment) == ["FQ713"]


def test_klaviyo_report_filter_is_checked_by_the_family_target() -> None:
    assert errors_of(report(filter="flow_id != 'x'")) == ["FQ714", "FQ601"]


def test_klaviyo_post_filter_keys_must_be_groupings() -> None:
    query = report(filter="flow_name ~~ 'Welcome'", post_filter=True)
    assert errors_of(query) == ["FQ715"]
    grouped = report(
        filter="flow_name ~~ 'Welcome'",
        post_filter=True,
        group_by="flow_id,flow_message_id,flow_name",
    )
    assert grouped.plan(now=NOW).filter.local_text == "flow_name ~~ 'Welcome'"


def test_klaviyo_metrics_filter_and_flow_triggers() -> None:
    plan = KlaviyoMetricsQuery(filter="integration.name == 'Shopify'").plan(now=NOW)
    assert plan.requests[0].path == ("metrics?filter=equals%28integration.name%2C%22Shopify%22%29")
    assert errors_of(KlaviyoMetricsQuery("flow-triggers")) == ["FQ701"]
    triggers = KlaviyoMetricsQuery("flow-triggers", metric_id="RE cT").plan(now=NOW)
    assert triggers.requests[0].path == "metrics/RE%20cT/relationships/flow-triggers"


# --- Flow XO -------------------------------------------------------------------------------


def test_flowxo_parameters_are_sent_as_documented() -> None:
    query = FlowXOQuery("insights", "2021-10-01", "2021-11-30", unit="month", offset=0)
    assert query.plan(now=NOW).requests[0].path == (
        "insights?offset=0&start=2021-10-01&end=2021-11-30&unit=month"
    )


def test_flowxo_rules() -> None:
    assert errors_of(FlowXOQuery("insights", unit="week")) == ["FQ704"]
    assert errors_of(FlowXOQuery("top-flows", limit=0)) == ["FQ706"]
    assert errors_of(FlowXOQuery("insights", "2021-11-30", "2021-10-01")) == ["FQ702"]
    assert errors_of(FlowXOQuery("insights", offset=2000)) == ["FQ701"]
    assert errors_of(FlowXOQuery("top-messages", unit="day")) == ["FQ701"]


def test_flowxo_filters_are_always_local_on_known_record_keys() -> None:
    plan = FlowXOQuery("top-flows", filter="flow_name ~~ 'Text'").plan(now=NOW)
    assert plan.filter.local_text == "flow_name ~~ 'Text'"
    assert plan.filter.sent is None
    assert errors_of(FlowXOQuery("top-flows", filter="geo_country == 'x'")) == ["FQ715"]


# --- values --------------------------------------------------------------------------------


def test_queries_are_frozen_hashable_values() -> None:
    a = FlowQuery("825", "real-time", filter="geo_country == 'Spain'")
    b = FlowQuery("825", "real-time", filter="geo_country == 'Spain'")
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.flow_id = "142"  # type: ignore[misc]
    assert report(statistics=["clicks"]).statistics == ("clicks",)
    assert FlowQuery("825", filter=parse("a == 'b'")) == FlowQuery("825", filter=parse("a == 'b'"))


def test_window_values() -> None:
    window = Window(NOW - dt.timedelta(hours=1), NOW)
    assert window.to_dict() == {"start": "2026-11-22T11:00:00Z", "end": "2026-11-22T12:00:00Z"}


# --- the rule page quotes real diagnostics ----------------------------------------------------

RULES = Path(__file__).resolve().parent.parent / "docs" / "rules"
PAGE_EXAMPLES: list[object] = [
    FlowQuery("", "real-time"),
    FlowQuery("825", "historical", start="2026-11-22T12:00:00Z", end="2026-11-22T11:00:00Z"),
    FlowQuery("825", "historical", start="2026-11-14T00:00:00Z", end="2026-11-14T01:00:00Z"),
    FlowQuery("825", "real-time", interval="PT20M"),
    FlowQuery("825", "real-time", interval="PT5M", granularity="PT10M"),
    SessionsQuery("viewer", viewer_id="47a28f72", days=3, start_date="-2d", end_date="now"),
    SessionsQuery(limit=1000),
    SessionsQuery("viewer-summary", viewer_id="47a28f72", viewer_ip="11.22.33.44"),
    SessionsQuery(filter_id=9876543210, filter="device_os == 'Android'"),
    KlaviyoReportQuery(
        "flow-values", statistics="clicks", timeframe="last_31_days", conversion_metric_id="R"
    ),
    KlaviyoReportQuery("flow-values", statistics="clicks", timeframe="last_30_days"),
    SessionsQuery(filter="device_os == 'Android' AND geo_city_name ~~ 'Los'"),
    FlowQuery("825", "real-time", filter="asn == 701", post_filter=True),
]


@pytest.mark.parametrize("query", PAGE_EXAMPLES)
def test_the_rule_page_quotes_real_diagnostics(query: object) -> None:
    from flowql.cli.query import Origin

    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW)  # type: ignore[attr-defined]
    source = getattr(query, "filter", None)
    origin = Origin("<query>", None, {}, source if isinstance(source, str) else None)
    shown = origin.render_all(caught.value.diagnostics)
    page = (RULES / "queries.md").read_text("utf-8")
    # The page shows `flowql query` output, which frames the option a diagnostic is about:
    # each diagnostic's message, and for the filter's its frame, are quoted as they are.
    for line in shown.splitlines():
        if line.startswith(("error[", "warning[")) or "<filter>" in line:
            assert line in page, line


def test_the_rule_page_covers_every_query_code() -> None:
    from flowql.codes import CODES

    page = (RULES / "queries.md").read_text("utf-8")
    index = (RULES / "README.md").read_text("utf-8")
    assert "| FQ7xx | queries and requests |" in index
    assert "(queries.md)" in index
    for code in CODES.values():
        if code.code.startswith("FQ7"):
            assert f"\n## {code.code} {code.name}\n" in page, code.code
            anchor = f"#{code.code.lower()}-{code.name}"
            assert f"| [{code.code}]({anchor}) | {code.name} | {code.severity} |" in page
