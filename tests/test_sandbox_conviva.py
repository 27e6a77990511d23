"""The sandbox's Conviva APIs: the DPI Flow API and Sessions V3, over HTTP, against the guides'
rules and against flowql's own reading of the synthetic data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowql.model import demo_model, demo_sessions_model, model_from_data
from flowql.sandbox import Sandbox
from flowql.sandbox._util import epoch_ms
from flowql.syntax import parse
from flowql.targets.python import filter_records

NOW = datetime(2025, 8, 5, 19, 30, 50, tzinfo=timezone.utc)
NOW_MS = epoch_ms(NOW)
HOUR = 3_600_000
GUIDE_SESSION_KEYS = {
    "conviva_session_id",
    "client_id",
    "session_id",
    "viewer_id",
    "timestamps",
    "status_info",
    "lifetime_metrics",
    "content_info",
    "device_info",
    "geo_info",
    "network_info",
    "tags",
}
GUIDE_SUMMARY_KEYS = {
    "bitrate",
    "connection_induced_rebuffering_ratio",
    "ended_plays_duration",
    "exit_before_video_starts",
    "good_streams",
    "good_streams_average_play_time",
    "impacted_streams",
    "impacted_streams_average_play_time",
    "plays",
    "rebuffering_ratio",
    "spi_streams",
    "streaming_performance_index",
    "unique_devices",
    "video_playback_failures",
    "video_playback_failures_business",
    "video_playback_failures_tech",
    "video_restart_time",
    "video_start_failures",
    "video_start_failures_business",
    "video_start_failures_tech",
    "video_start_time",
}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.url, auth=("client", "sandbox"), timeout=30) as c:
        yield c


def get(client: httpx.Client, path: str, params: Any = None, status: int = 200) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    if status != 200:
        assert set(body) == {"status", "error", "message"}
        assert body["status"] == status
    return body


def historical(flow: str, start_ms: int, end_ms: int, group_by: str | None = None) -> str:
    path = f"/flow-data/metrics/{flow}/{start_ms}_to_{end_ms}"
    return path + (f"/group-by/{group_by}" if group_by else "")


def totals(sb: Sandbox, flow: str, start_ms: int, end_ms: int, text: str | None) -> dict[str, Any]:
    """The metrics flowql's python target computes from the synthetic events."""
    events = sb.data.flow_events(flow, start_ms, end_ms)
    if text is not None:
        keep = {id(d) for d in filter_records(parse(text), [e.dimensions for e in events])}
        events = [e for e in events if id(e.dimensions) in keep]
    complete = [e for e in events if e.completed]
    return {
        "init": len(events),
        "complete": len(complete),
        "success": sum(e.succeeded for e in events),
        "duration": sum(e.duration or 0 for e in complete) / len(complete) if complete else 0,
    }


def metrics(data: dict[str, Any], flow: str) -> dict[str, Any]:
    return {
        "init": data[f"m_{flow}_3"],
        "complete": data[f"m_{flow}_1"],
        "success": data[f"m_{flow}_4"],
        "duration": data[f"m_{flow}_2"],
    }


# --- the DPI Flow API ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["data-model", "flow-models"])
def test_data_model_reads_back_as_the_demo_model(client: httpx.Client, path: str) -> None:
    body = get(client, f"/flow-data/metadata/{path}")
    model = model_from_data(body)
    demo = demo_model()
    assert list(model.flows) == ["825", "142"]
    for flow_id, flow in demo.flows.items():
        read = model.flows[flow_id]
        assert read.label == flow.label
        assert {k: d.label for k, d in read.dimensions.items()} == {
            k: d.label for k, d in flow.dimensions.items()
        }
        assert [(m.key, m.unit, m.type) for m in read.metrics.values()] == [
            (m.key, m.unit, m.type) for m in flow.metrics.values()
        ]
    first = body["flow_models"][0]["metrics"][0]
    assert first["percentage_metric"] == {"key": "m_825_1_percentage"}


def test_real_time_with_granularity(sb: Sandbox, client: httpx.Client) -> None:
    body = get(client, "/flow-data/real-time-metrics/825/PT5M", {"granularity": "PT1M"})
    series = body["time_series"]
    assert len(series) == 5
    start = NOW_MS - 5 * 60_000
    assert [p["timestamp"]["epoch_ms"] for p in series] == [start + i * 60_000 for i in range(5)]
    assert series[0]["timestamp"]["iso_date"] == "2025-08-05T19:25:50.000Z"
    assert set(series[0]["metric_data"]) == {
        "m_825_1",
        "m_825_1_percentage",
        "m_825_2",
        "m_825_3",
        "m_825_4",
        "m_825_4_percentage",
    }
    aggregated = body["aggregated_metric_data"]
    assert aggregated["m_825_3"] == sum(p["metric_data"]["m_825_3"] for p in series)
    expected = totals(sb, "825", start, NOW_MS, None)
    assert metrics(aggregated, "825") == pytest.approx(expected)
    share = 100 * expected["complete"] / expected["init"]
    assert aggregated["m_825_1_percentage"] == pytest.approx(share)


def test_real_time_defaults_to_minutes(client: httpx.Client) -> None:
    body = get(client, "/flow-data/real-time-metrics/142/PT15M")
    assert len(body["time_series"]) == 15
    coarse = get(client, "/flow-data/real-time-metrics/142/PT15M", {"granularity": "PT5M"})
    assert len(coarse["time_series"]) == 3
    assert coarse["aggregated_metric_data"] == body["aggregated_metric_data"]


def test_group_by_has_the_guide_shape(client: httpx.Client) -> None:
    body = get(client, "/flow-data/real-time-metrics/142/PT15M/group-by/geo_country")
    (entry,) = body["time_series"]
    assert list(entry) == ["dimensional_data"]
    rows = entry["dimensional_data"]
    assert rows[0]["dimension"] == {"key": "geo_country", "value": "Spain", "country_code": "ES"}
    inits = [row["metric_data"]["m_142_3"] for row in rows]
    assert inits == sorted(inits, reverse=True)
    assert sum(inits) == body["aggregated_metric_data"]["m_142_3"]
    other = get(client, "/flow-data/real-time-metrics/142/PT15M/group-by/cdn/")
    assert "country_code" not in other["time_series"][0]["dimensional_data"][0]["dimension"]


def test_group_by_with_granularity_has_timestamps(client: httpx.Client) -> None:
    path = historical("825", NOW_MS - HOUR, NOW_MS, "login_method")
    body = get(client, path, {"granularity": "PT15M"})
    assert len(body["time_series"]) == 4
    assert all(set(p) == {"timestamp", "dimensional_data"} for p in body["time_series"])
    ungrouped = get(client, historical("825", NOW_MS - HOUR, NOW_MS))
    assert body["aggregated_metric_data"] == ungrouped["aggregated_metric_data"]


def test_historical_takes_epoch_ms_and_iso_8601(client: httpx.Client) -> None:
    start, end = NOW_MS - HOUR, NOW_MS - HOUR // 2
    by_ms = get(client, historical("142", start, end))
    iso = "/flow-data/metrics/142/2025-08-05T18:30:50Z_to_2025-08-05T19:00:50.000+00:00"
    assert get(client, iso) == by_ms
    assert len(by_ms["time_series"]) == 30


def test_nothing_has_happened_after_now(sb: Sandbox, client: httpx.Client) -> None:
    body = get(client, historical("825", NOW_MS - HOUR // 2, NOW_MS + HOUR // 2))
    assert len(body["time_series"]) == 60
    later = [p["metric_data"]["m_825_3"] for p in body["time_series"][30:]]
    assert later == [0] * 30
    expected = totals(sb, "825", NOW_MS - HOUR // 2, NOW_MS, None)
    assert metrics(body["aggregated_metric_data"], "825") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        (historical("825", NOW_MS, NOW_MS), None, "before its end"),
        (historical("825", NOW_MS, NOW_MS - 1000), None, "before its end"),
        (historical("825", NOW_MS - HOUR - 1, NOW_MS), None, "1 hour"),
        (historical("825", NOW_MS - 8 * 24 * HOUR, NOW_MS - 8 * 24 * HOUR + HOUR), None, "7 days"),
        ("/flow-data/real-time-metrics/825/PT16M", None, "PT1M to PT15M"),
        ("/flow-data/real-time-metrics/825/PT0M", None, "PT1M to PT15M"),
        ("/flow-data/real-time-metrics/825/PT5M", {"granularity": "PT10M"}, "longer than"),
        ("/flow-data/real-time-metrics/825/PT5M", {"granularity": "PT30S"}, "whole number"),
        ("/flow-data/real-time-metrics/825/PT5M/group-by/cdn", None, "no dimension 'cdn'"),
        ("/flow-data/real-time-metrics/825/PT5M", {"filter": "cdn == 'Akamai'"}, "'cdn'"),
    ],
)
def test_422_for_bad_values(
    client: httpx.Client, path: str, params: dict[str, str] | None, says: str
) -> None:
    body = get(client, path, params, status=422)
    assert says in body["message"]


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/flow-data/metrics/825/yesterday_to_today", None, "epoch milliseconds or ISO 8601"),
        ("/flow-data/metrics/825/1754418000000-1754421600000", None, "_to_"),
        ("/flow-data/real-time-metrics/825/5M", None, "PT1M to PT15M"),
        ("/flow-data/real-time-metrics/825/PT5M", {"granularity": "1 minute"}, "ISO 8601"),
        ("/flow-data/real-time-metrics/825/PT5M", {"interval": "PT1M"}, "'interval'"),
        ("/flow-data/real-time-metrics/825/PT5M", [("filter", "a == 'b'")] * 2, "more than once"),
        ("/flow-data/real-time-metrics/825/PT5M", {"filter": "geo_country = 'Spain'"}, "'='"),
        ("/flow-data/real-time-metrics/825/PT5M", {"filter": "NOT isp == 'BT'"}, "NOT"),
        ("/flow-data/real-time-metrics/825/PT5M", {"filter": "  "}, "empty"),
        ("/flow-data/metadata/data-model", {"flow": "825"}, "'flow'"),
    ],
)
def test_400_for_malformed_requests(
    client: httpx.Client, path: str, params: Any, says: str
) -> None:
    body = get(client, path, params, status=400)
    assert says in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/flow-data/real-time-metrics/999/PT5M",
        historical("1421", NOW_MS - HOUR, NOW_MS),
        "/flow-data/real-time-metrics/825/PT5M/by/cdn",
        "/flow-data/metadata/flows",
    ],
)
def test_404_for_unknown_flows_and_paths(client: httpx.Client, path: str) -> None:
    get(client, path, status=404)


FILTERS = [
    "device_operating_system == 'Android'",
    "device_operating_system != 'Android'",
    "geo_country == 'Côte d\\'Ivoire' OR geo_city ~~ 'São'",
    "(device_operating_system == 'Android' AND geo_country == 'Spain') OR isp !~ 'o'",
    "browser_version ~~ '12' AND connection_type != 'Cellular'",
    "device_operating_system_version == 'Android 13' OR device_name ~~ 'Samsung'",
    "geo_state == 'Provence-Alpes-Côte d\\'Azur'",
    "app_version == '6.0.0' and (geo_city == 'Madrid' or geo_city == 'Tokyo')",
]


@pytest.mark.parametrize("text", FILTERS)
def test_the_filter_means_what_the_python_target_says(
    sb: Sandbox, client: httpx.Client, text: str
) -> None:
    start = NOW_MS - HOUR
    body = get(client, historical("142", start, NOW_MS), {"filter": text})
    assert metrics(body["aggregated_metric_data"], "142") == pytest.approx(
        totals(sb, "142", start, NOW_MS, text)
    )


def test_the_filter_applies_to_each_group(sb: Sandbox, client: httpx.Client) -> None:
    text = "device_category != 'Desktop'"
    start = NOW_MS - HOUR
    body = get(client, historical("825", start, NOW_MS, "geo_country"), {"filter": text})
    for row in body["time_series"][0]["dimensional_data"]:
        country = row["dimension"]["value"].replace("'", "\\'")
        expected = totals(sb, "825", start, NOW_MS, f"{text} AND geo_country == '{country}'")
        assert metrics(row["metric_data"], "825") == pytest.approx(expected)


_KEYS = ["geo_country", "geo_city", "device_operating_system", "isp", "cdn", "browser_name"]
_VALUES = ["Spain", "Madrid", "Android", "o", "a", "Akamai", "Chrome", "S", "Côte d'Ivoire"]


def _leaf(key: str, op: str, value: str) -> str:
    return f"{key} {op} '{value.replace(chr(39), chr(92) + chr(39))}'"


_leaves = st.builds(
    _leaf,
    st.sampled_from(_KEYS),
    st.sampled_from(["==", "!=", "~~", "!~"]),
    st.sampled_from(_VALUES),
)
_filters = st.recursive(
    _leaves,
    lambda inner: st.builds(
        lambda parts, joiner: "(" + f" {joiner} ".join(parts) + ")",
        st.lists(inner, min_size=2, max_size=3),
        st.sampled_from(["AND", "OR"]),
    ),
    max_leaves=5,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_filters)
def test_random_filters_match_the_python_target(
    sb: Sandbox, client: httpx.Client, text: str
) -> None:
    start = NOW_MS - 20 * 60_000
    body = get(client, historical("142", start, NOW_MS), {"filter": text})
    assert metrics(body["aggregated_metric_data"], "142") == pytest.approx(
        totals(sb, "142", start, NOW_MS, text)
    )


# --- Sessions V3 --------------------------------------------------------------------------------

SESSIONS = "/insights/3.0/sessions"


def sessions(client: httpx.Client, path: str, params: Any = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = get(client, SESSIONS + path, params)["sessions"]
    return found


def ids(found: list[dict[str, Any]]) -> set[str]:
    return {s["conviva_session_id"] for s in found}


def test_content_sessions_by_default(client: httpx.Client) -> None:
    found = sessions(client, "/content")
    assert 0 < len(found) <= 50
    assert set(found[0]) == GUIDE_SESSION_KEYS
    starts = [s["timestamps"]["start"]["epoch_ms"] for s in found]
    assert starts == sorted(starts, reverse=True)
    assert all(NOW_MS - 3 * HOUR <= t < NOW_MS for t in starts)
    assert all(s["status_info"]["is_ended"] for s in found)
    assert all(s["timestamps"]["end"]["epoch_ms"] <= NOW_MS for s in found)
    assert all(s["content_info"]["category"] != "Ad" for s in found)
    session = found[0]
    assert session["conviva_session_id"] == f"{session['client_id']}.{session['session_id']}"


def test_ad_sessions(client: httpx.Client) -> None:
    found = sessions(client, "/ad", {"limit": 500})
    assert found
    assert all(s["content_info"]["category"] == "Ad" for s in found)
    assert all(s["tags"]["selected_dimensions"]["ad_position"] for s in found)
    preroll = sessions(client, "/ad", {"limit": 500, "ad_position": "Preroll"})
    assert preroll
    assert ids(preroll) < ids(found)


def test_limit(client: httpx.Client) -> None:
    assert len(sessions(client, "/content", {"limit": 3})) == 3
    assert len(sessions(client, "/content", {"limit": 500})) > 50
    assert "1 to 500" in get(client, SESSIONS + "/content", {"limit": 0}, 422)["message"]
    assert "1 to 500" in get(client, SESSIONS + "/content", {"limit": 501}, 422)["message"]
    assert "whole number" in get(client, SESSIONS + "/content", {"limit": "ten"}, 400)["message"]


def test_a_repeated_key_is_or_and_different_keys_and(client: httpx.Client) -> None:
    base = {"limit": 500}
    android = ids(sessions(client, "/content", {**base, "device_os": "Android"}))
    ios = ids(sessions(client, "/content", {**base, "device_os": "iOS"}))
    either = ids(
        sessions(
            client, "/content", [("limit", "500"), ("device_os", "Android"), ("device_os", "iOS")]
        )
    )
    assert android
    assert ios
    assert either == android | ios
    spain = ids(sessions(client, "/content", {**base, "geo_country_name": "Spain"}))
    both = ids(
        sessions(client, "/content", {**base, "device_os": "Android", "geo_country_name": "Spain"})
    )
    assert both == android & spain
    assert sessions(client, "/content", {**base, "device_os": "android"}) == []


def test_filters_read_the_session_fields(client: httpx.Client) -> None:
    params = {"limit": 500, "geo_city_name": "Los Angeles, California, United States"}
    found = sessions(client, "/content", params)
    assert found
    assert {s["geo_info"]["city"] for s in found} == {params["geo_city_name"]}
    cdn = sessions(client, "/content", {"limit": 500, "cdn": "Fastly"})
    assert cdn
    assert all("Fastly" in s["network_info"]["cdn"] for s in cdn)


def test_custom_tags_and_status_filters(client: httpx.Client) -> None:
    premium = sessions(client, "/content", {"limit": 500, "tag_subscription": "premium"})
    assert premium
    assert {s["tags"]["custom_tags"]["subscription"] for s in premium} == {"premium"}
    assert sessions(client, "/content", {"tag_noSuchTag": "x"}) == []
    failed = sessions(client, "/content", {"limit": 500, "is_video_start_failure": "true"})
    assert failed
    assert all(s["status_info"]["is_video_start_failure"] for s in failed)
    not_failed = sessions(client, "/content", {"limit": 500, "is_video_start_failure": "false"})
    everything = sessions(client, "/content", {"limit": 500})
    assert ids(failed) | ids(not_failed) == ids(everything)
    assert sessions(client, "/content", {"is_ended": "false"}) == []
    get(client, SESSIONS + "/content", {"is_ended": "yes"}, 400)


def test_saved_filters(client: httpx.Client) -> None:
    failures = sessions(client, "/content", {"limit": 500, "filter_id": "1001"})
    assert failures
    for s in failures:
        status = s["status_info"]
        assert status["is_video_start_failure"] or status["is_video_playback_failure"]
    body = get(client, SESSIONS + "/content", {"filter_id": "1001", "device_os": "iOS"}, 400)
    assert "filter_id" in body["message"]
    get(client, SESSIONS + "/content", {"filter_id": "424242"}, 422)
    get(client, SESSIONS + "/content", {"filter_id": "abc"}, 400)
    get(client, SESSIONS + "/content", [("filter_id", "1001"), ("filter_id", "1002")], 400)


def test_time_ranges(client: httpx.Client) -> None:
    iso = {"start_date": "2025-08-05T16:00:00Z", "end_date": "2025-08-05T19:00:00Z", "limit": 500}
    epoch = {"start_epoch": "1754409600", "end_epoch": "1754420400", "limit": 500}
    by_iso = sessions(client, "/content", iso)
    assert by_iso
    assert by_iso == sessions(client, "/content", epoch)
    starts = [s["timestamps"]["start"]["epoch_ms"] for s in by_iso]
    assert min(starts) >= 1754409600000
    assert max(starts) < 1754420400000


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"start_date": "2025-08-05T16:00:00Z", "end_epoch": "1754420400"}, 400, "one time"),
        ({"days": "1", "start_epoch": "1", "end_epoch": "2"}, 400, "one time"),
        ({"start_date": "2025-08-05T16:00:00Z"}, 400, "end_date"),
        ({"start_date": "5 Aug", "end_date": "2025-08-05T19:00:00Z"}, 400, "ISO 8601"),
        ({"start_epoch": "x", "end_epoch": "1754420400"}, 400, "whole number"),
        ({"start_epoch": "1754409600", "end_epoch": "1754420401"}, 422, "3 hours"),
        ({"start_epoch": "1754420400", "end_epoch": "1754409600"}, 422, "before its end"),
        (
            {"start_date": "2025-07-01T00:00:00Z", "end_date": "2025-07-01T01:00:00Z"},
            422,
            "31 days",
        ),
        ({"days": "1"}, 422, "3 hours"),
        ({"device": "iPhone"}, 400, "'device'"),
        ({"viewer_id": "x"}, 400, "'viewer_id'"),
    ],
)
def test_sessions_errors(
    client: httpx.Client, params: dict[str, str], status: int, says: str
) -> None:
    assert says in get(client, SESSIONS + "/content", params, status)["message"]


def _ongoing(sb: Sandbox) -> Any:
    for session in sb.data.sessions(NOW_MS - 6 * HOUR, NOW_MS, "content"):
        if not session.is_ended(NOW_MS):
            return session
    raise AssertionError("the synthetic data has no session on-going at NOW")


def test_viewer_sessions_include_on_going_ones(sb: Sandbox, client: httpx.Client) -> None:
    session = _ongoing(sb)
    found = sessions(client, "/content/viewer", {"viewer_id": session.viewer_id})
    assert found
    assert {s["viewer_id"] for s in found} == {session.viewer_id}
    (on_going,) = [s for s in found if not s["status_info"]["is_ended"]]
    assert on_going["timestamps"]["end"] is None
    content = ids(sessions(client, "/content", {"limit": 500}))
    assert on_going["conviva_session_id"] not in content
    by_ip = sessions(client, "/content/viewer", {"viewer_ip": session.ip})
    assert ids(by_ip) == ids(found)
    month = sessions(client, "/content/viewer", {"viewer_id": session.viewer_id, "days": 30})
    assert ids(found) < ids(month)
    assert (
        len(
            sessions(
                client, "/content/viewer", {"viewer_id": session.viewer_id, "days": 30, "limit": 2}
            )
        )
        == 2
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"viewer_id": "a", "viewer_ip": "1.2.3.4"}, 400),
        ({"viewer_ip": "1.2.3.999"}, 422),
        ({"viewer_id": "a", "days": "40"}, 422),
        ({"viewer_id": "a", "device_os": "iOS"}, 400),
    ],
)
def test_viewer_errors(client: httpx.Client, params: dict[str, str], status: int) -> None:
    get(client, SESSIONS + "/content/viewer", params, status)


def test_unknown_viewers_have_no_sessions(client: httpx.Client) -> None:
    assert sessions(client, "/content/viewer", {"viewer_id": "nobody"}) == []
    summary = get(client, SESSIONS + "/content/viewer/summary", {"viewer_ip": "10.0.0.1"})
    assert summary["total"]["plays"] == {"count": 0}


def test_viewer_summary(sb: Sandbox, client: httpx.Client) -> None:
    viewer_id, _ = sb.data.conviva.viewer(3)
    params = {"viewer_id": viewer_id, "days": 30}
    summary = get(client, SESSIONS + "/content/viewer/summary", params)
    assert set(summary) == {"total", "_meta"}
    assert set(summary["total"]) == GUIDE_SUMMARY_KEYS
    meta = summary["_meta"]
    assert meta["queries"] == {
        "viewer_id": viewer_id,
        "start_epoch_ms": NOW_MS - 30 * 24 * HOUR,
        "end_epoch_ms": NOW_MS,
    }
    assert meta["query_string"].startswith(f"viewer_id={viewer_id}&start_epoch_ms=")
    found = sessions(client, "/content/viewer", params)
    plays = [s for s in found if s["lifetime_metrics"]["playing_time_ms"] > 0]
    assert summary["total"]["plays"]["count"] == len(plays)
    assert summary["total"]["spi_streams"]["count"] == len(found)
    get(client, SESSIONS + "/content/viewer/summary", {"viewer_id": viewer_id, "limit": 5}, 400)


def test_dimension_list_reads_back_as_the_demo_sessions_model(client: httpx.Client) -> None:
    body = get(client, SESSIONS + "/_meta/references/dimensions")
    assert body["dimensions"][0] == {
        "name": "App Version",
        "query_filter": "?app_version",
        "is_custom": False,
    }
    model = model_from_data(body)
    demo = demo_sessions_model()
    assert {k: d.type for k, d in model.dimensions().items()} == {
        k: d.type for k, d in demo.dimensions().items()
    }


def test_discovery_lists_the_endpoints(client: httpx.Client) -> None:
    paths = [e["path"] for e in get(client, SESSIONS)["endpoints"]]
    assert paths[:3] == [f"{SESSIONS}/content", f"{SESSIONS}/ad", f"{SESSIONS}/content/viewer"]
    for path in paths:
        params = {"viewer_id": "x"} if "viewer" in path else None
        assert client.get(path, params=params).status_code == 200


def test_sessions_are_relative_to_now(sb: Sandbox) -> None:
    later = NOW + timedelta(hours=1)
    with Sandbox(now=later, rate_limits=False) as other:
        moved = httpx.get(other.url + SESSIONS + "/content?limit=500", auth=("c", "sandbox"))
        assert moved.status_code == 200
    starts = [s["timestamps"]["start"]["epoch_ms"] for s in moved.json()["sessions"]]
    assert min(starts) >= epoch_ms(later) - 3 * HOUR
