"""The sql target: golden clauses per dialect, refusals, options, and the round trip of every
dialect's text through sqlglot's own reader (the dialects with no engine in these tests)."""

from __future__ import annotations

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs

import flowql
from flowql.ast import And, Boolean, Comparison, Expr, Key, Number, Op, String, Value, transform
from flowql.errors import UnsupportedError
from flowql.targets import TargetError
from flowql.targets.sql import DIALECTS, KINDS, compile_clause


def sql(text: str, dialect: str = "duckdb", schema: dict[str, str] | None = None) -> str:
    result = flowql.compile(text, "sql", dialect=dialect, schema=schema)
    assert result.filter is not None
    return result.filter


# One row per construct: the filter, its schema, and the clause per dialect.
SCHEMA = {
    "k": "string",
    "n": "integer",
    "f": "float",
    "b": "boolean",
    "tags": "list[string]",
    "a.b": "string",
}

GOLDEN: dict[str, dict[str, str]] = {
    "k == 'x'": {
        "duckdb": """NOT "k" IS NULL AND "k" = 'x'""",
        "sqlite": """NOT "k" IS NULL AND "k" = 'x'""",
        "postgres": """NOT "k" IS NULL AND "k" = 'x'""",
        "spark": "NOT `k` IS NULL AND `k` = 'x'",
        "databricks": "NOT `k` IS NULL AND `k` = 'x'",
        "bigquery": "NOT `k` IS NULL AND `k` = 'x'",
        "snowflake": """NOT "k" IS NULL AND "k" = 'x'""",
        "trino": """NOT "k" IS NULL AND "k" = 'x'""",
        "clickhouse": """NOT ("k" IS NULL) AND "k" = 'x'""",
        "mysql": "NOT `k` IS NULL AND CAST(`k` AS BINARY) = CAST('x' AS BINARY)",
    },
    "k != 'x'": {
        "duckdb": """"k" IS NULL OR "k" <> 'x'""",
        "mysql": "`k` IS NULL OR CAST(`k` AS BINARY) <> CAST('x' AS BINARY)",
    },
    "k ~~ '50%_\\\\'": {
        "duckdb": """NOT "k" IS NULL AND STRPOS("k", '50%_\\') > 0""",
        "sqlite": """NOT "k" IS NULL AND INSTR("k", '50%_\\') > 0""",
        "postgres": """NOT "k" IS NULL AND POSITION('50%_\\' IN "k") > 0""",
        "spark": "NOT `k` IS NULL AND LOCATE('50%_\\\\', `k`) > 0",
        "bigquery": "NOT `k` IS NULL AND INSTR(`k`, '50%_\\\\') > 0",
        "snowflake": """NOT "k" IS NULL AND CHARINDEX('50%_\\\\', "k") > 0""",
        "trino": """NOT "k" IS NULL AND STRPOS("k", '50%_\\') > 0""",
        "clickhouse": """NOT ("k" IS NULL) AND POSITION("k", '50%_\\\\') > 0""",
        "mysql": (
            "NOT `k` IS NULL AND LOCATE(CAST('50%_\\\\' AS BINARY), CAST(`k` AS BINARY)) > 0"
        ),
    },
    "k !~ 'x'": {"duckdb": """"k" IS NULL OR STRPOS("k", 'x') = 0"""},
    "k ~~ ''": {"duckdb": """NOT "k" IS NULL""", "clickhouse": """NOT ("k" IS NULL)"""},
    "k IN ('x', 'y')": {"duckdb": """NOT "k" IS NULL AND "k" IN ('x', 'y')"""},
    "k NOT IN ('x', 'y')": {"duckdb": """"k" IS NULL OR NOT "k" IN ('x', 'y')"""},
    "NOT (k == 'x' OR n == 1)": {
        "duckdb": """("k" IS NULL OR "k" <> 'x') AND ("n" IS NULL OR "n" <> 1)"""
    },
    "n == 1.0": {"duckdb": """NOT "n" IS NULL AND "n" = 1"""},
    "n == 1.5": {"duckdb": "FALSE"},
    "f == 1": {"duckdb": """NOT "f" IS NULL AND "f" = 1.0e0"""},
    # ClickHouse finds a Float64 in an IN set by its bits: the list holds both zeros.
    "f IN (0, 2)": {
        "duckdb": """NOT "f" IS NULL AND "f" IN (0.0e0, 2.0e0)""",
        "clickhouse": """NOT ("f" IS NULL) AND "f" IN (0.0e0, 2.0e0, -0.0e0)""",
    },
    "f NOT IN (-0.0, 2)": {
        "duckdb": """"f" IS NULL OR NOT "f" IN (-0.0e0, 2.0e0)""",
        "clickhouse": """"f" IS NULL OR NOT ("f" IN (-0.0e0, 2.0e0, 0.0e0))""",
    },
    "f IN (1, 2)": {"clickhouse": """NOT ("f" IS NULL) AND "f" IN (1.0e0, 2.0e0)"""},
    "n IN (0, 2)": {"clickhouse": """NOT ("n" IS NULL) AND "n" IN (0, 2)"""},
    "n == '1'": {"duckdb": "FALSE"},
    "n != '1'": {"duckdb": "TRUE"},
    "k ~~ 1": {"duckdb": "FALSE"},
    "b == true": {"duckdb": """NOT "b" IS NULL AND "b" = TRUE"""},
    "b == 1 OR k == 'x'": {"duckdb": """NOT "k" IS NULL AND "k" = 'x'"""},
    "tags == 'vip'": {
        "duckdb": """COALESCE(ARRAY_CONTAINS("tags", 'vip'), FALSE)""",
        "postgres": (
            """COALESCE(CASE WHEN 'vip' IS NULL THEN NULL ELSE COALESCE('vip' = ANY("tags"), """
            "FALSE) END, FALSE)"
        ),
        "spark": "COALESCE(ARRAY_CONTAINS(`tags`, 'vip'), FALSE)",
        "bigquery": (
            "COALESCE(EXISTS(SELECT 1 FROM UNNEST(`tags`) AS _col WHERE _col = 'vip'), FALSE)"
        ),
        "snowflake": """COALESCE(ARRAY_CONTAINS(CAST('vip' AS VARIANT), "tags"), FALSE)""",
        "trino": """COALESCE(CONTAINS("tags", 'vip'), FALSE)""",
        "clickhouse": """COALESCE(has("tags", 'vip'), FALSE)""",
    },
    "tags NOT IN ('a', 'b')": {
        "duckdb": (
            """NOT (COALESCE(ARRAY_CONTAINS("tags", 'a'), FALSE) OR """
            """COALESCE(ARRAY_CONTAINS("tags", 'b'), FALSE))"""
        )
    },
    "a.b == 'x'": {
        "duckdb": """NOT "a"."b" IS NULL AND "a"."b" = 'x'""",
        "sqlite": """NOT "a.b" IS NULL AND "a.b" = 'x'""",
        "postgres": """NOT "a.b" IS NULL AND "a.b" = 'x'""",
        "spark": "NOT `a`.`b` IS NULL AND `a`.`b` = 'x'",
        "bigquery": "NOT `a`.`b` IS NULL AND `a`.`b` = 'x'",
        "trino": """NOT "a"."b" IS NULL AND "a"."b" = 'x'""",
        "mysql": "NOT `a.b` IS NULL AND CAST(`a.b` AS BINARY) = CAST('x' AS BINARY)",
    },
}


@pytest.mark.parametrize(
    ("text", "dialect", "expected"),
    [(text, d, clause) for text, per in GOLDEN.items() for d, clause in per.items()],
)
def test_golden_clauses(text: str, dialect: str, expected: str) -> None:
    assert sql(text, dialect, SCHEMA) == expected


def test_quotes_are_the_dialects() -> None:
    assert sql("k == 'it\\'s'", "duckdb") == """NOT "k" IS NULL AND "k" = 'it''s'"""
    assert sql("k == 'it\\'s'", "spark") == "NOT `k` IS NULL AND `k` = 'it\\'s'"
    assert sql("in-stock == 1", "postgres") == """NOT "in-stock" IS NULL AND "in-stock" = 1"""
    assert sql("Geo == 1", "mysql") == "NOT `Geo` IS NULL AND `Geo` = 1"


def test_without_a_schema_types_come_from_the_values() -> None:
    assert (
        sql("k == 1 OR k == 2.5")
        == """(NOT "k" IS NULL AND "k" = 1) OR (NOT "k" IS NULL AND "k" = 2.5e0)"""
    )
    # A number's own kind may be a Float64 column on ClickHouse: both zeros there too.
    assert sql("k IN (0, 2)", "clickhouse") == """NOT ("k" IS NULL) AND "k" IN (0, 2, -0.0e0)"""
    with pytest.raises(UnsupportedError) as info:
        sql("k == 1 OR k == 'x'")
    assert [(d.code, d.column) for d in info.value.diagnostics] == [("FQ601", 16)]
    assert info.value.hint == "pass a schema saying what 'k' holds, such as schema={'k': 'number'}"
    with pytest.raises(UnsupportedError) as info:
        sql("k == 99999999999999999999")
    assert "outside 64-bit integers" in info.value.message
    # With a schema both are fine: a value of another type is a constant.
    assert sql("k == 1 OR k == 'x'", schema={"k": "string"}) == """NOT "k" IS NULL AND "k" = 'x'"""
    assert sql("k == 99999999999999999999", schema={"k": "integer"}) == "FALSE"


def test_refusals_collect_every_problem_with_spans() -> None:
    def with_nul(node: flowql.ast.Node) -> flowql.ast.Node:
        if isinstance(node, String) and node.value == "x":
            return String("x\x00", span=node.span)
        return node

    expr = transform(flowql.parse("tags == 'a' AND k == 'x' AND geo == 1"), with_nul)
    assert isinstance(expr, And)
    with pytest.raises(UnsupportedError) as info:
        flowql.compile(
            expr, "sql", dialect="sqlite", schema={"tags": "list[string]", "k": "string"}
        )
    found = [(d.code, d.column) for d in info.value.diagnostics]
    assert found == [("FQ601", 1), ("FQ601", 22), ("FQ605", 30)]
    assert "sqlite has no array type" in info.value.diagnostics[0].message
    assert "NUL" in info.value.diagnostics[1].message
    assert info.value.diagnostics[2].message == "the schema has no column 'geo'"
    with pytest.raises(UnsupportedError):
        sql("tags == 'a'", "mysql", {"tags": "list[string]"})
    surrogate = Comparison(Key("k"), Op.EQ, String("\ud800"))
    with pytest.raises(UnsupportedError) as info:
        flowql.compile(surrogate, "sql")
    assert "lone surrogate" in info.value.message


def test_schema_did_you_mean() -> None:
    with pytest.raises(UnsupportedError) as info:
        sql("geo_contry == 'Spain'", schema={"geo_country": "string"})
    assert (info.value.code, info.value.hint) == ("FQ605", "did you mean 'geo_country'?")
    with pytest.raises(TargetError) as bad:
        sql("k == 1", schema={"k": "interger"})
    assert (bad.value.code, bad.value.hint) == ("FQ605", "did you mean 'integer'?")
    with pytest.raises(TargetError) as bad:
        sql("k == 1", schema=["k"])  # type: ignore[arg-type]
    assert bad.value.code == "FQ605"
    assert sql("k == 1", schema={"k": " LIST[Integer] "}) == (
        """COALESCE(ARRAY_CONTAINS("k", 1), FALSE)"""
    )


def test_unknown_dialect_and_options() -> None:
    with pytest.raises(TargetError) as info:
        sql("k == 1", "duckbd")
    assert (info.value.code, info.value.hint) == ("FQ604", "did you mean 'duckdb'?")
    with pytest.raises(TargetError) as info:
        sql("k == 1", "postgresql")
    assert info.value.hint == "did you mean 'postgres'?"
    with pytest.raises(TargetError) as info:
        flowql.compile("k == 1", "sql", dialect=3)
    assert info.value.code == "FQ604"
    with pytest.raises(TargetError) as info:
        flowql.compile("k == 1", "sql", revision="x")
    assert info.value.code == "FQ603"


def test_deep_and_wide_trees() -> None:
    wide = flowql.parse(" OR ".join(f"k == 'v{i}'" for i in range(2000)))
    assert compile_clause(wide).count(" OR ") == 1999
    deep: Expr = Comparison(Key("k"), Op.EQ, String("x"))
    for i in range(150):
        deep = (
            And(deep, Comparison(Key(f"k{i}"), Op.EQ, String("y")))
            if i % 2
            else flowql.ast.Or(deep, Comparison(Key(f"k{i}"), Op.EQ, String("y")))
        )
    with pytest.raises(UnsupportedError) as info:
        compile_clause(deep)
    assert "nested AND/OR levels" in info.value.message


def test_kinds_are_listed() -> None:
    assert KINDS == (
        "string",
        "integer",
        "float",
        "boolean",
        "list[string]",
        "list[integer]",
        "list[float]",
        "list[boolean]",
    )


def _no_nul(expr: Expr) -> Expr:
    def clean(node: flowql.ast.Node) -> flowql.ast.Node:
        if isinstance(node, String) and "\x00" in node.value:
            return String(node.value.replace("\x00", "\x01"))
        return node

    out = transform(expr, clean)
    assert isinstance(out, (Comparison, flowql.ast.In, flowql.ast.Not, And, flowql.ast.Or))
    return out


def _refusals(expr: Expr, dialect: str) -> list[str] | None:
    """The messages of the refusal of ``expr``, or None when it compiles."""
    try:
        compile_clause(expr, dialect)
    except UnsupportedError as error:
        return [d.message for d in error.diagnostics if d.code == "FQ601"]
    return None


@settings(max_examples=80, deadline=None)
@given(exprs(max_depth=3), st.sampled_from(DIALECTS))
def test_round_trip_through_sqlglot(expr: Expr, dialect: str) -> None:
    """Every dialect's text parses back (with that dialect's reader) to a tree that writes the
    same text again: the clause is valid for the dialect as sqlglot knows it."""
    expr = _no_nul(expr)
    refused = _refusals(expr, dialect)
    if refused is not None:
        # Without a schema, only keys compared with two types (or huge ints) are refused.
        assert refused
        assert all("cannot tell the type" in m or "outside 64-bit" in m for m in refused)
        return
    text = compile_clause(expr, dialect)
    tree = sqlglot.parse_one(text, read=dialect)
    assert tree.sql(dialect=dialect) == text
    assert sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect) == tree


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_examples_round_trip(dialect: str) -> None:
    for text in GOLDEN:
        if "tags" in text and dialect in ("sqlite", "mysql"):
            continue  # refused: no arrays
        clause = sql(text, dialect, SCHEMA)
        tree = sqlglot.parse_one(clause, read=dialect)
        assert tree.sql(dialect=dialect) == clause, (text, dialect)


DOC_SCHEMA = {
    "k": "string",
    "n": "integer",
    "f": "float",
    "b": "boolean",
    "tags": "list[string]",
    "integration.name": "string",
}

DOC_CONSTRUCTS = (
    ("`==` on a string", "k == 'x'"),
    ("`!=`", "k != 'x'"),
    ("`~~` contains", "k ~~ '50%'"),
    ("`!~` does not contain", "k !~ '50%'"),
    ("`IN`", "k IN ('x', 'y')"),
    ("`NOT IN`", "k NOT IN ('x', 'y')"),
    ("`NOT` of a group", "NOT (k == 'x' OR n == 1)"),
    ("a number", "f == 1"),
    ("a boolean", "b == true"),
    ("a value of another type than its column", "n == '1'"),
    ("a list column", "tags IN ('vip', 'new')"),
    ("a dotted key", "integration.name == 'Slack'"),
)
"""The constructs docs/targets/sql.md shows in every dialect, with :data:`DOC_SCHEMA`."""


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_constructs() -> str:
    """The section of docs/targets/sql.md that shows each construct in each dialect."""
    lines: list[str] = []
    for name, text in DOC_CONSTRUCTS:
        lines += ["", f"### {name}: `{text}`", ""]
        for dialect in DIALECTS:
            try:
                shown = _code(sql(text, dialect, DOC_SCHEMA))
            except UnsupportedError as error:
                shown = f"refused, {error.code}: {error.message}"
            lines.append(f"- {dialect}: {shown}")
    return "\n".join(lines) + "\n"


def test_the_page_shows_what_each_dialect_gets() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "targets" / "sql.md"
    assert render_constructs() in page.read_text(encoding="utf-8"), (
        "docs/targets/sql.md is stale: paste tests/test_target_sql.py's render_constructs()"
    )


@settings(max_examples=80, deadline=None)
@given(exprs(max_depth=3), st.sampled_from(DIALECTS), st.data())
def test_round_trip_with_a_schema(expr: Expr, dialect: str, data: st.DataObject) -> None:
    """The same with a random schema: lists (where the dialect has arrays), every scalar type,
    so that array functions and constants are written inside random trees too."""
    expr = _no_nul(expr)
    names = sorted({n.name for n in flowql.ast.walk(expr) if isinstance(n, Key)})
    kinds = [k for k in KINDS if not (k.startswith("list[") and dialect in ("sqlite", "mysql"))]
    schema = {name: data.draw(st.sampled_from(kinds)) for name in names}
    text = compile_clause(expr, dialect, schema)
    tree = sqlglot.parse_one(text, read=dialect)
    assert tree.sql(dialect=dialect) == text
    assert sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect) == tree


# --- FQ606: a test the schema's column types contradict ---------------------------------------

TYPED = {
    "count": "integer",
    "f": "float",
    "k": "string",
    "b": "boolean",
    "tags": "list[string]",
    "ns": "list[integer]",
}

# The filter, then each warning: its column, message and hint.
CONTRADICTED: list[tuple[str, list[tuple[int, str, str | None]]]] = [
    (
        "count ~~ 'x'",
        [
            (
                1,
                "column 'count' holds integers; ~~ tests text, so this test never matches",
                "compare whole values with ==, such as count == 1",
            )
        ],
    ),
    (
        "count !~ '5'",
        [
            (
                1,
                "column 'count' holds integers; !~ tests text, so this test always matches",
                "compare whole values with ==, such as count == 5",
            )
        ],
    ),
    (
        "count == 'x'",
        [
            (
                10,
                "column 'count' holds integers; 'x' is a string, so this test never matches",
                "compare with a number, such as count == 1",
            )
        ],
    ),
    (
        "count != '5'",
        [
            (
                10,
                "column 'count' holds integers; '5' is a string, so this test always matches",
                "compare with the number: count == 5",
            )
        ],
    ),
    (
        "count == 1.5",
        [
            (
                10,
                "column 'count' holds integers; 1.5 is not a whole number, so this test never "
                "matches",
                "compare with a whole number, or give the column the type float if it holds "
                "fractions",
            )
        ],
    ),
    (
        "count == true",
        [
            (
                10,
                "column 'count' holds integers; true is a boolean, so this test never matches",
                "compare with a number, such as count == 1",
            )
        ],
    ),
    (
        "k == 5",
        [
            (
                6,
                "column 'k' holds strings; 5 is a number, so this test never matches",
                "quote the value: k == '5'",
            )
        ],
    ),
    (
        "k == false",
        [
            (
                6,
                "column 'k' holds strings; false is a boolean, so this test never matches",
                "quote the value: k == 'false'",
            )
        ],
    ),
    (
        "k ~~ 5",
        [
            (
                6,
                "~~ tests text; 5 is not text, so this test never matches",
                "quote the value: k ~~ '5'",
            )
        ],
    ),
    (
        "b == 'False'",
        [
            (
                6,
                "column 'b' holds booleans; 'False' is a string, so this test never matches",
                "compare with true or false, unquoted: b == false",
            )
        ],
    ),
    (
        "b == 1",
        [
            (
                6,
                "column 'b' holds booleans; 1 is a number, so this test never matches",
                "compare with true or false: b == true",
            )
        ],
    ),
    (
        "f == 9007199254740993",
        [
            (
                6,
                "column 'f' holds floats; no float equals 9007199254740993 exactly, so this "
                "test never matches",
                "compare with a float: f == 9007199254740992.0",
            )
        ],
    ),
    (
        "count IN (1, 'two', 3.5) OR tags == 5",
        [
            (
                14,
                "column 'count' holds integers; 'two' is a string, so no row's value equals it",
                "compare with a number, such as count == 1",
            ),
            (
                21,
                "column 'count' holds integers; 3.5 is not a whole number, so no row's value "
                "equals it",
                "compare with a whole number, or give the column the type float if it holds "
                "fractions",
            ),
            (
                37,
                "column 'tags' holds lists of strings; 5 is a number, so this test never matches",
                "quote the value: tags == '5'",
            ),
        ],
    ),
    (
        "NOT ns ~~ 'x'",
        [
            (
                11,
                "column 'ns' holds lists of integers; 'x' is a string, so this test never matches",
                "compare with a number, such as ns == 1",
            )
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CONTRADICTED)
@pytest.mark.parametrize("target", ["sql", "polars"])
def test_a_contradicted_type_is_a_warning(
    text: str, expected: list[tuple[int, str, str | None]], target: str
) -> None:
    result = flowql.compile(text, target, schema=TYPED)
    found = [(w.code, w.severity.value, w.column, w.message, w.hint) for w in result.warnings]
    assert found == [("FQ606", "warning", *w) for w in expected]


def test_agreeing_types_give_no_warning() -> None:
    agreeing = (
        "count == 1 AND count == 1.0 AND f == 1 AND f == 1.5 AND k == '1' AND k ~~ '' AND "
        "b == false AND tags ~~ 'vip' AND tags IN ('a', 'b') AND ns == 2 AND count NOT IN (1, 2)"
    )
    assert flowql.compile(agreeing, "sql", schema=TYPED).warnings == ()
    assert flowql.compile("k == 'x' OR n == 1", "sql").warnings == ()  # no schema: no types


def test_the_clause_stays_the_python_targets() -> None:
    # The warning says why the test is a constant; the constant is still what it compiles to.
    result = flowql.compile("count == 'x' OR k == 'y'", "sql", schema=TYPED)
    assert result.filter == """NOT "k" IS NULL AND "k" = 'y'"""
    assert [w.code for w in result.warnings] == ["FQ606"]


VALUES = st.one_of(
    # A NUL is refused (FQ601: SQL text cannot hold one), which is not what these tests are about.
    st.text(st.characters(exclude_characters="\x00"), max_size=3).map(String),
    st.integers(-(2**70), 2**70).map(Number),
    st.floats(allow_nan=False, allow_infinity=False).map(Number),
    st.booleans().map(Boolean),
    st.sampled_from(["1", "1.5", "true", "False"]).map(String),
)


@given(
    op=st.sampled_from(list(Op)),
    value=VALUES,
    kind=st.sampled_from(sorted(KINDS)),
    dialect=st.sampled_from(["duckdb", "postgres"]),
)
@settings(max_examples=300, deadline=None)
def test_a_test_is_warned_of_exactly_when_its_type_makes_it_constant(
    op: Op, value: Value, kind: str, dialect: str
) -> None:
    test = Comparison(Key("c"), op, value)
    result = flowql.compile(test, "sql", dialect=dialect, schema={"c": kind})
    constant = result.filter in ("FALSE", "TRUE")
    assert bool(result.warnings) == constant, (result.filter, result.warnings)
    assert len(result.warnings) <= 1


def test_a_negative_float_is_a_float_literal_in_every_dialect() -> None:
    # sqlglot writes a negative number through Decimal, which drops the exponent: -1.5 would be
    # a DECIMAL in PostgreSQL, Snowflake and Trino, and -3.76e16 an integer.
    from flowql import parse
    from flowql.targets.sql import DIALECTS

    expr = parse("f == -1.5 OR f IN (-3.7609587960547416e16, 2.5)")
    for dialect in DIALECTS:
        clause = compile_clause(expr, dialect, {"f": "float"})
        assert "-1.5e0" in clause, (dialect, clause)
        assert "-3.7609587960547416e+16" in clause, (dialect, clause)
        assert "-37609587960547416" not in clause, (dialect, clause)
