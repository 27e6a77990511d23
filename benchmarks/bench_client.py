"""How fast flowql fetches a long Flow range, against a plain sequential httpx loop; what the
client costs in CPU per window; and what the sandbox costs in memory and CPU.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_client.py                  # the full run, a few minutes
    python benchmarks/bench_client.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_client.py --json out.json  # also write every figure as JSON
    python benchmarks/bench_client.py --against ../wt-base   # side by side with another checkout

One in-process sandbox (:class:`flowql.sandbox.Sandbox`) serves the Conviva Flow API on
127.0.0.1 with ``--latency`` seconds (default 0.2) added to every response and Conviva's
documented rate limit (3,000 requests per 5 minutes) enforced. In each round, in a new order:

- **flowql**: ``ConvivaFlowClient.historical`` over ``--windows`` hours (default 24), which the
  client splits into one-hour windows (the API's limit per request), fetches concurrently
  (``--concurrency``, default 8) within its rate limiter, and merges;
- **sequential httpx**: one ``httpx.Client`` fetching exactly the URLs flowql fetched (read from
  the sandbox's request log), one after another, with the same credentials.

Each is timed from the call to the merged result (wall clock). The script prints the medians,
the speed-up, and the ratio of flowql's time to the ideal, ``windows / concurrency x latency``
(every window fetched in parallel batches with no overhead at all), and checks the sandbox's
log: no request answered 429, and never more requests in any window of the configured limit
than it allows. Nothing here is a test assertion: the goals are printed as MET or MISSED.

Then, in worker processes (``PYTHONPATH=TREE``, each tree compiled to bytecode first):

- **client CPU per window**: a worker fetches the same range with a new client each time and
  reports the process CPU time of the ``historical`` call (only the client runs there: the
  sandbox is in this process), divided by the windows. With ``--against TREE``, a worker of that
  checkout (run by ``--against-python``, default this interpreter: give it a virtual environment
  with that commit's own dependencies) does the same in interleaved rounds, and the script
  reports both medians and their ratio (this / other).
- **the sandbox's bounds**: a sandbox of each tree in a process of its own answers
  ``--requests`` (10,000) requests over the same windows; its resident memory after a warm-up and
  after them, and how many log entries it keeps. Then its CPU per window for a 1-day range and a
  7-day range, each fetched once to warm up and then again (the median of 3 more fetches).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import _positive

from flowql.client import ConvivaFlowClient
from flowql.model import demo_model
from flowql.sandbox import DEFAULT_RATE_LIMITS, SECRET, LoggedRequest, Sandbox

GOAL_SPEEDUP = 6.0
GOAL_IDEAL_RATIO = 1.3
GOAL_CPU_RATIO = 0.5
FLOW_ID = "825"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
HERE = Path(__file__).resolve().parent
TREE = HERE.parent


def _flow_requests(log: Sequence[LoggedRequest]) -> list[LoggedRequest]:
    return [r for r in log if r.path.startswith("/flow-data/metrics/")]


def logged_since(sandbox: Sandbox, before: int) -> list[LoggedRequest]:
    """The requests logged since ``sandbox.logged`` was ``before``."""
    log = sandbox.log
    new = sandbox.logged - before
    return log[max(0, len(log) - new) :] if new else []


def max_in_window(times: Sequence[float], period: float) -> int:
    """The most requests that arrived within any ``period`` seconds of each other."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= period:
            start += 1
        best = max(best, end - start + 1)
    return best


def run_flowql(sandbox: Sandbox, windows: int, concurrency: int) -> tuple[float, list[str]]:
    """Seconds to fetch and merge ``windows`` hours with flowql, and the URLs it fetched."""
    before = sandbox.logged
    end = NOW - dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=windows)
    with ConvivaFlowClient(
        "bench",
        SECRET,
        base_url=sandbox.url,
        model=demo_model(),
        max_concurrency=concurrency,
        now=lambda: NOW,
    ) as client:
        began = time.perf_counter()
        result = client.historical(FLOW_ID, start, end)
        took = time.perf_counter() - began
    if len(result.windows) != windows:
        raise RuntimeError(f"flowql fetched {len(result.windows)} windows, not {windows}")
    fetched = _flow_requests(logged_since(sandbox, before))
    urls = [f"{sandbox.url}{r.path}" + (f"?{r.query}" if r.query else "") for r in fetched]
    return took, urls


def run_sequential(sandbox: Sandbox, urls: Sequence[str]) -> float:
    """Seconds to fetch ``urls`` one after another with a plain httpx client."""
    with httpx.Client(auth=("bench", SECRET), timeout=30.0) as client:
        began = time.perf_counter()
        for url in urls:
            response = client.get(url)
            response.raise_for_status()
            response.json()
        return time.perf_counter() - began


def bench(rounds: int, windows: int, concurrency: int, latency: float) -> dict[str, Any]:
    """Every figure of one run."""
    flowql_times: list[float] = []
    sequential_times: list[float] = []
    limits = DEFAULT_RATE_LIMITS["conviva"]
    # Every request kept: the rate check reads the whole log.
    with Sandbox(now=NOW, latency={"conviva": latency}, rate_limits=True, log_size=None) as sandbox:
        # One untimed run first: imports, the sandbox's caches, and the URLs the loop fetches.
        _, urls = run_flowql(sandbox, windows, concurrency)
        for index in range(rounds):
            order = ("flowql", "sequential") if index % 2 == 0 else ("sequential", "flowql")
            for name in order:  # alternate which goes first
                if name == "flowql":
                    took, fetched = run_flowql(sandbox, windows, concurrency)
                    if sorted(fetched) != sorted(urls):
                        raise RuntimeError("flowql fetched other URLs than in the first run")
                    flowql_times.append(took)
                else:
                    sequential_times.append(run_sequential(sandbox, urls))
        log = list(sandbox.log)
    times = [r.time for r in log if r.api == "conviva"]
    statuses = [r.status for r in log if r.api == "conviva"]
    flowql_s = statistics.median(flowql_times)
    sequential_s = statistics.median(sequential_times)
    ideal_s = windows / concurrency * latency
    return {
        "windows": windows,
        "concurrency": concurrency,
        "latency_s": latency,
        "rounds": rounds,
        "flowql_s": flowql_s,
        "sequential_s": sequential_s,
        "flowql_all_s": flowql_times,
        "sequential_all_s": sequential_times,
        "speedup": sequential_s / flowql_s,
        "ideal_s": ideal_s,
        "ideal_ratio": flowql_s / ideal_s,
        "requests": len(times),
        "answered_429": sum(1 for s in statuses if s == 429),
        "rate_limits": [
            {"requests": n, "period_s": p, "most_seen": max_in_window(times, p)} for n, p in limits
        ],
        "most_in_any_second": max_in_window(times, 1.0),
    }


def print_results(r: dict[str, Any]) -> None:
    print(
        f"Fetching {r['windows']} one-hour Flow windows, {r['latency_s'] * 1000:.0f} ms latency "
        f"per response (median of {r['rounds']} rounds)"
    )
    print(f"   flowql (concurrency {r['concurrency']})   {r['flowql_s']:8.3f} s")
    print(f"   sequential httpx loop       {r['sequential_s']:8.3f} s")
    print(f"   ideal (windows / concurrency x latency) {r['ideal_s']:.3f} s")
    met = r["speedup"] >= GOAL_SPEEDUP
    print(
        f"   flowql faster by {r['speedup']:.2f}x   goal >= {GOAL_SPEEDUP}: "
        f"{'MET' if met else 'MISSED'}"
    )
    met = r["ideal_ratio"] <= GOAL_IDEAL_RATIO
    print(
        f"   flowql / ideal {r['ideal_ratio']:.2f}   goal <= {GOAL_IDEAL_RATIO}: "
        f"{'MET' if met else 'MISSED'}"
    )
    within = r["answered_429"] == 0 and all(
        x["most_seen"] <= x["requests"] for x in r["rate_limits"]
    )
    limits = ", ".join(
        f"{x['most_seen']} of {x['requests']} per {x['period_s']:g} s" for x in r["rate_limits"]
    )
    print(
        f"   rate limit: {r['requests']} requests, {r['answered_429']} answered 429, most in "
        f"a window {limits}; never over: {'MET' if within else 'MISSED'}"
    )
    print(f"   most requests in any one second: {r['most_in_any_second']}")
    print()


# --- worker processes: the client's CPU and the sandbox's bounds, tree by tree ---------------


def _rss_kb() -> int:
    """This process's resident memory in KB (the peak where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _hello() -> dict[str, Any]:
    import importlib.util

    import flowql

    return {
        "flowql": flowql.__file__,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "sniffio": importlib.util.find_spec("sniffio") is not None,
    }


def _serve_lines(stdin: IO[str], stdout: IO[str], answer: Any) -> None:
    for line in stdin:
        stdout.write(json.dumps(answer(json.loads(line))) + "\n")
        stdout.flush()


def client_worker(url: str, windows: int, concurrency: int) -> None:
    """``--worker client``: each line in fetches the range with a new client; each line out is
    the ``historical`` call's process CPU and wall time (only the client runs here)."""
    end = NOW - dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=windows)
    model = demo_model()

    def fetch(_: object) -> dict[str, float]:
        with ConvivaFlowClient(
            "bench",
            SECRET,
            base_url=url,
            model=model,
            max_concurrency=concurrency,
            now=lambda: NOW,
        ) as client:
            cpu, wall = time.process_time(), time.perf_counter()
            result = client.historical(FLOW_ID, start, end)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if len(result.windows) != windows:
            raise RuntimeError(f"fetched {len(result.windows)} windows, not {windows}")
        return {"cpu_s": cpu, "wall_s": wall}

    print(json.dumps(_hello()), flush=True)
    _serve_lines(sys.stdin, sys.stdout, fetch)


def sandbox_worker() -> None:
    """``--worker sandbox``: a sandbox of this process's flowql, with its default log; each line
    in is answered with the process's memory, CPU time and log length."""
    with Sandbox(now=NOW, rate_limits=False) as sandbox:
        print(json.dumps({**_hello(), "url": sandbox.url}), flush=True)
        _serve_lines(
            sys.stdin,
            sys.stdout,
            lambda _: {
                "rss_kb": _rss_kb(),
                "cpu_s": time.process_time(),
                "log_entries": len(sandbox.log),
            },
        )


class Worker:
    """This script run as ``--worker KIND ARGS`` by ``python`` with flowql from ``tree``: one
    line of JSON in, one line out."""

    def __init__(self, python: str, tree: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(tree)
        self.process = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--worker", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.hello = self._read()
        if not str(self.hello["flowql"]).startswith(str(tree)):
            self.close()
            raise RuntimeError(f"PYTHONPATH={tree} imports flowql from {self.hello['flowql']}")

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker {self.process.args!r} stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, **command: object) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def workers(specs: dict[str, tuple[str, Path]], *args: str) -> Iterator[dict[str, Worker]]:
    """One worker per ``name: (python, tree)``, closed at the end."""
    started: dict[str, Worker] = {}
    try:
        for name, (python, tree) in specs.items():
            started[name] = Worker(python, tree, *args)
        yield started
    finally:
        for worker in started.values():
            worker.close()


def compile_tree(tree: Path) -> None:
    """Bytecode for ``tree``'s flowql, as an installed wheel has (an environment with
    PYTHONDONTWRITEBYTECODE would otherwise compile it in every worker)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "flowql")],
        check=True,
        capture_output=True,
    )


def ratio(this: float, other: float) -> float:
    """``this / other``: below 1 when this tree costs less."""
    return this / other


def client_cpu(
    sides: dict[str, tuple[str, Path]], rounds: int, windows: int, concurrency: int, latency: float
) -> dict[str, Any]:
    """Each side's client CPU per window (ms) and wall time, median of ``rounds`` interleaved
    rounds (a new random order each round) after one untimed fetch each."""
    rng = random.Random(0)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    with (
        Sandbox(now=NOW, latency={"conviva": latency}, rate_limits=False) as sandbox,
        workers(sides, "client", sandbox.url, str(windows), str(concurrency)) as running,
    ):
        for worker in running.values():
            worker.ask()
        for _ in range(rounds):
            order = list(running)
            rng.shuffle(order)
            for name in order:
                samples[name].append(running[name].ask())
        hello = {name: worker.hello for name, worker in running.items()}
    out: dict[str, Any] = {"rounds": rounds, "windows": windows, "sides": {}}
    for name, got in samples.items():
        cpu = [x["cpu_s"] * 1000 / windows for x in got]
        out["sides"][name] = {
            **hello[name],
            "tree": str(sides[name][1]),
            "cpu_ms_per_window": statistics.median(cpu),
            "cpu_ms_per_window_all": cpu,
            "wall_s": statistics.median(x["wall_s"] for x in got),
            "ideal_ratio": statistics.median(x["wall_s"] for x in got)
            / (windows / concurrency * latency),
        }
    if "other" in out["sides"]:
        this, other = out["sides"]["this"], out["sides"]["other"]
        out["cpu_this_over_other"] = ratio(this["cpu_ms_per_window"], other["cpu_ms_per_window"])
        out["wall_this_over_other"] = ratio(this["wall_s"], other["wall_s"])
    return out


def _window_paths(days: int) -> list[str]:
    from flowql.query import FlowQuery

    start = NOW - dt.timedelta(days=days) + dt.timedelta(minutes=5)
    plan = FlowQuery(FLOW_ID, "historical", start=start, end=NOW).plan(now=NOW)
    return [r.path for r in plan.requests]


def sandbox_bounds(python: str, tree: Path, requests: int, passes_again: int = 3) -> dict[str, Any]:
    """A sandbox of ``tree``: its memory after ``requests`` requests (over a day's windows,
    after one warm-up pass), and its CPU per window for a day and for a week fetched again
    (the median of ``passes_again`` passes, after a first one)."""
    day, week = _window_paths(1), _window_paths(7)
    with (
        workers({"sandbox": (python, tree)}, "sandbox") as running,
        httpx.Client(
            base_url=running["sandbox"].hello["url"], auth=("bench", SECRET), timeout=60.0
        ) as client,
    ):
        worker = running["sandbox"]

        def fetch(paths: Sequence[str]) -> None:
            for path in paths:
                client.get(path).raise_for_status()

        fetch(day)
        warm = worker.ask()
        for n in range(requests):
            client.get(day[n % len(day)]).raise_for_status()
        after = worker.ask()
        cpu: dict[str, float] = {}
        for name, paths in (("day", day), ("week", week)):
            fetch(paths)  # the day is warm already; the week is made here
            passes = []
            for _ in range(passes_again):
                before = worker.ask()["cpu_s"]
                fetch(paths)
                passes.append((worker.ask()["cpu_s"] - before) * 1000 / len(paths))
            cpu[name] = statistics.median(passes)
        hello = worker.hello
    return {
        "tree": str(tree),
        "python": hello["python"],
        "flowql": hello["flowql"],
        "requests": requests,
        "rss_warm_mb": warm["rss_kb"] / 1024,
        "rss_after_mb": after["rss_kb"] / 1024,
        "rss_growth_mb": (after["rss_kb"] - warm["rss_kb"]) / 1024,
        "log_entries": after["log_entries"],
        "day_windows": len(day),
        "week_windows": len(week),
        "cpu_ms_per_window_day": cpu["day"],
        "cpu_ms_per_window_week": cpu["week"],
        "week_over_day": ratio(cpu["week"], cpu["day"]),
        "passes_again": passes_again,
    }


def print_cpu(r: dict[str, Any]) -> None:
    print(
        f"The client's CPU per window: {r['windows']} windows with a new client, median of "
        f"{r['rounds']} interleaved rounds (workers, PYTHONPATH=tree)"
    )
    for name, side in r["sides"].items():
        sniffio = "with sniffio" if side["sniffio"] else "without sniffio"
        print(
            f"   {name:5s} {side['cpu_ms_per_window']:6.2f} ms per window, "
            f"wall {side['wall_s']:.3f} s ({side['ideal_ratio']:.2f} of the ideal)   "
            f"{side['tree']}, Python {side['python']}, {sniffio}"
        )
    if "cpu_this_over_other" in r:
        met = r["cpu_this_over_other"] <= GOAL_CPU_RATIO
        print(
            f"   this / other: CPU {r['cpu_this_over_other']:.3f}   goal <= {GOAL_CPU_RATIO}: "
            f"{'MET' if met else 'MISSED'}; wall {r['wall_this_over_other']:.3f}"
        )
    print()


def print_bounds(rows: dict[str, dict[str, Any]]) -> None:
    for name, b in rows.items():
        print(f"The sandbox of {name} ({b['tree']})")
        print(
            f"   memory: {b['rss_warm_mb']:.1f} MB warm, {b['rss_after_mb']:.1f} MB after "
            f"{b['requests']:,} more requests (+{b['rss_growth_mb']:.1f} MB); "
            f"the log keeps {b['log_entries']:,} entries"
        )
        print(
            f"   CPU per window fetched again: a day ({b['day_windows']} windows) "
            f"{b['cpu_ms_per_window_day']:.2f} ms, a week ({b['week_windows']}) "
            f"{b['cpu_ms_per_window_week']:.2f} ms: week / day {b['week_over_day']:.2f}"
        )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="rounds (default 5; 1 with --quick)")
    parser.add_argument("--windows", type=_positive, default=24, help="one-hour windows")
    parser.add_argument("--concurrency", type=_positive, default=8, help="flowql's concurrency")
    parser.add_argument(
        "--latency", type=float, help="seconds added to each response (default 0.2)"
    )
    parser.add_argument(
        "--against", type=Path, metavar="TREE", help="another flowql checkout, side by side"
    )
    parser.add_argument(
        "--against-python",
        metavar="PYTHON",
        default=sys.executable,
        help="the interpreter for --against (default: this one)",
    )
    parser.add_argument(
        "--cpu-rounds", type=_positive, help="interleaved CPU rounds (default 21; 3 with --quick)"
    )
    parser.add_argument(
        "--requests",
        type=_positive,
        help="requests for the sandbox's memory (default 10,000; 300 with --quick)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "client":
            client_worker(rest[0], int(rest[1]), int(rest[2]))
        else:
            sandbox_worker()
        return 0
    rounds = args.rounds or (1 if args.quick else 5)
    latency = args.latency if args.latency is not None else (0.02 if args.quick else 0.2)
    cpu_rounds = args.cpu_rounds or (3 if args.quick else 21)
    requests = args.requests or (300 if args.quick else 10_000)
    print(f"flowql client benchmark: Python {sys.version.split()[0]}, httpx {httpx.__version__}")
    print()
    results = bench(rounds, args.windows, args.concurrency, latency)
    print_results(results)
    sides = {"this": (sys.executable, TREE)}
    if args.against is not None:
        sides["other"] = (args.against_python, args.against.resolve())
    for _, tree in sides.values():
        compile_tree(tree)
    results["cpu"] = client_cpu(sides, cpu_rounds, args.windows, args.concurrency, latency)
    print_cpu(results["cpu"])
    results["sandbox"] = {
        name: sandbox_bounds(python, tree, requests, 1 if args.quick else 3)
        for name, (python, tree) in sides.items()
    }
    print_bounds(results["sandbox"])
    if args.json:
        report = {
            "date": dt.date.today().isoformat(),
            "quick": args.quick,
            "argv": sys.argv[1:] if argv is None else list(argv),
            "goals": {
                "speedup": GOAL_SPEEDUP,
                "ideal_ratio": GOAL_IDEAL_RATIO,
                "cpu_ratio": GOAL_CPU_RATIO,
            },
            "results": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
