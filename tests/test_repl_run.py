"""``:run`` and ``:export``: the session's query run through the clients against an in-process
sandbox, the table and its footer, the python target over the last results, the sandbox's
values for completion, and exporting a result without ever losing a file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowql.errors import FlowQLError
from flowql.repl.batch import run_script
from flowql.repl.commands import Completions, execute
from flowql.repl.completion import complete
from flowql.repl.run import Runner, export, format_of
from flowql.repl.session import CommandError, Session
from flowql.results import Rows
from flowql.sandbox import Sandbox

CREDENTIALS = (
    "CONVIVA_CLIENT_ID",
    "CONVIVA_CLIENT_SECRET",
    "KLAVIYO_API_KEY",
    "FLOWXO_API_KEY",
)


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # One server for the module; no rate limits, so that report runs do not wait on each other.
    with Sandbox(seed=0, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def session(sandbox: Sandbox) -> Iterator[Session]:
    sandbox.faults.clear()
    s = Session(runner=Runner(sandbox=sandbox))
    s.width = 120
    s.expanded = "off"  # these tests read the cut table; test_expanded_and_pager reads the other
    yield s
    s.close()


def run(s: Session, line: str) -> str:
    return execute(s, line).text


def flat(text: str) -> str:
    """The text with its line breaks and runs of spaces as single spaces (footers wrap)."""
    return " ".join(text.split())


# --- running each target ------------------------------------------------------------------------


def test_the_first_run_says_once_that_the_sandbox_answers(session: Session) -> None:
    session.set_flow("825")
    first = execute(session, ":run device_operating_system == 'Android'")
    assert len(first.notes) == 1
    assert first.notes[0].startswith(
        "flowql: CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET not set: querying the built-in "
        "sandbox at http://127.0.0.1:"
    )
    lines = first.text.splitlines()
    assert lines[0].split("  ")[0] == "timestamp"
    assert lines[0].split()[1:3] == ["Login", "Process"]
    assert set(lines[1]) == {"-", " "}
    assert ", from the sandbox" in lines[-2] or ", from the sandbox" in lines[-1]
    assert session.filter == "device_operating_system == 'Android'"
    assert session.last_result is not None
    assert session.last_result.sent_filter == "device_operating_system == 'Android'"
    again = execute(session, ":run")
    assert again.notes == []
    # The sandbox is the one given: the runner neither started nor stops it.
    session.close()
    assert session.runner().sandbox is not None


def test_a_long_grouped_flow_range_is_fetched_in_windows_and_totals_are_summed(
    session: Session,
) -> None:
    session.set_flow("825")
    session.set_last("3h")
    session.set_group_by("geo_country")
    text = run(session, ":run device_operating_system == 'Android'")
    lines = text.splitlines()
    # One row per country: the windows are merged.
    assert lines[0].split()[:2] == ["geo_country", "country_code"]
    rows = next(line for line in lines if " rows in " in line)
    assert rows.endswith("s, from the sandbox; 3 windows fetched")
    countries = [line.split("  ")[0] for line in lines[2 : lines.index(rows)]]
    assert len(countries) == len(set(countries)) > 3
    totals = flat(" ".join(lines[lines.index(rows) + 1 :]))
    assert totals.startswith("totals: m_825_1 ")
    assert ", m_825_4 " in totals
    # Wrapped to the width, never cut: every word is there.
    assert totals.endswith("(merged across the windows); not recomputed: m_825_2")
    # Every line fits the session's width.
    assert max(len(line) for line in lines) <= 120
    # What the rows held now completes, as values of the keys.
    assert ("Spain", "last results") in session.values("geo_country")


def test_sessions_show_the_filter_keys_first_and_at_most_the_limit(session: Session) -> None:
    session.set_target("conviva-sessions")
    session.set_last("3h")
    session.set_limit("3")
    text = run(session, ":run device_os == 'Android'")
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["timestamps.start.iso_date", "device_os"]
    rows = [line for line in lines[2:] if line.startswith("20")]
    assert 1 <= len(rows) <= 3
    assert all(row.split()[1] == "Android" for row in rows)
    assert session.last_result is not None
    if len(session.last_result) > 3:
        assert "(the first 3 shown" in lines[-1]
    session.set_columns(["geo_country_name", "device_os"])
    assert run(session, ":run").splitlines()[0].split() == ["geo_country_name", "device_os"]


def test_a_klaviyo_report_says_what_to_set(session: Session) -> None:
    session.set_target("klaviyo-flow-report")
    session.set_last("30d")
    with pytest.raises(CommandError) as caught:
        execute(session, ":run send_channel == 'email'")
    assert caught.value.code == "FQ712"
    assert caught.value.hint is not None
    assert ":statistics clicks opens" in caught.value.hint
    run(session, ":statistics clicks opens")
    with pytest.raises(CommandError) as caught:
        execute(session, ":run")
    assert caught.value.code == "FQ711"
    assert caught.value.hint is not None
    assert ":conversion mjZe6P (the sandbox's Placed Order metric)" in caught.value.hint
    # The sandbox's metrics now complete after :conversion.
    found = complete(":conversion mj", _source(session))
    assert [(c.text, c.meta) for c in found] == [("mjZe6P", "Placed Order")]
    assert run(session, ":conversion mjZe6P") == "conversion metric mjZe6P (Placed Order)"
    text = run(session, ":run")
    header = text.splitlines()[0].split()
    assert header == ["send_channel", "flow_id", "flow_message_id", "clicks", "opens"]
    assert all(line.startswith("email ") for line in text.splitlines()[2:-1])


def test_statistics_complete_for_the_report(session: Session) -> None:
    session.set_target("klaviyo-segment-report")
    found = [c.text for c in complete(":statistics members_added t", _source(session))]
    assert found == ["total_members"]
    with pytest.raises(CommandError) as caught:
        execute(session, ":statistics clicsk")
    assert caught.value.hint == "did you mean clicks?"
    assert run(session, ":statistics total_members,members_added") == (
        "statistics total_members, members_added"
    )
    assert run(session, ":statistics none").startswith("statistics none set")


def test_klaviyo_metrics_and_the_general_klaviyo_target(session: Session) -> None:
    session.set_target("klaviyo-metrics")
    text = run(session, ":run integration.category == 'Internal'")
    assert text.splitlines()[0].split()[0] == "integration.category"
    assert "Placed Order" in text
    assert session.metrics["mjZe6P"] == "Placed Order"
    session.set_target("klaviyo")
    with pytest.raises(CommandError, match="no one endpoint to run") as caught:
        execute(session, ":run")
    assert caught.value.hint is not None
    assert ":target klaviyo-flow-report" in caught.value.hint


def test_the_sql_target_compiles_but_runs_nowhere(session: Session) -> None:
    session.set_target("sql")
    explained = run(session, ":explain geo_country == 'Spain'").splitlines()
    assert """sql                      NOT "geo_country" IS NULL AND "geo_country" = 'Spain'""" in (
        explained
    )
    with pytest.raises(CommandError, match="it has no API to run") as caught:
        execute(session, ":run geo_country == 'Spain'")
    assert caught.value.hint is not None
    assert ":target python" in caught.value.hint
    session.set_target("polars")
    with pytest.raises(CommandError, match="the polars target writes a polars expression"):
        execute(session, ":run geo_country == 'Spain'")
    session.set_target("pandas")
    assert (
        "pandas                   a pandas mask, for df[mask(df)]; nothing is sent"
        in run(session, ":explain geo_country == 'Spain'").splitlines()
    )
    with pytest.raises(CommandError, match="the pandas target writes a pandas mask"):
        execute(session, ":run geo_country == 'Spain'")


def test_the_python_target_filters_the_last_results_here(session: Session) -> None:
    session.set_target("python")
    with pytest.raises(CommandError, match="there are no results to filter yet"):
        execute(session, ":run geo_country == 'Spain'")
    session.set_target("conviva-sessions")
    session.set_last("3h")
    run(session, ":run device_os == 'Android'")
    fetched = session.fetched_result
    assert fetched is not None
    session.set_target("python")
    # The keys are now the results' columns, with their values.
    assert session.over_results
    assert "geo_country_name" in set(session.keys())
    assert run(session, ":model").startswith("model the last results' columns (records, ")
    assert session.check("geo_country_name == 'Spain' AND is_ended == true").ok
    text = run(session, ":run geo_country_name == 'Spain'")
    spain = [r for r in fetched.to_records() if r["geo_country_name"] == "Spain"]
    assert f"{len(spain)} of {len(fetched)} rows match in " in text
    assert "filtered here: geo_country_name == 'Spain'" in text
    assert session.last_result is not None
    assert len(session.last_result) == len(spain)
    # A second filter starts again from what the API returned, not from the filtered rows.
    run(session, ":run geo_country_name != 'Spain'")
    assert len(session.last_result) == len(fetched) - len(spain)


def test_a_query_the_api_would_refuse_fails_before_anything_is_sent(session: Session) -> None:
    runner = session.runner()
    session.set_flow("825")
    session.set_range("2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z")
    sandbox = runner.sandbox
    assert sandbox is not None
    sandbox.clear_log()
    with pytest.raises(FlowQLError) as caught:
        execute(session, ":run geo_country == 'Spain'")
    assert caught.value.code == "FQ703"
    assert sandbox.log == []


def test_a_filter_given_to_run_is_checked_first(session: Session) -> None:
    session.set_flow("825")
    with pytest.raises(FlowQLError) as caught:
        execute(session, ":run cdn == 'x'")
    assert caught.value.code == "FQ102"
    assert caught.value.source == "cdn == 'x'"
    assert session.filter is None


def test_some_windows_missing_prints_the_rest_and_fails(session: Session, sandbox: Sandbox) -> None:
    session.set_flow("825")
    session.set_last("3h")
    sandbox.faults.fail_next(1, status=404, api="conviva")
    outcome = execute(session, ":run geo_country == 'Spain'")
    assert outcome.failed
    assert outcome.warnings[0].code == "FQ732"
    assert "2 windows fetched" in flat(outcome.text)
    assert session.last_result is not None
    assert len(session.last_result.windows) == 2


def test_the_sandbox_gives_values_for_completion(session: Session) -> None:
    session.set_flow("142")
    run(session, ":run cdn == 'Akamai'")
    values = session.runner().values
    assert values is not None
    session.values("cdn")  # the first ask starts making them, in the background
    assert values.wait("conviva-flow")
    sandboxed = [v for v, where in session.values("cdn") if where == "sandbox"]
    assert "Fastly" in sandboxed
    # Nothing for an API the sandbox does not answer yet.
    session.set_target("klaviyo-flow-report")
    assert [w for _, w in session.values("send_channel") if w == "sandbox"] == []


def test_without_credentials_the_sandbox_values_complete_before_any_run() -> None:
    session = Session()
    runner = session.runner()
    runner.offer_sandbox_values(session)
    session.values("geo_country")  # the first ask starts making them, in the background
    values = runner.values
    assert values is not None
    assert values.wait("conviva-flow")
    assert "Spain" in [v for v, where in session.values("geo_country") if where == "sandbox"]
    session.set_target("klaviyo-flow-report")
    session.values("send_channel")
    assert values.wait("klaviyo-flow-report")
    assert "email" in [v for v, w in session.values("send_channel") if w in ("model", "sandbox")]
    assert runner.sandbox is None  # read from the data: nothing was started
    session.close()


def test_offering_the_sandbox_values_imports_no_sandbox_until_they_are_made() -> None:
    code = (
        "import sys\n"
        "from flowql.repl.session import Session\n"
        "session = Session()\n"
        "runner = session.runner()\n"
        "runner.offer_sandbox_values(session)\n"
        "values = runner.values\n"
        "assert values is not None\n"
        "assert 'flowql.sandbox' not in sys.modules, 'the offer imported the sandbox'\n"
        "session.values('geo_country')\n"
        "assert values.wait('conviva-flow')\n"
        "assert 'flowql.sandbox' in sys.modules\n"
        "assert 'Spain' in [v for v, w in session.values('geo_country') if w == 'sandbox']\n"
        "assert runner.sandbox is None\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr


def test_prefetch_makes_the_values_before_the_first_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLAVIYO_API_KEY", "set")  # Klaviyo's queries go to the account
    session = Session()
    runner = session.runner()
    runner.offer_sandbox_values(session)
    values = runner.values
    assert values is not None
    values.prefetch()
    assert values.wait("conviva-flow")
    # The first ask finds them made.
    assert "Spain" in [v for v, w in session.values("geo_country") if w == "sandbox"]
    session.set_target("klaviyo-flow-report")
    values.prefetch()
    assert not values.wait("klaviyo-flow-report")  # never asked for: nothing to make
    assert all(w != "sandbox" for _, w in session.values("send_channel"))
    assert runner.sandbox is None
    session.close()


def test_with_credentials_no_sandbox_values_are_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.setenv(name, "set")
    session = Session()
    session.runner().offer_sandbox_values(session)
    assert session.runner().values is None
    assert all(where != "sandbox" for _, where in session.values("geo_country"))


# --- scripts ------------------------------------------------------------------------------------


def replay(session: Session, script: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_script(session, io.StringIO(script), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_script_runs_and_exports(session: Session, tmp_path: Path) -> None:
    target = tmp_path / "spain.csv"
    code, out, err = replay(
        session,
        f":flow 142\n:last 2h\ngeo_country == 'Spain'\n:run\n:export {target}\n",
    )
    assert code == 0, err
    assert "2 windows fetched" in flat(out)
    assert out.splitlines()[-1].startswith(f"wrote {len(session.last_result or ())} rows to ")
    assert "querying the built-in sandbox" in err
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("timestamp,")


def test_a_failed_run_stops_a_script(session: Session, sandbox: Sandbox) -> None:
    code, out, err = replay(session, ":target klaviyo\nsend_channel == 'email'\n:run\n:q\n")
    assert code == 1
    assert "error[FQ804]: the klaviyo target is Klaviyo's general filter syntax" in err
    assert " --> <stdin>:3\n" in err
    sandbox.faults.fail_next(1, status=404, api="conviva")
    code, out, err = replay(
        session, ":target conviva-flow\n:flow 825\n:last 3h\n:run geo_country == 'Spain'\n:q\n"
    )
    assert code == 1
    assert "2 windows fetched" in flat(out)  # what was fetched is shown
    assert "error[FQ732]: 1 of 3 windows could not be fetched" in err
    code, _, err = replay(session, ":target conviva-flow\n:run nope ==\n")
    assert code == 1
    assert " --> <filter>:1:" in err  # a code frame of the filter given to :run


# --- export -------------------------------------------------------------------------------------


def test_export_writes_csv_and_json_and_never_overwrites(session: Session, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="there is no result to export yet"):
        execute(session, f":export {tmp_path / 'x.csv'}")
    session.set_flow("825")
    run(session, ":run geo_country == 'Spain'")
    result = session.last_result
    assert result is not None
    as_csv = tmp_path / "rows.csv"
    assert run(session, f":export {as_csv}").startswith(
        f"wrote {len(result)} rows to {as_csv} (csv"
    )
    assert as_csv.read_text(encoding="utf-8") == result.to_csv()
    data = tmp_path / "rows.data"
    run(session, f":export {data} json")
    assert (
        json.loads(data.read_text(encoding="utf-8"))["records"]
        == json.loads(result.to_json())["records"]
    )
    # An existing file is left as it is, unless --force.
    as_csv.write_text("mine\n", encoding="utf-8")
    with pytest.raises(CommandError, match="exists: it was left as it is") as caught:
        execute(session, f":export {as_csv}")
    assert caught.value.hint == f"give another name, or replace it: :export {as_csv} --force"
    assert as_csv.read_text(encoding="utf-8") == "mine\n"
    run(session, f":export --force {as_csv}")
    assert as_csv.read_text(encoding="utf-8") == result.to_csv()
    # No temporary file is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "rows.data"]


def test_export_refuses_what_it_cannot_name_or_place(session: Session, tmp_path: Path) -> None:
    session.set_flow("825")
    run(session, ":run geo_country == 'Spain'")
    with pytest.raises(CommandError, match="cannot tell the format of"):
        execute(session, f":export {tmp_path / 'rows.txt'}")
    with pytest.raises(CommandError, match="is a directory"):
        execute(session, f":export {tmp_path} csv")
    with pytest.raises(CommandError, match="cannot write"):
        execute(session, f":export {tmp_path / 'missing' / 'rows.csv'}")
    with pytest.raises(CommandError, match="usage: :export PATH"):
        execute(session, ":export")
    assert format_of("A.JSON") == "json"
    assert list(tmp_path.iterdir()) == []


def test_no_secret_reaches_an_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "s3cr3t-for-the-test-only"
    monkeypatch.setenv("CONVIVA_CLIENT_ID", "me")
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", secret)
    with Sandbox(seed=0, secret=secret, rate_limits=False) as sb:
        # Credentials from the environment, sent to this server: no sandbox is started.
        session = Session(runner=Runner(base_urls={"conviva-flow": sb.url}))
        try:
            session.set_flow("825")
            outcome = execute(session, ":run geo_country == 'Spain'")
            assert outcome.notes == []
            assert "from the sandbox" not in outcome.text
            assert session.runner().sandbox is None
            for name in ("rows.csv", "rows.json"):
                execute(session, f":export {tmp_path / name}")
                assert secret not in (tmp_path / name).read_text(encoding="utf-8")
        finally:
            session.close()
    echoed = Rows(api="conviva-flow", endpoint="real-time", rows=({"said": secret},))
    with pytest.raises(CommandError, match="holds the value of CONVIVA_CLIENT_SECRET"):
        export(echoed, str(tmp_path / "echo.csv"))
    assert not (tmp_path / "echo.csv").exists()


def _source(session: Session) -> Completions:
    return Completions(session)


def test_the_sandbox_a_runner_starts_is_stopped_at_close() -> None:
    session = Session()
    session.set_flow("825")
    run(session, ":run geo_country == 'Spain'")
    sandbox = session.runner().sandbox
    assert sandbox is not None
    url = sandbox.url
    session.close()
    assert not sandbox.running
    assert session.runner().sandbox is None
    assert url.startswith("http://127.0.0.1:")
    assert os.environ.get("CONVIVA_CLIENT_ID") is None


def test_clients_are_kept_between_runs(session: Session, sandbox: Sandbox) -> None:
    def clients() -> int:
        return sum(t.name == "flowql-client" for t in threading.enumerate())

    before = clients()
    session.set_flow("825")
    sandbox.clear_log()
    for _ in range(3):
        run(session, ":run geo_country == 'Spain'")
    # One client for the three runs: the data model is not fetched, and no client is remade.
    assert clients() == before + 1
    assert [entry.path.split("/")[2] for entry in sandbox.log] == ["real-time-metrics"] * 3


def test_expanded_and_pager(session: Session) -> None:
    from flowql.repl.commands import execute

    assert execute(session, ":expanded").text == "expanded off"
    assert execute(session, ":expanded on").text == "expanded on"
    with pytest.raises(FlowQLError) as caught:
        execute(session, ":expanded sideways")
    assert "usage: :expanded" in caught.value.diagnostics[0].message
    assert execute(session, ":pager off").text == "pager off"
    assert session.pager is False
    execute(session, ":target conviva-sessions")
    session.set_last("3h")
    execute(session, ":limit 2")
    out = execute(session, ":run device_os == 'Android'").text
    lines = out.splitlines()
    assert lines[0].startswith("-[ RECORD 1 ]")
    assert sum(line.startswith("-[ RECORD ") for line in lines) == 2
    assert all(len(line) <= 120 for line in lines)
    execute(session, ":expanded auto")
    execute(session, ":columns session_id")
    assert execute(session, ":run").text.splitlines()[0] == "session_id"  # it fits: a table
