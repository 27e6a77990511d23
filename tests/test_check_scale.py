"""`flowql check` at repository scale: a large manifest read table by table and checked in runs of
tables across worker processes reports exactly what one process reading it whole reports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowql.checker.check import Checker, Input
from flowql.checker.config import Config
from flowql.checker.manifest import NotPlainError, load_manifest_text, read_tables, table_runs
from flowql.checker.report import render_findings
from flowql.cli import main
from flowql.errors import FlowQLError

KEYS = ("geo_country", "device_category", "geo_cty", "cdn", "login_method", "browser_name")


def _filter_value(i: int) -> str:
    """A TOML value for the i-th filter, in every string form, some with findings."""
    key = KEYS[i % len(KEYS)]
    match i % 5:
        case 0:
            return f"\"{key} == 'Spain' AND device_name != 'iPhone'\""
        case 1:
            return f"'{key} ~~ \"Mob\"'"
        case 2:
            # escapes: a position in the filter maps to the escape in the file
            return f"\"{key} == 'S\\u00e9ville' OR isp == 'Jio\\t'\""
        case 3:
            return f'"""\n{key} == \'Spain\'\nAND geo_city == \'Madrid\'  # why\n"""'
        case _:
            return f"'''\n{key} IN ('Mobile', 'Tablet')\nAND connection_type == 'WiFi'\n'''"


def manifest(queries: int, *, duplicates: bool = True, noqa: bool = True) -> str:
    lines = ["# a generated manifest", ""]
    for i in range(queries):
        name = f"q{i}"
        if duplicates and i in (queries // 2, queries - 1):
            name = "q3"  # the name of a query far before: another run's
        lines += ["[[query]]", f'name = "{name}"', f'flow = "{("825", "142")[i % 2]}"']
        if i % 97 == 0:
            lines.append('endpoint = "historical"')
            lines.append('start = "2026-11-22T10:00:00Z"')
            lines.append('end = "2026-11-22T11:00:00Z"')
        lines.append(f"filter = {_filter_value(i)}")
        if noqa and i % 151 == 0:
            lines[-1] += "  # noqa: FQ101"
        lines.append("")
    return "\n".join(lines)


def test_a_large_manifest_reports_the_same_with_one_job_or_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = manifest(3_000)
    assert len(text) > 250_000  # enough to be cut in runs
    assert len(table_runs(text, 4) or []) == 4
    (tmp_path / "big.toml").write_text(text, encoding="utf-8")
    reports = {}
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        for jobs in ("1", "2", "5"):
            for fmt in ("text", "json"):
                code = main(["check", "big.toml", "--format", fmt, "--jobs", jobs])
                out, err = capsys.readouterr()
                assert code == 1
                assert err == ""
                reports[jobs, fmt] = out
    finally:
        os.chdir(old)
    for fmt in ("text", "json"):
        assert reports["2", fmt] == reports["1", fmt]
        assert reports["5", fmt] == reports["1", fmt]
    text_report = reports["1", "text"]
    # the report holds what the runs had to agree on: findings, a repeated name, a noqa
    assert "FQ101" in text_report
    assert "the name 'q3' is used by query 4 too" in text_report
    assert text_report.count("is used by query 4 too") == 2


def _report(checker: Checker, inputs: list[Input], jobs: int) -> str:
    result = checker.run(inputs, jobs=jobs)
    return render_findings(result.findings, "concise", files_checked=1, tool_version="")


def test_a_manifest_that_is_not_plain_is_read_whole_in_every_worker() -> None:
    # A [[query]] line inside a multi-line string is no header: the table reads as it is.
    inner = (
        '[[query]]\nfilter = """\ngeo_contry == \'Spain\'\n[[query]]\nAND cdn == \'Akamai\'\n"""\n'
    )
    text = manifest(1_500, noqa=False) + "\n" + inner + 'name = "last"\n'
    assert len(load_manifest_text(text)) == 1_501
    runs = table_runs(text, 4)
    assert runs is not None
    *_, last = runs
    with pytest.raises(NotPlainError):
        list(read_tables(text, None, last, {}))
    checker = Checker(Config())
    inputs = [Input("m.toml", text, manifest=True)]
    one = _report(checker, inputs, 1)
    assert "m.toml:" in one
    assert one.count("FQ101") >= 1
    assert _report(checker, inputs, 3) == one


# Pieces of manifests: every string form, comments, sub-tables, a header inside a string.
_TABLE_BODIES = st.sampled_from(
    [
        "filter = \"geo_country == 'Spain'\"",
        "filter = 'geo_cty == \"x\"'",
        "filter = \"cdn == 'A\\u00e9' AND asn != '1'\"",
        'filter = """\ngeo_country == \'Spain\' # note\nAND geo_cty == \'x\'\n"""',
        "filter = '''\r\ngeo_cty == 'x'\r\n'''",
        'filter = """\n[[query]]\n"""',
        "filter = \"device_category == 'TV'\"  # noqa: FQ102",
        "filter = 'geo_cty == \"x\"' # noqa",
        'endpoint = "historical"\nstart = "2026-11-22T10:00:00Z"\nend = "2026-11-22T09:00:00Z"',
        "filter = \"geo_country == 'Spain'\"\n[query.extra]\nvalue = 1",
        "filter = 12",
        "filter = \"geo_country == 'Spain'\"\nnope = [\n  1,\n  2,\n]",
    ]
)


@st.composite
def manifests(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(["", "# head\n\n", "title = 'x'\n"]))]
    for _ in range(draw(st.integers(1, 8))):
        header = draw(st.sampled_from(["[[query]]", "  [[ query ]]  # q", "[[query]]\r"]))
        name = draw(st.sampled_from(["a", "b", "c"]))
        parts.append(f'{header}\nname = "{name}"\n{draw(_TABLE_BODIES)}\n\n')
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(manifests())
def test_reading_table_by_table_finds_what_reading_whole_finds(text: str) -> None:
    checker = Checker(Config())
    item = Input("m.toml", text, manifest=True)
    assert _found(checker, item, by_table=True) == _found(checker, item, by_table=False)


def _found(checker: Checker, item: Input, *, by_table: bool) -> list[dict[str, object]]:
    """The diagnostics of a manifest, or those of its refusal (not a manifest at all)."""
    try:
        found = checker._manifest_found(item, by_table=by_table)
    except FlowQLError as exc:
        found = [*exc.diagnostics]
    return [d.to_dict() for d in found]
