"""benchmarks/bench_server.py works: a smoke run with --quick --json, and the documents it
times the server on.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

from flowql.checker.manifest import load_manifest_text
from flowql.syntax import parse

OPERATIONS = [
    "diagnostics filter",
    "diagnostics manifest",
    "completion filter",
    "completion manifest",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return run_quick("bench_server", tmp_path_factory.mktemp("bench") / "results.json")


def test_every_operation_has_figures(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert report["quick"] is True
    assert report["goal_p95_ms"] == 50.0
    assert report["manifest_queries"] == 200
    assert 3_900 <= report["filter_chars"] <= 4_100
    assert list(report["operations"]) == OPERATIONS
    for name, figures in report["operations"].items():
        assert figures["samples"] == 5, name
        for field in ("median_ms", "p95_ms", "max_ms"):
            assert positive(figures[field]), (name, field)
        assert figures["median_ms"] <= figures["p95_ms"] <= figures["max_ms"], name
        assert figures["goal_met"] == (figures["p95_ms"] < 50.0), name
        assert name in stdout


def test_the_documents_are_what_the_figures_say() -> None:
    with loaded("bench_server") as bench:
        text = bench.make_filter()
        # Whole filters (checked in full, not stopped by a syntax error), completion after the
        # `geo_` of the last comparison.
        assert text.endswith(" OR geo_country == 'Spain'")
        parse(text)
        manifest = bench.make_big_manifest()
        queries = load_manifest_text(manifest)
        assert len(queries) == 200
        assert queries[-1].filter.endswith(" OR geo_country == 'Spain'")
        for query in queries:
            parse(query.filter)
