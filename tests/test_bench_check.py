"""benchmarks/bench_check.py works and checks what it says: a smoke run, and its corpus.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

from flowql.checker.check import Checker, Input
from flowql.checker.config import Config
from flowql.checker.manifest import load_manifest_text
from flowql.model import demo_model


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module."""
    with loaded("bench_check") as module:
        yield module


# --- the smoke run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """One --quick run with the profile and the cold start (it builds and installs a wheel)."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    return run_quick("bench_check", out, "--profile", "--coldstart-rounds", "2", timeout=300)


def test_quick_run_reports_the_check(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert report["quick"] is True
    assert report["queries_per_file"] == 100
    assert positive(report["environment"]["cpu_count"])
    assert "1. flowql check" in stdout
    check = report["check"]
    for key in ("filters", "files", "wall_s", "filters_per_s", "median_chars", "findings"):
        assert positive(check[key]), (key, check)
    assert check["filters"] == check["files"] * 100
    assert 85 <= check["median_chars"] <= 115
    assert check["goal_filters_per_s"] == 10_000
    assert isinstance(check["goal_met"], bool)
    assert set(check["findings_by_code"]) <= {"FQ101", "FQ102"}
    assert sum(check["findings_by_code"].values()) == check["findings"]


def test_quick_run_measures_linearity(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "2. Linearity" in stdout
    linearity = report["linearity"]
    sizes = linearity["sizes"]
    assert len(sizes) == 3
    assert [sizes[s]["filters"] for s in sizes] == sorted(int(s) for s in sizes)
    for figures in sizes.values():
        for key in ("filters", "files", "bytes", "wall_s", "filters_per_s", "us_per_filter"):
            assert positive(figures[key]), (key, figures)
    assert positive(linearity["one_query_s"])
    assert positive(linearity["ratio"])
    assert linearity["marginal_ratio"] is None or positive(linearity["marginal_ratio"])
    assert report["check"]["wall_s"] == sizes[str(report["check"]["filters"])]["wall_s"]


def test_quick_run_measures_the_cold_start(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "3. Cold start" in stdout
    cold = report["coldstart"]
    assert cold["bytecode_compiled"] is True
    for key in ("rounds", "python_pass_ms", "import_flowql_ms", "flowql_check_ms", "ratio"):
        assert positive(cold[key]), (key, cold)
    assert cold["goal_ratio"] == 4.0
    assert isinstance(cold["goal_met"], bool)


def test_quick_run_profiles_the_check(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "4. Profile" in stdout
    profile = report["profile"]
    assert positive(profile["total_s"])
    assert len(profile["top_cumulative"]) == 15
    functions = [e["function"] for e in profile["top_cumulative"]]
    assert any(f.startswith("check.py:") and f.endswith("(run)") for f in functions), functions
    for entry in profile["top_cumulative"]:
        assert entry["cumtime_s"] >= 0
    assert "cumulative" in profile["text"]


def test_skip_coldstart_and_no_profile(tmp_path: Path) -> None:
    stdout, report = run_quick("bench_check", tmp_path / "results.json", "--skip-coldstart")
    assert report["coldstart"] is None
    assert report["profile"] is None
    assert "3. Cold start" not in stdout


# --- the corpus ----------------------------------------------------------------------------------


def test_manifests_are_deterministic(bench: ModuleType) -> None:
    assert bench.make_manifest(3) == bench.make_manifest(3)
    assert bench.make_manifest(3).text != bench.make_manifest(4).text


def test_manifests_hold_realistic_filters(bench: ModuleType) -> None:
    manifests = [bench.make_manifest(i) for i in range(20)]
    filters = [f for m in manifests for f in m.filters]
    assert len(filters) == 2000
    assert 90 <= statistics.median(len(f) for f in filters) <= 110
    joined = "\n".join(filters)
    for piece in ("==", "!=", "~~", "!~", " AND ", " OR ", " NOT IN (", " IN (", "NOT (", "\nAND "):
        assert piece in joined, piece
    for manifest in manifests:
        queries = load_manifest_text(manifest.text, manifest.name)
        assert [q.filter for q in queries] == list(manifest.filters)
        assert {q.flow for q in queries} == {"825", "142"}
        assert all(not q.diagnostics for q in queries)


def test_manifests_use_the_demo_model_with_a_few_mistakes(bench: ModuleType) -> None:
    model = demo_model()
    for flow, dims in bench.FLOWS.items():
        assert set(dims) == set(model.flows[flow].dimensions)
    manifests = [bench.make_manifest(i) for i in range(10)]
    checker = Checker(Config())
    result = checker.run([Input(m.name, m.text, manifest=True) for m in manifests])
    codes = [f.diagnostic.code for f in result.findings]
    assert set(codes) == {"FQ101", "FQ102"}
    # a few findings per thousand filters: mostly valid
    assert 5 <= len(codes) <= 50


# --- part 5: repository shapes -------------------------------------------------------------------


def test_quick_run_measures_the_repository_shapes(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "5. Repository shapes" in stdout
    repository = report["repository"]
    shapes = repository["shapes"]
    assert set(shapes) == {"manifests", "single", "files"}
    assert shapes["manifests"]["filters"] == shapes["single"]["filters"] == 1_000
    assert shapes["manifests"]["files"] == 10
    assert shapes["single"]["files"] == 1
    assert shapes["files"]["files"] == shapes["files"]["filters"] == 200
    assert set(repository["trees"]) == {"this"}
    for name in shapes:
        run = repository["runs"][f"this {name}"]
        for key in ("wall_s", "peak_mb", "filters_per_s", "us_per_file"):
            assert positive(run[key]), (name, key, run)
    assert positive(repository["single_over_manifests"])
    assert "speedup" not in repository  # no --base
    assert set(repository["goals"]) == {
        "speedup",
        "single_over_manifests",
        "single_peak_mb",
        "ruff_ratio",
        "cold_start",
    }
    assert repository["goals"]["speedup"] is None
    assert isinstance(repository["goals"]["single_peak_mb"], bool)
    # ruff is in the dev environment: its two corpora, and flowql's time per file over each
    assert set(repository["ruff_us_per_file"]) == {"ruff-findings", "ruff-clean"}
    assert all(positive(r) for r in repository["ruff_ratio"].values())


def test_a_quick_side_by_side_run_against_a_base_tree(tmp_path: Path) -> None:
    stdout, report = run_quick(
        "bench_check",
        tmp_path / "results.json",
        "--shapes-only",
        "--base",
        str(Path(__file__).resolve().parent.parent),
        timeout=300,
    )
    assert report["check"] is None  # parts 1 to 4 left out
    repository = report["repository"]
    assert set(repository["trees"]) == {"this", "base"}
    assert set(repository["speedup"]) == {"manifests", "single", "files"}
    assert all(positive(v) for v in repository["speedup"].values())
    assert positive(repository["cold_start_this_over_base"])
    assert "throughput this/base" in stdout
    assert isinstance(repository["goals"]["speedup"], bool)


def test_the_shapes_hold_the_same_filters(bench: ModuleType, tmp_path: Path) -> None:
    from flowql.formatter import format_file

    shapes = bench.write_shapes(tmp_path, 300, 20)
    many = sorted((tmp_path / shapes["manifests"].directory).iterdir())
    assert len(many) == 3
    spread = [q.filter for m in many for q in load_manifest_text(m.read_text("utf-8"))]
    single = tmp_path / shapes["single"].directory / "queries.toml"
    assert [q.filter for q in load_manifest_text(single.read_text("utf-8"))] == spread
    files = sorted((tmp_path / shapes["files"].directory).iterdir())
    assert len(files) == 20
    texts = [f.read_text("utf-8") for f in files]
    assert all(format_file(t) == t for t in texts)  # as flowql fmt writes them
    assert any("\nAND " in t for t in texts)  # long ones over several lines
    for name in bench.RUFF_FILES:
        assert len(list((tmp_path / name).iterdir())) == 20
