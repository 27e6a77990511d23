"""The ``klaviyo-segment-report`` target (segment reports: segment-values-reports, segment-series-
reports), in the style of sqlglot's dialect tests: identity round trips through flowql's Klaviyo
reader, the expected filter for each construct the target accepts, and the expected refusal
(FQ601, with the span it points at) for each it cannot express. The rules every Klaviyo family
shares are tested in test_target_klaviyo_endpoints.py."""

from __future__ import annotations

import pytest
from klaviyo_families import identity, refusals

from flowql import parse
from flowql.targets import klaviyo_segment_report as target

ACCEPTED = [
    ("segment_id == 'S1'", 'equals(segment_id,"S1")'),
    ("segment_id == 'S1' OR segment_id == 'S2'", 'any(segment_id,["S1","S2"])'),
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
        (
            "NOT (segment_id == 'a' AND segment_id == 'b')",
            [("FQ601", "segment_id == 'a'"), ("FQ601", "segment_id == 'b'")],
        ),
    ],
)
def test_refused(source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target.compile_filter, target.TARGET, source) == expected
