"""The polars target: schemas (a frame's own, or kinds by key), struct fields, refusals, and
the CLI. tests/test_sql_engines.py compares it with the python target on random frames."""

from __future__ import annotations

import polars as pl
import pytest

import flowql
from flowql.cli import main
from flowql.errors import UnsupportedError
from flowql.targets import TargetError


def rows(text: str, frame: pl.DataFrame, schema: object = "frame") -> list[int]:
    chosen = frame.schema if schema == "frame" else schema
    expression = flowql.compile(text, "polars", schema=chosen).expression
    assert isinstance(expression, pl.Expr)
    return list(frame.with_row_index("i").filter(expression)["i"].to_list())


FRAME = pl.DataFrame(
    {
        "k": ["Spain", "50%", None, "spain"],
        "n": [1, 2, None, 3],
        "f": [1.0, 1.5, None, 0.1],
        "b": [True, False, None, True],
        "tags": [["vip"], [], None, ["vips", None]],
        "integration": [{"name": "Slack"}, {"name": None}, None, {"name": "Slack bot"}],
    }
)


def test_each_construct_on_a_frame() -> None:
    assert rows("k == 'Spain'", FRAME) == [0]
    assert rows("k != 'Spain'", FRAME) == [1, 2, 3]
    assert rows("NOT (k == 'Spain')", FRAME) == [1, 2, 3]
    assert rows("k ~~ '%'", FRAME) == [1]
    assert rows("k !~ 'pain'", FRAME) == [1, 2]
    assert rows("k ~~ ''", FRAME) == [0, 1, 3]
    assert rows("k IN ('spain', '50%')", FRAME) == [1, 3]
    assert rows("k NOT IN ('spain', '50%')", FRAME) == [0, 2]
    assert rows("n == 1.0 OR f == 1", FRAME) == [0]
    assert rows("n == 1.5", FRAME) == []
    assert rows("n != '1'", FRAME) == [0, 1, 2, 3]
    assert rows("b == true", FRAME) == [0, 3]
    assert rows("b == 1", FRAME) == []
    assert rows("tags ~~ 'vip'", FRAME) == [0]
    assert rows("tags != 'vip'", FRAME) == [1, 2, 3]
    assert rows("integration.name == 'Slack'", FRAME) == [0]
    assert rows("integration.name !~ 'Slack'", FRAME) == [1, 2]
    kinds = {"k": "string", "integration.name": "string"}
    assert rows("integration.name ~~ 'Slack' AND k ~~ 'pain'", FRAME, kinds) == [0, 3]


def test_a_column_named_with_dots_wins_over_a_struct() -> None:
    frame = pl.DataFrame({"a.b": ["flat"], "a": [{"b": "nested"}]})
    assert rows("a.b == 'flat'", frame) == [0]
    assert rows("a.b == 'nested'", frame) == []


def test_without_a_schema() -> None:
    assert rows("k == 'Spain' OR b == true", FRAME, None) == [0, 3]
    with pytest.raises(UnsupportedError) as info:
        flowql.compile("k == 1 OR k == 'x'", "polars")
    assert info.value.message.startswith("the polars target cannot tell the type of column 'k'")


def test_refusals_and_bad_schemas() -> None:
    dated = pl.DataFrame({"d": ["2026-01-01"]}).with_columns(pl.col("d").str.to_date())
    with pytest.raises(UnsupportedError) as info:
        flowql.compile("d == '2026-01-01' AND e == 1", "polars", schema=dated.schema)
    assert [(d.code, d.column) for d in info.value.diagnostics] == [("FQ601", 1), ("FQ605", 23)]
    assert "of type Date" in info.value.message
    with pytest.raises(TargetError) as bad:
        flowql.compile("k == 1", "polars", schema={"k": "strng"})
    assert (bad.value.code, bad.value.hint) == ("FQ605", "did you mean 'string'?")
    with pytest.raises(TargetError) as bad:
        flowql.compile("k == 1", "polars", dialect="duckdb")
    assert bad.value.code == "FQ603"


def test_a_constant_filter_is_a_literal() -> None:
    assert rows("n == 'x'", FRAME) == []
    assert rows("n != 'x'", FRAME) == [0, 1, 2, 3]


def test_cli_says_it_has_no_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--target", "polars", "--expr", "a == 'b'"]) == 2
    assert "schema=df.schema" in capsys.readouterr().err


def test_a_contradicted_type_is_a_warning_and_keeps_its_meaning() -> None:
    result = flowql.compile(
        "n ~~ '1' OR k == 5 OR tags IN ('vip', 1)", "polars", schema=FRAME.schema
    )
    assert [(w.code, w.column) for w in result.warnings] == [
        ("FQ606", 1),
        ("FQ606", 18),
        ("FQ606", 39),
    ]
    assert result.warnings[0].message == (
        "column 'n' holds integers; ~~ tests text, so this test never matches"
    )
    assert isinstance(result.expression, pl.Expr)
    # The python target keeps the rows whose tags hold 'vip', and so does the expression.
    assert FRAME.with_row_index("i").filter(result.expression)["i"].to_list() == [0]
    assert flowql.compile("n == 1 OR f == 1", "polars", schema=FRAME.schema).warnings == ()
