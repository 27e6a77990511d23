"""``flowql repl`` in a real terminal: tmux runs it, the test types and reads the screen, from
the first keys to a ``:run`` whose table comes from the built-in sandbox.

A private tmux server (its own socket, no configuration) runs ``python -m flowql repl`` in a
fixed-size window; keys go in with ``send-keys``, and ``capture-pane -e`` gives the screen with
its colour escape codes. Each wait is bounded.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# .ci/run installs tmux when the machine lacks it.
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
SGR = r"\x1b\[[0-9;]*m"  # a colour or attribute escape code
CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")


class Terminal:
    """A tmux window running one command, on a tmux server of its own (its socket under
    ``directory``, so that nothing is left behind)."""

    def __init__(self, server: str, directory: Path) -> None:
        self.server = server
        self.env = {**os.environ, "TMUX_TMPDIR": str(directory)}
        self.env.pop("TMUX", None)

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [TMUX, "-L", self.server, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
            env=self.env,
        )
        return result.stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "repl", "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "repl", *keys)

    def screen(self, *, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "repl")

    def wait_for(self, test: Callable[[str], bool], what: str, *, escapes: bool = False) -> str:
        deadline = time.monotonic() + 15
        while True:
            screen = self.screen(escapes=escapes)
            if test(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; the screen:\n{screen}")
            time.sleep(0.1)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"flowql-test-{uuid.uuid4().hex[:8]}", tmp_path)
    command = shlex.join(
        [
            "env",
            # No credentials: :run goes to the built-in sandbox.
            *(f"--unset={name}" for name in CREDENTIALS),
            "TERM=xterm-256color",
            f"FLOWQL_HISTORY={tmp_path / 'history'}",
            sys.executable,
            "-m",
            "flowql",
            "repl",
        ]
    )
    term.tmux("new-session", "-d", "-s", "repl", "-x", "100", "-y", "30", "-c", str(ROOT), command)
    try:
        yield term
    finally:
        term.tmux("kill-server", check=False)


def test_a_session_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait_for(lambda s: "\nflowql>" in s and "type a filter, or :help" in s, "the prompt")

    terminal.type(":flow 142")
    terminal.press("Enter")
    terminal.wait_for(lambda s: "flow 142 Video Start (16 keys)" in s, "the :flow output")

    # The completion menu opens while typing: the keys that start with the word, with labels.
    terminal.type("geo_c")
    menu = terminal.wait_for(
        lambda s: (
            "flowql> geo_c" in s  # every key drawn, not only the menu of `geo_`
            and re.search(r"geo_city\s+Cities", s) is not None
            and re.search(r"geo_country\s+Countries", s) is not None
        ),
        "the completion menu",
    )
    assert "cdn" not in menu.split("flowql> geo_c", 1)[1]

    # Highlighting: the key, the string and the keyword each come with their own colour.
    terminal.type("ountry == 'Spain' AND cdn = 'x'")
    screen = terminal.wait_for(
        lambda s: "error FQ006" in s, "the live check's message", escapes=True
    )
    line = next(row for row in screen.splitlines() if "Spain" in row)
    assert re.search(SGR + "geo_country", line)
    assert re.search(SGR + "'Spain'", line)
    assert re.search(SGR + "AND", line)
    colours = set(re.findall(SGR + r"(?=geo_country|'Spain'|AND)", line))
    assert len(colours) == 3, line
    # The bottom toolbar: what is wrong, where, and the query's context.
    plain = terminal.screen()
    assert "error FQ006 1:32: a single '=' is not a FlowQL operator" in plain
    assert "conviva-flow | flow 142 Video Start | last 15m" in plain

    # Enter does not submit: the validation message shows, the text stays.
    terminal.press("Enter")
    terminal.wait_for(
        lambda s: "FQ006: a single '=' is not a FlowQL operator (compare with '=='" in s,
        "the validation message",
    )

    # Fixed, it goes through, compiled for the Flow API, and the URL is measured.
    terminal.press("Right")  # the cursor is on the '='
    terminal.type("=")
    terminal.wait_for(lambda s: "ok: compiles for conviva-flow" in s, "a clean check")
    assert re.search(r"URL \d+/4,096 \(\d+%\)", terminal.screen())
    terminal.press("Enter")
    terminal.wait_for(
        lambda s: "\ngeo_country == 'Spain' AND cdn == 'x'\n" in s, "the compiled filter"
    )

    # :run sends the query to the sandbox (there are no credentials here) and prints a table.
    terminal.type(":limit 5")
    terminal.press("Enter")
    terminal.type(":run geo_country == 'Spain'")
    terminal.press("Enter")
    screen = terminal.wait_for(
        lambda s: re.search(r"\n\d+ rows \(the first 5 shown", s) is not None, "the :run table"
    )
    # The notice is wider than the terminal: it wraps.
    assert "querying the built-in sandbox at http://127.0.0.1:" in " ".join(screen.split())
    rows = screen.splitlines()
    header = next(i for i, row in enumerate(rows) if row.startswith("timestamp "))
    assert rows[header].split()[:4] == ["timestamp", "Video", "Start", "Complete"]
    assert set(rows[header + 1].rstrip()) == {"-", " "}
    assert all(re.match(r"\d{4}-\d\d-\d\dT", row) for row in rows[header + 2 : header + 7])
    footer = " ".join(" ".join(rows[header + 7 :]).split())
    assert re.search(r"rows \(the first 5 shown.* s, from the sandbox totals: m_142_1 ", footer)
    # The table keeps to the terminal's 100 columns.
    assert all(len(row.rstrip()) <= 100 for row in rows)

    terminal.press("C-d")
    deadline = time.monotonic() + 15
    while "geo_country == 'Spain' AND cdn == 'x'" not in (tmp_path / "history").read_text():
        assert time.monotonic() < deadline, "the history was not written"
        time.sleep(0.1)
