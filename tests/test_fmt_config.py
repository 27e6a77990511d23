"""`flowql fmt` and `flowql check` share one configuration: discovery, `--config`, `line-length`,
`include` and `exclude`, flags over the file; `check --show-settings`; and the invariant that
after `flowql fmt` a file gets no FQ402 from `flowql check`, whatever the configuration."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import filters

from flowql.ast import Expr
from flowql.checker.config import Config, describe
from flowql.cli import main
from flowql.formatter import format_file
from flowql.validate import validate

# Two comparisons of the demo model: 55 characters, so one line at 88 and two lines at 40.
LONG = "geo_country == 'Spain' AND device_category == 'Mobile'"
BROKEN = "geo_country == 'Spain'\nAND device_category == 'Mobile'\n"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def fq402(out: str) -> list[str]:
    """The files `check --format json` reports FQ402 in."""
    return [f["file"] for f in json.loads(out) if f["code"] == "FQ402"]


# --- the bug: fmt read no configuration ---------------------------------------------------------


def test_fmt_uses_the_line_length_check_reports_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nline-length = 40\n")
    path = write(tmp_path / "filters" / "spain.flowql", LONG + "\n")

    code, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")
    assert code == 0  # FQ402 is a warning
    assert fq402(out) == [os.path.join("filters", "spain.flowql")]

    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", ".")
    assert (code, err) == (0, "1 file reformatted\n")
    assert path.read_text(encoding="utf-8") == BROKEN

    code, out, _ = run(capsys, monkeypatch, tmp_path, "check", ".")
    assert (code, out) == (0, "All checks passed (1 file checked).\n")
    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", "--check", ".")
    assert (code, err) == (0, "1 file already formatted\n")


def test_fmt_finds_the_configuration_from_the_working_directory_upward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "flowql.toml", "line-length = 40\n")
    path = write(tmp_path / "a" / "b" / "spain.flowql", LONG + "\n")
    assert run(capsys, monkeypatch, tmp_path / "a" / "b", "fmt", "spain.flowql")[0] == 0
    assert path.read_text(encoding="utf-8") == BROKEN


def test_fmt_skips_what_exclude_lists_when_it_walks_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.flowql]\nexclude = ["drafts", "*.tmp.flowql"]\n')
    messy = "geo_country=='Spain'\n"
    kept = [
        write(tmp_path / "drafts" / "a.flowql", messy),
        write(tmp_path / "sub" / "drafts" / "b.flowql", messy),
        write(tmp_path / "sub" / "c.tmp.flowql", messy),
    ]
    taken = write(tmp_path / "sub" / "d.flowql", messy)

    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", ".")
    assert (code, err) == (0, "1 file reformatted\n")
    assert taken.read_text(encoding="utf-8") == "geo_country == 'Spain'\n"
    assert [p.read_text(encoding="utf-8") for p in kept] == [messy] * 3
    # check walks the same files.
    assert run(capsys, monkeypatch, tmp_path, "check", ".")[1] == (
        "All checks passed (1 file checked).\n"
    )
    # A file named on the command line is taken, excluded or not (as check does).
    assert run(capsys, monkeypatch, tmp_path, "fmt", "drafts/a.flowql")[0] == 0
    assert kept[0].read_text(encoding="utf-8") == "geo_country == 'Spain'\n"


def test_fmt_and_check_take_the_files_include_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "flowql.toml", 'include = ["*.fql", "queries/*.toml"]\n')
    taken = write(tmp_path / "f" / "spain.fql", "geo_country=='Spain'\n")
    skipped = write(tmp_path / "f" / "spain.flowql", "geo_country=='Spain'\n")
    manifest = (
        "[[query]]\nname = 'q'\nendpoint = 'real-time'\nflow = '825'\n"
        "filter = \"geo_country=='Spain'\"\n"  # not formatted: FQ402 is not checked here
    )
    write(tmp_path / "queries" / "q.toml", manifest)
    write(tmp_path / "other" / "q.toml", manifest)

    code, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")
    assert code == 0
    assert fq402(out) == [os.path.join("f", "spain.fql")]  # no FQ402 in a manifest
    code, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--format", "concise", ".")
    assert "(2 files checked)" in out  # the .fql file and queries/q.toml, not other/q.toml

    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", ".")
    assert (code, err) == (0, "1 file reformatted\n")  # manifests are not fmt's
    assert taken.read_text(encoding="utf-8") == "geo_country == 'Spain'\n"
    assert skipped.read_text(encoding="utf-8") == "geo_country=='Spain'\n"
    assert (tmp_path / "queries" / "q.toml").read_text(encoding="utf-8") == manifest


def test_fmt_reads_the_file_given_with_config_and_searches_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nline-length = 120\n")
    write(tmp_path / "ci" / "strict.toml", "line-length = 40\n")
    path = write(tmp_path / "spain.flowql", LONG + "\n")

    assert run(capsys, monkeypatch, tmp_path, "fmt", "--check", ".")[0] == 0
    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", "--config", "ci/strict.toml", ".")
    assert (code, err) == (0, "1 file reformatted\n")
    assert path.read_text(encoding="utf-8") == BROKEN
    # The same file gives check the same line length: the broken layout passes.
    args = ("check", "--config", "ci/strict.toml", "--format", "json", ".")
    assert fq402(run(capsys, monkeypatch, tmp_path, *args)[1]) == []
    # ... and the pyproject.toml's 120 would join it again.
    _, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")
    assert fq402(out) == ["spain.flowql"]


def test_the_line_length_flag_wins_over_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nline-length = 40\n")
    path = write(tmp_path / "spain.flowql", BROKEN)

    assert run(capsys, monkeypatch, tmp_path, "fmt", "--check", ".")[0] == 0
    code, _, err = run(capsys, monkeypatch, tmp_path, "fmt", "--line-length", "88", ".")
    assert (code, err) == (0, "1 file reformatted\n")
    assert path.read_text(encoding="utf-8") == LONG + "\n"
    _, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")
    assert fq402(out) == ["spain.flowql"]
    args = ("check", "--line-length", "88", "--format", "json", ".")
    assert fq402(run(capsys, monkeypatch, tmp_path, *args)[1]) == []


@pytest.mark.parametrize("command", ["fmt", "check"])
@pytest.mark.parametrize("value", ["0", "-3", "wide"])
def test_a_line_length_that_is_not_positive_is_a_usage_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    value: str,
) -> None:
    path = write(tmp_path / "a.flowql", "a=='x'\n")
    code, out, err = run(capsys, monkeypatch, tmp_path, command, f"--line-length={value}", ".")
    assert (code, out) == (2, "")
    assert f"argument --line-length: must be a positive whole number, not '{value}'" in err
    assert path.read_text(encoding="utf-8") == "a=='x'\n"


@pytest.mark.parametrize("args", [(), ("--check",), ("--diff",)])
def test_a_bad_configuration_stops_fmt_as_it_stops_check(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.flowql]\nline-lenght = 40\nexclude = "drafts"\n')
    path = write(tmp_path / "a.flowql", "a=='x'\n")
    code, out, err = run(capsys, monkeypatch, tmp_path, "fmt", *args, ".")
    assert (code, out) == (2, "")
    _, _, check_err = run(capsys, monkeypatch, tmp_path, "check", ".")
    assert err == check_err
    assert err.startswith("error[FQ803]: unknown setting 'line-lenght' in [tool.flowql]\n")
    assert f"--> {tmp_path / 'pyproject.toml'}:2:1\n" in err
    assert "help: did you mean 'line-length'?" in err
    assert "error[FQ803]: 'exclude' in [tool.flowql] must be an array of strings" in err
    assert "Traceback" not in err
    assert path.read_text(encoding="utf-8") == "a=='x'\n"


def test_a_missing_config_file_is_fq803_for_fmt_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.flowql", "a == 'x'\n")
    code, out, err = run(capsys, monkeypatch, tmp_path, "fmt", "--config", "nope.toml", ".")
    assert (code, out) == (2, "")
    assert err.startswith("error[FQ803]: nope.toml: cannot read")


# --- line breaks and final newlines: fmt and check agree ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a == 1 and b == 2\r\n",
        "# note\r\na == 1 and\r\n  b == 2  # why\r\n",
        "\ufeffa == 1 AND\r\nb == 2\r\n",
        "a == 1",
        "# note\na == 1",
    ],
)
def test_check_and_fmt_agree_on_line_endings_and_final_newlines(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
) -> None:
    path = write(tmp_path / "a.flowql", text)
    assert fq402(run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")[1]) == [
        "a.flowql"
    ]
    assert run(capsys, monkeypatch, tmp_path, "fmt", "--check", ".")[0] == 1
    assert run(capsys, monkeypatch, tmp_path, "fmt", ".")[0] == 0
    written = path.read_bytes().decode("utf-8")
    assert ("\r\n" in written) == ("\r\n" in text)
    assert written.startswith("\ufeff") == text.startswith("\ufeff")
    assert fq402(run(capsys, monkeypatch, tmp_path, "check", "--format", "json", ".")[1]) == []
    assert run(capsys, monkeypatch, tmp_path, "fmt", "--check", ".")[0] == 0


def test_inline_and_stdin_text_needs_no_final_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a == 1"), encoding="utf-8"))
    assert fq402(run(capsys, monkeypatch, tmp_path, "check", "--format", "json", "-")[1]) == []
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a==1"), encoding="utf-8"))
    assert fq402(run(capsys, monkeypatch, tmp_path, "check", "--format", "json", "-")[1]) == [
        "<stdin>"
    ]


# --- check --show-settings ----------------------------------------------------------------------


def test_show_settings_with_a_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.flowql]\nmodel = "models/m.json"\nflow = "825"\nline-length = 40\n'
        'ignore = ["fq401"]\nexclude = ["drafts"]\n',
    )
    (tmp_path / "sub").mkdir()
    code, out, err = run(capsys, monkeypatch, tmp_path / "sub", "check", "--show-settings")
    assert (code, err) == (0, "")
    assert out == (
        f"config file: {tmp_path / 'pyproject.toml'} ([tool.flowql])\n"
        f"patterns relative to: {tmp_path}\n"
        f'model = "{tmp_path / "models" / "m.json"}"\n'
        "target = none (Conviva Flow)\n"
        'flow = "825"\n'
        "endpoint = none\n"
        "klaviyo-revision = none (the newest revision flowql holds the spec of)\n"
        "url-limit = 4096\n"
        "select = [] (every code)\n"
        'ignore = ["FQ401"]\n'
        'include = ["*.flowql", "*.toml"]\n'
        'exclude = ["drafts"]\n'
        "line-length = 40\n"
        "strict = false\n"
    )


def test_show_settings_without_a_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, tmp_path, "check", "--show-settings")
    assert code == 0
    if "config file: none found" not in out:  # pragma: no cover - a configuration above tmp
        pytest.fail(f"a flowql configuration above {tmp_path} makes this test meaningless")
    # Paths at or below the working directory are shown relative to it.
    assert out.splitlines()[:2] == [
        "config file: none found from . upward; the defaults apply",
        "patterns relative to: .",
    ]
    assert out == describe(Config(), start=str(tmp_path))
    assert "line-length = 88\n" in out
    assert "model = none (the built-in demo model)\n" in out


def test_show_settings_merges_the_flags_and_checks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "ci.toml", 'line-length = 40\nselect = ["FQ1"]\nurl-limit = 2000\n')
    write(tmp_path / "broken.flowql", "a = = \n")
    args = [
        "check",
        "--config",
        "ci.toml",
        "--show-settings",
        "--line-length",
        "100",
        "--select",
        "fq2,FQ3",
        "--target",
        "conviva-sessions",
        "--strict",
        "broken.flowql",
    ]
    code, out, err = run(capsys, monkeypatch, tmp_path, *args)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "config file: ci.toml"
    assert 'select = ["FQ2", "FQ3"]' in lines
    assert 'target = "conviva-sessions"' in lines
    assert "line-length = 100" in lines
    assert "url-limit = 2000" in lines  # from the file: no flag given
    assert "strict = true" in lines
    assert "FQ0" not in out  # the broken file was not read


def test_show_settings_of_a_bad_configuration_is_fq803(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "flowql.toml", "line-length = 0\n")
    code, out, err = run(capsys, monkeypatch, tmp_path, "check", "--show-settings")
    assert (code, out) == (2, "")
    assert err.startswith("error[FQ803]: 'line-length' in flowql.toml must be a positive whole")


# --- the invariant, for any filter and configuration --------------------------------------------

configurations = st.fixed_dictionaries(
    {
        "line_length": st.integers(20, 140),
        # Where the settings come from: pyproject.toml, flowql.toml, --config FILE, flags only.
        "where": st.sampled_from(["pyproject", "flowql", "config", "none"]),
        # The same --line-length given to both commands, over the file's.
        "flag": st.none() | st.integers(20, 140),
        # How the file is named: a directory walk (include, exclude apply) or its path.
        "walk": st.booleans(),
        "suffix": st.sampled_from([".flowql", ".fql"]),
        "crlf": st.booleans(),
        "bom": st.booleans(),
        "final_newline": st.booleans(),
    }
)


def _main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _file_text(text: str, setup: dict[str, object]) -> str:
    body = text.rstrip("\n") + "\n" if setup["final_newline"] else text.rstrip("\n")
    if setup["crlf"]:
        body = body.replace("\n", "\r\n")
    return "\ufeff" + body if setup["bom"] else body


# Each example runs the command line twice (about 20 ms each, mostly building the argument
# parser): few examples here, many in the library-level property below.
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=filters(max_depth=3), setup=configurations)
def test_after_fmt_check_reports_no_fq402(
    tmp_path_factory: pytest.TempPathFactory, pair: tuple[Expr, str], setup: dict[str, object]
) -> None:
    _, text = pair
    directory = tmp_path_factory.mktemp("fmtcheck")
    length, where, flag = setup["line_length"], setup["where"], setup["flag"]
    suffix = str(setup["suffix"])
    lines = [f"line-length = {length}", 'exclude = ["drafts"]']
    if suffix != ".flowql":
        lines.append(f'include = ["*{suffix}"]')
    settings_text = "\n".join(lines) + "\n"
    options: list[str] = []
    if where == "pyproject":
        write(directory / "pyproject.toml", "[tool.flowql]\n" + settings_text)
    elif where == "flowql":
        write(directory / "flowql.toml", settings_text)
    elif where == "config":
        write(directory / "settings" / "ci.toml", settings_text)
        options += ["--config", os.path.join("settings", "ci.toml")]
    if flag is not None:
        options += ["--line-length", str(flag)]
    effective = flag if flag is not None else length if where != "none" else 88
    assert isinstance(effective, int)

    body = _file_text(text, setup)
    name = "filter" + suffix
    path = write(directory / "in" / name, body)
    # A file that exclude skips while walking; with include, a .flowql file it does not take.
    untouched = [write(directory / "drafts" / name, body)]
    if suffix != ".flowql":
        untouched.append(write(directory / "in" / "other.flowql", body))
    target = "." if setup["walk"] and where != "none" else os.path.join("in", name)
    expected = format_file(body, line_length=effective)
    event("fmt changes the file" if expected != body else "the file is formatted")

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        summary = "1 file reformatted\n" if expected != body else "1 file already formatted\n"
        assert _main("fmt", *options, target) == (0, "", summary)
        check = ("check", *options, "--select", "FQ402", "--format", "concise", target)
        assert _main(*check) == (0, "All checks passed (1 file checked).\n", "")
    assert path.read_bytes().decode("utf-8") == expected
    assert [p.read_bytes().decode("utf-8") for p in untouched] == [body] * len(untouched)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=filters(max_depth=3), setup=configurations)
def test_fq402_is_reported_exactly_when_fmt_would_change_the_file(
    pair: tuple[Expr, str], setup: dict[str, object]
) -> None:
    # What check runs on a file's text (its byte order mark removed) against what fmt writes.
    length = setup["line_length"]
    assert isinstance(length, int)
    body = _file_text(pair[1], setup)
    bom = "\ufeff" if body.startswith("\ufeff") else ""

    def reported(text: str) -> bool:
        found = validate(text[len(bom) :], select=["FQ402"], line_length=length, final_newline=True)
        return [d.code for d in found] == ["FQ402"]

    formatted = format_file(body, line_length=length)
    event("FQ402" if formatted != body else "no FQ402")
    assert reported(body) == (formatted != body)
    assert not reported(formatted)
    assert format_file(formatted, line_length=length) == formatted
    assert formatted.startswith("\ufeff") == bool(setup["bom"])
    assert ("\r\n" in formatted) == ("\r\n" in body)
