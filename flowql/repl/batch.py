"""``flowql repl < script``: a REPL session replayed from standard input, without prompts.

Each line is a command (``:target klaviyo``), a comment (``# ...``, between filters), a blank
line, or a filter. A filter may span lines: lines are joined while the filter is unfinished (a
group or a string still open, an operator with nothing after it), so a script reads like what
was typed, Alt-Enter being a line break. The compiled form of each filter and the output of
each command (a ``:run``'s table) go to standard output; diagnostics, and notes such as where
results come from, go to standard error, diagnostics in the format of ``flowql check``, placed
at their line in the script. The run stops at the first error (exit 1), a ``:run`` that fails
included, and exits 0 at the end of the script or at ``:quit``.
"""

from __future__ import annotations

from flowql.diagnostics import Severity, render
from flowql.errors import FlowQLError
from flowql.lookahead import unfinished
from flowql.repl.commands import execute, submit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import TextIO

    from flowql.diagnostics import Diagnostic
    from flowql.repl.session import Session

__all__ = ["run_script"]

EXIT_OK = 0
EXIT_ERROR = 1


def run_script(
    session: Session,
    lines: Iterable[str],
    out: TextIO,
    err: TextIO,
    *,
    name: str = "<stdin>",
) -> int:
    """Run every line of a script against the session; return the exit code (0, or 1 at the
    first error). ``name`` is the script's name in diagnostics."""
    pending: list[str] = []
    first_line = 0
    number = 0
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not pending:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith(":"):
                code = _command(session, line, out, err, name, number)
                if code is not None:
                    return code
                continue
            first_line = number
        pending.append(line)
        text = "\n".join(pending)
        if unfinished(text):
            continue
        pending = []
        if not _submit(session, text, out, err, name, first_line):
            return EXIT_ERROR
    if pending:
        # The script ended inside a filter: its diagnostic says what is missing.
        _submit(session, "\n".join(pending), out, err, name, first_line)
        return EXIT_ERROR
    out.flush()
    return EXIT_OK


def _command(
    session: Session, line: str, out: TextIO, err: TextIO, name: str, number: int
) -> int | None:
    """Run a command line (line ``number`` of the script ``name``); the exit code when the
    script ends here, else None."""
    from flowql.repl.errors import CommandError

    where = f"{name}:{number}"
    try:
        outcome = execute(session, line)
    except FlowQLError as exc:
        # About the command: its line in the script (an argument framed there); about a
        # filter it names: a frame of the filter.
        _report(err, [d for d in exc.diagnostics if d.span is None], None, where, 0)
        spanned = [d for d in exc.diagnostics if d.span is not None]
        if isinstance(exc, CommandError) and exc.in_line:
            _report(err, spanned, exc.source, name, number - 1)
        else:
            _report(err, spanned, exc.source, "<filter>", 0)
        return EXIT_ERROR
    for note in outcome.notes:
        err.write(note + "\n")
    errors = [d for d in outcome.warnings if d.severity is Severity.ERROR]
    _report(err, [d for d in outcome.warnings if d not in errors], outcome.source, "<filter>", 0)
    if outcome.text:
        out.write(outcome.text + "\n")
        out.flush()
    _report(err, errors, outcome.source, where, 0)
    if outcome.failed:
        return EXIT_ERROR
    return EXIT_OK if outcome.quit else None


def _submit(session: Session, text: str, out: TextIO, err: TextIO, name: str, at: int) -> bool:
    check, outcome = submit(session, text)
    _report(err, check.diagnostics, text, name, at - 1)
    if outcome is None:
        return False
    out.write(outcome.text + "\n")
    return True


def _report(
    err: TextIO,
    diagnostics: Sequence[Diagnostic],
    source: str | None,
    filename: str,
    line_offset: int,
) -> None:
    for diagnostic in diagnostics:
        if diagnostic.span is None:
            err.write(render(diagnostic, None, filename) + "\n\n")
        else:
            err.write(render(diagnostic, source, filename, line_offset=line_offset) + "\n\n")
    err.flush()
