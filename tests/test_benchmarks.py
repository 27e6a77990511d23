"""benchmarks/bench_parse.py works and measures what it says: a smoke run, and its inputs.

Nothing here asserts how fast anything is: timings belong to the benchmark's output only.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import BENCHMARKS, REPO, loaded, positive
from benchmark_scripts import quick_run as run_quick

import flowql

SCRIPT = BENCHMARKS / "bench_parse.py"

COMPARATORS = ("lark", "luqum", "pyparsing")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    with loaded("bench_parse") as module:
        yield module


# --- the smoke run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """One --quick run, cold start included (it builds and installs a wheel)."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    return run_quick("bench_parse", out, "--coldstart-rounds", "2", timeout=300)


def test_quick_run_reports_the_environment(quick_run: tuple[str, dict[str, Any]]) -> None:
    _, report = quick_run
    assert report["quick"] is True
    assert report["sizes"] == {"small": 60, "medium": 400, "large": 4000}
    env = report["environment"]
    assert env["python"].count(".") == 2
    assert env["platform"]
    assert positive(env["cpu_count"])


def test_quick_run_measures_throughput_for_every_size(
    quick_run: tuple[str, dict[str, Any]],
) -> None:
    stdout, report = quick_run
    assert "1. Parse throughput" in stdout
    throughput = report["throughput"]
    assert set(throughput) == {"small", "medium", "large"}
    for figures in throughput.values():
        for key in ("filters", "mean_chars", "rounds", "filters_per_s", "mb_per_s"):
            assert positive(figures[key]), (key, figures)
        assert figures["filters"] >= 5  # a set of distinct filters, not one string


def test_quick_run_compares_the_parsers(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "2. One " in stdout
    comparison = report["comparison"]
    assert positive(comparison["rounds"])
    assert comparison["goal_ms"] == 1.5
    assert comparison["goal_met"] in (True, False, None)
    parsers = comparison["parsers"]
    assert set(parsers) == {"flowql", *COMPARATORS}
    assert positive(parsers["flowql"]["ms"])
    assert 3800 <= parsers["flowql"]["input_chars"] <= 4200
    for name in COMPARATORS:
        entry = parsers[name]
        if _installed(name):
            assert entry["installed"] is True
            assert positive(entry["ms"]), entry
            assert positive(entry["speedup"]), entry
        else:
            assert entry["installed"] is False
            assert "not installed" in stdout


def test_quick_run_measures_the_cold_start(quick_run: tuple[str, dict[str, Any]]) -> None:
    stdout, report = quick_run
    assert "3. Cold start" in stdout
    cold = report["coldstart"]
    assert cold["bytecode_compiled"] is True
    for key in ("rounds", "python_pass_ms", "import_flowql_ms", "flowql_parse_ms", "ratio"):
        assert positive(cold[key]), (key, cold)
    assert cold["goal_ratio"] == 4.0
    assert isinstance(cold["goal_met"], bool)
    flowql.parse(cold["expr"])
    reference = cold["reference"]
    assert positive(reference["python_pass_ms"])
    if _installed("lark"):
        assert positive(reference["import_lark_ms"])
        assert positive(reference["ratio"])


def test_missing_comparators_are_reported_not_fatal(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    # None in sys.modules makes `import luqum` raise ImportError, as if it were not installed.
    code = (
        "import runpy, sys\n"
        "for name in ('luqum', 'luqum.parser', 'pyparsing'):\n"
        "    sys.modules[name] = None\n"
        f"sys.argv = [{str(SCRIPT)!r}, '--quick', '--skip-coldstart', '--json', {str(out)!r}]\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for label in ("luqum (Lucene)", "pyparsing"):
        (line,) = (line for line in lines if line.strip().startswith(label))
        assert line.endswith("not installed")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["coldstart"] is None
    parsers = report["comparison"]["parsers"]
    for name in ("luqum", "pyparsing"):
        assert parsers[name] == {**parsers[name], "installed": False, "ms": None}
    assert report["comparison"]["goal_met"] in (False, None)


# --- the inputs ---------------------------------------------------------------------------------


def test_filters_are_deterministic_distinct_and_sized(bench: ModuleType) -> None:
    sets = bench.make_sets()
    assert sets == bench.make_sets()
    for size in bench.SIZES:
        queries = sets[size.name]
        assert len(queries) == size.count
        assert len({q.flowql for q in queries}) == size.count
        for query in queries:
            assert abs(len(query.flowql) - size.target) <= size.tolerance * size.target
    big = bench.make_comparison_query()
    assert abs(len(big.flowql) - 4000) <= 80
    assert 0.9 < len(big.lucene) / len(big.flowql) <= 1.0


def test_filters_use_the_whole_language(bench: ModuleType) -> None:
    texts = [q.flowql for queries in bench.make_sets().values() for q in queries]
    joined = "\n".join(texts)
    for piece in ("==", "!=", "~~", "!~", " AND ", " OR ", " NOT IN (", " IN (", "NOT (", "(("):
        assert piece in joined, piece
    for key in ("geo_country", "geo_city", "device_operating_system", "device_category"):
        assert key in joined
    for key in ("browser_name", "isp", "cdn", "tag_specialContentId"):
        assert key in joined
    for text in texts:
        flowql.parse(text)


def _from_flowql(node: flowql.Expr) -> object:
    if isinstance(node, (flowql.And, flowql.Or)):
        return (type(node).__name__.upper(), tuple(_from_flowql(o) for o in node.operands))
    if isinstance(node, flowql.Not):
        return ("NOT", _from_flowql(node.operand))
    if isinstance(node, flowql.Comparison):
        assert isinstance(node.value, flowql.String)
        return ("cmp", node.key.name, node.op.value, node.value.value)
    assert isinstance(node, flowql.In)
    values = []
    for value in node.values:
        assert isinstance(value, flowql.String)
        values.append(value.value)
    return ("in", node.key.name, tuple(values), node.negated)


def _from_luqum(node: Any) -> object:
    from luqum import tree

    if isinstance(node, tree.Group):
        return _from_luqum(node.expr)
    if isinstance(node, (tree.AndOperation, tree.OrOperation)):
        word = "AND" if isinstance(node, tree.AndOperation) else "OR"
        operands: list[object] = []
        for child in node.children:
            converted = _from_luqum(child)
            if isinstance(converted, tuple) and converted[0] == word:  # flatten, as flowql does
                operands.extend(converted[1])
            else:
                operands.append(converted)
        return (word, tuple(operands))
    if isinstance(node, tree.Not):
        inner = _from_luqum(node.a)
        assert isinstance(inner, tuple)
        if inner[0] == "cmp":
            return ("cmp", inner[1], {"==": "!=", "~~": "!~"}[inner[2]], inner[3])
        if inner[0] == "in":
            return ("in", inner[1], inner[2], True)
        return ("NOT", inner)
    assert isinstance(node, tree.SearchField)
    expr = node.expr
    if isinstance(expr, tree.Phrase):
        return ("cmp", node.name, "==", expr.value[1:-1])
    if isinstance(expr, tree.Word):
        assert expr.value.startswith("*")
        assert expr.value.endswith("*")
        return ("cmp", node.name, "~~", expr.value[1:-1])
    assert isinstance(expr, tree.FieldGroup)
    group = expr.expr
    phrases = group.children if isinstance(group, tree.OrOperation) else (group,)
    return ("in", node.name, tuple(p.value[1:-1] for p in phrases), False)


def test_the_lucene_query_is_the_same_query(bench: ModuleType) -> None:
    from luqum.parser import parser

    queries = [q for queries in bench.make_sets().values() for q in queries]
    for query in [*queries, bench.make_comparison_query()]:
        assert _from_luqum(parser.parse(query.lucene)) == _from_flowql(flowql.parse(query.flowql))


def test_the_other_parsers_accept_every_filter(bench: ModuleType) -> None:
    queries = [q for queries in bench.make_sets().values() for q in queries]
    queries.append(bench.make_comparison_query())
    checked = 0
    for parser in bench.PARSERS:
        parse = parser.make()
        for query in queries:
            parse(query.lucene if parser.lucene else query.flowql)
        checked += 1
    assert checked == len(bench.PARSERS) == 4
