"""flowql's exceptions.

Every failure flowql reports is a :class:`FlowQLError`. An error carries one or more
:class:`~flowql.diagnostics.Diagnostic` values (a compiler collects every problem before it
raises) and the source text they point into, so it can render itself with a code frame.
The first diagnostic's fields are available on the error itself: ``err.code``, ``err.line``...
"""

from __future__ import annotations

from flowql.diagnostics import Diagnostic, render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from flowql.ast import Span

__all__ = ["FlowQLError", "LimitError", "NodeError", "ParseError", "UnsupportedError"]


class FlowQLError(Exception):
    """Base class of every error flowql raises.

    Attributes mirror the first diagnostic: ``code``, ``message``, ``hint``, ``span``, ``line``,
    ``column``, ``end_line`` and ``end_column`` (1-based; the end is one past the last character).
    ``diagnostics`` holds all of them; ``source`` is the text the positions refer to.
    """

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic], source: str | None = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = (diagnostics,)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        if not self.diagnostics:
            raise ValueError("a FlowQLError needs at least one diagnostic")
        self.source = source
        super().__init__(str(self.diagnostics[0]))

    @property
    def diagnostic(self) -> Diagnostic:
        """The first (for most errors, the only) diagnostic."""
        return self.diagnostics[0]

    @property
    def code(self) -> str:
        """The stable code of the first diagnostic."""
        return self.diagnostic.code

    @property
    def message(self) -> str:
        """The message of the first diagnostic."""
        return self.diagnostic.message

    @property
    def hint(self) -> str | None:
        """The hint of the first diagnostic, if any."""
        return self.diagnostic.hint

    @property
    def span(self) -> Span | None:
        """The span of the first diagnostic, if known."""
        return self.diagnostic.span

    @property
    def line(self) -> int | None:
        """1-based line where the first problem starts."""
        return self.diagnostic.line

    @property
    def column(self) -> int | None:
        """1-based column where the first problem starts."""
        return self.diagnostic.column

    @property
    def end_line(self) -> int | None:
        """1-based line where the first problem ends."""
        return self.diagnostic.end_line

    @property
    def end_column(self) -> int | None:
        """1-based column one past the end of the first problem."""
        return self.diagnostic.end_column

    def render(self, filename: str | None = "<expr>") -> str:
        """Every diagnostic with a code frame of the source, as a terminal would show it."""
        return "\n\n".join(render(d, self.source, filename) for d in self.diagnostics)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.diagnostic!r})"


class ParseError(FlowQLError):
    """The text is not a FlowQL filter (codes FQ001 to FQ019)."""


class NodeError(FlowQLError, TypeError, ValueError):
    """A syntax tree node built in code with a field FlowQL text cannot hold (code FQ020): a key
    that is not a key token or is a keyword, a value of the wrong type, an unknown operator, too
    few operands. It is raised where the node is made, so no writer ever prints it. It is also a
    ``TypeError`` and a ``ValueError``, the errors the constructors raised before it."""


class LimitError(ParseError):
    """The text exceeds one of flowql's documented limits on length or nesting."""


class UnsupportedError(FlowQLError):
    """A target cannot express part of a filter (code FQ601). Each diagnostic names the
    construct, the target and where it is, and says what to do instead. A target collects every
    such problem before it raises: it never emits a filter that means something else."""
