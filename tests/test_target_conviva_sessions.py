"""Tests for the Conviva Sessions V3 / Metrics V3 target (flowql.targets.conviva_sessions), in
the style of sqlglot's dialect tests: the expected parameters for each construct, the expected
refusal for each construct the parameters cannot express, and properties: the parameters mean
what the source means, and hostile values survive the URL."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import small_trees, string_values, text_matches

from flowql import parse
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Number, Op, String, Value
from flowql.endpoints import Endpoint, request_url
from flowql.errors import UnsupportedError
from flowql.targets.conviva_sessions import compile_params, render_value

# --- expected output, construct by construct --------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("device_os == 'Android'", [("device_os", "Android")]),
        ("device_os IN ('iOS')", [("device_os", "iOS")]),
        ("device_os IN ('iOS', 'tvOS')", [("device_os", "iOS"), ("device_os", "tvOS")]),
        (
            "device_os == 'iOS' OR device_os == 'tvOS'",
            [("device_os", "iOS"), ("device_os", "tvOS")],
        ),
        (
            "device_os IN ('iOS', 'tvOS') OR device_os == 'Roku'",
            [("device_os", "iOS"), ("device_os", "tvOS"), ("device_os", "Roku")],
        ),
        # Repeated values are sent once.
        ("k IN ('a', 'b', 'a') OR k == 'b'", [("k", "a"), ("k", "b")]),
        # Different keys: AND, keys in order of first appearance.
        ("b == 'x' AND a == 'y'", [("b", "x"), ("a", "y")]),
        (
            "b IN ('x', 'y') AND a == 'z' AND c IN ('1', '2')",
            [("b", "x"), ("b", "y"), ("a", "z"), ("c", "1"), ("c", "2")],
        ),
        # One key in several AND branches: the value sets intersect.
        ("k IN ('a', 'b') AND k == 'a'", [("k", "a")]),
        (
            "k IN ('a', 'b', 'c') AND j == 'x' AND k IN ('c', 'b')",
            [("k", "b"), ("k", "c"), ("j", "x")],
        ),
        ("k == 'a' AND k == 'a'", [("k", "a")]),
        ("(k == 'a' OR k == 'b') AND (k == 'b' OR k == 'c')", [("k", "b")]),
        # Intersections inside an OR of one key.
        ("(k IN ('a', 'b') AND k IN ('b', 'c')) OR k == 'd'", [("k", "b"), ("k", "d")]),
        # NOT pushed down, when it leaves equality.
        ("NOT k != 'a'", [("k", "a")]),
        ("NOT NOT k == 'a'", [("k", "a")]),
        ("NOT k NOT IN ('a', 'b')", [("k", "a"), ("k", "b")]),
        ("NOT (k != 'a' AND k != 'b')", [("k", "a"), ("k", "b")]),
        ("NOT (k != 'a' OR j != 'b')", [("k", "a"), ("j", "b")]),
        # Booleans and numbers as the API reads them.
        ("is_video_start_failure_tech == true", [("is_video_start_failure_tech", "true")]),
        ("is_ended == false", [("is_ended", "false")]),
        ("tag_age == 65", [("tag_age", "65")]),
        ("tag_ratio == 2.5", [("tag_ratio", "2.5")]),
        ("tag_big == 1e3", [("tag_big", "1000.0")]),
        ("tag_n == -7", [("tag_n", "-7")]),
        # Values as they are: the URL encoding comes later.
        (
            "geo_city_name == 'Los Angeles, California, United States'",
            [("geo_city_name", "Los Angeles, California, United States")],
        ),
        ("k == ''", [("k", "")]),
        ("k == 'it\\'s'", [("k", "it's")]),
        # A saved filter alone.
        ("filter_id == 9876543210", [("filter_id", "9876543210")]),
        # The guide's use case.
        (
            "is_video_start_failure_tech == true AND device_os_version IN ('Android 9', "
            "'Android 10') AND browser_name == 'Native App'",
            [
                ("is_video_start_failure_tech", "true"),
                ("device_os_version", "Android 9"),
                ("device_os_version", "Android 10"),
                ("browser_name", "Native App"),
            ],
        ),
    ],
)
def test_compile(source: str, expected: list[tuple[str, str]]) -> None:
    assert compile_params(parse(source)) == expected


def test_values_of_different_types_are_the_text_sent() -> None:
    # The API compares text: 1 and '1' are the same parameter.
    assert compile_params(parse("k == 1 AND k IN ('1', '2')")) == [("k", "1")]
    assert render_value(Boolean(True)) == "true"
    assert render_value(Number(10**20)) == "100000000000000000000"


# --- refusals: FQ601 -------------------------------------------------------------------------


def refusal(text: str) -> UnsupportedError:
    with pytest.raises(UnsupportedError) as caught:
        compile_params(parse(text))
    return caught.value


def spans(err: UnsupportedError, text: str) -> list[str]:
    return [text[d.span.start : d.span.end] for d in err.diagnostics if d.span]


@pytest.mark.parametrize(
    ("source", "construct", "advice"),
    [
        ("k != 'a'", "`!=` (does not equal)", "filter_id"),
        ("k ~~ 'a'", "`~~` (contains)", "IN"),
        ("k !~ 'a'", "`!~` (does not contain)", "python target"),
        ("k NOT IN ('a', 'b')", "`NOT IN`", "filter_id"),
        ("NOT k == 'a'", "`NOT` before `k == 'a'` (which means k != 'a')", "python target"),
        ("NOT k IN ('a', 'b')", "(which means k NOT IN (...))", "filter_id"),
        ("k == 'a' OR j == 'b'", "an OR across different keys (k, j)", "split the query"),
        ("NOT (k == 'a' AND j == 'b')", "an OR across different keys (k, j)", "split"),
        ("k == 'a' AND k == 'b'", "these conditions on k", "contradiction"),
        ("limit == 10", "cannot filter on limit", "endpoint"),
        ("filter_id == 1 AND k == 'a'", "saved filter (filter_id)", "alone"),
        ("filter_id IN (1, 2)", "saved filter (filter_id)", "alone"),
    ],
)
def test_refused(source: str, construct: str, advice: str) -> None:
    err = refusal(source)
    assert {d.code for d in err.diagnostics} == {"FQ601"}
    assert all("conviva-sessions" in d.message for d in err.diagnostics)
    (found,) = [d for d in err.diagnostics if construct in d.message]
    assert found.hint is not None
    assert advice in found.hint


def test_refusal_spans() -> None:
    assert spans(refusal("k != 'a'"), "k != 'a'") == ["k != 'a'"]
    text = "x == 'y' AND NOT k IN ('a', 'b')"
    assert spans(refusal(text), text) == ["k IN ('a', 'b')"]
    text = "x == 'y' AND (k == 'a' OR j == 'b')"
    assert spans(refusal(text), text) == ["k == 'a' OR j == 'b'"]
    text = "x == 'y' AND k == 'a' AND k == 'b'"
    err = refusal(text)
    assert spans(err, text) == [text]
    assert "no value in common" in err.message


def test_not_in_is_one_problem_not_one_per_value() -> None:
    text = "k NOT IN ('a', 'b', 'c')"
    assert len(refusal(text).diagnostics) == 1


def test_every_problem_is_collected() -> None:
    text = (
        "a != 'x' AND b ~~ 'y' AND (c == '1' OR d == '2') AND e NOT IN ('q', 'r') "
        "AND f == 'ok' AND g !~ 'z' AND NOT h == 'w' AND k == 'm' AND k == 'n' AND days == 3"
    )
    err = refusal(text)
    assert [d.code for d in err.diagnostics] == ["FQ601"] * 8
    assert spans(err, text) == [
        text,  # the contradiction on k, at the AND that holds it
        "a != 'x'",
        "b ~~ 'y'",
        "c == '1' OR d == '2'",
        "e NOT IN ('q', 'r')",
        "g !~ 'z'",
        "h == 'w'",
        "days == 3",
    ]
    shown = [d.message for d in err.diagnostics]
    assert sum("no value in common" in m for m in shown) == 1
    assert sum("`!=`" in m for m in shown) == 1
    assert sum("`~~`" in m for m in shown) == 1
    assert sum("OR across different keys" in m for m in shown) == 1
    assert sum("`NOT IN`" in m for m in shown) == 1
    assert sum("`!~`" in m for m in shown) == 1
    assert sum("which means h != 'w'" in m for m in shown) == 1
    assert sum("filter on days" in m for m in shown) == 1
    # In source order.
    starts = [d.span.start for d in err.diagnostics if d.span]
    assert starts == sorted(starts)


def test_or_across_keys_and_a_refused_test_are_both_reported() -> None:
    text = "k != 'a' OR j == 'b'"
    err = refusal(text)
    assert spans(err, text) == [text, "k != 'a'"]


def test_contradiction_never_becomes_a_repeated_parameter() -> None:
    for text in ("k IN ('a', 'b') AND k IN ('c', 'd')", "(k == 'a' AND k == 'b') OR k == 'c'"):
        assert "no value in common" in refusal(text).message


# --- property: the parameters mean what the source means -------------------------------------

KEYS = ("a", "b", "c")
WORDS = ("x", "y", "z")


def matches(expr: Expr, record: dict[str, str]) -> bool:
    """The source semantics on text records, a value compared as the text sent."""
    return text_matches(expr, record, render_value)


def params_match(params: list[tuple[str, str]], record: dict[str, str]) -> bool:
    """The documented semantics: one key repeated is OR, different keys are AND."""
    allowed: dict[str, set[str]] = {}
    for key, value in params:
        allowed.setdefault(key, set()).add(value)
    return all(record.get(key) in values for key, values in allowed.items())


_keys = st.sampled_from(KEYS).map(Key)
_values: st.SearchStrategy[Value] = st.sampled_from(WORDS).map(String)
_leaves: st.SearchStrategy[Expr] = st.one_of(
    # Mostly equality, so that many expressions are accepted.
    st.builds(Comparison, _keys, st.just(Op.EQ), _values),
    st.builds(Comparison, _keys, st.just(Op.EQ), _values),
    st.builds(Comparison, _keys, st.sampled_from(list(Op)), _values),
    st.builds(In, _keys, st.lists(_values, min_size=1, max_size=3), st.booleans()),
)
small_exprs = small_trees(_leaves, max_leaves=6)
records = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(WORDS))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_exprs, st.lists(records, min_size=1, max_size=10))
def test_params_mean_the_same(expr: Expr, rows: list[dict[str, str]]) -> None:
    try:
        params = compile_params(expr)
    except UnsupportedError as err:
        codes = {d.code for d in err.diagnostics}
        refused = True
    else:
        refused = False
    if refused:
        assert codes == {"FQ601"}
        return
    assert len(params) == len(set(params))
    for row in rows:
        assert params_match(params, row) == matches(expr, row)


def test_every_record_is_checked() -> None:
    # Exhaustive over the records of a small world, for a few accepted filters.
    rows: list[dict[str, str]] = [{}]
    for key in KEYS[:2]:
        rows = [r | extra for r in rows for extra in ({}, *({key: w} for w in WORDS))]
    for text in (
        "a IN ('x', 'y') AND NOT a != 'x' AND b == 'z'",
        "(a == 'x' OR a == 'y') AND (a == 'y' OR a == 'z')",
        "NOT (a != 'x' OR b NOT IN ('y', 'z'))",
    ):
        expr = parse(text)
        params = compile_params(expr)
        for row in rows:
            assert params_match(params, row) == matches(expr, row), (text, row)


# --- property: hostile values survive the URL ------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(string_values(), min_size=1, max_size=3))
def test_hostile_values_survive_the_url(values: list[str]) -> None:
    expr = And(
        In(Key("tag_name"), [String(v) for v in values]),
        Comparison(Key("device_os"), Op.EQ, String(values[0])),
    )
    endpoint = Endpoint.sessions(start_date="2022-01-01T04:00:00Z", end_date="2022-01-02T04:00:00Z")
    url = request_url(endpoint, expr)
    assert url.isascii()
    query = url.split("?", 1)[1]
    pairs = [
        (urllib.parse.unquote(k, errors="strict"), urllib.parse.unquote(v, errors="strict"))
        for k, v in (p.split("=", 1) for p in query.split("&"))
    ]
    assert pairs[:2] == [
        ("start_date", "2022-01-01T04:00:00Z"),
        ("end_date", "2022-01-02T04:00:00Z"),
    ]
    distinct = list(dict.fromkeys(values))
    assert pairs[2:] == [("tag_name", v) for v in distinct] + [("device_os", values[0])]
