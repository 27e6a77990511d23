"""The SQL target: a FlowQL filter as a SQL boolean expression (a ``WHERE`` clause) per dialect.

The clause is built as a sqlglot expression tree and written by sqlglot's generator for the
dialect, so identifiers and literals are quoted the dialect's way; nothing is concatenated.
sqlglot is the optional ``flowql[sql]`` extra, imported only when this target compiles.

The clause means what the ``python`` target means (docs/targets/python.md), row by row:

- every test is two-valued: NULL matches ``!=``, ``!~`` and ``NOT IN`` and nothing else, through
  explicit ``IS NULL`` / ``IS NOT NULL`` guards (``COALESCE(..., FALSE)`` around array
  functions), so SQL's three-valued logic never leaks and the clause can also be selected as a
  column;
- values are typed: a schema (column -> ``string``, ``integer``, ``float``, ``boolean`` or
  ``list[...]`` of one of them, or a table's schema read by :mod:`flowql.targets.table_schemas`)
  says what each column holds, and a test of a value of another type is a constant (``k ==
  '1'`` on an integer column is ``FALSE``, its ``!=`` ``TRUE``; ``flowql.compile`` warns of it,
  FQ606).
  Without a schema, each key is taken to hold the type of the values it is compared with; a key
  compared with values of two types then needs a schema (FQ601);
- ``~~`` is a case-sensitive substring test by position (``STRPOS``, ``INSTR``, ``LOCATE``...),
  never ``LIKE``, so ``%``, ``_`` and ``\\`` in a value are plain characters; MySQL compares
  strings as bytes (``CAST(... AS BINARY)``), as its default collations ignore case and accents;
- a ``list[...]`` column is tested item by item with the dialect's array function; SQLite and
  MySQL have no arrays and refuse (FQ601).

Dotted keys (``integration.name``) are struct field paths in the dialects whose nested values
are typed structs (DuckDB, Spark/Databricks, BigQuery, Trino) and a column named with the dots
elsewhere. What no dialect can hold (a NUL character in a value, a lone surrogate) is refused.
"""

from __future__ import annotations

import math

from sqlglot import exp

from flowql.ast import And, Boolean, Comparison, In, Not, Op, Or, String
from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.errors import FlowQLError, UnsupportedError
from flowql.targets._columns import (
    KINDS,
    NUMBER,
    depth,
    equal_number,
    fold_negated,
    infer_kinds,
    missing_column,
    uncomparable_column,
)
from flowql.targets._text import unencodable
from flowql.targets.table_schemas import TableSchema, read_schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr, Key, Span, Value

__all__ = [
    "DIALECTS",
    "KINDS",
    "MAX_DEPTH",
    "STRUCT_DIALECTS",
    "TARGET",
    "SqlOptionError",
    "compile_clause",
    "compile_tree",
]

TARGET = "sql"
"""The target's name."""

DIALECTS = (
    "bigquery",
    "clickhouse",
    "databricks",
    "duckdb",
    "mysql",
    "postgres",
    "snowflake",
    "spark",
    "sqlite",
    "trino",
)
"""The dialects the target writes (sqlglot's names for them)."""

STRUCT_DIALECTS = frozenset({"bigquery", "databricks", "duckdb", "spark", "trino"})
"""Dialects where a dotted key is a struct field path; elsewhere it is a column with dots."""

_NO_ARRAYS = frozenset({"mysql", "sqlite"})
"""Dialects without an array type: list columns are refused."""

MAX_DEPTH = 100
"""The most nested AND/OR levels compiled (the parser's own limit): SQL generators recurse."""


class SqlOptionError(FlowQLError):
    """An option of the sql target that is wrong: an unknown dialect (FQ604), a schema that is
    neither a mapping of column names to known types nor a table's schema flowql reads
    (FQ605)."""


def _dialect(name: object) -> str:
    if isinstance(name, str) and name in DIALECTS:
        return name
    shown = name if isinstance(name, str) else type(name).__name__
    hint = did_you_mean(shown.lower(), DIALECTS, cutoff=0.5) if isinstance(name, str) else None
    if isinstance(name, str) and name.lower() in ("postgresql", "pg"):
        hint = "did you mean 'postgres'?"
    raise SqlOptionError(
        Diagnostic(
            "FQ604",
            f"unknown SQL dialect '{shown}'; the dialects are {', '.join(DIALECTS)}",
            None,
            hint=hint,
        )
    )


_ZEROS = (exp.Literal.number("0"), exp.Literal.number("0.0e0"))
_NEGATIVE_ZERO = exp.Neg(this=exp.Literal.number("0.0e0"))  # as literal() writes -0.0


def _both_zeros(literals: list[exp.Expr]) -> list[exp.Expr]:
    """The values of a ClickHouse ``IN`` list on a float column, with ``-0.0`` beside ``0.0``.

    ClickHouse looks a Float64 up in an ``IN`` set by its bits, so ``-0.0 IN (0.0)`` is false
    (and ``0.0 IN (-0.0)``) although ``-0.0 = 0.0``: with either zero, the list holds both."""
    positive = any(literal in _ZEROS for literal in literals)
    negative = _NEGATIVE_ZERO in literals
    if positive == negative:
        return literals
    return [*literals, _NEGATIVE_ZERO.copy() if positive else _ZEROS[1].copy()]


class _Compiler:
    """One compilation: the dialect, the column types, and the problems found."""

    def __init__(self, dialect: str, table: TableSchema | None) -> None:
        self.dialect = dialect
        self.schema = table.kinds if table is not None else None
        self.others = table.others if table is not None else {}
        self.paths = table.paths if table is not None else None
        self.problems: list[Diagnostic] = []
        self.kinds: dict[str, str] = {}

    def refuse(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.problems.append(
            Diagnostic("FQ601", f"the sql target ({self.dialect}) {message}", span, hint=hint)
        )

    # --- types ---------------------------------------------------------------------------------

    def kind_of(self, key: Key) -> str | None:
        if self.schema is None:
            return self.kinds.get(key.name)
        kind = self.schema.get(key.name)
        if kind is None and key.name in self.others:
            who = f"the sql target ({self.dialect})"
            self.problems.append(
                uncomparable_column(key.name, key.span, self.others[key.name], who)
            )
        elif kind is None:
            self.problems.append(missing_column(key.name, key.span, self.schema))
        elif kind.startswith("list[") and self.dialect in _NO_ARRAYS:
            self.refuse(
                f"cannot test the items of list column {key.name!r}: {self.dialect} has no "
                "array type",
                key.span,
                hint="filter these rows with the duckdb dialect or the python target",
            )
        return kind

    # --- pieces --------------------------------------------------------------------------------

    def column(self, name: str) -> exp.Expr:
        parts = name.split(".")
        flat = self.paths is not None and name not in self.paths  # a column named with dots
        if len(parts) == 1 or self.dialect not in STRUCT_DIALECTS or flat:
            return exp.Column(this=exp.to_identifier(name, quoted=True))
        path: exp.Expr = exp.Column(this=exp.to_identifier(parts[0], quoted=True))
        for part in parts[1:]:
            path = exp.Dot(this=path, expression=exp.to_identifier(part, quoted=True))
        return path

    def literal(self, value: Value, kind: str) -> exp.Expr | None:
        """``value`` as a literal of a column of ``kind`` (a scalar kind), or None when no value
        of that column can equal it."""
        if isinstance(value, String):
            if kind != "string":
                return None
            if "\x00" in value.value:
                self.refuse(
                    "cannot write a value holding a NUL character: SQL text cannot hold one",
                    value.span,
                )
            return exp.Literal.string(value.value)
        if isinstance(value, Boolean):
            return (exp.true() if value.value else exp.false()) if kind == "boolean" else None
        if kind not in ("integer", "float", NUMBER):
            return None
        number = equal_number(value.value, kind)
        if number is None:
            if kind == NUMBER and isinstance(value.value, int):
                self.refuse(
                    f"cannot compare with {value.value} without knowing the column's type: it "
                    "is outside 64-bit integers",
                    value.span,
                    hint="pass a schema saying whether the column is an integer or a float",
                )
            return None
        if isinstance(number, float):
            text = repr(abs(number))
            # An exponent makes it a floating-point literal in every dialect, not a decimal;
            # sqlglot writes a negative literal through Decimal, which drops it, so the minus
            # is a negation of the positive literal. (copysign: -0.0 keeps its sign.)
            literal = exp.Literal.number(text if "e" in text else text + "e0")
            return exp.Neg(this=literal) if math.copysign(1.0, number) < 0 else literal
        return exp.Literal.number(str(number))

    def text(self, node: exp.Expr) -> exp.Expr:
        """MySQL compares strings as bytes; elsewhere strings compare exactly as they are."""
        if self.dialect != "mysql":
            return node
        return exp.Cast(this=node, to=exp.DataType.build("BINARY"))

    # --- tests ---------------------------------------------------------------------------------

    def leaf(self, node: Comparison | In, negate: bool) -> exp.Expr:
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
        if kind is None:  # not in the schema (reported), or never compared
            return exp.false() if positive else exp.true()
        if contains and not isinstance(values[0], String):  # a number is in no string
            return exp.false() if positive else exp.true()
        column = self.column(node.key.name)
        if kind.startswith("list["):
            item = kind[5:-1]
            found = self.items(column, item, values)
            if found is None:
                return exp.false() if positive else exp.true()
            return found if positive else exp.Not(this=exp.Paren(this=found))
        if contains:
            assert isinstance(node, Comparison)
            assert isinstance(node.value, String)
            return self.substring(column, kind, node.value, positive)
        literals = self.literals(values, kind)
        if not literals:
            return exp.false() if positive else exp.true()
        subject = self.text(column) if kind == "string" else column
        if len(literals) == 1:
            if positive:
                test: exp.Expr = exp.EQ(this=subject, expression=literals[0])
            else:
                test = exp.NEQ(this=subject, expression=literals[0])
        else:
            if self.dialect == "clickhouse" and kind in ("float", NUMBER):
                literals = _both_zeros(literals)
            test = exp.In(this=subject, expressions=literals)
            if not positive:
                test = exp.Not(this=test)
        return self.guard(column, test, positive)

    def literals(self, values: tuple[Value, ...], kind: str) -> list[exp.Expr]:
        found: list[exp.Expr] = []
        for value in values:
            literal = self.literal(value, kind)
            if literal is not None:
                literal = self.text(literal) if kind == "string" else literal
                if all(literal != other for other in found):
                    found.append(literal)
        return found

    def guard(self, column: exp.Expr, test: exp.Expr, positive: bool) -> exp.Expr:
        """``test`` made two-valued: false on NULL when positive, true on NULL when negated."""
        if positive:
            return exp.and_(exp.Not(this=exp.Is(this=column.copy(), expression=exp.null())), test)
        return exp.or_(exp.Is(this=column.copy(), expression=exp.null()), test)

    def substring(self, column: exp.Expr, kind: str, value: String, positive: bool) -> exp.Expr:
        if kind != "string":
            return exp.false() if positive else exp.true()
        literal = self.literal(value, kind)
        assert literal is not None
        if value.value == "":  # every string contains ''
            is_null = exp.Is(this=column, expression=exp.null())
            return exp.Not(this=is_null) if positive else is_null
        where = exp.StrPosition(this=self.text(column), substr=self.text(literal))
        zero = exp.Literal.number(0)
        test = (
            exp.GT(this=where, expression=zero) if positive else exp.EQ(this=where, expression=zero)
        )
        return self.guard(column, test, positive)

    def items(self, column: exp.Expr, item: str, values: tuple[Value, ...]) -> exp.Expr | None:
        """Whether the list column has an item equal to one of ``values`` (never NULL).

        One test per value: ClickHouse's ``hasAny(column, [...])`` would be shorter, but it
        reads a NULL item as its type's default (``hasAny([NULL], [''])`` is true)."""
        literals = self.literals(values, item)
        if not literals:
            return None
        tests = [
            exp.Coalesce(
                this=exp.ArrayContains(this=column.copy(), expression=literal),
                expressions=[exp.false()],
            )
            for literal in literals
        ]
        return exp.or_(*tests) if len(tests) > 1 else tests[0]

    # --- trees ---------------------------------------------------------------------------------

    def tree(self, expr: Expr) -> exp.Expr:
        """The clause of ``expr``, ``NOT`` pushed into the tests, post-order over a stack."""
        return fold_negated(expr, self.leaf, self.connect)

    def connect(self, operands: list[exp.Expr], conjunction: bool) -> exp.Expr:
        """AND (or OR) of ``operands``, constants folded away."""
        absorbing, neutral = (exp.false(), exp.true()) if conjunction else (exp.true(), exp.false())
        if any(o == absorbing for o in operands):
            return absorbing
        kept = [o for o in operands if o != neutral]
        if not kept:
            return neutral
        if len(kept) == 1:
            return kept[0]
        return exp.and_(*kept) if conjunction else exp.or_(*kept)


def compile_tree(expr: Expr, dialect: object = "duckdb", schema: object = None) -> exp.Expr:
    """``expr`` as a sqlglot boolean expression for ``dialect``. ``schema`` is a mapping of
    columns to kinds or a table's schema (:mod:`flowql.targets.table_schemas`: pyarrow, polars,
    DuckDB...), whose columns of types no FlowQL value equals are refused where used (FQ601).

    Raises :class:`SqlOptionError` for an unknown dialect (FQ604) or a bad schema (FQ605), and
    :class:`~flowql.errors.UnsupportedError` with every problem (FQ601, and FQ605 for a key the
    schema lacks), each with its span.
    """
    if not isinstance(expr, (Comparison, In, Not, And, Or)):
        raise TypeError(f"not a FlowQL expression: {expr!r}")
    chosen = _dialect(dialect)
    table = read_schema(schema, SqlOptionError)
    compiler = _Compiler(chosen, table)
    compiler.problems.extend(unencodable(expr, f"sql ({chosen})"))
    if depth(expr) > MAX_DEPTH:
        compiler.refuse(
            f"cannot write more than {MAX_DEPTH} nested AND/OR levels",
            expr.span,
            hint="flatten the filter: the parser never nests deeper",
        )
        raise UnsupportedError(compiler.problems)
    if table is None:
        compiler.kinds, problems = infer_kinds(expr, f"the sql target ({chosen})")
        compiler.problems.extend(problems)
    clause = compiler.tree(expr)
    if compiler.problems:
        raise UnsupportedError(compiler.problems)
    return clause


def compile_clause(expr: Expr, dialect: object = "duckdb", schema: object = None) -> str:
    """``expr`` as the text of a SQL boolean expression for ``dialect`` (a ``WHERE`` clause
    without the ``WHERE``); raises as :func:`compile_tree` does.

    >>> from flowql import parse
    >>> print(compile_clause(parse("name ~~ '50%' OR NOT n == 1"), "sqlite"))
    (NOT "name" IS NULL AND INSTR("name", '50%') > 0) OR ("n" IS NULL OR "n" <> 1)
    """
    chosen = _dialect(dialect)
    return compile_tree(expr, chosen, schema).sql(dialect=chosen)
