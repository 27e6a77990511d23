"""How long the REPL takes to answer a keystroke on a 4,000-character filter, and to start.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_repl.py                  # the full run, about a minute
    python benchmarks/bench_repl.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_repl.py --json out.json  # also write every figure as JSON
    python benchmarks/bench_repl.py --baseline ../main  # also time another tree's start-up

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
milliseconds. Goal: completion and validation each under 20 ms at the 95th percentile.

Then the **start-up**: ``python -m flowql repl`` started in a new pseudo-terminal (100 columns,
30 rows) with no credentials in the environment and ``HOME`` and the XDG directories in a new
temporary directory (so the history is fresh), timed from the fork to the first prompt's text
in what the terminal receives (the script answers the cursor-position query as a terminal
does), interleaved with ``python -c pass`` started the same way and timed to its exit, and
with a bare prompt_toolkit prompt (no flowql) timed to its first prompt, for reference: what
any prompt_toolkit REPL pays. The REPL draws its first prompt before the line editor loads (the
instant prompt: what is typed meanwhile waits in the terminal), so the start is timed twice: to
that prompt, and to the editor's first render (its cursor-position query). The median of each
and the ratio are printed; goal: the first prompt in at most 8 times ``python -c pass``.
``--baseline TREE`` also times another flowql source tree (a worktree of another commit) in the
same rounds, for a before-and-after figure.

Nothing here asserts a time: the test suite runs this script with ``--quick`` to check that it
works.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import (
    REPO,
    SEED,
    _child_env,
    _met,
    _positive,
    make_sets,
    print_header,
    write_report,
)
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
GOAL_STARTUP_RATIO = 8.0
"""The first prompt in at most this many times ``python -c pass``."""
PROMPT = b"flowql>"  # what the first prompt writes (its space is a cursor move)
EDITOR = b"\x1b[6n"  # the line editor's first render asks where the cursor is
TERMINAL_ROWS, TERMINAL_COLUMNS = 30, 100
CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")
# The reference: a bare prompt_toolkit prompt with a toolbar, no flowql at all. What any
# prompt_toolkit REPL pays before its first prompt (importing prompt_toolkit and asyncio,
# building an application, drawing it).
BARE_PROMPT = (
    "from prompt_toolkit import PromptSession\n"
    "PromptSession('flowql> ', bottom_toolbar=' toolbar').prompt()\n"
)


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


# --- start-up ---------------------------------------------------------------------------------


def startup_env(tree: Path, home: Path) -> dict[str, str]:
    """The environment of a timed start: this one without credentials (the sandbox is the
    source), without ``FLOWQL_HISTORY`` and with ``HOME`` and the XDG directories under
    ``home`` (the history is found as a user's is, and is new), flowql imported from ``tree``,
    and bytecode written and read as an installed package's is."""
    env = _child_env()
    for name in (*CREDENTIALS, "FLOWQL_HISTORY", "TMUX"):
        env.pop(name, None)
    env.update(
        PYTHONPATH=str(tree),
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TERM="xterm-256color",
    )
    return env


def time_in_terminal(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    until: bytes | None,
    timeout: float = 30.0,
) -> float:
    """Seconds from starting ``argv`` in a new pseudo-terminal to ``until`` appearing in what it
    writes to the terminal (None: to its exit). A cursor-position query is answered as a
    terminal answers it. A command still running at the end gets Ctrl-D, then SIGKILL.
    Raises RuntimeError when the text does not come within ``timeout`` seconds."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    size = struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0)
    start = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:  # the child: the terminal's size, then the command (never returns)
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, size)
            os.chdir(cwd)
            os.execve(argv[0], list(argv), env)
        finally:
            os._exit(127)
    seen = b""
    elapsed: float | None = None
    exited = False
    try:
        while elapsed is None:
            left = start + timeout - time.perf_counter()
            if left <= 0:
                raise RuntimeError(
                    f"{shlex.join(argv)}: no {until!r} within {timeout:g} s; it wrote "
                    f"{seen[-300:]!r}"
                )
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every end of the terminal's other side is closed
                data = b""
            if not data:
                if until is not None:
                    raise RuntimeError(
                        f"{shlex.join(argv)} ended before writing {until!r}: {seen[-300:]!r}"
                    )
                os.waitpid(pid, 0)
                exited = True
                elapsed = time.perf_counter() - start
                break
            seen += data
            if b"\x1b[6n" in data:  # where is the cursor? (prompt_toolkit asks)
                os.write(master, b"\x1b[1;1R")
            if until is not None and until in seen:
                elapsed = time.perf_counter() - start
    finally:
        if not exited:
            _end(pid, master)
        os.close(master)
    assert elapsed is not None
    return elapsed


def _end(pid: int, master: int) -> None:
    """End a command in a terminal: Ctrl-D (the REPL quits), then SIGKILL after 5 seconds;
    what it writes meanwhile is read, so that it never blocks on a full terminal."""
    import select
    import signal

    with contextlib.suppress(OSError):
        os.write(master, b"\x04")
    deadline = time.monotonic() + 5
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            with contextlib.suppress(OSError):
                os.read(master, 65536)


def bench_startup(rounds: int, baseline: Path | None = None) -> dict[str, Any]:
    """Time ``python -m flowql repl`` to its first prompt (this tree, and ``baseline`` when
    given), a bare prompt_toolkit prompt to its first prompt (the reference), and ``python -c
    pass`` to its exit, each in a new pseudo-terminal, interleaved in a new order each round
    after one untimed start of each (which also writes the bytecode)."""
    trees = {"repl": REPO}
    if baseline is not None:
        trees["baseline"] = baseline.resolve()
    commands: dict[str, tuple[list[str], Path, bytes | None]] = {
        "python_pass": ([sys.executable, "-c", "pass"], REPO, None),
        "bare_prompt": ([sys.executable, "-c", BARE_PROMPT], REPO, PROMPT),
        **{
            name: ([sys.executable, "-m", "flowql", "repl"], tree, PROMPT)
            for name, tree in trees.items()
        },
        # The instant prompt comes first; this is when the line editor has loaded and drawn.
        "repl_editor": ([sys.executable, "-m", "flowql", "repl"], REPO, EDITOR),
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="flowql-bench-repl-") as tmp:
        root = Path(tmp)
        for tree in trees.values():
            _check_imports_from(tree, startup_env(tree, root))
        runs = 0

        def once(name: str) -> float:
            nonlocal runs
            argv, tree, until = commands[name]
            runs += 1
            home = root / f"home-{runs}"  # a new one each start: the history is new
            home.mkdir()
            return time_in_terminal(argv, startup_env(tree, home), root, until)

        for name in commands:
            once(name)
        order = list(commands)
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                samples[name].append(once(name))
    ms = {name: statistics.median(times) * 1000 for name, times in samples.items()}
    ratio = ms["repl"] / ms["python_pass"]
    results: dict[str, Any] = {
        "rounds": rounds,
        "command": "python -m flowql repl",
        "terminal": f"{TERMINAL_COLUMNS}x{TERMINAL_ROWS}",
        "tree": str(REPO),
        "python_pass_ms": round(ms["python_pass"], 2),
        "repl_ms": round(ms["repl"], 2),
        "ratio": round(ratio, 2),
        "goal_ratio": GOAL_STARTUP_RATIO,
        "goal_met": ratio <= GOAL_STARTUP_RATIO,
        "editor_ms": round(ms["repl_editor"], 2),
        "editor_ratio": round(ms["repl_editor"] / ms["python_pass"], 2),
        "bare_prompt_ms": round(ms["bare_prompt"], 2),
        "bare_prompt_ratio": round(ms["bare_prompt"] / ms["python_pass"], 2),
        "baseline": None,
    }
    if baseline is not None:
        results["baseline"] = {
            "tree": str(trees["baseline"]),
            "repl_ms": round(ms["baseline"], 2),
            "ratio": round(ms["baseline"] / ms["python_pass"], 2),
        }
    return results


def _check_imports_from(tree: Path, env: dict[str, str]) -> None:
    """Make sure that a child started with ``env`` imports flowql from ``tree``: a tree without
    flowql would leave PYTHONPATH pointing nowhere, and an installed flowql would be timed."""
    done = subprocess.run(
        [sys.executable, "-c", "import flowql; print(flowql.__file__)"],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    found = done.stdout.strip()
    if done.returncode != 0 or not Path(found).is_relative_to(tree):
        raise RuntimeError(f"flowql is not imported from {tree} there: {found or done.stderr}")


def startup_or_explain(rounds: int, baseline: Path | None) -> dict[str, Any] | None:
    """:func:`bench_startup`, or None after saying on stderr why it could not run."""
    try:
        return bench_startup(rounds, baseline)
    except (ImportError, OSError, RuntimeError) as exc:  # no pty here, or the REPL failed
        print(f"the start-up could not be timed: {exc}", file=sys.stderr)
        return None


def print_startup(results: dict[str, Any]) -> None:
    print(
        f"start-up: {results['command']} to its first prompt in a {results['terminal']} "
        "pseudo-terminal (no credentials, a new HOME), interleaved with python -c pass, median "
        f"of {results['rounds']} rounds"
    )
    rows = [("python -c pass", results["python_pass_ms"], None)]
    rows.append(("flowql repl (this tree)", results["repl_ms"], results["ratio"]))
    rows.append(("  its line editor drawn", results["editor_ms"], results["editor_ratio"]))
    baseline = results["baseline"]
    if baseline is not None:
        rows.append((f"flowql repl ({baseline['tree']})", baseline["repl_ms"], baseline["ratio"]))
    bare = ("bare prompt_toolkit prompt (reference)", results["bare_prompt_ms"])
    rows.append((*bare, results["bare_prompt_ratio"]))
    width = max(len(label) for label, _, _ in rows) + 2
    for label, ms, ratio in rows:
        times = f"{ratio:>6.2f}x python -c pass" if ratio is not None else ""
        print(f"   {label:<{width}}{ms:>8.1f} ms  {times}".rstrip())
    print(
        f"   goal: this tree's first prompt <= {results['goal_ratio']:g}x python -c pass: "
        f"{_met(results['goal_met'])}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one round: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="rounds (default 10)")
    parser.add_argument("--positions", type=_positive, help="cursor positions a filter (12)")
    parser.add_argument("--startup-rounds", type=_positive, help="rounds of the start-up (30)")
    parser.add_argument("--skip-startup", action="store_true", help="skip the start-up")
    parser.add_argument(
        "--baseline", type=Path, metavar="TREE", help="also time the start-up of this flowql tree"
    )
    args = parser.parse_args(argv)

    rounds = args.rounds or (1 if args.quick else 10)
    startup_rounds = args.startup_rounds or (3 if args.quick else 30)
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
    startup = None
    if not args.skip_startup:
        print()
        startup = startup_or_explain(startup_rounds, args.baseline)
        if startup is None:
            return 1
        print_startup(startup)

    if args.json:
        figures = {
            "filters": len(filters),
            "mean_chars": round(mean_chars, 1),
            "positions": positions,
            "rounds": rounds,
            "results": results,
            "startup": startup,
        }
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
