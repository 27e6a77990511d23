"""benchmarks/bench_client.py works: a smoke run with --quick --json (side by side with this same
checkout, so both kinds of worker run), its rate-window count, and the helpers of its figures.

Nothing here asserts how fast anything is: timings and goals belong to the benchmark's output.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from benchmark_scripts import REPO, loaded, positive
from benchmark_scripts import quick_run as run_quick

from flowql.sandbox import DEFAULT_LOG_SIZE, Sandbox


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


def test_logged_since_counts_past_the_ring() -> None:
    sandbox = Sandbox(log_size=3)
    with loaded("bench_client") as bench:
        for n in range(2):
            sandbox._record("GET", f"/{n}", "", 200, float(n), None)
        before = sandbox.logged
        assert bench.logged_since(sandbox, before) == []
        sandbox._record("GET", "/2", "", 200, 2.0, None)
        assert [e.path for e in bench.logged_since(sandbox, before)] == ["/2"]
        for n in range(3, 8):  # more than the ring keeps: what it still has
            sandbox._record("GET", f"/{n}", "", 200, float(n), None)
        assert [e.path for e in bench.logged_since(sandbox, before)] == ["/5", "/6", "/7"]


def test_the_helpers_of_the_figures() -> None:
    with loaded("bench_client") as bench:
        assert bench.ratio(1.0, 4.0) == 0.25
        assert positive(bench._rss_kb())
        paths = bench._window_paths(7)
        assert len(paths) == 168
        assert len(bench._window_paths(1)) == 24
        assert all(p.startswith("/flow-data/metrics/") for p in paths)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "client.json"
    # More requests than the log keeps, so that the ring shows.
    args = ("--windows", "6", "--against", str(REPO), "--requests", str(DEFAULT_LOG_SIZE + 50))
    return run_quick("bench_client", out, *args, timeout=300)


def test_quick_run(quick: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick
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


def test_quick_run_measures_the_client_cpu_side_by_side(
    quick: tuple[str, dict[str, Any]],
) -> None:
    stdout, report = quick
    assert report["goals"]["cpu_ratio"] == 0.5
    cpu = report["results"]["cpu"]
    assert (cpu["rounds"], cpu["windows"]) == (3, 6)
    assert set(cpu["sides"]) == {"this", "other"}
    for side in cpu["sides"].values():
        assert Path(side["flowql"]).is_relative_to(REPO)
        assert len(side["cpu_ms_per_window_all"]) == 3
        assert side["cpu_ms_per_window"] == statistics.median(side["cpu_ms_per_window_all"])
        assert positive(side["cpu_ms_per_window"])
        assert positive(side["wall_s"])
        assert isinstance(side["sniffio"], bool)
    this, other = cpu["sides"]["this"], cpu["sides"]["other"]
    assert cpu["cpu_this_over_other"] == pytest.approx(
        this["cpu_ms_per_window"] / other["cpu_ms_per_window"]
    )
    assert cpu["wall_this_over_other"] == pytest.approx(this["wall_s"] / other["wall_s"])
    assert "The client's CPU per window" in stdout
    assert "this / other: CPU" in stdout


def test_quick_run_measures_the_sandbox_bounds(quick: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick
    bounds = report["results"]["sandbox"]
    assert set(bounds) == {"this", "other"}
    for b in bounds.values():
        assert b["requests"] == DEFAULT_LOG_SIZE + 50
        assert b["log_entries"] == DEFAULT_LOG_SIZE  # the ring, full
        assert positive(b["rss_warm_mb"])
        assert b["rss_growth_mb"] == pytest.approx(b["rss_after_mb"] - b["rss_warm_mb"])
        assert (b["day_windows"], b["week_windows"], b["passes_again"]) == (24, 168, 1)
        assert positive(b["cpu_ms_per_window_day"])
        assert positive(b["cpu_ms_per_window_week"])
        assert b["week_over_day"] == pytest.approx(
            b["cpu_ms_per_window_week"] / b["cpu_ms_per_window_day"]
        )
    assert "The sandbox of this" in stdout
    assert "week / day" in stdout
