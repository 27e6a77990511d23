"""The Conviva rules of issue 11, each against the guides: windows that never share a bucket
(whichever way the server treats a range's end), a Sessions ``limit`` that bounds the whole
result, one time format per viewer request, a real-time granularity no longer than its interval,
and times written as the guides' examples write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flowql.ast import Span
from flowql.client import ConvivaFlowClient, ConvivaSessionsClient
from flowql.endpoints import Endpoint
from flowql.query import FlowQuery, QueryError, SessionsQuery
from flowql.results import DimensionalRows, Sessions, TimeSeries, session_record, session_start
from flowql.sandbox import Sandbox, _conviva

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)
HOUR_MS = 3_600_000
SECRET = "sandbox"


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture(params=[False, True], ids=["half-open", "inclusive-end"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(seed=3, now=NOW, rate_limits=False, inclusive_end=request.param) as sb:
        yield sb


def one_request(sb: Sandbox, monkeypatch: pytest.MonkeyPatch, path: str) -> dict[str, Any]:
    """What one request over a range longer than the server's 1-hour cap would answer: the
    cap lifted for this request only."""
    with monkeypatch.context() as patch:
        patch.setattr(_conviva, "FLOW_MAX_SPAN_MS", 24 * HOUR_MS)
        response = httpx.get(sb.conviva_url + path, auth=("one", SECRET), timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- 1. windows that never share a bucket ---------------------------------------------------


def test_the_inclusive_end_option_answers_as_the_guides_example() -> None:
    # The guide's 30-minute example: two points, stamped at the start and at the end, both
    # summed in aggregated_metric_data.
    start, end = ms(NOW - HOUR), ms(NOW - HOUR / 2)
    path = f"/flow-data/metrics/142/{start}_to_{end}"
    with Sandbox(seed=3, now=NOW, rate_limits=False, inclusive_end=True) as sb:
        body = httpx.get(
            sb.conviva_url + path, params={"granularity": "PT30M"}, auth=("c", SECRET)
        ).json()
        sb.inclusive_end = False
        half_open = httpx.get(
            sb.conviva_url + path, params={"granularity": "PT30M"}, auth=("c", SECRET)
        ).json()
        sb.inclusive_end = True
        # The real-time example has five points for PT5M by PT1M: its end is not included.
        live = httpx.get(
            sb.conviva_url + "/flow-data/real-time-metrics/142/PT5M",
            params={"granularity": "PT1M"},
            auth=("c", SECRET),
        ).json()
    stamps = [p["timestamp"]["epoch_ms"] for p in body["time_series"]]
    assert stamps == [start, end]
    assert body["aggregated_metric_data"]["m_142_3"] == sum(
        p["metric_data"]["m_142_3"] for p in body["time_series"]
    )
    assert [p["timestamp"]["epoch_ms"] for p in half_open["time_series"]] == [start]
    assert len(live["time_series"]) == 5


def test_windows_end_inside_their_last_bucket_and_the_last_at_the_range_end() -> None:
    start, end = NOW - 3 * HOUR, NOW - HOUR / 2
    plan = FlowQuery("825", "historical", start=start, end=end).plan(now=NOW)
    edges = [r.path.split("/")[4].split("_to_") for r in plan.requests]
    assert edges == [
        [str(ms(start)), str(ms(start + HOUR) - 1000)],
        [str(ms(start + HOUR)), str(ms(start + 2 * HOUR) - 1000)],
        [str(ms(start + 2 * HOUR)), str(ms(end))],
    ]
    # The windows themselves still tile the range.
    assert [(w.start, w.end) for w in plan.windows] == [
        (start, start + HOUR),
        (start + HOUR, start + 2 * HOUR),
        (start + 2 * HOUR, end),
    ]


def test_a_clamped_window_keeps_its_buckets_on_the_next_windows() -> None:
    start = NOW - dt.timedelta(days=7)
    plan = FlowQuery("825", "historical", start=start, end=start + 2 * HOUR).plan(now=NOW)
    later = NOW + dt.timedelta(seconds=95)
    fresh, note = plan.refresh(plan.requests[0], later)
    assert fresh is not None
    assert note is not None
    assert note.code == "FQ716"
    assert fresh.window is not None
    moved = fresh.window.start - start
    assert moved >= dt.timedelta(seconds=95)
    assert moved % dt.timedelta(minutes=1) == dt.timedelta()


@pytest.mark.parametrize("group_by", [None, "geo_country"])
def test_a_six_hour_range_in_windows_merges_to_what_one_request_gives(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, group_by: str | None
) -> None:
    start, end = NOW - 8 * HOUR, NOW - 2 * HOUR
    with ConvivaFlowClient("c", SECRET, base_url=sandbox.conviva_url, now=lambda: NOW) as flow:
        merged = flow.historical("825", start, end, group_by=group_by)
    assert len(merged.windows) == 6
    path = f"/flow-data/metrics/825/{ms(start)}_to_{ms(end)}"
    one = one_request(sandbox, monkeypatch, path + (f"/group-by/{group_by}" if group_by else ""))
    totals = one["aggregated_metric_data"]
    assert merged.recomputed, "the count metrics are merged"
    assert {k: merged.totals[k] for k in merged.recomputed} == {
        k: totals[k] for k in merged.recomputed
    }
    if group_by is None:
        assert isinstance(merged, TimeSeries)
        stamps = [p.timestamp for p in merged.points]
        assert len(stamps) == len(set(stamps)), "no bucket fetched twice"
        assert [ms(s) for s in stamps if s is not None] == [
            p["timestamp"]["epoch_ms"] for p in one["time_series"]
        ]
    else:
        assert isinstance(merged, DimensionalRows)
        inits: dict[object, int] = {}
        for row in merged.rows:
            count = row.metrics["m_825_3"]
            assert isinstance(count, int)
            inits[row.value] = inits.get(row.value, 0) + count
        expected = {
            d["dimension"]["value"]: d["metric_data"]["m_825_3"]
            for d in one["time_series"][0]["dimensional_data"]
        }
        assert inits == expected


# --- 2. a Sessions limit bounds the whole result ----------------------------------------------


@pytest.fixture(scope="module")
def sessions_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, now=NOW, rate_limits=False) as sb:
        yield sb


def sessions_client(sb: Sandbox) -> ConvivaSessionsClient:
    return ConvivaSessionsClient("c", SECRET, base_url=sb.conviva_url, now=lambda: NOW)


def starts(result: Sessions) -> list[int]:
    return [session_start(s) for s in result.sessions]


def test_a_limit_bounds_the_whole_result_and_stops_the_requests(
    sessions_sandbox: Sandbox,
) -> None:
    sb = sessions_sandbox
    sb.clear_log()
    with sessions_client(sb) as client:
        result = client.content(start_date="-27h", end_date="now", limit=10)
    assert len(result.sessions) == 10  # 90 when the limit applied to each of the 9 windows
    assert len(sb.log) == 1, "the first window had enough"
    assert starts(result) == sorted(starts(result))


def test_a_limit_keeps_the_earliest_sessions_of_the_windows_in_time_order(
    sessions_sandbox: Sandbox,
) -> None:
    sb = sessions_sandbox
    with sessions_client(sb) as client:
        first = client.content(start_date="-27h", end_date="-24h", limit=500)
        sb.clear_log()
        result = client.content(start_date="-27h", end_date="now", limit=100)
    assert 0 < len(first.sessions) < 100, "the first window alone is not enough"
    assert len(result.sessions) == 100
    windows = [entry.query.split("&")[0] for entry in sb.log]
    plan = SessionsQuery(start_date="-27h", end_date="now", limit=100).plan(now=NOW)
    sent = [r.path.split("?")[1].split("&")[0] for r in plan.requests]
    assert 1 < len(windows) < len(sent)
    assert windows == sent[: len(windows)], "the first windows, in time order, and no more"
    assert starts(result)[: len(first.sessions)] == starts(first)
    assert starts(result) == sorted(starts(result))


def test_a_limit_counts_what_the_post_filter_keeps(sessions_sandbox: Sandbox) -> None:
    with sessions_client(sessions_sandbox) as client:
        result = client.content(
            start_date="-27h",
            end_date="now",
            limit=60,
            filter="device_os != 'Android'",
            post_filter=True,
        )
    assert len(result.sessions) == 60
    assert all(session_record(s)["device_os"] != "Android" for s in result.sessions)


# --- 3. one time format per viewer request ----------------------------------------------------


@pytest.mark.parametrize("endpoint", ["viewer", "viewer-summary"])
@pytest.mark.parametrize(
    "edges",
    [
        {"start_date": "-2d", "end_date": "now"},
        {"start_epoch": "1795000000", "end_epoch": "1795100000"},
    ],
)
def test_a_viewer_request_takes_days_or_a_range_not_both(
    endpoint: str, edges: dict[str, str]
) -> None:
    query = SessionsQuery(endpoint, viewer_id="47a28f72", days=3, **edges)  # type: ignore[arg-type]
    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW)
    assert [d.code for d in caught.value.diagnostics] == ["FQ705"]
    assert "days" in caught.value.diagnostics[0].message
    # Either alone is one format: sent as it is.
    for alone in (
        SessionsQuery(endpoint, viewer_id="47a28f72", days=3),
        SessionsQuery(endpoint, viewer_id="47a28f72", **edges),  # type: ignore[arg-type]
    ):
        (request,) = alone.plan(now=NOW).requests
        names = [p.split("=")[0] for p in request.path.split("?")[1].split("&")]
        assert ("days" in names) != any(n.startswith(("start_", "end_")) for n in names)
    with pytest.raises(ValueError, match="one time format"):
        Endpoint.sessions(endpoint, viewer_id="v", days=3, start_date="a", end_date="b")


def test_the_sandbox_refuses_days_with_a_range(sessions_sandbox: Sandbox) -> None:
    response = httpx.get(
        sessions_sandbox.conviva_url + "/insights/3.0/sessions/content/viewer",
        params={"viewer_id": "v", "days": "3", "start_epoch": "1795000000", "end_epoch": "1"},
        auth=("c", SECRET),
    )
    assert response.status_code == 400
    assert "one time format" in response.json()["message"]


# --- 4. a real-time granularity no longer than the interval -----------------------------------


def test_a_granularity_longer_than_the_interval_is_refused_before_sending() -> None:
    query = FlowQuery("825", "real-time", interval="PT5M", granularity="PT10M")
    spans = {"granularity": Span(10, 20, 1, 11, 1, 21), "interval": Span(0, 9, 1, 1, 1, 10)}
    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW, spans=spans)
    (found,) = caught.value.diagnostics
    assert found.code == "FQ704"
    assert found.span == spans["granularity"]
    assert "longer than the interval PT5M" in found.message
    assert found.hint is not None
    assert "at most PT5M" in found.hint
    # As long as the interval, or the interval defaulted to PT15M, is fine.
    FlowQuery("825", "real-time", interval="PT5M", granularity="PT5M").plan(now=NOW)
    FlowQuery("825", "real-time", granularity="PT15M").plan(now=NOW)


def test_the_sandbox_refuses_a_granularity_longer_than_the_interval(
    sessions_sandbox: Sandbox,
) -> None:
    response = httpx.get(
        sessions_sandbox.conviva_url + "/flow-data/real-time-metrics/825/PT5M",
        params={"granularity": "PT10M"},
        auth=("c", SECRET),
    )
    assert response.status_code == 422


# --- 5. times written as the guides write them ------------------------------------------------


def test_sessions_times_are_sent_as_the_guide_writes_them(sessions_sandbox: Sandbox) -> None:
    # The guide: start_date=2022-01-01T04:00:00Z&end_date=2022-01-02T04:00:00Z (ISO 8601 in
    # UTC, whole seconds, a Z, colons as they are) and start_epoch=1641009600 (seconds).
    by_date = SessionsQuery(
        start_date="2026-11-22T06:00:00.750+01:00", end_date="2026-11-22T07:00:00+01:00"
    )
    (request,) = by_date.plan(now=NOW).requests
    assert request.path == (
        "/insights/3.0/sessions/content?start_date=2026-11-22T05:00:00Z"
        "&end_date=2026-11-22T06:00:00Z"
    )
    by_epoch = SessionsQuery(start_epoch="1795327200000", end_epoch="1795330800")
    (request,) = by_epoch.plan(now=NOW).requests
    assert request.path.endswith("?start_epoch=1795327200&end_epoch=1795330800")
    # As they reach the server.
    sb = sessions_sandbox
    sb.clear_log()
    with sessions_client(sb) as client:
        client.query(by_date)
    assert [entry.query for entry in sb.log] == [
        "start_date=2026-11-22T05:00:00Z&end_date=2026-11-22T06:00:00Z"
    ]


def test_flow_times_are_sent_as_the_guide_writes_them() -> None:
    # The guide: /flow-data/metrics/142/1751994600000_to_1751996400000 (epoch milliseconds).
    query = FlowQuery(
        "142", "historical", start="2026-11-22T08:10:00.500+01:00", end="2026-11-22T07:40:00Z"
    )
    (request,) = query.plan(now=NOW).requests
    assert request.path == "/flow-data/metrics/142/1795331400000_to_1795333200000"
