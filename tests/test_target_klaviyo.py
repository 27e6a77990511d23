"""Tests for the general Klaviyo target (flowql.targets.klaviyo), in the style of sqlglot's
dialect tests: the expected Klaviyo text for each construct, the expected refusal for each
construct Klaviyo cannot express, the reader on each documented operator, malformed text with
positions, and properties: what is written reads back, through a JSON body or a GET query."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import exprs, keys, string_values, values

from flowql import parse
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Not, Number, Op, Or, String, Value
from flowql.errors import FlowQLError, LimitError, NodeError, ParseError, UnsupportedError
from flowql.targets.klaviyo import (
    MAX_DEPTH,
    MAX_LIST_ITEMS,
    compile_filter,
    normalise,
    read_filter,
    render_value,
)

# --- writing: expected output, construct by construct ------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("flow_id == 'T7K2j8'", 'equals(flow_id,"T7K2j8")'),
        ("integration.name == 'YourIntegration'", 'equals(integration.name,"YourIntegration")'),
        ("flow_name ~~ 'Welcome'", 'contains(flow_name,"Welcome")'),
        ("send_channel IN ('email', 'sms')", 'any(send_channel,["email","sms"])'),
        ("k IN ('a')", 'equals(k,"a")'),
        ("k IN ('a', 'b', 'a')", 'any(k,["a","b"])'),
        ("k == 'a' OR k == 'b'", 'any(k,["a","b"])'),
        ("k IN ('a', 'b') OR k == 'c'", 'any(k,["a","b","c"])'),
        ("k == 'a' OR k == 'a'", 'equals(k,"a")'),
        ("a == 'x' AND b == 'y'", 'and(equals(a,"x"),equals(b,"y"))'),
        (
            "a == 'x' AND (b == 'y' AND c ~~ 'z')",
            'and(equals(a,"x"),equals(b,"y"),contains(c,"z"))',
        ),
        (
            "flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')",
            'and(equals(flow_id,"T7K2j8"),any(send_channel,["email","sms"]))',
        ),
        ("a == 'x' AND (k == '1' OR k == '2')", 'and(equals(a,"x"),any(k,["1","2"]))'),
        # NOT pushed down, when it leaves something Klaviyo can say.
        ("NOT k != 'a'", 'equals(k,"a")'),
        ("NOT k !~ 'a'", 'contains(k,"a")'),
        ("NOT NOT k == 'a'", 'equals(k,"a")'),
        ("NOT k NOT IN ('a', 'b')", 'any(k,["a","b"])'),
        ("NOT (k != 'a' AND k != 'b')", 'any(k,["a","b"])'),
        ("NOT (a != 'x' OR b !~ 'y')", 'and(equals(a,"x"),contains(b,"y"))'),
        # Values.
        ("k == true", "equals(k,true)"),
        ("k == false", "equals(k,false)"),
        ("k == 7", "equals(k,7)"),
        ("k == -7", "equals(k,-7)"),
        ("k == 2.5", "equals(k,2.5)"),
        ("k == 1e16", "equals(k,1e+16)"),
        ("k == 1.5e-7", "equals(k,1.5e-07)"),
        ("k IN (1, 1.0, true, '1')", 'any(k,[1,1.0,true,"1"])'),
        ("k == ''", 'equals(k,"")'),
        ("k == 'it\\'s'", 'equals(k,"it\'s")'),
        ("k == 'say \"hi\"'", 'equals(k,"say \\"hi\\"")'),
        ("k == 'a\\\\b'", 'equals(k,"a\\\\b")'),
        ("k == 'a, b (c) [d]'", 'equals(k,"a, b (c) [d]")'),
    ],
)
def test_compile(source: str, expected: str) -> None:
    assert compile_filter(parse(source)) == expected


def test_render_value() -> None:
    assert render_value(String('"\\')) == '"\\"\\\\"'
    assert render_value(Boolean(True)) == "true"
    assert render_value(Number(10**20)) == "100000000000000000000"
    assert render_value(Number(-0.0)) == "-0.0"


def test_list_of_100_values_is_sent() -> None:
    expr = In(Key("k"), [Number(i) for i in range(MAX_LIST_ITEMS)])
    text = compile_filter(expr)
    assert text == "any(k,[" + ",".join(str(i) for i in range(MAX_LIST_ITEMS)) + "])"


def test_no_whitespace_outside_strings() -> None:
    text = compile_filter(parse("a == 'x y' AND b IN ('p q', 'r') AND c ~~ ' '"))
    assert text == 'and(equals(a,"x y"),any(b,["p q","r"]),contains(c," "))'


# --- refusals: FQ601 -----------------------------------------------------------------------------


def refusal(text: str) -> UnsupportedError:
    with pytest.raises(UnsupportedError) as caught:
        compile_filter(parse(text))
    return caught.value


def spans(err: FlowQLError, text: str) -> list[str]:
    return [text[d.span.start : d.span.end] for d in err.diagnostics if d.span]


@pytest.mark.parametrize(
    ("source", "construct", "advice"),
    [
        ("k != 'a'", "`!=` (does not equal)", "python target"),
        ("k !~ 'a'", "`!~` (does not contain)", "python target"),
        ("k NOT IN ('a', 'b')", "`NOT IN`", "python target"),
        ("NOT k == 'a'", "`NOT` before `k == 'a'` (which means k != 'a')", "post-filter"),
        ("NOT k ~~ 'a'", "`NOT` before `k ~~ 'a'` (which means k !~ 'a')", "post-filter"),
        ("NOT k IN ('a', 'b')", "(which means k NOT IN (...))", "post-filter"),
        ("k == 'a' OR j == 'b'", "an OR of anything but `==` on one key", "split the query"),
        ("k ~~ 'a' OR k ~~ 'b'", "an OR of anything but `==` on one key", "split the query"),
        ("NOT (k == 'a' AND j == 'b')", "`NOT` before `k == 'a' AND j == 'b'`, an OR", "split"),
        ("(a == '1' AND b == '2') OR c == '3'", "an OR", "python target"),
    ],
)
def test_refused(source: str, construct: str, advice: str) -> None:
    err = refusal(source)
    assert {d.code for d in err.diagnostics} == {"FQ601"}
    assert all("klaviyo" in d.message for d in err.diagnostics)
    (found,) = [d for d in err.diagnostics if construct in d.message]
    assert found.hint is not None
    assert advice in found.hint


def test_never_writes_or_or_not() -> None:
    for source in ("k == 'a' OR j == 'b'", "NOT k == 'a'", "k != 'a'"):
        with pytest.raises(UnsupportedError):
            compile_filter(parse(source))


def test_list_over_100_values_is_refused() -> None:
    values_ = ", ".join(f"'{i}'" for i in range(MAX_LIST_ITEMS + 1))
    text = f"a == 'x' AND k IN ({values_})"
    err = refusal(text)
    (diagnostic,) = err.diagnostics
    assert "list of 101 values" in diagnostic.message
    assert diagnostic.hint is not None
    assert "split the query" in diagnostic.hint
    assert spans(err, text) == [f"k IN ({values_})"]
    # Repeated values count once.
    repeated = ", ".join(["'a'"] * 150)
    assert compile_filter(parse(f"k IN ({repeated})")) == 'equals(k,"a")'


def test_key_that_is_not_a_field_name_is_refused() -> None:
    # A key built in code could otherwise inject syntax: equals(a,b,"x"). The AST refuses it
    # where it is made (FQ020), before any target sees it.
    with pytest.raises(NodeError) as caught:
        compile_filter(Comparison(Key("a,b"), Op.EQ, String("x")))
    assert caught.value.code == "FQ020"


def test_refusal_spans() -> None:
    assert spans(refusal("k != 'a'"), "k != 'a'") == ["k != 'a'"]
    text = "x == 'y' AND NOT k IN ('a', 'b')"
    assert spans(refusal(text), text) == ["k IN ('a', 'b')"]
    text = "x == 'y' AND (k == 'a' OR j == 'b')"
    assert spans(refusal(text), text) == ["k == 'a' OR j == 'b'"]


def test_not_in_is_one_problem_not_one_per_value() -> None:
    assert len(refusal("k NOT IN ('a', 'b', 'c')").diagnostics) == 1


def test_every_problem_is_collected() -> None:
    text = (
        "a != 'x' AND b ~~ 'y' AND (c == '1' OR d == '2') AND e NOT IN ('q', 'r') "
        "AND f == 'ok' AND g !~ 'z' AND NOT h == 'w' AND (k != 'm' OR k == 'n')"
    )
    err = refusal(text)
    assert [d.code for d in err.diagnostics] == ["FQ601"] * 7
    assert spans(err, text) == [
        "a != 'x'",
        "c == '1' OR d == '2'",
        "e NOT IN ('q', 'r')",
        "g !~ 'z'",
        "h == 'w'",
        "k != 'm' OR k == 'n'",
        "k != 'm'",
    ]
    starts = [d.span.start for d in err.diagnostics if d.span]
    assert starts == sorted(starts)


# --- reading -------------------------------------------------------------------------------------


def eq(key: str, value: Value) -> Comparison:
    return Comparison(Key(key), Op.EQ, value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('equals(flow_id,"T7K2j8")', eq("flow_id", String("T7K2j8"))),
        ("equals(flow_id,'T7K2j8')", eq("flow_id", String("T7K2j8"))),
        ('equals(integration.name,"X")', eq("integration.name", String("X"))),
        ("equals(k,true)", eq("k", Boolean(True))),
        ("equals(k,false)", eq("k", Boolean(False))),
        ("equals(k,42)", eq("k", Number(42))),
        ("equals(k,-4.5)", eq("k", Number(-4.5))),
        ("equals(k,1e+16)", eq("k", Number(1e16))),
        ("equals(k,007)", eq("k", Number(7))),
        ('contains(k,"x")', Comparison(Key("k"), Op.CONTAINS, String("x"))),
        (
            "any(k,[\"a\",'b',1,true])",
            In(Key("k"), [String("a"), String("b"), Number(1), Boolean(True)]),
        ),
        ('any(k,["a"])', In(Key("k"), [String("a")])),
        # The list operators: on a list field FlowQL's == and IN test the items, as these do.
        ('contains-any(tag_name,["a","b"])', In(Key("tag_name"), [String("a"), String("b")])),
        (
            'contains-all(tag_name,["a","b"])',
            And(eq("tag_name", String("a")), eq("tag_name", String("b"))),
        ),
        ('contains-all(tag_name,["a"])', eq("tag_name", String("a"))),
        ("and(equals(a,1),equals(b,2))", And(eq("a", Number(1)), eq("b", Number(2)))),
        ("equals(a,1),equals(b,2)", And(eq("a", Number(1)), eq("b", Number(2)))),
        (
            "equals(a,1),and(equals(b,2),and(equals(c,3)))",
            And(eq("a", Number(1)), eq("b", Number(2)), eq("c", Number(3))),
        ),
        ("and(equals(a,1))", eq("a", Number(1))),
        # Escapes, both quote styles.
        ('equals(k,"a\\"b\\\\c\\\'d")', eq("k", String("a\"b\\c'd"))),
        ("equals(k,'a\\'b\"c')", eq("k", String("a'b\"c"))),
        ('equals(k,"a b,c)(]")', eq("k", String("a b,c)(]"))),
        ('equals(k,"")', eq("k", String(""))),
    ],
)
def test_read(text: str, expected: Expr) -> None:
    assert read_filter(text) == expected


def test_read_spans_point_into_the_text() -> None:
    text = 'equals(flow_id,"T7K2j8"),any(send_channel,["email",\'sms\'])'
    expr = read_filter(text)
    assert isinstance(expr, And)
    assert expr.span is not None
    assert (expr.span.start, expr.span.end) == (0, len(text))
    first, second = expr.operands
    assert isinstance(first, Comparison)
    assert isinstance(second, In)
    shown = [
        text[n.span.start : n.span.end]
        for n in (first, first.key, first.value, second, second.key, *second.values)
        if n.span
    ]
    assert shown == [
        'equals(flow_id,"T7K2j8")',
        "flow_id",
        '"T7K2j8"',
        "any(send_channel,[\"email\",'sms'])",
        "send_channel",
        '"email"',
        "'sms'",
    ]


@pytest.mark.parametrize(
    ("text", "operator", "where"),
    [
        ("less-than(k,5)", "less-than()", "less-than(k,5)"),
        ("less-or-equal(k,5)", "less-or-equal()", "less-or-equal(k,5)"),
        ("greater-than(k,2024-01-01T00:00:00Z)", "greater-than()", None),
        ("greater-or-equal(k,1.5)", "greater-or-equal()", None),
        ('starts-with(k,"a")', "starts-with()", None),
        ('ends-with(k,"a")', "ends-with()", None),
        ("has(k)", "has()", "has(k)"),
        ("equals(k,null)", "the null null", "null"),
        ("equals(k,2024-05-08T00:00:00+00:00)", "the datetime", "2024-05-08T00:00:00+00:00"),
        ("any(k,[1,2024-05-08])", "the datetime 2024-05-08", "2024-05-08"),
    ],
)
def test_read_refuses_what_flowql_cannot_say(text: str, operator: str, where: str | None) -> None:
    with pytest.raises(UnsupportedError) as caught:
        read_filter(text)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "FQ601"
    assert operator in diagnostic.message
    assert diagnostic.hint
    assert spans(caught.value, text) == [where or text]
    assert caught.value.source == text


def test_read_collects_every_unsupported_operator() -> None:
    text = 'equals(a,1),less-than(b,2),and(has(c),starts-with(d,"x")),equals(e,null)'
    with pytest.raises(UnsupportedError) as caught:
        read_filter(text)
    assert spans(caught.value, text) == ["less-than(b,2)", "has(c)", 'starts-with(d,"x")', "null"]


@pytest.mark.parametrize(
    ("text", "code", "column", "message"),
    [
        ("", "FQ013", 1, "empty"),
        ("equals(k, 1)", "FQ004", 10, "whitespace"),
        (" equals(k,1)", "FQ004", 1, "whitespace"),
        ("equals(k,1) ", "FQ004", 12, "whitespace"),
        ("equals(k,abc)", "FQ009", 10, "'abc' is not a Klaviyo value"),
        ("equals(k,True)", "FQ009", 10, "'True'"),
        ("equals(k,12abc)", "FQ009", 10, "'12abc'"),
        ('equals(k,"abc', "FQ002", 10, "no closing quote"),
        ("equals(k,'abc\\'", "FQ002", 10, "no closing quote"),
        ('equals(k,"a\\nb")', "FQ003", 12, "\\n is not an escape"),
        ("equals(k,1", "FQ005", 11, "ends"),
        ("equals(k,1),", "FQ005", 13, "ends"),
        ("equals(k)", "FQ004", 9, "expected ','"),
        ("equals(k,1,2)", "FQ004", 11, "expected ')'"),
        ('equals(k,["a"])', "FQ004", 10, "takes one value, not a list"),
        ('any(k,"a")', "FQ004", 7, "takes a list"),
        ("any(k,[])", "FQ014", 7, "empty list"),
        ("any(k,[1,])", "FQ004", 10, "expected a value"),
        ('any(k,[["a"]])', "FQ004", 8, "not a list"),
        ("or(equals(a,1),equals(b,2))", "FQ004", 1, "'or' is not a Klaviyo filter operator"),
        ("not(equals(a,1))", "FQ004", 1, "'not' is not a Klaviyo filter operator"),
        ('Equals(k,"a")', "FQ004", 1, "not a Klaviyo filter operator"),
        ('equals("k","a")', "FQ004", 8, "expected a field name"),
        ('equals(k."a")', "FQ004", 9, "expected ','"),
        ('equals(k,"a"))', "FQ004", 14, "expected ',' or the end"),
        ('equals(k,"a")equals(j,"b")', "FQ004", 14, "expected ',' or the end"),
        ("and()", "FQ004", 5, "expected an operator"),
        ("equals(k,1e999)", "FQ015", 10, "out of range"),
        ("equals(k,1.", "FQ009", 10, "'1.'"),
        ("(equals(k,1))", "FQ004", 1, "expected an operator"),
    ],
)
def test_read_malformed(text: str, code: str, column: int, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_filter(text)
    err = caught.value
    assert err.code == code
    assert err.line == 1
    assert err.column == column
    assert message in err.message
    assert err.source == text


def test_read_nesting_limit() -> None:
    ok = "and(" * MAX_DEPTH + "equals(a,1)" + ")" * MAX_DEPTH
    assert read_filter(ok) == eq("a", Number(1))
    deep = "and(" * (MAX_DEPTH + 1) + "equals(a,1)" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(LimitError) as caught:
        read_filter(deep)
    assert caught.value.code == "FQ017"
    assert caught.value.column == 4 * MAX_DEPTH + 1
    # Far deeper input fails the same way, not with RecursionError.
    with pytest.raises(LimitError):
        read_filter("and(" * 100_000)


def test_read_positions_on_later_lines() -> None:
    text = 'equals(k,"a\nb"),equals(j,zz)'
    with pytest.raises(ParseError) as caught:
        read_filter(text)
    assert (caught.value.line, caught.value.column) == (2, 14)


def test_read_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        read_filter(b"equals(k,1)")  # type: ignore[arg-type]


# --- properties: round trips ---------------------------------------------------------------------

# Trees the target accepts: ANDs of ==, ~~, IN, ORs of == on one key, and NOTs that push down
# to those.
_eq_or_contains = st.builds(Comparison, keys(), st.sampled_from([Op.EQ, Op.CONTAINS]), values())
_negated_test = st.builds(
    Comparison, keys(), st.sampled_from([Op.NE, Op.NOT_CONTAINS]), values()
).map(Not)
_in = st.builds(In, keys(), st.lists(values(), min_size=1, max_size=5))
_negated_in = st.builds(In, keys(), st.lists(values(), min_size=1, max_size=5), st.just(True)).map(
    Not
)


@st.composite
def _one_key_or(draw: st.DrawFn) -> Expr:
    key = draw(keys())
    items = draw(st.lists(values(), min_size=2, max_size=5))
    return Or(*[Comparison(key, Op.EQ, v) for v in items])


_leaf: st.SearchStrategy[Expr] = st.one_of(
    _eq_or_contains, _negated_test, _in, _negated_in, _one_key_or()
)
accepted_exprs: st.SearchStrategy[Expr] = st.one_of(
    _leaf,
    _leaf.map(lambda e: Not(Not(e))),
    st.lists(_leaf, min_size=2, max_size=5).map(lambda ops: And(*ops)),
)


@given(accepted_exprs)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip(expr: Expr) -> None:
    text = compile_filter(expr)
    assert read_filter(text) == normalise(expr)
    # What is read back compiles to the same text: a fixed point.
    assert compile_filter(read_filter(text)) == text
    assert normalise(normalise(expr)) == normalise(expr)


@given(exprs(max_depth=3))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_expr_is_written_and_read_back_or_refused(expr: Expr) -> None:
    refused: UnsupportedError | None = None
    try:
        text = compile_filter(expr)
    except UnsupportedError as err:
        refused = err
    if refused is not None:
        assert {d.code for d in refused.diagnostics} == {"FQ601"}
        return
    assert read_filter(text) == normalise(expr)


@given(st.lists(string_values(), min_size=1, max_size=4), keys())
@settings(max_examples=200)
def test_hostile_values_survive_a_json_body(texts: list[str], key: Key) -> None:
    expr = (
        In(key, [String(t) for t in texts])
        if len(texts) > 1
        else Comparison(key, Op.EQ, String(texts[0]))
    )
    text = compile_filter(expr)
    body = json.dumps({"data": {"attributes": {"filter": text}}})
    received = json.loads(body)["data"]["attributes"]["filter"]
    assert read_filter(received) == normalise(expr)


_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@given(st.lists(string_values(), min_size=1, max_size=4), keys())
@settings(max_examples=200)
def test_hostile_values_survive_a_get_query(texts: list[str], key: Key) -> None:
    expr = And(
        *[Comparison(key, Op.CONTAINS, String(t)) for t in texts],
        Comparison(key, Op.EQ, String(texts[0])),
    )
    text = compile_filter(expr)
    encoded = urllib.parse.quote(text, safe="")
    # Nothing a query string could misread is left: only unreserved characters and %XX.
    assert set(encoded) <= _UNRESERVED | {"%"}
    sent = urllib.parse.unquote(encoded)
    assert read_filter(sent) == normalise(expr)


@pytest.mark.parametrize(
    "value",
    ['"', "'", "\\", '\\"', "%20", "a&b=c+d#e", "line\nbreak", "\u00e9\u4e2d\U0001f600", "\\'"],
)
def test_hostile_value_examples(value: str) -> None:
    expr = Comparison(Key("k"), Op.EQ, String(value))
    text = compile_filter(expr)
    assert read_filter(json.loads(json.dumps(text))) == expr
    assert read_filter(urllib.parse.unquote(urllib.parse.quote(text, safe=""))) == expr
    assert "+" not in urllib.parse.quote(text, safe="").replace("%2B", "")
