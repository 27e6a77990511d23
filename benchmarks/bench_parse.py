"""How fast flowql parses, against Lark, luqum and pyparsing, and how fast its CLI starts.

Run it from the repository, with the ``dev`` and ``bench`` extras installed::

    python benchmarks/bench_parse.py                  # the full run, about 30 seconds
    python benchmarks/bench_parse.py --quick          # a smoke test, seconds
    python benchmarks/bench_parse.py --json out.json  # also write every figure as JSON

It measures, in one run, and prints medians:

1. the throughput of :func:`flowql.parse` on sets of small (~60 characters), medium (~400) and
   large (~4,000) filters, generated from a seed so that every run parses the same text;
2. the time to parse one ~4,000-character filter with flowql, with plain Lark LALR on the same
   grammar (parse tree only), with luqum on the same query written in Lucene syntax, and with a
   typical pyparsing ``infix_notation`` grammar; the four are interleaved round by round;
3. the cold start of ``flowql parse --expr ...`` from a wheel installed in a fresh virtual
   environment, against ``python -c pass`` from that environment, interleaved round by round.

Goals (printed next to the figures): flowql parses the 4,000-character filter in at most 1.5 ms
and faster than luqum and pyparsing; the CLI's cold start is at most 4 times ``python -c pass``.
benchmarks/README.md explains how to read the output. Nothing here asserts a time: the test suite
runs this script with ``--quick`` to check that it works, never how fast.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GRAMMAR = REPO / "grammar" / "flowql.lark"

SEED = 20261122

GOAL_4K_MS = 1.5
GOAL_COLDSTART_RATIO = 4.0

# --- realistic filters ----------------------------------------------------------------------
#
# Conviva dimension keys with values of the kind they hold. Contains (~~, !~) uses the fragments:
# single words, so that the Lucene form `key:*fragment*` needs no escaping.

DIMENSIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "geo_country": (
        (
            "Spain",
            "United States",
            "Germany",
            "Brazil",
            "India",
            "France",
            "United Kingdom",
            "Japan",
            "Mexico",
            "Canada",
        ),
        ("United", "Spain", "Kingdom", "Brazil"),
    ),
    "geo_city": (
        (
            "Madrid",
            "Barcelona",
            "New York",
            "São Paulo",
            "München",
            "London",
            "Tokyo",
            "Chicago",
            "Toronto",
            "Mumbai",
        ),
        ("Madrid", "York", "Paulo", "London", "Chicago"),
    ),
    "geo_state": (
        ("California", "Texas", "Bavaria", "Catalonia", "Ontario", "Maharashtra"),
        ("California", "Texas", "Bavaria"),
    ),
    "device_operating_system": (
        ("Android", "iOS", "tvOS", "Roku OS", "Tizen", "webOS", "Fire OS", "Windows", "macOS"),
        ("Android", "OS", "Tizen", "Windows"),
    ),
    "device_operating_system_version": (
        ("14", "13", "17.4.1", "12.0", "8.1", "10"),
        ("17", "14", "12"),
    ),
    "device_category": (
        ("Mobile", "Tablet", "Smart TV", "Set-top Box", "Desktop", "Game Console"),
        ("TV", "Mobile", "Box", "Console"),
    ),
    "device_manufacturer": (
        ("Samsung", "Apple", "Roku", "Amazon", "LG", "Sony", "Google"),
        ("Samsung", "Apple", "Amazon"),
    ),
    "browser_name": (
        ("Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera"),
        ("Chrome", "Safari", "Internet"),
    ),
    "isp": (
        (
            "Comcast Cable",
            "Telefonica de Espana",
            "Verizon Fios",
            "Deutsche Telekom AG",
            "Reliance Jio",
            "Charter Communications",
            "Vodafone",
        ),
        ("Comcast", "Telefonica", "Verizon", "Telekom", "Vodafone"),
    ),
    "cdn": (
        ("Akamai", "Fastly", "Cloudfront", "Limelight", "Level3", "Edgio"),
        ("Akamai", "Fastly", "front"),
    ),
    "asn": (("7922", "3352", "3320", "55836", "701"), ("79", "33")),
    "player_name": (
        ("ExoPlayer", "AVPlayer", "Shaka Player", "Roku Player", "Bitmovin"),
        ("Player", "Exo", "Shaka"),
    ),
    "application_name": (
        ("Live Sports", "Movies+", "Kids Channel", "News 24", "Series Hub"),
        ("Sports", "Kids", "News"),
    ),
    "tag_specialContentId": (
        (
            "live-2026-11-22-liga",
            "vod-983311",
            "event-ucl-final",
            "live-2026-11-21-nba",
            "vod-102944",
        ),
        ("live", "vod", "event", "ucl"),
    ),
    "tag_contentType": (("Live", "VOD", "Linear", "Clip"), ("Live", "VOD")),
}
KEYS = tuple(DIMENSIONS)
OPERATORS = ("==", "!=", "~~", "!~")
OPERATOR_WEIGHTS = (5, 2, 2, 1)  # equality is the most common test in real filters


@dataclass(frozen=True)
class _Comparison:
    key: str
    op: str
    value: str


@dataclass(frozen=True)
class _Membership:
    key: str
    values: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class _Group:
    op: str  # "AND" or "OR"
    children: tuple[_Clause, ...]
    negated: bool  # NOT (...)


_Clause = _Comparison | _Membership | _Group


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _phrase(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_flowql(clause: _Clause, top: bool = True) -> str:
    """FlowQL text; nested groups are always parenthesised, as people write them."""
    if isinstance(clause, _Comparison):
        return f"{clause.key} {clause.op} {_quote(clause.value)}"
    if isinstance(clause, _Membership):
        word = "NOT IN" if clause.negated else "IN"
        return f"{clause.key} {word} ({', '.join(_quote(v) for v in clause.values)})"
    body = f" {clause.op} ".join(to_flowql(child, top=False) for child in clause.children)
    if clause.negated:
        return f"NOT ({body})"
    return body if top else f"({body})"


def to_lucene(clause: _Clause, top: bool = True) -> str:
    """The same query in Lucene syntax: ``key:"v"``, ``NOT key:"v"`` for !=, ``key:*v*`` for
    contains, ``key:("a" OR "b")`` for IN, and the same AND/OR/NOT and parentheses."""
    if isinstance(clause, _Comparison):
        if clause.op in ("==", "!="):
            term = f"{clause.key}:{_phrase(clause.value)}"
        else:
            term = f"{clause.key}:*{clause.value}*"
        return term if clause.op in ("==", "~~") else f"NOT {term}"
    if isinstance(clause, _Membership):
        term = f"{clause.key}:({' OR '.join(_phrase(v) for v in clause.values)})"
        return f"NOT {term}" if clause.negated else term
    body = f" {clause.op} ".join(to_lucene(child, top=False) for child in clause.children)
    if clause.negated:
        return f"NOT ({body})"
    return body if top else f"({body})"


def _leaves(clause: _Clause) -> int:
    if isinstance(clause, _Group):
        return sum(_leaves(child) for child in clause.children)
    return 1


def _comparison(rng: random.Random) -> _Comparison:
    key = rng.choice(KEYS)
    values, fragments = DIMENSIONS[key]
    (op,) = rng.choices(OPERATORS, OPERATOR_WEIGHTS)
    value = rng.choice(values if op in ("==", "!=") else fragments)
    return _Comparison(key, op, value)


def _membership(rng: random.Random) -> _Membership:
    key = rng.choice(KEYS)
    values = DIMENSIONS[key][0]
    return _Membership(key, tuple(rng.sample(values, rng.randint(2, 4))), rng.random() < 0.3)


def _clause(rng: random.Random, depth: int) -> _Clause:
    r = rng.random()
    if depth < 3 and r < 0.25:
        size = rng.randint(2, 4)
        children = tuple(_clause(rng, depth + 1) for _ in range(size))
        return _Group(rng.choice(("AND", "OR")), children, rng.random() < 0.2)
    if r < 0.40:
        return _membership(rng)
    return _comparison(rng)


@dataclass(frozen=True)
class Query:
    """One generated filter, in FlowQL and in Lucene syntax."""

    flowql: str
    lucene: str
    comparisons: int  # comparisons and IN tests


def make_query(rng: random.Random, target: int, tolerance: float) -> Query:
    """A filter within ``tolerance`` (a fraction) of ``target`` characters long: clauses joined
    at the top by AND or OR, some of them parenthesised groups nested up to three deep."""
    while True:
        op = rng.choice(("AND", "OR"))
        clauses: list[_Clause] = []
        text = before = ""
        while len(text) < target:
            clauses.append(_clause(rng, 1) if target > 100 else _comparison(rng))
            before, text = text, to_flowql(_Group(op, tuple(clauses), False))
        if len(clauses) > 1 and target - len(before) < len(text) - target:
            clauses.pop()  # the text without the last clause is nearer the target
        top = _Group(op, tuple(clauses), False)
        text = to_flowql(top)
        if abs(len(text) - target) <= tolerance * target:
            return Query(text, to_lucene(top), _leaves(top))


@dataclass(frozen=True)
class Size:
    name: str
    target: int
    count: int
    tolerance: float


SIZES = (
    Size("small", 60, 40, 0.2),
    Size("medium", 400, 20, 0.1),
    Size("large", 4000, 8, 0.05),
)


def make_sets(seed: int = SEED) -> dict[str, list[Query]]:
    """Every size's set of distinct filters, the same for a given seed."""
    rng = random.Random(seed)
    sets: dict[str, list[Query]] = {}
    for size in SIZES:
        queries: list[Query] = []
        seen: set[str] = set()
        while len(queries) < size.count:
            query = make_query(rng, size.target, size.tolerance)
            if query.flowql not in seen:
                seen.add(query.flowql)
                queries.append(query)
        sets[size.name] = queries
    return sets


def make_comparison_query(seed: int = SEED) -> Query:
    """The 4,000-character filter of the comparison (within 2%)."""
    return make_query(random.Random(seed + 1), 4000, 0.02)


# --- timing ---------------------------------------------------------------------------------


def _time_calls(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of ``calls`` calls in a row. The garbage left by earlier samples is
    collected first; the collector stays on while timing, as it is for a user."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _calls_for(fn: Callable[[], object], sample_seconds: float) -> int:
    """How many calls make a sample of about ``sample_seconds`` (at least one)."""
    fn()  # warm up: first-call costs (lazy imports, caches) are not what is measured
    per_call = _time_calls(fn, 1)
    if per_call < 0.005:
        per_call = _time_calls(fn, max(1, int(0.005 / per_call)))
    return max(1, round(sample_seconds / per_call))


def _median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


# --- 1. throughput --------------------------------------------------------------------------


def bench_throughput(
    sets: dict[str, list[Query]], rounds: int, sample_seconds: float
) -> dict[str, dict[str, float | int]]:
    import flowql

    passes: dict[str, Callable[[], object]] = {}
    for name, queries in sets.items():
        texts = [q.flowql for q in queries]

        def one_pass(texts: list[str] = texts) -> None:
            for text in texts:
                flowql.parse(text)

        passes[name] = one_pass
    calls = {name: _calls_for(fn, sample_seconds) for name, fn in passes.items()}
    samples: dict[str, list[float]] = {name: [] for name in passes}
    order = list(passes)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)  # interleaved, in a different order each round
        for name in order:
            samples[name].append(_time_calls(passes[name], calls[name]))
    results: dict[str, dict[str, float | int]] = {}
    for name, queries in sets.items():
        per_pass = statistics.median(samples[name])
        chars = [len(q.flowql) for q in queries]
        total_bytes = sum(len(q.flowql.encode()) for q in queries)
        results[name] = {
            "filters": len(queries),
            "mean_chars": round(statistics.mean(chars), 1),
            "min_chars": min(chars),
            "max_chars": max(chars),
            "rounds": rounds,
            "filters_per_s": len(queries) / per_pass,
            "mb_per_s": total_bytes / per_pass / 1e6,
            "us_per_filter": per_pass / len(queries) * 1e6,
        }
    return results


# --- 2. the comparison on the 4K filter -----------------------------------------------------


def _flowql_parser() -> Callable[[str], object]:
    import flowql

    return flowql.parse


def _lark_parser() -> Callable[[str], object]:
    from lark import Lark

    parser = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr")
    return parser.parse


def _luqum_parser() -> Callable[[str], object]:
    from luqum.parser import parser

    def parse(text: str) -> object:
        return parser.parse(text)

    return parse


def pyparsing_grammar() -> Any:
    """FlowQL's boolean syntax as a pyparsing user would write it: an ``infix_notation`` over a
    comparison or an IN test. Packrat parsing stays off: on this grammar and input it makes
    pyparsing 3.3 about twice as slow (10 ms without it, 19 to 23 ms with it, cache of 128,
    1,024 or unbounded, measured on the 4K filter)."""
    import pyparsing as pp

    and_, or_, not_, in_ = (pp.CaselessKeyword(w) for w in ("AND", "OR", "NOT", "IN"))
    keyword = and_ | or_ | not_ | in_ | pp.CaselessKeyword("TRUE") | pp.CaselessKeyword("FALSE")
    key = ~keyword + pp.Word(pp.alphas + "_", pp.alphanums + "_-.")
    value = (
        pp.QuotedString("'", esc_char="\\")
        | pp.QuotedString('"', esc_char="\\")
        | pp.common.number
        | pp.CaselessKeyword("TRUE")
        | pp.CaselessKeyword("FALSE")
    )
    operator = pp.one_of("== != ~~ !~")
    comparison = pp.Group(key + operator + value)
    values = pp.Suppress("(") + pp.Group(pp.DelimitedList(value)) + pp.Suppress(")")
    membership = pp.Group(key + pp.Opt(not_) + in_ + values)
    # pyparsing types infix_notation loosely; through Any, mypy --strict accepts the call
    # whether pyparsing is installed or not.
    infix_notation: Any = pp.infix_notation
    return infix_notation(
        membership | comparison,
        [
            (not_, 1, pp.OpAssoc.RIGHT),
            (and_, 2, pp.OpAssoc.LEFT),
            (or_, 2, pp.OpAssoc.LEFT),
        ],
    )


def _pyparsing_parser() -> Callable[[str], object]:
    grammar = pyparsing_grammar()

    def parse(text: str) -> object:
        return grammar.parse_string(text, parse_all=True)

    return parse


@dataclass(frozen=True)
class Parser:
    name: str
    label: str
    package: str  # the distribution that provides it, for "not installed"
    lucene: bool  # parses the Lucene form of the query
    make: Callable[[], Callable[[str], object]]


PARSERS = (
    Parser("flowql", "flowql.parse", "flowql", False, _flowql_parser),
    Parser("lark", "Lark LALR (tree)", "lark", False, _lark_parser),
    Parser("luqum", "luqum (Lucene)", "luqum", True, _luqum_parser),
    Parser("pyparsing", "pyparsing", "pyparsing", False, _pyparsing_parser),
)


def bench_comparison(query: Query, rounds: int, sample_seconds: float) -> dict[str, Any]:
    ready: dict[str, Callable[[], object]] = {}
    results: dict[str, dict[str, Any]] = {}
    for p in PARSERS:
        text = query.lucene if p.lucene else query.flowql
        entry: dict[str, Any] = {"label": p.label, "input_chars": len(text), "installed": True}
        results[p.name] = entry
        try:
            parse = p.make()
        except ImportError:
            entry.update(installed=False, ms=None, speedup=None)
            continue
        parse(text)  # it must accept the query before it is timed

        def call(parse: Callable[[str], object] = parse, text: str = text) -> object:
            return parse(text)

        ready[p.name] = call
    calls = {name: _calls_for(fn, sample_seconds) for name, fn in ready.items()}
    samples: dict[str, list[float]] = {name: [] for name in ready}
    order = list(ready)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            samples[name].append(_time_calls(ready[name], calls[name]))
    flowql_ms = _median_ms(samples["flowql"])
    for name, times in samples.items():
        ms = _median_ms(times)
        results[name].update(ms=ms, speedup=ms / flowql_ms, calls_per_sample=calls[name])
    results["flowql"]["speedup"] = None
    rivals = ("luqum", "pyparsing")
    missing = [name for name in rivals if name not in samples]
    goal_met: bool | None = None  # unknown while a rival is missing
    beaten = [results[name]["speedup"] > 1 for name in rivals if name in samples]
    if flowql_ms > GOAL_4K_MS or not all(beaten):
        goal_met = False
    elif not missing:
        goal_met = True
    return {
        "rounds": rounds,
        "comparisons": query.comparisons,
        "parsers": results,
        "goal_ms": GOAL_4K_MS,
        "goal_met": goal_met,
    }


# --- 3. cold start --------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """The environment of the timed children: without PYTHONDONTWRITEBYTECODE, so that they load
    the bytecode pip compiled at install as an installed wheel does, and without PYTHONPATH and
    PYTHONHOME, which would reach past the fresh environment."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"command failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}"
        )


def _install(tmp: Path, env: dict[str, str]) -> tuple[str, str]:
    """Build flowql's wheel and install it in a new virtual environment; return the paths of its
    python and of its flowql script."""
    wheels = tmp / "wheels"
    _run(
        [
            *(sys.executable, "-m", "pip", "wheel", str(REPO)),
            *("--no-deps", "--no-build-isolation", "--quiet", "-w", str(wheels)),
        ],
        env,
        cwd=REPO,
    )
    (wheel,) = wheels.glob("flowql-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    # This interpreter's pip installs into the new environment (pip --python); pip compiles the
    # package to bytecode at install, as every real install does.
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install"),
            *("--no-deps", "--no-index", "--no-cache-dir", "--quiet", str(wheel)),
        ],
        env,
    )
    found = subprocess.run(
        [str(python), "-c", "import flowql; print(flowql.__file__)"],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    if not Path(found.stdout.strip()).is_relative_to(venv):
        raise RuntimeError(f"the new environment imports flowql from {found.stdout.strip()}")
    return str(python), str(next(scripts.glob("flowql*")))


def _time_commands(
    commands: dict[str, list[str]], rounds: int, env: dict[str, str], cwd: Path
) -> dict[str, float]:
    """Median wall-clock seconds of each command, run interleaved in a new order each round.

    They run in ``cwd``, outside the repository: ``python -c`` puts the working directory first
    on sys.path, and ``import flowql`` must find the installed package, not the source tree."""
    for cmd in commands.values():  # check each works, and warm the disk cache
        _run(cmd, env, cwd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            subprocess.run(
                commands[name],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def _lark_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("lark") is not None


def cli_coldstart(
    rounds: int,
    command: str,
    expr: str,
    goal_ratio: float,
    *,
    extra: dict[str, list[str]] | None = None,
    prefix: str = "flowql-bench-",
) -> tuple[dict[str, Any], dict[str, float]]:
    """Time ``flowql COMMAND --expr EXPR`` from a wheel installed in a fresh virtual environment,
    interleaved with ``python -c pass`` and ``python -c "import flowql"`` from that environment
    (and the ``extra`` commands): the figures (``flowql_<command>_ms`` among them), and the
    median milliseconds of every command by name."""
    env = _child_env()
    name = f"flowql_{command}"
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        python, flowql_cli = _install(Path(tmp), env)
        compiled = any((Path(tmp) / "venv").rglob("flowql/__pycache__/*.pyc"))
        commands = {
            "python_pass": [python, "-c", "pass"],
            "import_flowql": [python, "-c", "import flowql"],
            name: [flowql_cli, command, "--expr", expr],
            **(extra or {}),
        }
        medians = _time_commands(commands, rounds, env, Path(tmp))
    ms = {cmd: seconds * 1000 for cmd, seconds in medians.items()}
    ratio = ms[name] / ms["python_pass"]
    results = {
        "rounds": rounds,
        "expr": expr,
        "bytecode_compiled": compiled,
        "python_pass_ms": ms["python_pass"],
        "import_flowql_ms": ms["import_flowql"],
        f"{name}_ms": ms[name],
        "ratio": ratio,
        "goal_ratio": goal_ratio,
        "goal_met": ratio <= goal_ratio,
    }
    return results, ms


def coldstart_or_explain(
    bench: Callable[[int, str], dict[str, Any]], rounds: int, expr: str
) -> dict[str, Any] | None:
    """``bench(rounds, expr)``, or None after saying on stderr why the cold start could not run."""
    try:
        return bench(rounds, expr)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"the cold start could not run: {exc}", file=sys.stderr)
        print(
            'it needs pip and hatchling (pip install -e ".[dev]"); --skip-coldstart skips it',
            file=sys.stderr,
        )
        return None


def bench_coldstart(rounds: int, expr: str) -> dict[str, Any]:
    extra = {"dev_python_pass": [sys.executable, "-c", "pass"]}
    if _lark_installed():
        extra["dev_import_lark"] = [sys.executable, "-c", "import lark"]
    results, ms = cli_coldstart(rounds, "parse", expr, GOAL_COLDSTART_RATIO, extra=extra)
    lark_ms = ms.get("dev_import_lark")
    results["reference"] = {
        "python": sys.executable,
        "python_pass_ms": ms["dev_python_pass"],
        "import_lark_ms": lark_ms,
        "ratio": None if lark_ms is None else lark_ms / ms["dev_python_pass"],
    }
    return results


# --- the report -----------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    import flowql

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "flowql": flowql.__version__,
    }


def print_header(name: str) -> dict[str, Any]:
    """Print the benchmark's first line, naming flowql, Python and the machine; the environment."""
    env = environment()
    print(
        f"flowql {env['flowql']} {name} benchmark: Python {env['python']} "
        f"({env['implementation']}), {env['platform']}, {env['cpu_count']} CPUs"
    )
    return env


def write_report(
    path: Path,
    argv: Sequence[str] | None,
    quick: bool,
    env: dict[str, Any],
    seed: int,
    figures: dict[str, Any],
) -> None:
    """Write the JSON report: the date, the run's arguments, the seed and the environment, then
    the benchmark's own figures."""
    report = {
        "date": datetime.date.today().isoformat(),
        "quick": quick,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "seed": seed,
        "environment": env,
        **figures,
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _met(ok: bool | None) -> str:
    return {True: "MET", False: "MISSED", None: "NOT CHECKED"}[ok]


def print_throughput(results: dict[str, dict[str, float | int]]) -> None:
    rounds = next(iter(results.values()))["rounds"]
    print(f"1. Parse throughput of flowql.parse (median of {rounds} rounds; MB = 10^6 bytes)")
    header = f"{'size':<8}{'filters':>8}{'mean chars':>12}{'filters/s':>12}{'MB/s':>8}"
    print(f"   {header}{'µs/filter':>11}")
    for name, r in results.items():
        print(
            f"   {name:<8}{r['filters']:>8}{r['mean_chars']:>12,.0f}{r['filters_per_s']:>12,.0f}"
            f"{r['mb_per_s']:>8.2f}{r['us_per_filter']:>11,.1f}"
        )
    print()


def print_comparison(results: dict[str, Any]) -> None:
    parsers = results["parsers"]
    chars = parsers["flowql"]["input_chars"]
    print(
        f"2. One {chars:,}-character filter ({results['comparisons']} comparisons), "
        f"interleaved, median of {results['rounds']} rounds"
    )
    print(f"   {'parser':<20}{'input chars':>12}{'median ms':>11}{'flowql faster by':>18}")
    for r in parsers.values():
        if not r["installed"]:
            print(f"   {r['label']:<20}{'not installed':>23}")
            continue
        speedup = "-" if r["speedup"] is None else f"{r['speedup']:.1f}x"
        print(f"   {r['label']:<20}{r['input_chars']:>12,}{r['ms']:>11.3f}{speedup:>18}")
    flowql_ms = parsers["flowql"]["ms"]
    missing = [name for name in ("luqum", "pyparsing") if not parsers[name]["installed"]]
    why = f", {' and '.join(missing)} missing" if missing and results["goal_met"] is None else ""
    print(
        f"   goal: flowql <= {results['goal_ms']} ms and faster than luqum and pyparsing: "
        f"{_met(results['goal_met'])} ({flowql_ms:.3f} ms{why})"
    )
    print()


def print_coldstart_figures(results: dict[str, Any], command: str, label: str, width: int) -> None:
    """The cold start's title and figures, down to the FILTER line; ``label`` names the timed
    ``flowql COMMAND``, in a column ``width`` wide."""
    print(
        f"3. Cold start: wheel in a fresh venv (bytecode compiled: "
        f"{'yes' if results['bytecode_compiled'] else 'NO'}), interleaved, "
        f"median of {results['rounds']} rounds"
    )
    print(f"   {'python -c pass':<{width}}{results['python_pass_ms']:>8.1f} ms")
    import_label = 'python -c "import flowql"'
    print(f"   {import_label:<{width}}{results['import_flowql_ms']:>8.1f} ms")
    print(f"   {label:<{width}}{results[f'flowql_{command}_ms']:>8.1f} ms")
    print(
        f"   ratio flowql {command} / python -c pass: {results['ratio']:.2f}  "
        f"goal <= {results['goal_ratio']}: {_met(results['goal_met'])}"
    )
    print(f"   FILTER: {results['expr']}")


def print_coldstart(results: dict[str, Any]) -> None:
    label = "flowql parse --expr FILTER (stdout discarded)"
    print_coldstart_figures(results, "parse", label, 48)
    ref = results["reference"]
    if ref["import_lark_ms"] is None:
        print("   reference, import lark: lark not installed")
    else:
        print(
            f"   reference, {ref['python']}: python -c pass {ref['python_pass_ms']:.1f} ms, "
            f'python -c "import lark" {ref["import_lark_ms"]:.1f} ms, ratio {ref["ratio"]:.2f}'
        )
    print()


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--skip-coldstart", action="store_true", help="skip the cold start")
    parser.add_argument("--rounds", type=_positive, help="rounds of parts 1 and 2 (200)")
    parser.add_argument("--coldstart-rounds", type=_positive, help="rounds of part 3 (40)")
    args = parser.parse_args(argv)

    rounds = args.rounds or (3 if args.quick else 200)
    coldstart_rounds = args.coldstart_rounds or (3 if args.quick else 40)
    sample_seconds = 0.002 if args.quick else 0.01

    env = print_header("parse")
    print()
    sets = make_sets()
    throughput = bench_throughput(sets, rounds, sample_seconds)
    print_throughput(throughput)
    comparison = bench_comparison(make_comparison_query(), rounds, sample_seconds)
    print_comparison(comparison)
    coldstart = None
    if not args.skip_coldstart:
        coldstart = coldstart_or_explain(bench_coldstart, coldstart_rounds, sets["small"][0].flowql)
        if coldstart is None:
            return 1
        print_coldstart(coldstart)

    if args.json:
        figures = {
            "sizes": {s.name: s.target for s in SIZES},
            "throughput": throughput,
            "comparison": comparison,
            "coldstart": coldstart,
        }
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
