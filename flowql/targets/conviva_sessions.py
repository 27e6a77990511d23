"""The Conviva Sessions V3 / Metrics V3 target: a FlowQL filter as ``key=value`` parameters.

Sessions V3 and Metrics V3 filter with query parameters: parameters of different keys are
ANDed, a key repeated is ORed (``device_os_version=Android 9&device_os_version=Android 10``).
So a filter can be sent only when it means "each of these keys is one of these values":

====================================== =================================================
FlowQL                                  parameters
====================================== =================================================
``k == 'a'``                            ``k=a``
``k IN ('a', 'b')``                     ``k=a&k=b``
``k == 'a' OR k == 'b'``                ``k=a&k=b``
``k == 'a' AND j IN ('x', 'y')``        ``k=a&j=x&j=y``
``k IN ('a', 'b') AND k == 'a'``        ``k=a`` (the values of one key intersect)
``NOT k != 'a'``                        ``k=a``
``is_ended == true``, ``tag_n == 7``    ``is_ended=true``, ``tag_n=7``
====================================== =================================================

The filter is normalised first (IN expanded, NOT pushed down, groups flattened, the value sets
of a key intersected across AND); what is left must be an AND of per-key ORs of ``==``.
Everything else is refused with :class:`~flowql.errors.UnsupportedError` (FQ601): ``!=``,
``~~``, ``!~``, ``NOT IN``, an OR across different keys, a key whose conditions have no value
in common (repeating the parameter would mean OR), and keys that are request parameters of the
API rather than dimensions. Every problem is collected before the error is raised.
"""

from __future__ import annotations

from flowql.ast import And, Boolean, Comparison, In, Number, Op, Or, String
from flowql.diagnostics import Diagnostic, clip
from flowql.errors import UnsupportedError
from flowql.formatter import excerpt, format_value
from flowql.targets._text import unencodable
from flowql.targets.conviva_flow import lower

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    from flowql.ast import Expr, Node, Value

    # Each key's allowed values (rendered as sent), by key: an AND of per-key ORs.
    Groups: TypeAlias = "dict[str, list[str]]"
    Report: TypeAlias = "Callable[[Node, Diagnostic], None]"

__all__ = [
    "RESERVED_PARAMETERS",
    "SKIPPED_PARAMETERS",
    "TARGET",
    "compile_params",
    "read_params",
    "read_query",
    "render_value",
]

TARGET = "conviva-sessions"
"""The target's name."""

RESERVED_PARAMETERS = frozenset(
    {
        "start_date",
        "end_date",
        "start_epoch",
        "end_epoch",
        "days",
        "limit",
        "viewer_id",
        "viewer_ip",
    }
)
"""Query parameters of the Sessions V3 requests themselves: a filter on one of these keys would
be read as that parameter, so it is refused. (``filter_id``, a saved filter, is allowed alone.)"""

SAVED_FILTER = "filter_id"

_OPERATORS = {
    Op.NE: "`!=` (does not equal)",
    Op.CONTAINS: "`~~` (contains)",
    Op.NOT_CONTAINS: "`!~` (does not contain)",
}
_EXCLUDE_HINT = (
    "save a Conviva filter that excludes the value and pass its filter_id, or leave this "
    "condition out of the request and post-filter the sessions on the client with the "
    "python target"
)
_CONTAINS_HINT = (
    "list the exact values with IN, save a Conviva filter and pass its filter_id, or leave this "
    "condition out of the request and post-filter the sessions on the client with the "
    "python target"
)


def render_value(value: Value) -> str:
    """A value as a Sessions V3 parameter sends it: strings as they are, booleans ``true`` or
    ``false``, numbers as Python prints them."""
    if isinstance(value, String):
        return value.value
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    assert isinstance(value, Number)
    return format_value(value)


def compile_params(expr: Expr) -> list[tuple[str, str]]:
    """The query parameters for ``expr``, keys in order of first appearance, each key's values
    in order of first appearance, no duplicates (values not yet percent-encoded).

    >>> from flowql import parse
    >>> compile_params(parse("device_os IN ('iOS', 'tvOS') AND is_ended == true"))
    [('device_os', 'iOS'), ('device_os', 'tvOS'), ('is_ended', 'true')]

    Raises :class:`~flowql.errors.UnsupportedError` with one FQ601 diagnostic per construct the
    parameters cannot express, all of them collected first.
    """
    origins: dict[int, tuple[Expr, Expr, bool]] = {}
    lowered = lower(expr, origins)
    problems: list[Diagnostic] = []
    reported: set[int] = set()

    def report(source: Node, diagnostic: Diagnostic) -> None:
        if id(source) not in reported:
            reported.add(id(source))
            problems.append(diagnostic)

    # Post-order over the lowered tree: each node becomes its Groups, or None if it cannot be
    # expressed; `keys` keeps the keys each subtree mentions, for the OR-across-keys check (an
    # insertion-ordered dict, so merging n distinct keys is linear, not quadratic).
    results: list[tuple[Groups | None, dict[str, None]]] = []
    stack: list[tuple[Expr, bool]] = [(lowered, False)]
    while stack:
        node, done = stack.pop()
        _, source, negated = origins[id(node)]
        if isinstance(node, Comparison):
            key = node.key.name
            groups: Groups | None = None
            if key in RESERVED_PARAMETERS:
                report(source, _reserved(key, source))
            elif node.op is not Op.EQ:
                report(source, _refuse_test(node, source, negated))
            else:
                groups = {key: [render_value(node.value)]}
            results.append((groups, {key: None}))
            continue
        assert isinstance(node, (And, Or))
        if not done:
            stack.append((node, True))
            stack.extend((operand, False) for operand in reversed(node.operands))
            continue
        count = len(node.operands)
        children = results[-count:]
        del results[-count:]
        keys: dict[str, None] = {}
        for _, child_keys in children:
            keys.update(child_keys)
        if isinstance(node, And):
            groups = _intersect(node, source, children, report)
        elif len(keys) > 1:
            report(source, _refuse_or(list(keys), node, source))
            groups = None
        elif all(child is not None for child, _ in children):
            only = next(iter(keys))
            groups = {only: _union([child[only] for child, _ in children if child])}
        else:
            groups = None
        results.append((groups, keys))

    problems.extend(unencodable(expr, TARGET))
    final = results[0][0]
    if final is not None and SAVED_FILTER in final:
        values = final[SAVED_FILTER]
        if len(final) > 1 or len(values) > 1:
            problems.append(_refuse_saved_filter(expr))
    if problems:
        problems.sort(key=lambda d: (d.span.start, -d.span.end) if d.span else (-1, 0))
        raise UnsupportedError(problems)
    assert final is not None
    return [(key, value) for key, values in final.items() for value in values]


def _union(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for values in lists:
        for value in values:
            if value not in seen:
                seen.add(value)
                out.append(value)
    return out


def _intersect(
    node: And,
    source: Node,
    children: list[tuple[Groups | None, dict[str, None]]],
    report: Report,
) -> Groups | None:
    """AND the children's groups: keys in order of first appearance, each key's values the
    intersection (in the order of their first appearance). None if a child is None or a key is
    left with no value, which is reported."""
    merged: Groups = {}
    failed = False
    empty: list[str] = []
    for child, _ in children:
        if child is None:
            failed = True
            continue
        for key, values in child.items():
            if key not in merged:
                merged[key] = list(values)
                continue
            if not merged[key]:
                continue
            allowed = set(values)
            merged[key] = [v for v in merged[key] if v in allowed]
            if not merged[key]:
                empty.append(key)
    if empty:
        report(source, _refuse_contradiction(empty, node, source))
        return None
    return None if failed else merged


def _refuse_test(node: Comparison, source: Node, negated: bool) -> Diagnostic:
    """FQ601 for a comparison that is not ``==`` once NOT is pushed down."""
    op = node.op
    hint = _EXCLUDE_HINT if op is Op.NE else _CONTAINS_HINT
    if isinstance(source, In):
        meaning = f"{node.key.name} NOT IN (...)"
        construct = (
            f"`NOT` before `{excerpt(source)}` (which means {meaning})" if negated else ("`NOT IN`")
        )
    elif negated:
        construct = f"`NOT` before `{excerpt(source)}` (which means {excerpt(node)})"
    else:
        construct = _OPERATORS[op]
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot express {construct}: Sessions V3 and Metrics V3 filters "
        "are key=value parameters, which only test equality",
        source.span,
        hint=hint,
    )


def _refuse_or(keys: list[str], node: Expr, source: Node) -> Diagnostic:
    shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
    what = (
        "an OR across different keys"
        if isinstance(source, Or)
        else (f"`NOT` before `{excerpt(source)}`, an OR across different keys")
    )
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot express {what} ({shown}): parameters of different keys "
        "are ANDed",
        source.span,
        hint=(
            "split the query into one request per alternative, save a Conviva filter and pass "
            "its filter_id, or post-filter the sessions on the client with the python target"
        ),
    )


def _refuse_contradiction(keys: list[str], node: Expr, source: Node) -> Diagnostic:
    names = ", ".join(keys)
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot express these conditions on {names}: they have no value "
        "in common, so the filter matches nothing, and repeated parameters would mean OR",
        source.span,
        hint=f"remove the contradiction: a session has one value of {keys[0]}",
    )


def _reserved(key: str, source: Node) -> Diagnostic:
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot filter on {key}: it is a parameter of the request, not a "
        "dimension",
        source.span,
        hint=f"set {key} on the endpoint instead (flowql.endpoints.Endpoint.sessions)",
    )


def _refuse_saved_filter(expr: Expr) -> Diagnostic:
    return Diagnostic(
        "FQ601",
        f"the {TARGET} target cannot combine a saved filter ({SAVED_FILTER}) with other "
        "filters, or send more than one: the API takes one filter_id and nothing else",
        expr.span,
        hint=f"put every condition in the saved filter and send {SAVED_FILTER} alone",
    )


SKIPPED_PARAMETERS = RESERVED_PARAMETERS | {SAVED_FILTER, "granularity", "metrics"}
"""Query parameters :func:`read_query` and :func:`read_params` skip: the request's own
parameters (dates, limits, the viewer, a saved filter, the granularity and metric list of
Metrics V3), which are not dimension filters."""

_STATUS_PREFIX = "is_"
_BOOLEANS = {"true": True, "false": False}


def read_params(params: list[tuple[str, str]]) -> Expr:
    """Read already-split, already-decoded query parameters into a FlowQL expression.

    A key given once is ``key == 'value'``; a key repeated is ``key IN ('v1', 'v2', ...)``
    (every value, in order, duplicates kept); different keys are ANDed, in order of first
    appearance. Values of status filters (keys starting ``is_``) that are exactly ``true`` or
    ``false`` are booleans, every other value a string. Request parameters
    (:data:`SKIPPED_PARAMETERS`) are skipped. The nodes have no spans.

    >>> read_params([("device_os", "iOS"), ("device_os", "tvOS"), ("is_ended", "true")])
    And(In(Key('device_os'), (String('iOS'), String('tvOS')), False), \
Comparison(Key('is_ended'), <Op.EQ: '=='>, Boolean(True)))

    Raises :class:`~flowql.errors.ParseError`: FQ004 for a key that is not a FlowQL key, FQ013
    when no parameter is a filter.
    """
    return _Query(None, [(key, value, None) for key, value in params]).build()


def read_query(text: str) -> Expr:
    """Read a Sessions V3 / Metrics V3 query string into a FlowQL expression, spans pointing
    into ``text``: the ``key=value`` pair for a comparison, the key and the (still encoded)
    value for their nodes, from the first pair of a key to its last for an ``IN``.

    ``text`` may start with ``?``; pairs are separated by ``&`` (empty pairs are skipped),
    ``+`` is a space and ``%XX`` a UTF-8 byte, as in form encoding; characters that are not
    encoded (a space, ``é``) are taken as they are. Then as :func:`read_params`.

    >>> read_query("?device_os_version=Android%209&device_os_version=Android+10&browser_name=x")
    And(In(Key('device_os_version'), (String('Android 9'), String('Android 10')), False), \
Comparison(Key('browser_name'), <Op.EQ: '=='>, String('x')))

    For every filter :func:`compile_params` accepts on keys that are not
    :data:`SKIPPED_PARAMETERS`, reading back its URL-encoded parameters gives a filter that
    selects the same sessions (values compared as the text the API receives).

    Raises :class:`~flowql.errors.ParseError` with the position: FQ004 for a pair with no
    ``=``, an empty key or a key that is not a FlowQL key, FQ003 for a ``%`` not followed by two
    hex digits or bytes that are not UTF-8, FQ013 when no parameter is a filter.
    """
    if not isinstance(text, str):
        raise TypeError(f"read_query() takes a str, not {type(text).__name__}")
    from flowql.ast import Span
    from flowql.errors import ParseError

    start = 1 if text.startswith("?") else 0
    pairs: list[tuple[str, str, tuple[int, int, int] | None]] = []
    while start <= len(text):
        end = text.find("&", start)
        if end < 0:
            end = len(text)
        if end > start:
            equals = text.find("=", start, end)
            if equals < 0:
                raise ParseError(
                    Diagnostic(
                        "FQ004",
                        f"the parameter {clip(text[start:end])!r} has no '='",
                        Span.from_offsets(text, start, end),
                        hint="write key=value; encode a '&' in a value as %26",
                    ),
                    text,
                )
            if equals == start:
                raise ParseError(
                    Diagnostic(
                        "FQ004",
                        "a parameter with an empty key",
                        Span.from_offsets(text, start, end),
                        hint="write key=value",
                    ),
                    text,
                )
            key = _decode(text, start, equals)
            value = _decode(text, equals + 1, end)
            pairs.append((key, value, (start, equals, end)))
        start = end + 1
    return _Query(text, pairs).build()


def _decode(text: str, start: int, end: int) -> str:
    """``text[start:end]`` form-decoded: ``+`` a space, ``%XX`` a byte, the bytes UTF-8."""
    from urllib.parse import unquote_to_bytes

    from flowql.ast import Span
    from flowql.errors import ParseError

    part = text[start:end].replace("+", " ")
    at = part.find("%")
    while at >= 0:
        digits = part[at + 1 : at + 3]
        if len(digits) < 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ParseError(
                Diagnostic(
                    "FQ003",
                    f"'%{digits}' is not a percent escape: '%' must be followed by two hex digits",
                    Span.from_offsets(text, start + at, min(start + at + 3, end)),
                    hint="write a '%' in a value as %25",
                ),
                text,
            )
        at = part.find("%", at + 3)
    try:
        return unquote_to_bytes(part).decode("utf-8")
    except UnicodeError:
        raise ParseError(
            Diagnostic(
                "FQ003",
                "the percent escapes are not UTF-8 text",
                Span.from_offsets(text, start, end),
                hint="encode the text as UTF-8 before percent-encoding it",
            ),
            text,
        ) from None


if TYPE_CHECKING:
    from flowql.ast import Span


class _Query:
    """Decoded pairs, with their offsets ``(start, equals, end)`` in ``text`` when read from
    text, built into an expression."""

    def __init__(
        self, text: str | None, pairs: list[tuple[str, str, tuple[int, int, int] | None]]
    ) -> None:
        self.text = text
        self.pairs = pairs

    def span(self, start: int, end: int) -> Span:
        from flowql.ast import Span as _Span

        assert self.text is not None
        return _Span.from_offsets(self.text, start, end)

    def build(self) -> Expr:
        import re

        from flowql.ast import Key
        from flowql.errors import ParseError

        key_pattern = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
        reserved = {"and", "or", "not", "in", "true", "false"}
        groups: dict[str, list[tuple[Value, Key, tuple[int, int, int] | None]]] = {}
        for name, raw, where in self.pairs:
            if name in SKIPPED_PARAMETERS:
                continue
            if not key_pattern.fullmatch(name) or name.lower() in reserved:
                raise ParseError(
                    Diagnostic(
                        "FQ004",
                        f"{clip(name)!r} is not a FlowQL key",
                        None if where is None else self.span(where[0], where[1]),
                        hint="a key is letters, digits, '_' and '-', in dotted parts, "
                        "not starting with a digit, and not a keyword",
                    ),
                    self.text,
                )
            value_span = None if where is None else self.span(where[1] + 1, where[2])
            value: Value
            if name.startswith(_STATUS_PREFIX) and raw in _BOOLEANS:
                value = Boolean(_BOOLEANS[raw], span=value_span)
            else:
                value = String(raw, span=value_span)
            key = Key(name, span=None if where is None else self.span(where[0], where[1]))
            groups.setdefault(name, []).append((value, key, where))
        if not groups:
            raise ParseError(
                Diagnostic(
                    "FQ013",
                    "the query has no filter parameters",
                    None if self.text is None else self.span(0, len(self.text)),
                    hint="add key=value parameters; "
                    + ", ".join(sorted(SKIPPED_PARAMETERS))
                    + " are not filters",
                ),
                self.text,
            )
        tests: list[Expr] = []
        for entries in groups.values():
            first, last = entries[0][2], entries[-1][2]
            span = None if first is None or last is None else self.span(first[0], last[2])
            if len(entries) == 1:
                value, key, _ = entries[0]
                tests.append(Comparison(key, Op.EQ, value, span=span))
            else:
                tests.append(In(entries[0][1], [v for v, _, _ in entries], span=span))
        if len(tests) == 1:
            return tests[0]
        offsets = [w for entries in groups.values() for _, _, w in entries if w is not None]
        span = (
            self.span(min(w[0] for w in offsets), max(w[2] for w in offsets)) if offsets else None
        )
        return And(*tests, span=span)
