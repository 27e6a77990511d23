"""The sql target proven on real engines: random filters over random typed tables, evaluated by
the python target and by the compiled clause on DuckDB and SQLite, in process; and the polars
target's expression the same way over polars DataFrames.

Each case draws a filter (tests/strategies.py), a type for each of its keys (biased towards the
types of the values the filter compares it with, so that tests match; lists on DuckDB; dotted
keys as structs on DuckDB and as columns named with dots on SQLite), and a few rows of values of
those types: the filter's own values and their neighbours, hostile strings (quotes, ``%``,
``_``, backslashes, unicode), extreme numbers, NULLs, NULL items in lists, NULL structs. The rows
the engine returns must be exactly the rows the python target keeps. The number of cases per
engine is asserted and printed at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import exprs, small_trees, string_values, values

from flowql.ast import (
    And,
    Boolean,
    Comparison,
    Expr,
    In,
    Key,
    Node,
    Not,
    Number,
    Op,
    Or,
    String,
    transform,
    walk,
)
from flowql.targets.frame import compile_expression
from flowql.targets.python import compile_predicate
from flowql.targets.sql import compile_clause

ENGINES = ("duckdb", "sqlite", "polars", "pandas", "spark", "clickhouse")

COUNTS: dict[str, int] = dict.fromkeys(ENGINES, 0)
"""Cases compared per engine, in this run (the spark and clickhouse tests add theirs)."""

SCHEMALESS: dict[str, int] = dict.fromkeys(ENGINES, 0)
"""Of those, the cases whose clause without a schema was checked to be the same."""

MIN_CASES = 300
"""Each engine must compare at least this many cases (each a filter over a table of rows)."""

ROW = '"#row"'
"""The row id column: no FlowQL key can be named with a '#'."""

TABLE = '"#cases"'
"""The table's name, which no key can be either: a struct column named like the table (``T``
of ``t``) would be read as the table in ``"T"."T"``, as SQL resolves names."""

INT64 = (-(2**63), 2**63 - 1)


def summary_lines() -> list[str]:
    """One line per engine, for the end of the run."""
    return [
        f"{engine}: {count} filters compared with the python target "
        f"({SCHEMALESS[engine]} also compiled the same without a schema)"
        for engine, count in COUNTS.items()
        if count
    ]


@functools.cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@functools.cache
def _sqlite() -> sqlite3.Connection:
    return sqlite3.connect(":memory:")


def _no_nul(expr: Expr) -> Expr:
    """NUL is refused in SQL text (tested in test_target_sql.py); here it becomes U+0001."""

    def clean(node: Node) -> Node:
        if isinstance(node, String) and "\x00" in node.value:
            return String(node.value.replace("\x00", "\x01"))
        return node

    out = transform(expr, clean)
    assert isinstance(out, (Comparison, In, Not, And, Or))
    return out


def _keys(expr: Expr) -> list[str]:
    return sorted({n.name for n in walk(expr) if isinstance(n, Key)})


def _fits(keys: list[str], structs: bool) -> bool:
    """Keys a table can hold: engines fold identifier case, and a struct column cannot also be a
    scalar one."""
    seen: dict[str, str] = {}
    for name in keys:
        parts = name.split(".") if structs else [name]
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if seen.setdefault(prefix.lower(), prefix) != prefix:
                return False
    if structs:
        names = set(keys)
        for name in keys:
            parts = name.split(".")
            if any(".".join(parts[:i]) in names for i in range(1, len(parts))):
                return False
    return True


def _value_kinds(expr: Expr, key: str) -> list[str]:
    found: list[str] = []
    for node in walk(expr):
        if isinstance(node, (Comparison, In)) and node.key.name == key:
            values = (node.value,) if isinstance(node, Comparison) else node.values
            for value in values:
                if isinstance(value, String):
                    found.append("string")
                elif isinstance(value, Boolean):
                    found.append("boolean")
                else:
                    found += ["integer", "float"]
    return found


def _pool(expr: Expr, kind: str) -> list[object]:
    """Values of ``kind`` the filter is about: its own values and their neighbours."""
    out: list[object] = []
    for node in walk(expr):
        if isinstance(node, String) and kind == "string":
            text = node.value
            out += [
                text,
                text + "x",
                "x" + text,
                text[1:],
                text.swapcase(),
                text.center(len(text) + 2, "_"),
            ]
            # What LIKE or a pattern would match too, and a character left out of the middle.
            middle = len(text) // 2
            out += [text.replace("_", "Q").replace("%", "QQ"), text[:middle] + text[middle + 1 :]]
            out += [text.replace(".", "Q").replace("*", "QQ"), "x"]
        elif isinstance(node, Boolean) and kind == "boolean":
            out.append(node.value)
        elif isinstance(node, Number) and kind in ("integer", "float"):
            v = node.value
            if kind == "integer":
                if isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
                    v = int(v)
                if isinstance(v, int) and INT64[0] <= v <= INT64[1]:
                    out += [v, min(v + 1, INT64[1])]
            elif not (isinstance(v, int) and v.bit_length() > 1000):
                out.append(float(v))
    return out


def _scalar(kind: str, pool: list[object]) -> st.SearchStrategy[object]:
    base: st.SearchStrategy[Any]
    if kind == "string":
        base = st.one_of(WILD, string_values().map(lambda s: s.replace("\x00", "\x01")))
    elif kind == "integer":
        base = st.one_of(st.integers(-3, 3), st.integers(*INT64))
    elif kind == "float":
        base = st.one_of(st.floats(allow_nan=False), st.sampled_from((0.0, -0.0, 1.0, 0.1)))
    else:
        base = st.booleans()
    choices = [base, st.none()]
    if pool:
        choices += [st.sampled_from(pool)] * 4
    return st.one_of(*choices)


def _cell(kind: str, pool: list[object]) -> st.SearchStrategy[object]:
    if kind.startswith("list["):
        item = kind[5:-1]
        return st.one_of(st.none(), st.lists(_scalar(item, pool), max_size=3))
    return _scalar(kind, pool)


SQL_TYPES = {
    "duckdb": {"string": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN"},
    "sqlite": {"string": "TEXT", "integer": "INTEGER", "float": "REAL", "boolean": "BOOLEAN"},
}


def _sql_type(engine: str, kind: str) -> str:
    if kind.startswith("list["):
        return SQL_TYPES[engine][kind[5:-1]] + "[]"
    return SQL_TYPES[engine][kind]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


WILD = st.sampled_from(
    ("%", "_", "a_c", "50%", "\\", "\\%", "%_%", "A", "é", "'", "''", "", "a.c", ".*", "[x]", "^")
)
"""Values LIKE, a regular expression, an escape or a collation would read otherwise than as
plain text."""


@functools.cache
def few_key_filters() -> st.SearchStrategy[Expr]:
    """Small trees over three keys, mostly strings with wildcard characters: many tests per key
    and many rows where they decide."""
    key = st.sampled_from(("k", "geo.city", "n")).map(Key)
    value = st.one_of(WILD.map(String), WILD.map(String), values())
    leaf = st.one_of(
        st.builds(Comparison, key, st.sampled_from(list(Op)), value),
        st.builds(In, key, st.lists(value, min_size=1, max_size=3), st.booleans()),
    )
    return small_trees(leaf, max_leaves=4)


STRUCTS = frozenset({"duckdb", "spark"})
"""Engines whose tables hold dotted keys as (nested) struct columns."""

LISTS = frozenset({"duckdb", "spark", "clickhouse"})
"""Engines whose tables hold list columns."""


@st.composite
def cases(draw: st.DrawFn, engine: str) -> tuple[Expr, dict[str, str], list[dict[str, object]]]:
    """A filter, its schema, and rows (flat: key -> value, None for NULL)."""
    structs = engine in STRUCTS
    expr = _no_nul(
        draw(
            st.one_of(
                few_key_filters(),
                few_key_filters(),
                exprs(max_depth=1, max_operands=3),
                exprs(max_depth=3),
            )
        )
    )
    keys = _keys(expr)
    assume(len(keys) <= 6 and _fits(keys, structs))
    scalars = ["string", "integer", "float", "boolean"]
    kinds = scalars + ([f"list[{k}]" for k in scalars] if engine in LISTS else [])
    schema: dict[str, str] = {}
    for key in keys:
        preferred = _value_kinds(expr, key)
        if engine in LISTS:
            preferred += [f"list[{k}]" for k in preferred[:1]]
        schema[key] = draw(st.sampled_from(preferred * 6 + kinds if preferred else kinds))
    pools = {kind: _pool(expr, kind) for kind in scalars}
    rows = [
        {
            key: draw(_cell(schema[key], pools[schema[key].removeprefix("list[").rstrip("]")]))
            for key in keys
        }
        for _ in range(draw(st.integers(1, 8)))
    ]
    return expr, schema, rows


def _record(row: dict[str, object], structs: bool, missing: list[bool]) -> dict[str, object]:
    """The python target's record of a row: NULL as None or as a missing key, dotted keys
    nested (structs) or flat."""
    record: dict[str, object] = {}
    for (key, value), drop in zip(row.items(), missing, strict=False):
        if value is None and drop:
            continue
        if not structs or "." not in key:
            record[key] = value
            continue
        parts = key.split(".")
        level = record
        for part in parts[:-1]:
            nested = level.setdefault(part, {})
            assert isinstance(nested, dict)
            level = nested
        level[parts[-1]] = value
    return record


def key_tree(schema: dict[str, str], leaf: Callable[[str], Any]) -> dict[str, Any]:
    """The schema's keys as a tree of their dotted parts (a struct's fields below it), each key's
    kind made a column type by ``leaf``."""
    tree: dict[str, Any] = {}
    for key, kind in schema.items():
        parts = key.split(".")
        level = tree
        for part in parts[:-1]:
            level = level.setdefault(part, {})
        level[parts[-1]] = leaf(kind)
    return tree


def _struct_columns(schema: dict[str, str], engine: str) -> dict[str, str]:
    """Top-level column -> SQL type, dotted keys grouped into (nested) STRUCTs."""
    tree = key_tree(schema, lambda kind: _sql_type(engine, kind))

    def render(node: Any) -> str:
        if isinstance(node, str):
            return node
        fields = ", ".join(f"{_quote(name)} {render(sub)}" for name, sub in node.items())
        return f"STRUCT({fields})"

    return {name: render(sub) for name, sub in tree.items()}


def _struct_value(row: dict[str, object], column: str, null_structs: bool) -> object:
    """The value of top-level column ``column`` of a row: a dict for a struct."""
    if column in row:
        return row[column]
    nested: dict[str, Any] = {}
    for key, value in row.items():
        parts = key.split(".")
        if parts[0] != column:
            continue
        level = nested
        for part in parts[1:-1]:
            level = level.setdefault(part, {})
        level[parts[-1]] = value
    if null_structs and all(v is None for k, v in row.items() if k.split(".")[0] == column):
        return None  # a NULL struct: every field is missing to the python target too
    return nested


def _engine_rows(
    engine: str, clause: str, schema: dict[str, str], rows: list[dict[str, object]], nulls: bool
) -> set[int]:
    if engine == "duckdb":
        columns = _struct_columns(schema, engine)
        con = _duckdb()
        ddl = ", ".join([f"{ROW} BIGINT"] + [f"{_quote(c)} {t}" for c, t in columns.items()])
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} ({ddl})")
        if rows:
            marks = ", ".join("?" * (len(columns) + 1))
            con.executemany(
                f"INSERT INTO {TABLE} VALUES ({marks})",
                [
                    [i] + [_struct_value(row, c, nulls) for c in columns]
                    for i, row in enumerate(rows)
                ],
            )
        found = con.execute(f"SELECT {ROW} FROM {TABLE} WHERE {clause}").fetchall()
    else:
        db = _sqlite()
        db.execute(f"DROP TABLE IF EXISTS {TABLE}")
        ddl = ", ".join(
            [f"{ROW} INTEGER"] + [f"{_quote(k)} {_sql_type(engine, v)}" for k, v in schema.items()]
        )
        db.execute(f"CREATE TABLE {TABLE} ({ddl})")
        marks = ", ".join("?" * (len(schema) + 1))
        db.executemany(
            f"INSERT INTO {TABLE} VALUES ({marks})",
            [[i] + [row[k] for k in schema] for i, row in enumerate(rows)],
        )
        found = db.execute(f"SELECT {ROW} FROM {TABLE} WHERE {clause}").fetchall()
    return {int(r[0]) for r in found}


def _check(engine: str) -> None:
    structs = engine in STRUCTS

    @settings(
        max_examples=MIN_CASES + 50,
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(cases(engine), st.lists(st.booleans(), min_size=6, max_size=6), st.booleans())
    def compare(
        case: tuple[Expr, dict[str, str], list[dict[str, object]]],
        missing: list[bool],
        null_structs: bool,
    ) -> None:
        expr, schema, rows = case
        clause = compile_clause(expr, engine, schema)
        predicate = compile_predicate(expr)
        # A NULL struct, a NULL field and a missing key are alike to the python target.
        records = [_record(row, structs, missing) for row in rows]
        expected = {i for i, record in enumerate(records) if predicate(record)}
        got = _engine_rows(engine, clause, schema, rows, structs and null_structs)
        assert got == expected, (clause, schema, rows)
        # Without a schema, a key of strings or booleans compiles as if the schema said so.
        inferred = {key: set(_value_kinds(expr, key)) for key in schema}
        if all(
            inferred[k] == {kind} and kind in ("string", "boolean") for k, kind in schema.items()
        ):
            assert compile_clause(expr, engine) == clause
            SCHEMALESS[engine] += 1
        COUNTS[engine] += 1

    before = COUNTS[engine]
    compare()
    assert COUNTS[engine] - before >= MIN_CASES, f"only {COUNTS[engine] - before} cases on {engine}"


def test_duckdb_selects_the_rows_python_does() -> None:
    _check("duckdb")


def test_sqlite_selects_the_rows_python_does() -> None:
    _check("sqlite")


NULL_LEAK_FILTER = "NOT (k == 'x') AND NOT (n IN (1, 2)) AND NOT (t ~~ '%')"
"""The issue's own example: NOT (k == 'x') holds for NULL. Its table and kept rows follow."""

NULL_LEAK_SCHEMA = {"k": "string", "n": "integer", "t": "string"}

NULL_LEAK_ROWS: list[dict[str, object]] = [
    {"k": None, "n": None, "t": None},
    {"k": "x", "n": None, "t": None},
    {"k": "y", "n": 3, "t": "50"},
    {"k": "y", "n": 3, "t": "50%"},
]

NULL_LEAK_KEPT = {0, 2}


def test_a_null_never_leaks_through_not() -> None:
    from flowql import parse

    expr = parse(NULL_LEAK_FILTER)
    schema, rows = NULL_LEAK_SCHEMA, NULL_LEAK_ROWS
    for engine in ("duckdb", "sqlite"):
        clause = compile_clause(expr, engine, schema)
        assert _engine_rows(engine, clause, schema, rows, False) == NULL_LEAK_KEPT, engine
    frame = _frame(schema, rows, False)
    assert frame.filter(compile_expression(expr, schema))["#row"].to_list() == [0, 2]


PLAIN_TEXT_SCHEMA = {"k": "string"}
"""A table of strings that LIKE, an escape, a pattern or a collation would read otherwise, and
the rows each filter keeps: every character is plain text."""

PLAIN_TEXT_ROWS: list[dict[str, object]] = [
    {"k": "abc"},
    {"k": "a_c"},
    {"k": "50%"},
    {"k": "500"},
    {"k": "A\\B"},
    {"k": "ABC"},
    {"k": "it's"},
    {"k": None},
    {"k": "a.c"},
]

PLAIN_TEXT_KEPT = {
    "k ~~ '_'": {1},
    "k ~~ '%'": {2},
    "k ~~ 'a_c'": {1},
    "k ~~ '\\\\'": {4},
    "k ~~ 'b'": {0},
    "k ~~ '\\''": {6},
    "k ~~ 'a.c'": {8},
    "k ~~ '.'": {8},
    "k ~~ '^A'": set(),
    "k !~ '_'": {0, 2, 3, 4, 5, 6, 7, 8},
    "k == 'abc'": {0},
    "k IN ('ABC', 'a_c')": {1, 5},
}


def test_wildcards_escapes_and_case_are_plain_text() -> None:
    from flowql import parse

    schema, rows = PLAIN_TEXT_SCHEMA, PLAIN_TEXT_ROWS
    for text, rows_kept in PLAIN_TEXT_KEPT.items():
        expr = parse(text)
        python = {i for i, row in enumerate(rows) if compile_predicate(expr)(row)}
        assert python == rows_kept, text
        for engine in ("duckdb", "sqlite"):
            clause = compile_clause(expr, engine, schema)
            assert _engine_rows(engine, clause, schema, rows, False) == rows_kept, (engine, text)
        frame = _frame(schema, rows, False)
        kept = frame.filter(compile_expression(expr, frame.schema))["#row"].to_list()
        assert set(kept) == rows_kept, ("polars", text)


POLARS_TYPES: dict[str, Any] = {
    "string": pl.String,
    "integer": pl.Int64,
    "float": pl.Float64,
    "boolean": pl.Boolean,
}


def _polars_type(kind: str) -> Any:
    if kind.startswith("list["):
        return pl.List(POLARS_TYPES[kind[5:-1]])
    return POLARS_TYPES[kind]


def _frame(schema: dict[str, str], rows: list[dict[str, object]], nulls: bool) -> pl.DataFrame:
    """The rows as a DataFrame: dotted keys as (nested) struct columns, a row id first."""
    tree = key_tree(schema, _polars_type)

    def dtype(node: Any) -> Any:
        if isinstance(node, dict):
            return pl.Struct({name: dtype(sub) for name, sub in node.items()})
        return node

    series = [pl.Series("#row", range(len(rows)), dtype=pl.Int64)]
    for column, node in tree.items():
        values = [_struct_value(row, column, nulls) for row in rows]
        series.append(pl.Series(column, values, dtype=dtype(node), strict=True))
    return pl.DataFrame(series)


def test_polars_selects_the_rows_python_does() -> None:
    @settings(
        max_examples=MIN_CASES + 50,
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(
        cases("duckdb"),
        st.lists(st.booleans(), min_size=6, max_size=6),
        st.booleans(),
        st.booleans(),
    )
    def compare(
        case: tuple[Expr, dict[str, str], list[dict[str, object]]],
        missing: list[bool],
        null_structs: bool,
        frame_schema: bool,
    ) -> None:
        expr, schema, rows = case
        frame = _frame(schema, rows, null_structs)
        # The frame's own schema (structs read through), or the kinds by key.
        expression = compile_expression(expr, frame.schema if frame_schema else schema)
        records = [_record(row, True, missing) for row in rows]
        predicate = compile_predicate(expr)
        expected = {i for i, record in enumerate(records) if predicate(record)}
        got = set(frame.filter(expression)["#row"].to_list())
        assert got == expected, (expression, schema, rows)
        inferred = {key: set(_value_kinds(expr, key)) for key in schema}
        if all(
            inferred[k] == {kind} and kind in ("string", "boolean") for k, kind in schema.items()
        ):
            got = set(frame.filter(compile_expression(expr))["#row"].to_list())
            assert got == expected
            SCHEMALESS["polars"] += 1
        COUNTS["polars"] += 1

    before = COUNTS["polars"]
    compare()
    assert COUNTS["polars"] - before >= MIN_CASES, f"only {COUNTS['polars'] - before} cases"
