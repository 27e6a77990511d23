"""``flowql check --watch``: run the check again whenever a file it reads changes.

Changes are found by polling: every :data:`INTERVAL` seconds the modification times and sizes of
the files under the paths given (and of the configuration files above the working directory)
are compared with the last run's. Polling needs only the standard library and works on every
file system, network ones too; a few hundred files cost a fraction of a millisecond per look.
Ctrl-C stops the watch, with exit code 0.
"""

from __future__ import annotations

import os
import time

from flowql.checker.config import CONFIG_FILES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TextIO

__all__ = ["INTERVAL", "snapshot", "watch"]

INTERVAL = 0.25
"""Seconds between two looks at the files."""

# Clear the screen and the scrollback, and go to the top left (as ruff's watch does).
_CLEAR = "\x1b[2J\x1b[3J\x1b[H"

_Stamp = tuple[int, int]


def snapshot(paths: Sequence[str], start: str | None = None) -> dict[str, _Stamp]:
    """The modification time and size of every file under ``paths`` (directories walked, hidden
    ones skipped), and of the configuration files from ``start`` upward."""
    found: dict[str, _Stamp] = {}

    def stamp(path: str) -> None:
        try:
            info = os.stat(path)
        except OSError:
            return  # gone, or not there yet: its absence is what is compared
        found[path] = (info.st_mtime_ns, info.st_size)

    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    stamp(os.path.join(root, name))
        else:
            stamp(path)
    directory = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_FILES:
            stamp(os.path.join(directory, name))
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return found


def watch(
    run: Callable[[], int],
    paths: Sequence[str],
    out: TextIO,
    err: TextIO,
    *,
    interval: float = INTERVAL,
) -> int:
    """Call ``run`` now and again after each change to the files under ``paths``, clearing a
    terminal before each run, until Ctrl-C: then return 0."""
    try:
        while True:
            before = snapshot(paths)
            if out.isatty():
                out.write(_CLEAR)
            run()
            out.flush()
            err.write("flowql: watching for changes; Ctrl-C to stop\n")
            err.flush()
            now = snapshot(paths)
            while now == before:
                time.sleep(interval)
                now = snapshot(paths)
            # An editor may save in steps (truncate, then write): wait for the files to settle.
            while True:
                time.sleep(interval)
                later = snapshot(paths)
                if later == now:
                    break
                now = later
    except KeyboardInterrupt:
        # Stopping the watch is how it ends, not an error.
        return 0
