"""What the command line and the REPL need to know of the terminal: its size, a pager for long
output, whether to colour it, and streams that never crash on a character their encoding
cannot show.

:func:`safe_streams` makes ``sys.stdout`` and ``sys.stderr`` replace what their encoding cannot
encode (a cp1252 or ASCII console), and :func:`note_replaced` says so once on stderr;
:func:`page` writes text through ``$PAGER`` (default ``less -FRX``) when it is longer than the
terminal and stdout is a terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

__all__ = [
    "DEFAULT_PAGER",
    "page",
    "pager_command",
    "safe_streams",
    "size",
    "wants_color",
    "wants_pager",
]

DEFAULT_PAGER = "less -FRX"
_NOTED: list[bool] = []


def size() -> tuple[int, int]:
    """The terminal's columns and lines (80 by 24 when it cannot be told)."""
    found = shutil.get_terminal_size((80, 24))
    return found.columns, found.lines


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def wants_color(stream: object, choice: str = "auto") -> bool:
    """Whether output to ``stream`` should be coloured: ``choice`` ``always`` or ``never`` says
    so; ``auto`` colours a terminal, unless ``NO_COLOR`` is set to anything but the empty
    string (https://no-color.org) or ``TERM`` is ``dumb``."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream is not None and _is_tty(stream)


def pager_command() -> str | None:
    """The pager to run: ``$PAGER`` (empty: none), else :data:`DEFAULT_PAGER`."""
    value = os.environ.get("PAGER")
    if value is None:
        return DEFAULT_PAGER
    return value.strip() or None


def wants_pager(text: str, out: object, *, enabled: bool = True) -> bool:
    """Whether ``text`` should go through the pager: it is enabled, ``out`` is a terminal, a
    pager is set and the text has more lines than the terminal."""
    if not enabled or not _is_tty(out) or pager_command() is None:
        return False
    return text.count("\n") >= size()[1]


def page(text: str, out: TextIO, *, enabled: bool = True) -> None:
    """Write ``text`` to ``out``, through the pager when :func:`wants_pager` says so (and
    straight to ``out`` if the pager cannot be started)."""
    if not wants_pager(text, out, enabled=enabled):
        out.write(text)
        return
    import shlex
    import subprocess

    command = pager_command()
    assert command is not None
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        out.flush()
        process = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env)
    except (OSError, ValueError):
        out.write(text)
        return
    assert process.stdin is not None
    try:
        process.stdin.write(text.encode(encoding, errors="replace"))
        process.stdin.close()
    except BrokenPipeError:  # the pager was left before it read everything
        pass
    try:
        process.wait()
    except KeyboardInterrupt:
        process.wait()


def safe_streams() -> None:
    """Make stdout and stderr replace (with ``?``) the characters their encoding cannot show,
    instead of raising, and say so once on stderr the first time it happens."""
    import codecs

    name = "flowql-replace"
    try:
        codecs.lookup_error(name)
    except LookupError:

        def handler(exc: UnicodeError) -> tuple[str, int]:
            if not isinstance(exc, UnicodeEncodeError):
                raise exc
            if not _NOTED:
                _NOTED.append(True)
                encoding = getattr(sys.stderr, "encoding", None) or exc.encoding
                note = (
                    f"flowql: note: this terminal's encoding ({encoding}) cannot show some "
                    "characters; they are shown as ?\n"
                )
                try:
                    sys.stderr.flush()
                    sys.stderr.buffer.write(note.encode("ascii", "replace"))
                    sys.stderr.buffer.flush()
                except (AttributeError, OSError, ValueError):
                    pass
            return "?" * (exc.end - exc.start), exc.end

        codecs.register_error(name, handler)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if reconfigure is None or encoding in ("utf-8", "utf8"):
            continue
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors=name)
    encoding = (getattr(sys.stdin, "encoding", None) or "").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8") and hasattr(sys.stdin, "reconfigure"):
        # A script fed to `flowql repl` in an encoding that cannot read it.
        with contextlib.suppress(ValueError, OSError):
            sys.stdin.reconfigure(errors="replace")
