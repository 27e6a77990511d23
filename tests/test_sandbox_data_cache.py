"""The sandbox's synthetic flow data is made once per minute and kept for the Flow API's whole
history: a 7-day fetch done again makes nothing afresh, and the data is what it always was.

These count what the cache made, never how long anything took.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Sequence

import httpx

from flowql.query import FlowQuery
from flowql.sandbox import SECRET, Sandbox, SyntheticData
from flowql.sandbox._conviva_data import FLOW_CACHE_MINUTES, Cache, FlowEvent

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
WEEK_MS = 7 * 86_400_000

# The events of flow 825 in the 7 days before NOW (seed 0), as the generator made them before
# the cache grew: the same seed must keep giving the same data.
WEEK_825_EVENTS = 77_980
WEEK_825_DIGEST = "0874964e6b03a2f271b18ae378b1daa2d0fd55f6d1ea693a3dde914903e13d0d"


def digest(events: Sequence[FlowEvent]) -> str:
    h = hashlib.sha256()
    for e in events:
        row = [e.time_ms, e.dimensions, e.completed, e.succeeded, e.duration]
        h.update(json.dumps(row).encode())
    return h.hexdigest()


def test_the_cache_counts_hits_and_misses() -> None:
    cache = Cache(2)
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    assert [cache.get(k, functools.partial(make, k)) for k in "abab"] == ["A", "B", "A", "B"]
    assert (cache.hits, cache.misses, len(cache)) == (2, 2, 2)
    cache.get("c", lambda: make("c"))  # evicts "a", the least recently used
    cache.get("a", lambda: make("a"))
    assert made == ["a", "b", "c", "a"]
    assert (cache.hits, cache.misses, len(cache), cache.size) == (2, 4, 2, 2)


def test_a_week_of_data_is_kept_and_unchanged() -> None:
    data = SyntheticData(0)
    flows = data.conviva._flows
    assert flows.cache.size >= 2 * (7 * 24 * 60)  # a week of each of the two flows
    first = data.flow_events("825", NOW_MS - WEEK_MS, NOW_MS)
    assert (len(first), digest(first)) == (WEEK_825_EVENTS, WEEK_825_DIGEST)
    made = flows.cache.misses
    assert made == 7 * 24 * 60
    again = data.flow_events("825", NOW_MS - WEEK_MS, NOW_MS)
    assert flows.cache.misses == made  # nothing made afresh
    assert [id(e) for e in again] == [id(e) for e in first]
    assert FLOW_CACHE_MINUTES > 7 * 24 * 60


def test_a_7_day_fetch_again_makes_nothing_afresh() -> None:
    plan = FlowQuery(
        "825", "historical", start=NOW - dt.timedelta(days=7) + dt.timedelta(minutes=5), end=NOW
    ).plan(now=NOW)
    assert len(plan.requests) == 168
    with (
        Sandbox(now=NOW, rate_limits=False) as sandbox,
        httpx.Client(base_url=sandbox.url, auth=("bench", SECRET)) as client,
    ):
        cache = sandbox.data.conviva._flows.cache

        def fetch() -> list[object]:
            answers = []
            for request in plan.requests:
                response = client.get(request.path)
                assert response.status_code == 200, response.text
                answers.append(response.json())
            return answers

        first = fetch()
        made = cache.misses
        assert made >= 7 * 24 * 60 - 5
        assert fetch() == first
        assert cache.misses == made  # each window served from minutes made once
