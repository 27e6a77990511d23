"""benchmarks/bench_repl.py works: a smoke run with --quick --json, and its cases.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import loaded, positive
from benchmark_scripts import quick_run as run_quick

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
SCRIPT = BENCHMARKS / "bench_repl.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module."""
    with loaded("bench_repl") as module:
        yield module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return run_quick("bench_repl", tmp_path_factory.mktemp("bench") / "results.json")


def test_the_report_has_every_figure(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    for key in ("date", "quick", "seed", "environment", "filters", "mean_chars", "positions"):
        assert key in report
    assert report["quick"] is True
    assert list(report["results"]) == ["completion", "validation", "highlighting"]
    for name, r in report["results"].items():
        assert r["samples"] > 0, name
        assert 0 < r["median_ms"] <= r["p95_ms"] <= r["max_ms"], name
        assert name in stdout
    assert report["results"]["completion"]["goal_p95_ms"] == 20.0
    assert report["results"]["highlighting"]["goal_p95_ms"] is None
    assert isinstance(report["results"]["validation"]["goal_met"], bool)
    assert 3800 < report["mean_chars"] < 4200


def test_the_report_has_the_start_up_figure(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    startup = report["startup"]
    assert startup["rounds"] == 3
    assert startup["command"] == "python -m flowql repl"
    assert startup["tree"] == str(REPO)
    for key in ("python_pass_ms", "repl_ms", "ratio", "bare_prompt_ms", "bare_prompt_ratio"):
        assert positive(startup[key]), (key, startup)
    assert abs(startup["ratio"] - startup["repl_ms"] / startup["python_pass_ms"]) < 0.01
    editor = startup["editor_ms"] / startup["python_pass_ms"]
    assert abs(startup["editor_ratio"] - editor) < 0.01
    bare = startup["bare_prompt_ms"] / startup["python_pass_ms"]
    assert abs(startup["bare_prompt_ratio"] - bare) < 0.01
    assert startup["goal_ratio"] == 8.0
    assert isinstance(startup["goal_met"], bool)
    assert startup["baseline"] is None
    assert "start-up: python -m flowql repl to its first prompt" in stdout
    assert "flowql repl (this tree)" in stdout
    assert "bare prompt_toolkit prompt (reference)" in stdout


def test_the_terminal_timer_waits_for_the_text(bench: ModuleType, tmp_path: Path) -> None:
    env = bench.startup_env(REPO, tmp_path)
    assert env["HOME"] == str(tmp_path)
    assert not {"FLOWQL_HISTORY", *bench.CREDENTIALS} & set(env)
    script = "import os, sys; print(os.get_terminal_size(), sys.stdin.isatty()); input()"
    argv = [sys.executable, "-c", script]
    wanted = b"columns=100, lines=30) True"
    assert positive(bench.time_in_terminal(argv, env, tmp_path, wanted))
    assert positive(bench.time_in_terminal([sys.executable, "-c", "pass"], env, tmp_path, None))
    with pytest.raises(RuntimeError, match="ended before writing"):
        bench.time_in_terminal([sys.executable, "-c", "pass"], env, tmp_path, b"never")


def test_cases_are_typed_prefixes_and_edited_filters(bench: ModuleType) -> None:
    cases = bench.make_cases(3)
    assert cases == bench.make_cases(3)  # seeded
    typed = [d for d in cases if d.cursor_position == len(d.text)]
    edited = [d for d in cases if d.cursor_position < len(d.text)]
    assert typed
    assert edited
    assert all(len(d.text) > 3800 for d in edited)
    lengths = {len(d.text) for d in typed}
    assert len(lengths) > 8  # cut at different places


def test_each_operation_does_its_work(bench: ModuleType) -> None:
    from flowql.repl.session import Session

    session = Session()
    session.set_flow("142")
    ops = bench.operations(session)
    document = bench.make_cases(1)[0]  # a whole filter, the cursor at its end
    completions = ops["completion"](document)
    assert [c.text for c in completions] == [" AND", " OR"]
    check = ops["validation"](document)
    assert check.expr is not None
    assert check.url_length > 4096
    lines = ops["highlighting"](document)
    assert len(lines) == document.line_count
