"""Hostile trees built in code: node fields FlowQL text cannot hold are refused where the node
is made (FQ020), text targets refuse values with no UTF-8 form (FQ601), and a wide AND compiles
for conviva-sessions in linear work."""

from __future__ import annotations

import pytest
from hostile import failed, tried
from hypothesis import given
from strategies import exprs

import flowql
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Not, Number, Op, Or, String
from flowql.errors import FlowQLError, NodeError

AREA = "trees"

BAD_KEYS = [
    "x) OR (y",
    "a b",
    "and",
    "AND",
    "Or",
    "not",
    "In",
    "TRUE",
    "false",
    "a\nb",
    "a\tb",
    "",
    "1a",
    "-a",
    "a.",
    ".a",
    "a..b",
    "a.1b",
    "é",
    "a'",
    'a"',
    "a#b",
    "a==b",
    "ﬁ",
    "a\x00",
]


@pytest.mark.parametrize("name", BAD_KEYS)
def test_a_key_the_grammar_cannot_read_is_refused_where_it_is_made(name: str) -> None:
    tried(AREA)
    with pytest.raises(NodeError) as caught:
        Key(name)
    assert caught.value.code == "FQ020"
    assert caught.value.hint
    assert isinstance(caught.value, FlowQLError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["android", "in_stock", "order-id", "x.and", "and.x", "_", "notx"])
def test_keys_that_only_look_like_keywords_are_keys(name: str) -> None:
    tried(AREA)
    tree = Comparison(Key(name), Op.EQ, String("v"))
    assert flowql.parse(flowql.format(tree)) == tree


def test_injection_through_a_key_never_reaches_a_writer() -> None:
    tried(AREA)
    with pytest.raises(NodeError):
        Comparison(Key("x) OR (y"), Op.EQ, String("v"))


BAD_FIELDS: list[tuple[str, object]] = [
    ("string-of-int", lambda: String(5)),  # type: ignore[arg-type]
    ("number-of-str", lambda: Number("5")),  # type: ignore[arg-type]
    ("number-of-bool", lambda: Number(True)),
    ("number-nan", lambda: Number(float("nan"))),
    ("number-huge", lambda: Number(10**5000)),
    ("boolean-of-int", lambda: Boolean(1)),  # type: ignore[arg-type]
    ("op-unknown", lambda: Comparison(Key("a"), "<", String("x"))),  # type: ignore[arg-type]
    ("op-none", lambda: Comparison(Key("a"), None, String("x"))),  # type: ignore[arg-type]
    ("key-of-str", lambda: Comparison("a", Op.EQ, String("x"))),  # type: ignore[arg-type]
    ("value-raw", lambda: Comparison(Key("a"), Op.EQ, "x")),  # type: ignore[arg-type]
    ("in-empty", lambda: In(Key("a"), [])),
    ("in-a-str", lambda: In(Key("a"), "xy")),  # type: ignore[arg-type]
    ("in-raw-values", lambda: In(Key("a"), ["x"])),  # type: ignore[list-item]
    ("in-negated-str", lambda: In(Key("a"), [String("x")], "no")),  # type: ignore[arg-type]
    ("not-of-key", lambda: Not(Key("a"))),  # type: ignore[arg-type]
    ("and-one", lambda: And(Comparison(Key("a"), Op.EQ, String("x")))),
    ("or-of-value", lambda: Or(String("x"), String("y"))),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("name", "build"), BAD_FIELDS, ids=[n for n, _ in BAD_FIELDS])
def test_every_node_field_is_checked_with_flowqls_error(name: str, build: object) -> None:
    tried(AREA)
    assert callable(build)
    with pytest.raises(NodeError) as caught:
        build()
    assert caught.value.code == "FQ020"


def test_fq020_is_registered() -> None:
    from flowql.codes import CODES

    assert CODES["FQ020"].name == "invalid-node"


@given(exprs())
def test_every_tree_the_ast_accepts_formats_to_text_that_parses_back_to_it(tree: Expr) -> None:
    tried(AREA)
    assert flowql.parse(flowql.format(tree)) == tree


SURROGATES = ["\ud800", "x\udfff", "\udc00y", "ok \ud83d"]
TEXT_TARGETS = ["conviva-flow", "conviva-sessions", "klaviyo", "klaviyo-flow-report"]


@pytest.mark.parametrize("target", TEXT_TARGETS)
@pytest.mark.parametrize("text", SURROGATES)
def test_a_lone_surrogate_is_refused_by_every_text_target(text: str, target: str) -> None:
    tried(AREA)
    source = f"flow_id == 'T7K2j8' AND send_channel == '{text}'"
    with pytest.raises(flowql.UnsupportedError) as caught:
        flowql.compile(source, target)
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "FQ601"
    assert "surrogate" in diagnostic.message
    assert diagnostic.span is not None
    assert source[diagnostic.span.start : diagnostic.span.end] == f"'{text}'"


def test_a_sessions_value_that_compiles_is_read_back_by_flowqls_own_reader() -> None:
    from flowql.targets.conviva_sessions import read_query
    from flowql.urls import encode_query

    tried(AREA)
    result = flowql.compile("k == '\U0001f600 x'", "conviva-sessions")
    assert result.params is not None
    query = encode_query(list(result.params))
    assert read_query(query) == flowql.parse("k == '\U0001f600 x'")


class _Counted(str):
    """A key name that counts its comparisons: the work the compiler does per key."""

    calls = 0

    def __eq__(self, other: object) -> bool:
        _Counted.calls += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _comparisons_for(count: int) -> int:
    _Counted.calls = 0
    tree = And(*[Comparison(Key(_Counted(f"k{i}")), Op.EQ, String("v")) for i in range(count)])
    result = flowql.compile(tree, "conviva-sessions")
    assert result.params is not None
    assert len(result.params) == count
    return _Counted.calls


def test_a_wide_and_of_distinct_keys_compiles_in_linear_work() -> None:
    tried(AREA)
    # It compared each key with every key before it: 124,750 comparisons for 500 keys.
    small, large = _comparisons_for(500), _comparisons_for(2000)
    if not large <= 4 * max(small, 500):
        failed(AREA)
    assert large <= 4 * max(small, 500), (small, large)


def test_fifty_thousand_distinct_keys_compile_for_sessions() -> None:
    tried(AREA)
    tree = And(*[Comparison(Key(f"k{i}"), Op.EQ, String("v")) for i in range(50_000)])
    result = flowql.compile(tree, "conviva-sessions")
    assert result.params is not None
    assert len(result.params) == 50_000
