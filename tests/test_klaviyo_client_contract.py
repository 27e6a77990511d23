"""What flowql's Klaviyo client sends, against Klaviyo's own contract (its OpenAPI spec, per
revision), and the client's revision choice.

Every request a query plans (``describe``, what ``--dry-run`` prints) and every request the
client really sends to the sandbox (read back from the sandbox's log) is validated with
``tests/klaviyo_contract.validate_request`` at each revision the project holds: path, method,
headers, query parameters and body. The counts are printed at the end of the session.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from klaviyo_contract import validate_request

from flowql import compile
from flowql._generate_klaviyo import main as generate_main
from flowql._generate_klaviyo import render
from flowql.client import KlaviyoClient, RetryPolicy
from flowql.client.errors import ServerError
from flowql.client.klaviyo import RETRY_STATUSES
from flowql.errors import UnsupportedError
from flowql.klaviyo_revisions import DEFAULT_REVISION, REVISIONS, resolve_revision
from flowql.query import KLAVIYO_REVISION, KlaviyoMetricsQuery, KlaviyoReportQuery, QueryError
from flowql.sandbox import Sandbox
from flowql.targets import TargetError

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
OLD, NEW = "2024-10-15", "2026-07-15"

_FILTERS = {
    "flow": {OLD: "flow_id == 'XVTP5Q' AND send_channel IN ('email', 'sms')", NEW: None},
    "campaign": {OLD: "campaign_id == 'C1' AND send_channel == 'push-notification'", NEW: None},
    "form": {OLD: "form_id IN ('Y6nRLr', 'Xq2bT9') AND form_version_id == 'v1'", NEW: None},
    "segment": {OLD: "segment_id == 'S1'", NEW: None},
}
_FILTERS["flow"][NEW] = (
    "flow_name == 'Welcome' AND tag_name ~~ 'vip' AND send_channel IN ('email', 'whatsapp')"
)
_FILTERS["campaign"][NEW] = "campaign_message_id == 'M1' AND variation_name IN ('A', 'B')"
_FILTERS["form"][NEW] = _FILTERS["form"][OLD]
_FILTERS["segment"][NEW] = "segment_id IN ('S1', 'S2')"

_STATISTICS = {
    "flow": {OLD: ["opens", "open_rate"], NEW: ["opens", "text_message_spend"]},
    "form": {OLD: ["viewed_form", "submits"], NEW: ["viewed_form", "submit_rate"]},
    "segment": {OLD: ["total_members"], NEW: ["total_members", "members_added"]},
}
_STATISTICS["campaign"] = _STATISTICS["flow"]


def report_queries(revision: str, conversion: str = "RESQ6t") -> list[KlaviyoReportQuery]:
    """Queries over every report, each way of giving a timeframe, a filter, and the group-bys
    the revision takes."""
    out = []
    for report, rules in REVISIONS[revision].reports.items():
        family = rules.family
        common: dict[str, Any] = {
            "statistics": _STATISTICS[family][revision],
            "revision": revision,
            "conversion_metric_id": conversion if rules.conversion else None,
            "interval": "weekly" if rules.series else None,
        }
        out.append(KlaviyoReportQuery(report, timeframe="last_30_days", **common))
        out.append(
            KlaviyoReportQuery(
                report,
                start="2026-11-01T00:00-05:00",
                end="2026-11-20T00:00-05:00",
                filter=_FILTERS[family][revision],
                **common,
            )
        )
        if rules.group_by:
            wanted = [*rules.required_group_by, *(n for n, _ in rules.prerequisites)]
            needed = [n for _, n in rules.prerequisites]
            group_by = list(dict.fromkeys([*needed, *wanted, rules.group_by[-1]]))
            out.append(
                KlaviyoReportQuery(report, timeframe="last_90_days", group_by=group_by, **common)
            )
    return out


def metrics_queries(revision: str) -> list[KlaviyoMetricsQuery]:
    return [
        KlaviyoMetricsQuery(revision=revision),
        KlaviyoMetricsQuery(filter="integration.name == 'Shopify'", revision=revision),
        KlaviyoMetricsQuery("flow-triggers", metric_id="RE cT", revision=revision),
    ]


@pytest.mark.parametrize("revision", sorted(REVISIONS))
def test_every_planned_request_keeps_the_contract(revision: str) -> None:
    client = KlaviyoClient("pk_contract", now=lambda: NOW)
    checked = 0
    for query in [*report_queries(revision), *metrics_queries(revision)]:
        plan = client.plan_of(query)
        for request in plan.requests:
            sent = client.describe(request)
            headers = {**sent.headers, "Authorization": "Klaviyo-API-Key pk_contract"}
            problems = validate_request(revision, sent.method, sent.url, headers, None, sent.body)
            assert problems == [], (query, problems)
            checked += 1
    assert checked >= 2 * len(REVISIONS[revision].reports) + 3


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


@pytest.mark.parametrize("revision", sorted(REVISIONS))
def test_every_request_sent_to_the_sandbox_keeps_the_contract(sb: Sandbox, revision: str) -> None:
    sb.clear_log()
    fast = {"reports": ((1000, 1.0),), "default": ((1000, 1.0),)}
    with KlaviyoClient(
        "sandbox", base_url=sb.klaviyo_url, revision=revision, rate_limits=fast
    ) as client:
        metric = _a_metric(client)  # every page
        client.query(KlaviyoMetricsQuery("flow-triggers", metric_id=metric))
        for query in report_queries(revision, metric):
            client.query(query)
    logged = [r for r in sb.log if r.api == "klaviyo"]
    assert len(logged) >= len(report_queries(revision)) + 3  # two pages of metrics at least
    for request in logged:
        headers = [*request.headers, ("Authorization", "Klaviyo-API-Key sandbox")]
        body = json.loads(request.body) if request.body else None
        problems = validate_request(
            revision, request.method, request.path, headers, request.query, body
        )
        assert problems == [], (request.method, request.path, problems)
        assert request.status == 200, (request.method, request.path, request.status)


def _a_metric(client: KlaviyoClient) -> str:
    rows = client.metrics()
    return str(rows.rows[0]["id"])


# --- the revision: chosen, refused, warned ------------------------------------------------------


def test_the_default_is_the_newest_revision_held() -> None:
    assert KLAVIYO_REVISION == DEFAULT_REVISION == NEW
    assert max(r.date for r in REVISIONS.values()).isoformat() == NEW
    plan = KlaviyoMetricsQuery().plan(now=NOW)
    assert dict(plan.requests[0].headers)["revision"] == NEW


def test_the_client_revision_applies_to_queries_that_name_none() -> None:
    client = KlaviyoClient("pk_x", revision=OLD, now=lambda: NOW)
    plan = client.plan_of(KlaviyoMetricsQuery())
    assert client.describe(plan.requests[0]).headers["revision"] == OLD
    own = client.plan_of(KlaviyoMetricsQuery(revision=NEW))
    assert client.describe(own.requests[0]).headers["revision"] == NEW


def _problems(query: KlaviyoReportQuery) -> list[tuple[str, str, str | None]]:
    with pytest.raises(QueryError) as caught:
        query.plan(now=NOW)
    return [(d.code, d.message, d.hint) for d in caught.value.diagnostics]


def test_what_2024_10_15_lacks_is_refused_naming_the_revision_that_has_it() -> None:
    found = _problems(
        KlaviyoReportQuery(
            "flow-values",
            statistics=["opens", "text_message_spend"],
            timeframe="last_30_days",
            conversion_metric_id="RESQ6t",
            group_by=["flow_id", "flow_message_id"],
            filter="flow_name == 'a' AND send_channel == 'whatsapp'",
            revision=OLD,
        )
    )
    codes = [code for code, _, _ in found]
    assert codes == ["FQ712", "FQ713", "FQ714", "FQ601", "FQ601"]
    assert "no statistic 'text_message_spend' at revision 2024-10-15" in found[0][1]
    assert "takes no group_by at revision 2024-10-15" in found[1][1]
    assert "filters only on flow_id, send_channel, flow_message_id" in found[3][1]
    assert "send_channel 'whatsapp'" in found[4][1]
    for _, message, hint in (found[0], found[1]):
        assert hint == "Klaviyo revision 2026-07-15 has it (--revision 2026-07-15)", message
    for _, message, _ in found[3:]:
        assert message.endswith("Klaviyo revision 2026-07-15 has it (--revision 2026-07-15)")


def test_the_same_query_is_sound_at_2026_07_15() -> None:
    plan = KlaviyoReportQuery(
        "flow-values",
        statistics=["opens", "text_message_spend", "message_segment_count_sum"],
        timeframe="last_30_days",
        conversion_metric_id="RESQ6t",
        group_by=["flow_id", "flow_message_id", "tag_name"],
        filter="flow_name == 'a' AND send_channel == 'whatsapp'",
    ).plan(now=NOW)
    assert plan.warnings == ()
    body: Any = plan.requests[0].body
    assert body["data"]["attributes"]["filter"] == (
        'and(equals(flow_name,"a"),equals(send_channel,"whatsapp"))'
    )


def test_a_retired_revision_warns_and_an_unknown_one_is_checked_against_the_one_before() -> None:
    plan = KlaviyoMetricsQuery(revision=OLD).plan(now=NOW)
    assert [(d.code, d.severity.value) for d in plan.warnings] == [("FQ718", "warning")]
    assert "retired revision 2024-10-15 on 2026-10-15" in plan.warnings[0].message
    # Before its retirement, no warning.
    assert KlaviyoMetricsQuery(revision=OLD).plan(now=dt.datetime(2026, 1, 1)).warnings == ()
    sdk = KlaviyoMetricsQuery(revision="2026-10-15").plan(now=NOW)
    assert "checked against 2026-07-15's rules and sent as 2026-10-15" in sdk.warnings[0].message
    assert dict(sdk.requests[0].headers)["revision"] == "2026-10-15"
    assert resolve_revision("2026-10-15").name == NEW
    assert resolve_revision("2025-01-01").name == OLD
    for bad in ("2023-01-01", "2026-13-01", "july", "2026-07-15.PRE"):
        with pytest.raises(QueryError) as caught:
            KlaviyoMetricsQuery(revision=bad).plan(now=NOW)
        assert caught.value.diagnostics[0].code == "FQ718", bad


def test_the_targets_take_the_revision() -> None:
    assert compile("flow_name == 'a'", "klaviyo-flow-report").filter == 'equals(flow_name,"a")'
    with pytest.raises(UnsupportedError) as caught:
        compile("flow_name == 'a'", "klaviyo-flow-report", revision=OLD)
    assert "Klaviyo revision 2026-07-15 has it" in caught.value.diagnostics[0].message
    with pytest.raises(TargetError) as unknown:
        compile("flow_id == 'a'", "conviva-flow", revision=NEW)
    assert unknown.value.diagnostics[0].code == "FQ603"


# --- what the spec says, sent as it says --------------------------------------------------------


def test_custom_timeframes_keep_their_wall_clock() -> None:
    # The spec: "Offset is ignored and the company timezone is used."
    plan = KlaviyoReportQuery(
        "form-values",
        statistics=["submits"],
        start="2026-11-01T00:00-05:00",
        end="2026-11-02T00:00-05:00",
    ).plan(now=NOW)
    body: Any = plan.requests[0].body
    assert body["data"]["attributes"]["timeframe"] == {
        "start": "2026-11-01T00:00:00-05:00",
        "end": "2026-11-02T00:00:00-05:00",
    }
    madrid = KlaviyoReportQuery(
        "form-values", statistics=["submits"], start="2026-11-01T09:00", end="-1h", tz="+01:00"
    ).plan(now=NOW)
    timeframe = madrid.requests[0].body["data"]["attributes"]["timeframe"]  # type: ignore[index]
    assert timeframe == {"start": "2026-11-01T09:00:00+01:00", "end": "2026-11-22T12:00:00+01:00"}
    mixed = KlaviyoReportQuery(
        "form-values",
        statistics=["submits"],
        start="2026-11-01T00:00-05:00",
        end="2026-11-02T00:00+01:00",
    ).plan(now=NOW)
    assert [d.code for d in mixed.warnings] == ["FQ702"]
    assert "Klaviyo ignores offsets" in mixed.warnings[0].message


def test_segment_reports_start_on_2023_06_01() -> None:
    found = _problems(
        KlaviyoReportQuery(
            "segment-series",
            statistics=["total_members"],
            start="2023-05-01",
            end="2023-07-01",
            interval="weekly",
        )
    )
    assert found[0][:2] == (
        "FQ703",
        "the segment-series report has no data before 2023-06-01; this timeframe starts 2023-05-01",
    )


class _Flaky(BaseHTTPRequestHandler):
    """Answers 524 once, then drops one connection, then answers; counts what it got."""

    hits = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with _Flaky.lock:
            _Flaky.hits += 1
            hit = _Flaky.hits
        if hit == 1:
            self._answer(524, {"errors": []})
        elif hit == 2:
            self.close_connection = True
            self.connection.shutdown(2)  # a reset, as a load balancer drops a connection
        else:
            self._answer(200, {"data": [], "links": {"self": "http://127.0.0.1/api/metrics"}})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_524_and_a_dropped_connection_are_retried_as_the_sdk_does() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Flaky.hits = 0
        url = f"http://127.0.0.1:{server.server_address[1]}/api/"
        # The client's default policy retries what the SDK retries; here without the waits.
        assert KlaviyoClient("pk_retry", base_url=url)._async._core.retry.statuses == RETRY_STATUSES
        assert {429, 503, 504, 524} == RETRY_STATUSES
        fast = RetryPolicy(base_delay=0.0, max_delay=0.0, statuses=RETRY_STATUSES)
        with KlaviyoClient("pk_retry", base_url=url, retry=fast) as client:
            assert client.metrics().rows == ()
        assert _Flaky.hits == 3
        _Flaky.hits = 0
        # A policy of one's own is taken as it is: without 524, no retry of it.
        strict = RetryPolicy(statuses=frozenset({429}), base_delay=0.0)
        with (
            KlaviyoClient("pk_retry", base_url=url, retry=strict) as client,
            pytest.raises(ServerError),
        ):
            client.metrics()
        assert _Flaky.hits == 1
    finally:
        server.shutdown()
        server.server_close()


# --- the tables come from the spec --------------------------------------------------------------


def test_the_tables_are_generated_from_the_spec_files() -> None:
    from pathlib import Path

    tables = Path(__file__).resolve().parent.parent / "flowql" / "_klaviyo_tables.py"
    assert tables.read_text(encoding="utf-8") == render(), (
        "flowql/_klaviyo_tables.py is stale: run `python -m flowql._generate_klaviyo`"
    )
    assert generate_main(["--check"]) == 0
    assert sorted(REVISIONS) == [OLD, NEW]


def test_values_and_series_reports_share_their_filter_rules() -> None:
    for revision in REVISIONS.values():
        for family in ("flow", "form", "segment"):
            values = revision.reports[f"{family}-values"].filter
            series = revision.reports[f"{family}-series"].filter
            assert (values.scalars, values.lists, values.channels) == (
                series.scalars,
                series.lists,
                series.channels,
            )
            assert values.one_filter_per_attribute


# --- the REPL ------------------------------------------------------------------------------------


def test_the_repl_takes_the_revision_from_revision_or_the_configuration(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowql.repl.commands import execute
    from flowql.repl.session import CommandError, Session

    monkeypatch.chdir(tmp_path)
    (tmp_path / "flowql.toml").write_text('klaviyo-revision = "2024-10-15"\n', encoding="utf-8")
    session = Session(clock=lambda: NOW)
    execute(session, ":target klaviyo-flow-report")
    shown = execute(session, ":revision").text
    assert shown == "Klaviyo revision 2024-10-15 (klaviyo-revision in the configuration)"
    assert session.query_fields("flow_id == 'a'")[2]["revision"] == OLD
    execute(session, ":revision 2026-07-15")
    assert session.query_fields("flow_id == 'a'")[2]["revision"] == NEW
    with pytest.raises(CommandError) as caught:
        execute(session, ":revision 2023-01-01")
    assert caught.value.code == "FQ718"
