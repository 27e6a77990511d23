"""The sandbox's Flow XO insights API: the shapes of Flow XO's guide, and their arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from flowql.sandbox import Sandbox

NOW = datetime(2025, 8, 5, 19, 30, 50, tzinfo=timezone.utc)
COUNTS = ("new_users", "triggers", "received_messages", "sent_messages")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer sandbox"}
    with httpx.Client(base_url=sb.flowxo_url, headers=headers, timeout=30) as c:
        yield c


def get(client: httpx.Client, path: str, params: Any = None, status: int = 200) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    if status != 200:
        assert set(body) == {"status", "error", "message"}
    return body


def test_insights_the_guide_request(client: httpx.Client) -> None:
    body = get(
        client,
        "insights",
        {"offset": 0, "start": "2025-06-01", "end": "2025-07-31", "unit": "month"},
    )
    assert list(body) == ["stats", "metrics"]
    (stats,) = body["stats"]
    assert list(stats) == [
        "_id",
        "active_users",
        "total_users",
        "new_users",
        "triggers",
        "received_messages",
        "sent_messages",
    ]
    assert stats["_id"] is None
    assert [(m["_id"], m["_timestamp"]) for m in body["metrics"]] == [
        ("2025-06", "2025-06-01T00:00:00.000Z"),
        ("2025-07", "2025-07-01T00:00:00.000Z"),
    ]
    for name in COUNTS:
        assert stats[name] == sum(m[name] for m in body["metrics"])
    assert stats["total_users"] == body["metrics"][-1]["total_users"]
    assert max(m["active_users"] for m in body["metrics"]) <= stats["active_users"]
    assert stats["active_users"] <= sum(m["active_users"] for m in body["metrics"])


@pytest.mark.parametrize(
    ("unit", "count", "first"), [("day", 3, "2025-08-01"), ("hour", 72, "2025-08-01T00")]
)
def test_units(client: httpx.Client, unit: str, count: int, first: str) -> None:
    body = get(client, "insights", {"start": "2025-08-01", "end": "2025-08-03", "unit": unit})
    assert len(body["metrics"]) == count
    assert body["metrics"][0]["_id"] == first
    for name in COUNTS:
        assert body["stats"][0][name] == sum(m[name] for m in body["metrics"])


def test_offset_moves_the_buckets(client: httpx.Client) -> None:
    utc = get(client, "insights", {"start": "2025-08-01", "end": "2025-08-01", "unit": "day"})
    pacific = get(
        client,
        "insights",
        {"start": "2025-08-01", "end": "2025-08-01", "unit": "day", "offset": -480},
    )
    assert utc["metrics"][0]["_timestamp"] == "2025-08-01T00:00:00.000Z"
    assert pacific["metrics"][0]["_timestamp"] == "2025-08-01T08:00:00.000Z"
    assert [m["_id"] for m in pacific["metrics"]] == ["2025-08-01"]
    assert utc["stats"] != pacific["stats"]


def test_defaults_are_the_last_30_days_by_day(client: httpx.Client) -> None:
    body = get(client, "insights")
    assert len(body["metrics"]) == 31  # 30 days back from 19:30 touches 31 days
    assert body["metrics"][-1]["_id"] == "2025-08-05"
    # Nothing has happened after now.
    later = get(client, "insights", {"start": "2025-08-06", "end": "2025-08-07"})
    assert all(later["stats"][0][name] == 0 for name in COUNTS)


def test_top_messages(client: httpx.Client) -> None:
    top = get(client, "insights/top_messages", {"start": "2025-07-01", "end": "2025-07-31"})
    assert len(top) == 10
    assert set(top[0]) == {"_id", "count"}
    counts = [m["count"] for m in top]
    assert counts == sorted(counts, reverse=True)
    assert top[0]["_id"] == "text me"
    limited = get(
        client, "insights/top_messages", {"start": "2025-07-01", "end": "2025-07-31", "limit": 3}
    )
    assert limited == top[:3]
    received = get(client, "insights", {"start": "2025-07-01", "end": "2025-07-31"})
    every = get(
        client, "insights/top_messages", {"start": "2025-07-01", "end": "2025-07-31", "limit": 100}
    )
    assert sum(m["count"] for m in every) == received["stats"][0]["received_messages"]


def test_top_flows(client: httpx.Client) -> None:
    top = get(
        client, "insights/top_flows", {"start": "2025-07-01", "end": "2025-07-31", "limit": 100}
    )
    assert top[0]["_id"] == {"id": "616f1b6a1680ec001b9a4579", "name": "Untitled Broadcast"}
    triggers = get(client, "insights", {"start": "2025-07-01", "end": "2025-07-31"})
    assert sum(f["count"] for f in top) == triggers["stats"][0]["triggers"]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("insights", {"unit": "week"}, 400, "unit"),
        ("insights", {"start": "last week"}, 400, "start"),
        ("insights", {"end": "2025-13-01"}, 400, "end"),
        ("insights", {"offset": "UTC"}, 400, "whole number"),
        ("insights", {"offset": "7"}, 422, "multiple of 15"),
        ("insights", {"start": "2025-08-02", "end": "2025-08-01"}, 422, "before end"),
        ("insights", {"start": "2024-01-01", "unit": "hour"}, 422, "at most"),
        ("insights", {"limit": "5"}, 400, "'limit'"),
        ("insights/top_flows", {"unit": "day"}, 400, "'unit'"),
        ("insights/top_flows", {"limit": "0"}, 422, "at least 1"),
        ("insights/top_messages", {"limit": "many"}, 400, "whole number"),
    ],
)
def test_errors(
    client: httpx.Client, path: str, params: dict[str, str], status: int, says: str
) -> None:
    assert says in get(client, path, params, status)["message"]


def test_only_get(client: httpx.Client) -> None:
    response = client.post("insights", json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
