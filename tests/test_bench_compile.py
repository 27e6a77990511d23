"""benchmarks/bench_compile.py works: a smoke run with --quick --json, and its sorting of filters.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

from flowql.syntax import parse
from flowql.targets import get_target, targets

SIZES = ("small", "medium", "large")


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module."""
    with loaded("bench_compile") as module:
        yield module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return run_quick("bench_compile", tmp_path_factory.mktemp("bench") / "results.json")


def test_report_keys(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, report = quick_run
    keys = ("date", "quick", "seed", "environment", "sizes", "rounds", "targets", "compile")
    for key in (*keys, "native"):
        assert key in report
    assert report["quick"] is True
    assert report["targets"] == [t.name for t in targets()]
    assert set(report["compile"]) == set(report["targets"])
    assert set(report["native"]) == set(report["targets"])
    assert list(report["sizes"]) == list(SIZES)


def test_every_target_and_size_has_figures(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, report = quick_run
    for name, sizes in report["compile"].items():
        assert list(sizes) == list(SIZES), name
        for size, r in sizes.items():
            where = f"{name} {size}"
            assert positive(r["filters"]), where
            assert r["accepted"] + r["refused"] == r["filters"], where
            assert sum(r["refused_by_code"].values()) == r["refused"], where
            if r["accepted"]:
                assert positive(r["filters_per_s"]), where
                assert positive(r["us_per_filter"]), where
                assert positive(r["mean_chars_accepted"]), where
            else:
                assert r["filters_per_s"] is None, where
                assert r["us_per_filter"] is None, where


def test_targets_that_express_everything_accept_every_filter(
    quick_run: tuple[str, dict[str, Any]],
) -> None:
    _, report = quick_run
    for name in ("conviva-flow", "python"):  # the generated filters hold no numbers or booleans
        for size in SIZES:
            r = report["compile"][name][size]
            assert r["accepted"] == r["filters"], (name, size)


def test_every_target_has_a_figure_at_every_size_on_its_own_filters(
    quick_run: tuple[str, dict[str, Any]],
) -> None:
    _, report = quick_run
    for name, sizes in report["native"].items():
        assert list(sizes) == list(SIZES), name
        for size, r in sizes.items():
            where = f"{name} {size}"
            assert r["accepted"] == r["filters"] > 0, where
            assert positive(r["filters_per_s"]), where
            assert positive(r["mean_chars_accepted"]), where


def test_native_sets_are_accepted_and_near_their_sizes(bench: ModuleType) -> None:
    for target in targets():
        sets = bench.make_native_sets(target.name)
        if sets is None:
            assert target.name in ("conviva-flow", "pandas", "polars", "python", "sql")
            continue
        for size in bench.SIZES:
            texts = sets[size.name]
            assert len(texts) == size.count == len(set(texts)), (target.name, size.name)
            for text in texts:
                assert abs(len(text) - size.target) <= 2 * size.tolerance * size.target, text
                target.compile(parse(text))  # raises if refused
    assert bench.make_native_sets("klaviyo") == bench.make_native_sets("klaviyo")


def test_stdout_names_every_target(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert stdout.count("compile throughput") == 2
    for name in report["targets"]:
        assert name in stdout


def test_sort_filters_counts_refusals(bench: ModuleType) -> None:
    trees = [parse("a == 'x'"), parse("a != 'x'"), parse("a ~~ 'x' OR b == 'y'")]
    accepted, refused = bench.sort_filters(get_target("conviva-sessions"), trees)
    assert accepted == trees[:1]
    assert refused == {"FQ601": 2}
    accepted, refused = bench.sort_filters(get_target("python"), trees)
    assert accepted == trees
    assert refused == {}
