"""The general Klaviyo target: a FlowQL filter as Klaviyo's ``filter`` syntax, and back.

Klaviyo filters are calls: ``equals(field,value)``, ``any(field,[v1,v2])``,
``contains(field,"x")``, combined with ``and(...)`` or top-level commas. ``or(...)`` and
``not(...)`` are documented nowhere, so this target never writes them.

=========================================== ==============================================
FlowQL                                      Klaviyo
=========================================== ==============================================
``k == 'a'``                                ``equals(k,"a")``
``k ~~ 'a'``                                ``contains(k,"a")``
``k IN ('a', 'b')``                         ``any(k,["a","b"])``
``k == 'a' OR k == 'b'``                    ``any(k,["a","b"])`` (an OR of ``==`` on one key)
``a == 'x' AND b == 1``                     ``and(equals(a,"x"),equals(b,1))``
``NOT k != 'a'``                            ``equals(k,"a")`` (NOT pushed down)
``k == true``, ``k == 2.5``                 ``equals(k,true)``, ``equals(k,2.5)``
=========================================== ==============================================

Strings are written in double quotes, ``"`` and ``\\`` escaped with a backslash; numbers as
Python prints them (``repr``); no whitespace outside strings; a list holds each value once, and
at most 100 values.

Everything else is refused with :class:`~flowql.errors.UnsupportedError` (FQ601), every
problem collected first: ``!=``, ``!~``, ``NOT IN`` and a ``NOT`` that stays a negation once
pushed down (Klaviyo has no negation), an OR that is not an OR of ``==`` on one key (no
``or()``), a list of more than 100 values, and a key that is not a Klaviyo field name.

:func:`read_filter` reads Klaviyo's syntax back into FlowQL, where FlowQL can say the same
thing, and :func:`normalise` is what :func:`compile_filter` writes, as an expression:
``read_filter(compile_filter(e)) == normalise(e)`` for every ``e`` the target accepts.
"""

from __future__ import annotations

import re

from flowql.ast import And, Boolean, Comparison, In, Key, Number, Op, Or, Span, String
from flowql.diagnostics import Diagnostic, clip
from flowql.errors import LimitError, ParseError, UnsupportedError
from flowql.formatter import excerpt
from flowql.syntax import MAX_SOURCE_LENGTH, number_value
from flowql.targets.conviva_flow import lower

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn, TypeAlias

    from flowql.ast import Expr, Node, Value

    # A value FlowQL has no node for (null, a datetime): its kind and where it is.
    Foreign: TypeAlias = "tuple[str, int, int]"
    _Report: TypeAlias = "Callable[[Node, Diagnostic], None]"

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST_ITEMS",
    "OPERATORS",
    "TARGET",
    "compile_filter",
    "normalise",
    "read_filter",
    "render_value",
]

TARGET = "klaviyo"
"""The target's name."""

MAX_LIST_ITEMS = 100
"""The most items Klaviyo takes in a list."""

MAX_DEPTH = 100
"""The deepest nesting of ``and(...)`` :func:`read_filter` reads (FQ017 above it)."""

OPERATORS = (
    "equals",
    "less-than",
    "less-or-equal",
    "greater-than",
    "greater-or-equal",
    "contains",
    "contains-any",
    "contains-all",
    "starts-with",
    "ends-with",
    "any",
    "has",
    "and",
)
"""Klaviyo's documented filter operators, as :func:`read_filter` knows them."""

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
_OPERATOR = re.compile(r"[A-Za-z][A-Za-z-]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_REST = re.compile(r"[^,()\[\]\"'\s]*")
_BARE_CONTINUES = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+-")
_STRING_BODY = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}

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
_LIST_OPERATORS = frozenset({"any", "contains-any", "contains-all"})

_POST_FILTER = "post-filter the results on the client with the python target"
_NEGATION_HINT = f"leave this condition out of the request and {_POST_FILTER}"
_OR_HINT = f"split the query into one request per alternative, or {_POST_FILTER}"


# --- writing -------------------------------------------------------------------------------------


def render_value(value: Value) -> str:
    """A value in Klaviyo's syntax: a double-quoted string with ``"`` and ``\\`` escaped, a
    number as Python prints it, ``true`` or ``false``."""
    if isinstance(value, String):
        text = value.value
        if "\\" in text:
            text = text.replace("\\", "\\\\")
        if '"' in text:
            text = text.replace('"', '\\"')
        return f'"{text}"'
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    if isinstance(value, Number):
        return repr(value.value)
    raise TypeError(f"not a FlowQL value: {value!r}")


def compile_filter(expr: Expr) -> str:
    """The Klaviyo ``filter`` for ``expr`` (not yet percent-encoded or JSON-quoted).

    >>> from flowql import parse
    >>> compile_filter(parse("flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')"))
    'and(equals(flow_id,"T7K2j8"),any(send_channel,["email","sms"]))'

    Raises :class:`~flowql.errors.UnsupportedError` with one FQ601 diagnostic per construct
    Klaviyo's syntax cannot express, all of them collected first.
    """
    from flowql.targets._text import unencodable

    refused = unencodable(expr, "klaviyo")
    if refused:
        raise UnsupportedError(refused)
    return _render(normalise(expr))


def normalise(expr: Expr) -> Expr:
    """``expr`` as :func:`compile_filter` writes it, and :func:`read_filter` reads it back.

    NOT is pushed down (:func:`flowql.targets.conviva_flow.lower`); an OR of ``==`` on one key,
    and ``IN``, become ``In`` with each value once (by the text written) in order of first
    appearance, or a ``==`` when one value is left; an AND is flat. The result is made of
    :class:`And`, ``==`` and ``~~`` :class:`Comparison`, and non-negated :class:`In` only, and
    means what ``expr`` means. Raises :class:`~flowql.errors.UnsupportedError` like
    :func:`compile_filter`.
    """
    origins: dict[int, tuple[Expr, Expr, bool]] = {}
    lowered = lower(expr, origins)
    problems: list[Diagnostic] = []
    reported: set[tuple[int, str]] = set()

    def report(source: Node, diagnostic: Diagnostic) -> None:
        mark = (id(source), diagnostic.message)
        if mark not in reported:
            reported.add(mark)
            problems.append(diagnostic)

    results: list[Expr | None] = []
    stack: list[tuple[Expr, bool]] = [(lowered, False)]
    while stack:
        node, done = stack.pop()
        _, source, negated = origins[id(node)]
        if isinstance(node, Comparison):
            results.append(_comparison(node, source, negated, report))
            continue
        assert isinstance(node, (And, Or))
        if not done:
            stack.append((node, True))
            stack.extend((operand, False) for operand in reversed(node.operands))
            continue
        count = len(node.operands)
        children = results[-count:]
        del results[-count:]
        if isinstance(node, Or):
            results.append(_any(node, source, negated, children, report))
        elif all(child is not None for child in children):
            results.append(And(*[c for c in children if c is not None], span=source.span))
        else:
            results.append(None)
    if problems:
        problems.sort(key=lambda d: (d.span.start, -d.span.end) if d.span else (-1, 0))
        raise UnsupportedError(problems)
    final = results[0]
    assert final is not None
    return final


def _comparison(
    node: Comparison, source: Expr, negated: bool, report: _Report
) -> Comparison | None:
    ok = True
    if not _FIELD.fullmatch(node.key.name):
        report(source, _refuse_key(node.key, source))
        ok = False
    if node.op in (Op.NE, Op.NOT_CONTAINS):
        report(source, _refuse_negation(node, source, negated))
        ok = False
    return node if ok else None


def _any(
    node: Or, source: Expr, negated: bool, children: list[Expr | None], report: _Report
) -> Expr | None:
    """An OR of ``==`` on one key as ``In`` (or ``==`` if one value is left), or None."""
    operands = node.operands
    first = operands[0]
    if not (
        isinstance(first, Comparison)
        and all(
            isinstance(o, Comparison) and o.op is Op.EQ and o.key.name == first.key.name
            for o in operands
        )
    ):
        report(source, _refuse_or(node, source, negated))
        return None
    if any(child is None for child in children):
        return None
    values: list[Value] = []
    seen: set[str] = set()
    for operand in operands:
        assert isinstance(operand, Comparison)
        text = render_value(operand.value)
        if text not in seen:
            seen.add(text)
            values.append(operand.value)
    if len(values) == 1:
        return Comparison(first.key, Op.EQ, values[0], span=source.span)
    if len(values) > MAX_LIST_ITEMS:
        report(source, _refuse_long_list(len(values), source))
        return None
    return In(first.key, values, span=source.span)


def _render(expr: Expr) -> str:
    if isinstance(expr, And):
        return "and(" + ",".join(_render(operand) for operand in expr.operands) + ")"
    if isinstance(expr, In):
        values = ",".join(render_value(value) for value in expr.values)
        return f"any({expr.key.name},[{values}])"
    assert isinstance(expr, Comparison)
    call = "equals" if expr.op is Op.EQ else "contains"
    return f"{call}({expr.key.name},{render_value(expr.value)})"


def _refuse_negation(node: Comparison, source: Node, negated: bool) -> Diagnostic:
    if isinstance(source, In):
        construct = (
            f"`NOT` before `{excerpt(source)}` (which means {node.key.name} NOT IN (...))"
            if negated
            else "`NOT IN`"
        )
    elif negated:
        construct = f"`NOT` before `{excerpt(source)}` (which means {excerpt(node)})"
    else:
        construct = "`!=` (does not equal)" if node.op is Op.NE else "`!~` (does not contain)"
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot express {construct}: Klaviyo's filter syntax has no "
        "negation (not() is not documented)",
        source.span,
        hint=_NEGATION_HINT,
    )


def _refuse_or(node: Or, source: Node, negated: bool) -> Diagnostic:
    what = f"`NOT` before `{excerpt(source)}`, an OR" if negated else "an OR"
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot express {what} of anything but `==` on one key: "
        "Klaviyo's filter syntax has no or() (only any(key,[...]) for one key's values)",
        source.span,
        hint=_OR_HINT,
    )


def _refuse_long_list(count: int, source: Node) -> Diagnostic:
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot send a list of {count} values: Klaviyo takes at most "
        f"{MAX_LIST_ITEMS} items in a list",
        source.span,
        hint=f"split the query into requests of at most {MAX_LIST_ITEMS} values each",
    )


def _refuse_key(key: Key, source: Node) -> Diagnostic:
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot write the key {clip(key.name)!r}: a Klaviyo field name is "
        "letters, digits, '_' and '-', in parts separated by dots",
        key.span or source.span,
        hint="use the field name as Klaviyo spells it, such as flow_id or integration.name",
    )


# --- reading -------------------------------------------------------------------------------------


def read_filter(text: str) -> Expr:
    """Read a Klaviyo filter into a FlowQL expression, spans pointing into ``text``.

    ``equals`` becomes ``==``, ``contains`` ``~~``, ``any`` and ``contains-any`` ``IN``,
    ``contains-all(k,[a,b])`` ``k == a AND k == b`` (on a list field, FlowQL's ``==`` and ``IN``
    test the list's items, as Klaviyo's operators do), and ``and(...)`` and top-level commas
    AND. Strings may be in double or single quotes, with ``\\"``, ``\\'`` and
    ``\\\\`` escapes; ``true``/``false`` and numbers are values.

    >>> read_filter('equals(flow_id,"T7K2j8"),any(send_channel,[\\'email\\',"sms"])')
    And(Comparison(Key('flow_id'), <Op.EQ: '=='>, String('T7K2j8')), \
In(Key('send_channel'), (String('email'), String('sms')), False))

    Raises :class:`~flowql.errors.ParseError` (FQ0xx, with the position) for text that is not a
    Klaviyo filter, :class:`~flowql.errors.LimitError` for ``and()`` nested deeper than
    :data:`MAX_DEPTH` or text longer than :data:`flowql.syntax.MAX_SOURCE_LENGTH`, and
    :class:`~flowql.errors.UnsupportedError` (FQ601, every one collected) for each operator
    (``less-than``, ``starts-with``, ``has``...) and value (``null``, a datetime) FlowQL has
    no construct for.
    """
    if not isinstance(text, str):
        raise TypeError(f"read_filter() takes a str, not {type(text).__name__}")
    return _Reader(text).run()


class _Reader:
    """A recursive-descent reader over Klaviyo's syntax; only ``and()`` recurses, and at most
    :data:`MAX_DEPTH` levels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.problems: list[Diagnostic] = []

    # -- helpers

    def span(self, start: int, end: int) -> Span:
        return Span.from_offsets(self.text, start, end)

    def fail(
        self, code: str, message: str, start: int, end: int, hint: str | None = None
    ) -> NoReturn:
        error = LimitError if code in ("FQ016", "FQ017") else ParseError
        raise error(Diagnostic(code, message, self.span(start, end), hint=hint), self.text)

    def unexpected(self, what: str) -> NoReturn:
        pos, text = self.pos, self.text
        if pos >= len(text):
            self.fail("FQ005", f"the filter ends where {what} was expected", pos, pos)
        found = text[pos]
        if found.isspace():
            self.fail(
                "FQ004",
                f"whitespace where {what} was expected: Klaviyo filters have no whitespace "
                "outside strings",
                pos,
                pos + 1,
                hint="remove the whitespace",
            )
        self.fail("FQ004", f"expected {what}, found {found!r}", pos, pos + 1)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            self.unexpected(what)
        self.pos += 1

    def refuse(self, message: str, start: int, end: int, hint: str) -> None:
        self.problems.append(Diagnostic("FQ601", message, self.span(start, end), hint=hint))

    # -- grammar

    def run(self) -> Expr:
        text = self.text
        if len(text) > MAX_SOURCE_LENGTH:
            self.fail(
                "FQ016",
                f"the filter is {len(text):,} characters long; the limit is {MAX_SOURCE_LENGTH:,}",
                MAX_SOURCE_LENGTH,
                MAX_SOURCE_LENGTH + 1,
                hint="split it into several filters",
            )
        if not text:
            self.fail("FQ013", "the filter is empty", 0, 0, hint='write a test: equals(k,"v")')
        terms = [self.term(1)]
        while self.peek() == ",":
            self.pos += 1
            terms.append(self.term(1))
        if self.pos < len(text):
            self.unexpected("',' or the end of the filter")
        if self.problems:
            raise UnsupportedError(self.problems, text)
        result = _conjoin(terms, self.span(0, len(text)))
        assert result is not None
        return result

    def term(self, depth: int) -> Expr | None:
        start = self.pos
        match = _OPERATOR.match(self.text, start)
        if match is None:
            self.unexpected("an operator such as equals(...) or and(...)")
        name = match.group()
        self.pos = match.end()
        if name not in OPERATORS:
            self.fail(
                "FQ004",
                f"{name!r} is not a Klaviyo filter operator",
                start,
                self.pos,
                hint="Klaviyo documents " + ", ".join(OPERATORS),
            )
        self.expect("(", f"'(' after {name}")
        if name == "and":
            return self.conjunction(start, depth)
        field = self.field()
        if name == "has":
            self.expect(")", f"')' after the field of {name}()")
            self.refuse_operator(name, start)
            return None
        self.expect(",", f"',' and a value after the field of {name}()")
        value_start = self.pos
        values = self.list_(name) if name in _LIST_OPERATORS else [self.scalar(name)]
        self.expect(")", f"')' to close {name}(")
        span = self.span(start, self.pos)
        if name not in _READ_OPERATORS:
            self.refuse_operator(name, start)
            return None
        if not values:
            self.fail(
                "FQ014",
                f"{name}() with an empty list, which matches nothing",
                value_start,
                self.pos - 1,
                hint="list at least one value",
            )
        found: list[Value] = []
        for value in values:
            if isinstance(value, tuple):
                self.refuse_value(value)
            else:
                found.append(value)
        if len(found) < len(values):
            return None
        if name in ("any", "contains-any"):
            return In(field, found, span=span)
        if name == "contains-all":
            tests = [Comparison(field, Op.EQ, value, span=span) for value in found]
            return tests[0] if len(tests) == 1 else And(*tests, span=span)
        op = Op.EQ if name == "equals" else Op.CONTAINS
        return Comparison(field, op, found[0], span=span)

    def conjunction(self, start: int, depth: int) -> Expr | None:
        if depth > MAX_DEPTH:
            self.fail(
                "FQ017",
                f"and() nests deeper than {MAX_DEPTH} levels",
                start,
                self.pos,
                hint="flatten the nested and() calls: and(a,and(b,c)) is and(a,b,c)",
            )
        terms = [self.term(depth + 1)]
        while self.peek() == ",":
            self.pos += 1
            terms.append(self.term(depth + 1))
        self.expect(")", "',' or ')' to close and(")
        return _conjoin(terms, self.span(start, self.pos))

    def field(self) -> Key:
        start = self.pos
        match = _FIELD.match(self.text, start)
        if match is None:
            self.unexpected("a field name")
        self.pos = match.end()
        return Key(match.group(), span=self.span(start, self.pos))

    def list_(self, name: str) -> list[Value | Foreign]:
        if self.peek() != "[":
            self.unexpected(f"a list in [...] ({name} takes a list)")
        self.pos += 1
        items: list[Value | Foreign] = []
        if self.peek() == "]":
            self.pos += 1
            return items
        items.append(self.scalar(name))
        while self.peek() == ",":
            self.pos += 1
            items.append(self.scalar(name))
        self.expect("]", "',' or ']' to close the list")
        return items

    def scalar(self, name: str) -> Value | Foreign:
        text, start = self.text, self.pos
        char = self.peek()
        if char in ('"', "'"):
            return self.string(char)
        if char == "[":
            self.fail("FQ004", f"{name} takes one value, not a list", start, start + 1)
        kind = ""
        match = _DATETIME.match(text, start)
        if match is not None:
            kind = "datetime"
        else:
            match = _NUMBER.match(text, start) or _WORD.match(text, start)
        if match is None:
            self.unexpected("a value")
        end = match.end()
        if end < len(text) and text[end] in _BARE_CONTINUES:
            rest = _BARE_REST.match(text, end)
            assert rest is not None
            self.bare(start, rest.end())
        self.pos = end
        word = match.group()
        if kind:
            return (kind, start, end)
        if word in ("true", "false"):
            return Boolean(word == "true", span=self.span(start, end))
        if word == "null":
            return ("null", start, end)
        if word[0].isalpha() or word[0] == "_":
            self.bare(start, end)
        return self.number(word, start, end)

    def bare(self, start: int, end: int) -> NoReturn:
        word = self.text[start:end]
        self.fail(
            "FQ009",
            f"{clip(word)!r} is not a Klaviyo value",
            start,
            end,
            hint='quote text in double quotes: "' + clip(word) + '"',
        )

    def number(self, raw: str, start: int, end: int) -> Number:
        value = number_value(raw)
        if value is None:
            self.fail(
                "FQ015",
                f"the number {clip(raw)} is out of range",
                start,
                end,
                hint='quote it to compare it as text: "' + clip(raw) + '"',
            )
        return Number(value, span=self.span(start, end))

    def string(self, quote: str) -> String:
        text, start = self.text, self.pos
        body = _STRING_BODY[quote]
        pos = start + 1
        parts: list[str] = []
        while True:
            match = body.match(text, pos)
            assert match is not None
            parts.append(match.group())
            pos = match.end()
            if pos >= len(text):
                self.fail(
                    "FQ002",
                    "the string has no closing quote",
                    start,
                    len(text),
                    hint=f"end it with {quote}",
                )
            if text[pos] == quote:
                self.pos = pos + 1
                return String("".join(parts), span=self.span(start, self.pos))
            # A backslash.
            escaped = text[pos + 1 : pos + 2]
            if escaped not in ('"', "'", "\\"):
                if not escaped:
                    self.fail("FQ002", "the string has no closing quote", start, len(text))
                self.fail(
                    "FQ003",
                    f"\\{escaped} is not an escape Klaviyo documents",
                    pos,
                    pos + 2,
                    hint="escape only quotes and backslashes: \\\" \\' \\\\",
                )
            parts.append(escaped)
            pos += 2

    # -- refusals

    def refuse_operator(self, name: str, start: int) -> None:
        why, hint = _FOREIGN_OPERATORS[name]
        self.refuse(
            f"FlowQL cannot express Klaviyo's {name}(): {why}",
            start,
            self.pos,
            hint,
        )

    def refuse_value(self, value: Foreign) -> None:
        kind, start, end = value
        self.refuse(
            f"FlowQL cannot express the {kind} {clip(self.text[start:end])}: FlowQL values "
            "are strings, numbers and booleans",
            start,
            end,
            hint=f"filter on this value outside FlowQL, or {_POST_FILTER}",
        )


def _conjoin(terms: list[Expr | None], span: Span) -> Expr | None:
    if any(term is None for term in terms):
        return None
    if len(terms) == 1:
        return terms[0]
    return And(*[t for t in terms if t is not None], span=span)


_ORDER = (
    "FlowQL has no ordering comparison",
    "test exact values with == or IN, or leave the condition out and " + _POST_FILTER,
)
_FOREIGN_OPERATORS = {
    "less-than": _ORDER,
    "less-or-equal": _ORDER,
    "greater-than": _ORDER,
    "greater-or-equal": _ORDER,
    "starts-with": (
        "FlowQL has no prefix test",
        "~~ (contains) is the nearest FlowQL test, and it matches more",
    ),
    "ends-with": (
        "FlowQL has no suffix test",
        "~~ (contains) is the nearest FlowQL test, and it matches more",
    ),
    "has": (
        "FlowQL has no test for whether a field is present",
        "leave the condition out and " + _POST_FILTER,
    ),
}
# contains-any and contains-all test a list field's items, as FlowQL's == and IN do on a list
# (see flowql.targets.python); on a scalar field, contains-any is Klaviyo's equals-any.
_READ_OPERATORS = frozenset({"equals", "contains", "any", "contains-any", "contains-all"})
