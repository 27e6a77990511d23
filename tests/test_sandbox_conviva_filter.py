"""The sandbox's own reader of Conviva DPI Flow API filters: syntax, errors and meaning, and,
on random filters, agreement with flowql's own reading (the only place the two meet)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, TypeAlias

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import exprs, noisy_texts

from flowql.ast import Boolean, Comparison, Expr, In, Number, String, walk
from flowql.errors import FlowQLError
from flowql.sandbox import SAVED_FILTERS, Sandbox
from flowql.sandbox.conviva_filter import (
    MAX_DEPTH,
    Condition,
    FilterSyntaxError,
    Group,
    holds,
    keys,
    parse,
    predicate,
)
from flowql.targets.conviva_flow import compile_filter, read_filter
from flowql.targets.python import compile_predicate

Filter: TypeAlias = "Condition | Group"


def AND(*parts: Filter) -> Group:
    return Group("AND", parts)


def OR(*parts: Filter) -> Group:
    return Group("OR", parts)


A, B, C, D = (Condition(k, "==", "x") for k in "abcd")


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        # The guide's own examples.
        (
            "device_operating_system == 'Android'",
            Condition("device_operating_system", "==", "Android"),
        ),
        (
            "device_operating_system != 'Android'",
            Condition("device_operating_system", "!=", "Android"),
        ),
        (
            "(device_operating_system == 'Android' AND geo_country == 'Spain')",
            AND(
                Condition("device_operating_system", "==", "Android"),
                Condition("geo_country", "==", "Spain"),
            ),
        ),
        # Every operator.
        ("a == 'x'", Condition("a", "==", "x")),
        ("a != 'x'", Condition("a", "!=", "x")),
        ("a ~~ 'x'", Condition("a", "~~", "x")),
        ("a !~ 'x'", Condition("a", "!~", "x")),
        ("a == 'x' AND b == 'x'", AND(A, B)),
        ("a == 'x' OR b == 'x'", OR(A, B)),
        # Precedence: AND before OR, as in SQL; parentheses first.
        ("a == 'x' OR b == 'x' AND c == 'x'", OR(A, AND(B, C))),
        ("a == 'x' AND b == 'x' OR c == 'x'", OR(AND(A, B), C)),
        (
            "a == 'x' AND b == 'x' OR c == 'x' AND d == 'x'",
            OR(AND(A, B), AND(C, D)),
        ),
        ("(a == 'x' OR b == 'x') AND c == 'x'", AND(OR(A, B), C)),
        ("a == 'x' AND (b == 'x' OR c == 'x')", AND(A, OR(B, C))),
        # Groups of one kind merge; parentheses leave no trace.
        ("a == 'x' AND (b == 'x' AND c == 'x')", AND(A, B, C)),
        ("((a == 'x')) OR ((b == 'x' OR (c == 'x')))", OR(A, B, C)),
        ("a == 'x' AND b == 'x' AND c == 'x' AND d == 'x'", AND(A, B, C, D)),
        # Keywords in any case; white space optional, and any of space, tab, line break.
        ("a == 'x' and b == 'x' Or c == 'x'", OR(AND(A, B), C)),
        ("a == 'x' aNd b == 'x'", AND(A, B)),
        ("a=='x'AND(b=='x')", AND(A, B)),
        ("\ta ==\n'x'\r\nOR\fb\v==  'x'  ", OR(A, B)),
        # Values: anything between single quotes, three escapes.
        ("a == 'it\\'s'", Condition("a", "==", "it's")),
        ("a == 'C:\\\\temp'", Condition("a", "==", "C:\\temp")),
        ("a == 'say \\\"hi\\\"'", Condition("a", "==", 'say "hi"')),
        ("a == 'say \"hi\"'", Condition("a", "==", 'say "hi"')),
        ("a == ''", Condition("a", "==", "")),
        ("a == ' AND b == '", Condition("a", "==", " AND b == ")),
        (
            "a == '(x) # %&+= \u00e9 \U0001f600'",
            Condition("a", "==", "(x) # %&+= \u00e9 \U0001f600"),
        ),
        ("a == 'line\nbreak'", Condition("a", "==", "line\nbreak")),
        # Keys: letters, digits, _ and -, dotted parts; a keyword inside a key is a key.
        ("tag_specialContentId == 'x'", Condition("tag_specialContentId", "==", "x")),
        ("android == 'x'", Condition("android", "==", "x")),
        (
            "order_id == 'x' OR in_stock == 'y'",
            OR(Condition("order_id", "==", "x"), Condition("in_stock", "==", "y")),
        ),
        ("_a-b.c_1 == 'x'", Condition("_a-b.c_1", "==", "x")),
    ],
)
def test_reads(text: str, tree: Filter) -> None:
    assert parse(text) == tree


def test_the_nesting_limit() -> None:
    deepest = "(" * MAX_DEPTH + "a == 'x'" + ")" * MAX_DEPTH
    assert parse(deepest) == A
    with pytest.raises(FilterSyntaxError) as caught:
        parse("(" + deepest + ")")
    assert "deeper than 100" in caught.value.message
    assert caught.value.position == MAX_DEPTH


def test_a_long_chain_reads_without_recursion() -> None:
    # A URL of 4K characters holds a few hundred comparisons; AND and OR chains are loops.
    text = " OR ".join(f"geo_city == 'City {i}'" for i in range(2000))
    tree = parse(text)
    assert isinstance(tree, Group)
    assert len(tree.parts) == 2000
    assert holds(tree, {"geo_city": "City 1999"})


@pytest.mark.parametrize(
    ("text", "says", "column"),
    [
        ("", "the filter is empty", 1),
        (" \t ", "the filter is empty", 1),
        ("geo_country = 'Spain'", "a single '=' is not an operator", 13),
        ("geo_country <> 'Spain'", "'<>' is not an operator: write '!='", 13),
        ("n > '3'", "'>' is not an operator", 3),
        ("a == 'x' && b == 'y'", "'&&' is not an operator: write AND", 10),
        ("a == 'x' || b == 'y'", "'||' is not an operator: write OR", 10),
        ("a ! 'x'", "'!' is not an operator", 3),
        ("a ~ 'x'", "'~' is not an operator", 3),
        ("NOT isp == 'BT'", "NOT is not part of the Flow API filter syntax", 1),
        ("isp NOT ~~ 'BT'", "NOT is not part of the Flow API filter syntax: write != or !~", 5),
        (
            "isp IN ('BT', 'EE')",
            "IN is not part of the Flow API filter syntax: write isp == 'x' OR",
            5,
        ),
        ("isp not in ('BT')", "NOT IN is not part of the Flow API filter syntax", 5),
        ("isp LIKE '%BT%'", "LIKE is not part of the Flow API filter syntax: write ~~", 5),
        ('isp == "BT"', "single quotes ('...'), not double quotes", 8),
        ("isp == \u2018BT\u2019", "typographic quote", 8),
        ("isp == BT", "the value BT must be in single quotes: 'BT'", 8),
        ("asn == 2856", "the value 2856 must be in single quotes: '2856'", 8),
        ("asn == -1.5e3", "the value -1.5e3 must be in single quotes", 8),
        ("ok == true", "the value true must be in single quotes: 'true'", 7),
        ("isp == 'BT", "the value is never closed", 8),
        ("isp == 'B\\T'", "'\\T' is not an escape the filter syntax has", 10),
        ("isp == 'BT\\", "the filter ends inside a value, after a backslash", 11),
        ("isp == 'it''s'", "a quote inside a value is written \\', not ''", 11),
        ("isp == 'BT' 'EE'", "expected AND, OR or the end of the filter after a condition", 13),
        ("isp == 'BT' cdn == 'x'", "found the key cdn", 13),
        ("isp == 'BT' # comment", "a filter has no comments", 13),
        ("isp == 'BT', cdn == 'x'", "combine conditions with AND or OR", 12),
        ("isp == 'BT' AND", "the filter ends where a condition should be", 16),
        ("isp == 'BT' AND OR cdn == 'x'", "expected a dimension key, found OR", 17),
        ("isp ==", "the filter ends where a quoted value should be", 7),
        ("isp", "expected an operator (==, !=, ~~, !~) after the key 'isp'", 4),
        ("'BT' == isp", "a condition starts with the dimension key, not the value 'BT'", 1),
        ("and == 'x'", "expected a dimension key, found AND", 1),
        ("a. == 'x'", "'a.' is not a dimension key", 1),
        ("a..b == 'x'", "'a..b' is not a dimension key", 1),
        ("(isp == 'BT'", "the '(' at character 1 is never closed", 13),
        ("(isp == 'BT' cdn", "expected AND, OR or the end of the filter", 14),
        ("isp == 'BT')", "this ')' has no '(' to close", 12),
        ("()", "expected a dimension key, found ')'", 2),
        ("isp == 'BT' @", "unexpected character '@'", 13),
        ("isp\u00a0== 'BT'", "unexpected character '\\xa0'", 4),
    ],
)
def test_errors_say_what_and_where(text: str, says: str, column: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert says in caught.value.message
    assert caught.value.where == f"column {column}"
    assert caught.value.position == column - 1
    assert str(caught.value) == f"{caught.value.message} (at column {column})"


def test_the_first_error_is_the_one_reported() -> None:
    # The reader reads one token ahead: a later stray character does not hide an earlier error.
    with pytest.raises(FilterSyntaxError) as caught:
        parse("NOT a == 'x' # and a comment")
    assert caught.value.message.startswith("NOT")


def test_a_filter_of_several_lines_names_the_line() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse("a == 'x'\nAND b = 'y'")
    assert caught.value.where == "line 2, column 7"
    assert caught.value.position == 15


def test_keys_in_order_of_first_use() -> None:
    assert keys(parse("b == 'x' OR (a ~~ 'y' AND b != 'z') OR c !~ 'w'")) == ["b", "a", "c"]


# --- meaning ------------------------------------------------------------------------------------


RECORD = {"geo_country": "Spain", "isp": "Movistar", "city": "S\u00e3o Paulo", "empty": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("geo_country == 'Spain'", True),
        ("geo_country == 'spain'", False),  # case-sensitive
        ("geo_country == 'Spai'", False),  # whole value
        ("geo_country != 'Spain'", False),
        ("geo_country != 'France'", True),
        ("isp ~~ 'vist'", True),
        ("isp ~~ 'VIST'", False),
        ("isp ~~ ''", True),
        ("isp !~ 'vist'", False),
        ("isp !~ 'BT'", True),
        ("city == 'S\u00e3o Paulo'", True),
        ("empty == ''", True),
        # A key the record does not have equals nothing and contains nothing.
        ("missing == 'x'", False),
        ("missing == ''", False),
        ("missing ~~ ''", False),
        ("missing != 'x'", True),
        ("missing !~ 'x'", True),
        # AND before OR.
        ("isp == 'BT' AND geo_country == 'Spain' OR isp ~~ 'Mov'", True),
        ("isp == 'BT' AND (geo_country == 'Spain' OR isp ~~ 'Mov')", False),
        ("geo_country == 'Spain' OR isp == 'x' AND isp == 'y'", True),
        ("(geo_country == 'Spain' OR isp == 'x') AND isp == 'y'", False),
    ],
)
def test_meaning(text: str, expected: bool) -> None:
    tree = parse(text)
    assert holds(tree, RECORD) is expected
    assert predicate(tree)(RECORD) is expected


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        # Session records hold statuses, numbers and lists; they compare as the Sessions
        # parameters write them.
        ("is_ended == 'true'", {"is_ended": True}, True),
        ("is_ended == 'false'", {"is_ended": True}, False),
        ("is_ended != 'true'", {"is_ended": False}, True),
        ("asn == '2856'", {"asn": 2856}, True),
        ("cdn == 'Fastly'", {"cdn": ["Akamai", "Fastly"]}, True),
        ("cdn != 'Fastly'", {"cdn": ["Akamai", "Fastly"]}, False),
        ("cdn ~~ 'ast'", {"cdn": ["Akamai", "Fastly"]}, True),
        ("cdn !~ 'ast'", {"cdn": ["Akamai"]}, True),
        ("cdn == 'Fastly'", {"cdn": []}, False),
        ("tag == 'x'", {"tag": None}, False),
        ("tag != 'x'", {"tag": None}, True),
    ],
)
def test_meaning_on_values_that_are_not_text(
    text: str, record: dict[str, object], expected: bool
) -> None:
    tree = parse(text)
    assert holds(tree, record) is expected
    assert predicate(tree)(record) is expected


@pytest.mark.parametrize("filter_id", sorted(SAVED_FILTERS))
def test_the_saved_filters_are_flow_filters_over_session_fields(filter_id: str) -> None:
    from flowql.model import demo_sessions_model

    known = set(demo_sessions_model().dimensions()) | {"tag_subscription"}
    assert set(keys(parse(SAVED_FILTERS[filter_id]))) <= known


# --- through the sandbox ------------------------------------------------------------------------

NOW = datetime(2025, 8, 5, 19, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        Sandbox(seed=0, now=NOW, rate_limits=False) as sb,
        httpx.Client(base_url=sb.url, auth=("client", "sandbox"), timeout=30) as c,
    ):
        yield c


def answer(client: httpx.Client, text: str) -> tuple[int, Any]:
    response = client.get("/flow-data/real-time-metrics/825/PT5M", params={"filter": text})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("geo_country = 'Spain'", 400, "invalid filter at column 13: a single '=' is not"),
        ("a == 'x'\nOR b == y", 400, "invalid filter at line 2, column 9: the value y must be"),
        ("", 400, "the filter is empty"),
        ("geo_country == 'Spain' OR cdn == 'Akamai'", 422, "flow 825 (Login Process) has no "),
    ],
)
def test_errors_are_the_sandbox_s_answers(
    client: httpx.Client, text: str, status: int, message: str
) -> None:
    got, body = answer(client, text)
    assert got == status
    assert body["status"] == status
    assert body["message"].startswith(message)


def test_a_good_filter_is_answered(client: httpx.Client) -> None:
    got, body = answer(client, "geo_country == 'Spain' or geo_country != 'Spain'")
    assert got == 200
    everything = client.get("/flow-data/real-time-metrics/825/PT5M").json()
    assert body["aggregated_metric_data"] == everything["aggregated_metric_data"]


# --- properties ---------------------------------------------------------------------------------

_KEYS = ["geo_country", "isp", "a", "a.b", "x-y"]
_VALUES = ["", "Spain", "Sp", "pain", "it's", "\\", '"', "a\\'b", "AND", "S\u00e3o", " "]


def _leaf(key: str, op: str, value: str) -> Condition:
    return Condition(key, op, value)


_trees: st.SearchStrategy[Filter] = st.recursive(
    st.builds(
        _leaf,
        st.sampled_from(_KEYS),
        st.sampled_from(["==", "!=", "~~", "!~"]),
        st.sampled_from(_VALUES),
    ),
    lambda inner: st.builds(
        Group, st.sampled_from(["AND", "OR"]), st.lists(inner, min_size=2, max_size=3).map(tuple)
    ),
    max_leaves=8,
)


def _normal(tree: Filter) -> Filter:
    """``tree`` with same-kind groups merged, as :func:`parse` returns it."""
    if isinstance(tree, Condition):
        return tree
    parts: list[Filter] = []
    for part in map(_normal, tree.parts):
        if isinstance(part, Group) and part.kind == tree.kind:
            parts.extend(part.parts)
        else:
            parts.append(part)
    return Group(tree.kind, tuple(parts))


def _write(tree: Filter, rng: random.Random, parent: str | None = None) -> str:
    """One way of writing ``tree``: any keyword case, any white space, extra parentheses."""

    def gap() -> str:
        return rng.choice(["", " ", "  ", "\t", "\n"])

    if isinstance(tree, Condition):
        value = tree.value.replace("\\", "\\\\").replace("'", "\\'")
        if rng.random() < 0.3:
            value = value.replace('"', '\\"')
        text = f"{tree.key}{gap()}{tree.op}{gap()}'{value}'"
    else:
        word = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in tree.kind)
        text = f" {word} ".join(_write(part, rng, tree.kind) for part in tree.parts)
        needs = parent is not None and parent != tree.kind
        if needs or rng.random() < 0.2:
            text = f"({gap()}{text}{gap()})"
    return gap() + text + gap() if rng.random() < 0.3 else text


_records = st.lists(
    st.dictionaries(st.sampled_from(_KEYS), st.sampled_from([*_VALUES, "Spain!", "xSpx"])),
    min_size=1,
    max_size=6,
)


@given(_trees, st.randoms(use_true_random=False))
def test_any_way_of_writing_a_filter_reads_back(tree: Filter, rng: random.Random) -> None:
    assert parse(_write(tree, rng)) == _normal(tree)


@given(_trees, st.randoms(use_true_random=False), _records)
def test_random_filters_mean_what_flowql_says_they_mean(
    tree: Filter, rng: random.Random, records: list[dict[str, str]]
) -> None:
    # The two readings meet only here: flowql's parser and python target on the same text.
    text = _write(tree, rng)
    theirs = compile_predicate(read_filter(text))
    ours = predicate(parse(text))
    for record in records:
        assert ours(record) is theirs(record) is holds(tree, record), (text, record)


def _text_only(expr: Expr) -> bool:
    return not any(isinstance(node, (Number, Boolean)) for node in walk(expr))


def _values_of(expr: Expr) -> list[str]:
    return [node.value for node in walk(expr) if isinstance(node, String)]


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)
@given(exprs(max_depth=3).filter(_text_only), st.data())
def test_what_the_client_sends_means_on_the_sandbox_what_flowql_means(
    expr: Expr, data: st.DataObject
) -> None:
    # The conviva-flow target's own output (IN lowered, NOT pushed down, escapes), read by the
    # sandbox, against the python target on the original FlowQL tree.
    text, _ = compile_filter(expr)
    ours = predicate(parse(text))
    theirs = compile_predicate(expr)
    names = sorted({n.key.name for n in walk(expr) if isinstance(n, (Comparison, In))})
    values = _values_of(expr)
    texts = st.sampled_from(values) | st.text(max_size=4)
    texts = st.one_of(texts, st.builds(str.__add__, texts, texts))
    for record in data.draw(st.lists(st.dictionaries(st.sampled_from(names), texts), max_size=6)):
        assert ours(record) is theirs(record), (text, record)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(noisy_texts())
def test_the_two_readers_accept_the_same_filters(text: str) -> None:
    # Any text: the sandbox answers it (a tree or a FilterSyntaxError, never anything else),
    # and it refuses exactly what flowql's reader of Flow filters refuses.
    try:
        ours: Filter | None = parse(text)
    except FilterSyntaxError:
        ours = None
    try:
        read_filter(text)
        theirs = True
    except FlowQLError:
        theirs = False
    assert (ours is not None) is theirs, text
