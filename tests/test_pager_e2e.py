"""Long output through the pager, in a real terminal (tmux, with the harness of
``tests/test_repl_e2e.py``): ``flowql query`` and the REPL's ``:run`` open ``$PAGER`` when the
result is longer than the terminal, and ``q`` gives the shell or the prompt back."""

from __future__ import annotations

import shlex
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_repl_e2e import CREDENTIALS, ROOT, TMUX, Terminal


def _start(term: Terminal, tmp_path: Path, *argv: str) -> None:
    assert shutil.which(TMUX), "tmux is needed for this test: install it (apt-get install tmux)"
    command = shlex.join(
        [
            "env",
            *(f"--unset={name}" for name in CREDENTIALS),
            "TERM=xterm-256color",
            "PAGER=less",
            "LESS=",
            f"FLOWQL_HISTORY={tmp_path / 'history'}",
            sys.executable,
            "-m",
            "flowql",
            *argv,
        ]
    )
    # The shell says when flowql is done, and keeps the window open to be read.
    shell = f"{command}; echo flowql-exited-$?; sleep 30"
    term.tmux("new-session", "-d", "-s", "repl", "-x", "100", "-y", "12", "-c", str(ROOT), shell)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"flowql-pager-{uuid.uuid4().hex[:8]}", tmp_path)
    try:
        yield term
    finally:
        term.tmux("kill-server", check=False)


def _in_less(screen: str) -> bool:
    last = [line for line in screen.splitlines() if line.strip()][-1:]
    return bool(last) and (last[0].startswith(":") or "(END)" in last[0])


def test_a_long_query_result_opens_the_pager(terminal: Terminal, tmp_path: Path) -> None:
    _start(terminal, tmp_path, "query", "flowxo", "top-messages", "--limit", "100")
    screen = terminal.wait_for(_in_less, "less's prompt")
    assert "message" in screen.splitlines()[0]  # the table's first line, at the top of less
    assert "flowql-exited" not in screen
    terminal.press("q")
    screen = terminal.wait_for(lambda s: "flowql-exited-0" in s, "the command to end")


def test_a_long_run_in_the_repl_opens_the_pager(terminal: Terminal, tmp_path: Path) -> None:
    _start(terminal, tmp_path, "repl")
    terminal.wait_for(lambda s: "flowql>" in s, "the prompt")
    terminal.type(":flow 825")
    terminal.press("Enter")
    terminal.wait_for(lambda s: "flow 825" in s, "the :flow output")
    terminal.type(":last 2h")
    terminal.press("Enter")
    terminal.type("geo_country == 'US'")
    terminal.press("Enter")
    terminal.wait_for(lambda s: s.count("geo_country == 'US'") >= 2, "the filter")
    terminal.type(":run")
    terminal.press("Enter")
    screen = terminal.wait_for(_in_less, "less's prompt")
    assert "timestamp" in screen
    terminal.press("q")
    terminal.wait_for(
        lambda s: "\nflowql>" in s and "conviva-flow | flow 825" in s and not _in_less(s),
        "the prompt after the pager",
    )
