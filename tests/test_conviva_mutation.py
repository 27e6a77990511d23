"""The mutation check of the Conviva sandbox: changing the meaning of one operator in flowql's
conviva-flow target (or in its parser) makes a client-against-sandbox test fail.

tests/test_client_e2e_conviva_filters.py runs in a fresh pytest, with the plugin
tests/mutate_conviva_flow.py loaded: once with no mutation (it must pass), and once per
mutation (it must fail, at the test of that operator). The sandbox reads filters with its own
reader, so a client that sends the wrong operator gets the wrong data back, and the expected
data, computed by hand-written Python from the synthetic events, tells. The runs go side by
side: each is a few seconds, mostly starting Python and pytest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutate_conviva_flow import VARIABLE
from test_client_e2e_conviva_filters import CASES

ROOT = Path(__file__).resolve().parent.parent
MODULE = "tests/test_client_e2e_conviva_filters.py"
TEST = f"{MODULE}::test_each_operator_through_the_client"

MUTATIONS = {
    # the mutation (see tests/mutate_conviva_flow.py): the case that must fail first
    "target != ==": "!=",
    "target ~~ ==": "~~",
    "target AND OR": "AND",
    # A misreading flowql shares with itself: invisible to a sandbox reading with flowql.
    "parser == !=": "==",
}


def _start(mutation: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in (VARIABLE, "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    if mutation is not None:
        env[VARIABLE] = mutation
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "mutate_conviva_flow"]
    # No cache (the runs go side by side) and no Hypothesis plugin (a second to import).
    command += ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", MODULE]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str | None, subprocess.Popen[str]]]:
    started: dict[str | None, subprocess.Popen[str]] = {None: _start(None)}
    started.update((mutation, _start(mutation)) for mutation in MUTATIONS)
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = process.communicate(timeout=300)
    return process.returncode, output


def test_without_a_mutation_the_run_passes(
    runs: dict[str | None, subprocess.Popen[str]],
) -> None:
    status, output = _finish(runs[None])
    assert status == 0, output
    assert f"{len(CASES)} passed" in output
    assert "mutation" not in output


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_mutated_operator_fails_the_run(
    runs: dict[str | None, subprocess.Popen[str]], mutation: str
) -> None:
    status, output = _finish(runs[mutation])
    assert status == 1, output  # tests failed (not: interrupted, internal or usage error)
    changed = re.search(r"conviva-flow mutation: (\d+) nodes changed", output)
    assert changed is not None, output
    assert int(changed.group(1)) > 0
    assert f"FAILED {TEST}[{MUTATIONS[mutation]}]" in output, output
