"""flowql from many threads at once: every answer is the one a single thread gets.

:func:`flowql.parse` keeps its state local to one call, nodes compute their spans and hashes
lazily, and some patterns compile on first use: none of it may depend on which thread gets there
first. Each test runs the same work sequentially, then from 8 threads together (started at a
barrier, with a tiny switch interval so that they interleave finely), and compares the results.
"""

from __future__ import annotations

import functools
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from strategies import FRAGMENTS, random_filter

import flowql
from flowql.ast import (
    Expr,
    Node,
    to_dict,
    walk,
)

THREADS = 8
ROUNDS = 3
# Seconds a thread runs before it offers the GIL to another (default 0.005): short, so that the
# threads interleave inside every call, but not so short that the test spends its time switching.
SWITCH_INTERVAL = 2e-5
ROOT = Path(__file__).resolve().parent.parent


def _filters(count: int = 300) -> list[str]:
    """Distinct filters, two in three valid, the rest broken by a random edit."""
    rng = random.Random(20240607)
    texts: dict[str, None] = {}
    while len(texts) < count:
        text = random_filter(rng, rng.randrange(5))
        if rng.random() < 0.33:
            at = rng.randrange(len(text) + 1)
            fragment = rng.choice([f for f in FRAGMENTS if len(f) < 10])
            text = text[:at] + fragment + text[at + rng.randrange(3) :]
        texts[text] = None
    return list(texts)


FILTERS = _filters()


def _answer(text: str) -> object:
    """Everything observable about parsing ``text``: the tree with spans, or the error."""
    try:
        tree = flowql.parse(text)
    except flowql.FlowQLError as err:
        span = err.span
        assert span is not None
        where = (span.start, span.end, span.line, span.column, span.end_line, span.end_column)
        return ("error", type(err).__name__, err.code, err.message, err.hint, where, err.render())
    return ("tree", to_dict(tree), flowql.format(tree), hash(tree))


@contextmanager
def _fine_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _run_in_threads(work: Callable[[int], object]) -> list[object]:
    """``work(i)`` in thread ``i``, all started together; every thread's result, or its
    exception (re-raised here)."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # re-raised below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    with _fine_switching():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return results


def test_filters_are_distinct_and_mixed() -> None:
    assert len(set(FILTERS)) == len(FILTERS) >= 300
    kinds = [_answer(text)[0] for text in FILTERS]  # type: ignore[index]
    assert 100 <= kinds.count("tree") <= 250
    codes = {a[2] for a in map(_answer, FILTERS) if a[0] == "error"}  # type: ignore[index]
    assert len(codes) >= 5


def test_parse_from_many_threads_matches_sequential() -> None:
    expected = {text: _answer(text) for text in FILTERS}

    def work(i: int) -> list[str]:
        rng = random.Random(i)
        wrong: list[str] = []
        for _ in range(ROUNDS):
            order = list(FILTERS)
            rng.shuffle(order)
            wrong.extend(text for text in order if _answer(text) != expected[text])
        return wrong

    assert _run_in_threads(work) == [[] for _ in range(THREADS)]


def _observe(trees: list[Expr], thread: int = 0) -> list[object]:
    seen: list[object] = []
    for tree in trees:
        nodes: list[Node] = list(walk(tree))
        seen.append([(n.span, hash(n)) for n in nodes])
        seen.append(to_dict(tree))
    return seen


def test_shared_trees_from_many_threads() -> None:
    # Lazily computed spans and hashes of the same nodes, read from all threads at once.
    def fresh() -> list[Expr]:
        trees = []
        for text in FILTERS:
            with suppress(flowql.FlowQLError):
                trees.append(flowql.parse(text))
        return trees

    expected = _observe(fresh())
    for _ in range(ROUNDS):
        shared = fresh()
        assert _run_in_threads(functools.partial(_observe, shared)) == [expected] * THREADS


def test_tokenize_and_format_from_many_threads() -> None:
    trees = [flowql.parse(text) for text in FILTERS if _answer(text)[0] == "tree"]  # type: ignore[index]

    def work(i: int) -> object:
        return [
            [(t.kind, t.text, t.start, t.end) for t in flowql.tokenize(text)] for text in FILTERS
        ] + [flowql.format(tree) for tree in trees]

    expected = work(0)
    assert _run_in_threads(work) == [expected] * THREADS


FIRST_USE = """
import sys, threading
sys.setswitchinterval(1e-6)
import flowql

texts = {texts!r}
barrier = threading.Barrier(8)
results = [None] * 8

def answer(text):
    try:
        tree = flowql.parse(text)
    except flowql.FlowQLError as err:
        return (err.code, err.message, str(err.span))
    return flowql.format(tree)

def run(i):
    barrier.wait()
    results[i] = [answer(t) for t in texts] + [len(flowql.tokenize(t)) for t in texts]

threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
expected = [answer(t) for t in texts] + [len(flowql.tokenize(t)) for t in texts]
assert results == [expected] * 8, results
print("ok")
"""


def test_first_use_from_many_threads() -> None:
    # In a fresh interpreter, so that whatever flowql sets up on first use (compiled patterns,
    # caches) is set up by racing threads.
    texts = FILTERS[:40]
    result = subprocess.run(
        [sys.executable, "-c", FIRST_USE.format(texts=texts)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
