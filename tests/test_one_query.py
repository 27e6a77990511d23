"""One query, every face: the same query written as command-line options, REPL commands, a
manifest table and Python arguments plans to the same requests; what ``--dry-run`` and
``:show`` print is what ``flowql query`` and ``:run`` send (as the sandbox received it)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from flowql import query as q
from flowql.checker.manifest import load_manifest_text
from flowql.cli import build_parser
from flowql.cli.query import _planned
from flowql.repl.commands import execute
from flowql.repl.session import Session

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 12, 0, 0, 250000, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One query: ``cli`` options after ``flowql query API ENDPOINT``, the ``toml`` lines of its
    manifest table, the ``python`` query value, and ``repl`` commands where the REPL can say
    it (the REPL composes flow, sessions content, Klaviyo values reports and metrics)."""

    api: str
    endpoint: str
    cli: list[str]
    toml: list[str]
    python: object
    repl: list[str] | None = None
    repl_filter: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


F_FLOW = "device_operating_system == 'Android' AND geo_country IN ('Spain', 'France')"
F_SESSIONS = "geo_country_name == 'Spain'"
F_KLAVIYO = "send_channel == 'email'"
F_METRICS = "integration.name == 'Shopify'"
F_FLOWXO = "flow_name ~~ 'Welcome'"

CASES = [
    Case(
        "conviva-flow",
        "real-time",
        ["--flow", "825", "--interval", "PT5M", "--group-by", "geo_country", "--filter", F_FLOW],
        ['flow = "825"', 'interval = "PT5M"', 'group_by = "geo_country"', f'filter = "{F_FLOW}"'],
        q.FlowQuery("825", "real-time", interval="PT5M", group_by="geo_country", filter=F_FLOW),
        [":target conviva-flow", ":flow 825", ":last 5m", ":group-by geo_country"],
        F_FLOW,
    ),
    Case(
        "conviva-flow",
        "historical",
        ["--flow", "825", "--start=-2h30m", "--end=now", "--filter", F_FLOW],
        ['flow = "825"', 'start = "-2h30m"', 'end = "now"', f'filter = "{F_FLOW}"'],
        q.FlowQuery("825", "historical", start="-2h30m", end="now", filter=F_FLOW),
        [":target conviva-flow", ":flow 825", ":last 2h30m"],
        F_FLOW,
    ),
    Case(
        "conviva-flow",
        "historical",
        ["--flow", "142", "--start", "2026-12-01T09:00:00Z", "--end", "2026-12-01T10:30:00Z"],
        ['flow = "142"', 'start = "2026-12-01T09:00:00Z"', "end = 2026-12-01T10:30:00Z"],
        q.FlowQuery(
            "142",
            "historical",
            start=dt.datetime(2026, 12, 1, 9, tzinfo=UTC),
            end=dt.datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        ),
    ),
    Case(
        "conviva-sessions",
        "content",
        ["--start=-4h", "--end=now", "--limit", "20", "--filter", F_SESSIONS],
        ['start = "-4h"', 'end = "now"', "limit = 20", f'filter = "{F_SESSIONS}"'],
        q.SessionsQuery("content", start_date="-4h", end_date="now", limit=20, filter=F_SESSIONS),
        [":target conviva-sessions", ":last 4h", ":limit 20"],
        F_SESSIONS,
    ),
    Case(
        "conviva-sessions",
        "ad",
        ["--start", "1796112000", "--end", "1796119200"],
        ["start = 1796112000", "end = 1796119200"],
        q.SessionsQuery("ad", start_epoch=1796112000, end_epoch=1796119200),
    ),
    Case(
        "conviva-sessions",
        "viewer",
        ["--viewer-id", "v-42", "--days", "3"],
        ['viewer_id = "v-42"', "days = 3"],
        q.SessionsQuery("viewer", viewer_id="v-42", days=3),
    ),
    Case(
        "conviva-sessions",
        "viewer-summary",
        ["--viewer-ip", "203.0.113.7"],
        ['viewer_ip = "203.0.113.7"'],
        q.SessionsQuery("viewer-summary", viewer_ip="203.0.113.7"),
    ),
    Case(
        "klaviyo",
        "metrics",
        ["--filter", F_METRICS],
        [f'filter = "{F_METRICS}"'],
        q.KlaviyoMetricsQuery("metrics", filter=F_METRICS),
        [":target klaviyo-metrics"],
        F_METRICS,
    ),
    Case(
        "klaviyo",
        "flow-triggers",
        ["--metric-id", "RESQ6t"],
        ['metric_id = "RESQ6t"'],
        q.KlaviyoMetricsQuery("flow-triggers", metric_id="RESQ6t"),
    ),
    Case(
        "klaviyo",
        "flow-values",
        [
            "--statistic",
            "opens,clicks",
            "--timeframe",
            "last_30_days",
            "--conversion-metric-id",
            "RESQ6t",
            "--filter",
            F_KLAVIYO,
        ],
        [
            'statistics = ["opens", "clicks"]',
            'timeframe = "last_30_days"',
            'conversion_metric_id = "RESQ6t"',
            f'filter = "{F_KLAVIYO}"',
        ],
        q.KlaviyoReportQuery(
            "flow-values",
            statistics=("opens", "clicks"),
            timeframe="last_30_days",
            conversion_metric_id="RESQ6t",
            filter=F_KLAVIYO,
        ),
        [
            ":target klaviyo-flow-report",
            ":last 30d",
            ":statistics opens clicks",
            ":conversion RESQ6t",
        ],
        F_KLAVIYO,
    ),
    Case(
        "klaviyo",
        "flow-series",
        [
            "--statistic",
            "opens",
            "--start",
            "2026-11-01T00:00:00Z",
            "--end",
            "2026-11-15T00:00:00Z",
            "--interval",
            "daily",
            "--conversion-metric-id",
            "RESQ6t",
        ],
        [
            'statistics = "opens"',
            'start = "2026-11-01T00:00:00Z"',
            'end = "2026-11-15T00:00:00Z"',
            'interval = "daily"',
            'conversion_metric_id = "RESQ6t"',
        ],
        q.KlaviyoReportQuery(
            "flow-series",
            statistics=("opens",),
            start="2026-11-01T00:00:00Z",
            end="2026-11-15T00:00:00Z",
            interval="daily",
            conversion_metric_id="RESQ6t",
        ),
    ),
    Case(
        "klaviyo",
        "campaign-values",
        ["--statistic", "clicks", "--timeframe", "last_7_days", "--conversion-metric-id", "X1"],
        ['statistics = ["clicks"]', 'timeframe = "last_7_days"', 'conversion_metric_id = "X1"'],
        q.KlaviyoReportQuery(
            "campaign-values",
            statistics=("clicks",),
            timeframe="last_7_days",
            conversion_metric_id="X1",
        ),
        [":target klaviyo-campaign-report", ":last 7d", ":statistics clicks", ":conversion X1"],
        "send_channel == 'sms'",
    ),
    Case(
        "klaviyo",
        "form-values",
        ["--statistic", "submits", "--start=-10d", "--end=now"],
        ['statistics = ["submits"]', 'start = "-10d"', 'end = "now"'],
        q.KlaviyoReportQuery("form-values", statistics=("submits",), start="-10d", end="now"),
        [":target klaviyo-form-report", ":last 10d", ":statistics submits"],
        "form_id == 'Y6Hmxn'",
    ),
    Case(
        "klaviyo",
        "form-series",
        ["--statistic", "submits", "--timeframe", "last_7_days", "--interval", "hourly"],
        ['statistics = ["submits"]', 'timeframe = "last_7_days"', 'interval = "hourly"'],
        q.KlaviyoReportQuery(
            "form-series", statistics=("submits",), timeframe="last_7_days", interval="hourly"
        ),
    ),
    Case(
        "klaviyo",
        "segment-values",
        ["--statistic", "total_members", "--timeframe", "last_90_days"],
        ['statistics = ["total_members"]', 'timeframe = "last_90_days"'],
        q.KlaviyoReportQuery(
            "segment-values", statistics=("total_members",), timeframe="last_90_days"
        ),
        [":target klaviyo-segment-report", ":last 90d", ":statistics total_members"],
        "segment_id == 'S1'",
    ),
    Case(
        "klaviyo",
        "segment-series",
        ["--statistic", "net_members_changed", "--timeframe", "last_3_months"],
        [
            'statistics = ["net_members_changed"]',
            'timeframe = "last_3_months"',
            'interval = "monthly"',
        ],
        q.KlaviyoReportQuery(
            "segment-series",
            statistics=("net_members_changed",),
            timeframe="last_3_months",
            interval="monthly",
        ),
        notes={"cli": "--interval monthly"},
    ),
    Case(
        "flowxo",
        "insights",
        ["--start", "2026-11-01", "--end", "2026-11-30", "--unit", "day", "--offset", "60"],
        ['start = "2026-11-01"', 'end = "2026-11-30"', 'unit = "day"', "offset = 60"],
        q.FlowXOQuery("insights", "2026-11-01", "2026-11-30", unit="day", offset=60),
    ),
    Case(
        "flowxo",
        "top-messages",
        ["--start=-7d", "--end=now", "--limit", "5"],
        ['start = "-7d"', 'end = "now"', "limit = 5"],
        q.FlowXOQuery("top-messages", "-7d", "now", limit=5),
    ),
    Case(
        "flowxo",
        "top-flows",
        ["--limit", "3", "--filter", F_FLOWXO],
        ["limit = 3", f'filter = "{F_FLOWXO}"'],
        q.FlowXOQuery("top-flows", limit=3, filter=F_FLOWXO),
    ),
]


def _id(case: Case) -> str:
    return f"{case.api}-{case.endpoint}-{CASES.index(case)}"


def requests_of(plan: q.Plan) -> list[tuple[str, str, str]]:
    return [
        (r.method, r.path, json.dumps(r.body, sort_keys=True) if r.body is not None else "")
        for r in plan.requests
    ]


def from_cli(case: Case) -> q.Plan:
    extra = case.notes.get("cli", "").split()
    args: argparse.Namespace = build_parser("query").parse_args(
        ["query", case.api, case.endpoint, *case.cli, *extra]
    )
    err = io.StringIO()
    queries, status = _planned(args, err)
    assert status == 0, err.getvalue()
    [(_, value, _)] = queries
    return value.plan(now=NOW)  # type: ignore[no-any-return]


def from_manifest(case: Case) -> q.Plan:
    lines = [
        "[[query]]",
        'name = "the-query"',
        f'api = "{case.api}"',
        f'endpoint = "{case.endpoint}"',
        *case.toml,
    ]
    [entry] = load_manifest_text("\n".join(lines) + "\n", "queries.toml")
    assert entry.diagnostics == ()
    return entry.to_query().plan(now=NOW)  # type: ignore[no-any-return]


def from_repl(case: Case) -> q.Plan:
    assert case.repl is not None
    session = Session(clock=lambda: NOW)
    for line in case.repl:
        execute(session, line)
    query = session.current_query(case.repl_filter)
    assert query.problem is None, query.problem
    assert query.plan is not None
    return query.plan


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_face_plans_the_same_requests(case: Case) -> None:
    expected = requests_of(case.python.plan(now=NOW))  # type: ignore[attr-defined]
    assert expected
    assert requests_of(from_cli(case)) == expected
    assert requests_of(from_manifest(case)) == expected
    if case.repl is not None:
        repl = from_repl(case)
        # The REPL fills in the filter it was given; the Python value has it too, or none.
        if case.repl_filter is not None and getattr(case.python, "filter", None) is None:
            expected = requests_of(
                case.python.__class__(  # type: ignore[attr-defined]
                    **{**case.python.__dict__, "filter": case.repl_filter}
                ).plan(now=NOW)
            )
        assert requests_of(repl) == expected


def test_every_api_and_endpoint_is_covered() -> None:
    from flowql.apis import APIS

    covered = {(c.api, c.endpoint) for c in CASES}
    every = {(s.name, e) for s in APIS.values() for e in s.query_endpoints}
    assert covered == every
    # The REPL composes one query per target it can run: every one is covered.
    assert {c.endpoint for c in CASES if c.repl is not None} >= {
        "real-time",
        "historical",
        "content",
        "metrics",
        "flow-values",
        "campaign-values",
        "form-values",
        "segment-values",
    }


# --- what --dry-run and :show print is what is sent -----------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    from flowql.sandbox import Sandbox

    with Sandbox(seed=0, rate_limits=False) as sb:
        yield sb


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowql.connection import SANDBOX_CLIENT_ID, SANDBOX_SECRET

    monkeypatch.setenv("CONVIVA_CLIENT_ID", SANDBOX_CLIENT_ID)
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", SANDBOX_SECRET)
    monkeypatch.setenv("KLAVIYO_API_KEY", SANDBOX_SECRET)
    monkeypatch.setenv("FLOWXO_API_KEY", SANDBOX_SECRET)


def _base(sandbox: object, api: str) -> str:
    from flowql.connection import sandbox_options

    return str(sandbox_options(api, sandbox)["base_url"])  # type: ignore[arg-type]


# Absolute times: a relative range moves with the clock between two runs (within one run,
# the plan printed is the plan sent).
_HOUR = (dt.datetime.now(UTC) - dt.timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
_START = _HOUR.strftime("%Y-%m-%dT%H:%M:%SZ")
_END = (_HOUR + dt.timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
SENT = [
    ("conviva-flow", "historical", ["--flow", "825", "--start", _START, "--end", _END]),
    ("conviva-flow", "real-time", ["--flow", "142", "--filter", "cdn == 'Akamai'"]),
    ("conviva-sessions", "content", ["--start", _START, "--end", _END, "--limit", "5"]),
    (
        "klaviyo",
        "flow-values",
        ["--statistic", "opens", "--timeframe", "last_7_days", "--conversion-metric-id", "0rCBvz"],
    ),
    ("klaviyo", "metrics", ["--filter", F_METRICS]),
    ("flowxo", "top-flows", ["--limit", "2"]),
]


def _matches(shown: dict[str, object], logged: object, base: str) -> None:
    from urllib.parse import urlsplit

    url = str(shown["url"])
    assert url.startswith(base.rstrip("/"))
    parts = urlsplit(url)
    assert (shown["method"], parts.path, parts.query) == (
        logged.method,  # type: ignore[attr-defined]
        logged.path,  # type: ignore[attr-defined]
        logged.query,  # type: ignore[attr-defined]
    )
    headers = {k.lower(): v for k, v in logged.headers}  # type: ignore[attr-defined]
    for name, value in dict(shown["headers"]).items():  # type: ignore[call-overload]
        if name.lower() != "authorization":
            assert headers.get(name.lower()) == value, name
    body = logged.body  # type: ignore[attr-defined]
    assert (json.loads(body) if body else None) == shown["body"]


@pytest.mark.parametrize(("api", "endpoint", "options"), SENT, ids=[f"{a}-{e}" for a, e, _ in SENT])
def test_dry_run_prints_exactly_what_query_sends(
    api: str,
    endpoint: str,
    options: list[str],
    sandbox: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flowql.cli import main

    _env(monkeypatch)
    base = _base(sandbox, api)
    argv = ["query", api, endpoint, *options, "--base-url", base]
    assert main([*argv, "--dry-run", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    sandbox.clear_log()  # type: ignore[attr-defined]
    assert shown
    assert main([*argv, "--format", "json"]) == 0
    capsys.readouterr()
    logged = sandbox.log  # type: ignore[attr-defined]
    sent = [e for e in logged if not e.path.endswith(("data-model", "flow-models"))]
    assert len(sent) == len(shown)
    # Windows go out concurrently: match each shown request to the one sent for it.
    for request, entry in zip(
        sorted(shown, key=lambda r: r["url"]),
        sorted(sent, key=lambda e: e.path + "?" + e.query),
        strict=True,
    ):
        _matches(request, entry, base)


def test_show_prints_exactly_what_run_sends(sandbox: object) -> None:
    from flowql.repl.run import Runner

    session = Session(runner=Runner(sandbox=sandbox))  # type: ignore[arg-type]
    try:
        for line in (":target klaviyo-flow-report", ":last 7d", ":statistics opens"):
            execute(session, line)
        execute(session, ":conversion 0rCBvz")
        shown = execute(session, ":show send_channel == 'email'").text
        sandbox.clear_log()  # type: ignore[attr-defined]
        execute(session, ":run send_channel == 'email'")
        [entry] = [e for e in sandbox.log if e.method == "POST"]  # type: ignore[attr-defined]
        block = shown.split("request\n", 1)[1]
        first = block.splitlines()[0].strip()
        origin = sandbox.klaviyo_url.split("/api")[0]  # type: ignore[attr-defined]
        assert first == f"POST {origin}{entry.path}"
        body = block.split("\n\n", 1)[1].rsplit("\n(", 1)[0]
        assert json.loads("\n".join(line[2:] for line in body.splitlines())) == json.loads(
            entry.body
        )
    finally:
        session.close()


def test_the_repl_loads_a_manifest_query_as_query_runs_it() -> None:
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "examples"
    manifest = str(examples / "queries.toml")
    text = (examples / "queries.toml").read_text("utf-8")
    for name in ("android-spain-logins", "sso-logins-live", "madrid-android-start-failures"):
        session = Session(clock=lambda: NOW)
        shown = execute(session, f":load {manifest} {name}").text
        assert shown.startswith(f"loaded {name}: target ")
        [entry] = [e for e in load_manifest_text(text) if e.name == name]
        expected = requests_of(entry.to_query().plan(now=NOW))
        query = session.current_query()
        assert query.plan is not None
        assert requests_of(query.plan) == expected
    from flowql.repl.errors import CommandError

    session = Session(clock=lambda: NOW)
    with pytest.raises(CommandError, match="holds 6 queries: name one"):
        execute(session, f":load {manifest}")
    with pytest.raises(CommandError) as caught:
        execute(session, f":load {manifest} sso-logins-lvie")
    assert caught.value.diagnostics[0].hint == "did you mean 'sso-logins-live'?"
