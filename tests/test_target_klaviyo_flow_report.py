"""The ``klaviyo-flow-report`` target (flow reports: flow-values-reports, flow-series-reports), in
the style of sqlglot's dialect tests: identity round trips through flowql's Klaviyo reader, the
expected filter for each construct the target accepts, and the expected refusal (FQ601, with the
span it points at) for each it cannot express. The rules every Klaviyo family shares are tested
in test_target_klaviyo_endpoints.py."""

from __future__ import annotations

import pytest
from klaviyo_families import identity, refusals

from flowql import parse
from flowql.targets import klaviyo_flow_report as target

ACCEPTED = [
    ("flow_id == 'T7K2j8'", 'equals(flow_id,"T7K2j8")'),
    (
        "flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')",
        'and(equals(flow_id,"T7K2j8"),contains-any(send_channel,["email","sms"]))',
    ),
    (
        "send_channel == 'push-notification' OR send_channel == 'whatsapp'",
        'contains-any(send_channel,["push-notification","whatsapp"])',
    ),
    ("flow_name IN ('a', 'b', 'a')", 'contains-any(flow_name,["a","b"])'),
    ("flow_name IN ('a')", 'equals(flow_name,"a")'),
    ("flow_id == 'a' AND flow_id == 'a'", 'equals(flow_id,"a")'),
    (
        "flow_id IN ('a', 'b') AND flow_id IN ('b', 'a')",
        'contains-any(flow_id,["a","b"])',
    ),
    ("NOT flow_id != 'a'", 'equals(flow_id,"a")'),
    (
        "NOT (flow_id != 'a' OR variation != 'v')",
        'and(equals(flow_id,"a"),equals(variation,"v"))',
    ),
    ("tag_name ~~ 'x'", 'contains-any(tag_name,["x"])'),
    ("tag_name == 'x'", 'contains-any(tag_name,["x"])'),
    ("tag_name ~~ 'a' OR tag_name ~~ 'b'", 'contains-any(tag_name,["a","b"])'),
    ("tag_id IN ('a', 'b')", 'contains-any(tag_id,["a","b"])'),
    ("tag_name ~~ 'a' AND tag_name ~~ 'b'", 'contains-all(tag_name,["a","b"])'),
    (
        "tag_name ~~ 'a' AND flow_id == 'f' AND tag_name == 'b' AND tag_name ~~ 'a'",
        'and(contains-all(tag_name,["a","b"]),equals(flow_id,"f"))',
    ),
    ("flow_name == 'say \"hi\"'", 'equals(flow_name,"say \\"hi\\"")'),
]


@pytest.mark.parametrize(("source", "expected"), ACCEPTED)
def test_accepted(source: str, expected: str) -> None:
    assert target.compile_filter(parse(source)) == expected


@pytest.mark.parametrize("text", sorted({expected for _, expected in ACCEPTED}))
def test_identity(text: str) -> None:
    assert identity(target.compile_filter, text) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("flow_idd == 'a'", [("FQ601", "flow_idd")]),
        ("flow_name ~~ 'x'", [("FQ601", "flow_name ~~ 'x'")]),
        ("flow_id != 'x'", [("FQ601", "flow_id != 'x'")]),
        ("tag_name !~ 'x'", [("FQ601", "tag_name !~ 'x'")]),
        ("flow_id NOT IN ('a', 'b')", [("FQ601", "flow_id NOT IN ('a', 'b')")]),
        ("NOT flow_id == 'a'", [("FQ601", "flow_id == 'a'")]),
        (
            "flow_id == 'a' OR flow_name == 'b'",
            [("FQ601", "flow_id == 'a' OR flow_name == 'b'")],
        ),
        ("flow_id == 'a' AND flow_id == 'b'", [("FQ601", "flow_id == 'b'")]),
        (
            "(tag_name ~~ 'a' OR tag_name ~~ 'b') AND tag_name ~~ 'c'",
            [("FQ601", "tag_name ~~ 'c'")],
        ),
        ("send_channel == 'fax'", [("FQ601", "'fax'")]),
        (
            "send_channel IN ('email', 'fax', 'pager')",
            [("FQ601", "'fax'"), ("FQ601", "'pager'")],
        ),
        ("flow_id == 7", [("FQ601", "7")]),
    ],
)
def test_refused(source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target.compile_filter, target.TARGET, source) == expected
