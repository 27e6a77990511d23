"""The REPL's own error: a command it cannot carry out."""

from __future__ import annotations

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError

__all__ = ["CommandError", "command_error"]


class CommandError(FlowQLError):
    """A command the REPL cannot carry out: an unknown command, a missing or malformed argument,
    or a setting the current query cannot use. Its diagnostic has no span (it is not about a
    filter's text) and says what to type instead."""


def command_error(message: str, hint: str | None = None, code: str = "FQ804") -> CommandError:
    """A :class:`CommandError` with one diagnostic (FQ804 unless said)."""
    return CommandError(Diagnostic(code, message, None, hint=hint))
