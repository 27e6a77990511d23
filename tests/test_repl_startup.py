"""``flowql repl``'s start-up in a real pseudo-terminal: its first prompt is drawn before
anything it does not need is imported (the sandbox, the clients, Pygments, platformdirs), and
what was left out is loaded after (the history file is found; the sandbox's values are made).

The REPL runs in a child on a ``pty``; a hook on its first render (called in the event loop
once the first prompt is drawn, before anything that runs after it) writes what is imported at
that moment to a file. Each wait is bounded; nothing here is timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")
HEAVY = (
    "flowql.sandbox",
    "flowql.client._core",
    "flowql.query",
    "httpx",
    "h11",
    "flowql.highlight",
    "pygments",
    "platformdirs",
)
"""What the first prompt does without."""

# The child: the REPL as `flowql repl` runs it, with a hook on its first render (in the event
# loop, before anything runs after it) that notes what is imported then, and, once the warm-up
# it starts has run, whether the sandbox's values were made.
CHILD = """
import json, os, sys, threading
import flowql.repl.app as app

report, heavy = sys.argv[1], sys.argv[2:]
shown = app.Repl._shown
found = {}


def write():
    for thread in threading.enumerate():
        if thread.name == "flowql-warm-up":
            thread.join()
    values = repl.session.runner().values
    found["made"] = values is not None and values.wait("conviva-flow")
    with open(report + ".tmp", "w") as out:
        json.dump(found, out)
    os.replace(report + ".tmp", report)


def hooked(self, application):
    global repl
    if not found:
        found["imported"] = sorted(set(heavy) & set(sys.modules))
        found["values"] = self.session.runner().values is not None
        repl = self
        shown(self, application)  # starts the warm-up
        threading.Thread(target=write, daemon=True).start()
    else:
        shown(self, application)


app.Repl._shown = hooked
from flowql.cli import main

sys.exit(main(["repl"]))
"""


def read_until(fd: int, done: Callable[[], bool], what: str, timeout: float = 30) -> bytes:
    """What the terminal's other side writes, until ``done()``; a cursor-position query is
    answered as a terminal answers it."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {seen[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        assert data, f"the REPL ended before {what}: {seen[-500:]!r}"
        seen += data
        if b"\x1b[6n" in data:
            os.write(fd, b"\x1b[1;1R")
    return seen


def test_the_first_prompt_imports_only_what_it_needs(tmp_path: Path) -> None:
    report = tmp_path / "first-prompt.json"
    env = {k: v for k, v in os.environ.items() if k not in (*CREDENTIALS, "FLOWQL_HISTORY")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), TERM="xterm-256color")
    argv = [sys.executable, "-c", CHILD, str(report), *HEAVY]
    pid, fd = pty.fork()
    if pid == 0:  # the child
        try:
            os.chdir(tmp_path)
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    status = None
    try:
        seen = read_until(fd, report.exists, "the first prompt")
        assert b"flowql>" in seen
        os.write(fd, b"\x04")  # Ctrl-D: the REPL ends
        deadline = time.monotonic() + 15
        while status is None:
            assert time.monotonic() < deadline, "the REPL did not end"
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
                continue
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):  # EIO once it has closed the terminal
                    os.read(fd, 65536)
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    found = json.loads(report.read_text(encoding="utf-8"))
    # No credentials: the sandbox is the source of values, and nothing of it was imported.
    assert found == {"imported": [], "values": True, "made": True}
    # The history file was found where platformdirs says, once the prompt was shown.
    assert (tmp_path / "data" / "flowql" / "history").is_file()
