"""``flowql repl < script``: a session replayed without prompts, for CI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from flowql.repl.batch import run_script
from flowql.repl.session import Session

ROOT = Path(__file__).resolve().parent.parent


# What `:flow 142` prints: the flow, its keys named, where their labels and the metrics are.
FLOW_142 = [
    "flow 142 Video Start (16 keys)",
    "  geo_country, geo_state, geo_city, device_operating_system, device_operating_system_version,",
    "  device_category, device_name, browser_name, browser_version, app_version, isp,",
    "  connection_type, cdn, asn, content_category, player_name",
    "  :keys shows their labels, :metrics the flow's 4 metrics",
]


def replay(script: str, session: Session | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_script(session or Session(), io.StringIO(script), out, err)
    return code, out.getvalue(), err.getvalue()


def test_commands_and_filters_in_order() -> None:
    code, out, err = replay(
        "# a dashboard query\n"
        ":flow 142\n"
        "\n"
        "geo_country == 'Spain' AND cdn ~~ 'akamai'\n"
        ":target conviva-sessions\n"
        "geo_country_name IN ('Spain', 'France')\n"
    )
    assert code == 0
    assert err == ""
    assert out.splitlines() == [
        *FLOW_142,
        "geo_country == 'Spain' AND cdn ~~ 'akamai'",
        "target conviva-sessions (built-in Sessions V3 demo dimensions, 32 keys)",
        "geo_country_name=Spain&geo_country_name=France",
    ]


def test_a_filter_spans_lines_until_it_is_whole() -> None:
    code, out, _ = replay(
        "(geo_country == 'Spain' OR\n"
        "  # a comment inside the filter\n"
        "  geo_country == 'France')\n"
        "AND cdn == 'x'\n"  # a filter of its own: the one before was whole
    )
    assert code == 1  # `AND cdn == 'x'` has nothing on its left
    assert out == "geo_country == 'Spain' OR geo_country == 'France'\n"


def test_the_first_error_stops_the_script_at_its_line() -> None:
    code, out, err = replay(":flow 825\ncdn == 'x'\n:target klaviyo\n")
    assert code == 1
    assert out.startswith("flow 825 Login Process (14 keys)\n  geo_country, ")
    assert out.endswith(":metrics the flow's 4 metrics\n")
    assert err.startswith("error[FQ102]: 'cdn' is not a dimension of flow 825 (Login Process)")
    assert " --> <stdin>:2:1\n" in err
    assert "2 | cdn == 'x'" in err


def test_a_multi_line_filter_is_placed_in_the_script() -> None:
    code, _, err = replay(":last 5m\n\n(geo_country == 'Spain' OR\n  geo_country = 'x')\n")
    assert code == 1
    assert " --> <stdin>:4:15\n" in err
    assert "4 |   geo_country = 'x')" in err


def test_a_script_that_ends_inside_a_filter_fails() -> None:
    code, out, err = replay("(geo_country == 'Spain' OR\n")
    assert code == 1
    assert out == ""
    assert "error[FQ005]" in err or "error[FQ012]" in err


def test_command_errors_name_the_line() -> None:
    code, _, err = replay(":last 5m\n:tagret klaviyo\n:flow 825\n")
    assert code == 1
    assert err == (
        "error[FQ804]: unknown command ':tagret'\n"
        " --> <stdin>:2\n"
        "  = help: did you mean :target?\n\n"
    )


def test_warnings_are_shown_and_do_not_fail() -> None:
    code, out, err = replay("cdn == 'a' OR cdn == 'b' AND asn == '1'\n")
    assert code == 0
    assert out == "cdn == 'a' OR (cdn == 'b' AND asn == '1')\n"
    assert err.startswith("warning[FQ401]")


def test_quit_ends_the_script() -> None:
    code, out, _ = replay(":quit\nthis is not a filter\n")
    assert (code, out) == (0, "")


def test_the_command_line_runs_a_script_from_standard_input(tmp_path: Path) -> None:
    env = {**os.environ, "FLOWQL_HISTORY": str(tmp_path / "history")}
    probe = (
        "import sys\n"
        "from flowql.cli import main\n"
        "code = main(['repl', '--target', 'klaviyo-flow-report'])\n"
        "heavy = {'prompt_toolkit', 'pygments', 'lark'} & set(sys.modules)\n"
        "print(sorted(heavy), code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=(
            ":last 7d\n:statistics opens\n:conversion RESQ6t\n"
            "send_channel IN ('email', 'sms')\n:show\n"
        ),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "time last 7d"
    assert lines[3] == 'contains-any(send_channel,["email","sms"])'
    assert '"key": "last_7_days"' in result.stdout
    # A replayed session needs none of the interactive machinery.
    assert lines[-1] == "[] 0"
    assert result.stderr == ""
    assert not (tmp_path / "history").exists()


def test_the_command_line_exit_codes(tmp_path: Path) -> None:
    def flowql(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flowql", "repl", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "FLOWQL_HISTORY": str(tmp_path / "history")},
        )

    failed = flowql(stdin="geo_country == 'Spain'\ngeo_country = 'x'\n")
    assert failed.returncode == 1
    assert failed.stdout == "geo_country == 'Spain'\n"
    assert failed.stderr.startswith("error[FQ006]")
    refused = flowql("--target", "klavio", stdin="")
    assert refused.returncode == 2
    assert "did you mean 'klaviyo'?" in refused.stderr
    assert flowql("--flow", "142", stdin="cdn == 'x'\n").returncode == 0


def _without_credentials(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "FLOWQL_HISTORY": str(tmp_path / "history")}
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY"):
        env.pop(name, None)
    return env


def test_a_script_runs_a_query_against_the_sandbox(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "repl"],
        input=":flow 142\n:last 10m\ngeo_country == 'Spain'\n:run\n:export rows.json\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_without_credentials(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:7] == [*FLOW_142, "time last 10m", "geo_country == 'Spain'"]
    assert lines[7].split()[:4] == ["timestamp", "Video", "Start", "Complete"]
    assert any(line.startswith("10 rows in ") and "from the sandbox" in line for line in lines)
    assert lines[-1].startswith("wrote 10 rows to rows.json (json, ")
    # Where the rows came from is said once, on standard error, and nothing else is.
    assert result.stderr.count("querying the built-in sandbox at http://127.0.0.1:") == 1
    assert result.stderr.count("\n") == 1
    records = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))["records"]
    assert len(records) == 10


def test_a_failed_run_ends_a_script_with_exit_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "repl", "--target", "klaviyo-flow-report"],
        input="send_channel == 'email'\n:run\n:show\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_without_credentials(tmp_path),
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == 'equals(send_channel,"email")\n'  # :show never ran
    assert result.stderr.startswith(
        "error[FQ712]: the flow-values report needs at least one statistic\n --> <stdin>:2\n"
    )
    assert "sandbox" not in result.stderr  # refused before anything started


def test_a_bad_argument_is_framed_in_its_line() -> None:
    from flowql.repl.batch import run_script
    from flowql.repl.session import Session

    out, err = io.StringIO(), io.StringIO()
    code = run_script(
        Session(), [":target conviva-flow", "# a comment", ":range yesterday now"], out, err
    )
    assert code == 1
    shown = err.getvalue()
    assert "error[FQ702]: 'yesterday' is not a time\n --> <stdin>:3:8\n" in shown
    assert "3 | :range yesterday now\n" in shown
    assert "  |        ^^^^^^^^^\n" in shown
