"""`flowql check` from the command line: formats (snapshots), exit codes, configuration,
suppressions, manifests and the start-up path.

The snapshots in tests/snapshots/check.<format>.txt are the output over tests/fixtures/check/;
refresh them with FLOWQL_UPDATE_SNAPSHOTS=1 (the test then fails once, to have them reviewed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowql.cli import main
from flowql.diagnostics import Severity

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def run(
    capsys: pytest.CaptureFixture[str], *args: str, cwd: Path = FIXTURES
) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args))
    finally:
        os.chdir(old)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "github", "sarif"])
def test_each_format_matches_its_snapshot(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, err = run(capsys, "check", "--format", fmt, ".")
    assert code == 1
    assert err == ""
    # The version is part of SARIF's tool description; keep the snapshot stable across releases.
    out = out.replace(f'"version": "{_version()}"', '"version": "X"')
    snapshot = SNAPSHOTS / f"check.{fmt}.txt"
    if os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(out, encoding="utf-8")
        pytest.fail(f"{snapshot.name} rewritten; review it and run again")
    assert out == snapshot.read_text(encoding="utf-8")
    if fmt in ("json", "sarif"):
        json.loads(out)


def _version() -> str:
    import flowql

    return flowql.__version__


def test_machine_formats_print_only_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("json", "sarif"):
        _, out, _ = run(capsys, "check", "--format", fmt, "clean.flowql")
        assert isinstance(json.loads(out), (list, dict))
    _, out, _ = run(capsys, "check", "--format", "github", "clean.flowql")
    assert out == ""


def test_exit_0_when_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "clean.flowql")
    assert code == 0
    assert out == "All checks passed (1 file checked).\n"


def test_warnings_alone_exit_0_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    expr = "browser_name == ''"
    assert run(capsys, "check", "--expr", expr)[0] == 0
    assert run(capsys, "check", "--strict", "--expr", expr)[0] == 1


def test_errors_exit_1_and_exit_zero_reports_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--expr", "geo_contry == 'Spain'")
    assert code == 1
    assert "did you mean 'geo_country'?" in out
    code, out, _ = run(capsys, "check", "--exit-zero", "--expr", "geo_contry == 'Spain'")
    assert code == 0
    assert "FQ101" in out


def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[query]]\nname = 'x'\nfilter = 'a == 1\n")
    code, out, err = run(capsys, "check", str(bad), cwd=tmp_path)
    assert code == 2
    assert "FQ802" in err
    assert "All checks passed" not in out
    model = tmp_path / "model.json"
    model.write_text("{not json")
    code, _, err = run(capsys, "check", "--model", str(model), "--expr", "a == 'b'", cwd=tmp_path)
    assert code == 2
    assert "FQ801" in err
    assert run(capsys, "check", str(tmp_path / "missing.flowql"), cwd=tmp_path)[0] == 2
    assert run(capsys, "check", "--format", "xml", "--expr", "a == 'b'")[0] == 2


def test_bad_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flowql]\nurl-limt = 4096\n")
    code, _, err = run(capsys, "check", "--expr", "geo_country == 'Spain'", cwd=tmp_path)
    assert code == 2
    assert "FQ803" in err
    assert "url-limit" in err


def test_configuration_applies_and_flags_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flowql]\nignore = ["FQ1"]\nflow = "825"\n')
    expr = "geo_contry == 'Spain' AND cdn == 'x'"
    assert run(capsys, "check", "--expr", expr, cwd=tmp_path)[0] == 0
    code, out, _ = run(capsys, "check", "--ignore", "FQ3", "--expr", expr, cwd=tmp_path)
    assert code == 1
    assert "FQ101" in out
    assert "FQ102" in out  # the configured flow (825) does not have cdn


def test_a_flowql_toml_is_found_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "flowql.toml").write_text('select = ["FQ0"]\n')
    assert run(capsys, "check", "--expr", "geo_contry == 'Spain'", cwd=tmp_path)[0] == 0


def test_select_keeps_only_what_it_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--select", "FQ2", "--format", "concise", "problems.flowql")
    assert code == 0
    assert [line.split()[1] for line in out.splitlines()[:-1]] == ["FQ202"]


def test_noqa_suppresses_its_line_and_unused_noqa_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.flowql"
    path.write_text("geo_contry == 'Spain'  # noqa: FQ101\n")
    assert run(capsys, "check", str(path), cwd=tmp_path)[0] == 0
    path.write_text("geo_country == 'Spain'  # noqa: FQ101\n")
    code, out, _ = run(capsys, "check", "--format", "concise", str(path), cwd=tmp_path)
    assert code == 0
    assert "FQ901" in out
    # A code that is not checked at all is not "unused".
    code, out, _ = run(capsys, "check", "--ignore", "FQ1", str(path), cwd=tmp_path)
    assert "FQ901" not in out


def test_manifest_positions_point_into_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", "--format", "json", "queries.toml")
    found = {d["code"]: d for d in json.loads(out)}
    assert (found["FQ102"]["line"], found["FQ102"]["column"]) == (11, 5)
    lines = (FIXTURES / "queries.toml").read_text().splitlines()
    assert lines[10][4:7] == "cdn"


def test_a_toml_file_without_queries_has_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cargo = tmp_path / "Cargo.toml"
    cargo.write_text('[package]\nname = "x"\n')
    code, out, _ = run(capsys, "check", str(cargo), cwd=tmp_path)
    assert code == 0
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.flowql").write_text("isp == 'Vodafone'\n")
    code, out, _ = run(capsys, "check", str(tmp_path), cwd=tmp_path)
    assert (code, out) == (0, "All checks passed (1 file checked).\n")


def test_a_bad_field_in_one_query_is_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        '[[query]]\nname = "a"\nflwo = "825"\nfilter = "geo_country == \'Spain\'"\n\n'
        '[[query]]\nname = "b"\nfilter = "geo_contry == \'Spain\'"\n'
    )
    code, out, _ = run(capsys, "check", "--format", "concise", str(path), cwd=tmp_path)
    assert code == 1
    assert f"{path}:3:1: FQ802" in out
    assert f"{path}:8:11: FQ101" in out


def test_url_budget_against_a_flow(capsys: pytest.CaptureFixture[str]) -> None:
    cities = ", ".join(f"'City number {i}'" for i in range(150))
    expr = f"geo_city IN ({cities})"
    code, out, _ = run(capsys, "check", "--flow", "825", "--format", "concise", "--expr", expr)
    assert code == 1
    assert "FQ501" in out
    assert "over the limit of 4,096" in out
    assert run(capsys, "check", "--flow", "825", "--url-limit", "100000", "--expr", expr)[0] == 0


def test_stdin_with_a_filename(capsys: pytest.CaptureFixture[str]) -> None:
    saved = sys.stdin
    sys.stdin = open(FIXTURES / "problems.flowql", encoding="utf-8")  # noqa: SIM115
    try:
        code, out, _ = run(
            capsys, "check", "--format", "concise", "--stdin-filename", "mine.flowql", "-"
        )
    finally:
        sys.stdin.close()
        sys.stdin = saved
    assert code == 1
    assert out.startswith("mine.flowql:2:1: FQ101")


def test_rules_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    from flowql.codes import CODES

    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0
    assert [r["code"] for r in json.loads(out)] == list(CODES)


def test_check_starts_without_heavy_modules(tmp_path: Path) -> None:
    # CI and pre-commit run `flowql check` on every commit: nothing on its path may import the
    # HTTP client or the REPL's libraries (nor Lark, a development tool).
    probe = (
        "import sys\n"
        "from flowql.cli import main\n"
        "code = main(['check', '--flow', '825', '--expr', \"geo_country == 'Spain'\"])\n"
        # nor the sql target's sqlglot, the polars target's polars, nor the engines of their tests
        "heavy = {'httpx', 'prompt_toolkit', 'pygments', 'lark', 'sqlglot', 'duckdb', 'polars',"
        " 'pygls', 'lsprotocol'}\n"
        "heavy &= set(sys.modules)\n"
        "print(sorted(heavy), code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.splitlines()[-1] == "[] 0"


def test_a_number_for_a_text_key_is_one_finding_not_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The type check (FQ201) and the Flow target's refusal (FQ601) are the same problem here.
    path = tmp_path / "q.toml"
    path.write_text(
        '[[query]]\nname = "rt"\nendpoint = "real-time"\nflow = "142"\n'
        'filter = "asn IN (701, 702) AND cdn == true"\n'
    )
    code, out, _ = run(capsys, "check", "--format", "concise", str(path), cwd=tmp_path)
    assert code == 1
    codes = [line.split()[1] for line in out.splitlines() if ": FQ" in line]
    assert codes == ["FQ201", "FQ201", "FQ201"]
    # Each one's repair (a quoted value) is unsafe: it changes what the filter matches.
    assert out.endswith("(3 hidden fixes can be enabled with the `--unsafe-fixes` option).\n")


def test_checking_in_several_processes_finds_the_same(tmp_path: Path) -> None:
    from flowql.checker.check import Checker, Input
    from flowql.checker.config import Config

    inputs = []
    for i in range(12):
        text = "".join(
            f'[[query]]\nname = "q{j}"\nflow = "{825 if j % 2 else 142}"\n'
            f"filter = \"geo_country == 'C{i}' AND {'cdn' if j % 3 else 'geo_contry'} == 'x'\"\n\n"
            for j in range(5)
        )
        inputs.append(Input(f"m{i:02}.toml", text, path=f"m{i:02}.toml", manifest=True))
    inputs.append(Input("broken.toml", "[[query]]\nname = 'x", path="broken.toml", manifest=True))

    def shape(result: object) -> list[tuple[str, str, int | None, int | None]]:
        return [
            (f.path, f.diagnostic.code, f.diagnostic.line, f.diagnostic.column)
            for f in result.findings + result.input_errors  # type: ignore[attr-defined]
        ]

    one = Checker(Config()).run(inputs, jobs=1)
    two = Checker(Config()).run(inputs, jobs=2)
    assert shape(one) == shape(two)
    assert one.count(Severity.ERROR) == two.count(Severity.ERROR) > 0
    assert two.inputs_checked == len(inputs)
    assert [f.diagnostic.hint for f in one.findings] == [f.diagnostic.hint for f in two.findings]


def test_checking_filters_written_in_another_targets_syntax(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = 'and(equals(flow_id,"T7K2j8"),any(send_chanel,["email","sms"]))'
    args = ["check", "--read", "klaviyo", "--target", "klaviyo-flow-report", "--format"]
    code, out, _ = run(capsys, *args, "concise", "--expr", text)
    assert code == 1
    assert out.splitlines()[0].startswith("<expr>:1:34: FQ101 [error] 'send_chanel'")
    clean = 'and(equals(flow_id,"T7K2j8"),any(send_channel,["email","sms"]))'
    assert run(capsys, *args, "concise", "--expr", clean)[0] == 0
    code, out, _ = run(
        capsys, "check", "--read", "klaviyo", "--format", "concise", "--expr", "less-than(x,5)"
    )
    assert code == 1
    assert "FQ601" in out
    assert run(capsys, "check", "--read", "python", "--expr", "x")[0] == 2
    assert run(capsys, "check", "--read", "klavio", "--expr", "x")[0] == 2


# --- colour, statistics, --output-file, --force-exclude, --watch, rules CODE -------------------


def check_snapshot(name: str, actual: str) -> None:
    snapshot = SNAPSHOTS / name
    if os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1":
        if not snapshot.exists() or snapshot.read_text(encoding="utf-8") != actual:
            snapshot.write_text(actual, encoding="utf-8")
            pytest.fail(f"{snapshot.name} rewritten; review it and run again")
        return
    assert actual == snapshot.read_text(encoding="utf-8"), f"{name} differs"


ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def test_colour_always_matches_its_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--color", "always", ".")
    assert code == 1
    assert err == ""
    check_snapshot("check.color.txt", out)
    # The colours are all it adds to the text format.
    assert ESCAPE.sub("", out) == (SNAPSHOTS / "check.text.txt").read_text(encoding="utf-8")
    _, concise, _ = run(capsys, "check", "--color", "always", "--format", "concise", ".")
    assert ESCAPE.sub("", concise) == (SNAPSHOTS / "check.concise.txt").read_text("utf-8")
    # The machine formats are never coloured.
    _, document, _ = run(capsys, "check", "--color", "always", "--format", "json", ".")
    assert "\x1b" not in document


def test_statistics_match_their_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--statistics", ".")
    assert code == 1  # the exit code is the check's
    assert err == ""
    check_snapshot("check.statistics.txt", out)
    code, out, _ = run(capsys, "check", "--statistics", "--format", "json", ".")
    entries = json.loads(out)
    assert code == 1
    assert {e["code"] for e in entries} == {
        "FQ101",
        "FQ102",
        "FQ202",
        "FQ301",
        "FQ303",
        "FQ601",
        "FQ901",
    }
    assert all(e["count"] == 1 for e in entries)
    assert {e["code"] for e in entries if e["fixable"]} == {"FQ303", "FQ901"}  # safe fixes
    assert run(capsys, "check", "--statistics", "clean.flowql")[:2] == (0, "")


def test_statistics_mark_what_fmt_fixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.flowql").write_text("geo_country=='Spain'\n", encoding="utf-8")
    (tmp_path / "b.flowql").write_text("geo_country  ==  'Spain'\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--statistics", ".", cwd=tmp_path)
    assert code == 0  # FQ402 is a warning
    assert out == "2  FQ402  [*] Text that flowql fmt would change.\n"


def _colour_probe(env: dict[str, str], *args: str, tty: bool) -> str:
    """What `flowql check` writes to stdout, a terminal (a pty) or a pipe."""
    argv = [sys.executable, "-m", "flowql", "check", *args, "problems.flowql"]
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    full_env.update(PYTHONPATH=str(ROOT), **env)
    if not tty:
        done = subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=FIXTURES)
        return done.stdout
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            argv, stdout=follower, stderr=subprocess.DEVNULL, env=full_env, cwd=FIXTURES
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal is closed once the process is gone
                break
            if not data:
                break
            chunks.append(data)
        process.wait()
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8")


def test_colour_on_a_terminal_unless_no_color_or_piped() -> None:
    assert "\x1b[1;31merror[FQ101]" in _colour_probe({}, tty=True)
    assert "\x1b" not in _colour_probe({"NO_COLOR": "1"}, tty=True)
    assert "\x1b" not in _colour_probe({}, "--color", "never", tty=True)
    assert "\x1b" not in _colour_probe({}, tty=False)
    # --color always wins over NO_COLOR, and over a pipe.
    assert "\x1b[1;31merror[FQ101]" in _colour_probe(
        {"NO_COLOR": "1"}, "--color", "always", tty=False
    )
    # An empty NO_COLOR is not set (no-color.org).
    assert "\x1b" in _colour_probe({"NO_COLOR": ""}, tty=True)


def test_output_file_holds_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "sarif"):
        report = tmp_path / f"report.{fmt}"
        code, out, err = run(capsys, "check", "--format", fmt, "-o", str(report), ".")
        assert (code, out, err) == (1, "", "")  # nothing on stdout; the exit code stays
        _, expected, _ = run(capsys, "check", "--format", fmt, ".")
        assert report.read_text(encoding="utf-8") == expected
    # Replaced, not appended to; a file is never coloured unless asked.
    code, _, _ = run(capsys, "check", "--output-file", str(report), "clean.flowql")
    assert code == 0
    assert report.read_text(encoding="utf-8") == "All checks passed (1 file checked).\n"
    stats = tmp_path / "stats.txt"
    assert run(capsys, "check", "--statistics", "-o", str(stats), ".")[0] == 1
    assert stats.read_text(encoding="utf-8") == (SNAPSHOTS / "check.statistics.txt").read_text(
        encoding="utf-8"
    )
    code, _, err = run(capsys, "check", "-o", str(tmp_path / "no" / "such" / "dir.txt"), ".")
    assert code == 2
    assert "cannot write the report" in err


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowql]\nexclude = ["vendor/**"]\n', encoding="utf-8"
    )
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "theirs.flowql").write_text("geo_contry=='x'\n", encoding="utf-8")
    (tmp_path / "ours.flowql").write_text("geo_country == 'Spain'\n", encoding="utf-8")
    return tmp_path


def test_force_exclude_applies_exclude_to_named_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    named = ("vendor/theirs.flowql", "ours.flowql")
    # Named on the command line, as pre-commit names them: checked, unless --force-exclude.
    code, out, _ = run(capsys, "check", "--format", "concise", *named, cwd=project)
    assert code == 1
    assert out.startswith("vendor/theirs.flowql:1:1: FQ101")
    code, out, _ = run(capsys, "check", "--force-exclude", *named, cwd=project)
    assert (code, out) == (0, "All checks passed (1 file checked).\n")
    # Every named path excluded: nothing to check is not an error.
    code, out, err = run(capsys, "check", "--force-exclude", named[0], cwd=project)
    assert (code, out, err) == (0, "All checks passed (0 files checked).\n", "")
    # A directory named is walked as before: exclude applies below it either way.
    assert run(capsys, "check", "--force-exclude", ".", cwd=project)[0] == 0
    # fmt leaves the excluded file as it is.
    theirs = project / "vendor" / "theirs.flowql"
    code, _, _ = run(capsys, "fmt", "--force-exclude", *named, cwd=project)
    assert code == 0
    assert theirs.read_text(encoding="utf-8") == "geo_contry=='x'\n"
    assert run(capsys, "fmt", "--check", named[0], cwd=project)[0] == 1


def test_force_exclude_applies_to_the_name_of_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    project = _project(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"geo_contry == 'x'\n")))
    argv = ("check", "--force-exclude", "--stdin-filename", "vendor/x.flowql", "-")
    code, out, _ = run(capsys, *argv, cwd=project)
    assert (code, out) == (0, "All checks passed (0 files checked).\n")
    # fmt gives an excluded buffer back as it was (an editor would otherwise lose it).
    text = b"geo_contry=='x'  # theirs\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    argv = ("fmt", "--force-exclude", "--stdin-filename", "vendor/x.flowql", "-")
    assert run(capsys, *argv, cwd=project)[:2] == (0, text.decode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    argv = ("fmt", "--force-exclude", "--stdin-filename", "mine.flowql", "-")
    assert run(capsys, *argv, cwd=project)[:2] == (0, "geo_contry == 'x'  # theirs\n")


def test_watch_checks_again_on_change_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import queue
    import signal
    import threading

    target = tmp_path / "f.flowql"
    target.write_text("geo_contry == 'Spain'\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "flowql", "check", "--watch", "f.flowql"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    reports: queue.Queue[str] = queue.Queue()  # stdout: the reports
    notes: list[str] = []  # stderr: "watching for changes", and nothing else

    def read_reports() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            reports.put(line)

    def read_notes() -> None:
        assert process.stderr is not None
        notes.extend(process.stderr)

    readers = [threading.Thread(target=f, daemon=True) for f in (read_reports, read_notes)]
    for reader in readers:
        reader.start()

    def wait_for(text: str) -> list[str]:
        seen: list[str] = []
        while True:
            # A bound so that a broken watch fails the test instead of hanging it.
            try:
                line = reports.get(timeout=60)
            except queue.Empty:
                pytest.fail(f"no {text!r} after {seen!r}; stderr {notes!r}")
            seen.append(line)
            if text in line:
                return seen

    def save(text: str) -> None:
        # In one step, as editors save: the watch never sees a half-written file.
        (tmp_path / "new.tmp").write_text(text, encoding="utf-8")
        os.replace(tmp_path / "new.tmp", target)

    try:
        assert any("error[FQ101]" in line for line in wait_for("Found 1 error in 1 file"))
        save("geo_country == 'Spain'  # fixed\n")
        wait_for("All checks passed (1 file checked).")
        save("geo_country == 'Spain' AND geo_country == 'France'\n")
        assert any("error[FQ301]" in line for line in wait_for("Found 1 error in 1 file"))
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join(timeout=10)
    assert code == 0
    # Ctrl-C ends the watch quietly: no traceback, only what the watch says between runs.
    assert notes
    assert set(notes) == {"flowql: watching for changes; Ctrl-C to stop\n"}


def test_watch_clears_a_terminal_before_each_run(tmp_path: Path) -> None:
    import io

    from flowql.cli.watch import watch

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    target = tmp_path / "f.flowql"
    target.write_text("a == 'b'\n", encoding="utf-8")
    out, err = Terminal(), io.StringIO()
    runs: list[str] = []

    def run() -> int:
        runs.append(out.getvalue())
        if len(runs) == 3:
            raise KeyboardInterrupt  # Ctrl-C during a run ends the watch too
        out.write(f"run {len(runs)}\n")
        target.write_text("a == 'b'" + " " * len(runs) + "\n", encoding="utf-8")  # a change
        return 1

    assert watch(run, [str(target)], out, err, interval=0.01) == 0
    clear = "\x1b[2J\x1b[3J\x1b[H"
    assert out.getvalue() == f"{clear}run 1\n{clear}run 2\n{clear}"
    assert err.getvalue() == "flowql: watching for changes; Ctrl-C to stop\n" * 2
    # Not a terminal: nothing but the reports.
    plain = io.StringIO()
    calls: list[int] = []

    def once() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        target.write_text("a == 'c'\n", encoding="utf-8")
        plain.write("report\n")
        return 0

    assert watch(once, [str(tmp_path)], plain, io.StringIO(), interval=0.01) == 0
    assert plain.getvalue() == "report\n"


def test_watch_needs_paths(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--watch", "--expr", "a == 'b'")
    assert code == 2
    assert "--watch needs files or directories" in err
    assert run(capsys, "check", "--watch", "-")[0] == 2


def test_rules_code_prints_its_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "rules", "FQ301")
    assert (code, err) == (0, "")
    check_snapshot("rules.FQ301.txt", out)
    code, out, _ = run(capsys, "rules", "fq402", "--format", "json")
    assert code == 0
    assert json.loads(out)["code"] == "FQ402"
    code, out, err = run(capsys, "rules", "FQ3011")
    assert (code, out) == (2, "")
    assert err == "flowql: error: no rule 'FQ3011'; did you mean 'FQ301'?\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_filter_files_read_as_they_are_checked_report_as_files_read_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jobs: str
) -> None:
    # check leaves .flowql files for the process that checks them to read: one that cannot be
    # read is an error (exit 2) with the same message, the others are checked, and a finding's
    # frame shows its file's text, byte order mark left out, as when the parent read them.
    for i in range(30):
        (tmp_path / f"f{i:02d}.flowql").write_text(f"geo_country == 'x{i}'\n", encoding="utf-8")
    (tmp_path / "f05.flowql").write_bytes(b"\xef\xbb\xbfgeo_contry == 'Spain'\n")
    (tmp_path / "f17.flowql").write_bytes(b"geo_country == '\xff'\n")
    (tmp_path / "q.toml").write_text("[[query]]\nfilter = \"cdn ~~ 'Akamai'\"\n", encoding="utf-8")
    code, out, err = run(capsys, "check", ".", "--jobs", jobs, cwd=tmp_path)
    assert code == 2
    assert err == "flowql: error: f17.flowql: not UTF-8 text (byte 0xff at offset 16)\n"
    assert " --> f05.flowql:1:1\n  |\n1 | geo_contry == 'Spain'\n" in out
    assert "Found 2 errors in 2 files (30 files checked)." in out
    code, out, _ = run(capsys, "check", ".", "--jobs", jobs, "--format", "json", cwd=tmp_path)
    assert code == 2
    assert [(f["file"], f["code"]) for f in json.loads(out)] == [
        ("f05.flowql", "FQ101"),
        ("q.toml", "FQ802"),
    ]
