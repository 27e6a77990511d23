"""The sandbox's Klaviyo API: metrics (filter, sparse fields, paging), flow triggers and the
reporting endpoints, with their documented rules and JSON:API errors."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from flowql.sandbox import Sandbox
from flowql.sandbox._klaviyo import timeframe_range
from flowql.sandbox.klaviyo_filter import matches, parse

NOW = datetime(2025, 8, 5, 19, 30, 50, tzinfo=timezone.utc)
HEADERS = {"Authorization": "Klaviyo-API-Key sandbox", "revision": "2026-07-15"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.klaviyo_url, headers=HEADERS, timeout=30) as c:
        yield c


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    (found,) = response.json()["errors"]
    # The spec's ClientError/ServerError members: no "status" (the HTTP status says it).
    assert set(found) == {"id", "code", "title", "detail", "source"}
    return dict(found)


def report(
    client: httpx.Client, endpoint: str, attributes: dict[str, Any], status: int = 200
) -> Any:
    kind = endpoint[:-1]
    body = {"data": {"type": kind, "attributes": attributes}}
    response = client.post(f"{endpoint}/", json=body)
    if status != 200:
        return error(response, status)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["type"] == kind
    return data


def flow_values(**attributes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "timeframe": {"key": "last_30_days"},
        "conversion_metric_id": "REcTBe",
        "statistics": ["recipients", "delivered", "opens_unique", "open_rate", "clicks"],
    }
    base.update(attributes)
    return base


# --- headers ----------------------------------------------------------------------------------


def test_the_revision_header_is_required(client: httpx.Client) -> None:
    missing = error(client.get("metrics/", headers={"revision": ""}), 400)
    assert missing["source"] == {"parameter": "revision"}
    response = client.get(
        "metrics/", headers={"Authorization": "Klaviyo-API-Key sandbox", "revision": "tomorrow"}
    )
    assert "revision" in error(response, 400)["detail"]


def test_missing_revision_header(sb: Sandbox) -> None:
    response = httpx.get(
        sb.klaviyo_url + "metrics/", headers={"Authorization": "Klaviyo-API-Key sandbox"}
    )
    found = error(response, 400)
    assert "revision" in found["detail"]


# --- metrics ----------------------------------------------------------------------------------


def test_paging_through_links_next(client: httpx.Client, sb: Sandbox) -> None:
    seen: list[str] = []
    url: str | None = "metrics/"
    pages = 0
    while url is not None:
        body = client.get(url).json()
        seen.extend(m["id"] for m in body["data"])
        assert len(body["data"]) <= 200
        url = body["links"].get("next")  # no next page: no link (the spec's links are strings)
        if url is not None:
            assert url.startswith(sb.url + "/api/metrics/?page%5Bcursor%5D=")
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == 230
    metric = body["data"][0]
    assert metric["type"] == "metric"
    assert set(metric["attributes"]) == {"name", "created", "updated", "integration"}
    assert set(metric["attributes"]["integration"]) == {"object", "id", "key", "name", "category"}


def test_the_guide_request(client: httpx.Client) -> None:
    body = client.get(
        "metrics/",
        params={
            "filter": 'equals(integration.name,"YourIntegration")',
            "fields[metric]": "name,integration.id,integration.name",
        },
    ).json()
    assert len(body["data"]) == 23
    assert "next" not in body["links"]
    first = body["data"][0]
    assert first["id"] == "REcTBe"
    assert first["attributes"] == {
        "name": "YourIntegration: Sent SMS",
        "integration": {"id": "0rG4eQ", "name": "YourIntegration"},
    }
    triggers = client.get("metrics/REcTBe/relationships/flow-triggers").json()
    assert triggers["data"] == [{"type": "flow", "id": "T7K2j8"}]


def test_metric_filters(client: httpx.Client) -> None:
    commerce = client.get("metrics/", params={"filter": "equals(integration.category,'eCommerce')"})
    names = {m["attributes"]["integration"]["name"] for m in commerce.json()["data"]}
    assert names == {"Shopify", "WooCommerce"}
    both = client.get(
        "metrics/",
        params={
            "filter": "equals(integration.category,'eCommerce'),equals(integration.name,'Shopify')"
        },
    )
    assert len(both.json()["data"]) == 23
    case = client.get("metrics/", params={"filter": "equals(integration.name,'shopify')"})
    assert case.json()["data"] == []


@pytest.mark.parametrize(
    "text",
    [
        "contains(integration.name,'Shop')",
        "equals(name,'Placed Order')",
        "any(integration.name,['Shopify'])",
        "equals(integration.name,'a'),equals(integration.name,'b')",
        "equals(integration.name,1)",
        "or(equals(integration.name,'a'),equals(integration.name,'b'))",
        "equals(integration.name, 'Shopify')",
    ],
)
def test_unsupported_metric_filters_are_400(client: httpx.Client, text: str) -> None:
    found = error(client.get("metrics/", params={"filter": text}), 400)
    assert found["source"] == {"parameter": "filter"}
    assert found["code"] == "invalid"


def test_metrics_parameter_errors(client: httpx.Client) -> None:
    bad_cursor = error(client.get("metrics/", params={"page[cursor]": "bogus"}), 400)
    assert bad_cursor["source"] == {"parameter": "page[cursor]"}
    unknown = error(client.get("metrics/", params={"sort": "name"}), 400)
    assert unknown["source"] == {"parameter": "sort"}
    fields = error(client.get("metrics/", params={"fields[metric]": "name,colour"}), 400)
    assert fields["source"] == {"parameter": "fields[metric]"}


def test_one_metric_and_unknown_ids(client: httpx.Client) -> None:
    body = client.get("metrics/REcTBe/").json()
    assert body["data"]["id"] == "REcTBe"
    assert error(client.get("metrics/nope00/"), 404)["code"] == "not_found"
    triggers = client.get("metrics/RcsmFp/relationships/flow-triggers").json()
    assert triggers["data"] == []
    assert triggers["links"]["self"].endswith("/api/metrics/RcsmFp/relationships/flow-triggers")


# --- reports ----------------------------------------------------------------------------------


def test_flow_values_the_guide_request(client: httpx.Client) -> None:
    data = report(
        client,
        "flow-values-reports",
        {
            "timeframe": {"start": "2025-05-08T00:00:00+00:00", "end": "2025-06-20T00:00:00+00:00"},
            "conversion_metric_id": "REcTBe",
            "filter": 'equals(flow_id,"T7K2j8")',
            "statistics": ["clicks", "clicks_unique", "conversion_uniques"],
        },
    )
    results = data["attributes"]["results"]
    assert [r["groupings"] for r in results] == [
        {
            "flow_id": "T7K2j8",
            "flow_message_id": "01GMRWDSA0ARTAKE1SFX8JGXAY",
            "send_channel": "email",
        },
        {
            "flow_id": "T7K2j8",
            "flow_message_id": "01GJTHNWVG93F3KNX71SJ4FDBB",
            "send_channel": "email",
        },
    ]
    for result in results:
        stats = result["statistics"]
        assert list(stats) == ["clicks", "clicks_unique", "conversion_uniques"]
        assert stats["clicks"] >= stats["clicks_unique"] > 0
    assert data["relationships"]["flows"]["data"] == [{"type": "flow", "id": "T7K2j8"}]
    assert len(data["relationships"]["flow-messages"]["data"]) == 2
    assert "links" not in data  # at 2026-07-15 the links are the document's


def test_report_links_are_top_level_at_2026_and_absent_at_2024(client: httpx.Client) -> None:
    body = {"data": {"type": "flow-values-report", "attributes": flow_values()}}
    current = client.post("flow-values-reports", json=body).json()
    assert current["links"] == {"self": client.base_url.join("flow-values-reports").__str__()}
    assert "links" not in current["data"]
    retired = client.post("flow-values-reports", json=body, headers={"revision": "2024-10-15"})
    assert set(retired.json()) == {"data"}
    assert "links" not in retired.json()["data"]


def test_flow_series_adds_aligned_date_times(client: httpx.Client) -> None:
    data = report(
        client,
        "flow-series-reports",
        {
            "timeframe": {"key": "last_30_days"},
            "interval": "weekly",
            "conversion_metric_id": "REcTBe",
            "filter": 'equals(flow_id,"T7K2j8")',
            "statistics": ["clicks", "delivery_rate", "open_rate"],
        },
    )
    dates = data["attributes"]["date_times"]
    assert dates[0] == "2025-06-30T00:00:00+00:00"  # the Monday of the week holding July 6
    for result in data["attributes"]["results"]:
        for values in result["statistics"].values():
            assert len(values) == len(dates)
        assert all(0 <= rate <= 1 for rate in result["statistics"]["open_rate"])


def test_a_series_sums_to_the_values(client: httpx.Client) -> None:
    timeframe = {"start": "2025-07-01T00:00:00", "end": "2025-07-08T00:00:00"}
    values = report(client, "flow-values-reports", flow_values(timeframe=timeframe))
    for interval in ("hourly", "daily"):
        series = report(
            client,
            "flow-series-reports",
            flow_values(timeframe=timeframe, interval=interval),
        )
        assert len(series["attributes"]["date_times"]) == (168 if interval == "hourly" else 7)
        for whole, parts in zip(
            values["attributes"]["results"], series["attributes"]["results"], strict=True
        ):
            assert whole["groupings"] == parts["groupings"]
            for name in ("recipients", "delivered", "opens_unique", "clicks"):
                assert whole["statistics"][name] == sum(parts["statistics"][name])


def test_group_by(client: httpx.Client) -> None:
    data = report(
        client,
        "flow-values-reports",
        flow_values(group_by=["flow_id", "flow_message_id", "tag_name"]),
    )
    groupings = [r["groupings"] for r in data["attributes"]["results"]]
    assert all(set(g) == {"flow_id", "flow_message_id", "tag_name"} for g in groupings)
    # A flow with two tags is in two groups, one per tag.
    tags = {g["tag_name"] for g in groupings}
    assert {"Revenue", "SMS", None} <= tags


def test_the_filter_selects_rows_as_klaviyo_says(sb: Sandbox, client: httpx.Client) -> None:
    text = "and(contains-any(send_channel,['sms','whatsapp']),contains-any(tag_name,['SMS','VIP']))"
    data = report(
        client,
        "flow-values-reports",
        flow_values(filter=text, group_by=["flow_id", "flow_message_id", "variation"]),
    )
    got = {
        (r["groupings"]["flow_message_id"], r["groupings"]["variation"])
        for r in data["attributes"]["results"]
    }
    conditions = parse(text)
    rows = sb.data.klaviyo.flow_rows
    expected = {
        (row.values["flow_message_id"], row.values["variation"])
        for row in rows
        if matches(conditions, row.values)
    }
    assert got == expected
    assert expected
    every_tag = report(
        client,
        "flow-values-reports",
        flow_values(
            filter="contains-all(tag_name,['SMS','Onboarding'])",
            group_by=["flow_id", "flow_message_id", "flow_name"],
        ),
    )
    names = {r["groupings"]["flow_name"] for r in every_tag["attributes"]["results"]}
    assert names == {"SMS Welcome"}


def test_campaign_values(client: httpx.Client) -> None:
    data = report(
        client,
        "campaign-values-reports",
        {
            "timeframe": {"key": "last_90_days"},
            "conversion_metric_id": "REcTBe",
            "statistics": ["recipients", "open_rate"],
            "filter": "equals(send_channel,'email')",
        },
    )
    results = data["attributes"]["results"]
    assert results
    assert {r["groupings"]["send_channel"] for r in results} == {"email"}
    assert set(results[0]["groupings"]) == {"campaign_id", "campaign_message_id", "send_channel"}
    assert list(data["relationships"]) == ["campaigns"]


def test_form_and_segment_reports(client: httpx.Client) -> None:
    forms = report(
        client,
        "form-values-reports",
        {
            "timeframe": {"key": "last_7_days"},
            "statistics": ["viewed_form", "submits", "submit_rate"],
            "group_by": ["form_id", "form_version_id"],
        },
    )
    first = forms["attributes"]["results"][0]
    assert set(first["groupings"]) == {"form_id", "form_version_id"}
    stats = first["statistics"]
    assert 0 <= stats["submit_rate"] <= 1
    assert "relationships" not in forms
    form_id = first["groupings"]["form_id"]
    series = report(
        client,
        "form-series-reports",
        {
            "timeframe": {"key": "last_7_days"},
            "interval": "daily",
            "statistics": ["viewed_form"],
            "filter": f"equals(form_id,'{form_id}')",
        },
    )
    assert [r["groupings"] for r in series["attributes"]["results"]] == [{"form_id": form_id}]
    segments = report(
        client,
        "segment-series-reports",
        {
            "timeframe": {"key": "last_7_days"},
            "interval": "daily",
            "statistics": ["total_members", "net_members_changed"],
        },
    )
    assert len(segments["attributes"]["results"]) == 8
    for result in segments["attributes"]["results"]:
        totals = result["statistics"]["total_members"]
        changes = result["statistics"]["net_members_changed"]
        assert [b - a for a, b in itertools.pairwise(totals)] == changes[1:]
    values = report(
        client,
        "segment-values-reports",
        {"timeframe": {"key": "last_7_days"}, "statistics": ["total_members"]},
    )
    last = {
        r["groupings"]["segment_id"]: r["statistics"]["total_members"]
        for r in values["attributes"]["results"]
    }
    assert last == {
        r["groupings"]["segment_id"]: r["statistics"]["total_members"][-1]
        for r in segments["attributes"]["results"]
    }


@pytest.mark.parametrize(
    ("endpoint", "attributes", "pointer", "says"),
    [
        (
            "flow-values-reports",
            flow_values(statistics=["opens", "likes"]),
            "/data/attributes/statistics/1",
            "likes",
        ),
        (
            "flow-values-reports",
            flow_values(statistics=[]),
            "/data/attributes/statistics",
            "non-empty",
        ),
        (
            "form-values-reports",
            {"timeframe": {"key": "today"}, "statistics": ["opens"]},
            "/data/attributes/statistics/0",
            "form",
        ),
        (
            "flow-values-reports",
            flow_values(timeframe={"key": "last_2_days"}),
            "/data/attributes/timeframe/key",
            "timeframe key",
        ),
        (
            "flow-values-reports",
            flow_values(timeframe={"start": "2024-01-01T00:00:00", "end": "2025-01-02T00:00:00"}),
            "/data/attributes/timeframe",
            "1 year",
        ),
        (
            "flow-values-reports",
            flow_values(timeframe={"start": "2024-01-02T00:00:00", "end": "2024-01-01T00:00:00"}),
            "/data/attributes/timeframe",
            "end after",
        ),
        (
            "flow-values-reports",
            flow_values(timeframe={"start": "2024-01-01", "end": "2024-02-01T00:00:00"}),
            "/data/attributes/timeframe/start",
            "date-time",
        ),
        (
            "flow-values-reports",
            flow_values(timeframe={"key": "today", "start": "2024-01-01T00:00:00"}),
            "/data/attributes/timeframe",
            "not both",
        ),
        (
            "flow-values-reports",
            {k: v for k, v in flow_values().items() if k != "timeframe"},
            "/data/attributes/timeframe",
            "required",
        ),
        (
            "flow-values-reports",
            {k: v for k, v in flow_values().items() if k != "conversion_metric_id"},
            "/data/attributes/conversion_metric_id",
            "required",
        ),
        (
            "flow-values-reports",
            flow_values(conversion_metric_id="nope00"),
            "/data/attributes/conversion_metric_id",
            "does not exist",
        ),
        (
            "form-values-reports",
            {
                "timeframe": {"key": "today"},
                "statistics": ["submits"],
                "conversion_metric_id": "REcTBe",
            },
            "/data/attributes/conversion_metric_id",
            "not a valid attribute",
        ),
        (
            "flow-values-reports",
            flow_values(interval="daily"),
            "/data/attributes/interval",
            "not a valid attribute",
        ),
        ("flow-series-reports", flow_values(), "/data/attributes/interval", "required"),
        (
            "flow-series-reports",
            flow_values(interval="yearly"),
            "/data/attributes/interval",
            "not a valid interval",
        ),
        (
            "flow-series-reports",
            flow_values(interval="hourly"),
            "/data/attributes/interval",
            "7 days",
        ),
        (
            "flow-series-reports",
            flow_values(interval="daily", timeframe={"key": "last_90_days"}),
            "/data/attributes/interval",
            "60 days",
        ),
        (
            "flow-series-reports",
            flow_values(interval="monthly", timeframe={"key": "last_365_days"}),
            "/data/attributes/interval",
            "52 weeks",
        ),
        (
            "flow-values-reports",
            flow_values(group_by=["flow_id", "campaign_id"]),
            "/data/attributes/group_by/1",
            "campaign_id",
        ),
        (
            "flow-values-reports",
            flow_values(group_by=["flow_id", "send_channel"]),
            "/data/attributes/group_by",
            "flow_message_id",
        ),
        (
            "form-values-reports",
            {
                "timeframe": {"key": "today"},
                "statistics": ["submits"],
                "group_by": ["form_version_id"],
            },
            "/data/attributes/group_by",
            "form_id",
        ),
        (
            "segment-values-reports",
            {
                "timeframe": {"key": "today"},
                "statistics": ["total_members"],
                "group_by": ["segment_id"],
            },
            "/data/attributes/group_by",
            "not a valid attribute",
        ),
        (
            "flow-values-reports",
            flow_values(filter="equals(campaign_id,'x')"),
            "/data/attributes/filter",
            "not a filterable field",
        ),
        (
            "flow-values-reports",
            flow_values(filter="contains(flow_name,'Welcome')"),
            "/data/attributes/filter",
            "equals and contains-any",
        ),
        (
            "flow-values-reports",
            flow_values(filter="equals(tag_name,'VIP')"),
            "/data/attributes/filter",
            "contains-any and contains-all",
        ),
        (
            "flow-values-reports",
            flow_values(filter="equals(flow_id,'a'),contains-any(flow_id,['b'])"),
            "/data/attributes/filter",
            "one filter per field",
        ),
        (
            "flow-values-reports",
            flow_values(
                filter="contains-any(flow_id,[" + ",".join(f"'{i}'" for i in range(101)) + "])"
            ),
            "/data/attributes/filter",
            "at most 100",
        ),
        (
            "flow-values-reports",
            flow_values(filter="equals(send_channel,'fax')"),
            "/data/attributes/filter",
            "email, sms, push-notification, whatsapp",
        ),
        (
            "flow-values-reports",
            flow_values(filter="or(equals(flow_id,'a'),equals(flow_name,'b'))"),
            "/data/attributes/filter",
            "or()",
        ),
        (
            "flow-values-reports",
            flow_values(filter="equals(flow_id, 'a')"),
            "/data/attributes/filter",
            "whitespace",
        ),
        (
            "form-values-reports",
            {
                "timeframe": {"key": "today"},
                "statistics": ["submits"],
                "filter": "contains-any(form_id,['a'])",
            },
            "/data/attributes/filter",
            "equals and any",
        ),
        (
            "flow-values-reports",
            flow_values(colour="blue"),
            "/data/attributes/colour",
            "not a valid attribute",
        ),
    ],
)
def test_report_rules(
    client: httpx.Client, endpoint: str, attributes: dict[str, Any], pointer: str, says: str
) -> None:
    found = report(client, endpoint, attributes, status=400)
    assert found["source"] == {"pointer": pointer}
    assert says in found["detail"]
    assert found["code"] == "invalid"


def test_report_body_errors(client: httpx.Client) -> None:
    not_json = error(
        client.post(
            "flow-values-reports/", content=b"{", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert not_json["code"] == "parse_error"
    no_data = error(client.post("flow-values-reports/", json={"type": "flow-values-report"}), 400)
    assert no_data["source"] == {"pointer": "/data"}
    wrong_type = error(
        client.post(
            "flow-values-reports/",
            json={"data": {"type": "flow-series-report", "attributes": flow_values()}},
        ),
        409,
    )
    assert wrong_type["source"] == {"pointer": "/data/type"}
    assert error(client.post("campaign-series-reports/", json={}), 404)["code"] == "not_found"


def test_timeframe_keys() -> None:
    now = datetime(2025, 8, 5, 19, 30, tzinfo=timezone.utc)

    def day(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert timeframe_range("today", now) == (day("2025-08-05"), now)
    assert timeframe_range("yesterday", now) == (day("2025-08-04"), day("2025-08-05"))
    assert timeframe_range("this_week", now) == (day("2025-08-04"), now)
    assert timeframe_range("last_week", now) == (day("2025-07-28"), day("2025-08-04"))
    assert timeframe_range("last_month", now) == (day("2025-07-01"), day("2025-08-01"))
    assert timeframe_range("last_3_months", now) == (day("2025-05-01"), day("2025-08-01"))
    assert timeframe_range("last_12_months", now) == (day("2024-08-01"), day("2025-08-01"))
    assert timeframe_range("this_year", now) == (day("2025-01-01"), now)
    assert timeframe_range("last_year", now) == (day("2024-01-01"), day("2025-01-01"))
    assert timeframe_range("last_7_days", now) == (day("2025-07-29"), day("2025-08-05"))
    assert timeframe_range("last_365_days", now) == (day("2024-08-05"), day("2025-08-05"))
