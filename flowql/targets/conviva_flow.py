"""The Conviva DPI Flow API target: a FlowQL filter as the API's ``filter`` parameter.

The Flow API's filter language has ``==`` ``!=`` ``~~`` (contains) ``!~`` (does not contain),
``AND``, ``OR``, parentheses and single-quoted values. FlowQL's extensions lower to it:

- ``k IN ('a', 'b')`` becomes ``k == 'a' OR k == 'b'``; ``k NOT IN (...)`` becomes
  ``k != 'a' AND k != 'b'``;
- ``NOT`` is pushed down to the comparisons (De Morgan): ``==`` and ``!=`` swap, ``~~`` and
  ``!~`` swap, AND and OR swap, and two NOTs cancel;
- groups of one operator are flattened.

The result is printed canonically (:func:`flowql.format`): upper-case ``AND``/``OR``, one space
around operators, values in single quotes, and parentheses around every group whose operator
differs from its parent's, so the server's precedence rules (undocumented) never matter.

The Flow API compares text: a number or a boolean is refused (FQ601) rather than sent in a form
that might mean something else. A ``'`` or ``\\`` in a value is written with a backslash, an
escape the API does not document, so it comes with a warning (FQ602).
"""

from __future__ import annotations

import operator

from flowql.ast import And, Boolean, Comparison, In, Not, Number, Op, Or, String
from flowql.diagnostics import Diagnostic, Severity
from flowql.errors import UnsupportedError
from flowql.formatter import format, format_value, quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr, Node, Span, Value

__all__ = ["TARGET", "compile_filter", "encoded_length_bound", "lower", "read_filter"]

TARGET = "conviva-flow"
"""The target's name."""


def lower(expr: Expr, origins: dict[int, tuple[Expr, Expr, bool]] | None = None) -> Expr:
    """``expr`` in the Flow API's own terms: only :class:`Comparison`, :class:`And` and
    :class:`Or`, meaning exactly what ``expr`` means.

    ``IN`` becomes an OR of ``==`` (``NOT IN`` an AND of ``!=``), ``NOT`` is pushed down to the
    comparisons by De Morgan, and groups are flattened. Values are kept as they are (typed), and
    each new node keeps the span of the node it comes from.

    With ``origins``, every node of the result is recorded as ``id(node) -> (node, source node,
    negated)``: the node of ``expr`` it was made from, and whether a NOT above that node was
    pushed into it. The tree is walked with an explicit stack, so any depth works.
    """
    results: list[Expr] = []
    stack: list[tuple[Expr, bool, bool]] = [(expr, False, False)]
    while stack:
        node, negate, done = stack.pop()
        out: Expr
        if isinstance(node, Not):
            stack.append((node.operand, not negate, False))
            continue
        if isinstance(node, Comparison):
            if negate:
                out = Comparison(node.key, node.op.negated, node.value, span=node.span)
            else:
                out = node
        elif isinstance(node, In):
            equal = node.negated == negate
            op = Op.EQ if equal else Op.NE
            tests = [Comparison(node.key, op, value, span=node.span) for value in node.values]
            if origins is not None:
                for test in tests:
                    origins[id(test)] = (test, node, negate)
            kind = Or if equal else And
            out = tests[0] if len(tests) == 1 else kind(*tests, span=node.span)
        elif isinstance(node, (And, Or)):
            if not done:
                stack.append((node, negate, True))
                stack.extend((operand, negate, False) for operand in reversed(node.operands))
                continue
            count = len(node.operands)
            operands = results[-count:]
            del results[-count:]
            if not negate and all(map(operator.is_, operands, node.operands)):
                out = node  # nothing below changed: the group is already in Flow terms
            else:
                flip = {And: Or, Or: And}
                group = flip[type(node)] if negate else type(node)
                out = group(*operands, span=node.span)
        else:
            raise TypeError(f"not a FlowQL expression: {node!r}")
        if origins is not None:
            origins[id(out)] = (out, node, negate)
        results.append(out)
    return results[0]


def compile_filter(expr: Expr) -> tuple[str, list[Diagnostic]]:
    """The Flow API ``filter`` parameter for ``expr`` (not yet percent-encoded), and warnings.

    >>> from flowql import parse
    >>> compile_filter(parse("geo_country IN ('Spain', 'France') AND NOT device_os ~~ 'iOS'"))[0]
    "(geo_country == 'Spain' OR geo_country == 'France') AND device_os !~ 'iOS'"

    Warnings are FQ602, one per value holding a ``'`` or a ``\\``. Raises
    :class:`~flowql.errors.UnsupportedError` with one FQ601 diagnostic per number or boolean
    value, all of them collected first.
    """
    from flowql.targets._text import unencodable

    lowered = lower(expr)
    refusals: list[Diagnostic] = unencodable(expr, "conviva-flow")
    warnings: list[Diagnostic] = []
    for comparison in _comparisons(lowered):
        value = comparison.value
        span = value.span or comparison.span
        if isinstance(value, String):
            if "'" in value.value or "\\" in value.value:
                warnings.append(_escape_warning(comparison, value, span))
        else:
            refusals.append(_refusal(value, span))
    if refusals:
        refusals.sort(key=lambda d: (d.span.start, -d.span.end) if d.span else (-1, 0))
        raise UnsupportedError(refusals)
    return format(lowered), warnings


def encoded_length_bound(expr: Expr) -> int | None:
    """An upper bound on the length of :func:`compile_filter`'s text for ``expr`` once
    percent-encoded, when compile_filter would accept ``expr`` without a warning (every value
    ASCII text without a quote or a backslash); None otherwise. ``flowql check`` budgets a
    filter by it and compiles only a filter whose bound comes near the URL limit.

    Lowering repeats an IN's key for each value and may put any group in parentheses; the
    bound counts both, and every character as three (``%XX``)."""
    length = 0
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if type(node) is Comparison or type(node) is In:
            values = node.values if isinstance(node, In) else (node.value,)
            key = len(node.key.name)
            for value in values:
                if type(value) is not String:
                    return None
                text = value.value
                if not text.isascii() or "'" in text or "\\" in text:
                    return None
                # "key op 'text'", and " AND " or " OR " after it: 6 more at most, then 5.
                length += key + len(text) + 11
            length += 2  # an IN's parentheses
        elif type(node) is Not:
            stack.append(node.operand)
        elif type(node) is And or type(node) is Or:
            length += 5 * len(node.operands) + 2
            stack.extend(node.operands)
    return 3 * length


def _comparisons(lowered: Expr) -> list[Comparison]:
    """The comparisons of a lowered tree in source order; anything but Comparison, And and Or
    is an internal error."""
    found: list[Comparison] = []
    stack: list[Node] = [lowered]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            found.append(node)
        elif isinstance(node, (And, Or)):
            stack.extend(reversed(node.operands))
        else:  # pragma: no cover - lower() never leaves anything else
            raise AssertionError(f"internal error: {type(node).__name__} left after lowering")
    return found


def _refusal(value: Value, span: Span | None) -> Diagnostic:
    text = format_value(value)
    what = "boolean" if isinstance(value, Boolean) else "number"
    assert isinstance(value, (Boolean, Number))
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot send the {what} {text}: the Conviva Flow API compares "
        "text, and has no unquoted values",
        span,
        hint=f"quote the value: {quote(text)}",
    )


def _escape_warning(comparison: Comparison, value: String, span: Span | None) -> Diagnostic:
    text = value.value
    quote_, backslash = "'" in text, "\\" in text
    held = " and ".join(
        name
        for name, present in (("a quote (')", quote_), ("a backslash (\\)", backslash))
        if present
    )
    written = " and ".join(
        form for form, present in (("\\'", quote_), ("\\\\", backslash)) if present
    )
    hint = "if the server reads the value differently, "
    part = _longest_plain_part(text)
    if part:
        op = Op.CONTAINS if comparison.op in (Op.EQ, Op.CONTAINS) else Op.NOT_CONTAINS
        hint += (
            f"compare with {op.value} on a part of the value without it: "
            f"{comparison.key.name} {op.value} {quote(part)}"
        )
    else:
        hint += f"compare with {Op.CONTAINS.value} on a part of the value without it"
    return Diagnostic(
        "FQ602",
        f"the value holds {held}, written {written}: the Conviva Flow API does not document "
        "how to escape it",
        span,
        hint=hint,
        severity=Severity.WARNING,
    )


def _longest_plain_part(text: str) -> str:
    """The longest run of ``text`` with neither a quote nor a backslash."""
    parts = text.replace("\\", "'").split("'")
    return max(parts, key=len)


def read_filter(text: str) -> Expr:
    """Read a Flow API ``filter`` parameter (already percent-decoded) into a FlowQL expression,
    spans pointing into ``text``.

    The Flow syntax is a subset of FlowQL, so ``text`` is parsed as FlowQL and then checked:
    what the Flow API does not have is refused. Keywords are read in any case, as FlowQL reads
    them, and ``\\'``, ``\\\\`` (and ``\\"``) escapes in values are decoded.

    >>> read_filter("geo_country == 'Spain' AND (a ~~ 'x' OR a !~ 'y')")
    And(Comparison(Key('geo_country'), <Op.EQ: '=='>, String('Spain')), \
Or(Comparison(Key('a'), <Op.CONTAINS: '~~'>, String('x')), \
Comparison(Key('a'), <Op.NOT_CONTAINS: '!~'>, String('y'))))

    For every filter :func:`compile_filter` writes, ``read_filter(compile_filter(e)[0])`` equals
    ``lower(e)``.

    Raises :class:`~flowql.errors.ParseError` (or :class:`~flowql.errors.LimitError`) for text
    FlowQL cannot read, and :class:`~flowql.errors.UnsupportedError` with one FQ601 diagnostic
    per FlowQL construct the Flow syntax does not have (``NOT``, ``IN``, ``NOT IN``, double
    quotes, numbers, booleans, ``#`` comments), all of them collected, in source order.
    """
    if not isinstance(text, str):
        raise TypeError(f"read_filter() takes a str, not {type(text).__name__}")
    from flowql.ast import Span as _Span
    from flowql.syntax import parse, tokenize

    expr = parse(text)
    problems: list[tuple[int, int, Diagnostic]] = []

    def refuse(construct: str, span: Span | None, hint: str) -> None:
        where = (span.start, -span.end) if span is not None else (-1, 0)
        message = f"the {TARGET} filter syntax has no {construct}"
        problems.append((where[0], where[1], Diagnostic("FQ601", message, span, hint=hint)))

    stack: list[Node] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Not):
            refuse(
                "NOT",
                node.span,
                "push the NOT down: == and != swap, ~~ and !~ swap, AND and OR swap",
            )
        elif isinstance(node, In):
            if node.negated:
                refuse("NOT IN", node.span, "write key != 'a' AND key != 'b' instead")
            else:
                refuse("IN", node.span, "write key == 'a' OR key == 'b' instead")
        elif isinstance(node, String):
            span = node.span
            if span is not None and text[span.start] == '"':
                refuse("double-quoted strings", span, f"use single quotes: {quote(node.value)}")
        elif isinstance(node, (Number, Boolean)):
            what = "booleans" if isinstance(node, Boolean) else "numbers"
            refuse(
                f"{what} (unquoted values)",
                node.span,
                f"quote the value: {quote(format_value(node))}",
            )
        stack.extend(reversed(node.children()))
    for token in tokenize(text):
        if token.kind == "COMMENT":
            refuse(
                "comments",
                _Span.from_offsets(text, token.start, token.end),
                "remove the comment",
            )
    if problems:
        problems.sort(key=lambda p: (p[0], p[1]))
        raise UnsupportedError([d for _, _, d in problems], text)
    return expr
