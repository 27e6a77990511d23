"""The ``klaviyo-metrics`` target (GET /api/metrics/), in the style of sqlglot's dialect tests:
identity round trips through flowql's Klaviyo reader, the expected filter for each construct the
target accepts, and the expected refusal (FQ601, with the span it points at) for each it cannot
express. The rules every Klaviyo family shares are tested in test_target_klaviyo_endpoints.py."""

from __future__ import annotations

import pytest
from klaviyo_families import identity, refusals

from flowql import parse
from flowql.targets import klaviyo_metrics as target

ACCEPTED = [
    ("integration.name == 'Shopify'", 'equals(integration.name,"Shopify")'),
    (
        "integration.name == 'Shopify' AND integration.category == 'ecommerce'",
        'and(equals(integration.name,"Shopify"),equals(integration.category,"ecommerce"))',
    ),
    ("integration.name IN ('x', 'x')", 'equals(integration.name,"x")'),
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
        ("integration.id == 'a'", [("FQ601", "integration.id")]),
        (
            "integration.name IN ('a', 'b')",
            [("FQ601", "integration.name IN ('a', 'b')")],
        ),
        (
            "integration.name == 'a' OR integration.name == 'b'",
            [("FQ601", "integration.name == 'a' OR integration.name == 'b'")],
        ),
    ],
)
def test_refused(source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target.compile_filter, target.TARGET, source) == expected
