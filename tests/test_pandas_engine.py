"""The pandas target proven on pandas: random filters over random typed frames (the cases of
tests/test_sql_engines.py), the mask's rows compared with the rows the python target keeps.

Each case's columns are drawn in one of several dtype flavours: ``object`` (Python values,
lists as lists, dotted keys as dicts), pandas' nullable types (``string``, ``Int64``,
``Float64``, ``boolean``), pyarrow-backed ones (``string[pyarrow]``, ``ArrowDtype`` scalars,
lists and structs), numpy types where the column has no missing cell (a float column's missing
cells are NaN), and categories. Dotted keys are columns named with the dots (as
``pandas.json_normalize`` makes them), dicts in an ``object`` column, or an ``ArrowDtype``
struct. The frame's index is drawn too, and the schema given when compiling (the frame, its
dtypes or the kinds by key; and none, which must give the same mask). The count of cases is
asserted and printed at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sql_engines import (
    COUNTS,
    MIN_CASES,
    SCHEMALESS,
    _fits,
    _record,
    _struct_value,
    cases,
    key_tree,
)

from flowql.ast import Expr
from flowql.targets.pandas_mask import compile_mask
from flowql.targets.python import compile_predicate

FLAVOURS = ("nullable", "arrow", "numpy", "category", "object")
"""Dtype families of a column (hypothesis draws the first most often: object comes last)."""

ARROW = {"string": pa.string(), "integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}
NULLABLE = {"string": "string", "integer": "Int64", "float": "Float64", "boolean": "boolean"}
NUMPY = {"string": "str", "integer": "int64", "float": "float64", "boolean": "bool"}


def _arrow_type(kind: str) -> Any:
    if kind.startswith("list["):
        return pa.list_(ARROW[kind[5:-1]])
    return ARROW[kind]


def _series(kind: str, values: list[object], flavour: str) -> pd.Series:
    """A column of ``kind`` in ``flavour`` (a flavour that cannot hold the values is object)."""
    if kind.startswith("list["):
        if flavour == "arrow":
            return pd.Series(values, dtype=pd.ArrowDtype(_arrow_type(kind)))
        return pd.Series(values, dtype=object)
    if flavour == "nullable":
        return pd.Series(values, dtype=NULLABLE[kind])
    if flavour == "arrow":
        if kind == "string" and values and len(values) % 2:
            return pd.Series(values, dtype="string[pyarrow]")
        return pd.Series(values, dtype=pd.ArrowDtype(ARROW[kind]))
    if flavour == "numpy" and (kind in ("float", "string") or None not in values):
        # A float column's missing cells are NaN; a str column's too (pandas' default).
        return pd.Series([np.nan if v is None else v for v in values], dtype=NUMPY[kind])
    if flavour == "category" and kind in ("string", "integer"):
        return pd.Series(pd.Categorical(values))
    return pd.Series(values, dtype=object)


def _struct_type(tree: dict[str, Any]) -> Any:
    return pa.struct(
        [
            (name, _struct_type(sub) if isinstance(sub, dict) else _arrow_type(sub))
            for name, sub in tree.items()
        ]
    )


def _frame(
    schema: dict[str, str],
    rows: list[dict[str, object]],
    flavours: list[str],
    nested: str,
    null_structs: bool,
) -> pd.DataFrame:
    """The rows as a DataFrame: dotted keys flat (``nested == "flat"``), as dicts (``dicts``)
    or as ``ArrowDtype`` structs (``arrow``)."""
    columns: dict[str, pd.Series] = {}
    if nested == "flat":
        for (key, kind), flavour in zip(schema.items(), flavours, strict=False):
            columns[key] = _series(kind, [row[key] for row in rows], flavour)
        return pd.DataFrame(columns)
    tree = key_tree(schema, str)
    for (column, sub), flavour in zip(tree.items(), flavours, strict=False):
        values = [_struct_value(row, column, null_structs) for row in rows]
        if not isinstance(sub, dict):
            columns[column] = _series(sub, values, flavour)
        elif nested == "arrow":
            columns[column] = pd.Series(values, dtype=pd.ArrowDtype(_struct_type(sub)))
        else:
            columns[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(columns)


def test_pandas_masks_the_rows_python_keeps() -> None:
    @settings(
        max_examples=MIN_CASES + 50,
        deadline=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(
        cases("duckdb"),
        st.lists(st.booleans(), min_size=6, max_size=6),
        st.lists(st.sampled_from(FLAVOURS), min_size=6, max_size=6),
        st.sampled_from(("flat", "arrow", "dicts")),
        st.booleans(),
        st.sampled_from(("frame", "dtypes", "kinds")),
        st.sampled_from(("range", "shuffled", "labels")),
    )
    def compare(
        case: tuple[Expr, dict[str, str], list[dict[str, object]]],
        missing: list[bool],
        flavours: list[str],
        nested: str,
        null_structs: bool,
        schema_from: str,
        index: str,
    ) -> None:
        expr, schema, rows = case
        if nested != "flat" and not _fits(list(schema), True):
            nested = "flat"
        frame = _frame(schema, rows, flavours, nested, null_structs)
        if index == "shuffled":
            frame.index = pd.Index(list(reversed(range(len(rows)))), dtype="int64") * 3
        elif index == "labels":
            frame.index = pd.Index([f"r{i}" for i in range(len(rows))])
        given_schema: object = {
            "frame": frame,
            "dtypes": frame.dtypes,
            "kinds": schema,
        }[schema_from]
        mask = compile_mask(expr, given_schema)(frame)
        assert mask.dtype == bool
        assert mask.index.equals(frame.index)
        records = [_record(row, nested != "flat", missing) for row in rows]
        predicate = compile_predicate(expr)
        expected = {i for i, record in enumerate(records) if predicate(record)}
        got = {int(i) for i in np.flatnonzero(mask.to_numpy())}
        assert got == expected, (expr, frame.dtypes.to_dict(), rows)
        # The mask reads the frame's dtypes when it runs: without a schema it is the same.
        assert compile_mask(expr)(frame).equals(mask)
        SCHEMALESS["pandas"] += 1
        COUNTS["pandas"] += 1

    before = COUNTS["pandas"]
    compare()
    assert COUNTS["pandas"] - before >= MIN_CASES, f"only {COUNTS['pandas'] - before} cases"
