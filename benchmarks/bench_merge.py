"""How fast flowql merges the windows of a grouped range, against pandas and polars doing it.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_merge.py                  # the full run, about 20 seconds
    python benchmarks/bench_merge.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_merge.py --json out.json  # also write every figure as JSON

A week of the Flow API grouped by country is 168 one-hour windows of grouped rows. The script
makes them from a fixed seed (60 groups a window, the demo flow 825's metrics: three counts,
two shares, a duration) and times, in interleaved rounds (medians):

- ``flowql``: :func:`flowql.merging.merge_rows`, what the Flow client does with the windows'
  rows: one row per group, counts summed, shares recomputed, the duration marked not merged;
  and the same followed by ``to_pandas()`` / ``to_polars()`` of the merged result when the
  frame extras are installed (the frame a user ends with);
- ``pandas``: the same merged frame built by pandas from the windows' records
  (``DataFrame.from_records``, ``groupby(...).sum()``, the shares recomputed);
- ``polars``: the same with polars (``from_dicts``, ``group_by(...).agg(sum)``).

The goal (issue 13) is that flowql takes at most 2x what pandas and polars take. A library
that is not installed is reported as such, its goal NOT CHECKED. Nothing here asserts a time:
the test suite runs this script with ``--quick`` to check that it works, never how fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import _calls_for, _positive, _time_calls, print_header, write_report

from flowql.merging import merge_rows, metric_info
from flowql.model import demo_model
from flowql.query import Window
from flowql.results import DimensionalRow, DimensionalRows

SEED = 13
WINDOWS = 168
GROUPS = 60
GOAL = 2.0
COUNTS = ("m_825_1", "m_825_3", "m_825_4")
SHARES = {"m_825_1_percentage": "m_825_1", "m_825_4_percentage": "m_825_4"}
INFO = metric_info(demo_model().flows["825"])


def make_rows(
    windows: int = WINDOWS, groups: int = GROUPS, seed: int = SEED
) -> list[DimensionalRow]:
    """``windows`` one-hour windows of ``groups`` countries each, as the Flow client parses
    them: the value, a country code, the six metrics."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 15, tzinfo=dt.timezone.utc)
    rows = []
    for w in range(windows):
        window = Window(start + dt.timedelta(hours=w), start + dt.timedelta(hours=w + 1))
        for g in range(groups):
            init = rng.randint(1, 5000)
            complete = rng.randint(0, init)
            success = rng.randint(0, complete)
            metrics = {
                "m_825_1": complete,
                "m_825_1_percentage": 100 * complete / init,
                "m_825_2": rng.random() * 3,
                "m_825_3": init,
                "m_825_4": success,
                "m_825_4_percentage": 100 * success / init,
            }
            rows.append(DimensionalRow(f"Country {g}", metrics, {"country_code": f"C{g}"}, window))
    return rows


def records_of(rows: Sequence[DimensionalRow]) -> list[dict[str, object]]:
    """The windows' rows as the records a user would hand to pandas or polars."""
    return [{"geo_country": r.value, **r.attributes, **r.metrics} for r in rows]


def flowql_merge(rows: Sequence[DimensionalRow]) -> Callable[[], object]:
    return lambda: merge_rows(rows, INFO)


def flowql_frame(rows: Sequence[DimensionalRow], kind: str) -> Callable[[], object]:
    def run() -> object:
        merged, not_merged = merge_rows(rows, INFO)
        result = DimensionalRows(
            api="conviva-flow",
            endpoint="historical",
            dimension="geo_country",
            rows=merged,
            not_merged=not_merged,
            metric_info=INFO,
        )
        return getattr(result, f"to_{kind}")()

    return run


def pandas_merge(records: list[dict[str, object]]) -> Callable[[], object]:
    import pandas as pd

    def run() -> object:
        frame = pd.DataFrame.from_records(records)
        merged = frame.groupby(["geo_country", "country_code"], sort=False)[list(COUNTS)].sum()
        for share, count in SHARES.items():
            merged[share] = 100 * merged[count] / merged["m_825_3"]
        merged["m_825_2"] = None
        return merged.reset_index()

    return run


def polars_merge(records: list[dict[str, object]]) -> Callable[[], object]:
    import polars as pl

    def run() -> object:
        frame = pl.from_dicts(records)
        merged = frame.group_by(["geo_country", "country_code"], maintain_order=True).agg(
            pl.col(list(COUNTS)).sum()
        )
        return merged.with_columns(
            *(
                (100 * pl.col(count) / pl.col("m_825_3")).alias(share)
                for share, count in SHARES.items()
            ),
            pl.lit(None).alias("m_825_2"),
        )

    return run


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _frames_available() -> bool:
    from flowql.results import Result

    return hasattr(Result, "to_pandas")


def measure(rounds: int, sample: float, windows: int = WINDOWS) -> dict[str, Any]:
    rows = make_rows(windows)
    records = records_of(rows)
    cases: dict[str, Callable[[], object]] = {"flowql": flowql_merge(rows)}
    missing: list[str] = []
    for name, maker in (("pandas", pandas_merge), ("polars", polars_merge)):
        if _installed(name):
            cases[name] = maker(records)
            if _frames_available():
                cases[f"flowql+to_{name}"] = flowql_frame(rows, name)
        else:
            missing.append(name)
    calls = {name: _calls_for(fn, sample) for name, fn in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(SEED)
    for _ in range(rounds):
        shuffle.shuffle(order)
        for name in order:
            samples[name].append(_time_calls(cases[name], calls[name]))
    medians = {name: statistics.median(s) * 1000 for name, s in samples.items()}
    goals: dict[str, Any] = {}
    for other in ("pandas", "polars"):
        if other in missing:
            goals[other] = {"status": "NOT CHECKED", "reason": f"{other} is not installed"}
            continue
        ours = medians.get(f"flowql+to_{other}", medians["flowql"])
        ratio = ours / medians[other]
        goals[other] = {
            "ratio": ratio,
            "goal": GOAL,
            "status": "MET" if ratio <= GOAL else "MISSED",
            "compared": f"flowql+to_{other}" if f"flowql+to_{other}" in medians else "flowql",
        }
    return {
        "windows": windows,
        "groups": GROUPS,
        "rows": len(rows),
        "rounds": rounds,
        "median_ms": medians,
        "missing": missing,
        "goals": goals,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="interleaved rounds (default 15)")
    args = parser.parse_args(argv)
    env = print_header("merge")
    rounds = args.rounds or (2 if args.quick else 15)
    figures = measure(rounds, 0.02 if args.quick else 0.2)
    print(
        f"{figures['windows']} windows of {figures['groups']} groups ({figures['rows']} rows), "
        f"{rounds} interleaved rounds, medians:"
    )
    for name, ms in figures["median_ms"].items():
        print(f"  {name:<18} {ms:9.2f} ms")
    for other, goal in figures["goals"].items():
        if goal["status"] == "NOT CHECKED":
            print(f"  vs {other}: NOT CHECKED ({goal['reason']})")
        else:
            print(
                f"  {goal['compared']} / {other}: {goal['ratio']:.2f} "
                f"(goal <= {GOAL:g}): {goal['status']}"
            )
    if args.json is not None:
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
