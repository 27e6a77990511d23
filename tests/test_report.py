"""How ``flowql check`` shows its findings: each format against a snapshot, and its structure.

Snapshots live in tests/snapshots/report.<format>.txt. After a deliberate change of output,
refresh them with ``FLOWQL_UPDATE_SNAPSHOTS=1 pytest tests/test_report.py`` and review the diff;
without that variable a test never writes a snapshot, and a missing one fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowql.ast import Span
from flowql.checker.report import (
    FIXABLE,
    FORMATS,
    SARIF_SCHEMA,
    Finding,
    UnknownRuleError,
    render_findings,
    render_rule,
    render_rules,
    render_statistics,
)
from flowql.codes import CODES, FAMILIES
from flowql.diagnostics import Diagnostic, Severity
from flowql.diagnostics import render as render_frame
from flowql.fixes import Applicability, Edit, Fix
from flowql.rule_docs import rule_text, rule_url

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1"

SPAIN_PATH = "filters/spain.flowql"
SPAIN = (
    "# Spain, 50% of the traffic: Madrid, Sevilla\n"
    "geo_cuntry == 'España' AND\n"
    "  device_os == '' OR geo_city ~~ 'Madrid'\n"
)
TOKYO_PATH = "filters/アジア/tokyo.flowql"
TOKYO = "geo_city == '東京' AND cdn IN ('a', 'b')  # noqa: FQ203\n"


def span(line: int, column: int, end_line: int, end_column: int) -> Span:
    # Offsets are not used by the report; positions are what it shows.
    return Span(0, 0, line, column, end_line, end_column)


def make_findings() -> list[Finding]:
    """A fixed set, in report order: two files, an inline filter, every severity, a multi-line
    span, findings without a span or without text, a message with %, : and , in it, and
    non-ASCII text, paths and wide characters."""
    warning, info = Severity.WARNING, Severity.INFO
    return [
        Finding(
            "<expr>",
            Diagnostic(
                "FQ303",
                "geo_country == 'Spain' is implied by the other comparison",
                span(1, 28, 1, 50),
                hint="remove it",
                severity=info,
            ),
            None,
        ),
        Finding(
            SPAIN_PATH,
            Diagnostic(
                "FQ402",
                "this file is not formatted",
                None,
                hint="run flowql fmt",
                severity=warning,
                fix=Fix([Edit(0, len(SPAIN), SPAIN.replace("AND\n  ", "AND "))], "format"),
            ),
            SPAIN,
        ),
        Finding(
            SPAIN_PATH,
            Diagnostic(
                "FQ101",
                "unknown key 'geo_cuntry': 100% not in the model, nor in flows a, b",
                span(2, 1, 2, 11),
                hint="did you mean 'geo_country'?",
                fix=Fix(
                    [Edit(SPAIN.index("geo_cuntry"), SPAIN.index(" =="), "geo_country")],
                    "replace with geo_country",
                    Applicability.UNSAFE,
                ),
            ),
            SPAIN,
        ),
        Finding(
            SPAIN_PATH,
            Diagnostic(
                "FQ401",
                "AND and OR at one level without parentheses",
                span(2, 1, 3, 42),
                hint="add parentheses to say which is meant",
                severity=warning,
            ),
            SPAIN,
        ),
        Finding(
            SPAIN_PATH,
            Diagnostic(
                "FQ202",
                "the value is empty",
                span(3, 16, 3, 18),
                severity=warning,
            ),
            SPAIN,
        ),
        Finding(
            TOKYO_PATH,
            Diagnostic(
                "FQ204",
                "geo_city does not take the value '東京'",
                span(1, 13, 1, 17),
                hint="check the spelling, or the values the data model lists",
            ),
            TOKYO,
        ),
        Finding(
            TOKYO_PATH,
            Diagnostic(
                "FQ901",
                "FQ203 in this noqa comment suppresses nothing",
                span(1, 41, 1, 54),
                hint="remove the codes that suppress nothing",
                severity=warning,
            ),
            TOKYO,
        ),
    ]


FINDINGS = make_findings()


def render(fmt: str, findings: list[Finding] | None = None) -> str:
    return render_findings(
        FINDINGS if findings is None else findings,
        fmt,
        files_checked=12,
        tool_version="1.2.3",
    )


def check_snapshot(name: str, actual: str, directory: Path = SNAPSHOTS) -> None:
    """Compare with the snapshot, or rewrite it when FLOWQL_UPDATE_SNAPSHOTS=1."""
    path = directory / name
    if UPDATE:
        directory.mkdir(parents=True, exist_ok=True)
        if not path.exists() or _read(path) != actual:
            path.write_text(actual, encoding="utf-8", newline="")
            # Visible in pytest's summary: a refresh is never silent.
            pytest.fail(f"snapshot {name} rewritten; review it and run again", pytrace=False)
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot {path}; create it with FLOWQL_UPDATE_SNAPSHOTS=1 pytest {__file__}",
            pytrace=False,
        )
    expected = _read(path)
    assert actual == expected, f"{name} differs; FLOWQL_UPDATE_SNAPSHOTS=1 refreshes it"


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:  # keep a \r as it is
        return handle.read()


# --- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_matches_its_snapshot(fmt: str) -> None:
    check_snapshot(f"report.{fmt}.txt", render(fmt))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_rules_listing_matches_its_snapshot(fmt: str) -> None:
    check_snapshot(f"rules.{fmt}.txt", render_rules(fmt))


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_colour_matches_its_snapshot(fmt: str) -> None:
    out = render_findings(FINDINGS, fmt, files_checked=12, tool_version="1.2.3", color=True)
    check_snapshot(f"report.{fmt}-color.txt", out)
    # Colour is all it adds: without the escapes, the text is the plain text.
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == render(fmt)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_statistics_match_their_snapshot(fmt: str) -> None:
    check_snapshot(f"report.statistics.{fmt}.txt", render_statistics(FINDINGS, fmt))


def test_the_documentation_of_a_rule_matches_its_snapshot() -> None:
    check_snapshot("rules.FQ301.txt", render_rule("FQ301"))


MULTI_LINE = (
    "# a long group\n"
    "geo_country == 'Spain'\n"
    "AND (device_category == 'Smart TV'\r\n"
    "\n"
    "     OR device_category == '東京')\n" + "".join(f"AND k{i} == 'v'\n" for i in range(12))
)


def test_multi_line_frames_match_their_snapshot() -> None:
    frames = [
        # Over lines 3 to 5, with a blank line and a CRLF in it: each line underlined where
        # the span covers it (the blank one not at all).
        Diagnostic("FQ401", "over three lines", span(3, 5, 5, 35), hint="one hint"),
        # Ending at the start of a line: that line has nothing of the span.
        Diagnostic("FQ303", "to a line's start", span(2, 1, 3, 1), severity=Severity.WARNING),
        # Longer than the frame shows: its first and last lines, the middle left out.
        Diagnostic("FQ301", "over fourteen lines", span(3, 1, 17, 14)),
    ]
    shown = "\n\n".join(render_frame(d, MULTI_LINE, "long.flowql") for d in frames) + "\n"
    check_snapshot("frames.multi-line.txt", shown)
    first = shown.split("\n\n")[0].splitlines()
    assert first[3:9] == [
        "3 | AND (device_category == 'Smart TV'",
        "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "4 |",
        "5 |      OR device_category == '東京')",
        # Wide characters take two columns: the carets reach the end of the line.
        "  |      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "  |",
    ]


def test_a_missing_snapshot_fails_and_is_not_written(tmp_path: Path) -> None:
    if UPDATE:
        # The refresh run writes snapshots on purpose; the guard is tested on ordinary runs.
        return
    with pytest.raises(pytest.fail.Exception, match="no snapshot"):
        check_snapshot("report.missing.txt", "anything", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- text and concise ----------------------------------------------------------------------


def test_text_shows_frames_in_order_then_the_summary() -> None:
    out = render("text")
    headers = re.findall(r"^(?:error|warning|info)\[(FQ\d{3})\]", out, flags=re.M)
    assert headers == [f.diagnostic.code for f in FINDINGS]
    assert out.endswith(
        "Found 2 errors, 4 warnings and 1 info in 3 files (12 files checked).\n"
        "[*] 1 fixable with `flowql check --fix` (1 hidden fix can be enabled with the "
        "`--unsafe-fixes` option).\n"
    )
    assert " --> filters/spain.flowql:2:1\n" in out
    # Without the file's text there is no frame, but the position is still shown.
    assert " --> <expr>:1:28\n  = help: remove it\n" in out
    # Without a span, the file alone.
    assert " --> filters/spain.flowql\n  = help: run flowql fmt\n" in out


def test_text_caret_counts_wide_characters_twice() -> None:
    out = render("text")
    frame = out.split("error[FQ204]", 1)[1].split("\n\n", 1)[0]
    source_line, caret_line = frame.splitlines()[3:5]
    assert source_line == "1 | " + TOKYO.rstrip("\n")
    assert caret_line == "  | " + " " * 12 + "^" * 6  # '東京' and its quotes: 6 columns


@pytest.mark.parametrize(
    ("severities", "summary"),
    [
        ([], "All checks passed (1 file checked).\n"),
        ([Severity.ERROR], "Found 1 error in 1 file (1 file checked).\n"),
        ([Severity.WARNING] * 2, "Found 2 warnings in 1 file (1 file checked).\n"),
        (
            [Severity.ERROR, Severity.WARNING],
            "Found 1 error and 1 warning in 1 file (1 file checked).\n",
        ),
        ([Severity.INFO] * 2, "Found 2 info in 1 file (1 file checked).\n"),
    ],
)
def test_summary_line(severities: list[Severity], summary: str) -> None:
    findings = [
        Finding("a.flowql", Diagnostic("FQ101", "m", span(1, i + 1, 1, i + 2), severity=s), "x")
        for i, s in enumerate(severities)
    ]
    for fmt in ("text", "concise"):
        out = render_findings(findings, fmt, files_checked=1, tool_version="0")
        assert out.endswith(summary)
        assert "fixable" not in out


def test_nothing_found() -> None:
    assert render("text", []) == "All checks passed (12 files checked).\n"
    assert render("concise", []) == "All checks passed (12 files checked).\n"
    assert render("json", []) == "[]\n"
    assert render("github", []) == ""
    sarif = json.loads(render("sarif", []))
    assert sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == []


def test_without_the_summary_only_the_findings_are_shown() -> None:
    def plain(fmt: str, findings: list[Finding]) -> str:
        return render_findings(findings, fmt, files_checked=0, tool_version="", summary=False)

    text = plain("text", FINDINGS)
    assert text == render("text").split("\n\nFound ", 1)[0] + "\n"
    assert text.startswith("info[FQ303]")
    concise = plain("concise", FINDINGS).splitlines()
    assert concise == render("concise").splitlines()[: len(FINDINGS)]
    assert plain("text", []) == plain("concise", []) == ""


def test_concise_is_one_line_per_finding_then_the_summary() -> None:
    lines = render("concise").splitlines()
    assert len(lines) == len(FINDINGS) + 2
    shape = re.compile(r"^(.+?)(?::(\d+):(\d+))?: (FQ\d{3}) \[(error|warning|info)\]( \[\*\])? ")
    for line, finding in zip(lines[:-2], FINDINGS, strict=True):
        match = shape.match(line)
        assert match, line
        assert match[1] == finding.path
        assert match[4] == finding.diagnostic.code
        assert bool(match[6]) == finding.fixable
        assert not finding.fixable or finding.diagnostic.code in FIXABLE
        assert line.endswith(finding.diagnostic.message)


# --- json ----------------------------------------------------------------------------------


def test_json_is_one_list_with_every_field() -> None:
    entries = json.loads(render("json"))
    assert isinstance(entries, list)
    assert len(entries) == len(FINDINGS)
    for entry, finding in zip(entries, FINDINGS, strict=True):
        d = finding.diagnostic
        assert list(entry) == [
            "file",
            "code",
            "name",
            "severity",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "hint",
            "fixable",
            "fix",
        ]
        assert entry["file"] == finding.path
        assert entry["code"] == d.code
        assert entry["name"] == CODES[d.code].name
        assert entry["severity"] == d.severity.value
        assert entry["message"] == d.message
        assert entry["hint"] == d.hint
        assert (entry["line"], entry["column"], entry["end_line"], entry["end_column"]) == (
            d.line,
            d.column,
            d.end_line,
            d.end_column,
        )
    unplaced = entries[1]
    assert unplaced["line"] is None
    assert unplaced["end_column"] is None
    assert unplaced["fixable"] is True
    assert unplaced["fix"] == FINDINGS[1].diagnostic.fix.to_dict()  # type: ignore[union-attr]
    assert entries[2]["fixable"] is False  # an unsafe fix is not made by --fix
    assert entries[2]["fix"]["applicability"] == "unsafe"


# --- github --------------------------------------------------------------------------------

GITHUB_LINE = re.compile(
    r"^::(?P<command>error|warning|notice) (?P<props>[^:]*)::(?P<message>[^\r\n]*)$"
)


def unescape(text: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def test_github_lines_match_the_documented_shape() -> None:
    lines = render("github").splitlines()
    assert len(lines) == len(FINDINGS)  # no summary
    commands = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    for line, finding in zip(lines, FINDINGS, strict=True):
        d = finding.diagnostic
        match = GITHUB_LINE.match(line)
        assert match, line
        assert match["command"] == commands[d.severity]
        props = dict(p.split("=", 1) for p in match["props"].split(","))
        assert unescape(props["title"]) == f"{d.code} {CODES[d.code].name}"
        expected_message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
        assert unescape(match["message"]) == expected_message
        if finding.path.startswith("<"):
            assert "file" not in props
        else:
            assert unescape(props["file"]) == finding.path
        if d.span is not None and "file" in props:
            assert [props[k] for k in ("line", "col", "endLine", "endColumn")] == [
                str(d.line),
                str(d.column),
                str(d.end_line),
                str(d.end_column),
            ]
        else:
            assert "line" not in props


def test_github_escapes_properties_and_messages() -> None:
    finding = Finding(
        "dir,1/a:b%.flowql",
        Diagnostic("FQ101", "50%: a, b\r\nc", span(1, 1, 1, 2), hint=None),
        "x",
    )
    line = render("github", [finding])
    assert line == (
        "::error file=dir%2C1/a%3Ab%25.flowql,line=1,col=1,endLine=1,endColumn=2,"
        "title=FQ101 unknown-key::50%25: a, b%0D%0Ac\n"
    )


# --- sarif ---------------------------------------------------------------------------------


def test_sarif_has_the_key_fields_of_sarif_2_1_0() -> None:
    document = json.loads(render("sarif"))
    assert document["$schema"] == SARIF_SCHEMA
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "flowql"
    assert driver["version"] == "1.2.3"
    assert driver["informationUri"].startswith("https://")
    used = sorted({f.diagnostic.code for f in FINDINGS})
    assert [rule["id"] for rule in driver["rules"]] == used
    for rule in driver["rules"]:
        code = CODES[rule["id"]]
        assert rule["name"] == code.name
        assert rule["shortDescription"]["text"] == code.summary
        expected_level = {"error": "error", "warning": "warning", "info": "note"}[code.severity]
        assert rule["defaultConfiguration"]["level"] == expected_level
    results = run["results"]
    assert len(results) == len(FINDINGS)
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    for result, finding in zip(results, FINDINGS, strict=True):
        d = finding.diagnostic
        assert result["ruleId"] == d.code
        assert driver["rules"][result["ruleIndex"]]["id"] == d.code
        assert result["level"] == levels[d.severity]
        assert result["message"]["text"].startswith(d.message)
        if d.hint:
            assert result["message"]["text"].endswith(d.hint)
        if finding.path.startswith("<"):
            assert "locations" not in result
            continue
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert "\\" not in uri
        assert not uri.startswith("/")
        if d.span is None:
            assert "region" not in physical
        else:
            assert physical["region"] == {
                "startLine": d.line,
                "startColumn": d.column,
                "endLine": d.end_line,
                "endColumn": d.end_column,
            }
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results[1:]]
    assert uris[0] == "filters/spain.flowql"
    assert uris[-1] == "filters/%E3%82%A2%E3%82%B8%E3%82%A2/tokyo.flowql"


def test_sarif_uris_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    diagnostic = Diagnostic("FQ101", "m", span(1, 1, 1, 2))
    paths = [
        str(tmp_path / "sub" / "a b.flowql"),
        "./sub/c.flowql",
        str(tmp_path.parent / "elsewhere.flowql"),
    ]
    document = json.loads(
        render("sarif", [Finding(p, diagnostic, "x") for p in paths]),
    )
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    ]
    assert uris[:2] == ["sub/a%20b.flowql", "sub/c.flowql"]
    assert uris[2] == (tmp_path.parent / "elsewhere.flowql").as_uri()


# --- rules ---------------------------------------------------------------------------------


def test_rules_text_lists_every_code_under_its_family() -> None:
    out = render_rules()
    family = None
    listed: list[str] = []
    for line in out.splitlines():
        if not line:
            continue
        if not line.startswith(" "):
            family = line.split(" (", 1)[0]
            continue
        code, name, severity = line.split()[:3]
        assert family == CODES[code].family
        assert (name, severity) == (CODES[code].name, CODES[code].severity)
        assert line.endswith(CODES[code].summary)
        listed.append(code)
    assert listed == sorted(CODES)
    # Aligned: every summary starts in the same column.
    starts = {
        line.index(CODES[line.split()[0]].summary) for line in out.splitlines() if line[:1] == " "
    }
    assert len(starts) == 1


def test_rules_json_lists_every_code() -> None:
    entries = json.loads(render_rules("json"))
    assert [e["code"] for e in entries] == sorted(CODES)
    for entry in entries:
        code = CODES[entry["code"]]
        assert entry == {
            "code": code.code,
            "name": code.name,
            "family": code.family,
            "severity": code.severity,
            "summary": code.summary,
            "fix": code.fix,
        }
    assert {e["family"] for e in entries} <= set(FAMILIES.values())


def test_statistics_count_each_code_the_most_frequent_first() -> None:
    findings = [
        Finding("a.flowql", Diagnostic(code, "m", span(1, 1, 1, 2)), "x")
        for code in ["FQ301", "FQ101", "FQ301", "FQ202", "FQ101", "FQ301"]
    ]
    assert render_statistics(findings) == (
        f"3  FQ301  {CODES['FQ301'].summary}\n"
        f"2  FQ101  {CODES['FQ101'].summary}\n"
        f"1  FQ202  {CODES['FQ202'].summary}\n"
    )
    # With something fixable, the [*] column marks it (and [ ] what is not), as ruff's does.
    repair = Fix([Edit(0, 1, "y")], "format it", Applicability.SAFE)
    fixable = [*findings, Finding("a.flowql", Diagnostic("FQ402", "m", None, fix=repair), "x")]
    lines = render_statistics(fixable).splitlines()
    assert lines[0] == f"3  FQ301  [ ] {CODES['FQ301'].summary}"
    assert lines[-1] == f"1  FQ402  [*] {CODES['FQ402'].summary}"
    coloured = render_statistics(fixable, color=True)
    assert "\x1b[1;31mFQ301\x1b[0m" in coloured
    assert "\x1b[1;36m[*]\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_statistics(fixable)
    assert render_statistics([]) == ""
    assert json.loads(render_statistics([], "json")) == []


def test_every_rule_has_its_documentation() -> None:
    for code in CODES.values():
        url = rule_url(code.code)
        assert url is not None
        assert url.startswith("https://github.com/flowql/flowql/tree/main/docs/rules/")
        text = rule_text(code.code)
        assert text
        shown = render_rule(code.code)
        assert shown.startswith(f"# {code.code} {code.name}\n\n")
        assert code.summary in shown
        assert text in shown
        assert shown.endswith(f"Documentation: {url}\n")
    assert rule_url("FQ999") is None
    assert rule_text("FQ999") is None


def test_a_rule_is_found_by_its_code_in_any_case_or_its_name() -> None:
    assert render_rule("fq301") == render_rule("FQ301") == render_rule("contradiction")
    entry = json.loads(render_rule("FQ402", "json"))
    assert entry["fixable"] is True
    assert entry["explanation"] == rule_text("FQ402")
    assert entry["url"] == rule_url("FQ402")
    assert "Fixable with `flowql check --fix`." in render_rule("FQ402")
    with pytest.raises(UnknownRuleError, match="no rule 'FQ3011'; did you mean 'FQ301'"):
        render_rule("FQ3011")
    with pytest.raises(UnknownRuleError, match="did you mean 'contradiction'"):
        render_rule("contradicton")
    with pytest.raises(UnknownRuleError, match=r"^no rule 'zzz'$"):
        render_rule("zzz")


def test_sarif_rules_link_to_their_documentation() -> None:
    driver = json.loads(render("sarif"))["runs"][0]["tool"]["driver"]
    assert driver["rules"]
    for rule in driver["rules"]:
        assert rule["helpUri"] == rule_url(rule["id"])
        page, _, anchor = rule["helpUri"].partition("/docs/")[2].partition("#")
        headings = re.findall(r"^#+ (.+)$", (ROOT / "docs" / page).read_text("utf-8"), re.M)
        assert anchor in {slug(h) for h in headings}, rule["helpUri"]


# --- the API -------------------------------------------------------------------------------


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render("xml")
    with pytest.raises(ValueError, match="unknown format 'sarif'"):
        render_rules("sarif")


def test_findings_are_immutable_values() -> None:
    a, b = make_findings()[0], make_findings()[0]
    assert a == b
    assert hash(a) == hash(b)
    assert a != FINDINGS[1]
    with pytest.raises(AttributeError):
        a.path = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.extra = 1  # type: ignore[attr-defined]
    assert "FQ303" in repr(a)
    assert sorted(FINDINGS, key=Finding.sort_key) == FINDINGS


def test_unknown_codes_still_render() -> None:
    finding = Finding("a.flowql", Diagnostic("FQ999", "new", span(1, 1, 1, 2)), "x")
    for fmt in FORMATS:
        assert "FQ999" in render(fmt, [finding])
    assert json.loads(render("json", [finding]))[0]["name"] is None


def test_importing_report_loads_no_json() -> None:
    code = (
        "import sys, flowql.checker.report; print('json' in sys.modules, 'typing' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


# --- the files around the report: pre-commit hooks and the rule docs ------------------------

ROOT = Path(__file__).resolve().parent.parent
# Family pages written alongside this one; their links are checked once they exist.
OTHER_FAMILY_PAGES = {"data-model.md", "values.md", "logic.md", "style.md", "url-budget.md"}


def read_hooks() -> list[dict[str, str]]:
    """The hooks of .pre-commit-hooks.yaml (a list of flat mappings; no YAML library needed)."""
    hooks: list[dict[str, str]] = []
    for line in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("- "):
            hooks.append({})
            line = line[2:]
        key, value = line.strip().split(":", 1)
        hooks[-1][key] = value.strip()
    return hooks


def test_pre_commit_hooks() -> None:
    hooks = {hook["id"]: hook for hook in read_hooks()}
    assert set(hooks) == {"flowql-check", "flowql-fmt"}
    # pre-commit names the staged files: exclude must apply to them too.
    assert hooks["flowql-check"]["entry"] == "flowql check --force-exclude"
    assert hooks["flowql-fmt"]["entry"] == "flowql fmt --force-exclude"
    for hook in hooks.values():
        assert {"id", "name", "entry", "language", "files"} <= set(hook)
        assert hook["language"] == "python"

    def runs_on(hook: dict[str, str], path: str) -> bool:
        excluded = "exclude" in hook and re.search(hook["exclude"], path)
        return bool(re.search(hook["files"], path)) and not excluded

    check, fmt = hooks["flowql-check"], hooks["flowql-fmt"]
    assert runs_on(check, "filters/spain.flowql")
    assert runs_on(check, "queries/daily.toml")
    assert not runs_on(check, "pyproject.toml")
    assert not runs_on(check, "sub/flowql.toml")
    assert not runs_on(check, "notes.flowql.md")
    assert runs_on(fmt, "filters/spain.flowql")
    assert not runs_on(fmt, "queries/daily.toml")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize(
    "page", ["ci.md", "rules/README.md", "rules/syntax.md", "rules/suppressions.md"]
)
def test_doc_links_resolve(page: str) -> None:
    path = ROOT / "docs" / page
    text = path.read_text(encoding="utf-8")
    missing = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith("http"):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            if linked.name not in OTHER_FAMILY_PAGES:
                missing.append(target)
            continue
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), flags=re.M)
            if anchor not in {slug(h) for h in headings}:
                missing.append(target)
    assert missing == []


def test_rule_docs_cover_their_codes() -> None:
    docs = ROOT / "docs" / "rules"
    syntax = (docs / "syntax.md").read_text(encoding="utf-8")
    for code in CODES.values():
        if code.family == "syntax":
            assert f"\n## {code.code} {code.name}\n" in syntax
            anchor = slug(f"{code.code} {code.name}")
            assert f"| [{code.code}](#{anchor}) | {code.name} |" in syntax
    index = (docs / "README.md").read_text(encoding="utf-8")
    for prefix, family in FAMILIES.items():
        assert f"| {prefix}xx | {family} |" in index
    for code in CODES.values():
        if code.family in ("targets", "inputs"):
            assert f"| {code.code} | {code.name} | {code.severity} | {code.summary} |" in index
    suppressions = (docs / "suppressions.md").read_text(encoding="utf-8")
    assert "## FQ901 unused-noqa" in suppressions
    queries = (docs / "queries.md").read_text(encoding="utf-8")
    for code in CODES.values():
        if code.family == "queries and requests":
            anchor = slug(f"{code.code} {code.name}")
            assert f"| [{code.code}](#{anchor}) | {code.name} | {code.severity} |" in queries
