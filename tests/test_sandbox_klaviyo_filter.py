"""The sandbox's own reader of Klaviyo filter strings: syntax and meaning."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowql.sandbox.klaviyo_filter import (
    Condition,
    FilterSyntaxError,
    holds,
    matches,
    parse,
)


def one(text: str) -> Condition:
    (condition,) = parse(text)
    return condition


@pytest.mark.parametrize(
    ("text", "operator", "field", "value"),
    [
        ('equals(flow_id,"T7K2j8")', "equals", "flow_id", "T7K2j8"),
        ("equals(flow_id,'T7K2j8')", "equals", "flow_id", "T7K2j8"),
        ('equals(integration.name,"Your \\"App\\"")', "equals", "integration.name", 'Your "App"'),
        ("equals(name,'it\\'s')", "equals", "name", "it's"),
        ('equals(name,"it\'s")', "equals", "name", "it's"),
        ("equals(name,'a\\\\b')", "equals", "name", "a\\b"),
        ("equals(name,'a,b)c')", "equals", "name", "a,b)c"),
        ("equals(count,42)", "equals", "count", 42),
        ("less-than(value,-2.5)", "less-than", "value", -2.5),
        ("greater-or-equal(value,1e3)", "greater-or-equal", "value", 1000.0),
        ("equals(flag,true)", "equals", "flag", True),
        ("equals(flag,false)", "equals", "flag", False),
        ("equals(flag,null)", "equals", "flag", None),
        (
            "greater-than(datetime,2024-05-08T00:00:00Z)",
            "greater-than",
            "datetime",
            datetime(2024, 5, 8, tzinfo=timezone.utc),
        ),
        (
            "less-or-equal(updated,2024-05-08)",
            "less-or-equal",
            "updated",
            datetime(2024, 5, 8, tzinfo=timezone.utc),
        ),
        ("contains(name,'Sale')", "contains", "name", "Sale"),
        (
            'contains-any(send_channel,["email","sms"])',
            "contains-any",
            "send_channel",
            ["email", "sms"],
        ),
        ("contains-all(tag_name,['VIP'])", "contains-all", "tag_name", ["VIP"]),
        ("any(form_id,['a',\"b\",3])", "any", "form_id", ["a", "b", 3]),
        ("starts-with(name,'Wel')", "starts-with", "name", "Wel"),
        ("ends-with(name,'come')", "ends-with", "name", "come"),
        ("has(phone_number)", "has", "phone_number", None),
    ],
)
def test_every_operator_and_value(text: str, operator: str, field: str, value: Any) -> None:
    assert one(text) == Condition(operator, field, value)


def test_and_and_top_level_commas_are_both_and() -> None:
    expected = [
        Condition("equals", "a", "x"),
        Condition("equals", "b", "y"),
        Condition("equals", "c", "z"),
    ]
    assert parse("and(equals(a,'x'),equals(b,'y'),equals(c,'z'))") == expected
    assert parse("equals(a,'x'),equals(b,'y'),equals(c,'z')") == expected
    assert parse("and(equals(a,'x'),and(equals(b,'y'))),equals(c,'z')") == expected


@pytest.mark.parametrize(
    ("text", "says", "at"),
    [
        ("or(equals(a,'x'),equals(b,'y'))", "or() is not Klaviyo filter syntax", 0),
        ("and(equals(a,'x'),not(equals(b,'y')))", "not() is not Klaviyo filter syntax", 18),
        ("equals(a, 'x')", "whitespace", 9),
        (" equals(a,'x')", "whitespace", 0),
        ("equals(a,'x') ", "whitespace", 13),
        ("equal(a,'x')", "unknown operator 'equal'", 0),
        ("equals(a,x)", "must be quoted", 9),
        ("equals(a,'x)", "never closed", 9),
        ("equals(a,['x'])", "one value", 9),
        ("any(a,'x')", "list", 6),
        ("any(a,[['x']])", "cannot hold a list", 7),
        ("equals(a,'x'", "to close", 12),
        ("equals('a','x')", "field name", 7),
        ("", "empty", 0),
        ("equals(a,'x'),", "operator", 14),
        ("equals(a,'x')equals(b,'y')", "unexpected", 13),
        ("equals(a,2024-13-01)", "not a valid date", 9),
    ],
)
def test_syntax_errors(text: str, says: str, at: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(text)
    assert says in caught.value.message
    assert caught.value.position == at


def test_nesting_is_bounded() -> None:
    text = "and(" * 60 + "equals(a,'x')" + ")" * 60
    with pytest.raises(FilterSyntaxError, match="nests deeper"):
        parse(text)


RECORD: dict[str, Any] = {
    "name": "Welcome Series",
    "count": 3,
    "rate": 0.5,
    "flag": True,
    "nothing": None,
    "tags": ["VIP", "Onboarding"],
    "integration": {"name": "Shopify", "category": "eCommerce"},
    "updated": "2024-05-08T12:00:00+00:00",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("equals(name,'Welcome Series')", True),
        ("equals(name,'welcome series')", False),  # case-sensitive
        ("equals(count,3)", True),
        ("equals(count,3.0)", True),
        ("equals(count,'3')", False),  # typed
        ("equals(flag,true)", True),
        ("equals(flag,1)", False),
        ("equals(integration.name,'Shopify')", True),  # dotted fields reach into objects
        ("equals(missing,'x')", False),
        ("less-than(count,4)", True),
        ("less-than(count,3)", False),
        ("less-or-equal(count,3)", True),
        ("greater-than(rate,0.25)", True),
        ("greater-or-equal(rate,0.75)", False),
        ("less-than(name,'x')", False),  # strings do not compare
        ("greater-than(updated,2024-05-08T00:00:00Z)", True),
        ("less-than(updated,2024-05-08)", False),
        ("contains(name,'come')", True),
        ("contains(name,'COME')", False),
        ("contains(tags,'VIP')", True),
        ("contains(tags,'VI')", False),  # a list holds whole items
        ("contains-any(tags,['x','VIP'])", True),
        ("contains-any(tags,['x','y'])", False),
        ("contains-all(tags,['VIP','Onboarding'])", True),
        ("contains-all(tags,['VIP','x'])", False),
        ("contains-any(name,['Welcome Series','x'])", True),  # on a scalar: one of
        ("any(count,[1,2,3])", True),
        ("any(count,[1,2])", False),
        ("starts-with(name,'Wel')", True),
        ("ends-with(name,'Series')", True),
        ("ends-with(count,'3')", False),
        ("has(name)", True),
        ("has(nothing)", False),
        ("has(missing)", False),
        ("equals(name,'Welcome Series'),equals(count,3)", True),
        ("and(equals(name,'Welcome Series'),equals(count,4))", False),
    ],
)
def test_meaning(text: str, expected: bool) -> None:
    assert matches(parse(text), RECORD) is expected


def test_a_flat_dotted_key_wins() -> None:
    record = {"integration.name": "API", "integration": {"name": "Shopify"}}
    assert holds(one("equals(integration.name,'API')"), record)


_strings = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
_scalars = st.one_of(
    _strings,
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
)


def _render(value: object, quote: str) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
        return quote + escaped + quote
    if isinstance(value, list):
        return "[" + ",".join(_render(v, quote) for v in value) + "]"
    return json.dumps(value)


@given(
    conditions=st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from(["equals", "contains", "starts-with", "ends-with"]),
                st.sampled_from(["a", "b_c", "integration.name"]),
                _scalars,
            ),
            st.tuples(
                st.sampled_from(["contains-any", "contains-all", "any"]),
                st.sampled_from(["tags", "x"]),
                st.lists(_scalars, max_size=4),
            ),
        ),
        min_size=1,
        max_size=4,
    ),
    quote=st.sampled_from(['"', "'"]),
    wrap=st.booleans(),
)
def test_written_filters_read_back(
    conditions: list[tuple[str, str, Any]], quote: str, wrap: bool
) -> None:
    calls = [f"{op}({field},{_render(value, quote)})" for op, field, value in conditions]
    text = "and(" + ",".join(calls) + ")" if wrap else ",".join(calls)
    assert parse(text) == [Condition(op, field, value) for op, field, value in conditions]
