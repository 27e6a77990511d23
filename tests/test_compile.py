"""The target registry, flowql.compile and `flowql compile`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowql
from flowql.cli import main


def test_targets_lists_the_registry() -> None:
    names = [t.name for t in flowql.targets()]
    assert names == [
        "conviva-flow",
        "conviva-sessions",
        "klaviyo",
        "klaviyo-campaign-report",
        "klaviyo-flow-report",
        "klaviyo-form-report",
        "klaviyo-metrics",
        "klaviyo-segment-report",
        "pandas",
        "polars",
        "python",
        "sql",
    ]
    assert all(t.description for t in flowql.targets())


def test_compile_each_target() -> None:
    text = "device_os IN ('Android', 'iOS') AND geo_country == 'Spain'"
    assert flowql.compile(text).filter == (
        "(device_os == 'Android' OR device_os == 'iOS') AND geo_country == 'Spain'"
    )
    assert flowql.compile(text, target="conviva-sessions").params == (
        ("device_os", "Android"),
        ("device_os", "iOS"),
        ("geo_country", "Spain"),
    )
    assert flowql.compile(text, target="klaviyo").filter == (
        'and(any(device_os,["Android","iOS"]),equals(geo_country,"Spain"))'
    )
    predicate = flowql.compile(text, target="python").predicate
    assert predicate is not None
    assert predicate({"device_os": "iOS", "geo_country": "Spain"})
    assert not predicate({"device_os": "iOS", "geo_country": "France"})


def test_compile_accepts_a_tree_and_reports_warnings() -> None:
    result = flowql.compile(flowql.parse("k == 'it\\'s'"))
    assert result.filter == "k == 'it\\'s'"
    assert [w.code for w in result.warnings] == ["FQ602"]
    assert result.to_dict() == {"target": "conviva-flow", "filter": "k == 'it\\'s'"}


def test_refusals_collect_every_problem_with_spans() -> None:
    with pytest.raises(flowql.UnsupportedError) as info:
        flowql.compile("a != 'b' AND c ~~ 'd'", target="conviva-sessions")
    assert [(d.code, d.column) for d in info.value.diagnostics] == [("FQ601", 1), ("FQ601", 14)]


def test_unknown_target_says_did_you_mean() -> None:
    with pytest.raises(flowql.TargetError) as info:
        flowql.compile("a == 'b'", target="convia-flow")
    assert info.value.code == "FQ603"
    assert info.value.hint == "did you mean 'conviva-flow'?"


def test_reading_a_target_back() -> None:
    target = next(t for t in flowql.targets() if t.name == "klaviyo")
    expr = target.read('and(equals(flow_id,"T7K2j8"),any(send_channel,["email","sms"]))')
    assert flowql.format(expr) == "flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')"
    python = next(t for t in flowql.targets() if t.name == "python")
    assert not python.reads
    with pytest.raises(flowql.TargetError):
        python.read("anything")


def test_cli_compile_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--target", "conviva-flow", "--expr", "a IN ('x', 'y')"]) == 0
    assert capsys.readouterr().out == "a == 'x' OR a == 'y'\n"
    expr = "device_os IN ('Android 9', 'Android 10')"
    assert main(["compile", "--target", "conviva-sessions", "--expr", expr]) == 0
    assert capsys.readouterr().out == "device_os=Android%209&device_os=Android%2010\n"
    args = ["compile", "--target", "conviva-sessions", "--format", "json", "--expr", expr]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == {
        "target": "conviva-sessions",
        "params": [["device_os", "Android 9"], ["device_os", "Android 10"]],
    }


def test_cli_translates_between_targets(capsys: pytest.CaptureFixture[str]) -> None:
    klaviyo = 'and(equals(flow_id,"T7K2j8"),any(send_channel,["email","sms"]))'
    args = ["compile", "--read", "klaviyo", "--target", "conviva-flow", "--expr", klaviyo]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "flow_id == 'T7K2j8' AND (send_channel == 'email' OR send_channel == 'sms')\n"
    )


def test_cli_compile_errors(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["compile", "--target", "conviva-sessions", "--format", "json", "--expr", "a != 'b'"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == ""
    found = json.loads(err)
    assert [(d["file"], d["code"], d["line"], d["column"]) for d in found] == [
        ("<expr>", "FQ601", 1, 1)
    ]
    assert main(["compile", "--target", "convia-flow", "--expr", "a == 'b'"]) == 2
    assert "did you mean 'conviva-flow'?" in capsys.readouterr().err
    assert main(["compile", "--target", "python", "--expr", "a == 'b'"]) == 2
    assert main(["compile", "--read", "python", "--target", "klaviyo", "--expr", "x"]) == 2
    assert main(["compile", "--target", "klaviyo", "--expr", "a == "]) == 1


def test_every_text_target_reads_its_own_output(capsys: pytest.CaptureFixture[str]) -> None:
    text = "device_os IN ('Android 9', 'Android 10') AND browser_name == 'Native App'"
    for name in ("conviva-flow", "conviva-sessions", "klaviyo"):
        target = next(t for t in flowql.targets() if t.name == name)
        compiled = target.compile(flowql.parse(text))
        if compiled.params is not None:
            from urllib.parse import urlencode

            written = urlencode(list(compiled.params))
        else:
            assert compiled.filter is not None
            written = compiled.filter
        again = target.compile(target.read(written))
        assert again.to_dict() == compiled.to_dict(), name
    query = "device_os=Android%209&device_os=Android%2010&browser_name=Native%20App"
    args = ["compile", "--read", "conviva-sessions", "--target", "klaviyo", "--expr", query]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        'and(any(device_os,["Android 9","Android 10"]),equals(browser_name,"Native App"))\n'
    )


def test_klaviyo_endpoint_targets_are_registered() -> None:
    from flowql.targets.klaviyo_endpoints import ENDPOINT_TARGETS

    registered = {t.name for t in flowql.targets()}
    assert set(ENDPOINT_TARGETS) <= registered
    result = flowql.compile(
        "flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')", target="klaviyo-flow-report"
    )
    assert (
        result.filter == 'and(equals(flow_id,"T7K2j8"),contains-any(send_channel,["email","sms"]))'
    )
    with pytest.raises(flowql.UnsupportedError):
        flowql.compile("integration.name ~~ 'Shop'", target="klaviyo-metrics")


def test_cli_compiles_for_a_sql_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["compile", "--target", "sql", "--dialect", "spark", "--expr", "a.b ~~ '50%'"]
    assert main(args) == 0
    assert capsys.readouterr().out == ("NOT `a`.`b` IS NULL AND LOCATE('50%', `a`.`b`) > 0\n")
    args = ["compile", "--target", "sql", "--schema", "n=integer", "--schema", "t=list[string]"]
    assert main([*args, "--expr", "n == '1' OR t == 'vip'"]) == 0
    assert capsys.readouterr().out == """COALESCE(ARRAY_CONTAINS("t", 'vip'), FALSE)\n"""
    assert main([*args, "--expr", "m == 1"]) == 1
    assert "FQ605" in capsys.readouterr().err
    assert main(["compile", "--target", "sql", "--dialect", "sqllite", "--expr", "a == 1"]) == 2
    assert "did you mean 'sqlite'?" in capsys.readouterr().err
    assert main(["compile", "--target", "sql", "--schema", "n", "--expr", "n == 1"]) == 2
    assert "COLUMN=TYPE" in capsys.readouterr().err
    assert main(["compile", "--target", "klaviyo", "--dialect", "x", "--expr", "a == 'b'"]) == 2
    assert "takes no --dialect" in capsys.readouterr().err


def test_a_contradicted_type_is_a_warning_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "compile",
            "--target",
            "sql",
            "--schema",
            "count=integer",
            "--expr",
            "count ~~ 'x' OR count == 5",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == 'NOT "count" IS NULL AND "count" = 5\n'
    assert captured.err.startswith(
        "warning[FQ606]: column 'count' holds integers; ~~ tests text, so this test never matches\n"
        " --> <expr>:1:1\n"
    )
    assert "= help: compare whole values with ==, such as count == 1" in captured.err


def test_cli_reads_the_schema_of_a_parquet_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "plays.parquet"
    table = pa.table(
        {"count": pa.array([1], pa.int32()), "day": [datetime.date(2026, 1, 1)], "k": ["x"]}
    )
    pq.write_table(table, path)
    args = ["compile", "--target", "sql", "--schema", str(path), "--expr"]
    assert main([*args, "count == 1 AND k ~~ 'x'"]) == 0
    assert capsys.readouterr().out == (
        """(NOT "count" IS NULL AND "count" = 1) AND (NOT "k" IS NULL AND STRPOS("k", 'x') > 0)\n"""
    )
    assert main([*args, "day == '2026-01-01'"]) == 1  # refused by name: cast it first
    assert "cannot compare column 'day' of type date32[day]" in capsys.readouterr().err
    assert main([*args, "count == 'x'"]) == 0
    assert "warning[FQ606]: column 'count' holds integers" in capsys.readouterr().err
    # COLUMN=TYPE beside the file overrides the file's type.
    assert main([*args[:-1], "--schema", "count=string", "--expr", "count == 'x'"]) == 0
    captured = capsys.readouterr()
    assert captured.out == """NOT "count" IS NULL AND "count" = 'x'\n"""
    assert captured.err == ""
    missing = ["compile", "--target", "sql", "--schema", str(tmp_path / "no.parquet")]
    assert main([*missing, "--expr", "a == 1"]) == 2
    assert "cannot read the schema of" in capsys.readouterr().err
    assert main([*missing, "--schema", "a=integer", "--expr", "a == 1"]) == 2
    assert "cannot read the schema of" in capsys.readouterr().err
