"""Tests for each API's client against mock servers shaped like the vendors' guides: Conviva
Sessions V3, Klaviyo (paging, flow triggers, reports) and Flow XO, the Flow data model, and
post-filtering."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flowql.client import (
    AsyncConvivaFlowClient,
    AsyncConvivaSessionsClient,
    AsyncFlowXOClient,
    AsyncKlaviyoClient,
    ClientError,
    ConvivaSessionsClient,
    FlowXOClient,
    KlaviyoClient,
)
from flowql.query import KlaviyoReportQuery, QueryError, SessionsQuery
from flowql.results import Rows, Sessions, TimeSeries

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Server:
    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- Conviva Sessions V3 ----------------------------------------------------------------------


def session(start_ms: int, os: str, city: str, tech_failure: bool = False) -> dict[str, Any]:
    return {
        "conviva_session_id": f"1.2.3.4.-{start_ms}",
        "timestamps": {"start": {"epoch_ms": start_ms}, "end": {"epoch_ms": start_ms + 1000}},
        "status_info": {"is_ended": True, "is_video_start_failure_tech": tech_failure},
        "device_info": {"os": os, "browser": {"name": "Native App"}},
        "geo_info": {"city": city, "country": {"name": "United States", "code": "US"}},
        "network_info": {"cdn": ["INHOUSE"], "asn": {"value": "33491"}, "isp": "Comcast"},
        "tags": {
            "selected_dimensions": {"device_os": os},
            "custom_tags": {"specialContentId": "1A2B"},
        },
    }


def sessions_server() -> Server:
    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path.endswith("/dimensions"):
            return httpx.Response(
                200,
                json={"dimensions": [{"name": "App Version", "query_filter": "?app_version"}]},
            )
        if request.url.path.endswith("/viewer/summary"):
            return httpx.Response(
                200,
                json={
                    "total": {"plays": {"count": 3}, "bitrate": {"bps": 1200}},
                    "_meta": {"queries": {"viewer_id": params["viewer_id"]}},
                },
            )
        start = int(params.get("start_epoch", NOW.timestamp() - 3600)) * 1000
        found = [
            session(start + 60_000, "Android", "Los Angeles, California, United States"),
            session(start, "Android", "Chicago, Illinois, United States", True),
        ]
        wanted = params.get_list("device_os")
        found = [
            s
            for s in found
            if not wanted or s["tags"]["selected_dimensions"]["device_os"] in wanted
        ]
        return httpx.Response(200, json={"sessions": found})

    return Server(answer)


def sessions_client(server: Server) -> AsyncConvivaSessionsClient:
    return AsyncConvivaSessionsClient("id", "secret", transport=server.transport, now=lambda: NOW)


def test_sessions_windows_are_merged_in_start_order() -> None:
    server = sessions_server()
    query = SessionsQuery(start_epoch="-6h", end_epoch="now", limit=10)
    result = run(sessions_client(server).query(query))
    assert isinstance(result, Sessions)
    starts = [s["timestamps"]["start"]["epoch_ms"] for s in result.sessions]  # type: ignore[index]
    assert starts == sorted(starts)
    assert len(starts) == 4
    assert [r.url.params["limit"] for r in server.requests] == ["10", "10"]
    assert len(result.windows) == 2


def test_sessions_post_filter_applies_what_the_api_cannot() -> None:
    server = sessions_server()
    result = run(
        sessions_client(server).content(
            filter="device_os == 'Android' AND geo_city_name ~~ 'Los Angeles'",
            post_filter=True,
        )
    )
    (request,) = server.requests
    assert request.url.params.get_list("device_os") == ["Android"]
    assert "geo_city_name" not in request.url.params
    assert [r["geo_city_name"] for r in result.to_records()] == [
        "Los Angeles, California, United States"
    ]
    assert result.sent_filter == "device_os == 'Android'"
    assert result.post_filter == "geo_city_name ~~ 'Los Angeles'"


def test_session_records_carry_the_keys_filters_use() -> None:
    result = run(sessions_client(sessions_server()).content())
    record = result.to_records()[0]
    assert record["device_os"] == "Android"
    assert record["is_video_start_failure_tech"] is True
    assert record["tag_specialContentId"] == "1A2B"
    assert record["device_info.browser.name"] == "Native App"
    assert record["geo_city_name"] == "Chicago, Illinois, United States"
    assert record["geo_country_name"] == "United States"
    assert (record["cdn"], record["asn"], record["isp"]) == ("INHOUSE", "33491", "Comcast")


def test_viewer_summary_and_dimensions() -> None:
    server = sessions_server()
    client = sessions_client(server)
    summary = run(client.viewer_summary(viewer_id="47a28f72", days=1))
    assert summary.to_records() == [{"plays.count": 3, "bitrate.bps": 1200}]
    assert summary.info == {"queries": {"viewer_id": "47a28f72"}}
    assert server.requests[0].url.params["days"] == "1"
    model = run(client.dimensions())
    assert model.kind == "conviva-sessions"
    assert model.lookup("app_version") is not None
    assert model.lookup("tag_anything") is not None


def test_sessions_sync_equals_async() -> None:
    query = SessionsQuery(start_date="-4h", end_date="now", filter="device_os == 'Android'")
    async_result = run(sessions_client(sessions_server()).query(query))
    with ConvivaSessionsClient(
        "id", "secret", transport=sessions_server().transport, now=lambda: NOW
    ) as client:
        assert client.query(query) == async_result


def test_a_bad_sessions_query_sends_nothing() -> None:
    server = sessions_server()
    with pytest.raises(QueryError) as caught:
        run(sessions_client(server).viewer(viewer_id="a", viewer_ip="1.2.3.4"))
    assert caught.value.code == "FQ707"
    assert server.requests == []


# --- Conviva Flow data model --------------------------------------------------------------------


def test_the_data_model_falls_back_to_the_newer_path() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/flow-models"):
            return httpx.Response(200, json={"flow_models": [{"id": "825", "label": "Login"}]})
        return httpx.Response(404)

    server = Server(answer)
    client = AsyncConvivaFlowClient("id", "secret", transport=server.transport)
    model = run(client.data_model())
    assert list(model.flows) == ["825"]
    assert [r.url.path for r in server.requests] == [
        "/flow-data/metadata/data-model",
        "/flow-data/metadata/flow-models",
    ]


def test_a_malformed_data_model_is_an_invalid_response() -> None:
    server = Server(lambda r: httpx.Response(200, json={"flows": []}))
    client = AsyncConvivaFlowClient("id", "secret", transport=server.transport)
    with pytest.raises(ClientError) as caught:
        run(client.data_model())
    assert caught.value.code == "FQ731"


# --- Klaviyo ---------------------------------------------------------------------------------


def metric(ident: str, name: str, integration: str) -> dict[str, Any]:
    return {
        "type": "metric",
        "id": ident,
        "attributes": {"name": name, "integration": {"id": "0rG4eQ", "name": integration}},
    }


def klaviyo_server(next_link: str | None = None) -> Server:
    pages = {
        "/api/metrics": (
            [metric("REcTBe", "YourIntegration: Sent SMS", "YourIntegration")],
            next_link or "https://a.klaviyo.com/api/metrics?page%5Bcursor%5D=2",
        ),
        "/api/metrics?page%5Bcursor%5D=2": (
            [metric("RcsmFp", "YourIntegration: Marked Email as Spam", "YourIntegration")],
            None,
        ),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if path.startswith("/api/metrics?filter="):
            path = "/api/metrics"
        if "/relationships/flow-triggers" in path:
            return httpx.Response(200, json={"data": [{"type": "flow", "id": "T7K2j8"}]})
        if path.endswith("-reports"):
            body = json.loads(request.content)
            series = body["data"]["type"].endswith("series-report")
            stats = body["data"]["attributes"]["statistics"]
            rows = [
                {
                    "groupings": {"flow_id": "T7K2j8", "send_channel": channel},
                    "statistics": {s: ([1, 2, 3] if series else 6) for s in stats},
                }
                for channel in ("email", "sms")
                # The one filter this mock understands.
                if 'equals(send_channel,"sms")' not in body["data"]["attributes"].get("filter", "")
                or channel == "sms"
            ]
            attributes: dict[str, Any] = {"results": rows}
            if series:
                attributes["date_times"] = ["2024-01-05", "2024-01-06", "2024-01-07"]
            return httpx.Response(
                200, json={"data": {"type": body["data"]["type"], "attributes": attributes}}
            )
        items, following = pages[path]
        return httpx.Response(200, json={"data": items, "links": {"self": path, "next": following}})

    return Server(answer)


def klaviyo(server: Server) -> AsyncKlaviyoClient:
    return AsyncKlaviyoClient(
        "pk_test", transport=server.transport, rate_limits={"reports": [(100, 1.0)]}
    )


def test_klaviyo_metrics_follow_links_next_to_the_end() -> None:
    server = klaviyo_server()
    result = run(klaviyo(server).metrics(filter="integration.name == 'YourIntegration'"))
    assert [r["id"] for r in result.to_records()] == ["REcTBe", "RcsmFp"]
    assert result.to_records()[0]["integration.name"] == "YourIntegration"
    assert server.requests[0].url.params["filter"] == 'equals(integration.name,"YourIntegration")'
    assert len(server.requests) == 2


def test_klaviyo_next_links_elsewhere_are_not_followed() -> None:
    server = klaviyo_server("https://evil.example.com/api/metrics?page=2")
    with pytest.raises(ClientError) as caught:
        run(klaviyo(server).metrics())
    assert caught.value.code == "FQ731"
    assert len(server.requests) == 1  # the credentials never went to the other host


def test_klaviyo_flow_triggers() -> None:
    result = run(klaviyo(klaviyo_server()).flow_triggers("REcTBe"))
    assert result.to_records() == [{"id": "T7K2j8", "type": "flow"}]


def test_klaviyo_values_and_series_reports() -> None:
    server = klaviyo_server()
    client = klaviyo(server)
    values = run(
        client.report(
            "flow-values",
            statistics=["clicks", "clicks_unique"],
            timeframe="last_12_months",
            conversion_metric_id="REcTBe",
            filter="flow_id == 'T7K2j8'",
        )
    )
    body = json.loads(server.requests[0].content)
    assert body["data"]["attributes"]["filter"] == 'equals(flow_id,"T7K2j8")'
    assert server.requests[0].headers["content-type"] == "application/vnd.api+json"
    assert values.to_records()[0] == {
        "flow_id": "T7K2j8",
        "send_channel": "email",
        "clicks": 6,
        "clicks_unique": 6,
    }
    series = run(
        client.query(
            KlaviyoReportQuery(
                "flow-series",
                statistics=("clicks",),
                timeframe="last_30_days",
                interval="weekly",
                conversion_metric_id="REcTBe",
            )
        )
    )
    records = series.to_records()
    assert len(records) == 6
    assert records[1] == {
        "date_time": "2024-01-06",
        "flow_id": "T7K2j8",
        "send_channel": "email",
        "clicks": 2,
    }


def test_klaviyo_report_post_filter_on_groupings() -> None:
    result = run(
        klaviyo(klaviyo_server()).report(
            "flow-values",
            statistics="clicks",
            timeframe="last_7_days",
            conversion_metric_id="REcTBe",
            filter="send_channel == 'sms' AND flow_id != 'nope'",
            post_filter=True,
        )
    )
    assert [r["send_channel"] for r in result.to_records()] == ["sms"]
    nope = run(
        klaviyo(klaviyo_server()).report(
            "flow-values",
            statistics="clicks",
            timeframe="last_7_days",
            conversion_metric_id="REcTBe",
            filter="flow_id != 'T7K2j8'",
            post_filter=True,
        )
    )
    assert nope.to_records() == []
    assert nope.sent_filter is None
    assert result.sent_filter == "send_channel == 'sms'"
    assert result.post_filter == "flow_id != 'nope'"


def test_klaviyo_sync_equals_async() -> None:
    async_rows = run(klaviyo(klaviyo_server()).metrics())
    with KlaviyoClient("pk_test", transport=klaviyo_server().transport) as client:
        assert client.metrics() == async_rows


def test_a_bad_klaviyo_report_sends_nothing() -> None:
    server = klaviyo_server()
    with pytest.raises(QueryError) as caught:
        run(klaviyo(server).report("flow-values", statistics="clicks", timeframe="last_7_days"))
    assert caught.value.code == "FQ711"
    assert server.requests == []


# --- Flow XO ---------------------------------------------------------------------------------


INSIGHTS = {
    "stats": [{"_id": None, "active_users": 23, "total_users": 55, "new_users": 10}],
    "metrics": [
        {"_id": "2021-11", "_timestamp": "2021-11-01T00:00:00.000Z", "new_users": 1},
        {"_id": "2021-10", "_timestamp": "2021-10-01T00:00:00.000Z", "new_users": 9},
    ],
}
TOP_FLOWS = [
    {"_id": {"id": "616f1b6a1680ec001b9a4579", "name": "Untitled Broadcast"}, "count": 93},
    {"_id": {"id": "5e4078ccbf034a59fd0b611d", "name": "Text Me"}, "count": 19},
]


def flowxo_server() -> Server:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("top_flows"):
            return httpx.Response(200, json=TOP_FLOWS)
        if request.url.path.endswith("top_messages"):
            return httpx.Response(200, json=[{"_id": "text me", "count": 18}])
        return httpx.Response(200, json=INSIGHTS)

    return Server(answer)


def test_flowxo_insights_are_a_time_series_with_totals() -> None:
    server = flowxo_server()
    client = AsyncFlowXOClient("fx", transport=server.transport)
    result = run(client.insights("2021-10-01", "2021-11-30", unit="month", offset=0))
    assert isinstance(result, TimeSeries)
    assert [r["period"] for r in result.to_records()] == ["2021-10", "2021-11"]
    assert result.totals == {"active_users": 23, "total_users": 55, "new_users": 10}
    assert str(server.requests[0].url) == (
        "https://flowxo.com/api/insights?offset=0&start=2021-10-01&end=2021-11-30&unit=month"
    )


def test_flowxo_filters_run_here_and_the_result_says_so() -> None:
    server = flowxo_server()
    client = AsyncFlowXOClient("fx", transport=server.transport)
    result = run(client.top_flows(limit=5, filter="flow_name ~~ 'Text'"))
    assert isinstance(result, Rows)
    assert result.to_records() == [
        {"flow_id": "5e4078ccbf034a59fd0b611d", "flow_name": "Text Me", "count": 19}
    ]
    assert result.post_filter == "flow_name ~~ 'Text'"
    assert result.sent_filter is None
    assert "filter" not in str(server.requests[0].url)
    messages = run(client.top_messages(filter="message == 'text me'"))
    assert messages.to_records() == [{"message": "text me", "count": 18}]


def test_flowxo_sync_equals_async() -> None:
    async_result = run(AsyncFlowXOClient("fx", transport=flowxo_server().transport).insights())
    with FlowXOClient("fx", transport=flowxo_server().transport) as client:
        assert client.insights() == async_result
