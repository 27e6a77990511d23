"""The tests of a filter that a table's column types contradict (FQ606, a warning).

The table targets (``sql``, ``polars``) compile a test of a value no value of its column can
equal (``count ~~ 'x'`` on an integer column) to a constant, as the python target means it; but
such a test is most likely a mistake in the filter or in the schema, so each one is reported
with the value's span, what the column holds and what to write instead.
"""

from __future__ import annotations

from flowql.ast import Boolean, Comparison, In, Op, String, walk
from flowql.diagnostics import Diagnostic, Severity, clip
from flowql.formatter import format_value
from flowql.syntax import tokenize
from flowql.targets._columns import equal_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from flowql.ast import Expr, Span, Value

__all__ = ["contradictions"]

_EXAMPLES = {"integer": "1", "float": "1.5", "boolean": "true"}
_HOLDS = {"string": "strings", "integer": "integers", "float": "floats", "boolean": "booleans"}


def _holds(kind: str) -> str:
    if kind.startswith("list["):
        return "lists of " + _HOLDS[kind[5:-1]]
    return _HOLDS[kind]


def _is_number(text: str, kind: str) -> bool:
    """Whether ``text`` written unquoted is a number a column of ``kind`` can hold: one number
    token, as the lexer reads it."""
    tokens = tokenize(text)
    if len(tokens) != 1 or tokens[0].kind != "NUMBER":
        return False
    return kind != "integer" or float(text).is_integer()


def _mismatch(key: str, value: Value, item: str) -> tuple[str, str | None] | None:
    """Why no item of kind ``item`` equals ``value`` (what it is, and a hint), or None when one
    can."""
    shown = clip(format_value(value))
    if isinstance(value, String):
        if item == "string":
            return None
        if item == "boolean":
            word = "false" if value.value.strip().lower() == "false" else "true"
            return f"{shown} is a string", f"compare with true or false, unquoted: {key} == {word}"
        if _is_number(value.value, item):
            return f"{shown} is a string", f"compare with the number: {key} == {value.value}"
        return f"{shown} is a string", f"compare with a number, such as {key} == 1"
    if isinstance(value, Boolean):
        if item == "boolean":
            return None
        if item == "string":
            return f"{shown} is a boolean", f"quote the value: {key} == '{shown}'"
        return f"{shown} is a boolean", f"compare with a number, such as {key} == 1"
    if item == "string":
        return f"{shown} is a number", f"quote the value: {key} == '{shown}'"
    if item == "boolean":
        return f"{shown} is a number", f"compare with true or false: {key} == true"
    if equal_number(value.value, item) is not None:
        return None
    if item == "float":
        try:
            hint: str | None = f"compare with a float: {key} == {float(value.value)!r}"
        except OverflowError:
            hint = None
        return f"no float equals {shown} exactly", hint
    if isinstance(value.value, float):
        return (
            f"{shown} is not a whole number",
            "compare with a whole number, or give the column the type float if it holds fractions",
        )
    return f"{shown} is outside 64-bit integers", None


def _warning(message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return Diagnostic("FQ606", message, span, severity=Severity.WARNING, hint=hint)


def contradictions(expr: Expr, kinds: Mapping[str, str] | None) -> list[Diagnostic]:
    """An FQ606 warning for each test of ``expr`` that the column kinds (None: no schema)
    make a constant, and for each value of an ``IN`` list that no value of its column equals,
    in the filter's order."""
    found: list[Diagnostic] = []
    for node in walk(expr):
        if not isinstance(node, (Comparison, In)):
            continue
        key = node.key.name
        kind = kinds.get(key) if kinds is not None else None
        if isinstance(node, Comparison):
            contains = node.op in (Op.CONTAINS, Op.NOT_CONTAINS)
            outcome = "never matches" if node.op in (Op.EQ, Op.CONTAINS) else "always matches"
            value = node.value
            if contains and not isinstance(value, String):
                shown = clip(format_value(value))
                found.append(
                    _warning(
                        f"{node.op.value} tests text; {shown} is not text, so this test {outcome}",
                        value.span,
                        f"quote the value: {key} {node.op.value} '{shown}'",
                    )
                )
                continue
            if kind is None:
                continue
            item = kind[5:-1] if kind.startswith("list[") else kind
            if contains and kind == item and kind != "string":
                assert isinstance(value, String)
                whole = value.value if _is_number(value.value, kind) and kind != "boolean" else None
                found.append(
                    _warning(
                        f"column {key!r} holds {_holds(kind)}; {node.op.value} tests text, so "
                        f"this test {outcome}",
                        node.span,
                        f"compare whole values with ==, such as {key} == "
                        f"{whole or _EXAMPLES[kind]}",
                    )
                )
                continue
            why = _mismatch(key, value, item)
            if why is not None:
                found.append(
                    _warning(
                        f"column {key!r} holds {_holds(kind)}; {why[0]}, so this test {outcome}",
                        value.span,
                        why[1],
                    )
                )
        elif kind is not None:
            item = kind[5:-1] if kind.startswith("list[") else kind
            for value in node.values:
                why = _mismatch(key, value, item)
                if why is not None:
                    found.append(
                        _warning(
                            f"column {key!r} holds {_holds(kind)}; {why[0]}, so no row's value "
                            "equals it",
                            value.span,
                            why[1],
                        )
                    )
    return found
