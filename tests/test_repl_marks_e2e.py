"""The first error's mark and the toolbar's "did you mean" in a real terminal: tmux runs
``flowql repl`` (as tests/test_repl_e2e.py does), a filter with a misspelt key is typed, and
``capture-pane -e`` shows which cells are drawn underlined on the red background."""

from __future__ import annotations

import re
import shlex
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_repl_e2e import CREDENTIALS, ROOT, Terminal

WIDTH = 100
SGR = re.compile(r"\x1b\[([0-9;]*)m")
# STYLE's "bg:#5f0000" in a 256-colour terminal, or in true colour.
MARK_BACKGROUNDS = {"5;52", "2;95;0;0"}


class Cell:
    """A character on the screen and the attributes it is drawn with."""

    __slots__ = ("background", "char", "underline")

    def __init__(self, char: str, underline: bool, background: str | None) -> None:
        self.char = char
        self.underline = underline
        self.background = background

    @property
    def marked(self) -> bool:
        return self.underline and self.background in MARK_BACKGROUNDS


def cells(row: str) -> list[Cell]:
    """The cells of a row of ``capture-pane -e``, with the SGR attributes in force at each."""
    out: list[Cell] = []
    underline, background = False, None
    at = 0
    for match in SGR.finditer(row + "\x1b[m"):
        out.extend(Cell(c, underline, background) for c in row[at : match.start()])
        at = match.end()
        params = (match.group(1) or "0").split(";")
        i = 0
        while i < len(params):
            code = params[i] or "0"
            if code == "0":
                underline, background = False, None
            elif code == "4":
                underline = True
            elif code == "24":
                underline = False
            elif code == "49":
                background = None
            elif code in ("38", "48"):
                size = 3 if params[i + 1 : i + 2] == ["5"] else 5
                if code == "48":
                    background = ";".join(params[i + 1 : i + size])
                i += size - 1
            i += 1
    return out


def input_row(screen: str, start: str) -> list[Cell]:
    """The cells of the prompt's row whose text starts with ``start``."""
    for row in screen.splitlines():
        found = cells(row)
        if "".join(c.char for c in found).startswith(start):
            return found
    return []


def marked_text(row: list[Cell]) -> str:
    return "".join(c.char for c in row if c.marked)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"flowql-marks-{uuid.uuid4().hex[:8]}", tmp_path)
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
    size = ("-x", str(WIDTH), "-y", "24")
    term.tmux("new-session", "-d", "-s", "repl", *size, "-c", str(ROOT), command)
    try:
        yield term
    finally:
        term.tmux("kill-server", check=False)


def test_the_parser_reads_the_screen() -> None:
    # The reader of escape codes itself, on a row as tmux gives it.
    row = "\x1b[1mflowql>\x1b[0m \x1b[4m\x1b[38;5;100m\x1b[48;5;52mkey\x1b[0m\x1b[39m == \x1b[4mx"
    found = cells(row)
    assert "".join(c.char for c in found) == "flowql> key == x"
    assert marked_text(found) == "key"
    assert [c.char for c in found if c.underline] == ["k", "e", "y", "x"]


def test_the_first_error_is_marked_and_the_toolbar_says_did_you_mean(terminal: Terminal) -> None:
    terminal.wait_for(lambda s: "\nflowql>" in s and "type a filter, or :help" in s, "the prompt")
    terminal.type(":flow 825")
    terminal.press("Enter")
    terminal.wait_for(lambda s: "flow 825 Login Process (14 keys)" in s, "the :flow output")

    typed = "flowql> geo_contry == 'Spain'"
    terminal.type("geo_contry == 'Spain'")
    screen = terminal.wait_for(
        lambda s: marked_text(input_row(s, typed)) != "" and "did you mean" in s,
        "the mark and the toolbar's hint",
        escapes=True,
    )
    # (a) The mark is under the misspelt key, and nowhere else on its line.
    row = input_row(screen, typed)
    marked = [i for i, c in enumerate(row) if c.marked]
    start = "".join(c.char for c in row).index("geo_contry")
    assert marked == list(range(start, start + len("geo_contry")))
    # (b) The toolbar: the finding with its "did you mean", within the terminal's width.
    plain = terminal.screen()
    toolbar = next(line for line in plain.splitlines() if line.startswith(" error FQ101"))
    assert toolbar.startswith(" error FQ101 1:1: 'geo_contry' is not a dimension of flow 825")
    assert toolbar.rstrip().endswith("(did you mean 'geo_country'?)")
    assert len(toolbar.rstrip()) <= WIDTH

    # (c) Fixed in place, the key is right: the mark is gone once the check has answered.
    terminal.press("Home", *["Right"] * len("geo_co"))
    terminal.type("u")
    fixed = "flowql> geo_country == 'Spain'"
    screen = terminal.wait_for(
        lambda s: "ok: compiles for conviva-flow" in s and input_row(s, fixed) != [],
        "the fixed filter checked",
        escapes=True,
    )
    row = input_row(screen, fixed)
    assert marked_text(row) == ""
    assert not any(c.underline for c in row)
    assert "did you mean" not in terminal.screen()
