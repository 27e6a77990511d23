"""How fast flowql fetches a long Flow range, against a plain sequential httpx loop.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_client.py                  # the full run, about a minute
    python benchmarks/bench_client.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_client.py --json out.json  # also write every figure as JSON

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
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import _positive

from flowql.client import ConvivaFlowClient
from flowql.model import demo_model
from flowql.sandbox import DEFAULT_RATE_LIMITS, SECRET, LoggedRequest, Sandbox

GOAL_SPEEDUP = 6.0
GOAL_IDEAL_RATIO = 1.3
FLOW_ID = "825"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def _flow_requests(log: Sequence[LoggedRequest]) -> list[LoggedRequest]:
    return [r for r in log if r.path.startswith("/flow-data/metrics/")]


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
    before = len(sandbox.log)
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
    fetched = _flow_requests(sandbox.log[before:])
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
    with Sandbox(now=NOW, latency={"conviva": latency}, rate_limits=True) as sandbox:
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
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    latency = args.latency if args.latency is not None else (0.02 if args.quick else 0.2)
    print(f"flowql client benchmark: Python {sys.version.split()[0]}, httpx {httpx.__version__}")
    print()
    results = bench(rounds, args.windows, args.concurrency, latency)
    print_results(results)
    if args.json:
        report = {
            "date": dt.date.today().isoformat(),
            "quick": args.quick,
            "argv": sys.argv[1:] if argv is None else list(argv),
            "goals": {"speedup": GOAL_SPEEDUP, "ideal_ratio": GOAL_IDEAL_RATIO},
            "results": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
