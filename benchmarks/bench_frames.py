"""How fast flowql turns a result into a DataFrame or a Parquet file, beside the libraries'
own way of building the same thing from the records.

Run it from the repository, with the ``dev`` extra installed (pyarrow, pandas, polars)::

    python benchmarks/bench_frames.py                  # the full run, about 30 seconds
    python benchmarks/bench_frames.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_frames.py --json out.json  # also write every figure as JSON

Two results of 100,000 rows, made from a fixed seed: a time series (one point a minute, seven
metrics as a Conviva flow has them, some None) and a grouped result (a dimension, an attribute,
windows and three metrics). For each, three comparisons, each a pair timed side by side:

- ``pandas``: ``result.to_pandas()`` against ``pd.DataFrame.from_records(records)``;
- ``polars``: ``result.to_polars()`` against ``pl.from_dicts(records)``;
- ``parquet``: the bytes of ``--format parquet`` (``flowql.exports.render``) against
  ``pq.write_table(pa.Table.from_pylist(records), buffer)``;

where ``records`` is ``result.to_records()``, made once before timing (the libraries are given
it for free; flowql starts from the result). The pairs of every comparison are interleaved, in
a new order each round, and the script prints the medians, the ratio flowql / library and
MET or MISSED against the goal (a ratio of at most 2.0). Extra comparisons (the merge of 168
windows of grouped rows, to come) join through :data:`EXTRA`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_parse import SEED, _met, _time_calls, print_header, write_report

from flowql.query import Window
from flowql.results import DimensionalRow, DimensionalRows, Point, Result, TimeSeries

ROWS = 100_000
GOAL = 2.0
"""Each comparison's goal: flowql within this many times the library's own time."""

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Comparison:
    """flowql's way and the library's way of building the same thing."""

    name: str
    flowql: Callable[[], object]
    library: Callable[[], object]


EXTRA: list[Callable[[int], list[Comparison]]] = []
"""Functions that add comparisons (given the row count): the hook for more goals."""


def make_series(rows: int, seed: int = SEED) -> TimeSeries:
    """A time series of ``rows`` one-minute points, seven metrics, some None."""
    rng = random.Random(seed)
    points = []
    for i in range(rows):
        starts = rng.randint(0, 5000)
        ended = rng.randint(0, starts)
        values: dict[str, object] = {
            "m_825_1": ended,
            "m_825_1_percentage": 100.0 * ended / starts if starts else None,
            "m_825_2": None if i % 11 == 0 else rng.random() * 4,
            "m_825_3": starts,
            "m_825_4": rng.randint(0, 100) if i % 13 else None,
            "m_825_4_percentage": rng.random() * 100,
            "m_825_5": rng.random(),
        }
        points.append(Point(T0 + dt.timedelta(minutes=i), values))
    return TimeSeries(api="conviva-flow", endpoint="historical", points=tuple(points))


_COUNTRIES = ("Spain", "France", "Italy", "Germany", "Portugal", "Brazil", "Japan", "Kenya")


def make_grouped(rows: int, seed: int = SEED) -> DimensionalRows:
    """A grouped result of ``rows`` rows: a country and its code per one-hour window."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        country = _COUNTRIES[i % len(_COUNTRIES)]
        start = T0 + dt.timedelta(hours=i // len(_COUNTRIES))
        metrics: dict[str, object] = {
            "m_825_1": rng.randint(0, 1000),
            "m_825_1_percentage": rng.random() * 100,
            "m_825_2": rng.random() * 3 if i % 7 else None,
        }
        window = Window(start, start + dt.timedelta(hours=1))
        out.append(DimensionalRow(country, metrics, {"country_code": country[:2]}, window))
    return DimensionalRows(
        api="conviva-flow", endpoint="historical", dimension="geo_country", rows=tuple(out)
    )


def comparisons(label: str, result: Result) -> list[Comparison]:
    """The three comparisons of ``result``."""
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flowql.exports import render
    from flowql.frames import dimensions_of

    records = result.to_records()
    # The same frame as flowql's: its dimension columns are categories there too.
    dims = sorted(dimensions_of(result))

    def native_pandas() -> object:
        frame = pd.DataFrame.from_records(records)
        return frame.astype(dict.fromkeys(dims, "category")) if dims else frame

    def native_polars() -> object:
        frame = pl.from_dicts(records)
        return frame.with_columns(pl.col(dims).cast(pl.Categorical)) if dims else frame

    def native_parquet() -> bytes:
        table = pa.Table.from_pylist(records)
        for name in dims:
            index = table.column_names.index(name)
            table = table.set_column(index, name, table[name].dictionary_encode())
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()

    return [
        Comparison(f"{label} pandas", result.to_pandas, native_pandas),
        Comparison(f"{label} polars", result.to_polars, native_polars),
        Comparison(f"{label} parquet", lambda: render(result, "parquet"), native_parquet),
    ]


def bench(rows: int, rounds: int) -> dict[str, Any]:
    """Every comparison's medians (ms), ratio and goal."""
    cases = [
        *comparisons("series", make_series(rows)),
        *comparisons("grouped", make_grouped(rows)),
    ]
    for extra in EXTRA:
        cases.extend(extra(rows))
    samples: dict[tuple[str, str], list[float]] = {}
    runs = [
        (c.name, side, fn)
        for c in cases
        for side, fn in (("flowql", c.flowql), ("library", c.library))
    ]
    for _, _, fn in runs:
        fn()  # warm up: lazy imports and first-call costs are not what is measured
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(runs)
        for name, side, fn in runs:
            samples.setdefault((name, side), []).append(_time_calls(fn, 1))
    out: dict[str, Any] = {}
    for case in cases:
        mine = statistics.median(samples[(case.name, "flowql")]) * 1000
        theirs = statistics.median(samples[(case.name, "library")]) * 1000
        ratio = mine / theirs
        out[case.name] = {
            "flowql_ms": round(mine, 3),
            "library_ms": round(theirs, 3),
            "ratio": round(ratio, 3),
            "goal": GOAL,
            "met": ratio <= GOAL,
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few small rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows (default {ROWS:,})")
    args = parser.parse_args(argv)
    rows, rounds = (2_000, 2) if args.quick else (args.rows, args.rounds)
    env = print_header("frames")
    print(f"{rows:,} rows, {rounds} interleaved rounds, medians; goal: ratio <= {GOAL}")
    figures = bench(rows, rounds)
    print(f"{'comparison':<18} {'flowql ms':>10} {'library ms':>11} {'ratio':>6}  goal")
    for name, f in figures.items():
        print(
            f"{name:<18} {f['flowql_ms']:>10.1f} {f['library_ms']:>11.1f} {f['ratio']:>6.2f}  "
            f"{_met(f['met'])}"
        )
    if args.json is not None:
        report = {"rows": rows, "rounds": rounds, "goal": GOAL, "comparisons": figures}
        write_report(args.json, argv, args.quick, env, SEED, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
