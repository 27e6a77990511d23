"""The sandbox's Klaviyo API against Klaviyo's own OpenAPI spec, at each revision the project
holds: every operation driven with valid requests and with every error the sandbox answers,
each request and each answer validated (``tests/klaviyo_contract.py``), and the sandbox's
per-revision tables checked against the spec files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from klaviyo_contract import (
    MEDIA_TYPE,
    REVISIONS,
    operations,
    spec_document,
    validate_request,
    validate_response,
)

from flowql.sandbox import Sandbox
from flowql.sandbox._klaviyo import MAX_LIST_ITEMS
from flowql.sandbox._klaviyo_revisions import REVISIONS as SERVED
from flowql.sandbox._klaviyo_revisions import SCOPES

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)  # today: 2024-10-15 is retired
REPORTS = (
    "flow-values",
    "flow-series",
    "campaign-values",
    "form-values",
    "form-series",
    "segment-values",
    "segment-series",
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


def headers(revision: str, **extra: str) -> dict[str, str]:
    out = {
        "Authorization": "Klaviyo-API-Key sandbox",
        "revision": revision,
        "Accept": MEDIA_TYPE,
    }
    out.update(extra)
    return out


def exchange(
    sb: Sandbox,
    revision: str,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: object = None,
    head: dict[str, str] | None = None,
    status: int = 200,
    valid_request: bool = True,
    raw: bytes | None = None,
) -> httpx.Response:
    """Send one request, check it against the spec (valid, or not on purpose), and check the
    answer's status and that it keeps the contract."""
    sent = headers(revision) if head is None else head
    content = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    if content is not None and not any(k.lower() == "content-type" for k in sent):
        sent = {**sent, "Content-Type": MEDIA_TYPE}
    request = httpx.Request(method, sb.url + path, params=params, headers=sent, content=content)
    problems = validate_request(
        revision, method, str(request.url), request.headers, None, content, record=valid_request
    )
    if valid_request:
        assert problems == [], problems
    else:
        assert problems, "a request made wrong on purpose passed the contract"
    with httpx.Client(timeout=30) as client:
        response = client.send(request)
    assert response.status_code == status, response.text
    checked = method if status != 405 else "GET"  # a 405's path has no such operation
    assert (
        validate_response(
            revision, checked, path, response.status_code, response.headers, response.content
        )
        == []
    )
    return response


def attributes(report: str, revision: str, **extra: Any) -> dict[str, Any]:
    family = report.split("-")[0]
    statistics = {
        "flow": ["opens", "open_rate", "clicks", "conversion_value"],
        "campaign": ["recipients", "delivery_rate", "conversions"],
        "form": ["viewed_form", "submits", "submit_rate"],
        "segment": ["members_added", "total_members"],
    }[family]
    out: dict[str, Any] = {"statistics": statistics, "timeframe": {"key": "last_30_days"}}
    if family in ("flow", "campaign"):
        out["conversion_metric_id"] = "REcTBe"
    if report.endswith("series"):
        out["interval"] = "weekly"
    out.update(extra)
    return out


def document(report: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"type": f"{report}-report", "attributes": attrs}}


# --- valid requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("revision", REVISIONS)
def test_metrics_operations(sb: Sandbox, revision: str) -> None:
    pages = 0
    path: str | None = "/api/metrics"
    params: dict[str, str] | None = {"fields[metric]": "name,integration"}
    while path is not None:
        body = exchange(sb, revision, "GET", path, params=params).json()
        pages += 1
        following = body["links"].get("next")
        path, params = (None, None) if following is None else (following[len(sb.url) :], None)
    assert pages == 2
    filtered = exchange(
        sb,
        revision,
        "GET",
        "/api/metrics",
        params={"filter": 'equals(integration.name,"YourIntegration")'},
    ).json()
    assert len(filtered["data"]) == 23
    metric = exchange(sb, revision, "GET", "/api/metrics/REcTBe").json()
    assert metric["data"]["id"] == "REcTBe"
    assert ("links" in metric) is (revision >= "2026")
    exchange(sb, revision, "GET", "/api/metrics/REcTBe", params={"fields[metric]": "name"})
    triggers = exchange(sb, revision, "GET", "/api/metrics/REcTBe/relationships/flow-triggers")
    assert triggers.json()["data"] == [{"type": "flow", "id": "T7K2j8"}]


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("report", REPORTS)
def test_reports(sb: Sandbox, revision: str, report: str) -> None:
    path = f"/api/{report}-reports"
    answer = exchange(
        sb, revision, "POST", path, body=document(report, attributes(report, revision))
    )
    data = answer.json()["data"]
    assert data["attributes"]["results"]
    assert ("date_times" in data["attributes"]) is report.endswith("series")
    # A custom timeframe, and the filter each family takes at both revisions.
    one_filter = {
        "flow": 'equals(flow_id,"T7K2j8")',
        "campaign": 'contains-any(send_channel,["email","sms"])',
        "form": 'any(form_id,["x","y"])',
        "segment": 'any(segment_id,["x"])',
    }[report.split("-")[0]]
    custom = attributes(
        report,
        revision,
        timeframe={"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"},
        filter=one_filter,
    )
    exchange(sb, revision, "POST", path, body=document(report, custom))


@pytest.mark.parametrize("report", ["flow-values", "flow-series", "campaign-values"])
def test_2026_group_by_tags_fieldsets_and_text_statistics(sb: Sandbox, report: str) -> None:
    family = report.split("-")[0]
    attrs = attributes(
        report,
        "2026-07-15",
        group_by=[f"{family}_id", f"{family}_message_id", "tag_name", "send_channel"],
        filter='and(contains-any(tag_name,["SMS","VIP"]),contains-any(send_channel,'
        '["sms","whatsapp"]))',
        statistics=["text_message_spend", "text_message_roi", "message_segment_count_sum"],
    )
    fields = "results,date_times" if report.endswith("series") else "results"
    answer = exchange(
        sb,
        "2026-07-15",
        "POST",
        f"/api/{report}-reports",
        params={f"fields[{report}-report]": fields},
        body=document(report, attrs),
    )
    assert answer.json()["links"]["self"].startswith(sb.url + f"/api/{report}-reports")


def test_weekly_series_over_a_year_is_served(sb: Sandbox) -> None:
    # The spec caps hourly, daily and monthly, not weekly.
    attrs = attributes("flow-series", "2026-07-15", timeframe={"key": "last_12_months"})
    answer = exchange(
        sb, "2026-07-15", "POST", "/api/flow-series-reports", body=document("flow-series", attrs)
    )
    assert len(answer.json()["data"]["attributes"]["date_times"]) >= 52


# --- errors ---------------------------------------------------------------------------------


def error_detail(response: httpx.Response) -> str:
    (found,) = response.json()["errors"]
    return str(found["detail"])


@pytest.mark.parametrize("revision", REVISIONS)
def test_bad_bodies_and_parameters(sb: Sandbox, revision: str) -> None:
    path = "/api/flow-values-reports"
    exchange(sb, revision, "POST", path, raw=b"{not json", status=400, valid_request=False)
    exchange(
        sb,
        revision,
        "POST",
        path,
        body=document("flow-values", attributes("flow-values", revision, statistics=["nope"])),
        status=400,
        valid_request=False,
    )
    for bad in (
        "equals(flow_id,",  # syntax
        'and(equals(flow_id,"a"),contains-any(flow_id,["b"]))',  # one filter per attribute
        "contains-any(flow_id,[" + ",".join(f'"{i}"' for i in range(101)) + "])",  # 101 items
        'or(equals(flow_id,"a"),equals(flow_id,"b"))',  # only AND
    ):
        attrs = attributes("flow-values", revision, filter=bad)
        response = exchange(
            sb, revision, "POST", path, body=document("flow-values", attrs), status=400
        )
        assert "filter" in error_detail(response).lower()
    too_long = attributes("flow-series", revision, interval="hourly")
    response = exchange(
        sb,
        revision,
        "POST",
        "/api/flow-series-reports",
        body=document("flow-series", too_long),
        status=400,
    )
    assert "7 days" in error_detail(response)
    before = attributes(
        "segment-values",
        revision,
        timeframe={"start": "2023-01-01T00:00:00+00:00", "end": "2023-07-01T00:00:00+00:00"},
    )
    response = exchange(
        sb,
        revision,
        "POST",
        "/api/segment-values-reports",
        body=document("segment-values", before),
        status=400,
    )
    assert "June 1st, 2023" in error_detail(response)
    wrong_type = {
        "data": {
            "type": "campaign-values-report",
            "attributes": attributes("flow-values", revision),
        }
    }
    exchange(sb, revision, "POST", path, body=wrong_type, status=409, valid_request=False)
    exchange(
        sb,
        revision,
        "GET",
        "/api/metrics",
        params={"sort": "name"},
        status=400,
        valid_request=False,
    )
    exchange(sb, revision, "GET", "/api/metrics", params={"page[cursor]": "bad!"}, status=400)
    exchange(sb, revision, "GET", "/api/metrics", params={"filter": 'equals(name,"x")'}, status=400)
    exchange(
        sb,
        revision,
        "POST",
        path,
        body=document("flow-values", attributes("flow-values", revision)),
        head=headers(revision, **{"Content-Type": "text/plain"}),
        status=415,
        valid_request=False,
    )


def test_each_revisions_own_rules(sb: Sandbox) -> None:
    """What 2026-07-15 has and 2024-10-15 lacks is refused at 2024-10-15."""
    path = "/api/flow-values-reports"
    lacking: list[dict[str, Any]] = [
        {"statistics": ["text_message_spend"]},
        {"group_by": ["flow_id", "flow_message_id"]},
        {"filter": 'equals(flow_name,"Welcome Series")'},
        {"filter": 'equals(send_channel,"whatsapp")'},
    ]
    for extra in lacking:
        body = document("flow-values", attributes("flow-values", "2026-07-15", **extra))
        exchange(sb, "2026-07-15", "POST", path, body=body)
        statistics_or_group = "statistics" in extra or "group_by" in extra
        exchange(
            sb,
            "2024-10-15",
            "POST",
            path,
            body=body,
            status=400,
            # The spec's enums catch statistics and group_by; filter fields are prose only.
            valid_request=not statistics_or_group,
        )
    campaign = attributes("campaign-values", "2024-10-15", filter='equals(campaign_message_id,"x")')
    exchange(
        sb,
        "2024-10-15",
        "POST",
        "/api/campaign-values-reports",
        body=document("campaign-values", campaign),
        status=400,
    )


def test_revision_header(sb: Sandbox) -> None:
    for value, detail in (
        (None, "required"),
        ("tomorrow", "YYYY-MM-DD"),
        ("2027-01-15", "not a valid revision"),  # a future revision
        ("2025-04-15", "not a valid revision"),  # one whose spec the sandbox does not hold
    ):
        head = headers("2026-07-15")
        if value is None:
            del head["revision"]
        else:
            head["revision"] = value
        response = exchange(
            sb, "2026-07-15", "GET", "/api/metrics", head=head, status=400, valid_request=False
        )
        assert detail in error_detail(response)
        assert response.json()["errors"][0]["source"] == {"parameter": "revision"}


def test_a_retired_revision_served_gone_or_forward(sb: Sandbox) -> None:
    path = "/api/flow-values-reports"
    grouped = document(
        "flow-values",
        attributes("flow-values", "2026-07-15", group_by=["flow_id", "flow_message_id"]),
    )
    try:
        sb.klaviyo_retired = "gone"
        response = exchange(sb, "2024-10-15", "GET", "/api/metrics", status=410)
        assert "retired on 2026-10-15" in error_detail(response)
        sb.klaviyo_retired = "forward"
        # Answered by 2026-07-15's rules: group_by is taken.
        with httpx.Client() as client:
            answer = client.post(sb.url + path, headers=headers("2024-10-15"), json=grouped)
        assert answer.status_code == 200, answer.text
        assert (
            validate_response("2026-07-15", "POST", path, 200, answer.headers, answer.content) == []
        )
    finally:
        sb.klaviyo_retired = "serve"
    exchange(sb, "2024-10-15", "POST", path, body=grouped, status=400, valid_request=False)


@pytest.mark.parametrize("revision", REVISIONS)
def test_authentication_scopes_and_unknown_ids(sb: Sandbox, revision: str) -> None:
    no_key = headers(revision)
    del no_key["Authorization"]
    exchange(sb, revision, "GET", "/api/metrics", head=no_key, status=401, valid_request=False)
    bad = headers(revision, Authorization="Klaviyo-API-Key wrong")
    exchange(sb, revision, "GET", "/api/metrics", head=bad, status=401)
    scopeless = headers(revision, Authorization="Klaviyo-API-Key sandbox-no-scopes")
    for method, path, body in (
        ("GET", "/api/metrics", None),
        ("GET", "/api/metrics/REcTBe", None),
        ("GET", "/api/metrics/REcTBe/relationships/flow-triggers", None),
        *(("POST", f"/api/{r}-reports", document(r, attributes(r, revision))) for r in REPORTS),
    ):
        response = exchange(sb, revision, method, path, head=scopeless, body=body, status=403)
        assert ":read" in error_detail(response)
    exchange(sb, revision, "GET", "/api/metrics/nope00", status=404)
    exchange(sb, revision, "GET", "/api/metrics/nope00/relationships/flow-triggers", status=404)
    exchange(sb, revision, "PUT", "/api/metrics", status=405, valid_request=False)
    long = "/api/metrics/" + "x" * 5000
    exchange(sb, revision, "GET", long, status=414)


@pytest.mark.parametrize("revision", REVISIONS)
def test_rate_limit_and_server_errors(sb: Sandbox, revision: str) -> None:
    body = document("segment-values", attributes("segment-values", revision))
    path = "/api/segment-values-reports"
    try:
        sb.set_rate_limit("klaviyo-reports", (1, 60.0))
        exchange(sb, revision, "POST", path, body=body)
        refused = exchange(sb, revision, "POST", path, body=body, status=429)
        assert int(refused.headers["Retry-After"]) >= 1
        assert not any(name.lower().startswith("ratelimit-") for name in refused.headers)
    finally:
        sb.disable_rate_limits()
    for status in (500, 503):
        sb.faults.fail_next(status=status, api="klaviyo", retry_after=2)
        failed = exchange(sb, revision, "POST", path, body=body, status=status)
        assert failed.headers["Retry-After"] == "2"
    sb.faults.fail_next(status=503, api="klaviyo")
    exchange(sb, revision, "GET", "/api/metrics/REcTBe", status=503)


# --- the validator itself ---------------------------------------------------------------------


def test_the_validator_catches_what_the_spec_forbids() -> None:
    ok = headers("2026-07-15", **{"Content-Type": MEDIA_TYPE})
    body = document("flow-values", attributes("flow-values", "2026-07-15"))
    assert (
        validate_request(
            "2026-07-15", "POST", "/api/flow-values-reports", ok, None, body, record=False
        )
        == []
    )
    old_client = headers(
        "2024-10-15", Accept="application/json", **{"Content-Type": "application/json"}
    )
    found = validate_request(
        "2024-10-15",
        "POST",
        "https://a.klaviyo.com/api/flow-values-reports/",
        old_client,
        None,
        body,
        record=False,
    )
    assert any("trailing slash" in m for m in found)
    assert any("Accept is 'application/json'" in m for m in found)
    assert any("Content-Type is 'application/json'" in m for m in found)
    newer = document(
        "flow-values",
        attributes("flow-values", "2024-10-15", statistics=["text_message_spend"], group_by=["x"]),
    )
    found = validate_request(
        "2024-10-15",
        "POST",
        "/api/flow-values-reports",
        ok | {"revision": "2024-10-15"},
        None,
        newer,
        record=False,
    )
    assert any("'text_message_spend' is not one of" in m for m in found)
    assert any("'group_by' was unexpected" in m for m in found)
    assert validate_request(
        "2026-07-15", "GET", "/api/metrics", ok, "fields[metric]=name,colour", record=False
    )
    assert validate_request("2026-07-15", "GET", "/api/nothing", ok, record=False)
    assert validate_request("2026-07-15", "DELETE", "/api/metrics", ok, record=False)
    wrong_revision = validate_request(
        "2026-07-15", "GET", "/api/metrics", headers("2024-10-15"), record=False
    )
    assert any("revision" in m for m in wrong_revision)
    vnd = {"Content-Type": MEDIA_TYPE}
    # The old sandbox's shapes: data.links on a report, null links, an error's status member.
    report = {
        "data": {
            "type": "flow-values-report",
            "attributes": {"results": []},
            "links": {"self": "http://h/x"},
        }
    }
    reports = "/api/flow-values-reports"
    assert validate_response("2026-07-15", "POST", reports, 200, vnd, report, record=False)
    nulls = {"data": [], "links": {"self": "http://h/api/metrics", "next": None}}
    assert validate_response("2026-07-15", "GET", "/api/metrics", 200, vnd, nulls, record=False)
    assert validate_response(
        "2026-07-15",
        "GET",
        "/api/metrics",
        200,
        vnd,
        {"data": [], "links": {"self": "not a uri"}},
        record=False,
    )
    series = {
        "data": {
            "type": "flow-series-report",
            "attributes": {"results": [], "date_times": ["2026-01-01"]},
        }
    }
    series_path = "/api/flow-series-reports"
    assert validate_response("2026-07-15", "POST", series_path, 200, vnd, series, record=False)
    problem = {
        "errors": [{"id": "1", "status": 400, "code": "invalid", "title": "t", "detail": "d"}]
    }
    assert validate_response("2026-07-15", "GET", "/api/metrics", 400, vnd, problem, record=False)
    assert validate_response(
        "2026-07-15",
        "GET",
        "/api/metrics",
        400,
        {"Content-Type": "application/json"},
        {"errors": []},
        record=False,
    )
    assert validate_response("2026-07-15", "GET", "/api/metrics", 302, vnd, None, record=False)


# --- the sandbox's tables against the spec -----------------------------------------------------


def _attributes_schema(revision: str, report: str) -> dict[str, Any]:
    path = spec_document(revision)["paths"][f"/api/{report}-reports"]["post"]
    ref = path["requestBody"]["content"][MEDIA_TYPE]["schema"]["$ref"].split("/")[-1]
    schemas = spec_document(revision)["components"]["schemas"]
    resource = schemas[ref]["properties"]["data"]["$ref"].split("/")[-1]
    return dict(schemas[resource]["properties"]["attributes"])


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _filter_fields(prose: str) -> dict[str, tuple[set[str], bool]]:
    """A report's filter fields, operators and listness, from its description's prose."""
    out: dict[str, tuple[set[str], bool]] = {}
    allowed = re.search(r"Allowed filters are ([^.]+)\.", prose)
    if allowed is not None:
        operators = re.search(r"Allowed operators are ([^.]+)\.", prose)
        assert operators is not None
        for name in _names(allowed.group(1)):
            out[name] = (set(_names(operators.group(1))), False)
    for kind, names, ops in re.findall(
        r"(Scalar|List) attributes \(([^)]+)\): Supported operators: ([^.]+)\.", prose
    ):
        for name in _names(names):
            out[name] = (set(_names(ops)), kind == "List")
    assert out, prose
    return out


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("report", REPORTS)
def test_the_sandbox_tables_agree_with_the_spec(revision: str, report: str) -> None:
    rules = SERVED[revision].reports[f"{report}-reports"]
    schema = _attributes_schema(revision, report)
    props = schema["properties"]
    assert list(rules.statistics) == sorted(props["statistics"]["items"]["enum"])
    assert set(rules.statistics) == set(props["statistics"]["items"]["enum"])
    assert rules.conversion is ("conversion_metric_id" in schema["required"])
    if "group_by" in props:
        prose = props["group_by"]["description"]
        assert rules.group_by is not None
        assert set(rules.group_by) == set(props["group_by"]["items"]["enum"])
        default = re.search(r"grouped by ([^.]+)\.", prose)
        assert default is not None
        assert set(rules.default_group_by) == set(_names(default.group(1)))
        required = re.search(r"required: ([^.]+)\.?", prose)
        assert set(rules.required_group_by) == set(_names(required.group(1)) if required else [])
        needs = re.findall(r"prerequisites for (\w+) is (\w+)", prose)
        assert set(rules.prerequisites) == set(needs)
    else:
        assert rules.group_by is None
        # The groupings of the spec's own example answer.
        answer = _response_schema(revision, report)
        example = answer["properties"]["data"]["properties"]["attributes"]["properties"]["results"][
            "example"
        ]
        assert set(rules.default_group_by) == set(example[0]["groupings"])
    prose = props["filter"]["description"]
    found = _filter_fields(prose)
    assert {k: (set(v.operators), v.is_list) for k, v in rules.fields.items()} == found
    channels = re.search(r"allowed values are ([^.]+)\.", prose)
    if channels is not None:
        assert set(rules.fields["send_channel"].values or ()) == set(_names(channels.group(1)))
    assert f"Max of {MAX_LIST_ITEMS} " in prose
    assert "Only one filter can be used per attribute" in prose
    timeframe_prose = props["timeframe"]["description"]
    assert (rules.earliest is not None) is ("unavailable before June 1st, 2023" in timeframe_prose)
    if report.endswith("series"):
        interval = props["interval"]
        assert set(SERVED[revision].intervals) == set(interval["enum"])
        limits = dict(
            re.findall(
                r"If (\w+) is used, the timeframe cannot be longer than ([^.]+)\.",
                interval["description"],
            )
        )
        for name, limit in SERVED[revision].intervals.items():
            if limit is None:
                assert name not in limits
            else:
                amount, unit = limits[name].split()
                assert limit.days == int(amount) * (7 if unit == "weeks" else 1)
    parameters = {
        p["name"]
        for p in spec_document(revision)["paths"][f"/api/{report}-reports"]["post"]["parameters"]
    }
    assert rules.paged is ("page_cursor" in parameters)
    assert SERVED[revision].report_fieldsets is (f"fields[{report}-report]" in parameters)
    assert SERVED[revision].top_links is (
        "links" in _response_schema(revision, report)["properties"]
    )


def _response_schema(revision: str, report: str) -> dict[str, Any]:
    op = spec_document(revision)["paths"][f"/api/{report}-reports"]["post"]
    ref = op["responses"]["200"]["content"][MEDIA_TYPE]["schema"]["$ref"].split("/")[-1]
    return dict(spec_document(revision)["components"]["schemas"][ref])


@pytest.mark.parametrize("revision", REVISIONS)
def test_the_sandbox_revision_tables_agree_with_the_spec(revision: str) -> None:
    served = SERVED[revision]
    document_ = spec_document(revision)
    schemas = document_["components"]["schemas"]
    assert set(served.timeframe_keys) == set(schemas["Timeframe"]["properties"]["key"]["enum"])
    metrics = document_["paths"]["/api/metrics"]["get"]["parameters"]
    (fields,) = [p for p in metrics if p["name"] == "fields[metric]"]
    assert set(served.metric_fields) == set(fields["schema"]["items"]["enum"])
    assert set(served.collection_links) <= set(schemas["CollectionLinks"]["properties"])
    assert served.retires.isoformat() == f"{int(revision[:4]) + 2}{revision[4:10]}"
    for op in operations(revision):
        scopes = document_["paths"][op.path][op.method.lower()]["x-klaviyo-scopes"]
        key = {
            "get_metrics": "metrics",
            "get_metric": "metrics",
            "get_ids_for_flows_triggered_by_metric": "flow-triggers",
        }.get(op.operation_id) or op.operation_id.split("_")[1]
        assert set(SCOPES[key]) == set(scopes), op.operation_id


def test_every_revision_the_project_holds_is_served() -> None:
    assert set(SERVED) == set(REVISIONS)
    assert {op.operation_id for op in operations("2026-07-15")} == {
        op.operation_id for op in operations("2024-10-15")
    }
    assert len(operations("2026-07-15")) == 10
