"""The failures that one query layer fixed, each run to the sandbox (every window returned) or
refused before any request, as docs/client.md says."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowql import query as q
from flowql.cli import main
from flowql.repl.commands import execute
from flowql.repl.run import Runner
from flowql.repl.session import Session
from flowql.sandbox import Sandbox

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("start", ["-7d", "-1w", "-168h"])
def test_a_flow_range_at_the_retention_edge_returns_every_window(
    start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        [
            "query",
            "conviva-flow",
            "historical",
            "--flow",
            "825",
            f"--start={start}",
            "--end=now",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    result = json.loads(out)
    assert len(result["windows"]) == 168
    assert "FQ732" not in err
    # The oldest window was clamped as it was sent, and the result says so.
    assert "warning[FQ716]: the start was clamped from" in err


def test_a_sessions_range_at_the_retention_edge_returns_every_window(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        [
            "query",
            "conviva-sessions",
            "content",
            "--start=-31d",
            "--end=now",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    # Without a limit every window is fetched (a limit stops once it has enough).
    assert len(json.loads(out)["windows"]) == 248
    assert "warning[FQ716]" in err


def test_a_range_that_cannot_be_served_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        ["query", "conviva-flow", "historical", "--flow", "825", "--start=-8d", "--end=-7d12h"],
        capsys,
    )
    assert code == 1
    assert out == ""
    assert "error[FQ703]" in err
    assert "sandbox" not in err  # nothing was started


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=0, rate_limits=False) as sb:
        yield sb


def test_the_repl_runs_the_last_7_days(sandbox: Sandbox) -> None:
    session = Session(runner=Runner(sandbox=sandbox))
    try:
        execute(session, ":flow 825")
        execute(session, ":last 7d")
        run = session.runner().run(session, "geo_country == 'Spain'")
        assert run.error is None
        assert len(run.result.windows) == 168
        assert [w.code for w in run.result.warnings] == ["FQ716"]
    finally:
        session.close()


def test_a_range_of_one_hour_and_half_a_millisecond_is_one_window(
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = (dt.datetime.now(UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    end = start + dt.timedelta(hours=1, microseconds=500)
    plan = q.FlowQuery("825", "historical", start=start, end=end).plan()
    assert len(plan.requests) == 1
    assert plan.windows[0].end - plan.windows[0].start == dt.timedelta(hours=1)
    iso = "%Y-%m-%dT%H:%M:%S.%fZ"
    code, out, err = run_cli(
        [
            "query",
            "conviva-flow",
            "historical",
            "--flow",
            "825",
            "--start",
            start.strftime(iso),
            "--end",
            end.strftime(iso),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    assert len(json.loads(out)["windows"]) == 1
    assert "Traceback" not in err


def test_a_range_shorter_than_a_second_is_refused() -> None:
    with pytest.raises(q.QueryError, match="FQ702"):
        q.FlowQuery("825", "historical", start=NOW, end=NOW + dt.timedelta(microseconds=500)).plan(
            now=NOW
        )


def test_combined_units_relative_times(capsys: pytest.CaptureFixture[str]) -> None:
    plan = q.build_query(
        "conviva-flow", "historical", {"flow": "825", "start": "-2h30m", "end": "now"}
    ).plan(now=NOW)
    assert len(plan.requests) == 3
    assert plan.windows[0].start == dt.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    code, _, err = run_cli(
        ["query", "conviva-flow", "historical", "--flow", "825", "--start=-2h30m", "--end=now"],
        capsys,
    )
    assert code == 0, err


def test_epoch_seconds_are_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    seconds = int(time.time()) - 7200
    plan = q.build_query(
        "conviva-flow",
        "historical",
        {"flow": "825", "start": str(seconds), "end": str(seconds + 3600)},
    ).plan()
    assert plan.requests[0].path.startswith(
        f"/flow-data/metrics/825/{seconds * 1000}_to_{(seconds + 3600) * 1000}"
    )
    code, out, err = run_cli(
        [
            "query",
            "conviva-flow",
            "historical",
            "--flow",
            "825",
            "--start",
            str(seconds),
            "--end",
            str(seconds * 1000 + 3_600_000),
            "--dry-run",
        ],
        capsys,
    )
    assert code == 0, err
    assert f"{seconds * 1000}_to_{(seconds + 3600) * 1000}" in out


def test_naive_times_are_read_in_tz_the_same_everywhere(tmp_path: Path) -> None:
    naive = "2026-12-01T10:00"
    fields = {"flow": "825", "start": naive, "end": "2026-12-01T11:00"}
    utc = q.build_query("conviva-flow", "historical", fields).plan(now=NOW)
    assert utc.windows[0].start == dt.datetime(2026, 12, 1, 10, tzinfo=UTC)
    madrid = q.build_query("conviva-flow", "historical", {**fields, "tz": "Europe/Madrid"}).plan(
        now=NOW
    )
    assert madrid.windows[0].start == dt.datetime(2026, 12, 1, 9, tzinfo=UTC)
    # The manifest reads them the same way, with the table's tz or the command line's.
    from flowql.checker.manifest import load_manifest_text

    [entry] = load_manifest_text(
        '[[query]]\nname = "a"\nendpoint = "historical"\nflow = "825"\n'
        f'start = "{naive}"\nend = "2026-12-01T11:00"\n'
    )
    assert entry.diagnostics == ()
    assert entry.to_query().plan(now=NOW).windows == utc.windows
    assert entry.to_query(tz="Europe/Madrid").plan(now=NOW).windows == madrid.windows
    # And the REPL, with :tz.
    session = Session(clock=lambda: NOW)
    execute(session, ":flow 825")
    execute(session, ":tz Europe/Madrid")
    execute(session, f":range {naive} 2026-12-01T11:00")
    query = session.current_query("geo_country == 'Spain'")
    assert query.plan is not None
    assert query.plan.windows == madrid.windows


def test_granularity_on_historical_is_refused_by_check_and_query_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "queries.toml"
    manifest.write_text(
        '[[query]]\nname = "hourly"\nendpoint = "historical"\nflow = "142"\n'
        'granularity = "PT1H"\nstart = "-1d"\nend = "now"\nfilter = "cdn == \'Akamai\'"\n',
        "utf-8",
    )
    code, out, _ = run_cli(["check", str(manifest), "--format", "concise"], capsys)
    assert code == 1
    assert f"{manifest}:5:15: FQ701" in out
    code, _, err = run_cli(["query", "--manifest", str(manifest)], capsys)
    assert code == 1
    assert "error[FQ701]: the conviva-flow historical endpoint takes no granularity" in err
    assert f"--> {manifest}:5:15" in err
    code, _, err = run_cli(
        [
            "query",
            "conviva-flow",
            "historical",
            "--flow",
            "142",
            "--granularity",
            "PT1H",
            "--start=-1d",
            "--end=now",
        ],
        capsys,
    )
    assert code == 2
    assert "takes no granularity" in err


def test_what_check_accepts_in_the_examples_query_runs(capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples" / "queries.toml"
    code, _, err = run_cli(["check", str(examples)], capsys)
    assert code == 0, err
    code, out, err = run_cli(["query", "--manifest", str(examples), "--format", "json"], capsys)
    assert code == 0, err
    assert out.count('"api":') == 6


@pytest.mark.parametrize(
    ("option", "code_shown"),
    [
        ("--start=yesterday", "FQ702"),
        ("--start=99999999999999999999", "FQ702"),
        ("--start=-30m2h", "FQ702"),
        ("--tz=Mars/Olympus", "FQ702"),
    ],
)
def test_bad_times_are_diagnostics_never_tracebacks(
    option: str, code_shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["query", "conviva-flow", "historical", "--flow", "825", option, "--end=now"], capsys
    )
    assert code == 1
    assert out == ""
    assert f"error[{code_shown}]" in err
    assert "Traceback" not in err
