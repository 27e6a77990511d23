"""Tests for the Python target (flowql.targets.python), flowql's local evaluator: each operator on
present, missing, nested and typed values; the boolean structure; dotted keys both ways; mappings
that are not dicts; and properties: the compiled predicate agrees with a plain reference
evaluator written here, the flat program (deep trees) agrees with the closures, and lowering for
the Flow API changes no result."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowql import parse
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Not, Number, Op, Or, String, Value
from flowql.targets import python as target
from flowql.targets.conviva_flow import lower
from flowql.targets.python import (
    MAX_CLOSURE_DEPTH,
    Predicate,
    compile_predicate,
    filter_records,
)


def matches(text: str, record: Mapping[str, object]) -> bool:
    return compile_predicate(parse(text))(record)


class Row(Mapping[str, object]):
    """A read-only mapping that is not a dict (and has no fast paths)."""

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> object:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


# --- each operator on present, missing and typed values ---------------------------------------

# (value in the record, or absent) x filter -> expected
MISSING = object()


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        # == on strings: exact, case-sensitive, typed.
        ("Spain", "k == 'Spain'", True),
        ("spain", "k == 'Spain'", False),
        ("Spain ", "k == 'Spain'", False),
        ("", "k == ''", True),
        ("1", "k == 1", False),
        (1, "k == '1'", False),
        ("true", "k == true", False),
        (True, "k == 'true'", False),
        (None, "k == 'None'", False),
        (MISSING, "k == 'Spain'", False),
        (["Spain"], "k == 'Spain'", True),
        ({"x": 1}, "k == 'Spain'", False),
        # == on numbers: by value across int and float, never a boolean.
        (1, "k == 1", True),
        (1.0, "k == 1", True),
        (1, "k == 1.0", True),
        (1.5, "k == 1.5", True),
        (2, "k == 1", False),
        (-3, "k == -3", True),
        (True, "k == 1", False),
        (False, "k == 0", False),
        (Decimal("1.5"), "k == 1.5", True),
        (Fraction(1, 2), "k == 0.5", True),
        (float("nan"), "k == 1", False),
        (None, "k == 0", False),
        (MISSING, "k == 0", False),
        # == on booleans: only a boolean.
        (True, "k == true", True),
        (False, "k == false", True),
        (False, "k == true", False),
        (1, "k == true", False),
        (0, "k == false", False),
        (1.0, "k == true", False),
        (None, "k == false", False),
        (MISSING, "k == false", False),
        # != is the negation of ==: a missing key matches it.
        ("Spain", "k != 'Spain'", False),
        ("France", "k != 'Spain'", True),
        ("spain", "k != 'Spain'", True),
        (1, "k != '1'", True),
        (1.0, "k != 1", False),
        (True, "k != 1", True),
        (True, "k != true", False),
        (None, "k != 'x'", True),
        (["Spain", "France"], "k == 'Spain'", True),
        (["Spain", "France"], "k == 'Spai'", False),
        ([1, 2.5], "k == 2.5", True),
        ([1], "k == true", False),
        ([True], "k == true", True),
        (["1"], "k == 1", False),
        ([["x"]], "k == 'x'", False),
        (["Spain"], "k != 'Spain'", False),
        ([], "k != 'Spain'", True),
        (MISSING, "k != 'Spain'", True),
        (MISSING, "k != 1", True),
        (MISSING, "k != true", True),
        # ~~ is a case-sensitive substring of a string value.
        ("Madrid", "k ~~ 'adr'", True),
        ("Madrid", "k ~~ 'Madrid'", True),
        ("Madrid", "k ~~ 'ADR'", False),
        ("Madrid", "k ~~ ''", True),
        ("", "k ~~ ''", True),
        ("", "k ~~ 'a'", False),
        (123, "k ~~ '2'", False),
        # On a list, ~~ (like ==) tests whole items: the list holds the value.
        (["adr"], "k ~~ 'adr'", True),
        (["Madrid"], "k ~~ 'adr'", False),
        (("x", "adr"), "k ~~ 'adr'", True),
        ([], "k ~~ ''", False),
        (["1"], "k ~~ 1", False),
        (None, "k ~~ ''", False),
        (MISSING, "k ~~ ''", False),
        ("a1b", "k ~~ 1", False),
        ("true", "k ~~ true", False),
        # !~ is the negation of ~~: a missing key, or a value that is not a string, matches.
        ("Madrid", "k !~ 'adr'", False),
        ("Madrid", "k !~ 'xyz'", True),
        (123, "k !~ '2'", True),
        (None, "k !~ ''", True),
        (MISSING, "k !~ 'adr'", True),
        ("a1b", "k !~ 1", True),
    ],
)
def test_operator(value: object, text: str, expected: bool) -> None:
    record: dict[str, object] = {} if value is MISSING else {"k": value}
    assert matches(text, record) is expected
    assert matches(text, Row(record)) is expected
    assert matches(f"NOT ({text})", record) is not expected


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("b", "k IN ('a', 'b', 'c')", True),
        ("d", "k IN ('a', 'b', 'c')", False),
        ("B", "k IN ('a', 'b')", False),
        ("a", "k IN ('a')", True),
        (MISSING, "k IN ('a', 'b')", False),
        (None, "k IN ('a', 'b')", False),
        (1, "k IN ('1', 2)", False),
        (2.0, "k IN ('1', 2)", True),
        ("1", "k IN ('1', 2)", True),
        (True, "k IN (1, 'x')", False),
        (1, "k IN (true, 'x')", False),
        (True, "k IN (true, 'x')", True),
        (Decimal(2), "k IN (1, 2)", True),
        (["a"], "k IN ('a', 'b')", True),
        (["c", "b"], "k IN ('a', 'b')", True),
        (["c"], "k IN ('a', 'b')", False),
        ([2], "k IN ('2', 2)", True),
        ([True], "k IN (1, 'x')", False),
        ([["a"]], "k IN ('a', 'b')", False),
        (["a"], "k NOT IN ('a', 'b')", False),
        ("b", "k NOT IN ('a', 'b')", False),
        ("c", "k NOT IN ('a', 'b')", True),
        (MISSING, "k NOT IN ('a', 'b')", True),
        (None, "k NOT IN ('a', 'b')", True),
        (1, "k NOT IN ('1', true)", True),
        (1.0, "k NOT IN (1)", False),
    ],
)
def test_membership(value: object, text: str, expected: bool) -> None:
    record: dict[str, object] = {} if value is MISSING else {"k": value}
    assert matches(text, record) is expected
    assert matches(text, Row(record)) is expected
    assert matches(f"NOT {text}", record) is not expected


def test_boolean_structure() -> None:
    record = {"a": "x", "b": "y"}
    assert matches("a == 'x' AND b == 'y'", record)
    assert not matches("a == 'x' AND b == 'z'", record)
    assert matches("a == 'z' OR b == 'y'", record)
    assert not matches("a == 'z' OR b == 'z'", record)
    assert matches("a == 'x' AND b == 'y' AND c != 'q'", record)
    assert not matches("a == 'z' OR b == 'z' OR c == 'q'", record)
    assert matches("NOT (a == 'z' OR b == 'z')", record)
    assert not matches("NOT (a == 'x' AND b == 'y')", record)
    assert matches("NOT NOT a == 'x'", record)
    assert matches("(a == 'z' OR b ~~ 'y') AND NOT c IN ('q')", record)
    assert matches("a == 'z' OR (b == 'y' AND NOT a != 'x')", record)


def test_and_or_short_circuit() -> None:
    seen: list[str] = []

    class Spy(Mapping[str, object]):
        def __getitem__(self, key: str) -> object:
            seen.append(key)
            return "x"

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    assert not compile_predicate(parse("a == 'y' AND b == 'x' AND c == 'x'"))(Spy())
    assert seen == ["a"]
    seen.clear()
    assert compile_predicate(parse("a == 'x' OR b == 'x'"))(Spy())
    assert seen == ["a"]


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"integration": {"name": "Slack"}}, True),
        ({"integration.name": "Slack"}, True),
        # The key present with its dot wins over nesting.
        ({"integration.name": "Slack", "integration": {"name": "Teams"}}, True),
        ({"integration.name": "Teams", "integration": {"name": "Slack"}}, False),
        ({"integration": {"name": "Teams"}}, False),
        ({"integration": {"other": "Slack"}}, False),
        ({"integration": "Slack"}, False),
        ({"integration": ["name"]}, False),
        ({"integration": None}, False),
        ({}, False),
        ({"integration": MappingProxyType({"name": "Slack"})}, True),
        ({"integration": Row({"name": "Slack"})}, True),
    ],
)
def test_dotted_key(record: dict[str, object], expected: bool) -> None:
    assert matches("integration.name == 'Slack'", record) is expected
    assert matches("integration.name != 'Slack'", record) is not expected
    assert matches("integration.name ~~ 'lac'", record) is expected
    assert matches("integration.name IN ('Slack', 'x')", record) is expected


@pytest.mark.parametrize(
    ("record", "found"),
    [
        ({"a": {"b": {"c": 1}}}, True),
        ({"a.b.c": 1}, True),
        ({"a.b": {"c": 1}}, True),
        ({"a": {"b.c": 1}}, True),
        # The longest present prefix wins at each level, with no backtracking.
        ({"a.b": {"x": 1}, "a": {"b": {"c": 1}}}, False),
        ({"a.b.c": 2, "a": {"b": {"c": 1}}}, False),
        ({"a": {"b": 5}}, False),
        ({"a": {"b": {"c": {"d": 1}}}}, False),
    ],
)
def test_dotted_key_three_parts(record: dict[str, object], found: bool) -> None:
    assert matches("a.b.c == 1", record) is found


def test_a_key_without_dots_is_not_nested() -> None:
    assert not matches("a == 1", {"x": {"a": 1}})
    assert matches("a == 1", {"a": 1, "x": {"a": 2}})


def test_records_that_are_mappings_but_not_dicts() -> None:
    predicate = compile_predicate(parse("a == 'x' AND b.c IN (1, 2) AND d !~ 'q'"))
    assert predicate(Row({"a": "x", "b": Row({"c": 2})}))
    assert predicate(MappingProxyType({"a": "x", "b.c": 1}))
    assert not predicate(Row({"a": "x", "b": Row({"c": 3})}))


def test_a_record_that_is_not_a_mapping_is_refused() -> None:
    predicate = compile_predicate(parse("a == 'x'"))
    with pytest.raises(TypeError, match="must be a mapping, not list"):
        predicate([("a", "x")])  # type: ignore[arg-type]


def test_a_node_that_is_not_an_expression_is_refused() -> None:
    with pytest.raises(TypeError, match="not a FlowQL expression"):
        compile_predicate(String("x"))  # type: ignore[arg-type]


# --- the Predicate object and filter_records --------------------------------------------------


def test_predicate_repr_and_expr() -> None:
    expr = parse("a in ('x', \"y\") and not b == 1")
    predicate = compile_predicate(expr)
    assert isinstance(predicate, Predicate)
    assert predicate.expr is expr
    assert repr(predicate) == "Predicate(\"a IN ('x', 'y') AND NOT b == 1\")"
    assert repr(compile_predicate(parse("a == 'say \"hi\"'"))) == (
        'Predicate("a == \'say \\"hi\\"\'")'
    )


def test_predicate_pickles() -> None:
    predicate = compile_predicate(parse("a == 'x' OR b.c != 2"))
    loaded = pickle.loads(pickle.dumps(predicate))
    assert loaded.expr == predicate.expr
    assert loaded({"b": {"c": 3}}) is predicate({"b": {"c": 3}}) is True


def test_filter_records() -> None:
    rows: list[dict[str, object]] = [
        {"flow": "Welcome", "count": 3},
        {"flow": "Survey", "count": 0},
        {"flow": "Welcome back", "count": 0.0},
        {"flow": "Other"},
    ]
    expr = parse("flow ~~ 'Welcome' OR count != 0")
    assert list(filter_records(expr, rows)) == [rows[0], rows[2], rows[3]]
    assert list(filter_records(compile_predicate(expr), rows)) == [rows[0], rows[2], rows[3]]
    assert list(filter_records(parse("count == 0"), rows)) == [rows[1], rows[2]]


def test_filter_records_is_lazy_and_compiles_at_once() -> None:
    def endless() -> Iterator[dict[str, object]]:
        n = 0
        while True:
            yield {"n": n}
            n += 1

    found = filter_records(parse("n IN (2, 5)"), endless())
    assert next(found) == {"n": 2}
    assert next(found) == {"n": 5}
    with pytest.raises(TypeError):
        filter_records(Key("a"), [])  # type: ignore[arg-type]


# --- deep trees -------------------------------------------------------------------------------


def _alternating(depth: int) -> Expr:
    """``... OR (a != 'y' AND (b == '0' OR ... c == 'end'))``: ``depth`` alternating levels."""
    expr: Expr = Comparison(Key("c"), Op.EQ, String("end"))
    for level in range(depth):
        test = Comparison(Key("b"), Op.EQ, String(str(level)))
        expr = Or(test, expr) if level % 2 else And(Comparison(Key("a"), Op.NE, String("y")), expr)
    return expr


@pytest.mark.parametrize("depth", [MAX_CLOSURE_DEPTH - 1, MAX_CLOSURE_DEPTH + 1, 5_000])
def test_deep_trees_evaluate_without_recursion_error(depth: int) -> None:
    expr = _alternating(depth)
    predicate = compile_predicate(expr)
    negated = compile_predicate(Not(expr))
    for record in ({"c": "end"}, {"a": "y"}, {"b": str(depth - 2)}, {"b": "-1"}, {}):
        assert predicate(record) is reference(expr, record)
        assert negated(record) is not predicate(record)


def test_a_long_chain_of_nots() -> None:
    expr: Expr = Comparison(Key("a"), Op.EQ, String("x"))
    for _ in range(50_001):
        expr = Not(expr)
    predicate = compile_predicate(expr)
    assert predicate({"a": "y"})
    assert not predicate({"a": "x"})


# --- properties -------------------------------------------------------------------------------

_KEYS = ("a", "b", "a.b", "b.a", "a.b.c")
_STRINGS = ("", "x", "xy", "X", "1", "true")
_NUMBERS: tuple[int | float, ...] = (0, 1, 1.0, 1.5, -2)


def _get(record: Mapping[str, object], name: str) -> object:
    """The reference look-up, as documented: the longest present dotted prefix at each level."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in record:
            value = record[head]
            if cut == len(parts):
                return value
            if not isinstance(value, Mapping):
                return MISSING
            return _get(value, ".".join(parts[cut:]))
    return MISSING


def _equal(found: object, value: Value) -> bool:
    if isinstance(found, (list, tuple)):
        return any(_equal(item, value) for item in found if not isinstance(item, (list, tuple)))
    if isinstance(value, Boolean):
        return isinstance(found, bool) and found == value.value
    if isinstance(value, Number):
        return (
            isinstance(found, (int, float, Decimal, Fraction))
            and not isinstance(found, bool)
            and found == value.value
        )
    return isinstance(found, str) and found == value.value


def reference(expr: Expr, record: Mapping[str, object]) -> bool:
    """A plain evaluator, straight from the documented semantics, walking the AST: every node
    evaluated, no short cuts. It uses an explicit stack, so the deep-tree tests can use it too."""
    stack: list[Expr] = [expr]
    results: dict[int, bool] = {}
    while stack:
        node = stack[-1]
        if isinstance(node, Comparison):
            found = _get(record, node.key.name)
            if node.op in (Op.EQ, Op.NE):
                result = _equal(found, node.value)
            else:
                value = node.value
                if isinstance(found, (list, tuple)):
                    result = isinstance(value, String) and _equal(found, value)
                else:
                    result = (
                        isinstance(found, str)
                        and isinstance(value, String)
                        and value.value in found
                    )
            results[id(node)] = result if node.op in (Op.EQ, Op.CONTAINS) else not result
        elif isinstance(node, In):
            found = _get(record, node.key.name)
            result = any(_equal(found, value) for value in node.values)
            results[id(node)] = result != node.negated
        else:
            children = [c for c in node.children() if isinstance(c, Expr)]
            waiting = [c for c in children if id(c) not in results]
            if waiting:
                stack.extend(waiting)
                continue
            if isinstance(node, Not):
                results[id(node)] = not results[id(children[0])]
            elif isinstance(node, And):
                results[id(node)] = all(results[id(c)] for c in children)
            else:
                assert isinstance(node, Or)
                results[id(node)] = any(results[id(c)] for c in children)
        stack.pop()
    return results[id(expr)]


def _values(with_typed: bool) -> st.SearchStrategy[Value]:
    strings = st.sampled_from(_STRINGS).map(String)
    if not with_typed:
        return strings
    return st.one_of(strings, st.sampled_from(_NUMBERS).map(Number), st.booleans().map(Boolean))


def _exprs(with_typed: bool = True) -> st.SearchStrategy[Expr]:
    keys = st.sampled_from(_KEYS).map(Key)
    values = _values(with_typed)
    leaves: st.SearchStrategy[Expr] = st.one_of(
        st.builds(Comparison, keys, st.sampled_from(list(Op)), values),
        st.builds(In, keys, st.lists(values, min_size=1, max_size=4), st.booleans()),
    )

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        operands = st.lists(inner, min_size=2, max_size=3)
        return st.one_of(
            inner.map(Not),
            operands.map(lambda xs: And(*xs)),
            operands.map(lambda xs: Or(*xs)),
        )

    return st.recursive(leaves, extend, max_leaves=8)


_SCALARS: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(_STRINGS),
    st.sampled_from(_NUMBERS),
    st.booleans(),
    st.none(),
    st.sampled_from([Decimal("1.5"), Fraction(1, 1), ["x"], ("xy", 1), [True, "1"], float("nan")]),
    st.lists(st.sampled_from(_STRINGS), max_size=3),
)


def _records() -> st.SearchStrategy[Mapping[str, object]]:
    names = st.sampled_from(("a", "b", "c", "a.b", "b.c", "b.a"))
    nested = st.recursive(
        _SCALARS,
        lambda inner: st.dictionaries(names, inner, max_size=3),
        max_leaves=6,
    )
    plain = st.dictionaries(names, nested, max_size=4)
    return st.one_of(plain, plain.map(Row), plain.map(MappingProxyType))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(), st.lists(_records(), min_size=1, max_size=6))
def test_agrees_with_the_reference_evaluator(
    expr: Expr, records: list[Mapping[str, object]]
) -> None:
    predicate = compile_predicate(expr)
    program = target._program(expr)
    closures = target._closures(expr)
    for record in records:
        expected = reference(expr, record)
        assert predicate(record) is expected
        assert program(record) is expected
        assert closures(record) is expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(with_typed=False), st.lists(_records(), min_size=1, max_size=6))
def test_lowering_for_the_flow_api_preserves_results(
    expr: Expr, records: list[Mapping[str, object]]
) -> None:
    source = compile_predicate(expr)
    lowered = compile_predicate(lower(expr))
    for record in records:
        assert lowered(record) is source(record)
