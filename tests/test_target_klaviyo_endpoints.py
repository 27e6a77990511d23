"""What the Klaviyo endpoint targets share (flowql.targets.klaviyo_endpoints): list limits,
every refusal collected in source order, hints, the registry, and the capability tables against
the data model. Each family has its own file of accepted and refused constructs:
test_target_klaviyo_flow_report.py, ..._campaign_report.py, ..._form_report.py,
..._segment_report.py and test_target_klaviyo_metrics.py."""

from __future__ import annotations

import klaviyo_families
import pytest

from flowql import parse
from flowql.ast import Comparison, In, Key, Op, String
from flowql.errors import UnsupportedError
from flowql.targets import klaviyo_campaign_report as campaign
from flowql.targets import klaviyo_flow_report as flow
from flowql.targets import klaviyo_form_report as form
from flowql.targets import klaviyo_metrics as metrics
from flowql.targets import klaviyo_segment_report as segment
from flowql.targets.klaviyo_endpoints import ENDPOINT_TARGETS, compile_for

COMPILERS = {
    flow.TARGET: flow.compile_filter,
    campaign.TARGET: campaign.compile_filter,
    form.TARGET: form.compile_filter,
    segment.TARGET: segment.compile_filter,
    metrics.TARGET: metrics.compile_filter,
}


def refusals(target: str, source: str) -> list[tuple[str, str]]:
    """Each refusal's code and the source text its span covers, in order."""
    return klaviyo_families.refusals(COMPILERS[target], target, source)


def test_built_trees_without_spans() -> None:
    tree = In(Key("flow_id"), [String("a"), String("b")])
    assert flow.compile_filter(tree) == 'contains-any(flow_id,["a","b"])'
    with pytest.raises(UnsupportedError) as caught:
        flow.compile_filter(Comparison(Key("nope"), Op.EQ, String("a")))
    assert caught.value.code == "FQ601"
    assert caught.value.span is None


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
    for name, description in ENDPOINT_TARGETS.items():
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
        assert compile_for(name, tree) == COMPILERS[name](tree)


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
