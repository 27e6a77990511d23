"""benchmarks/bench_engines.py works: a smoke run with --quick --json over every engine (Spark
included), and the queries it compares mean the same on its data.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

ENGINES = ["python", "duckdb", "polars", "spark"]


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    with loaded("bench_engines") as module:
        yield module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    where = tmp_path_factory.mktemp("bench")
    return run_quick("bench_engines", where / "results.json", "--data", str(where / "data"))


def test_every_engine_counts_the_same_rows(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert report["quick"] is True
    assert report["rows"] == report["python_rows"] == 2_000
    assert report["comparisons"] == 20
    assert report["variant"] == "flow"
    assert "tags" not in report["filter"]  # a Conviva flow's dimensions hold no lists
    assert list(report["engines"]) == ENGINES
    counts = report["counts"]
    assert counts["equal"] is True
    # The python target filtered the whole (small) file, so it is among the counts compared.
    assert sorted(counts["whole_file"]) == sorted(
        f"{engine} {side}"
        for engine in ENGINES
        for side in (("compiled", "from_file") if engine == "python" else ("compiled", "hand"))
    )
    (selected,) = set(counts["whole_file"].values())
    assert 0 < selected < report["rows"] / 2  # the filter selects some rows, not all
    assert f"counts: every query on the whole file {selected:,}: EQUAL" in stdout


def test_every_query_has_figures_and_every_goal_is_recorded(
    quick_run: tuple[str, dict[str, Any]],
) -> None:
    stdout, report = quick_run
    assert report["goals"] == {"vs_python": 50.0, "compiled_over_hand": 1.5}
    for name, figures in report["engines"].items():
        assert figures["clause"], name
        sides = ["compiled", "from_file"] if name == "python" else ["compiled", "hand"]
        assert list(figures["queries"]) == sides
        for side in sides:
            query = figures["queries"][side]
            assert positive(query["median_s"]), (name, side)
            assert positive(query["rows_per_s"]), (name, side)
            assert query["same_every_round"] is True
        if name == "python":
            assert "vs_python" not in figures
            continue
        # Beside the goal (from the file, like for like): against filtering alone, no goal.
        filtering = figures["vs_python_filtering"]
        assert positive(filtering["ratio"]), name
        assert filtering["goal"] is None
        assert filtering["met"] is None
        hand = figures["compiled_over_hand"]
        assert hand["goal"] == 1.5
        assert hand["met"] == (hand["ratio"] <= 1.5), name
        speed = figures["vs_python"]
        assert positive(speed["ratio"]), name
        if name == "spark":
            assert speed["goal"] is None
            assert speed["met"] is None
        else:
            assert speed["goal"] == 50.0
            assert speed["met"] == (speed["ratio"] >= 50.0), name
        assert name in stdout
    assert "`geo_country`" in report["engines"]["spark"]["clause"]  # the spark dialect's quoting


def test_the_python_sample_is_checked_against_duckdb(bench: ModuleType, tmp_path: Path) -> None:
    # Given fewer rows than the file, the python target's count is held to DuckDB's on them.
    path, made = bench.parquet_file(3_000, tmp_path)
    assert made
    assert bench.parquet_file(3_000, tmp_path) == (path, False)  # reused, not made again
    figures = bench.bench(path, 3_000, 1_000, 1, ["python", "duckdb"])
    sample = figures["counts"]["python_sample"]
    assert sample["rows"] == 1_000
    assert sample["count"] == sample["duckdb_count"] > 0
    assert figures["counts"]["equal"] is True
    assert "python compiled" not in figures["counts"]["whole_file"]


def test_the_filter_with_lists_means_the_same_everywhere(bench: ModuleType, tmp_path: Path) -> None:
    query = bench.make_filter("lists")
    assert "tags == 'sports'" in query.flowql
    assert bench.comparisons(query.flowql) == 20
    path, _ = bench.parquet_file(3_000, tmp_path)
    figures = bench.bench(path, 3_000, 3_000, 1, ["python", "duckdb", "polars"], query)
    assert figures["counts"]["equal"] is True
    assert len(figures["counts"]["whole_file"]) == 6  # python twice, the others compiled and hand
    assert "ARRAY_CONTAINS" in figures["engines"]["duckdb"]["clause"]


def test_the_data_has_nulls_and_wildcard_characters(bench: ModuleType) -> None:
    table = bench.make_table(5_000)
    assert table.num_rows == 5_000
    assert table.column("session_id").to_pylist() == list(range(5_000))
    for name in bench.NULLS:
        assert table.column(name).null_count > 0, name
    for name in ("device_category", "cdn", "asset_name", "startup_time_ms", "tags"):
        assert table.column(name).null_count == 0, name
    assets = set(table.column("asset_name").to_pylist())
    assert any("%" in a for a in assets)
    assert any("_" in a for a in assets)
    assert bench.make_table(100).equals(bench.make_table(100))  # seeded
