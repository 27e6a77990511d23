"""Klaviyo's filter syntax as the sandbox reads it: a parser and an evaluator of its own.

This is the server's independent reading of Klaviyo's documentation, deliberately not flowql's
Klaviyo target (:mod:`flowql.targets.klaviyo`): a client tested against the sandbox is tested
against a second reading of the same rules.

Syntax: ``op(field,value)`` calls, ``has(field)``, ``and(...)`` of calls, and calls separated by
top-level commas (a comma is AND). Operators: ``equals``, ``less-than``, ``less-or-equal``,
``greater-than``, ``greater-or-equal``, ``contains``, ``contains-any``, ``contains-all``,
``starts-with``, ``ends-with``, ``any``, ``has`` and ``and``; ``or(`` and ``not(`` are not
Klaviyo's and are refused. Values: strings in double or single quotes (a backslash escapes the
next character, so a quote of the same kind is ``\\"``), ``true``, ``false``, ``null``, numbers,
unquoted ISO 8601 dates and date-times, and ``[...]`` lists of those. No whitespace outside
strings.

>>> conditions = parse('and(equals(flow_id,"T7K2j8"),contains-any(send_channel,["email","sms"]))')
>>> [(c.operator, c.field, c.value) for c in conditions]
[('equals', 'flow_id', 'T7K2j8'), ('contains-any', 'send_channel', ['email', 'sms'])]
>>> matches(conditions, {"flow_id": "T7K2j8", "send_channel": "sms"})
True
"""

from __future__ import annotations

import re
from datetime import datetime

from flowql.sandbox._util import parse_iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TypeAlias

    Scalar: TypeAlias = "str | int | float | bool | datetime | None"
    Value: TypeAlias = "Scalar | list[Scalar]"

__all__ = [
    "LIST_OPERATORS",
    "MAX_DEPTH",
    "OPERATORS",
    "Condition",
    "FilterSyntaxError",
    "holds",
    "matches",
    "parse",
]

LIST_OPERATORS = frozenset({"contains-any", "contains-all", "any"})
"""Operators whose value is a list."""

_SCALAR_OPERATORS = frozenset(
    {
        "equals",
        "less-than",
        "less-or-equal",
        "greater-than",
        "greater-or-equal",
        "contains",
        "starts-with",
        "ends-with",
    }
)
OPERATORS = _SCALAR_OPERATORS | LIST_OPERATORS | {"has", "and"}
"""Every operator of Klaviyo's filter syntax."""

MAX_DEPTH = 50
"""The deepest nesting of ``and(...)`` read."""

_NAME = re.compile(r"[A-Za-z][A-Za-z-]*")
_FIELD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FilterSyntaxError(ValueError):
    """Text that is not a Klaviyo filter: ``message`` says why, ``position`` (0-based) where."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


class Condition:
    """One call: ``operator``, ``field`` and ``value`` (None for ``has``)."""

    __slots__ = ("field", "operator", "value")

    def __init__(self, operator: str, field: str, value: Value = None) -> None:
        self.operator = operator
        self.field = field
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return (self.operator, self.field, self.value) == (other.operator, other.field, other.value)

    def __hash__(self) -> int:
        return hash((self.operator, self.field))

    def __repr__(self) -> str:
        return f"Condition({self.operator!r}, {self.field!r}, {self.value!r})"


def parse(text: str) -> list[Condition]:
    """The conditions of a filter, which all must hold (``and(...)`` nesting and top-level
    commas flattened), in order. Raises :class:`FilterSyntaxError`."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, message: str, at: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.at if at is None else at)

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            if found.isspace():
                raise self.fail("whitespace is not allowed outside quoted strings")
            shown = repr(found) if found else "the end of the filter"
            raise self.fail(f"expected {char!r} {what}, found {shown}")
        self.at += 1

    def run(self) -> list[Condition]:
        if not self.text:
            raise self.fail("the filter is empty")
        out: list[Condition] = []
        self.term(out, 0)
        while self.peek() == ",":
            self.at += 1
            self.term(out, 0)
        if self.at < len(self.text):
            if self.peek().isspace():
                raise self.fail("whitespace is not allowed outside quoted strings")
            raise self.fail(f"unexpected {self.peek()!r} after a complete condition")
        return out

    def term(self, out: list[Condition], depth: int) -> None:
        start = self.at
        match = _NAME.match(self.text, self.at)
        if match is None:
            if self.peek().isspace():
                raise self.fail("whitespace is not allowed outside quoted strings")
            raise self.fail("expected an operator such as equals(...)")
        name = match.group()
        if name in ("or", "not"):
            raise self.fail(
                f"{name}() is not Klaviyo filter syntax: conditions combine only with and() "
                "or commas",
                start,
            )
        if name not in OPERATORS:
            raise self.fail(f"unknown operator {name!r}", start)
        self.at = match.end()
        self.expect("(", f"after {name}")
        if name == "and":
            if depth >= MAX_DEPTH:
                raise self.fail(f"and() nests deeper than {MAX_DEPTH} levels", start)
            self.term(out, depth + 1)
            while self.peek() == ",":
                self.at += 1
                self.term(out, depth + 1)
            self.expect(")", "to close and(")
            return
        field = self.field()
        if name == "has":
            self.expect(")", "to close has(")
            out.append(Condition(name, field))
            return
        self.expect(",", f"between the field and the value of {name}()")
        value_at = self.at
        value = self.value(allow_list=True)
        if name in LIST_OPERATORS and not isinstance(value, list):
            raise self.fail(f"{name}() takes a list of values: [...]", value_at)
        if name not in LIST_OPERATORS and isinstance(value, list):
            raise self.fail(f"{name}() takes one value, not a list", value_at)
        self.expect(")", f"to close {name}(")
        out.append(Condition(name, field, value))

    def field(self) -> str:
        match = _FIELD.match(self.text, self.at)
        if match is None:
            if self.peek().isspace():
                raise self.fail("whitespace is not allowed outside quoted strings")
            raise self.fail("expected a field name")
        self.at = match.end()
        return match.group()

    def value(self, *, allow_list: bool) -> Value:
        char = self.peek()
        if char in ('"', "'"):
            return self.string(char)
        if char == "[":
            if not allow_list:
                raise self.fail("a list cannot hold a list")
            self.at += 1
            items: list[Scalar] = []
            if self.peek() == "]":
                self.at += 1
                return items
            while True:
                item = self.value(allow_list=False)
                assert not isinstance(item, list)
                items.append(item)
                if self.peek() == ",":
                    self.at += 1
                    continue
                self.expect("]", "to close the list")
                return items
        stamp = _DATETIME.match(self.text, self.at)
        if stamp is not None:
            parsed = parse_iso(stamp.group())
            if parsed is None:
                raise self.fail(f"{stamp.group()!r} is not a valid date")
            self.at = stamp.end()
            return parsed
        number = _NUMBER.match(self.text, self.at)
        if number is not None:
            self.at = number.end()
            raw = number.group()
            if "." in raw or "e" in raw or "E" in raw:
                return float(raw)
            return int(raw)
        word = _WORD.match(self.text, self.at)
        if word is not None:
            if word.group() in ("true", "false"):
                self.at = word.end()
                return word.group() == "true"
            if word.group() == "null":
                self.at = word.end()
                return None
            raise self.fail(f"the value {word.group()!r} must be quoted")
        if char.isspace():
            raise self.fail("whitespace is not allowed outside quoted strings")
        raise self.fail("expected a value" if char else "the filter ends before a value")

    def string(self, quote: str) -> str:
        start = self.at
        self.at += 1
        parts: list[str] = []
        text = self.text
        while True:
            if self.at >= len(text):
                raise self.fail("a quoted string is never closed", start)
            char = text[self.at]
            if char == "\\":
                if self.at + 1 >= len(text):
                    raise self.fail("a backslash ends the filter", self.at)
                parts.append(text[self.at + 1])
                self.at += 2
            elif char == quote:
                self.at += 1
                return "".join(parts)
            else:
                parts.append(char)
                self.at += 1


# --- evaluation -----------------------------------------------------------------------------

_MISSING = object()


def _lookup(record: Mapping[str, object], field: str) -> object:
    if field in record:
        return record[field]
    current: object = record
    for part in field.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _same(a: object, b: object) -> bool:
    """Typed equality: a string is not a number, a boolean is not 1; 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, datetime) or isinstance(b, datetime):
        return _moment(a) is not None and _moment(a) == _moment(b)
    return type(a) is type(b) and a == b


def _moment(x: object) -> datetime | None:
    if isinstance(x, datetime):
        return x
    if isinstance(x, str):
        return parse_iso(x)
    return None


def _order(a: object, b: object) -> int | None:
    """-1, 0 or 1 comparing ``a`` with ``b``; None when they do not compare (numbers with
    numbers, dates with dates)."""
    if isinstance(b, bool) or isinstance(a, bool):
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return (a > b) - (a < b)
    if isinstance(b, datetime):
        left = _moment(a)
        if left is None:
            return None
        return (left > b) - (left < b)
    return None


def holds(condition: Condition, record: Mapping[str, object]) -> bool:
    """Whether one condition holds for a record (a mapping; dotted fields reach into nested
    mappings). A field the record does not have satisfies nothing."""
    got = _lookup(record, condition.field)
    op = condition.operator
    if op == "has":
        return got is not _MISSING and got is not None
    if got is _MISSING:
        return False
    value = condition.value
    if op == "equals":
        return _same(got, value)
    if op in ("less-than", "less-or-equal", "greater-than", "greater-or-equal"):
        order = _order(got, value)
        if order is None:
            return False
        return {
            "less-than": order < 0,
            "less-or-equal": order <= 0,
            "greater-than": order > 0,
            "greater-or-equal": order >= 0,
        }[op]
    if op == "contains":
        if isinstance(got, str):
            return isinstance(value, str) and value in got
        if isinstance(got, list):
            return any(_same(item, value) for item in got)
        return False
    if op == "starts-with":
        return isinstance(got, str) and isinstance(value, str) and got.startswith(value)
    if op == "ends-with":
        return isinstance(got, str) and isinstance(value, str) and got.endswith(value)
    assert isinstance(value, list)
    items: Sequence[object] = got if isinstance(got, list) else [got]
    if op in ("contains-any", "any"):
        return any(_same(item, v) for item in items for v in value)
    if op == "contains-all":
        return all(any(_same(item, v) for item in items) for v in value)
    raise ValueError(f"unknown operator {op!r}")


def matches(conditions: Sequence[Condition], record: Mapping[str, object]) -> bool:
    """Whether every condition holds for the record."""
    return all(holds(c, record) for c in conditions)
