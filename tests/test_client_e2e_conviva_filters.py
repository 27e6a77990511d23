"""Every operator of the Conviva Flow filter syntax, through the real client, against the
sandbox on 127.0.0.1, with the expected metrics computed here from the synthetic events by
hand-written Python (neither flowql's targets nor the sandbox's reader).

The sandbox reads filters with its own reader (flowql.sandbox.conviva_filter), so these tests
fail when flowql's conviva-flow target sends something that means another thing:
tests/test_conviva_mutation.py runs this module with an operator's meaning changed in the
target and checks that it fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from flowql.client import ConvivaFlowClient
from flowql.results import TimeSeries
from flowql.sandbox import Sandbox

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
INTERVAL = 15  # minutes: one real-time request, PT15M

Dimensions = dict[str, str]

CASES: list[tuple[str, str, Callable[[Dimensions], bool]]] = [
    (
        "==",
        "device_operating_system == 'Android'",
        lambda d: d["device_operating_system"] == "Android",
    ),
    (
        "!=",
        "device_operating_system != 'Android'",
        lambda d: d["device_operating_system"] != "Android",
    ),
    ("~~", "isp ~~ 'Spain'", lambda d: "Spain" in d["isp"]),
    ("!~", "isp !~ 'Spain'", lambda d: "Spain" not in d["isp"]),
    (
        "AND",
        "connection_type == 'Cellular' AND geo_country == 'Spain'",
        lambda d: d["connection_type"] == "Cellular" and d["geo_country"] == "Spain",
    ),
    (
        "OR",
        "connection_type == 'Cellular' OR geo_country == 'Spain'",
        lambda d: d["connection_type"] == "Cellular" or d["geo_country"] == "Spain",
    ),
    (
        "precedence",
        "cdn == 'Akamai' OR connection_type == 'Cellular' AND geo_country == 'Spain'",
        lambda d: (
            d["cdn"] == "Akamai"
            or (d["connection_type"] == "Cellular" and d["geo_country"] == "Spain")
        ),
    ),
    (
        "escapes",
        "geo_country == 'Côte d\\'Ivoire' OR geo_city ~~ 'São'",
        lambda d: d["geo_country"] == "Côte d'Ivoire" or "São" in d["geo_city"],
    ),
    (
        "IN and NOT",
        "geo_country IN ('Spain', 'France') AND NOT device_operating_system ~~ 'OS'",
        lambda d: (
            d["geo_country"] in ("Spain", "France") and "OS" not in d["device_operating_system"]
        ),
    ),
    (
        "NOT over OR",
        "NOT (cdn == 'Akamai' OR browser_name != 'Chrome')",
        lambda d: d["cdn"] != "Akamai" and d["browser_name"] == "Chrome",
    ),
]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(host="127.0.0.1", seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


def counts(sb: Sandbox, keep: Callable[[Dimensions], bool]) -> list[int]:
    """The runs begun in each minute of the last 15, among the events ``keep`` accepts."""
    end = int(NOW.timestamp() * 1000)
    start = end - INTERVAL * 60_000
    out = [0] * INTERVAL
    for event in sb.data.flow_events("142", start, end):
        if keep(event.dimensions):
            out[(event.time_ms - start) // 60_000] += 1
    return out


@pytest.mark.parametrize(("text", "keep"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_operator_through_the_client(
    sb: Sandbox, text: str, keep: Callable[[Dimensions], bool]
) -> None:
    expected = counts(sb, keep)
    everything = sum(counts(sb, lambda d: True))
    assert 0 < sum(expected) < everything  # the filter tells runs apart
    with ConvivaFlowClient("e2e", "sandbox", base_url=sb.conviva_url, now=lambda: NOW) as client:
        result = client.real_time("142", f"PT{INTERVAL}M", granularity="PT1M", filter=text)
    assert isinstance(result, TimeSeries)
    assert [p.timestamp for p in result.points] == [
        NOW - (INTERVAL - i) * MINUTE for i in range(INTERVAL)
    ]
    assert [p.values["m_142_3"] for p in result.points] == expected
    assert result.totals["m_142_3"] == sum(expected)
