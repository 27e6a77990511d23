"""Tests for the Klaviyo endpoint targets (flowql.targets.klaviyo_endpoints and the five family
modules): the expected filter for each accepted construct, and the expected refusals (code,
span, every one collected)."""

from __future__ import annotations

import pytest

from flowql import parse
from flowql.ast import Comparison, In, Key, Op, String
from flowql.errors import UnsupportedError
from flowql.targets import klaviyo_campaign_report as campaign
from flowql.targets import klaviyo_flow_report as flow
from flowql.targets import klaviyo_form_report as form
from flowql.targets import klaviyo_metrics as metrics
from flowql.targets import klaviyo_segment_report as segment
from flowql.targets.klaviyo_endpoints import ENDPOINT_TARGETS

COMPILERS = {
    flow.TARGET: flow.compile_filter,
    campaign.TARGET: campaign.compile_filter,
    form.TARGET: form.compile_filter,
    segment.TARGET: segment.compile_filter,
    metrics.TARGET: metrics.compile_filter,
}


def refusals(target: str, source: str) -> list[tuple[str, str]]:
    """Each refusal's code and the source text its span covers, in order."""
    with pytest.raises(UnsupportedError) as caught:
        COMPILERS[target](parse(source))
    out = []
    for d in caught.value.diagnostics:
        assert d.span is not None
        assert target in d.message
        assert d.hint
        out.append((d.code, source[d.span.start : d.span.end]))
    return out


@pytest.mark.parametrize(
    ("target", "source", "expected"),
    [
        # flow report: equals, contains-any on scalars; contains-any / contains-all on tags
        (flow.TARGET, "flow_id == 'T7K2j8'", 'equals(flow_id,"T7K2j8")'),
        (
            flow.TARGET,
            "flow_id == 'T7K2j8' AND send_channel IN ('email', 'sms')",
            'and(equals(flow_id,"T7K2j8"),contains-any(send_channel,["email","sms"]))',
        ),
        (
            flow.TARGET,
            "send_channel == 'push-notification' OR send_channel == 'whatsapp'",
            'contains-any(send_channel,["push-notification","whatsapp"])',
        ),
        (flow.TARGET, "flow_name IN ('a', 'b', 'a')", 'contains-any(flow_name,["a","b"])'),
        (flow.TARGET, "flow_name IN ('a')", 'equals(flow_name,"a")'),
        (flow.TARGET, "flow_id == 'a' AND flow_id == 'a'", 'equals(flow_id,"a")'),
        (
            flow.TARGET,
            "flow_id IN ('a', 'b') AND flow_id IN ('b', 'a')",
            'contains-any(flow_id,["a","b"])',
        ),
        (flow.TARGET, "NOT flow_id != 'a'", 'equals(flow_id,"a")'),
        (
            flow.TARGET,
            "NOT (flow_id != 'a' OR variation != 'v')",
            'and(equals(flow_id,"a"),equals(variation,"v"))',
        ),
        (flow.TARGET, "tag_name ~~ 'x'", 'contains-any(tag_name,["x"])'),
        (flow.TARGET, "tag_name == 'x'", 'contains-any(tag_name,["x"])'),
        (flow.TARGET, "tag_name ~~ 'a' OR tag_name ~~ 'b'", 'contains-any(tag_name,["a","b"])'),
        (flow.TARGET, "tag_id IN ('a', 'b')", 'contains-any(tag_id,["a","b"])'),
        (flow.TARGET, "tag_name ~~ 'a' AND tag_name ~~ 'b'", 'contains-all(tag_name,["a","b"])'),
        (
            flow.TARGET,
            "tag_name ~~ 'a' AND flow_id == 'f' AND tag_name == 'b' AND tag_name ~~ 'a'",
            'and(contains-all(tag_name,["a","b"]),equals(flow_id,"f"))',
        ),
        (flow.TARGET, "flow_name == 'say \"hi\"'", 'equals(flow_name,"say \\"hi\\"")'),
        # campaign report
        (
            campaign.TARGET,
            "campaign_id == 'C1' AND send_channel == 'email'",
            'and(equals(campaign_id,"C1"),equals(send_channel,"email"))',
        ),
        (
            campaign.TARGET,
            "campaign_message_id IN ('m1', 'm2') AND tag_name ~~ 'vip'",
            'and(contains-any(campaign_message_id,["m1","m2"]),contains-any(tag_name,["vip"]))',
        ),
        # form report: equals and any; several filters on one field are allowed
        (form.TARGET, "form_id == 'Y6nRLr'", 'equals(form_id,"Y6nRLr")'),
        (form.TARGET, "form_id IN ('a', 'b')", 'any(form_id,["a","b"])'),
        (
            form.TARGET,
            "form_version_id == 'v' OR form_version_id == 'w'",
            'any(form_version_id,["v","w"])',
        ),
        (
            form.TARGET,
            "form_id IN ('a', 'b') AND form_id == 'a' AND form_version_id == 'v'",
            'and(any(form_id,["a","b"]),equals(form_id,"a"),equals(form_version_id,"v"))',
        ),
        # segment report
        (segment.TARGET, "segment_id == 'S1'", 'equals(segment_id,"S1")'),
        (segment.TARGET, "segment_id == 'S1' OR segment_id == 'S2'", 'any(segment_id,["S1","S2"])'),
        # metrics: equals only
        (metrics.TARGET, "integration.name == 'Shopify'", 'equals(integration.name,"Shopify")'),
        (
            metrics.TARGET,
            "integration.name == 'Shopify' AND integration.category == 'ecommerce'",
            'and(equals(integration.name,"Shopify"),equals(integration.category,"ecommerce"))',
        ),
        (metrics.TARGET, "integration.name IN ('x', 'x')", 'equals(integration.name,"x")'),
    ],
)
def test_accepted(target: str, source: str, expected: str) -> None:
    assert COMPILERS[target](parse(source)) == expected


def test_built_trees_without_spans() -> None:
    tree = In(Key("flow_id"), [String("a"), String("b")])
    assert flow.compile_filter(tree) == 'contains-any(flow_id,["a","b"])'
    with pytest.raises(UnsupportedError) as caught:
        flow.compile_filter(Comparison(Key("nope"), Op.EQ, String("a")))
    assert caught.value.code == "FQ601"
    assert caught.value.span is None


@pytest.mark.parametrize(
    ("target", "source", "expected"),
    [
        # unknown field (the span is the key)
        (flow.TARGET, "flow_idd == 'a'", [("FQ601", "flow_idd")]),
        (campaign.TARGET, "flow_id == 'a'", [("FQ601", "flow_id")]),
        (metrics.TARGET, "integration.id == 'a'", [("FQ601", "integration.id")]),
        # an operator the field does not take
        (flow.TARGET, "flow_name ~~ 'x'", [("FQ601", "flow_name ~~ 'x'")]),
        (form.TARGET, "form_id ~~ 'x'", [("FQ601", "form_id ~~ 'x'")]),
        (flow.TARGET, "flow_id != 'x'", [("FQ601", "flow_id != 'x'")]),
        (flow.TARGET, "tag_name !~ 'x'", [("FQ601", "tag_name !~ 'x'")]),
        (flow.TARGET, "flow_id NOT IN ('a', 'b')", [("FQ601", "flow_id NOT IN ('a', 'b')")]),
        (flow.TARGET, "NOT flow_id == 'a'", [("FQ601", "flow_id == 'a'")]),
        (
            metrics.TARGET,
            "integration.name IN ('a', 'b')",
            [("FQ601", "integration.name IN ('a', 'b')")],
        ),
        (
            metrics.TARGET,
            "integration.name == 'a' OR integration.name == 'b'",
            [("FQ601", "integration.name == 'a' OR integration.name == 'b'")],
        ),
        # OR across fields
        (
            flow.TARGET,
            "flow_id == 'a' OR flow_name == 'b'",
            [("FQ601", "flow_id == 'a' OR flow_name == 'b'")],
        ),
        (
            segment.TARGET,
            "NOT (segment_id == 'a' AND segment_id == 'b')",
            [("FQ601", "segment_id == 'a'"), ("FQ601", "segment_id == 'b'")],
        ),
        # a second filter on one field (flow and campaign reports)
        (flow.TARGET, "flow_id == 'a' AND flow_id == 'b'", [("FQ601", "flow_id == 'b'")]),
        (
            campaign.TARGET,
            "variation IN ('a', 'b') AND variation == 'a'",
            [("FQ601", "variation == 'a'")],
        ),
        (
            flow.TARGET,
            "(tag_name ~~ 'a' OR tag_name ~~ 'b') AND tag_name ~~ 'c'",
            [("FQ601", "tag_name ~~ 'c'")],
        ),
        # values
        (flow.TARGET, "send_channel == 'fax'", [("FQ601", "'fax'")]),
        (
            flow.TARGET,
            "send_channel IN ('email', 'fax', 'pager')",
            [("FQ601", "'fax'"), ("FQ601", "'pager'")],
        ),
        (flow.TARGET, "flow_id == 7", [("FQ601", "7")]),
    ],
)
def test_refused(target: str, source: str, expected: list[tuple[str, str]]) -> None:
    assert refusals(target, source) == expected


def test_long_lists_refused() -> None:
    values = ", ".join(f"'v{i}'" for i in range(101))
    source = f"flow_id IN ({values})"
    assert refusals(flow.TARGET, source) == [("FQ601", source)]
    exactly = ", ".join(f"'v{i}'" for i in range(100))
    assert flow.compile_filter(parse(f"segment_id IN ({exactly})".replace("segment", "flow")))
    assert segment.compile_filter(parse(f"segment_id IN ({exactly})")).startswith("any(")
    tags = " AND ".join(f"tag_id ~~ 't{i}'" for i in range(101))
    assert refusals(flow.TARGET, tags) == [("FQ601", "tag_id ~~ 't0'")]


def test_every_problem_collected_in_source_order() -> None:
    source = (
        "flow_idd == 'a' AND flow_name ~~ 'x' AND send_channel IN ('fax', 'email') "
        "AND flow_id != 'q' AND NOT tag_id IN ('a') AND variation == 'v' AND variation == 'w'"
    )
    assert refusals(flow.TARGET, source) == [
        ("FQ601", "flow_idd"),
        ("FQ601", "flow_name ~~ 'x'"),
        ("FQ601", "'fax'"),
        ("FQ601", "flow_id != 'q'"),
        ("FQ601", "tag_id IN ('a')"),
        ("FQ601", "variation == 'w'"),
    ]


def test_refused_or_still_checks_its_tests() -> None:
    source = "flow_id == 'a' OR nope == 'b' OR (send_channel == 'fax' AND flow_name ~~ 'z')"
    assert refusals(flow.TARGET, source) == [
        ("FQ601", source),
        ("FQ601", "nope"),
        ("FQ601", "'fax'"),
        ("FQ601", "flow_name ~~ 'z'"),
    ]


def test_hints_say_what_the_field_takes() -> None:
    with pytest.raises(UnsupportedError) as caught:
        flow.compile_filter(parse("flow_name ~~ 'x'"))
    assert caught.value.hint is not None
    assert "flow_name takes `==` (equals)" in caught.value.hint
    assert "contains-any" in caught.value.hint
    with pytest.raises(UnsupportedError) as caught:
        metrics.compile_filter(parse("integration.name IN ('a', 'b')"))
    assert caught.value.hint == "integration.name takes only `==` (equals)"
    with pytest.raises(UnsupportedError) as caught:
        flow.compile_filter(parse("flow_idd == 'a'"))
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean 'flow_id'?")


def test_endpoint_targets_for_the_registry() -> None:
    assert set(ENDPOINT_TARGETS) == set(COMPILERS)
    for name, (description, compile_filter) in ENDPOINT_TARGETS.items():
        assert description
        assert "\n" not in description
        tree = parse(
            {
                flow.TARGET: "flow_id == 'a'",
                campaign.TARGET: "campaign_id == 'a'",
                form.TARGET: "form_id == 'a'",
                segment.TARGET: "segment_id == 'a'",
                metrics.TARGET: "integration.name == 'a'",
            }[name]
        )
        assert compile_filter(tree) == COMPILERS[name](tree)


def test_tables_match_the_model() -> None:
    from flowql.model import KLAVIYO_ENDPOINTS

    modules = {
        "flow-report": flow,
        "campaign-report": campaign,
        "form-report": form,
        "segment-report": segment,
        "metrics": metrics,
    }
    for endpoint, module in modules.items():
        model_keys = [d.key for d in KLAVIYO_ENDPOINTS[endpoint]()]
        assert [f.name for f in module.FIELDS] == model_keys
