"""How fast each flowql target compiles a parsed filter, and how many filters it accepts.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_compile.py                  # the full run, about 12 seconds
    python benchmarks/bench_compile.py --quick          # a smoke test, a second or two
    python benchmarks/bench_compile.py --json out.json  # also write every figure as JSON

It uses the small (~60 characters), medium (~400) and large (~4,000) filter sets of
``bench_parse.py`` (the same generator and seed, so the same text), parses each filter once,
untimed, and then, for every target registered in :func:`flowql.targets.targets` when it runs:

1. compiles every filter once, untimed, and sorts them into accepted and refused
   (:class:`~flowql.errors.UnsupportedError`); refused filters are counted, never timed;
2. times ``Target.compile`` over the accepted filters of each set: one pass compiles each of
   them once. The passes of every (target, set) pair are interleaved, in a new order each round,
   and the script prints the median, as filters per second and microseconds per filter.

Parsing is not part of the figure: ``bench_parse.py`` measures it. Nothing here asserts a time:
the test suite runs this script with ``--quick`` to check that it works, never how fast.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import (
    SEED,
    SIZES,
    Query,
    _calls_for,
    _positive,
    _time_calls,
    environment,
    make_sets,
)

from flowql.ast import Expr
from flowql.errors import UnsupportedError
from flowql.syntax import parse
from flowql.targets import Target, targets


def sort_filters(target: Target, trees: Sequence[Expr]) -> tuple[list[Expr], dict[str, int]]:
    """The trees ``target`` compiles, and the refused ones counted by their first code."""
    accepted: list[Expr] = []
    refused: dict[str, int] = {}
    for tree in trees:
        try:
            target.compile(tree)
        except UnsupportedError as error:
            refused[error.code] = refused.get(error.code, 0) + 1
        else:
            accepted.append(tree)
    return accepted, refused


def bench_compile(
    sets: dict[str, list[Query]],
    chosen: Sequence[Target],
    rounds: int,
    sample_seconds: float,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{target: {size: figures}}``: accepted and refused counts, and for a target that
    accepts at least one filter of the set, the median compile throughput."""
    trees = {name: [parse(q.flowql) for q in queries] for name, queries in sets.items()}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    passes: dict[tuple[str, str], Callable[[], object]] = {}
    for target in chosen:
        results[target.name] = {}
        for name, queries in sets.items():
            accepted, refused = sort_filters(target, trees[name])
            texts = {id(t): q.flowql for t, q in zip(trees[name], queries, strict=True)}
            chars = [len(texts[id(t)]) for t in accepted]
            results[target.name][name] = {
                "filters": len(queries),
                "accepted": len(accepted),
                "refused": len(queries) - len(accepted),
                "refused_by_code": dict(sorted(refused.items())),
                "mean_chars_accepted": round(statistics.mean(chars), 1) if chars else None,
                "rounds": rounds,
                "filters_per_s": None,
                "us_per_filter": None,
            }
            if not accepted:
                continue

            def one_pass(
                compile: Callable[[Expr], object] = target.compile,
                accepted: list[Expr] = accepted,
            ) -> None:
                for tree in accepted:
                    compile(tree)

            passes[(target.name, name)] = one_pass
    calls = {key: _calls_for(fn, sample_seconds) for key, fn in passes.items()}
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in passes}
    order = list(passes)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)  # interleaved, in a different order each round
        for key in order:
            samples[key].append(_time_calls(passes[key], calls[key]))
    for (target_name, name), times in samples.items():
        entry = results[target_name][name]
        per_pass = statistics.median(times)
        entry["filters_per_s"] = entry["accepted"] / per_pass
        entry["us_per_filter"] = per_pass / entry["accepted"] * 1e6
        entry["calls_per_sample"] = calls[(target_name, name)]
    return results


def print_results(results: dict[str, dict[str, dict[str, Any]]], rounds: int) -> None:
    print(f"Compile throughput of Target.compile on parsed filters (median of {rounds} rounds)")
    print(
        f"   {'target':<18}{'size':<8}{'accepted':>10}{'mean chars':>12}"
        f"{'filters/s':>12}{'µs/filter':>11}  refused by code"
    )
    for target_name, sizes in results.items():
        for name, r in sizes.items():
            accepted = f"{r['accepted']}/{r['filters']}"
            chars = "-" if r["mean_chars_accepted"] is None else f"{r['mean_chars_accepted']:,.0f}"
            rate = "-" if r["filters_per_s"] is None else f"{r['filters_per_s']:,.0f}"
            us = "-" if r["us_per_filter"] is None else f"{r['us_per_filter']:,.1f}"
            codes = ", ".join(f"{c} {n}" for c, n in r["refused_by_code"].items()) or "-"
            print(
                f"   {target_name:<18}{name:<8}{accepted:>10}{chars:>12}{rate:>12}{us:>11}  {codes}"
            )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="rounds (default 100)")
    args = parser.parse_args(argv)

    rounds = args.rounds or (3 if args.quick else 100)
    sample_seconds = 0.002 if args.quick else 0.01

    env = environment()
    print(
        f"flowql {env['flowql']} compile benchmark: Python {env['python']} "
        f"({env['implementation']}), {env['platform']}, {env['cpu_count']} CPUs"
    )
    print()
    chosen = targets()
    results = bench_compile(make_sets(), chosen, rounds, sample_seconds)
    print_results(results, rounds)

    if args.json:
        report = {
            "date": datetime.date.today().isoformat(),
            "quick": args.quick,
            "argv": sys.argv[1:] if argv is None else list(argv),
            "seed": SEED,
            "environment": env,
            "sizes": {s.name: s.target for s in SIZES},
            "rounds": rounds,
            "targets": [t.name for t in chosen],
            "compile": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
