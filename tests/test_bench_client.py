"""benchmarks/bench_client.py works: a smoke run with --quick --json, and its rate-window count.

Nothing here asserts how fast anything is: timings and goals belong to the benchmark's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_scripts import loaded
from benchmark_scripts import quick_run as run_quick


@pytest.mark.parametrize(
    ("times", "period", "expected"),
    [
        ([], 1.0, 0),
        ([0.0], 1.0, 1),
        ([0.0, 0.5, 0.99, 1.0], 1.0, 3),
        ([3.0, 0.0, 1.0, 2.0, 2.5], 1.0, 2),
        ([0.0, 0.0, 0.0], 0.5, 3),
    ],
)
def test_max_in_window(times: list[float], period: float, expected: int) -> None:
    with loaded("bench_client") as bench:
        assert bench.max_in_window(times, period) == expected


def test_quick_run(tmp_path: Path) -> None:
    stdout, report = run_quick("bench_client", tmp_path / "client.json", "--windows", "6")
    r = report["results"]
    assert report["quick"] is True
    assert r["windows"] == 6
    assert r["rounds"] == 1
    assert r["flowql_s"] > 0
    assert r["sequential_s"] > 0
    assert r["ideal_s"] == pytest.approx(6 / 8 * 0.02)
    # The warm-up run and one timed run of each: three fetches of six windows.
    assert r["requests"] == 18
    assert r["answered_429"] == 0
    assert all(x["most_seen"] <= x["requests"] for x in r["rate_limits"])
    for line in ("flowql faster by", "flowql / ideal", "rate limit:"):
        assert line in stdout
