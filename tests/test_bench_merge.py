"""benchmarks/bench_merge.py works: a smoke run with --quick --json, and what it compares is
the same merge (flowql's rows, pandas' frame and polars' frame agree).

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    with loaded("bench_merge") as module:
        yield module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return run_quick("bench_merge", tmp_path_factory.mktemp("bench") / "results.json")


def test_the_report_has_every_figure_and_goal(quick_run: tuple[str, dict[str, Any]]) -> None:
    out, report = quick_run
    assert report["quick"] is True
    assert report["windows"] == 168
    assert report["rows"] == 168 * report["groups"]
    assert report["missing"] == []  # the dev extra brings pandas and polars
    for name in ("flowql", "pandas", "polars"):
        assert positive(report["median_ms"][name]), name
    for other in ("pandas", "polars"):
        goal = report["goals"][other]
        assert goal["status"] in ("MET", "MISSED")
        assert positive(goal["ratio"])
        assert f"/ {other}: " in out


def test_the_three_ways_merge_to_the_same_numbers(bench: ModuleType) -> None:
    rows = bench.make_rows(windows=5, groups=4)
    records = bench.records_of(rows)
    ours = {r.value: r.metrics for r in bench.flowql_merge(rows)()[0]}
    frame = bench.pandas_merge(records)()
    polars = bench.polars_merge(records)()
    assert len(ours) == len(frame) == len(polars) == 4
    for record in frame.to_dict("records"):
        mine = ours[record["geo_country"]]
        for key in ("m_825_1", "m_825_3", "m_825_4"):
            assert mine[key] == record[key]
        assert mine["m_825_1_percentage"] == pytest.approx(record["m_825_1_percentage"])
        assert mine["m_825_2"] is None
    for record in polars.to_dicts():
        assert ours[record["geo_country"]]["m_825_4"] == record["m_825_4"]
