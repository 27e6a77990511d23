"""What the table targets (``sql``, ``polars``, ``pandas``) share: column types, schemas, which
value of a column can equal a FlowQL value, and how their tests are folded together.

A table's column holds one type, where a Python record's key may hold any. So these targets
need each key's type (a schema, or else the type of the values the filter compares it with) to
keep the python target's typed meaning: a value of another type than the column's equals none
of its values, which makes the test a constant.
"""

from __future__ import annotations

import re
from typing import cast

from flowql.ast import And, Boolean, Comparison, In, Not, Op, Or, String, walk
from flowql.diagnostics import Diagnostic, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    from flowql.ast import Expr, Span, Value
    from flowql.errors import FlowQLError

    T = TypeVar("T")

__all__ = [
    "INT64",
    "fold_negated",
    "KINDS",
    "NUMBER",
    "SCALARS",
    "check_schema",
    "connect",
    "depth",
    "equal_number",
    "infer_kinds",
    "missing_column",
    "uncomparable_column",
    "value_kind",
]

SCALARS = ("string", "integer", "float", "boolean")
KINDS = SCALARS + tuple(f"list[{kind}]" for kind in SCALARS)
"""The column types a schema names."""

NUMBER = "number"
"""The kind of a key compared with numbers when there is no schema: integer or float."""

INT64 = (-(2**63), 2**63 - 1)
"""The integers an integer column holds."""


def value_kind(value: Value) -> str:
    """``string``, ``boolean`` or ``number``."""
    if isinstance(value, String):
        return "string"
    if isinstance(value, Boolean):
        return "boolean"
    return NUMBER


def check_schema(schema: object, error: type[FlowQLError]) -> dict[str, str] | None:
    """``schema`` (column -> kind) checked, kinds spelled canonically; ``error`` (FQ605) for
    anything else."""
    if schema is None:
        return None
    from collections.abc import Mapping

    if not isinstance(schema, Mapping):
        raise error(
            Diagnostic(
                "FQ605",
                f"a schema maps column names to types, not a {type(schema).__name__}",
                None,
                hint="for example {'geo_country': 'string', 'count': 'integer'}",
            )
        )
    checked: dict[str, str] = {}
    for column, kind in schema.items():
        spelled = re.sub(r"\s+", "", kind.lower()) if isinstance(kind, str) else None
        if not isinstance(column, str) or spelled not in KINDS:
            raise error(
                Diagnostic(
                    "FQ605",
                    f"the schema gives column {column!r} the type {kind!r}; "
                    f"the types are {', '.join(KINDS)}",
                    None,
                    hint=did_you_mean(spelled, KINDS) if spelled else None,
                )
            )
        checked[column] = spelled
    return checked


def missing_column(name: str, span: Span | None, columns: Iterable[str]) -> Diagnostic:
    """FQ605 for a key the schema has no column for, with the closest column."""
    return Diagnostic(
        "FQ605",
        f"the schema has no column {name!r}",
        span,
        hint=did_you_mean(name, list(columns)),
    )


def uncomparable_column(name: str, span: Span | None, type_name: str, who: str) -> Diagnostic:
    """FQ601 for a key whose column holds a type no FlowQL value equals (a date, a decimal);
    ``who`` names the target in the message."""
    return Diagnostic(
        "FQ601",
        f"{who} cannot compare column {name!r} of type {type_name} with FlowQL values",
        span,
        hint="cast the column to a string, a number or a boolean first",
    )


def depth(expr: Expr) -> int:
    """The most AND/OR levels on a path (NOT is compiled away)."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (And, Or)):
            deepest = max(deepest, level + 1)
            stack.extend((operand, level + 1) for operand in node.operands)
        elif isinstance(node, Not):
            stack.append((node.operand, level))
    return deepest


def infer_kinds(expr: Expr, who: str) -> tuple[dict[str, str], list[Diagnostic]]:
    """Without a schema: each key's kind from the values it is compared with, and an FQ601 for
    each key compared with values of two kinds (``who`` names the target in its message)."""
    seen: dict[str, tuple[str, Span | None]] = {}
    problems: list[Diagnostic] = []
    for node in walk(expr):
        if isinstance(node, Comparison):
            if node.op in (Op.CONTAINS, Op.NOT_CONTAINS) and not isinstance(node.value, String):
                continue  # never contained: no column type needed
            pairs = [(node.value, node.value.span)]
        elif isinstance(node, In):
            pairs = [(v, v.span) for v in node.values]
        else:
            continue
        name = node.key.name
        for value, span in pairs:
            kind = value_kind(value)
            first = seen.setdefault(name, (kind, span))
            if first[0] != kind:
                problems.append(
                    Diagnostic(
                        "FQ601",
                        f"{who} cannot tell the type of column {name!r}: it is "
                        f"compared with a {first[0]} and a {kind}",
                        span,
                        hint=f"pass a schema saying what {name!r} holds, such as "
                        f"schema={{{name!r}: {first[0]!r}}}",
                    )
                )
                seen[name] = (kind, span)
    return {name: kind for name, (kind, _) in seen.items()}, problems


def equal_number(
    number: int | float, kind: str, bounds: tuple[int, int] = INT64
) -> int | float | None:
    """The number of a column of ``kind`` (``integer``, ``float``, or ``number`` when unknown)
    that equals ``number`` exactly, as Python compares them, or None when none does (a
    fraction for an integer column, an int no float equals for a float column, an int outside
    the column's ``bounds``, 64-bit by default). For ``number`` an int outside 64 bits is None
    too: the caller refuses it."""
    if kind == "float" or (kind == NUMBER and isinstance(number, float)):
        try:
            exact = float(number)
        except OverflowError:
            return None
        return exact if exact == number else None
    if isinstance(number, float):
        if not number.is_integer():
            return None
        number = int(number)
    if not bounds[0] <= number <= bounds[1]:
        return None
    return number


def connect(operands: list[T], conjunction: bool) -> T:
    """AND (``conjunction``) or OR of ``operands`` (expressions or arrays joined with ``&`` and
    ``|``, and constants), the constants folded away."""
    # T is a union with bool (``pl.Expr | bool``): the constants are of it.
    absorbing = not conjunction
    if any(o is absorbing for o in operands):
        return cast("T", absorbing)
    kept: list[Any] = [o for o in operands if not isinstance(o, bool)]
    if not kept:
        return cast("T", conjunction)
    joined = kept[0]
    for operand in kept[1:]:
        joined = (joined & operand) if conjunction else (joined | operand)
    return cast("T", joined)


def fold_negated(
    expr: Expr,
    leaf: Callable[[Comparison | In, bool], T],
    connect: Callable[[list[T], bool], T],
) -> T:
    """``expr`` folded bottom-up with ``NOT`` pushed into the tests (De Morgan), over a stack so
    that a deep tree cannot exhaust Python's: ``leaf(test, negated)`` makes each test,
    ``connect(operands, conjunction)`` joins an AND (True) or OR (False) of them."""
    results: list[T] = []
    stack: list[tuple[Expr, bool, bool]] = [(expr, False, False)]
    while stack:
        node, negate, done = stack.pop()
        if isinstance(node, Not):
            stack.append((node.operand, not negate, False))
        elif isinstance(node, (Comparison, In)):
            results.append(leaf(node, negate))
        elif isinstance(node, (And, Or)):
            if not done:
                stack.append((node, negate, True))
                stack.extend((o, negate, False) for o in reversed(node.operands))
                continue
            count = len(node.operands)
            operands = results[-count:]
            del results[-count:]
            results.append(connect(operands, isinstance(node, And) != negate))
        else:
            raise TypeError(f"not a FlowQL expression: {node!r}")
    return results[0]
