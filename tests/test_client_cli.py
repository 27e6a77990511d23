"""Tests for ``flowql query`` and ``flowql model pull`` that need no server: usage errors
(exit 2), queries refused before any request (exit 1, shown like ``flowql check`` shows
findings), plain http refused, and the table format."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flowql.cli import main
from flowql.display import table
from flowql.results import Rows


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "mixpanel", "events"], "unknown API 'mixpanel'"),
        (["query", "conviva-flow", "weekly"], "conviva-flow has no endpoint 'weekly'"),
        (
            ["query", "conviva-flow", "real-time", "--flow", "825", "--limit", "5"],
            "the conviva-flow real-time endpoint takes no limit",
        ),
        (
            ["query", "klaviyo", "metrics", "--timeframe", "last_7_days"],
            "the klaviyo metrics endpoint takes no timeframe",
        ),
        (
            ["query", "conviva-flow", "data-model", "--filter", "a == 'b'"],
            "data-model takes no query fields",
        ),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_a_missing_flow_is_a_finding_at_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "query", "conviva-flow", "real-time")
    assert (code, out) == (1, "")
    assert "error[FQ701]: flow_id is required (a non-empty id)" in err
    code, _, err = run(capsys, "query", "conviva-flow", "real-time", "--flow", "")
    assert code == 1
    assert " --> <command line>:1:37" in err


def test_a_query_the_server_would_reject_exits_1_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "query", "conviva-flow", "historical", "--flow", "825", "--start=-9d", "--end=now"
    )
    assert code == 1
    assert out == ""
    assert err.startswith("error[FQ703]: the start")
    assert "sandbox" not in err  # nothing was started, nothing was sent


def test_a_filter_problem_is_shown_with_a_code_frame(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "query", "conviva-sessions", "content", "--filter", "device_os != 'iOS'"
    )
    assert code == 1
    assert "error[FQ714]" in err
    assert "error[FQ601]" in err
    assert " --> <filter>:1:1" in err
    assert "1 | device_os != 'iOS'" in err
    assert "--post-filter" in err


def test_plain_http_to_another_host_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWXO_API_KEY", "fx-secret-key")
    code, _, err = run(
        capsys, "query", "flowxo", "insights", "--base-url", "http://flowxo.com/api/"
    )
    assert code == 1
    assert "error[FQ720]" in err
    assert "fx-secret-key" not in err


def test_model_alone_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "model")
    assert code == 2
    assert "pull" in err


def test_the_table_format_aligns_and_cuts_cells() -> None:
    result = Rows(
        api="flowxo",
        endpoint="top-flows",
        rows=({"flow_name": "Text Me", "count": 19}, {"flow_name": "x" * 60, "count": 1}),
    )
    lines = table(result, max_width=10).splitlines()
    assert lines[0] == "flow_name   count"
    assert lines[1] == "----------  -----"
    assert lines[2] == "Text Me        19"  # numbers right-aligned, and their heading
    assert lines[3] == "xxxxxxxxx\u2026      1"
    assert table(Rows(api="flowxo", endpoint="top-flows")) == "(no rows)\n"


def test_building_the_parser_imports_no_client() -> None:
    code = (
        "import sys, flowql.cli\n"
        "flowql.cli.build_parser()\n"
        "print(sorted({'httpx', 'flowql.sandbox', 'flowql.client._core'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_progress_shows_only_on_a_terminal_with_an_eta() -> None:
    import io

    from flowql.cli.query import _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert _progress(io.StringIO()) is None
    terminal = Terminal()
    times = iter([100.0, 102.0, 104.5, 112.0])  # the start, then one reading per window
    show = _progress(terminal, clock=lambda: next(times))
    assert show is not None
    show(1, 3)  # 2s for the first: the two others about 4s
    show(2, 3)  # 4.5s for two: the last about 2.2s
    show(3, 3)
    assert terminal.getvalue() == (
        "\rflowql: fetched 1 of 3 windows, about 4.0s left\x1b[K"
        "\rflowql: fetched 2 of 3 windows, about 2.2s left\x1b[K"
        "\rflowql: fetched 3 of 3 windows in 12s\x1b[K\n"
    )


def test_progress_of_a_real_fetch_reaches_a_terminal_and_never_a_pipe() -> None:
    """`flowql query` over 3 hours (3 windows) with its stderr a pty shows the windows arriving
    and an ETA; with stderr a pipe, nothing of the kind is written."""
    import pty

    command = [
        sys.executable,
        "-m",
        "flowql",
        "query",
        "conviva-flow",
        "historical",
        "--flow",
        "825",
        "--start=-3h",
        "--end=now",
        "--format",
        "csv",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVIVA_", "KLAVIYO_"))}
    main, secondary = pty.openpty()
    try:
        on_terminal = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=secondary, env=env, timeout=60, check=True
        )
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the pty's other side is closed: all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
    text = shown.decode()
    assert "flowql: fetched 1 of 3 windows, about " in text
    assert "s left" in text
    assert "flowql: fetched 3 of 3 windows in " in text
    assert b"fetched" not in on_terminal.stdout  # progress never goes into the results
    piped = subprocess.run(command, capture_output=True, env=env, timeout=60, check=True)
    assert b"fetched" not in piped.stderr
    assert b"\r" not in piped.stderr
    assert piped.stdout.count(b"\n") == on_terminal.stdout.count(b"\n")
