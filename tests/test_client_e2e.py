"""End-to-end tests: the clients and ``flowql query`` / ``flowql model pull`` against the
sandbox (flowql.sandbox), a real HTTP server on 127.0.0.1 that follows the vendors' guides."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowql.cli import main
from flowql.client import (
    AsyncConvivaFlowClient,
    ConvivaFlowClient,
    ConvivaSessionsClient,
    FlowXOClient,
    KlaviyoClient,
    PartialResultError,
    RetryPolicy,
    ServerError,
    TransportError,
    Unauthorized,
)
from flowql.model import load_model
from flowql.query import FlowQuery, QueryError
from flowql.results import DimensionalRows, Sessions, TimeSeries
from flowql.sandbox import Sandbox

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, max_retry_time=5.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    sandbox.clear_log()
    return sandbox


def flow(sb: Sandbox, **options: object) -> ConvivaFlowClient:
    options.setdefault("labels", False)  # these tests count requests: no data model fetch
    return ConvivaFlowClient(
        "e2e-client", "sandbox", base_url=sb.conviva_url, now=lambda: NOW, retry=FAST, **options
    )


# --- Conviva Flow ---------------------------------------------------------------------------


def test_a_historical_range_is_split_fetched_and_merged(sb: Sandbox) -> None:
    with flow(sb) as client:
        model = client.data_model()
        result = client.historical(
            "825",
            "-3h",
            "now",
            group_by="geo_country",
            filter="device_operating_system == 'Android'",
        )
    assert isinstance(result, DimensionalRows)
    assert [str(w) for w in result.windows] == [
        "2026-11-22T09:00:00Z/2026-11-22T10:00:00Z",
        "2026-11-22T10:00:00Z/2026-11-22T11:00:00Z",
        "2026-11-22T11:00:00Z/2026-11-22T12:00:00Z",
    ]
    # One row per country, the windows merged (tests/test_merged_results.py has the rules).
    countries = [r["geo_country"] for r in result.to_records()]
    assert len(countries) == len(set(countries)) > 3
    assert "window_start" not in result.to_records()[0]
    counts = {k for k, m in model.flows["825"].metrics.items() if m.unit == "count"}
    shares = {m.percentage for m in model.flows["825"].metrics.values() if m.percentage}
    assert set(result.recomputed) == (counts | shares) & set(result.totals)
    assert result.not_recomputed
    for key in counts:
        assert result.totals[key] == sum(w[key] for w in result.window_totals)  # type: ignore[misc]
    metric_paths = [r.path for r in sb.log if "/flow-data/metrics/" in r.path]
    assert len(metric_paths) == 3
    assert all("group-by/geo_country" in p for p in metric_paths)


def test_sync_and_async_agree_against_the_sandbox(sb: Sandbox) -> None:
    query = FlowQuery("142", "historical", start="-2h", end="now")

    async def fetch() -> object:
        async with AsyncConvivaFlowClient(
            "e2e", "sandbox", base_url=sb.conviva_url, now=lambda: NOW
        ) as client:
            return await client.query(query)

    async_result = asyncio.run(fetch())
    with flow(sb) as client:
        sync_result = client.query(query)
    assert isinstance(sync_result, TimeSeries)
    assert sync_result == async_result


def test_503s_are_retried_until_they_pass(sb: Sandbox) -> None:
    sb.faults.fail_next(2, status=503, api="conviva")
    with flow(sb) as client:
        result = client.real_time("825", "PT5M", granularity="PT1M")
    assert isinstance(result, TimeSeries)
    assert [r.status for r in sb.log] == [503, 503, 200]


def test_429_with_retry_after_is_waited_for(sb: Sandbox) -> None:
    sb.faults.fail_next(1, status=429, api="conviva", retry_after=0)
    with flow(sb) as client:
        client.real_time("825")
    assert [r.status for r in sb.log] == [429, 200]


def test_dropped_connections_are_retried_then_reported(sb: Sandbox) -> None:
    sb.faults.drop_next(1, api="conviva")
    with flow(sb) as client:
        client.real_time("825")
        sb.faults.drop_next(5, api="conviva")
        with pytest.raises(TransportError) as caught:
            client.real_time("825")
    assert caught.value.attempts == 5


def test_a_window_that_fails_leaves_the_others(sb: Sandbox) -> None:
    from flowql.model import demo_model

    sb.faults.fail_next(1, status=500, api="conviva")
    client = flow(sb, model=demo_model(), max_concurrency=1)
    with client, pytest.raises(PartialResultError) as caught:
        client.historical("825", "-3h", "now")
    error = caught.value
    assert [str(w) for w, _ in error.missing] == ["2026-11-22T09:00:00Z/2026-11-22T10:00:00Z"]
    assert isinstance(error.missing[0][1], ServerError)
    assert len(error.result.windows) == 2
    assert error.result.to_records()


def test_wrong_credentials_are_unauthorized(sb: Sandbox) -> None:
    client = ConvivaFlowClient("e2e", "not-the-secret", base_url=sb.conviva_url)
    with client, pytest.raises(Unauthorized) as caught:
        client.real_time("825")
    assert caught.value.status == 401
    assert "not-the-secret" not in caught.value.render()


def test_a_url_over_the_budget_is_never_sent(sb: Sandbox) -> None:
    cities = ", ".join(f"'City number {i}'" for i in range(300))
    with flow(sb) as client, pytest.raises(QueryError) as caught:
        client.real_time("825", filter=f"geo_city IN ({cities})")
    assert caught.value.code == "FQ501"
    assert sb.log == []


# --- Sessions V3 ---------------------------------------------------------------------------


def test_sessions_with_a_post_filter(sb: Sandbox) -> None:
    with ConvivaSessionsClient(
        "e2e", "sandbox", base_url=sb.conviva_url, now=lambda: NOW
    ) as client:
        result = client.content(
            start_epoch="-4h",
            end_epoch="now",
            limit=50,
            filter="device_os == 'Android' AND geo_city_name !~ 'Chicago'",
            post_filter=True,
        )
    assert isinstance(result, Sessions)
    assert result.post_filter == "geo_city_name !~ 'Chicago'"
    records = result.to_records()
    assert records
    assert all(r["device_os"] == "Android" for r in records)
    assert all("Chicago" not in str(r["geo_city_name"]) for r in records)
    assert len(result.windows) == 2
    assert all("device_os=Android" in r.query for r in sb.log)


# --- Klaviyo and Flow XO --------------------------------------------------------------------


def test_klaviyo_metrics_pages_triggers_and_a_report(sb: Sandbox) -> None:
    # group_by on a flow report exists from 2026-07-15 on; the sandbox refuses it at 2024-10-15,
    # still the client's default revision.
    with KlaviyoClient("sandbox", base_url=sb.klaviyo_url, revision="2026-07-15") as client:
        metrics = client.metrics()
        pages = len(sb.log)
        shopify = client.metrics(filter="integration.category == 'Internal'")
        metric_id = str(metrics.to_records()[0]["id"])
        client.flow_triggers(metric_id)
        report = client.report(
            "flow-values",
            statistics=["clicks", "open_rate"],
            timeframe="last_30_days",
            conversion_metric_id=metric_id,
            group_by=["flow_id", "flow_message_id", "send_channel"],
            filter="send_channel == 'email'",
        )
    ids = [r["id"] for r in metrics.to_records()]
    assert len(ids) == len(set(ids)) > 200  # more than one page of 200
    assert pages >= 2
    assert 0 < len(shopify) < len(metrics)
    assert all(r["integration.category"] == "Internal" for r in shopify.to_records())
    assert report.to_records()
    assert all(r["send_channel"] == "email" for r in report.to_records())


def test_flowxo_filters_are_applied_here(sb: Sandbox) -> None:
    with FlowXOClient("sandbox", base_url=sb.flowxo_url, now=lambda: NOW) as client:
        everything = client.top_flows(limit=10)
        texts = client.top_flows(limit=10, filter="flow_name ~~ 'Text'")
        insights = client.insights("2026-11-01", "2026-11-20", unit="day")
    assert 0 < len(texts) < len(everything)
    assert texts.post_filter == "flow_name ~~ 'Text'"
    # One point per day, the end day included.
    assert len(insights.points) == 20
    days = [p.timestamp for p in insights.points if p.timestamp is not None]
    assert days == sorted(days)
    assert len(days) == 20
    assert insights.totals


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_credentials")
def test_query_without_credentials_uses_the_sandbox_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "query",
            "conviva-flow",
            "historical",
            "--flow",
            "825",
            "--start=-2h",
            "--end=now",
            "--group-by",
            "geo_country",
            "--filter",
            "geo_country IN ('Spain', 'France')",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET not set" in err
    assert "sandbox" in err
    document = json.loads(out)
    assert len(document["windows"]) in (2, 3)
    assert {r["geo_country"] for r in document["records"]} <= {"Spain", "France"}
    assert "fetched" not in err  # progress only on a terminal


@pytest.mark.usefixtures("no_credentials")
def test_query_csv_and_post_filter_notice(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "query",
            "flowxo",
            "top-flows",
            "--limit",
            "10",
            "--filter",
            "count != 0",
            "--format",
            "csv",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "flow_id,flow_name,count"
    assert "applied here, not by the API: count != 0" in err


@pytest.mark.usefixtures("no_credentials")
def test_query_table_for_klaviyo(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "klaviyo", "metrics", "--filter", "integration.name == 'Klaviyo'"])
    out, err = capsys.readouterr()
    assert code == 0, err
    header, rule = out.splitlines()[:2]
    assert header.split()[:2] == ["id", "type"]
    assert set(rule) <= {"-", " "}


@pytest.mark.usefixtures("no_credentials")
def test_model_pull_saves_what_check_reads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "model.json"
    assert main(["model", "pull", "--output", str(target)]) == 0
    _, err = capsys.readouterr()
    assert "saved the data model" in err
    text = target.read_text("utf-8")
    header = base64.b64encode(b"flowql-sandbox:sandbox").decode()
    assert header not in text
    model = load_model(str(target))
    assert "825" in model.flows
    code = main(["check", "--model", str(target), "--flow", "825", "-e", "geo_contry == 'Spain'"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "FQ101" in out
    assert main(["model", "pull", "--sessions"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["dimensions"]


@pytest.mark.usefixtures("no_credentials")
def test_model_pull_into_a_missing_directory_says_so_before_fetching(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "conviva" / "data-model.json"
    assert main(["model", "pull", "--output", str(target)]) == 2
    _, err = capsys.readouterr()
    assert "does not exist (create it first: mkdir -p " in err
    assert "sandbox" not in err  # nothing was started, nothing fetched
    assert not target.parent.exists()


@pytest.mark.usefixtures("no_credentials")
def test_query_api_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "conviva-flow", "real-time", "--flow", "99999"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "error[FQ724]" in err


# --- the guide's examples run ------------------------------------------------------------------


def test_the_client_guide_examples_run_against_the_sandbox(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import re

    monkeypatch.chdir(tmp_path)  # the examples write files (a chart): not into the checkout

    guide = Path(__file__).resolve().parent.parent / "docs" / "client.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text("utf-8"), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(guide), "exec"), namespace)
    out = capsys.readouterr().out
    assert "['142', '825']" in out
    assert "FQ710 the hourly interval covers at most 7 days" in out
    assert "geo_city_name !~ 'Chicago'" in out
    assert "404 GET http://127.0.0.1:" in out
