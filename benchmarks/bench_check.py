"""How fast ``flowql check`` checks a repository of query manifests, and how fast it starts.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_check.py                    # the full run, a few minutes
    python benchmarks/bench_check.py --profile          # also profile the 10,000-filter check
    python benchmarks/bench_check.py --quick            # a smoke test, seconds
    python benchmarks/bench_check.py --json out.json    # also write every figure as JSON
    python benchmarks/bench_check.py --base ../flowql-base --shapes-only   # part 5 side by side

It generates, from a seed, query manifests of 100 ``[[query]]`` tables each (a ``name``, a
``flow``, 825 or 142, and a ``filter`` of about 100 characters made of the demo model's keys,
with a few typos and keys of the other flow so that there are findings), and measures, in one
run, medians of several runs:

1. one ``flowql check DIR --format concise`` over 10,000 filters in 100 files: wall time,
   filters per second, the median filter length and the number of findings;
2. the same at 1,000, 10,000 and 100,000 filters (10, 100 and 1,000 files), interleaved round by
   round, and how the cost per filter changes from 1,000 to 100,000 (linear: about 1);
3. the cold start of ``flowql check --expr FILTER`` (built-in model) from a wheel installed in a
   fresh virtual environment, against ``python -c pass`` from that environment;
4. with ``--profile``, one in-process run of the 10,000-filter check under cProfile: the 15
   functions with the most cumulative time;
5. three repository shapes, each checked by ``python -m flowql`` from this source tree (and,
   with ``--base PATH``, from another checkout, side by side in the same rounds): 100,000 filters
   in 100-query manifests, 5,000 one-filter ``.flowql`` files, and one manifest of the same
   100,000 queries; wall time and the peak memory of the largest process, ``ruff check
   --no-cache`` on 5,000 two-line Python files, and the cold start of both trees.

Goals (printed next to the figures): at least 10,000 filters per second end to end on the
10,000-filter corpus; a cold start of at most 4 times ``python -c pass``; in part 5, at least 1.5
times the base's throughput on every shape, the one manifest within 1.2 times the time of the
100-query manifests, under 150 MB for it, and a time per file within 2.5 times ruff's. Nothing
here asserts a time: the test suite runs this script with ``--quick`` to check that it works,
never how fast.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script): its cold-start
# helpers build the wheel, install it in a fresh environment and time commands interleaved.
from bench_parse import (
    _child_env,
    _met,
    _positive,
    cli_coldstart,
    coldstart_or_explain,
    print_coldstart_figures,
    print_header,
    write_report,
)

REPO = Path(__file__).resolve().parent.parent

SEED = 20261122
QUERIES_PER_FILE = 100
SIZES = (1_000, 10_000, 100_000)  # filters; part 1 is the middle one
QUICK_SIZES = (100, 300, 1_000)

GOAL_FILTERS_PER_S = 10_000
GOAL_COLDSTART_RATIO = 4.0

COLDSTART_EXPR = "geo_country == 'Spain' AND device_category IN ('Smart TV', 'Mobile')"

# --- the corpus -----------------------------------------------------------------------------
#
# The keys of the built-in demo model (flowql.model.demo_model) with values of the kind each
# holds: the keys both flows have, then those of flow 825 (Login Process) and of flow 142 (Video
# Start) only. Contains (~~, !~) uses the fragments.

SHARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "geo_country": (
        ("Spain", "United States", "Germany", "Brazil", "India", "France", "United Kingdom"),
        ("United", "Spain", "Kingdom", "Brazil"),
    ),
    "geo_state": (
        ("California", "Texas", "Bavaria", "Catalonia", "Ontario", "Maharashtra"),
        ("California", "Texas", "Bavaria"),
    ),
    "geo_city": (
        ("Madrid", "Barcelona", "New York", "São Paulo", "München", "London", "Tokyo"),
        ("Madrid", "York", "Paulo", "London"),
    ),
    "device_operating_system": (
        ("Android", "iOS", "tvOS", "Roku OS", "Tizen", "webOS", "Fire OS", "Windows"),
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
    "device_name": (
        ("iPhone", "Galaxy S24", "Pixel 8", "Fire TV Stick", "Roku Ultra", "Apple TV 4K"),
        ("iPhone", "Galaxy", "Fire", "Roku"),
    ),
    "browser_name": (
        ("Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera"),
        ("Chrome", "Safari", "Internet"),
    ),
    "browser_version": (("131.0", "130.0.2", "17.6", "128"), ("131", "17")),
    "app_version": (("5.2.1", "5.3.0", "6.0.0-beta", "4.9.12"), ("5.", "6.0", "beta")),
    "isp": (
        ("Comcast Cable", "Telefonica de Espana", "Verizon Fios", "Deutsche Telekom AG", "Jio"),
        ("Comcast", "Telefonica", "Verizon", "Telekom"),
    ),
    "connection_type": (("WiFi", "Ethernet", "Cellular", "5G", "4G"), ("Cell", "G")),
}
LOGIN_ONLY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "login_method": (("password", "google", "apple", "facebook", "magic-link"), ("google",)),
    "identity_provider": (("okta", "auth0", "azure-ad", "cognito"), ("auth", "azure")),
}
VIDEO_ONLY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cdn": (("Akamai", "Fastly", "Cloudfront", "Limelight", "Edgio"), ("Akamai", "front")),
    "asn": (("7922", "3352", "3320", "55836", "701"), ("79", "33")),
    "content_category": (("Sports", "Movies", "Kids", "News", "Series"), ("Sport", "Kid")),
    "player_name": (("ExoPlayer", "AVPlayer", "Shaka Player", "Bitmovin"), ("Player", "Exo")),
}
FLOWS = {"825": {**SHARED, **LOGIN_ONLY}, "142": {**SHARED, **VIDEO_ONLY}}
OTHER_FLOW = {"825": VIDEO_ONLY, "142": LOGIN_ONLY}
# Misspelt keys, as people type them: each is an FQ101 finding.
TYPOS = (
    "geo_contry",
    "geo_cty",
    "device_categroy",
    "device_operating_sytem",
    "browsr_name",
    "connection_tpe",
    "isp_name",
    "app_verison",
)
TYPO_RATE = 0.015  # of filters with one misspelt key
OTHER_FLOW_RATE = 0.005  # of filters with a key of the other flow (FQ102)

OPERATORS = ("==", "!=", "~~", "!~")
OPERATOR_WEIGHTS = (5, 2, 2, 1)  # equality is the most common test in real filters


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _comparison(rng: random.Random, key: str, values: tuple[tuple[str, ...], ...]) -> str:
    (op,) = rng.choices(OPERATORS, OPERATOR_WEIGHTS)
    value = rng.choice(values[0] if op in ("==", "!=") else values[1])
    return f"{key} {op} {_quote(value)}"


def _membership(rng: random.Random, key: str, values: tuple[tuple[str, ...], ...]) -> str:
    chosen = rng.sample(values[0], min(len(values[0]), rng.randint(2, 4)))
    word = "NOT IN" if rng.random() < 0.3 else "IN"
    return f"{key} {word} ({', '.join(_quote(v) for v in chosen)})"


def _target_length(rng: random.Random) -> int:
    """How long a filter should be: a skewed spread around 80 characters (30 to 260), so that
    the median filter, which overshoots its target by part of a clause, is about 100."""
    return max(30, min(260, round(rng.lognormvariate(4.37, 0.45))))


def make_filter(rng: random.Random, flow: str) -> str:
    """One filter for ``flow``: clauses joined by AND (sometimes by OR), each a comparison, an
    IN or NOT IN test, or a parenthesised OR group (sometimes under NOT), until the text reaches
    a target length. Every key appears once, so that the logic checks find nothing; a few
    filters get a misspelt key or a key of the other flow."""
    dims = FLOWS[flow]
    keys = list(dims)
    rng.shuffle(keys)
    target = _target_length(rng)
    top_or = rng.random() < 0.1
    clauses: list[str] = []
    while keys and len(" AND ".join(clauses)) < target:
        r = rng.random()
        key = keys.pop()
        if r < 0.12:
            clauses.append(_membership(rng, key, dims[key]))
        elif r < 0.30 and keys and not top_or:
            other = keys.pop()
            group = [_comparison(rng, key, dims[key]), _comparison(rng, other, dims[other])]
            negated = rng.random() < 0.25
            clauses.append(("NOT (" if negated else "(") + " OR ".join(group) + ")")
        else:
            clauses.append(_comparison(rng, key, dims[key]))
    r = rng.random()
    if r < TYPO_RATE:
        clauses[0] = _comparison(rng, rng.choice(TYPOS), next(iter(SHARED.values())))
    elif r < TYPO_RATE + OTHER_FLOW_RATE:
        key = rng.choice(list(OTHER_FLOW[flow]))
        clauses[-1] = _comparison(rng, key, OTHER_FLOW[flow][key])
    return (" OR " if top_or else " AND ").join(clauses)


def _toml_basic(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Manifest:
    name: str
    text: str
    filters: tuple[str, ...]


def make_manifest(index: int) -> Manifest:
    """The ``index``-th manifest of the corpus: the same for a given index whatever the corpus
    size, so that a smaller corpus is the start of a larger one. Long filters are written as
    multi-line strings, one AND per line, as people do."""
    rng = random.Random(SEED * 100_003 + index)
    lines = [f"# generated by benchmarks/bench_check.py, manifest {index}", ""]
    filters: list[str] = []
    for i in range(QUERIES_PER_FILE):
        flow = rng.choice(("825", "142"))
        text = make_filter(rng, flow)
        filters.append(text)
        if len(text) > 120 and " AND " in text and rng.random() < 0.6:
            body = '"""\n' + text.replace(" AND ", "\nAND ").replace("\\", "\\\\") + '\n"""'
            filters[-1] = text.replace(" AND ", "\nAND ") + "\n"
        else:
            body = _toml_basic(text)
        lines += [
            "[[query]]",
            f'name = "m{index:04d}-q{i:03d}"',
            f'flow = "{flow}"',
            f"filter = {body}",
            "",
        ]
    return Manifest(f"queries-{index:04d}.toml", "\n".join(lines), tuple(filters))


@dataclass(frozen=True)
class Corpus:
    directory: str  # relative to the working directory of the runs
    files: int
    filters: int
    median_chars: float
    bytes: int


def write_corpus(root: Path, filters: int) -> Corpus:
    """Write ``filters // 100`` manifests into ``root/corpus-<filters>``."""
    name = f"corpus-{filters}"
    directory = root / name
    directory.mkdir()
    files = max(1, filters // QUERIES_PER_FILE)
    lengths: list[int] = []
    size = 0
    for index in range(files):
        manifest = make_manifest(index)
        data = manifest.text.encode("utf-8")
        (directory / manifest.name).write_bytes(data)
        lengths.extend(len(f) for f in manifest.filters)
        size += len(data)
    return Corpus(name, files, len(lengths), statistics.median(lengths), size)


# --- 1 and 2. flowql check over a corpus ----------------------------------------------------


def _flowql_script() -> str:
    """The ``flowql`` of the environment that runs this script."""
    scripts = Path(sys.executable).parent
    found = sorted(scripts.glob("flowql*"))
    if not found:
        raise RuntimeError(f"no flowql script next to {sys.executable}: pip install -e .")
    return str(found[0])


def _check_command(flowql: str, directory: str) -> list[str]:
    return [flowql, "check", directory, "--format", "concise"]


def _run_check(cmd: list[str], env: dict[str, str], cwd: Path, out: Path) -> float:
    """Seconds of one ``flowql check``, start to exit; its output goes to ``out``. Exit code 1
    means findings, as expected here; anything else is a failure."""
    with open(out, "wb") as handle:
        start = time.perf_counter()
        done = subprocess.run(
            cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(
            f"flowql check failed ({done.returncode}): {' '.join(cmd)}\n"
            f"{done.stderr.decode(errors='replace')}"
        )
    return elapsed


def _count_findings(out: Path) -> tuple[int, dict[str, int]]:
    """The findings of a concise report (``path:line:col: CODE [severity] message`` lines; the
    summary line is not one), and how many of each code."""
    codes: dict[str, int] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        parts = line.split(": ", 2)
        if len(parts) >= 2 and parts[1].startswith("FQ"):
            code = parts[1].split()[0]
            codes[code] = codes.get(code, 0) + 1
    return sum(codes.values()), dict(sorted(codes.items()))


def bench_check(
    root: Path, corpora: dict[int, Corpus], rounds: int, env: dict[str, str]
) -> dict[str, Any]:
    """Median wall time of ``flowql check`` over each corpus, and over a one-query manifest (the
    fixed cost of a run: start, configuration, model), all interleaved in a new order each
    round, after one untimed run of each."""
    flowql = _flowql_script()
    (root / "corpus-one").mkdir()
    one = make_manifest(0)
    head = one.text.split("[[query]]")
    (root / "corpus-one" / "one.toml").write_text(head[0] + "[[query]]" + head[1], encoding="utf-8")
    commands = {n: _check_command(flowql, c.directory) for n, c in corpora.items()}
    commands[1] = _check_command(flowql, "corpus-one")
    findings: dict[int, tuple[int, dict[str, int]]] = {}
    for n, cmd in commands.items():  # warm the disk cache and the bytecode cache
        out = root / f"out-{n}.txt"
        _run_check(cmd, env, root, out)
        findings[n] = _count_findings(out)
    samples: dict[int, list[float]] = {n: [] for n in commands}
    order = list(commands)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)
        for n in order:
            samples[n].append(_run_check(commands[n], env, root, root / f"out-{n}.txt"))
    fixed = statistics.median(samples[1])
    sizes: dict[str, dict[str, Any]] = {}
    for n, corpus in corpora.items():
        wall = statistics.median(samples[n])
        count, codes = findings[n]
        sizes[str(n)] = {
            "filters": corpus.filters,
            "files": corpus.files,
            "bytes": corpus.bytes,
            "median_chars": corpus.median_chars,
            "wall_s": wall,
            "wall_s_min": min(samples[n]),
            "wall_s_max": max(samples[n]),
            "filters_per_s": corpus.filters / wall,
            "us_per_filter": wall / corpus.filters * 1e6,
            "marginal_us_per_filter": max(wall - fixed, 0.0) / corpus.filters * 1e6,
            "findings": count,
            "findings_by_code": codes,
        }
    small, large = sizes[str(min(corpora))], sizes[str(max(corpora))]
    marginal_small = small["marginal_us_per_filter"]
    return {
        "rounds": rounds,
        "command": "flowql check DIR --format concise",
        "one_query_s": fixed,
        "sizes": sizes,
        "ratio": large["us_per_filter"] / small["us_per_filter"],
        "marginal_ratio": (
            large["marginal_us_per_filter"] / marginal_small if marginal_small > 0 else None
        ),
    }


# --- 3. cold start --------------------------------------------------------------------------


def bench_coldstart(rounds: int, expr: str) -> dict[str, Any]:
    results, _ = cli_coldstart(
        rounds, "check", expr, GOAL_COLDSTART_RATIO, prefix="flowql-bench-check-"
    )
    return results


# --- 4. the profile -------------------------------------------------------------------------


# pstats keys a function by (file, line, name); its get_stats_profile() keys by name alone, so
# that two functions named ``run`` would collide. The raw table is read instead.
_Raw = dict[tuple[str, int, str], tuple[int, int, float, float, Any]]


def _label(func: tuple[str, int, str]) -> str:
    file, line, name = func
    return name if file == "~" else f"{os.path.basename(file)}:{line}({name})"  # "~": built-in


def _entry(func: tuple[str, int, str], row: tuple[int, int, float, float, Any]) -> dict[str, Any]:
    primitive, calls, tottime, cumtime, _ = row
    return {
        "function": _label(func),
        "ncalls": calls if calls == primitive else f"{calls}/{primitive}",
        "tottime_s": tottime,
        "cumtime_s": cumtime,
    }


def profile_check(root: Path, corpus: Corpus, top: int = 15) -> dict[str, Any]:
    """One in-process ``flowql check`` of the corpus under cProfile (its report discarded): the
    ``top`` functions by cumulative time as pstats prints them, and by own time."""
    from flowql.cli import main as flowql_main

    argv = ["check", corpus.directory, "--format", "concise"]
    profiler = cProfile.Profile()
    here = os.getcwd()
    os.chdir(root)  # as the subprocess runs: relative paths, no configuration file above
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            profiler.enable()
            code = flowql_main(argv)
            profiler.disable()
            elapsed = time.perf_counter() - start
    finally:
        os.chdir(here)
    if code not in (0, 1):
        raise RuntimeError(f"flowql check exited {code} in-process")
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)
    raw: _Raw = vars(stats)["stats"]
    total: float = vars(stats)["total_tt"]
    by_cum = sorted(raw.items(), key=lambda kv: kv[1][3], reverse=True)[:top]
    by_own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    return {
        "filters": corpus.filters,
        "argv": argv,
        "wall_s_profiled": elapsed,
        "total_s": total,
        "top_cumulative": [_entry(f, row) for f, row in by_cum],
        "top_own_time": [_entry(f, row) for f, row in by_own],
        "text": text.getvalue(),
    }


# --- 5. repository shapes, side by side with a base tree ---------------------------------------
#
# Three repositories of the same kind of filters: manifests of 100 queries, one-filter .flowql
# files, and one manifest of every query of the first. Each is checked by ``python -m flowql``
# from a source tree (this one, and with --base another checkout), compiled to bytecode first,
# and by ruff on as many two-line Python files, interleaved round by round.

SHAPE_FILTERS = 100_000
SHAPE_FILES = 5_000
QUICK_SHAPE_FILTERS = 1_000
QUICK_SHAPE_FILES = 200

GOAL_SHAPE_SPEEDUP = 1.5  # this / base throughput, every shape
GOAL_SINGLE_OVER_MANIFESTS = 1.2  # time per filter, one manifest / 100-query manifests
GOAL_SINGLE_PEAK_MB = 150.0  # peak RSS checking the one large manifest
GOAL_RUFF_RATIO = 2.5  # flowql's time per one-filter file / ruff's per two-line Python file

# Two-line Python files for ruff: one with a finding in each file (ruff's default rules want a
# blank line after the imports: I001), and a clean one.
RUFF_FILES = {
    "ruff-findings": "import os\nprint(os.sep, {i})\n",
    "ruff-clean": "value = {i}\nprint(value)\n",
}


@dataclass(frozen=True)
class Shape:
    directory: str
    files: int
    filters: int
    bytes: int


def write_shapes(root: Path, filters: int, files: int) -> dict[str, Shape]:
    """The three repositories, and the Python files for ruff, under ``root``."""
    from flowql.formatter import format_file

    shapes: dict[str, Shape] = {}
    manifests = root / "shape-manifests"
    manifests.mkdir()
    texts: list[str] = []
    for index in range(max(1, filters // QUERIES_PER_FILE)):
        manifest = make_manifest(index)
        (manifests / manifest.name).write_text(manifest.text, encoding="utf-8")
        texts.append(manifest.text)
    size = sum(len(t.encode("utf-8")) for t in texts)
    count = len(texts) * QUERIES_PER_FILE
    shapes["manifests"] = Shape(manifests.name, len(texts), count, size)
    single = root / "shape-single"
    single.mkdir()
    (single / "queries.toml").write_text("\n".join(texts), encoding="utf-8")
    shapes["single"] = Shape(single.name, 1, count, (single / "queries.toml").stat().st_size)
    one = root / "shape-files"
    one.mkdir()
    rng = random.Random(SEED + 1)
    size = 0
    for index in range(files):
        # As a repository that runs flowql fmt keeps them: long filters over several lines.
        text = format_file(make_filter(rng, rng.choice(("825", "142"))))
        path = one / f"filter-{index:05d}.flowql"
        path.write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    shapes["files"] = Shape(one.name, files, files, size)
    for name, template in RUFF_FILES.items():
        (root / name).mkdir()
        for index in range(files):
            (root / name / f"m{index:05d}.py").write_text(template.format(i=index), "utf-8")
    return shapes


def _ruff() -> str | None:
    found = Path(sys.executable).parent / "ruff"
    return str(found) if found.exists() else shutil.which("ruff")


def _tree_env(tree: Path) -> dict[str, str]:
    env = _child_env()
    env["PYTHONPATH"] = str(tree)
    return env


# Runs one command and reports its time and the peak memory of its process tree. The measuring
# process is small: a child's peak counts the memory of the process it was forked from (the
# kernel keeps it across exec), so the benchmark, which holds its corpora, cannot fork it.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, check=False)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps([elapsed, peak, done.returncode, done.stderr.decode(errors="replace")]))
"""


def _measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds of one run, start to exit, and the peak resident memory (MB) of its largest
    process (the command or one of its workers: RUSAGE_CHILDREN gives the most any held). Exit
    code 1 means findings; anything else, or anything on stderr, is a failure."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )
    elapsed, peak, code, err = json.loads(done.stdout)
    if code not in (0, 1) or (err and "flowql" in cmd):
        raise RuntimeError(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return elapsed, peak / 1024  # kilobytes on Linux


def bench_shapes(
    root: Path, shapes: dict[str, Shape], rounds: int, base: Path | None
) -> dict[str, Any]:
    """Median wall time and peak memory of each command, interleaved in a new order each round
    after one untimed round; ratios this/base, one manifest/many, flowql/ruff."""
    trees = {"this": REPO, **({"base": base} if base is not None else {})}
    for tree in trees.values():
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "flowql")],
            check=True,
            capture_output=True,
        )
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for label, tree in trees.items():
        env = _tree_env(tree)
        for name, shape in shapes.items():
            cmd = [sys.executable, "-m", "flowql", "check", shape.directory, "--format", "concise"]
            commands[f"{label} {name}"] = (cmd, env)
        expr = [sys.executable, "-m", "flowql", "check", "--expr", COLDSTART_EXPR]
        commands[f"{label} cold start"] = (expr, env)
    commands["python -c pass"] = ([sys.executable, "-c", "pass"], _child_env())
    ruff = _ruff()
    if ruff is not None:
        for name in RUFF_FILES:
            commands[name] = ([ruff, "check", "--no-cache", "--isolated", name], _child_env())
    walls: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    rng = random.Random(SEED)
    for round_ in range(rounds + 1):
        rng.shuffle(order)
        for name in order:
            wall, peak = _measured(*commands[name], root)
            if round_:  # the first round warms the disk cache
                walls[name].append(wall)
                peaks[name].append(peak)
    runs = {
        name: {
            "wall_s": statistics.median(walls[name]),
            "wall_s_min": min(walls[name]),
            "wall_s_max": max(walls[name]),
            "peak_mb": max(peaks[name]),
        }
        for name in commands
    }
    for label in trees:
        for name, shape in shapes.items():
            r = runs[f"{label} {name}"]
            r["filters_per_s"] = shape.filters / r["wall_s"]
            r["us_per_file"] = r["wall_s"] / shape.files * 1e6
    results: dict[str, Any] = {
        "rounds": rounds,
        "shapes": {name: vars(shape) for name, shape in shapes.items()},
        "runs": runs,
        "trees": {label: str(tree) for label, tree in trees.items()},
    }
    this = {name: runs[f"this {name}"] for name in shapes}
    results["single_over_manifests"] = this["single"]["wall_s"] / this["manifests"]["wall_s"]
    if base is not None:
        results["speedup"] = {
            name: runs[f"base {name}"]["wall_s"] / runs[f"this {name}"]["wall_s"] for name in shapes
        }
        results["cold_start_this_over_base"] = (
            runs["this cold start"]["wall_s"] / runs["base cold start"]["wall_s"]
        )
    if ruff is not None:
        files = shapes["files"].files
        results["ruff_us_per_file"] = {
            name: runs[name]["wall_s"] / files * 1e6 for name in RUFF_FILES
        }
        results["ruff_ratio"] = {
            f"{label} / {name}": runs[f"{label} files"]["wall_s"] / runs[name]["wall_s"]
            for label in trees
            for name in RUFF_FILES
        }
    return results


def shape_goals(results: dict[str, Any]) -> dict[str, bool | None]:
    """Whether each goal of part 5 is met (None: not measured in this run)."""
    speedup = results.get("speedup")
    ratio = results.get("ruff_ratio")
    return {
        "speedup": None if speedup is None else min(speedup.values()) >= GOAL_SHAPE_SPEEDUP,
        "single_over_manifests": results["single_over_manifests"] <= GOAL_SINGLE_OVER_MANIFESTS,
        "single_peak_mb": results["runs"]["this single"]["peak_mb"] < GOAL_SINGLE_PEAK_MB,
        "ruff_ratio": None if ratio is None else ratio["this / ruff-findings"] <= GOAL_RUFF_RATIO,
        "cold_start": (
            None
            if "cold_start_this_over_base" not in results
            else results["cold_start_this_over_base"] <= 1.05
        ),
    }


def print_shapes(results: dict[str, Any]) -> dict[str, bool | None]:
    shapes = results["shapes"]
    runs = results["runs"]
    trees = list(results["trees"])
    print(
        f"5. Repository shapes: python -m flowql check DIR --format concise from each tree, "
        f"interleaved, median of {results['rounds']} rounds"
    )
    print(
        f"   {'shape':<10}{'files':>7}{'filters':>9}{'MB':>6}{'tree':>6}{'wall s':>9}"
        f"{'filters/s':>11}{'µs/file':>10}{'peak MB':>9}"
    )
    for name, shape in shapes.items():
        for label in trees:
            r = runs[f"{label} {name}"]
            print(
                f"   {name:<10}{shape['files']:>7,}{shape['filters']:>9,}"
                f"{shape['bytes'] / 1e6:>6.1f}{label:>6}{r['wall_s']:>9.3f}"
                f"{r['filters_per_s']:>11,.0f}{r['us_per_file']:>10,.0f}{r['peak_mb']:>9.1f}"
            )
    goals = shape_goals(results)
    if "speedup" in results:
        parts = ", ".join(f"{n} {v:.2f}" for n, v in results["speedup"].items())
        print(
            f"   throughput this/base: {parts}  goal >= {GOAL_SHAPE_SPEEDUP} each: "
            f"{_met(goals['speedup'])}"
        )
    print(
        f"   one manifest / 100-query manifests, same filters: "
        f"{results['single_over_manifests']:.2f} x the time  goal <= "
        f"{GOAL_SINGLE_OVER_MANIFESTS}: {_met(goals['single_over_manifests'])}"
    )
    print(
        f"   peak memory, one {shapes['single']['filters']:,}-query manifest: "
        f"{runs['this single']['peak_mb']:.1f} MB  goal < {GOAL_SINGLE_PEAK_MB:.0f}: "
        f"{_met(goals['single_peak_mb'])}"
    )
    if "ruff_ratio" in results:
        for name, us in results["ruff_us_per_file"].items():
            print(
                f"   ruff check --no-cache --isolated, {shapes['files']['files']:,} two-line "
                f"Python files ({name}): {us:.1f} µs/file"
            )
        for pair, ratio in results["ruff_ratio"].items():
            print(f"   flowql per file / ruff per file, {pair}: {ratio:.2f}")
        print(
            f"   goal (this / ruff-findings, the issue's 'today about 4x'): <= {GOAL_RUFF_RATIO}: "
            f"{_met(goals['ruff_ratio'])}"
        )
    else:
        print("   ruff not found: no comparison")
    if "cold_start_this_over_base" in results:
        print(
            f"   cold start (check --expr): base {runs['base cold start']['wall_s'] * 1000:.1f} "
            f"ms, this {runs['this cold start']['wall_s'] * 1000:.1f} ms (python -c pass "
            f"{runs['python -c pass']['wall_s'] * 1000:.1f} ms): this/base "
            f"{results['cold_start_this_over_base']:.3f}"
        )
    print()
    return goals


# --- the report -----------------------------------------------------------------------------


def print_part1(check: dict[str, Any], size: int, goal: int) -> dict[str, Any]:
    r = check["sizes"][str(size)]
    ok = r["filters_per_s"] >= goal
    print(
        f"1. flowql check corpus-{size} --format concise: {r['filters']:,} filters in "
        f"{r['files']} files, median of {check['rounds']} runs"
    )
    print(f"   median filter length   {r['median_chars']:>10,.0f} characters")
    print(
        f"   wall time              {r['wall_s']:>10.3f} s  (min {r['wall_s_min']:.3f}, "
        f"max {r['wall_s_max']:.3f})"
    )
    print(f"   filters per second     {r['filters_per_s']:>10,.0f}  goal >= {goal:,}: {_met(ok)}")
    codes = ", ".join(f"{c} {n}" for c, n in r["findings_by_code"].items())
    print(f"   findings               {r['findings']:>10,}  ({codes or 'none'})")
    print()
    return {**r, "goal_filters_per_s": goal, "goal_met": ok}


def print_part2(check: dict[str, Any]) -> None:
    print(
        f"2. Linearity: the same check at each size, interleaved, median of {check['rounds']} "
        "rounds"
    )
    print(
        f"   {'filters':>9}{'files':>7}{'MB':>7}{'wall s':>9}{'filters/s':>11}{'µs/filter':>11}"
        f"{'µs/filter - fixed':>19}{'findings':>10}"
    )
    for r in check["sizes"].values():
        print(
            f"   {r['filters']:>9,}{r['files']:>7,}{r['bytes'] / 1e6:>7.1f}{r['wall_s']:>9.3f}"
            f"{r['filters_per_s']:>11,.0f}{r['us_per_filter']:>11.1f}"
            f"{r['marginal_us_per_filter']:>19.1f}{r['findings']:>10,}"
        )
    print(f"   fixed cost (a one-query manifest): {check['one_query_s'] * 1000:.1f} ms")
    sizes = [int(s) for s in check["sizes"]]
    marginal = check["marginal_ratio"]
    print(
        f"   per-filter cost {max(sizes):,} / {min(sizes):,}: {check['ratio']:.2f} end to end, "
        + ("n/a" if marginal is None else f"{marginal:.2f}")
        + " without the fixed cost (linear: about 1)"
    )
    print()


def print_coldstart(results: dict[str, Any]) -> None:
    print_coldstart_figures(results, "check", "flowql check --expr FILTER (built-in model)", 46)
    print()


def print_profile(results: dict[str, Any]) -> None:
    print(
        f"4. Profile: one in-process check of {results['filters']:,} filters under cProfile "
        f"({results['wall_s_profiled']:.2f} s profiled, {results['unprofiled_wall_s']:.2f} s "
        "unprofiled in part 1), top 15 by cumulative time"
    )
    for line in results["text"].strip("\n").splitlines():
        if line.strip():
            print(f"   {line.rstrip()}")
    print("   most own time:")
    total = results["total_s"]
    for e in results["top_own_time"]:
        share = e["tottime_s"] / total * 100 if total else 0.0
        print(f"   {e['tottime_s']:>8.3f} s {share:>5.1f}%  {e['ncalls']:>10}  {e['function']}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small corpora, few rounds")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--skip-coldstart", action="store_true", help="skip the cold start")
    parser.add_argument("--profile", action="store_true", help="profile the middle-size check")
    parser.add_argument("--rounds", type=_positive, help="rounds of parts 1 and 2 (5)")
    parser.add_argument("--coldstart-rounds", type=_positive, help="rounds of part 3 (30)")
    parser.add_argument("--base", type=Path, metavar="PATH", help="part 5 against this checkout")
    parser.add_argument("--shape-rounds", type=_positive, help="rounds of part 5 (5)")
    parser.add_argument("--shapes-only", action="store_true", help="part 5 alone")
    args = parser.parse_args(argv)
    if args.base is not None and not (args.base / "flowql" / "__init__.py").is_file():
        parser.error(f"--base {args.base}: no flowql source tree there")

    sizes = QUICK_SIZES if args.quick else SIZES
    rounds = args.rounds or (1 if args.quick else 5)
    coldstart_rounds = args.coldstart_rounds or (3 if args.quick else 30)
    main_size = sizes[1]

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each part as it is done, even into a file
    env = print_header("check")
    print()
    child_env = _child_env()
    coldstart = profile = check = part1 = None
    with tempfile.TemporaryDirectory(prefix="flowql-bench-corpus-") as tmp:
        root = Path(tmp)
        if not args.shapes_only:
            corpora = {n: write_corpus(root, n) for n in sizes}
            check = bench_check(root, corpora, rounds, child_env)
            part1 = print_part1(check, main_size, GOAL_FILTERS_PER_S)
            print_part2(check)
            if args.profile:
                profile = profile_check(root, corpora[main_size])
                profile["unprofiled_wall_s"] = part1["wall_s"]
        shapes = write_shapes(
            root,
            QUICK_SHAPE_FILTERS if args.quick else SHAPE_FILTERS,
            QUICK_SHAPE_FILES if args.quick else SHAPE_FILES,
        )
        base = args.base.resolve() if args.base is not None else None
        shape_rounds = args.shape_rounds or (1 if args.quick else 5)
        repository = bench_shapes(root, shapes, shape_rounds, base)
        repository["goals"] = print_shapes(repository)
    if not args.skip_coldstart and not args.shapes_only:
        coldstart = coldstart_or_explain(bench_coldstart, coldstart_rounds, COLDSTART_EXPR)
        if coldstart is None:
            return 1
        print_coldstart(coldstart)
    if profile is not None:
        print_profile(profile)

    if args.json:
        figures = {
            "queries_per_file": QUERIES_PER_FILE,
            "check": part1,
            "linearity": check,
            "coldstart": coldstart,
            "profile": profile,
            "repository": repository,
        }
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
