"""Tests for the Conviva readers: ``conviva_flow.read_filter`` (a Flow API ``filter`` string) and
``conviva_sessions.read_query`` / ``read_params`` (Sessions V3 / Metrics V3 query parameters).

Expected trees construct by construct, refusals and malformed input with codes and positions,
and round trips through the writers with hostile values."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import exprs, key_names, string_values

from flowql import parse
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Node, Number, Op, Or, String
from flowql.ast import transform as ast_transform
from flowql.errors import ParseError, UnsupportedError
from flowql.formatter import format_value
from flowql.targets.conviva_flow import compile_filter, lower, read_filter
from flowql.targets.conviva_sessions import (
    SKIPPED_PARAMETERS,
    compile_params,
    read_params,
    read_query,
    render_value,
)


def eq(key: str, value: str | bool, op: Op = Op.EQ) -> Comparison:
    node = Boolean(value) if isinstance(value, bool) else String(value)
    return Comparison(Key(key), op, node)


# --- Flow: expected trees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 'x'", eq("a", "x")),
        ("a != 'x'", eq("a", "x", Op.NE)),
        ("a ~~ 'x'", eq("a", "x", Op.CONTAINS)),
        ("a !~ 'x'", eq("a", "x", Op.NOT_CONTAINS)),
        ("a=='x'AND b=='y'", And(eq("a", "x"), eq("b", "y"))),
        ("a == 'x' OR b == 'y'", Or(eq("a", "x"), eq("b", "y"))),
        ("a == 'x' and b == 'y' or c == 'z'", Or(And(eq("a", "x"), eq("b", "y")), eq("c", "z"))),
        ("a == 'x' AND (b == 'y' OR c == 'z')", And(eq("a", "x"), Or(eq("b", "y"), eq("c", "z")))),
        ("((a == 'x'))", eq("a", "x")),
        ("a == 'it\\'s' AND b == 'c:\\\\x'", And(eq("a", "it's"), eq("b", "c:\\x"))),
        ("integration.name == ''", eq("integration.name", "")),
    ],
)
def test_flow_reads(text: str, expected: Expr) -> None:
    assert read_filter(text) == expected


def test_flow_spans_point_into_the_text() -> None:
    text = "a == 'x' AND\n  b ~~ 'y\\'z'"
    tree = read_filter(text)
    assert isinstance(tree, And)
    second = tree.operands[1]
    assert isinstance(second, Comparison)
    assert second.span is not None
    assert second.value.span is not None
    assert text[second.span.start : second.span.end] == "b ~~ 'y\\'z'"
    assert (second.span.line, second.span.column) == (2, 3)
    assert text[second.value.span.start : second.value.span.end] == "'y\\'z'"


# --- Flow: refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "construct", "spanned"),
    [
        ("NOT a == 'x'", "NOT", "NOT a == 'x'"),
        ("a IN ('x', 'y')", "IN", "a IN ('x', 'y')"),
        ("a not in ('x')", "NOT IN", "a not in ('x')"),
        ('a == "x"', "double-quoted", '"x"'),
        ("a == 7", "numbers", "7"),
        ("a == -1.5e3", "numbers", "-1.5e3"),
        ("a == TRUE", "booleans", "TRUE"),
        ("a == 'x' # note", "comments", "# note"),
    ],
)
def test_flow_refuses(text: str, construct: str, spanned: str) -> None:
    with pytest.raises(UnsupportedError) as info:
        read_filter(text)
    err = info.value
    assert len(err.diagnostics) == 1
    assert err.code == "FQ601"
    assert construct in err.message
    assert err.span is not None
    assert text[err.span.start : err.span.end] == spanned
    assert err.source == text


def test_flow_collects_every_refusal_in_source_order() -> None:
    text = "NOT (a IN (1, \"x\") OR b == true) AND c == 'ok' # end"
    with pytest.raises(UnsupportedError) as info:
        read_filter(text)
    found = [(d.code, text[d.span.start : d.span.end]) for d in info.value.diagnostics if d.span]
    assert found == [
        ("FQ601", 'NOT (a IN (1, "x") OR b == true)'),
        ("FQ601", 'a IN (1, "x")'),
        ("FQ601", "1"),
        ("FQ601", '"x"'),
        ("FQ601", "true"),
        ("FQ601", "# end"),
    ]
    assert len(info.value.diagnostics) == 6


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("a == 'x", "FQ002", 6),
        ("a = 'x'", "FQ006", 3),
        ("", "FQ013", 1),
        ("a == 'x' AND", "FQ012", 13),
    ],
)
def test_flow_malformed(text: str, code: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        read_filter(text)
    assert (info.value.code, info.value.column) == (code, column)


def test_flow_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        read_filter(b"a == 'x'")  # type: ignore[arg-type]


def _stringify(node: Node) -> Node:
    if isinstance(node, (Number, Boolean)):
        return String(format_value(node))
    return node


flow_exprs = exprs(max_depth=3).map(lambda e: ast_transform(e, _stringify))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_exprs)
def test_flow_round_trip(expr: Expr) -> None:
    assert isinstance(expr, Expr)
    text, _ = compile_filter(expr)
    assert read_filter(text) == lower(expr)


# --- Sessions: expected trees ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=x", eq("a", "x")),
        ("?a=x", eq("a", "x")),
        ("a=", eq("a", "")),
        ("a=x&b=y", And(eq("a", "x"), eq("b", "y"))),
        ("a=x&a=y", In(Key("a"), [String("x"), String("y")])),
        ("a=x&b=y&a=z", And(In(Key("a"), [String("x"), String("z")]), eq("b", "y"))),
        ("a=x&a=x", In(Key("a"), [String("x"), String("x")])),
        (
            "device_os_version=Android%209&device_os_version=Android%2010&browser_name=Native%20App",
            And(
                In(Key("device_os_version"), [String("Android 9"), String("Android 10")]),
                eq("browser_name", "Native App"),
            ),
        ),
        ("browser_name=Native App", eq("browser_name", "Native App")),
        ("a=1+2%2B3", eq("a", "1 2+3")),
        ("a=%C3%A9%E4%B8%AD&b=é", And(eq("a", "é中"), eq("b", "é"))),
        ("a=x=y#z", eq("a", "x=y#z")),
        ("a%2Eb=x", eq("a.b", "x")),
        ("is_ended=true", eq("is_ended", True)),
        ("is_ended=false&is_ended=true", In(Key("is_ended"), [Boolean(False), Boolean(True)])),
        ("is_ended=True", eq("is_ended", "True")),
        ("ended=true", eq("ended", "true")),
        ("tag_n=7", eq("tag_n", "7")),
        ("&a=x&&b=y&", And(eq("a", "x"), eq("b", "y"))),
        (
            "start_date=2024-01-01&end_date=2024-01-02&start_epoch=1&end_epoch=2&limit=5&days=3"
            "&viewer_id=v&viewer_ip=1.2.3.4&filter_id=9&granularity=PT1H&metrics=plays&a=x",
            eq("a", "x"),
        ),
    ],
)
def test_sessions_reads(text: str, expected: Expr) -> None:
    assert read_query(text) == expected


def test_sessions_spans() -> None:
    text = "?a=x%20y&limit=3&b=1&a=z"
    tree = read_query(text)
    assert isinstance(tree, And)
    first, second = tree.operands
    assert isinstance(first, In)
    assert isinstance(second, Comparison)

    def at(node: Node) -> str:
        assert node.span is not None
        return text[node.span.start : node.span.end]

    assert at(tree) == "a=x%20y&limit=3&b=1&a=z"
    assert at(first) == "a=x%20y&limit=3&b=1&a=z"
    assert at(first.key) == "a"
    assert [at(v) for v in first.values] == ["x%20y", "z"]
    assert at(second) == "b=1"
    assert at(second.key) == "b"
    assert at(second.value) == "1"


def test_read_params() -> None:
    params = [("a", "x&y"), ("limit", "3"), ("a", "z"), ("is_live", "true")]
    expected = And(In(Key("a"), [String("x&y"), String("z")]), eq("is_live", True))
    tree = read_params(params)
    assert tree == expected
    assert tree.span is None


@pytest.mark.parametrize(
    ("text", "code", "spanned"),
    [
        ("a=x&b", "FQ004", "b"),
        ("?a=x&bad&c=1", "FQ004", "bad"),
        ("a=x&=y", "FQ004", "=y"),
        ("a=%zz", "FQ003", "%zz"),
        ("a=x%2", "FQ003", "%2"),
        ("a%=x", "FQ003", "%"),
        ("a=%FF%FE", "FQ003", "%FF%FE"),
        ("a=x&in=y", "FQ004", "in"),
        ("a=x&1a=y", "FQ004", "1a"),
        ("a%20b=y", "FQ004", "a%20b"),
        ("limit=5&days=2", "FQ013", "limit=5&days=2"),
        ("", "FQ013", ""),
        ("?", "FQ013", "?"),
    ],
)
def test_sessions_malformed(text: str, code: str, spanned: str) -> None:
    with pytest.raises(ParseError) as info:
        read_query(text)
    err = info.value
    assert err.code == code
    assert err.span is not None
    assert text[err.span.start : err.span.end] == spanned
    assert err.source == text


def test_read_params_malformed() -> None:
    with pytest.raises(ParseError) as info:
        read_params([("not a key", "x")])
    assert (info.value.code, info.value.span) == ("FQ004", None)
    with pytest.raises(ParseError) as info:
        read_params([("limit", "1")])
    assert info.value.code == "FQ013"


# --- Sessions: round trip ----------------------------------------------------------------------

_keys = (
    st.one_of(
        st.sampled_from(["a", "b", "device_os", "is_ended", "is_live", "geo.city", "tag-n"]),
        key_names(),
    )
    .filter(lambda k: k not in SKIPPED_PARAMETERS)
    .map(Key)
)
_values = st.one_of(
    string_values().map(String),
    st.sampled_from(["true", "false", "+", "%", "&", "=", "#", "a b"]).map(String),
    st.booleans().map(Boolean),
    st.integers(-1000, 1000).map(Number),
)
_leaves: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Comparison, _keys, st.just(Op.EQ), _values),
    st.builds(In, _keys, st.lists(_values, min_size=1, max_size=3), st.just(False)),
)
session_exprs: st.SearchStrategy[Expr] = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(*ops)),
        st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(*ops)),
    ),
    max_leaves=6,
)


def holds(expr: Expr, record: dict[str, str]) -> bool:
    """A tiny evaluator over ``==``, IN, AND and OR, comparing values as the text the API
    receives (``render_value``), which is what the parameters can carry."""
    if isinstance(expr, Comparison):
        assert expr.op is Op.EQ
        return record.get(expr.key.name) == render_value(expr.value)
    if isinstance(expr, In):
        assert not expr.negated
        return record.get(expr.key.name) in {render_value(v) for v in expr.values}
    if isinstance(expr, And):
        return all(holds(o, record) for o in expr.operands)
    assert isinstance(expr, Or)
    return any(holds(o, record) for o in expr.operands)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session_exprs, st.data())
def test_sessions_round_trip(expr: Expr, data: st.DataObject) -> None:
    try:
        params = compile_params(expr)
    except UnsupportedError:
        return
    quote_via = data.draw(st.sampled_from([urllib.parse.quote_plus, urllib.parse.quote]))
    prefix = data.draw(st.sampled_from(["", "?"]))
    text = prefix + urllib.parse.urlencode(params, quote_via=quote_via)
    back = read_query(text)
    assert back == read_params(params)
    # Normalised: both sides compile to the same parameters.
    assert compile_params(back) == params
    # Evaluated: the same records match, a record holding each key's text values.
    keys = list(dict.fromkeys(k for k, _ in params))
    choices = [v for _, v in params] + ["", "other"]
    for _ in range(5):
        record = {k: data.draw(st.sampled_from(choices)) for k in keys if data.draw(st.booleans())}
        assert holds(back, record) == holds(expr, record)
    for k in keys:
        record = dict(params)
        assert holds(back, record) == holds(expr, record)
        del record[k]
        assert holds(back, record) == holds(expr, record)


def test_reference_example_reads_as_documented() -> None:
    text = (
        "is_video_start_failure_tech=true&device_os_version=Android 9"
        "&device_os_version=Android 10&browser_name=Native App"
    )
    expected = parse(
        "is_video_start_failure_tech == true AND device_os_version IN ('Android 9', 'Android 10')"
        " AND browser_name == 'Native App'"
    )
    assert read_query(text) == expected
