"""The Python target: a FlowQL filter as a predicate over records, evaluated locally.

This is flowql's own evaluator. It filters data no API filters for you (the rows the Flow XO
insights endpoints return, which take no filter parameter) and post-filters any result on the
client side::

    >>> from flowql import parse
    >>> from flowql.targets.python import compile_predicate, filter_records
    >>> is_spanish_phone = compile_predicate(
    ...     parse("geo_country == 'Spain' AND device.os IN ('iOS', 'Android')")
    ... )
    >>> is_spanish_phone({"geo_country": "Spain", "device": {"os": "iOS"}})
    True
    >>> is_spanish_phone({"geo_country": "Spain", "device.os": "Android"})
    True
    >>> is_spanish_phone({"geo_country": "Spain"})
    False
    >>> is_spanish_phone
    Predicate("geo_country == 'Spain' AND device.os IN ('iOS', 'Android')")
    >>> rows = [{"n": 1}, {"n": 1.0}, {"n": "1"}, {"n": True}, {}]
    >>> list(filter_records(parse("n == 1"), rows))
    [{'n': 1}, {'n': 1.0}]
    >>> list(filter_records(parse("n != 1"), rows))
    [{'n': '1'}, {'n': True}, {}]

Semantics (those of ``docs/rules/logic.md``, made concrete for Python values):

- **Keys.** A key is looked up in the record, a :class:`~collections.abc.Mapping`. A key with dots
  reaches into nested mappings: ``integration.name`` reads ``record["integration"]["name"]``. A
  key present with the dots in it wins over nesting: when ``record["a.b"]`` exists, ``a.b`` is
  that. In general, at each level the longest run of the remaining dotted parts that is a key of
  that mapping is taken (``a.b.c`` in ``{"a": {"b.c": 1}}`` is 1), with no backtracking. A
  key absent at some level, or a value on the way that is not a mapping, makes the key
  *missing*. ``None`` is a present value, equal to no FlowQL value.
- **``==``** is exact, case-sensitive and typed: a string equals a string value (``'1'`` is not
  the number ``1``); a number equals a number of the same value, ``int`` and ``float`` alike
  (``1 == 1.0``; other :class:`numbers.Number` types such as :class:`~decimal.Decimal` compare
  by value too); a boolean equals only a boolean (``True`` is not ``1``).
- **``~~``** holds when the record value is a string and contains the FlowQL value as a
  substring (case-sensitive; every string contains ``''``). A record value that is not a string
  contains nothing, and a number or boolean FlowQL value is contained in nothing.
- **``!=`` and ``!~``** are the negations of ``==`` and ``~~``, so a missing key matches ``!=``
  and ``!~``, and only those: it equals nothing and contains nothing.
- **Lists.** A record value that is a :class:`list` or :class:`tuple` holds items, as Klaviyo's
  list fields (``tag_id``, ``tag_name``) do: ``==`` and ``~~`` hold when the list has an item
  equal to the value (whole items, typed as above: ``tag_name ~~ 'vip'`` holds for
  ``['vip', 'new']``, not for ``['vips']``), and ``IN`` when it has an item equal to one of the
  values. This is what the Klaviyo report targets send as ``contains-any`` and ``contains-all``.
- ``k IN (a, b)`` is ``k == a OR k == b``; ``k NOT IN (a, b)`` is ``k != a AND k != b``;
  ``NOT`` negates; ``AND`` holds when every operand does and ``OR`` when any does, each
  stopping at the first operand that decides.

The filter is compiled once: ``NOT`` is pushed into the tests (De Morgan), ``IN`` lists become
set look-ups, and the tree becomes nested closures, one call per AND/OR level. Compiling never
recurses. Evaluating recurses once per AND/OR level, up to :data:`MAX_CLOSURE_DEPTH` (every
tree :func:`flowql.parse` returns is within it); a deeper tree, which only code can build, is
compiled to a flat program of tests and jumps run by a loop instead, so no depth raises
:class:`RecursionError`.

This target can express every filter, so it never raises
:class:`~flowql.errors.UnsupportedError`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

from flowql.ast import And, Boolean, Comparison, In, Not, Number, Op, Or, String
from flowql.formatter import format

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any, TypeVar

    from flowql.ast import Expr, Value

    R = TypeVar("R", bound=Mapping[str, object])
    Test = Callable[[Mapping[str, object]], bool]
    ValueTest = Callable[[object], bool]

__all__ = ["MAX_CLOSURE_DEPTH", "TARGET", "Predicate", "compile_predicate", "filter_records"]

TARGET = "python"
"""The target's name."""

MAX_CLOSURE_DEPTH = 100
"""The most nested AND/OR levels compiled to nested closures (the parser's own limit on
nesting, :data:`flowql.MAX_DEPTH`); deeper trees are compiled to a flat program."""


_LISTS = (list, tuple)
"""Record values that hold items (Klaviyo's list fields)."""


class _Missing:
    """The value of a key the record does not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


class Predicate:
    """A compiled filter: call it on a record (a mapping) to learn whether the filter matches.

    ``expr`` is the filter it was compiled from; ``repr`` shows it as canonical FlowQL. A
    predicate is immutable, safe to share between threads, and pickles (as its filter, compiled
    again on loading).
    """

    __slots__ = ("_expr", "_test")

    def __init__(self, expr: Expr, test: Test) -> None:
        self._expr = expr
        self._test = test

    @property
    def expr(self) -> Expr:
        """The filter this predicate evaluates."""
        return self._expr

    def __call__(self, record: Mapping[str, object]) -> bool:
        """True when ``record`` matches the filter. Raises :class:`TypeError` if ``record`` is
        not a mapping."""
        if type(record) is not dict and not isinstance(record, Mapping):
            raise TypeError(f"a record must be a mapping, not {type(record).__name__}")
        return self._test(record)

    def __repr__(self) -> str:
        text = format(self._expr)
        # Double quotes outside, as FlowQL mostly uses single quotes inside.
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"Predicate({quoted})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (compile_predicate, (self._expr,))


def compile_predicate(expr: Expr) -> Predicate:
    """Compile ``expr`` into a :class:`Predicate` over records.

    >>> from flowql import parse
    >>> matches = compile_predicate(parse("integration.name ~~ 'Slack' AND NOT status == 'off'"))
    >>> matches({"integration": {"name": "Slack bot"}, "status": "on"})
    True
    >>> matches({"integration": {"name": "Slack bot"}, "status": "off"})
    False
    """
    if not isinstance(expr, (Comparison, In, Not, And, Or)):
        raise TypeError(f"not a FlowQL expression: {expr!r}")
    test = _closures(expr) if _depth(expr) <= MAX_CLOSURE_DEPTH else _program(expr)
    return Predicate(expr, test)


def filter_records(expr: Expr | Predicate, records: Iterable[R]) -> Iterator[R]:
    """The records that match ``expr`` (a filter or an already compiled predicate), lazily, in
    their order.

    ``expr`` is compiled when this is called, not on the first record.

    >>> from flowql import parse
    >>> rows = [{"flow": "Welcome", "count": 3}, {"flow": "Survey", "count": 0}]
    >>> [row["flow"] for row in filter_records(parse("count != 0"), rows)]
    ['Welcome']
    """
    predicate = expr if isinstance(expr, Predicate) else compile_predicate(expr)
    return filter(predicate, records)


# --- key look-up ----------------------------------------------------------------------------------


def _getter(name: str) -> Callable[[Mapping[str, object]], object]:
    """A function returning the record's value for the key ``name``, or ``_MISSING``."""
    if "." not in name:

        def get_plain(record: Mapping[str, object]) -> object:
            return record.get(name, _MISSING)

        return get_plain

    parts = name.split(".")
    count = len(parts)
    # For the remaining path starting at part i: the candidate keys, longest first, with the
    # index of the part that follows each.
    choices = tuple(
        tuple((".".join(parts[i:j]), j) for j in range(count, i, -1)) for i in range(count)
    )

    def get_dotted(record: Mapping[str, object]) -> object:
        current: Mapping[str, object] = record
        start = 0
        while True:
            for candidate, after in choices[start]:  # noqa: B007 - `after` is read after break
                value = current.get(candidate, _MISSING)
                if value is not _MISSING:
                    break
            else:
                return _MISSING
            if after == count:
                return value
            if type(value) is not dict and not isinstance(value, Mapping):
                return _MISSING
            current = value
            start = after

    return get_dotted


# --- tests on one value ---------------------------------------------------------------------------


def _is_number(x: object) -> bool:
    """Whether a record value is a number, for comparison with a FlowQL number."""
    kind = type(x)
    if kind is int or kind is float:
        return True
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _equals(value: Value) -> ValueTest:
    """The test ``x == value`` on a record value ``x`` (``_MISSING`` equals nothing)."""
    if isinstance(value, String):
        text = value.value

        def equals_string(x: object) -> bool:
            if isinstance(x, str):
                return x == text
            return isinstance(x, _LISTS) and any(isinstance(i, str) and i == text for i in x)

        return equals_string
    if isinstance(value, Boolean):
        flag = value.value

        def equals_boolean(x: object) -> bool:
            # bool has exactly two instances, and no subclasses
            return x is flag or (isinstance(x, _LISTS) and any(i is flag for i in x))

        return equals_boolean
    assert isinstance(value, Number)
    number = value.value

    def equals_number(x: object) -> bool:
        if _is_number(x):
            return bool(x == number)
        return isinstance(x, _LISTS) and any(_is_number(i) and bool(i == number) for i in x)

    return equals_number


def _contains(value: Value) -> ValueTest:
    """The test ``x ~~ value`` on a record value ``x``: a substring of a string, an item of a
    list."""
    if not isinstance(value, String):
        return _never
    part = value.value

    def contains(x: object) -> bool:
        if isinstance(x, str):
            return part in x
        return isinstance(x, _LISTS) and any(isinstance(i, str) and i == part for i in x)

    return contains


def _never(x: object) -> bool:
    return False


def _one_of(values: tuple[Value, ...]) -> ValueTest:
    """The test ``x IN values``: one set look-up per value type."""
    texts = frozenset(v.value for v in values if isinstance(v, String))
    flags = frozenset(v.value for v in values if isinstance(v, Boolean))
    amounts = frozenset(v.value for v in values if isinstance(v, Number))

    def one_of(x: object) -> bool:
        if isinstance(x, str):
            return x in texts
        if isinstance(x, bool):
            return x in flags
        if _is_number(x):
            try:
                return x in amounts
            except TypeError:  # an unhashable number type: compare one by one
                return any(bool(x == amount) for amount in amounts)
        if isinstance(x, _LISTS):
            return any(one_of(i) for i in x if not isinstance(i, _LISTS))
        return False

    return one_of


def _negation(test: ValueTest) -> ValueTest:
    def negated(x: object) -> bool:
        return not test(x)

    return negated


def _leaf(node: Comparison | In, negate: bool) -> Test:
    """The compiled test of one comparison or IN list, negated when a NOT was pushed into it."""
    test: ValueTest
    if isinstance(node, Comparison):
        op = node.op.negated if negate else node.op
        positive = op in (Op.EQ, Op.CONTAINS)
        test = _equals(node.value) if op in (Op.EQ, Op.NE) else _contains(node.value)
    else:
        positive = node.negated == negate
        test = _one_of(node.values) if len(node.values) > 1 else _equals(node.values[0])
    if not positive:
        test = _negation(test) if test is not _never else _always
    name = node.key.name
    if "." in name:
        get = _getter(name)

        def leaf_dotted(record: Mapping[str, object]) -> bool:
            return test(get(record))

        return leaf_dotted

    def leaf(record: Mapping[str, object]) -> bool:
        return test(record.get(name, _MISSING))

    return leaf


def _always(x: object) -> bool:
    return True


# --- whole trees ----------------------------------------------------------------------------------


def _depth(expr: Expr) -> int:
    """The most AND/OR nodes on a path from the root (NOT is compiled away)."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (And, Or)):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((operand, depth) for operand in node.operands)
        elif isinstance(node, Not):
            stack.append((node.operand, depth))
    return deepest


def _is_and(node: And | Or, negate: bool) -> bool:
    """Whether ``node``, under a pushed-down NOT when ``negate``, behaves as an AND."""
    return isinstance(node, And) != negate


def _closures(expr: Expr) -> Test:
    """Compile ``expr`` to nested closures, post-order over an explicit stack."""
    results: list[Test] = []
    stack: list[tuple[Expr, bool, bool]] = [(expr, False, False)]
    while stack:
        node, negate, done = stack.pop()
        if isinstance(node, Not):
            stack.append((node.operand, not negate, False))
            continue
        if isinstance(node, (Comparison, In)):
            results.append(_leaf(node, negate))
            continue
        if not isinstance(node, (And, Or)):
            raise TypeError(f"not a FlowQL expression: {node!r}")
        if not done:
            stack.append((node, negate, True))
            stack.extend((operand, negate, False) for operand in reversed(node.operands))
            continue
        count = len(node.operands)
        operands = tuple(results[-count:])
        del results[-count:]
        results.append(_all(operands) if _is_and(node, negate) else _any(operands))
    return results[0]


def _all(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 2:
        first, second = tests

        def both(record: Mapping[str, object]) -> bool:
            return first(record) and second(record)

        return both

    # A loop, not all() over a generator: one frame less per level, and faster.
    def every(record: Mapping[str, object]) -> bool:
        for test in tests:  # noqa: SIM110
            if not test(record):
                return False
        return True

    return every


def _any(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 2:
        first, second = tests

        def either(record: Mapping[str, object]) -> bool:
            return first(record) or second(record)

        return either

    def some(record: Mapping[str, object]) -> bool:
        for test in tests:  # noqa: SIM110
            if test(record):
                return True
        return False

    return some


# Instructions of the flat program: (_TEST, leaf) sets the result; (_JUMP_IF_FALSE, target) and
# (_JUMP_IF_TRUE, target) skip to ``target`` when the result is false / true.
_TEST = 0
_JUMP_IF_FALSE = 1
_JUMP_IF_TRUE = 2


def _program(expr: Expr) -> Test:
    """Compile ``expr`` to a flat program of tests and short-circuit jumps, run by a loop.

    ``a AND b AND c`` is ``test a; jump to end if false; test b; jump to end if false; test c``
    and OR the same with "if true": the result at the end is the group's. Neither compiling nor
    running recurses, whatever the depth.
    """
    code: list[tuple[int, Any]] = []
    # Work items: ("node", expr, negate), ("jump", kind, label), ("label", label, None).
    pending: dict[int, list[int]] = {}
    labels = 0
    work: list[tuple[str, Any, Any]] = [("node", expr, False)]
    while work:
        kind, first, second = work.pop()
        if kind == "label":
            for at in pending.pop(first):
                code[at] = (code[at][0], len(code))
            continue
        if kind == "jump":
            pending[second].append(len(code))
            code.append((first, -1))
            continue
        node, negate = first, second
        if isinstance(node, Not):
            work.append(("node", node.operand, not negate))
        elif isinstance(node, (Comparison, In)):
            code.append((_TEST, _leaf(node, negate)))
        elif isinstance(node, (And, Or)):
            label = labels
            labels += 1
            pending[label] = []
            jump = _JUMP_IF_FALSE if _is_and(node, negate) else _JUMP_IF_TRUE
            items: list[tuple[str, Any, Any]] = []
            for operand in node.operands:
                items.append(("node", operand, negate))
                items.append(("jump", jump, label))
            items[-1] = ("label", label, None)
            work.extend(reversed(items))
        else:
            raise TypeError(f"not a FlowQL expression: {node!r}")
    program = tuple(code)
    end = len(program)

    def run(record: Mapping[str, object]) -> bool:
        result = False
        at = 0
        while at < end:
            op, arg = program[at]
            if op == _TEST:
                result = arg(record)
                at += 1
            elif result == (op == _JUMP_IF_TRUE):
                at = arg
            else:
                at += 1
        return result

    return run
