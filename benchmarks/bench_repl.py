"""How long the REPL takes to answer a keystroke on a 4,000-character filter.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_repl.py                  # the full run, about half a minute
    python benchmarks/bench_repl.py --quick          # a smoke test, a second or two
    python benchmarks/bench_repl.py --json out.json  # also write every figure as JSON

The filters are the large set of ``bench_parse.py`` (the same generator and seed: 8 filters of
about 4,000 characters). The session is the REPL's default (the conviva-flow target, the
built-in demo model) with flow 142 set, so that every check also builds and measures the
request URL. For each filter the script draws cursor positions (from a seed; the end of the
text is always one), and makes two cases of each: the filter typed up to the cursor, and the
whole filter with the cursor in it (being edited). It times, one call per sample:

1. **completion**: what the REPL's completer yields for the text before the cursor (``complete``
   through the prompt_toolkit ``Completer``, every ``Completion`` made), the work of one
   keystroke with the menu open;
2. **validation**: the check of the whole text (``Session.check``: parse, data model, values,
   logic, compile for the target, URL budget), which the live check runs after each keystroke
   and the validator on Enter. Text typed up to a cursor is mostly unfinished (a parse error
   at its end); a whole filter is checked to the end, and is the slower case;
3. **highlighting** (no goal): lexing the whole text with the Pygments lexer, as prompt_toolkit
   does when the text changes.

The three are interleaved, in a new order each round, with the garbage collector on, as in the
REPL. The script prints the median, the 95th percentile and the maximum of each in
milliseconds. Goal: completion and validation each under 20 ms at the 95th percentile. Nothing
here asserts a time: the test suite runs this script with ``--quick`` to check that it works.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import SEED, _met, _positive, make_sets, print_header, write_report
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.lexers import PygmentsLexer

from flowql.highlight import FlowQLLexer
from flowql.repl.app import FlowQLCompleter
from flowql.repl.session import Session

GOAL_P95_MS = 20.0
OPERATIONS = ("completion", "validation", "highlighting")
GOALS: dict[str, float | None] = {
    "completion": GOAL_P95_MS,
    "validation": GOAL_P95_MS,
    "highlighting": None,
}


def cursor_positions(text: str, count: int, rng: random.Random) -> list[int]:
    """``count`` cursor positions in ``text``: its end, then positions drawn at random."""
    positions = [len(text)]
    while len(positions) < count:
        positions.append(rng.randrange(len(text)))
    return positions


def make_cases(positions: int, seed: int = SEED) -> list[Document]:
    """Two documents for every (filter, cursor) pair: the filter typed up to the cursor (the
    cursor at the end of the text), and the whole filter being edited at the cursor."""
    rng = random.Random(seed)
    cases = []
    for query in make_sets(seed)["large"]:
        text = query.flowql
        for at in cursor_positions(text, positions, rng):
            cases.append(Document(text[:at], at))
            if at < len(text):
                cases.append(Document(text, at))
    return cases


def operations(session: Session) -> dict[str, Callable[[Document], object]]:
    """What one keystroke costs, by operation."""
    completer = FlowQLCompleter(session)
    event = CompleteEvent(completion_requested=True)
    lexer = PygmentsLexer(FlowQLLexer)

    def completion(document: Document) -> object:
        return list(completer.get_completions(document, event))

    def validation(document: Document) -> object:
        return session.check(document.text)

    def highlighting(document: Document) -> object:
        get_line = lexer.lex_document(document)
        return [get_line(i) for i in range(document.line_count)]

    return {"completion": completion, "validation": validation, "highlighting": highlighting}


def bench(cases: list[Document], rounds: int, seed: int = SEED) -> dict[str, dict[str, Any]]:
    """Time every operation on every case, ``rounds`` times; one call per sample."""
    session = Session()
    session.set_flow("142")
    ops = operations(session)
    for document in cases:  # warm up: first-call costs are not what is measured
        for op in ops.values():
            op(document)
    samples: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    rng = random.Random(seed)
    for _ in range(rounds):
        order = [(name, document) for name in OPERATIONS for document in cases]
        rng.shuffle(order)
        for name, document in order:
            op = ops[name]
            start = time.perf_counter()
            op(document)
            samples[name].append((time.perf_counter() - start) * 1000)
    results: dict[str, dict[str, Any]] = {}
    for name, times in samples.items():
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        goal = GOALS[name]
        results[name] = {
            "samples": len(times),
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(p95, 3),
            "max_ms": round(times[-1], 3),
            "goal_p95_ms": goal,
            "goal_met": None if goal is None else p95 < goal,
        }
    return results


def print_results(results: dict[str, dict[str, Any]]) -> None:
    print(f"   {'operation':<14}{'samples':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  goal")
    for name, r in results.items():
        goal = r["goal_p95_ms"]
        shown = f"p95 < {goal:g} ms: {_met(r['goal_met'])}" if goal is not None else "-"
        print(
            f"   {name:<14}{r['samples']:>8,}{r['median_ms']:>11.2f}{r['p95_ms']:>9.2f}"
            f"{r['max_ms']:>9.2f}  {shown}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one round: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="rounds (default 10)")
    parser.add_argument("--positions", type=_positive, help="cursor positions a filter (12)")
    args = parser.parse_args(argv)

    rounds = args.rounds or (1 if args.quick else 10)
    positions = args.positions or (2 if args.quick else 12)
    env = print_header("REPL")
    cases = make_cases(positions)
    filters = make_sets()["large"]
    mean_chars = statistics.mean(len(q.flowql) for q in filters)
    print(
        f"{len(filters)} filters of {mean_chars:,.0f} characters on average, {positions} cursor "
        f"positions each, {len(cases)} cases, {rounds} round{'s' if rounds > 1 else ''}: "
        f"{len(cases) * rounds:,} samples an operation"
    )
    print()
    results = bench(cases, rounds)
    print_results(results)

    if args.json:
        figures = {
            "filters": len(filters),
            "mean_chars": round(mean_chars, 1),
            "positions": positions,
            "rounds": rounds,
            "results": results,
        }
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
