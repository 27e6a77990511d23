"""The ``klaviyo-form-report`` target (form reports: form-values-reports, form-series-reports), in
the style of sqlglot's dialect tests: identity round trips through flowql's Klaviyo reader, the
expected filter for each construct the target accepts, and the expected refusal (FQ601, with the
span it points at) for each it cannot express. The rules every Klaviyo family shares are tested
in test_target_klaviyo_endpoints.py."""

from __future__ import annotations

import pytest
from klaviyo_families import identity, refusals

from flowql import parse
from flowql.targets import klaviyo_form_report as target

ACCEPTED = [
    ("form_id == 'Y6nRLr'", 'equals(form_id,"Y6nRLr")'),
    ("form_id IN ('a', 'b')", 'any(form_id,["a","b"])'),
    (
        "form_version_id == 'v' OR form_version_id == 'w'",
        'any(form_version_id,["v","w"])',
    ),
    (
        "form_id IN ('a', 'b') AND form_version_id == 'v'",
        'and(any(form_id,["a","b"]),equals(form_version_id,"v"))',
    ),
    # One filter, written twice, is one filter.
    ("form_id == 'a' AND form_id == 'a'", 'equals(form_id,"a")'),
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
        ("form_id ~~ 'x'", [("FQ601", "form_id ~~ 'x'")]),
        # The spec: "Only one filter can be used per attribute" (every report family).
        ("form_id IN ('a', 'b') AND form_id == 'a'", [("FQ601", "form_id == 'a'")]),
    ],
)
def test_refused(source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target.compile_filter, target.TARGET, source) == expected
