"""Tests for the Conviva DPI Flow API target (flowql.targets.conviva_flow), in the style of
sqlglot's dialect tests: the expected filter for each construct, the expected refusal for each
construct the API cannot express, and properties: the compiled filter means what the source
means, and hostile values survive compile, percent-encoding and decoding."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import exprs, small_trees, string_values, text_matches

import flowql
from flowql import parse
from flowql.ast import And, Comparison, Expr, In, Key, Not, Op, Or, String, Value
from flowql.diagnostics import Severity
from flowql.endpoints import Endpoint, request_url
from flowql.errors import UnsupportedError
from flowql.targets.conviva_flow import compile_filter, encoded_length_bound, lower
from flowql.urls import percent_encode


def flow(text: str) -> str:
    compiled, warnings = compile_filter(parse(text))
    assert warnings == []
    return compiled


# --- expected output, construct by construct --------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Plain Flow syntax passes through, canonically spelled.
        ("geo_country == 'Spain'", "geo_country == 'Spain'"),
        ("geo_country != 'Spain'", "geo_country != 'Spain'"),
        ("geo_city ~~ 'Madrid'", "geo_city ~~ 'Madrid'"),
        ("geo_city !~ 'Madrid'", "geo_city !~ 'Madrid'"),
        ('geo_country=="Spain"', "geo_country == 'Spain'"),
        ("a == 'x' and b == 'y'", "a == 'x' AND b == 'y'"),
        ("a == 'x' or b == 'y'", "a == 'x' OR b == 'y'"),
        ("((a == 'x'))", "a == 'x'"),
        ("(a == 'x' AND b == 'y') AND c == 'z'", "a == 'x' AND b == 'y' AND c == 'z'"),
        # Precedence is never left to the server: groups of the other operator are wrapped.
        ("a == 'x' OR b == 'y' AND c == 'z'", "a == 'x' OR (b == 'y' AND c == 'z')"),
        ("(a == 'x' OR b == 'y') AND c == 'z'", "(a == 'x' OR b == 'y') AND c == 'z'"),
        # IN and NOT IN.
        ("a IN ('x')", "a == 'x'"),
        ("a IN ('x', 'y', 'z')", "a == 'x' OR a == 'y' OR a == 'z'"),
        ("a NOT IN ('x')", "a != 'x'"),
        ("a NOT IN ('x', 'y')", "a != 'x' AND a != 'y'"),
        ("a IN ('x', 'y') AND b == 'z'", "(a == 'x' OR a == 'y') AND b == 'z'"),
        ("a IN ('x', 'y') OR b == 'z'", "a == 'x' OR a == 'y' OR b == 'z'"),
        ("a NOT IN ('x', 'y') OR b == 'z'", "(a != 'x' AND a != 'y') OR b == 'z'"),
        ("a NOT IN ('x', 'y') AND b == 'z'", "a != 'x' AND a != 'y' AND b == 'z'"),
        # NOT is pushed down (De Morgan).
        ("NOT a == 'x'", "a != 'x'"),
        ("NOT a != 'x'", "a == 'x'"),
        ("NOT a ~~ 'x'", "a !~ 'x'"),
        ("NOT a !~ 'x'", "a ~~ 'x'"),
        ("NOT NOT a == 'x'", "a == 'x'"),
        ("NOT NOT NOT a == 'x'", "a != 'x'"),
        ("NOT (a == 'x' AND b ~~ 'y')", "a != 'x' OR b !~ 'y'"),
        ("NOT (a == 'x' OR b ~~ 'y')", "a != 'x' AND b !~ 'y'"),
        ("NOT a IN ('x', 'y')", "a != 'x' AND a != 'y'"),
        ("NOT a NOT IN ('x', 'y')", "a == 'x' OR a == 'y'"),
        ("NOT (a IN ('x', 'y') AND b == 'z')", "(a != 'x' AND a != 'y') OR b != 'z'"),
        (
            "c == 'w' AND NOT (a == 'x' AND (b == 'y' OR NOT d ~~ 'z'))",
            "c == 'w' AND (a != 'x' OR (b != 'y' AND d ~~ 'z'))",
        ),
        ("NOT (a == 'x' OR NOT (b == 'y' OR c == 'z'))", "a != 'x' AND (b == 'y' OR c == 'z')"),
        # Values: only ' and \ are escaped.
        ("a == ''", "a == ''"),
        ('a == "x y, (z) & w=1 % #"', "a == 'x y, (z) & w=1 % #'"),
        ("a == 'Espa\u00f1a \u4e2d'", "a == 'Espa\u00f1a \u4e2d'"),
        # Dotted and dashed keys are kept as written.
        ("Integration.Name == 'x'", "Integration.Name == 'x'"),
    ],
)
def test_compile(source: str, expected: str) -> None:
    assert flow(source) == expected


def test_the_guide_examples() -> None:
    # The filters in the Conviva guide's examples compile to themselves.
    assert flow("device_operating_system == 'Android'") == "device_operating_system == 'Android'"
    assert flow("device_operating_system != 'Android'") == "device_operating_system != 'Android'"
    assert (
        flow("(device_operating_system == 'Android' AND geo_country == 'Spain')")
        == "device_operating_system == 'Android' AND geo_country == 'Spain'"
    )


def test_compile_built_tree() -> None:
    expr = Not(In(Key("a"), [String("x"), String("y")]))
    assert compile_filter(expr) == ("a != 'x' AND a != 'y'", [])


def test_lower_keeps_spans() -> None:
    expr = parse("NOT a IN ('x', 'y')")
    lowered = lower(expr)
    assert isinstance(lowered, And)
    membership = expr.operand  # type: ignore[attr-defined]
    assert lowered.span == membership.span
    for test, value in zip(lowered.operands, membership.values, strict=True):
        assert isinstance(test, Comparison)
        assert test.value.span == value.span


def test_lower_handles_deep_trees() -> None:
    expr: Expr = Comparison(Key("a"), Op.EQ, String("x"))
    for _ in range(5000):
        expr = Not(expr)
    assert compile_filter(expr)[0] == "a == 'x'"
    deep: Expr = Comparison(Key("a"), Op.EQ, String("x"))
    for i in range(3000):
        deep = (And if i % 2 else Or)(Comparison(Key("k"), Op.NE, String(str(i))), deep)
    text = compile_filter(Not(deep))[0]
    assert text.count("(") == 2999
    assert parse(text, max_depth=10_000) == lower(Not(deep))


# --- escapes: FQ602 --------------------------------------------------------------------------


def test_quote_is_escaped_with_a_warning() -> None:
    compiled, warnings = compile_filter(parse('geo_city == "Arcy-sur-Cure\'s gate"'))
    assert compiled == "geo_city == 'Arcy-sur-Cure\\'s gate'"
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.code == "FQ602"
    assert warning.severity is Severity.WARNING
    assert "does not document" in warning.message
    assert warning.hint is not None
    assert "geo_city ~~ 'Arcy-sur-Cure'" in warning.hint
    assert (warning.column, warning.end_column) == (13, 35)


def test_backslash_is_escaped_with_a_warning() -> None:
    compiled, warnings = compile_filter(parse(r"path != 'C:\\temp'"))
    assert compiled == r"path != 'C:\\temp'"
    assert [w.code for w in warnings] == ["FQ602"]
    assert warnings[0].hint is not None
    assert "path !~ 'temp'" in warnings[0].hint


def test_quote_and_backslash_in_one_value() -> None:
    compiled, (warning,) = compile_filter(Comparison(Key("a"), Op.EQ, String("x\\y'z")))
    assert compiled == "a == 'x\\\\y\\'z'"
    assert "a quote (') and a backslash (\\), written \\' and \\\\:" in warning.message
    assert warning.hint is not None
    assert warning.hint.endswith("a ~~ 'x'")


def test_one_warning_per_value() -> None:
    _, warnings = compile_filter(parse("a IN ('it\\'s', 'x', 'y\\'z') AND b == 'o\\'k'"))
    assert [(w.code, w.column) for w in warnings] == [("FQ602", 7), ("FQ602", 21), ("FQ602", 38)]


def test_value_of_only_quotes_has_a_hint_without_a_part() -> None:
    _, warnings = compile_filter(parse("a == '\\''"))
    assert warnings[0].hint is not None
    assert "~~" in warnings[0].hint


# --- refusals: FQ601 -------------------------------------------------------------------------


def refusal(text: str) -> UnsupportedError:
    with pytest.raises(UnsupportedError) as caught:
        compile_filter(parse(text))
    return caught.value


def test_number_is_refused() -> None:
    err = refusal("asn == 701")
    assert err.code == "FQ601"
    assert len(err.diagnostics) == 1
    assert "number 701" in err.message
    assert "conviva-flow" in err.message
    assert err.hint == "quote the value: '701'"
    assert (err.line, err.column, err.end_column) == (1, 8, 11)


def test_boolean_is_refused() -> None:
    err = refusal("is_live != true")
    assert "boolean true" in err.message
    assert err.hint == "quote the value: 'true'"
    assert (err.column, err.end_column) == (12, 16)


def test_float_is_refused_with_its_canonical_spelling() -> None:
    assert refusal("a == 1e3").hint == "quote the value: '1000.0'"


def test_every_refusal_is_collected() -> None:
    text = "asn IN (701, 'x', 7922) AND NOT (b == false OR c ~~ 'y') AND d == 2.5"
    err = refusal(text)
    assert [d.code for d in err.diagnostics] == ["FQ601"] * 4
    assert [text[d.span.start : d.span.end] for d in err.diagnostics if d.span] == [
        "701",
        "7922",
        "false",
        "2.5",
    ]
    assert [d.hint for d in err.diagnostics] == [
        "quote the value: '701'",
        "quote the value: '7922'",
        "quote the value: 'false'",
        "quote the value: '2.5'",
    ]


def test_refusal_of_a_built_tree_has_no_span() -> None:
    with pytest.raises(UnsupportedError) as caught:
        compile_filter(Comparison(Key("a"), Op.EQ, flowql.Number(1)))
    assert caught.value.span is None


# --- property: the compiled filter means what the source means -------------------------------

KEYS = ("a", "b", "c")
WORDS = ("", "x", "y", "xy", "yx", "it's")


def text_of(value: Value) -> str:
    """Flow filters hold strings only."""
    assert isinstance(value, String)
    return value.value


def matches(expr: Expr, record: dict[str, str]) -> bool:
    """The Flow semantics (see :func:`strategies.text_matches`)."""
    return text_matches(expr, record, text_of)


_keys = st.sampled_from(KEYS).map(Key)
_values: st.SearchStrategy[Value] = st.sampled_from(WORDS).map(String)
_leaves: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Comparison, _keys, st.sampled_from(list(Op)), _values),
    st.builds(In, _keys, st.lists(_values, min_size=1, max_size=3), st.booleans()),
)
small_exprs = small_trees(_leaves, max_leaves=8)
records = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(WORDS))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_exprs, st.lists(records, min_size=1, max_size=8))
def test_compiled_filter_means_the_same(expr: Expr, rows: list[dict[str, str]]) -> None:
    compiled, _ = compile_filter(expr)
    back = parse(compiled)
    for node in flowql.walk(back):
        assert not isinstance(node, (Not, In))
    for row in rows:
        assert matches(back, row) == matches(expr, row)
    # Canonical: printing the parsed filter again changes nothing.
    assert flowql.format(back) == compiled


# --- property: hostile values survive the URL ------------------------------------------------


def filter_from_url(url: str) -> str:
    query = url.split("?", 1)[1]
    (encoded,) = [v for k, v in (p.split("=", 1) for p in query.split("&")) if k == "filter"]
    return urllib.parse.unquote(encoded, errors="strict")


@settings(max_examples=300, deadline=None)
@given(string_values(), st.sampled_from(list(Op)))
def test_hostile_values_survive_the_url(value: str, op: Op) -> None:
    expr = And(
        Comparison(Key("geo_city"), op, String(value)),
        In(Key("isp"), [String(value), String("x")]),
    )
    url = request_url(Endpoint.flow_real_time(825, "PT5M"), expr)
    assert url.isascii()
    assert not any(ch in url.split("?", 1)[1] for ch in " '+#\n\r\t\\\"")
    back = parse(filter_from_url(url))
    assert back == lower(expr)
    first = back.operands[0]  # type: ignore[attr-defined]
    assert first.value == String(value)


# --- the length bound flowql check budgets by ---------------------------------------------------


_PLAIN = st.text("abcXYZ09 -_", max_size=8).map(String)
_PLAIN_LEAVES = st.one_of(
    st.builds(
        Comparison, st.sampled_from([Key("cdn"), Key("geo_country")]), st.sampled_from(Op), _PLAIN
    ),
    st.builds(In, st.just(Key("k")), st.lists(_PLAIN, min_size=1, max_size=4), st.booleans()),
)


@given(st.one_of(small_trees(_PLAIN_LEAVES, max_leaves=12), exprs()))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_the_length_bound_holds_for_every_filter_it_is_given_for(expr: Expr) -> None:
    # check skips compiling a filter with a bound that fits the budget: the bound must be
    # above the real length, and given only for a filter compiled without a word to say.
    bound = encoded_length_bound(expr)
    try:
        text, warnings = compile_filter(expr)
    except UnsupportedError:
        assert bound is None
        return
    if bound is not None:
        assert warnings == []
        assert len(percent_encode(text)) <= bound


def test_the_length_bound_counts_what_lowering_repeats() -> None:
    expr = parse("NOT (k IN ('a', 'b', 'c') OR NOT (x == 'y' AND z ~~ 'w'))")
    text, _ = compile_filter(expr)
    bound = encoded_length_bound(expr)
    assert bound is not None
    assert len(percent_encode(text)) <= bound <= 3 * 3 * len(text)
    assert encoded_length_bound(parse("k == 'it''s'".replace("''", "\\'"))) is None
    assert encoded_length_bound(parse("k == 1")) is None
    assert encoded_length_bound(parse("k == 'é'")) is None
