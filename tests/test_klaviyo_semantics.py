"""The Klaviyo targets mean what the FlowQL filter means.

The compiled Klaviyo filter text is read by a small evaluator written here from Klaviyo's
documented semantics (``equals``, ``any``, ``contains``, ``contains-any``, ``contains-all``,
``and``), independent of flowql's own Klaviyo reader, and compared on random records with
FlowQL's semantics (the ``python`` target): for every filter a target accepts, both agree on
every record. Every Klaviyo target is covered: the general one and each endpoint family, with
the report families' list fields (``tag_id``, ``tag_name``) holding lists in the records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import small_trees

import flowql
from flowql.ast import Boolean, Comparison, Expr, In, Key, Number, Op, String
from flowql.targets.klaviyo import read_filter
from flowql.targets.python import compile_predicate

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<word>[A-Za-z_][\w.-]*)|(?P<num>-?[0-9][0-9.eE+-]*)|(?P<punct>[(),\[\]]))'
)

_MISSING = object()


def _read(text: str) -> object:
    """Klaviyo filter text as nested tuples: ("and", [terms]) or (op, field, value)."""
    tokens = list(_TOKEN.finditer(text))
    assert sum(len(m.group()) for m in tokens) == len(text), text
    pos = 0

    def take() -> re.Match[str]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def literal() -> object:
        tok = take()
        if tok["str"]:
            return json.loads(tok["str"])
        if tok["num"]:
            return json.loads(tok["num"])
        if tok["word"] in ("true", "false"):
            return tok["word"] == "true"
        assert tok["punct"] == "[", text
        items = []
        while tokens[pos]["punct"] != "]":
            items.append(literal())
            if tokens[pos]["punct"] == ",":
                take()
        take()
        return items

    def term() -> object:
        op = take()["word"]
        assert take()["punct"] == "("
        if op == "and":
            parts = [term()]
            while take()["punct"] == ",":
                parts.append(term())
            return ("and", parts)
        field = take()["word"]
        assert take()["punct"] == ","
        value = literal()
        assert take()["punct"] == ")"
        return (op, field, value)

    result = term()
    assert pos == len(tokens), text
    return result


def _same(record_value: object, value: object) -> bool:
    # Klaviyo compares typed JSON values: the string "1" is not the number 1, true is not 1.
    if isinstance(record_value, bool) or isinstance(value, bool):
        return type(record_value) is type(value) and record_value == value
    return (type(record_value) is type(value) and record_value == value) or (
        isinstance(record_value, (int, float))
        and isinstance(value, (int, float))
        and record_value == value
    )


def _holds(term: Any, record: Mapping[str, object]) -> bool:
    op = term[0]
    if op == "and":
        return all(_holds(t, record) for t in term[1])
    _, field, value = term
    got = record.get(field, _MISSING)
    if got is _MISSING:
        return False
    if isinstance(got, list):
        # A list field: contains-any holds when the list has one of the items, contains-all
        # when it has every one. (The targets send nothing else for list fields.)
        if op == "contains-any":
            return any(_same(item, v) for item in got for v in value)
        if op == "contains-all":
            return all(any(_same(item, v) for item in got) for v in value)
        raise AssertionError(f"unexpected operator {op} on a list field")
    if op == "equals":
        return _same(got, value)
    if op in ("any", "contains-any"):
        return any(_same(got, v) for v in value)
    if op == "contains":
        return isinstance(got, str) and isinstance(value, str) and value in got
    raise AssertionError(f"unexpected operator {op}")


_VALUES = ["x", "y", "xy", "", 1, True]


def _value(v: object) -> String | Number | Boolean:
    if isinstance(v, bool):
        return Boolean(v)
    if isinstance(v, int):
        return Number(v)
    assert isinstance(v, str)
    return String(v)


def _leaves(keys: list[str], *, text_only: bool) -> st.SearchStrategy[Expr]:
    key = st.sampled_from(keys).map(Key)
    value = st.sampled_from([v for v in _VALUES if isinstance(v, str)] if text_only else _VALUES)
    values = value.map(_value)
    comparison = st.builds(Comparison, key, st.sampled_from(list(Op)), values)
    membership = st.builds(In, key, st.lists(values, min_size=1, max_size=3), st.booleans())
    return st.one_of(comparison, membership)


def _exprs(keys: list[str], *, text_only: bool = False) -> st.SearchStrategy[Expr]:
    # The endpoint families take text values only: generating others would only be refused.
    return small_trees(_leaves(keys, text_only=text_only), max_leaves=5)


_LIST_FIELDS = frozenset({"tag_id", "tag_name"})


def _records(keys: list[str]) -> st.SearchStrategy[dict[str, object]]:
    scalar = st.sampled_from(_VALUES)
    items = st.lists(st.sampled_from(["x", "y", "xy", ""]), max_size=3)
    entries = [
        st.tuples(st.just(k), items if k in _LIST_FIELDS else scalar)
        for k in keys  # one strategy per key, so a list field always holds a list
    ]
    return st.lists(st.one_of(entries), max_size=len(keys)).map(dict)


def _agree(target: str, expr: Expr, records: Sequence[Mapping[str, object]]) -> bool:
    try:
        text = flowql.compile(expr, target=target).filter
    except flowql.UnsupportedError:
        return False
    assert text is not None
    term = _read(text)
    predicate = compile_predicate(expr)
    # flowql's own reader reads every target's output back to a filter that means the same.
    read_back = compile_predicate(read_filter(text))
    for record in records:
        assert _holds(term, record) == predicate(record), (flowql.format(expr), text, record)
        assert read_back(record) == predicate(record), (flowql.format(expr), text, record)
    return True


@settings(max_examples=400, deadline=None)
@given(_exprs(["a", "b"]), st.lists(_records(["a", "b"]), min_size=1, max_size=8))
def test_the_general_klaviyo_target_means_the_same(
    expr: Expr, records: list[dict[str, object]]
) -> None:
    _agree("klaviyo", expr, records)


@settings(max_examples=300, deadline=None)
@given(
    _exprs(["flow_id", "flow_name"]),
    st.lists(_records(["flow_id", "flow_name"]), min_size=1, max_size=8),
)
def test_the_flow_report_target_means_the_same(
    expr: Expr, records: list[dict[str, object]]
) -> None:
    _agree("klaviyo-flow-report", expr, records)


_FAMILIES = {
    "klaviyo-flow-report": ["flow_id", "send_channel", "tag_name"],
    "klaviyo-campaign-report": ["campaign_id", "campaign_message_name", "tag_id"],
    "klaviyo-form-report": ["form_id", "form_version_id"],
    "klaviyo-segment-report": ["segment_id"],
    "klaviyo-metrics": ["integration.name", "integration.category"],
}


@pytest.mark.parametrize("target", sorted(_FAMILIES))
def test_every_endpoint_family_means_the_same(target: str) -> None:
    keys = _FAMILIES[target]
    seen = {"accepted": 0}

    @settings(max_examples=250, deadline=None)
    @given(_exprs(keys, text_only=True), st.lists(_records(keys), min_size=1, max_size=8))
    def check(expr: Expr, records: list[dict[str, object]]) -> None:
        if _agree(target, expr, records):
            seen["accepted"] += 1

    check()
    # Guard against a property that holds because every filter is refused.
    assert seen["accepted"] >= 15, seen


@pytest.mark.parametrize(
    ("target", "text", "record", "expected"),
    [
        ("klaviyo-flow-report", "tag_name ~~ 'x'", {"tag_name": ["y", "x"]}, True),
        ("klaviyo-flow-report", "tag_name ~~ 'x'", {"tag_name": ["xy"]}, False),
        ("klaviyo-flow-report", "tag_name IN ('x', 'y')", {"tag_name": ["y"]}, True),
        ("klaviyo-flow-report", "tag_name ~~ 'x' AND tag_name ~~ 'y'", {"tag_name": ["x"]}, False),
        (
            "klaviyo-campaign-report",
            "tag_id ~~ 'x' AND tag_id ~~ 'y' AND campaign_id == 'c'",
            {"tag_id": ["y", "x"], "campaign_id": "c"},
            True,
        ),
        ("klaviyo-form-report", "form_id IN ('x', 'y')", {"form_id": "y"}, True),
        ("klaviyo-segment-report", "segment_id == 'x'", {"segment_id": "xy"}, False),
        ("klaviyo-metrics", "integration.name == 'x'", {"integration.name": "x"}, True),
    ],
)
def test_list_and_scalar_fields_by_example(
    target: str, text: str, record: dict[str, object], expected: bool
) -> None:
    expr = flowql.parse(text)
    assert _agree(target, expr, [record])
    assert compile_predicate(expr)(record) is expected


def test_the_properties_see_accepted_filters() -> None:
    # Guard against a property that passes because every filter is refused.
    records = [{"a": "xy", "b": "y"}, {"a": "x"}, {}]
    accepted = [
        "a == 'x' AND b IN ('y', 'x')",
        "a ~~ 'x' AND b == 'y'",
        "a == 'x' OR a == 'xy'",
        "NOT a != 'x'",
    ]
    for text in accepted:
        assert _agree("klaviyo", flowql.parse(text), records), text
    report = flowql.parse("flow_id IN ('x', 'xy') AND flow_name == 'y'")
    assert _agree("klaviyo-flow-report", report, [{"flow_id": "x", "flow_name": "y"}, {}])
    assert not _agree("klaviyo-flow-report", flowql.parse("flow_id != 'x'"), records)
