"""Diagnostics: what flowql reports about a filter, and how it shows it.

A :class:`Diagnostic` is a value: a stable code (see :mod:`flowql.codes`), a severity, a message
in the user's words, the source span it is about, and a hint where one helps.
:func:`render` shows it with a code frame, in the style of ruff and rustc::

    error[FQ006]: a single '=' is not a FlowQL operator
     --> filters/spain.flowql:1:13
      |
    1 | geo_country = 'Spain'
      |             ^
      |
      = help: compare with '==' (equals) or '!=' (does not equal)
"""

from __future__ import annotations

import enum

# Span only in annotations: flowql.ast raises flowql's errors, so importing it here would be a
# circle.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from flowql.ast import Span
    from flowql.fixes import Fix

__all__ = ["Diagnostic", "Severity", "clip", "closest", "did_you_mean", "render"]


def clip(text: str, limit: int = 40) -> str:
    """``text`` for a message: cut to ``limit`` characters, ``...`` marking the cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def closest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice closest to ``word`` (by difflib's ratio, at least ``cutoff``), or None: the
    one "did you mean" of flowql, used for keys, fields, commands, targets and APIs alike."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """``did you mean 'x'?`` for the choice closest to ``word``, or None (:func:`closest`)."""
    close = closest(word, choices, cutoff=cutoff)
    return f"did you mean '{close}'?" if close is not None else None


class Severity(str, enum.Enum):
    """How bad a diagnostic is."""

    ERROR = "error"
    """The filter is wrong, or would be rejected by the server."""
    WARNING = "warning"
    """The filter works, but probably not as intended."""
    INFO = "info"
    """Worth knowing; nothing is wrong."""

    def __str__(self) -> str:
        return self.value


class Diagnostic:
    """One problem found in a filter. Immutable.

    ``fix``, when there is one repair to make, is it as edits of the text the span is in
    (:class:`flowql.fixes.Fix`)."""

    __slots__ = ("_code", "_fix", "_hint", "_message", "_severity", "_span")

    def __init__(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
        fix: Fix | None = None,
    ) -> None:
        self._code = code
        self._severity = Severity(severity)
        self._message = message
        self._span = span
        self._hint = hint
        self._fix = fix

    def at(self, span: Span | None, *, fix: Fix | None = None) -> Diagnostic:
        """The same diagnostic placed at ``span`` (in another text: a filter's span in the file
        it is written in, an argument in a command line), with ``fix`` in that text's offsets
        (the fix in the old text does not apply there)."""
        return Diagnostic(
            self._code, self._message, span, hint=self._hint, severity=self._severity, fix=fix
        )

    def with_fix(self, fix: Fix | None) -> Diagnostic:
        """The same diagnostic with ``fix`` (None: without one)."""
        return Diagnostic(
            self._code, self._message, self._span, hint=self._hint, severity=self._severity, fix=fix
        )

    @property
    def code(self) -> str:
        """The stable code, such as ``FQ006``."""
        return self._code

    @property
    def severity(self) -> Severity:
        """Error, warning or info."""
        return self._severity

    @property
    def message(self) -> str:
        """What is wrong, in one sentence."""
        return self._message

    @property
    def span(self) -> Span | None:
        """Where in the source it is, if known."""
        return self._span

    @property
    def hint(self) -> str | None:
        """What to do about it, when flowql can tell."""
        return self._hint

    @property
    def fix(self) -> Fix | None:
        """The repair, as edits of the text, when there is one unambiguous repair."""
        return self._fix

    @property
    def line(self) -> int | None:
        """1-based line of the start, if known."""
        return self._span.line if self._span else None

    @property
    def column(self) -> int | None:
        """1-based column of the start, if known."""
        return self._span.column if self._span else None

    @property
    def end_line(self) -> int | None:
        """1-based line of the end, if known."""
        return self._span.end_line if self._span else None

    @property
    def end_column(self) -> int | None:
        """1-based column one past the end, if known."""
        return self._span.end_column if self._span else None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: code, severity, message, hint, the position fields and the fix
        (None, or its message, applicability and edits)."""
        return {
            "code": self._code,
            "severity": self._severity.value,
            "message": self._message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "hint": self._hint,
            "fix": self._fix.to_dict() if self._fix is not None else None,
        }

    def _key(self) -> tuple[object, ...]:
        return (self._code, self._severity, self._message, self._span, self._hint, self._fix)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        where = f" at {self._span.line}:{self._span.column}" if self._span else ""
        return f"<Diagnostic {self._code} {self._severity.value}{where}: {self._message}>"

    def __str__(self) -> str:
        where = f"{self._span.line}:{self._span.column}: " if self._span else ""
        return f"{where}{self._code} {self._message}"


def render(
    diagnostic: Diagnostic,
    source: str | None,
    filename: str | None = "<expr>",
    *,
    line_offset: int = 0,
) -> str:
    """Show a diagnostic as text with a code frame (source line, caret under the span, hint).

    ``line_offset`` shifts the displayed line numbers, for a filter embedded in a larger file.
    ``filename`` None leaves the location line out of a diagnostic about no place (a missing
    extra).
    """
    d = diagnostic
    out = [f"{d.severity.value}[{d.code}]: {d.message}"]
    span = d.span
    if span is None:
        if filename is not None:
            out.append(f" --> {filename}")
    elif source is None:
        out.append(f" --> {filename}:{span.line + line_offset}:{span.column}")
    else:
        line_no = span.line + line_offset
        out.append(f" --> {filename}:{line_no}:{span.column}")
        lines = source.split("\n")
        text = lines[span.line - 1] if span.line - 1 < len(lines) else ""
        text = text.rstrip("\r")
        start = span.column - 1
        stop = span.end_column - 1 if span.end_line == span.line else len(text)
        stop = max(stop, start + 1)
        # A long line (a 4,000-character filter) is shown as a window around the span.
        lo, hi = 0, len(text)
        if hi > _MAX_LINE:
            lo = max(0, min(start - _CONTEXT, hi - _MAX_LINE))
            hi = min(hi, max(stop + _CONTEXT, lo + _MAX_LINE // 2), lo + _MAX_LINE)
        prefix = "\u2026" if lo > 0 else ""
        suffix = "\u2026" if hi < len(text) else ""
        shown, caret_at = _display(text[lo:hi], start - lo)
        _, caret_end = _display(text[lo:hi], min(stop, hi) - lo)
        caret_at += len(prefix)
        caret_end += len(prefix)
        width = max(1, caret_end - caret_at)
        gutter = " " * len(str(line_no))
        out.append(f"{gutter} |")
        out.append(f"{line_no} | {prefix}{shown}{suffix}".rstrip())
        out.append(f"{gutter} | {' ' * caret_at}{'^' * width}")
        out.append(f"{gutter} |")
    if d.hint:
        out.append(f"  = help: {d.hint}")
    return "\n".join(out)


def render_all(
    diagnostics: Iterable[Diagnostic], source: str | None, filename: str = "<expr>"
) -> str:
    """Render several diagnostics, separated by blank lines."""
    return "\n\n".join(render(d, source, filename) for d in diagnostics)


_MAX_LINE = 100  # characters of a source line shown at most
_CONTEXT = 30  # characters shown before the span when a long line is cut


def _display(text: str, upto: int) -> tuple[str, int]:
    """The line as shown (tabs expanded, control characters replaced) and the display column of
    character ``upto`` in it, counting wide East Asian characters as two columns."""
    import unicodedata

    shown: list[str] = []
    col = 0
    caret = None
    for i, ch in enumerate(text):
        if i == upto:
            caret = col
        if ch == "\t":
            shown.append("    ")
            col += 4
        elif ch < " " or ch == "\x7f":
            shown.append("\ufffd")
            col += 1
        else:
            shown.append(ch)
            col += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    if caret is None:
        caret = col + max(0, upto - len(text))
    return "".join(shown), caret
