"""The command line: inputs, outputs, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowql.cli import main

GOOD = "device_os == 'Android' AND (geo_country == 'Spain' OR geo_city ~~ 'Madrid')"


class Stdin(io.TextIOWrapper):
    """A stand-in for sys.stdin with bytes behind it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")


def run(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        saved = sys.stdin
        sys.stdin = Stdin(stdin)
        try:
            code = main(list(args))
        finally:
            sys.stdin = saved
    else:
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_prints_the_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "parse", "--expr", "a == 'x' AND b IN (1, true)")
    assert code == 0
    assert err == ""
    assert out == (
        "And 1:1-1:28\n"
        "  Comparison == 1:1-1:9\n"
        "    Key a 1:1-1:2\n"
        "    String 'x' 1:6-1:9\n"
        "  In 1:14-1:28\n"
        "    Key b 1:14-1:15\n"
        "    Number 1 1:20-1:21\n"
        "    Boolean true 1:23-1:27\n"
    )


def test_parse_json_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "parse", "--format", "json", "--no-spans", "-e", "a != 'x'")
    assert code == 0
    assert json.loads(out) == {
        "type": "comparison",
        "key": {"type": "key", "name": "a"},
        "op": "!=",
        "value": {"type": "string", "value": "x"},
    }
    code, out, _ = run(capsys, "parse", "--format", "json", "-e", "a != 'x'", "-e", "b == 1")
    data = json.loads(out)
    assert [d["file"] for d in data] == ["<expr 1>", "<expr 2>"]
    assert data[1]["ast"]["value"] == {
        "type": "number",
        "value": 1,
        "span": {"start": 5, "end": 6, "line": 1, "column": 6, "end_line": 1, "end_column": 7},
    }


def test_parse_error_exits_1_with_the_frame_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "parse", "--expr", "a = 'x'")
    assert code == 1
    assert out == ""
    assert err.startswith("error[FQ006]: a single '=' is not a FlowQL operator\n --> <expr>:1:3\n")


def test_parse_error_as_json_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "parse", "--format", "json", "--expr", "a == 'x' AND")
    assert code == 1
    assert out == ""
    assert json.loads(err) == [
        {
            "file": "<expr>",
            "code": "FQ012",
            "severity": "error",
            "message": "the filter ends after AND",
            "line": 1,
            "column": 13,
            "end_line": 1,
            "end_column": 13,
            "hint": "add a comparison after AND, or remove the AND",
            "fix": None,
        }
    ]


def test_parse_reads_files_directories_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "one.flowql").write_text("# Spain\ngeo_country == 'Spain'\n")
    (tmp_path / "two.flowql").write_text("isp ~~ 'Vodafone'\n")
    (tmp_path / "notes.txt").write_text("not a filter")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.flowql").write_text("nope nope")
    code, out, _ = run(capsys, "parse", "--no-spans", str(tmp_path), "-", stdin=b"a == 'b'")
    assert code == 0
    names = [line for line in out.splitlines() if line.endswith(":")]
    assert names == [
        f"{tmp_path / 'sub' / 'one.flowql'}:",
        f"{tmp_path / 'two.flowql'}:",
        "<stdin>:",
    ]


def test_stdin_filename_names_stdin_in_messages(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "parse", "-", "--stdin-filename", "q.flowql", stdin=b"a = 'b'")
    assert code == 1
    assert " --> q.flowql:1:3" in err


def test_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "parse", str(tmp_path / "missing.flowql"))
    assert code == 2
    assert "no such file" in err
    bad = tmp_path / "latin1.flowql"
    bad.write_bytes(b"city == 'M\xe1laga'")
    code, _, err = run(capsys, "parse", str(bad))
    assert code == 2
    assert "not UTF-8 text (byte 0xe1 at offset 10)" in err
    code, _, err = run(capsys, "parse")
    assert code == 2
    assert "nothing to read" in err
    code, _, err = run(capsys, "parse", "-", "-", stdin=b"a == 'b'")
    assert code == 2


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "parse", "--no-such-flag")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys)[0] == 2
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("flowql ")


def test_a_byte_order_mark_is_not_a_syntax_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bom.flowql"
    path.write_bytes("\ufeffa == 'b'\n".encode())
    assert run(capsys, "parse", str(path))[0] == 0


# --- fmt ---------------------------------------------------------------------------------


def test_fmt_prints_inline_and_stdin_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "fmt", "--expr", "a=='x' and not b in ('y')")
    assert code == 0
    assert out == "a == 'x' AND NOT b IN ('y')\n"
    code, out, _ = run(capsys, "fmt", "-", stdin=b'x ~~ "q" or y == 1')
    assert (code, out) == (0, "x ~~ 'q' OR y == 1\n")


def test_fmt_rewrites_files_and_keeps_comments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.flowql"
    path.write_text("# Android in Spain\ndevice_os=='Android' and geo_country == \"Spain\" # ES\n")
    code, out, err = run(capsys, "fmt", str(path))
    assert code == 0
    assert out == ""
    assert "1 file reformatted" in err
    assert path.read_text() == (
        "# Android in Spain\ndevice_os == 'Android' AND geo_country == 'Spain'  # ES\n"
    )
    code, _, err = run(capsys, "fmt", str(path))
    assert code == 0
    assert "1 file already formatted" in err


def test_fmt_check_reports_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = tmp_path / "messy.flowql"
    messy.write_text("a=='x'\n")
    tidy = tmp_path / "tidy.flowql"
    tidy.write_text("a == 'x'\n")
    code, out, _ = run(capsys, "fmt", "--check", str(tmp_path))
    assert code == 1
    assert out == f"Would reformat: {messy}\n"
    assert messy.read_text() == "a=='x'\n"
    assert run(capsys, "fmt", "--check", str(tidy))[0] == 0
    assert run(capsys, "fmt", "--check", "--expr", "a == 'x'")[0] == 0
    assert run(capsys, "fmt", "--check", "--expr", "a=='x'")[0] == 1


def test_fmt_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.flowql"
    path.write_text("a=='x'\n")
    code, out, _ = run(capsys, "fmt", "--diff", str(path))
    assert code == 1
    assert "-a=='x'\n+a == 'x'\n" in out
    assert path.read_text() == "a=='x'\n"


def test_fmt_never_touches_a_file_it_cannot_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.flowql"
    path.write_text("a == 'x' AND\n")
    code, _, err = run(capsys, "fmt", str(path))
    assert code == 1
    assert "FQ012" in err
    assert path.read_text() == "a == 'x' AND\n"
    assert list(tmp_path.iterdir()) == [path]


def test_fmt_keeps_crlf_line_endings_and_file_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "win.flowql"
    path.write_bytes(b"# note\r\na=='x'\r\n")
    path.chmod(0o640)
    assert run(capsys, "fmt", str(path))[0] == 0
    assert path.read_bytes() == b"# note\r\na == 'x'\r\n"
    assert path.stat().st_mode & 0o777 == 0o640
    # A newline inside a value is data: it stays a bare LF.
    path.write_bytes(b"a=='x\ny'  # c\r\nAND b == 1\r\n")
    assert run(capsys, "fmt", str(path))[0] == 0
    assert path.read_bytes() == b"a == 'x\ny'  # c\r\nAND b == 1\r\n"


def test_console_script_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "parse", "--no-spans", "--expr", GOOD],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "And"


def test_only_the_command_that_runs_is_built() -> None:
    code = (
        "import sys\n"
        "from flowql.cli import main\n"
        "assert main(['check', '--expr', \"geo_country == 'Spain'\"]) == 0\n"
        "print(','.join(m for m in sys.modules if m.startswith(('flowql.client', 'flowql.repl',"
        " 'flowql.sandbox', 'flowql.server', 'pygls', 'lsprotocol'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ""


def test_server_without_pygls_says_which_extra_to_install() -> None:
    probe = (
        "import sys\n"
        "sys.modules['pygls'] = None\n"  # as if it were not installed
        "from flowql.cli import main\n"
        "sys.exit(main(['server']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "error[FQ806]" in done.stderr
    assert "pip install 'flowql[server]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["query", "model", "repl", "sandbox", "server", "check"])
def test_every_command_has_its_options_when_it_runs(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: flowql {command} ")
    assert "--" in out.split("options:")[1]  # its own options, not only -h


def test_the_top_level_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in (
        "parse",
        "fmt",
        "check",
        "compile",
        "query",
        "model",
        "rules",
        "repl",
        "server",
    ):
        assert f"    {command} " in out
    assert "    sandbox " in out


def test_commands_lists_every_command_of_the_parser() -> None:
    # main() builds only the parser of the command it runs, found in COMMANDS: a command left
    # out of it would never be built.
    import argparse

    from flowql.cli import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(sub.choices) == COMMANDS
    for command in COMMANDS:
        only = build_parser(command)
        built = next(a for a in only._actions if isinstance(a, argparse._SubParsersAction))
        # flowql/cli/query.py adds query and model together.
        together = ("query", "model") if command in ("query", "model") else (command,)
        assert tuple(built.choices) == together
