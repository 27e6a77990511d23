"""End-to-end against the sandbox, endpoint by endpoint: every endpoint each client speaks, each
documented error status as the server sends it (mapped to its typed exception), 429 storms, and
a search of everything flowql prints, logs, raises or saves for the secret.

The clients check queries before sending them, so the errors below are provoked the ways a real
account meets them: a flow id the account does not have (404), a clock that disagrees with the
server's (422), a URL budget raised past the server's limit (414), a server that fails or
limits (fault injection)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowql.cli import main
from flowql.client import (
    APIError,
    BadRequest,
    ConvivaFlowClient,
    ConvivaSessionsClient,
    FlowXOClient,
    KlaviyoClient,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    Unprocessable,
    URITooLong,
)
from flowql.errors import FlowQLError
from flowql.model import demo_model
from flowql.query import FlowQuery
from flowql.results import DimensionalRows, ReportRows, Rows, Sessions, TimeSeries, ViewerSummary
from flowql.sandbox import Sandbox

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, max_retry_time=10.0)
# A secret no test data contains: every API of the sandbox accepts this one instead of 'sandbox'.
SECRET = "s3cr3t-Zq8vW2-do-not-print"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, now=NOW, rate_limits=False, secret=SECRET) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.clear_log()
    sandbox.faults.clear()
    yield sandbox
    sandbox.faults.clear()


def flow(sb: Sandbox, now: dt.datetime = NOW, **options: object) -> ConvivaFlowClient:
    options.setdefault("retry", FAST)
    options.setdefault("labels", False)  # these tests count requests: no data model fetch
    return ConvivaFlowClient("e2e", SECRET, base_url=sb.conviva_url, now=lambda: now, **options)


def sessions(sb: Sandbox) -> ConvivaSessionsClient:
    return ConvivaSessionsClient("e2e", SECRET, base_url=sb.conviva_url, now=lambda: NOW)


def klaviyo(sb: Sandbox, **options: object) -> KlaviyoClient:
    # The reports' real limit (2 a minute) would make this file take minutes; the limiter is
    # tested against the sandbox's, scaled down, below.
    options.setdefault("rate_limits", {"reports": ((100, 1.0),)})
    return KlaviyoClient(SECRET, base_url=sb.klaviyo_url, now=lambda: NOW, retry=FAST, **options)


def flowxo(sb: Sandbox) -> FlowXOClient:
    return FlowXOClient(SECRET, base_url=sb.flowxo_url, now=lambda: NOW)


# --- every endpoint ------------------------------------------------------------------------------


def test_conviva_flow_endpoints(sb: Sandbox) -> None:
    with flow(sb) as client:
        model = client.data_model()
        real_time = client.real_time("142", "PT10M", granularity="PT1M")
        grouped = client.real_time("142", "PT5M", group_by="cdn")
        historical = client.historical("825", "-1h", "now", group_by="geo_city")
    assert set(model.flows) == {"825", "142"}
    assert isinstance(real_time, TimeSeries)
    assert len(real_time.points) == 10
    assert isinstance(grouped, DimensionalRows)
    assert grouped.dimension == "cdn"
    assert all(r["cdn"] for r in grouped.to_records())
    assert isinstance(historical, DimensionalRows)
    assert historical.to_records()
    paths = [r.path for r in sb.log]
    assert paths[0].startswith("/flow-data/metadata/")
    assert any(p.startswith("/flow-data/real-time-metrics/142/PT10M") for p in paths)
    assert any(p.endswith("/group-by/cdn") for p in paths)
    assert any(p.startswith("/flow-data/metrics/825/") for p in paths)


def test_conviva_sessions_endpoints(sb: Sandbox) -> None:
    with sessions(sb) as client:
        dimensions = client.dimensions()
        content = client.content(
            start_epoch="-3h", end_epoch="now", limit=20, filter="device_os == 'Android'"
        )
        ad = client.ad(start_date="-2h", end_date="now", limit=5)
        viewer_id = next(str(r["viewer_id"]) for r in content.to_records() if r.get("viewer_id"))
        viewer = client.viewer(viewer_id=viewer_id, days=7)
        summary = client.viewer_summary(viewer_id=viewer_id, days=7)
    assert "device_os" in dimensions.dimensions()
    assert isinstance(content, Sessions)
    assert 0 < len(content.to_records()) <= 20
    assert all(r["device_os"] == "Android" for r in content.to_records())
    assert isinstance(ad, Sessions)
    assert isinstance(viewer, Sessions)
    assert viewer.to_records()
    assert all(str(r["viewer_id"]) == viewer_id for r in viewer.to_records())
    assert isinstance(summary, ViewerSummary)
    paths = {r.path.rstrip("/") for r in sb.log}
    for path in (
        "/insights/3.0/sessions/_meta/references/dimensions",
        "/insights/3.0/sessions/content",
        "/insights/3.0/sessions/ad",
        "/insights/3.0/sessions/content/viewer",
        "/insights/3.0/sessions/content/viewer/summary",
    ):
        assert path in paths, path


REPORTS: list[tuple[str, dict[str, object]]] = [
    ("flow-values", {"statistics": ["opens", "clicks"], "conversion_metric_id": True}),
    (
        "flow-series",
        {"statistics": ["recipients"], "conversion_metric_id": True, "interval": "daily"},
    ),
    ("campaign-values", {"statistics": ["delivered"], "conversion_metric_id": True}),
    ("form-values", {"statistics": ["submits", "viewed_form"]}),
    ("form-series", {"statistics": ["submit_rate"], "interval": "weekly"}),
    ("segment-values", {"statistics": ["total_members"]}),
    ("segment-series", {"statistics": ["members_added"], "interval": "monthly"}),
]


def test_klaviyo_endpoints(sb: Sandbox) -> None:
    with klaviyo(sb) as client:
        metrics = client.metrics(filter="integration.name == 'Klaviyo'")
        metric_id = str(metrics.to_records()[0]["id"])
        triggers = client.flow_triggers(metric_id)
        reports = {}
        for name, fields in REPORTS:
            options: dict[str, object] = dict(fields)
            if options.pop("conversion_metric_id", False):
                options["conversion_metric_id"] = metric_id
            reports[name] = client.report(name, timeframe="last_30_days", **options)
    assert isinstance(metrics, Rows)
    assert all(r["integration.name"] == "Klaviyo" for r in metrics.to_records())
    assert isinstance(triggers, Rows)
    for name, result in reports.items():
        assert isinstance(result, ReportRows), name
        assert result.to_records(), name
    posted = {r.path for r in sb.log if r.method == "POST"}
    assert posted == {f"/api/{name}-reports" for name, _ in REPORTS}


def test_flowxo_endpoints(sb: Sandbox) -> None:
    with flowxo(sb) as client:
        insights = client.insights("2026-11-20", "2026-11-22T00:00:00Z", unit="hour")
        messages = client.top_messages(limit=3)
        flows = client.top_flows(limit=5, filter="count != 0")
    assert isinstance(insights, TimeSeries)
    assert len(insights.points) == 48
    assert 0 < len(messages) <= 3
    assert 0 < len(flows) <= 5
    assert {r.path for r in sb.log} == {
        "/api/insights",
        "/api/insights/top_messages",
        "/api/insights/top_flows",
    }


def test_the_client_keeps_to_the_servers_report_limits(sb: Sandbox) -> None:
    # Klaviyo's 1 a second and 2 a minute, scaled down 5 and 30 times, on both sides.
    limits = ((1, 0.2), (2, 2.0))
    sb.set_rate_limit("klaviyo-reports", limits)
    try:
        with klaviyo(sb, rate_limits={"reports": limits}) as client:
            for _ in range(4):
                client.report("segment-values", statistics=["total_members"], timeframe="today")
    finally:
        sb.set_rate_limit("klaviyo-reports", False)
    posts = [r for r in sb.log if r.method == "POST"]
    assert [r.status for r in posts] == [200, 200, 200, 200]  # never a 429
    times = [r.time for r in posts]
    assert times[1] - times[0] >= 0.2
    assert times[2] - times[0] >= 2.0
    assert times[3] - times[1] >= 2.0


# --- each documented error, from the server ------------------------------------------------------


def test_404_for_a_flow_the_account_does_not_have(sb: Sandbox) -> None:
    with flow(sb) as client, pytest.raises(NotFound) as caught:
        client.real_time("31337")
    error = caught.value
    assert error.status == 404
    assert "31337" in error.server_message
    assert error.code == "FQ724"
    assert [r.status for r in sb.log] == [404]


def test_422_when_the_clocks_disagree(sb: Sandbox) -> None:
    # The client thinks it is 8 days earlier than the server does: a range it finds recent is
    # older than the 7 days the server keeps.
    early = NOW - dt.timedelta(days=8)
    with flow(sb, now=early) as client, pytest.raises(Unprocessable) as caught:
        client.historical("825", "-1h", "now", group_by="geo_country")
    assert caught.value.status == 422
    assert caught.value.server_message
    assert [r.status for r in sb.log] == [422]


def test_414_when_the_budget_is_raised_past_the_server_limit(sb: Sandbox) -> None:
    cities = ", ".join(f"'City number {i}'" for i in range(300))
    query = FlowQuery(
        "825", "real-time", interval="PT5M", filter=f"geo_city IN ({cities})", url_limit=100_000
    )
    with flow(sb) as client, pytest.raises(URITooLong) as caught:
        client.query(query)
    assert caught.value.status == 414
    assert [r.status for r in sb.log] == [414]


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, BadRequest), (401, Unauthorized), (403, Unauthorized), (404, NotFound)],
)
def test_4xx_are_not_retried(sb: Sandbox, status: int, kind: type[APIError]) -> None:
    sb.faults.fail_next(3, status=status, api="klaviyo")
    with klaviyo(sb) as client, pytest.raises(kind) as caught:
        client.metrics()
    assert caught.value.status == status
    assert caught.value.attempts == 1
    assert len(sb.log) == 1
    assert caught.value.request is not None
    assert caught.value.request.url.startswith(sb.klaviyo_url)


def test_a_429_storm_is_ridden_out(sb: Sandbox) -> None:
    sb.faults.fail_next(4, status=429, api="conviva", retry_after=0)
    with flow(sb, retry=RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)) as c:
        result = c.real_time("825", "PT3M", granularity="PT1M")
    assert isinstance(result, TimeSeries)
    assert [r.status for r in sb.log] == [429, 429, 429, 429, 200]


def test_a_429_storm_that_outlasts_the_attempts_is_bounded(sb: Sandbox) -> None:
    sb.faults.fail_next(50, status=429, api="conviva", retry_after=0)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
    with flow(sb, retry=policy) as client, pytest.raises(RateLimited) as caught:
        client.real_time("825")
    assert caught.value.attempts == 3
    assert [r.status for r in sb.log] == [429, 429, 429]


def test_retry_after_is_honoured_between_attempts(sb: Sandbox) -> None:
    sb.faults.fail_next(1, status=429, api="flowxo", retry_after=1)
    began = time.monotonic()
    with flowxo(sb) as client:
        client.top_messages(limit=1)
    took = time.monotonic() - began
    statuses = [r.status for r in sb.log]
    assert statuses == [429, 200]
    gap = sb.log[1].time - sb.log[0].time
    assert gap >= 1.0, gap  # the server said one second, and the client waited at least that
    assert took >= 1.0


def test_a_5xx_storm_on_one_window_keeps_the_others(sb: Sandbox) -> None:
    from flowql.client import PartialResultError

    sb.faults.fail_next(5, status=503, api="conviva")
    policy = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)
    client = flow(sb, model=demo_model(), max_concurrency=1, retry=policy)
    with client, pytest.raises(PartialResultError) as caught:
        client.historical("825", "-3h", "now")
    error = caught.value
    assert len(error.missing) == 1
    assert len(error.result.windows) == 2
    assert error.result.to_records()


# --- the secret is never shown --------------------------------------------------------------------


def test_the_secret_appears_nowhere(
    sb: Sandbox,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    # Clients, results and exports.
    with flow(sb) as client:
        seen.append(repr(client))
        result = client.historical("825", "-1h", "now", group_by="geo_country")
        seen += [repr(result), result.to_json(), result.to_csv()]
        (tmp_path / "out.json").write_text(result.to_json(), "utf-8")
    for make in (sessions, klaviyo, flowxo):
        with make(sb) as other:
            seen.append(repr(other))
    # Errors: retried, refused, partial, dropped.
    sb.faults.fail_next(2, status=503, api="conviva")
    sb.faults.drop_next(1, api="conviva")
    with flow(sb) as client:
        client.real_time("825")
        for flow_id in ("31337", "x y"):
            with pytest.raises(FlowQLError) as caught:
                client.real_time(flow_id)
            seen += [str(caught.value), repr(caught.value), caught.value.render()]
            seen += [repr(d) for d in caught.value.diagnostics]
    wrong = ConvivaFlowClient("e2e", SECRET + "-wrong", base_url=sb.conviva_url, retry=FAST)
    with wrong, pytest.raises(Unauthorized) as refused:
        wrong.real_time("825")
    seen += [str(refused.value), repr(refused.value), refused.value.render()]
    # The command line, with the secret in the environment.
    monkeypatch.setenv("CONVIVA_CLIENT_ID", "e2e")
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("KLAVIYO_API_KEY", SECRET)
    for argv in (
        ["query", "conviva-flow", "real-time", "--flow", "825", "--base-url", sb.url],
        ["query", "conviva-flow", "real-time", "--flow", "31337", "--base-url", sb.url],
        ["query", "klaviyo", "metrics", "--base-url", sb.klaviyo_url, "--format", "json"],
        ["model", "pull", "--base-url", sb.url, "--output", str(tmp_path / "model.json")],
    ):
        main(argv)
    out, err = capsys.readouterr()
    seen += [out, err]
    seen += [record.getMessage() for record in caplog.records]
    seen += [path.read_text("utf-8") for path in tmp_path.iterdir()]
    assert len(caplog.records) > 5  # the requests were logged, at DEBUG
    text = "\n".join(seen)
    assert "31337" in text  # the errors are in there
    assert SECRET not in text
    import base64

    for pair in (f"e2e:{SECRET}", f"e2e:{SECRET}-wrong"):
        assert base64.b64encode(pair.encode()).decode() not in text
