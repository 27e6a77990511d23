"""The polars target: a FlowQL filter as a polars expression, for ``DataFrame.filter``.

The expression means what the ``python`` target means on the frame's rows (see
docs/targets/polars.md), as the sql target's clause does:

- every test is two-valued (``fill_null(False)`` before any negation): a null matches ``!=``,
  ``!~`` and ``NOT IN`` and nothing else;
- values are typed by the schema (``df.schema``, another table's schema read by
  :mod:`flowql.targets.table_schemas`, or column -> ``string``, ``integer``, ``float``,
  ``boolean``, ``list[...]``): a value of another type than its column's is a
  constant ``False`` (``True`` negated); without a schema, each key has the type of the values
  the filter compares it with;
- ``~~`` is ``str.contains(value, literal=True)``: no regular expression, case-sensitive;
- a list column is tested item by item (``list.contains``);
- a dotted key reads a struct's field (``pl.col("integration").struct.field("name")``) when the
  schema's column is a struct, and a column named with the dots when the schema has that name
  (the python target's rule: the key with the dots wins); without a schema it is a struct path.

polars is imported only when this target compiles.
"""

from __future__ import annotations

import polars as pl

from flowql.ast import And, Boolean, Comparison, In, Not, Op, Or, String
from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError, UnsupportedError
from flowql.targets._columns import (
    NUMBER,
    connect,
    depth,
    equal_number,
    fold_negated,
    infer_kinds,
    missing_column,
    uncomparable_column,
)
from flowql.targets.table_schemas import TableSchema, read_schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr, Key, Value

__all__ = ["MAX_DEPTH", "TARGET", "FrameOptionError", "compile_expression"]

TARGET = "polars"
"""The target's name."""

MAX_DEPTH = 100
"""The most nested AND/OR levels compiled (the parser's own limit)."""


class FrameOptionError(FlowQLError):
    """A schema that is neither a mapping of column names to known types nor a table's schema
    flowql reads (FQ605)."""


class _Compiler:
    def __init__(self, table: TableSchema | None) -> None:
        self.schema = table.kinds if table is not None else None
        self.others = table.others if table is not None else {}
        self.paths = table.paths if table is not None else None  # None: dotted keys are paths
        self.categories = table.texts if table is not None else frozenset()
        self.kinds: dict[str, str] = {}
        self.problems: list[Diagnostic] = []

    def kind_of(self, key: Key) -> str | None:
        if self.schema is None:
            return self.kinds.get(key.name)
        kind = self.schema.get(key.name)
        if kind is None and key.name in self.others:
            self.problems.append(
                uncomparable_column(key.name, key.span, self.others[key.name], "the polars target")
            )
        elif kind is None:
            self.problems.append(missing_column(key.name, key.span, self.schema))
        return kind

    def column(self, name: str) -> pl.Expr:
        if "." not in name or (self.paths is not None and name not in self.paths):
            found = pl.col(name)
        else:
            first, *rest = name.split(".")
            found = pl.col(first)
            for part in rest:
                found = found.struct.field(part)
        return found.cast(pl.String) if name in self.categories else found

    def value(self, value: Value, kind: str) -> object:
        """The Python value of a column of ``kind`` that equals ``value``, or ``_NONE``."""
        if isinstance(value, String):
            return value.value if kind == "string" else _NONE
        if isinstance(value, Boolean):
            return value.value if kind == "boolean" else _NONE
        if kind not in ("integer", "float", NUMBER):
            return _NONE
        number = equal_number(value.value, kind)
        if number is None:
            if kind == NUMBER and isinstance(value.value, int):
                self.problems.append(
                    Diagnostic(
                        "FQ601",
                        f"the polars target cannot compare with {value.value} without knowing "
                        "the column's type: it is outside 64-bit integers",
                        value.span,
                        hint="pass the frame's schema (df.schema)",
                    )
                )
            return _NONE
        return number

    def leaf(self, node: Comparison | In, negate: bool) -> pl.Expr | bool:
        kind = self.kind_of(node.key)
        if isinstance(node, Comparison):
            op = node.op.negated if negate else node.op
            positive = op in (Op.EQ, Op.CONTAINS)
            contains = op in (Op.CONTAINS, Op.NOT_CONTAINS)
            values: tuple[Value, ...] = (node.value,)
        else:
            positive = node.negated == negate
            contains = False
            values = node.values
        if kind is None or (contains and not isinstance(values[0], String)):
            return not positive
        column = self.column(node.key.name)
        scalar = kind[5:-1] if kind.startswith("list[") else kind
        wanted: list[object] = []
        for value in values:
            found = self.value(value, scalar)
            if found is not _NONE and found not in wanted:
                wanted.append(found)
        if not wanted:
            return not positive
        test: pl.Expr
        if kind.startswith("list["):
            tests = [column.list.contains(pl.lit(w)) for w in wanted]
            test = tests[0]
            for more in tests[1:]:
                test = test | more
        elif contains:
            part = wanted[0]
            assert isinstance(part, str)
            test = column.is_not_null() if part == "" else column.str.contains(part, literal=True)
        elif len(wanted) == 1:
            test = column == pl.lit(wanted[0])
        else:
            test = column.is_in(wanted)
        test = test.fill_null(False)
        return test if positive else ~test

    def tree(self, expr: Expr) -> pl.Expr | bool:
        return fold_negated(expr, self.leaf, connect)


class _NoValue:
    __slots__ = ()


_NONE = _NoValue()


def compile_expression(expr: Expr, schema: object = None) -> pl.Expr:
    """``expr`` as a boolean polars expression (never null). ``schema`` is ``df.schema``, another
    table's schema (:mod:`flowql.targets.table_schemas`: pyarrow, DuckDB...) or a mapping of
    keys to kinds. Raises :class:`FrameOptionError` for a bad schema and
    :class:`~flowql.errors.UnsupportedError` with every problem, each with its span.

    >>> import polars as pl
    >>> from flowql import parse
    >>> df = pl.DataFrame({"k": ["50%", "5", None], "n": [1, 2, None]})
    >>> df.filter(compile_expression(parse("k ~~ '%' OR n != 2"), df.schema))["k"].to_list()
    ['50%', None]
    """
    if not isinstance(expr, (Comparison, In, Not, And, Or)):
        raise TypeError(f"not a FlowQL expression: {expr!r}")
    compiler = _Compiler(read_schema(schema, FrameOptionError))
    if depth(expr) > MAX_DEPTH:
        raise UnsupportedError(
            Diagnostic(
                "FQ601",
                f"the polars target cannot compile more than {MAX_DEPTH} nested AND/OR levels",
                expr.span,
                hint="flatten the filter: the parser never nests deeper",
            )
        )
    if compiler.schema is None:
        compiler.kinds, problems = infer_kinds(expr, "the polars target")
        compiler.problems.extend(problems)
    result = compiler.tree(expr)
    if compiler.problems:
        raise UnsupportedError(compiler.problems)
    return pl.lit(result) if isinstance(result, bool) else result
