"""benchmarks/bench_frames.py works: a smoke run with --quick --json, and the results it builds.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

NAMES = [
    f"{kind} {lib}" for kind in ("series", "grouped") for lib in ("pandas", "polars", "parquet")
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return run_quick("bench_frames", tmp_path_factory.mktemp("bench") / "results.json")


def test_every_comparison_has_figures(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert report["quick"] is True
    assert report["goal"] == 2.0
    assert list(report["comparisons"]) == NAMES
    for name, figures in report["comparisons"].items():
        assert positive(figures["flowql_ms"]), name
        assert positive(figures["library_ms"]), name
        assert figures["met"] == (figures["ratio"] <= 2.0), name
        assert name in stdout


def test_the_results_have_the_rows_asked_for() -> None:
    with loaded("bench_frames") as bench:
        series = bench.make_series(50)
        grouped = bench.make_grouped(50)
        assert len(series) == len(grouped) == 50
        assert series.to_pandas().shape == (50, 8)
        assert str(grouped.to_pandas().dtypes["geo_country"]) == "category"
        assert bench.EXTRA == []  # the hook for the merge goal, empty until it is added
