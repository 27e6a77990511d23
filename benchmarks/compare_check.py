"""``flowql check`` of this tree against another checkout of flowql, side by side in one run.

For an issue that asks for "no worse than before": check out the earlier commit in a worktree
and compare::

    git worktree add /tmp/flowql-base HEAD~1
    python benchmarks/compare_check.py --base /tmp/flowql-base
    python benchmarks/compare_check.py --base /tmp/flowql-base --quick   # a smoke test

Both trees run from source with the same interpreter (``PYTHONPATH=TREE python -m flowql``),
each compiled to bytecode first, so what differs is flowql's own code. Measured in interleaved
rounds (each round runs every command once, in a new random order), medians reported, and
ratios this/base:

1. cold start: ``flowql check --expr FILTER`` (built-in model) against ``python -c pass``;
2. throughput: ``flowql check DIR --format concise`` over bench_check's 10,000-filter corpus
   (100 manifests written by this tree's generator), in filters per second.

Nothing here asserts a time; the test suite runs ``--quick`` to see that it works.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_check import write_corpus  # noqa: E402

EXPR = "geo_country == 'Spain' AND device_category IN ('Smart TV', 'Mobile')"


def _env(tree: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def _time(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr!r}")
    return elapsed


def _which_flowql(tree: Path, cwd: Path) -> str:
    probe = "import flowql, sys; sys.stdout.write(flowql.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=_env(tree), cwd=cwd, capture_output=True, check=True
    )
    return done.stdout.decode()


def compare(base: Path, head: Path, *, rounds: int, filters: int) -> dict[str, Any]:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="flowql-compare-") as tmp:
        root = Path(tmp)
        for tree in (base, head):
            where = _which_flowql(tree, root)
            if not where.startswith(str(tree)):
                raise RuntimeError(f"PYTHONPATH={tree} imports flowql from {where}")
            # Both trees start from compiled bytecode, as an installed wheel does (an environment
            # with PYTHONDONTWRITEBYTECODE would otherwise compile one of them on every run).
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(tree / "flowql")],
                check=True,
                capture_output=True,
            )
        corpus = write_corpus(root, filters)
        python = [sys.executable]
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([*python, "-c", "pass"], _env(None)),
            "base cold start": ([*python, "-m", "flowql", "check", "--expr", EXPR], _env(base)),
            "this cold start": ([*python, "-m", "flowql", "check", "--expr", EXPR], _env(head)),
            "base check": (
                [*python, "-m", "flowql", "check", corpus.directory, "--format", "concise"],
                _env(base),
            ),
            "this check": (
                [*python, "-m", "flowql", "check", corpus.directory, "--format", "concise"],
                _env(head),
            ),
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            order = list(commands)
            rng.shuffle(order)
            for name in order:
                cmd, env = commands[name]
                samples[name].append(_time(cmd, env, root))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    bare = medians["python -c pass"]
    result: dict[str, Any] = {
        "rounds": rounds,
        "filters": corpus.filters,
        "median_s": medians,
        "cold_start_ratio_to_python": {
            "base": medians["base cold start"] / bare,
            "this": medians["this cold start"] / bare,
        },
        "cold_start_this_over_base": medians["this cold start"] / medians["base cold start"],
        "filters_per_s": {
            "base": corpus.filters / medians["base check"],
            "this": corpus.filters / medians["this check"],
        },
        "throughput_this_over_base": medians["base check"] / medians["this check"],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other flowql checkout")
    parser.add_argument("--quick", action="store_true", help="few rounds, a small corpus")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (21)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 21)
    filters = 200 if args.quick else 10_000
    result = compare(args.base.resolve(), HERE.parent, rounds=rounds, filters=filters)
    ms = {k: v * 1000 for k, v in result["median_s"].items()}
    print(f"{result['rounds']} interleaved rounds, medians")
    print(
        f"cold start  base {ms['base cold start']:.1f} ms, this {ms['this cold start']:.1f} ms "
        f"(python -c pass {ms['python -c pass']:.1f} ms): this/base "
        f"{result['cold_start_this_over_base']:.3f}"
    )
    fps = result["filters_per_s"]
    print(
        f"check       {result['filters']:,} filters: base {fps['base']:,.0f}/s, this "
        f"{fps['this']:,.0f}/s: this/base {result['throughput_this_over_base']:.3f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
