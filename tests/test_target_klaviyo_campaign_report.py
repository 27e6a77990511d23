"""The ``klaviyo-campaign-report`` target (campaign reports: campaign-values-reports), in the style
of sqlglot's dialect tests: identity round trips through flowql's Klaviyo reader, the expected
filter for each construct the target accepts, and the expected refusal (FQ601, with the span it
points at) for each it cannot express. The rules every Klaviyo family shares are tested in
test_target_klaviyo_endpoints.py."""

from __future__ import annotations

import pytest
from klaviyo_families import identity, refusals

from flowql import parse
from flowql.targets import klaviyo_campaign_report as target

ACCEPTED = [
    (
        "campaign_id == 'C1' AND send_channel == 'email'",
        'and(equals(campaign_id,"C1"),equals(send_channel,"email"))',
    ),
    (
        "campaign_message_id IN ('m1', 'm2') AND tag_name ~~ 'vip'",
        'and(contains-any(campaign_message_id,["m1","m2"]),contains-any(tag_name,["vip"]))',
    ),
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
        ("flow_id == 'a'", [("FQ601", "flow_id")]),
        (
            "variation IN ('a', 'b') AND variation == 'a'",
            [("FQ601", "variation == 'a'")],
        ),
    ],
)
def test_refused(source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target.compile_filter, target.TARGET, source) == expected
