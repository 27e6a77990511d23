"""The REPL's own error: a command it cannot carry out."""

from __future__ import annotations

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError

__all__ = ["CommandError", "command_error"]


class CommandError(FlowQLError):
    """A command the REPL cannot carry out: an unknown command, a missing or malformed argument,
    or a setting the current query cannot use. Its diagnostic says what to type instead; when
    it is about an argument, its span is that argument in the command line (``source``), and
    ``in_line`` is true."""

    in_line = False


def command_error(message: str, hint: str | None = None, code: str = "FQ804") -> CommandError:
    """A :class:`CommandError` with one diagnostic (FQ804 unless said)."""
    return CommandError(Diagnostic(code, message, None, hint=hint))
