"""``:plot`` in a real terminal: tmux runs ``flowql repl`` (as tests/test_repl_e2e.py does), a
query runs against the built-in sandbox, and ``:plot`` draws its time series and its grouped
bars on the screen, within the terminal's width."""

from __future__ import annotations

import re
import shlex
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_repl_e2e import CREDENTIALS, ROOT, Terminal


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"flowql-plot-{uuid.uuid4().hex[:8]}", tmp_path)
    command = shlex.join(
        [
            "env",
            *(f"--unset={name}" for name in CREDENTIALS),
            "TERM=xterm-256color",
            f"FLOWQL_HISTORY={tmp_path / 'history'}",
            sys.executable,
            "-m",
            "flowql",
            "repl",
        ]
    )
    term.tmux("new-session", "-d", "-s", "repl", "-x", "90", "-y", "45", "-c", str(ROOT), command)
    try:
        yield term
    finally:
        term.tmux("kill-server", check=False)


def enter(terminal: Terminal, line: str) -> None:
    terminal.type(line)
    terminal.press("Enter")


def test_plot_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait_for(lambda s: "\nflowql>" in s, "the prompt")
    for line in (":target conviva-flow", ":flow 825", ":last 1h", ":limit 3"):
        enter(terminal, line)
    enter(terminal, ":run geo_country != 'x'")
    terminal.wait_for(lambda s: re.search(r"\n60 rows \(the first 3 shown", s) is not None, ":run")
    enter(terminal, ":plot m_825_1")
    screen = terminal.wait_for(lambda s: "⣿ Login Process Complete (count)" in s, "the line chart")
    rows = screen.splitlines()
    title = next(i for i, row in enumerate(rows) if row.startswith("conviva-flow historical, "))
    assert rows[title + 1].strip() == "Login Process Complete (count)"
    plot = rows[title + 2 : title + 18]
    assert re.match(r"^\s*[\d.]+ ┤", plot[0])
    assert re.match(r"^\s*0 ┤", plot[-1])
    dots = [c for row in plot for c in row if 0x2801 <= ord(c) <= 0x28FF]
    assert len(dots) > 60  # a line through 60 minutes of points
    assert "└" + "─" * 20 in rows[title + 18]
    assert "time (UTC)" in rows[title + 20]
    assert all(len(row.rstrip()) <= 90 for row in rows)

    enter(terminal, ":plot bars")
    terminal.wait_for(lambda s: "did you mean 'bar'?" in s, "the did-you-mean of a kind")

    enter(terminal, ":last 15m")
    enter(terminal, ":group-by geo_country")
    enter(terminal, ":run geo_country != 'x'")
    terminal.wait_for(lambda s: "geo_country" in s.split(":run geo_country")[-1], "grouped run")
    enter(terminal, ":plot")
    screen = terminal.wait_for(
        lambda s: "Login Process Complete (count) by geo_country" in s, "the bar chart"
    )
    bars = [row for row in screen.splitlines() if re.match(r"^\S.* │█", row)]
    assert len(bars) >= 2
    lengths = [row.count("█") for row in bars]
    assert lengths == sorted(lengths, reverse=True)  # the largest first
    assert all(row.rstrip().endswith(" count") for row in bars)
