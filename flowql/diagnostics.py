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
    from collections.abc import Callable, Iterable

    from flowql.ast import Span
    from flowql.fixes import Fix

__all__ = [
    "Diagnostic",
    "Severity",
    "clip",
    "closest",
    "did_you_mean",
    "paint",
    "render",
    "severity_style",
]


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
    color: bool = False,
) -> str:
    """Show a diagnostic as text with a code frame (source lines, carets under the span, hint).

    A span over several lines shows each of them, underlined from where the span starts to where
    it ends (a long one with its middle lines left out). ``line_offset`` shifts the displayed
    line numbers, for a filter embedded in a larger file; ``color`` adds ANSI colours, for a
    terminal. ``filename`` None leaves the location line out of a diagnostic about no place (a
    missing extra).
    """
    d = diagnostic
    paint = _painter(color)
    level = severity_style(d.severity)
    out = [paint(f"{d.severity.value}[{d.code}]", level) + paint(f": {d.message}", _BOLD)]
    arrow = paint("-->", _GUTTER)
    span = d.span
    if span is None:
        if filename is not None:
            out.append(f" {arrow} {filename}")
    elif source is None:
        out.append(f" {arrow} {filename}:{span.line + line_offset}:{span.column}")
    else:
        out.append(f" {arrow} {filename}:{span.line + line_offset}:{span.column}")
        rows = _underlined(span, source.split("\n"))
        width = len(str(max(n for n, _, _, _ in rows) + line_offset)) if rows else 1
        bar = paint(" " * width + " |", _GUTTER)
        out.append(bar)
        for number, text, caret_at, caret_width in rows:
            if number == 0:
                out.append(paint("...", _GUTTER))
                continue
            out.append((paint(f"{number + line_offset:>{width}} |", _GUTTER) + f" {text}").rstrip())
            if caret_width:
                out.append(f"{bar} {' ' * caret_at}{paint('^' * caret_width, level)}")
        out.append(bar)
    if d.hint:
        out.append(f"  {paint('=', _GUTTER)} {paint('help', _BOLD)}: {d.hint}")
    return "\n".join(out)


def _underlined(span: Span, lines: list[str]) -> list[tuple[int, str, int, int]]:
    """The rows of a code frame: (line number, the line as shown, display column of the first
    caret, how many carets), a line number of 0 standing for lines left out."""
    first = span.line
    last = min(max(span.end_line, first), len(lines))
    if last > first and span.end_column <= 1:
        last -= 1  # the span ends where a line begins: that line has nothing of it
    if first > len(lines) or last == first:
        text = lines[first - 1].rstrip("\r") if first <= len(lines) else ""
        start = span.column - 1
        stop = span.end_column - 1 if span.end_line == span.line else len(text)
        return [(first, *_window(text, start, max(stop, start + 1)))]
    numbers = list(range(first, last + 1))
    if len(numbers) > _MAX_LINES:
        head = _MAX_LINES // 2
        numbers = [*numbers[:head], 0, *numbers[head - _MAX_LINES + 1 :]]
    rows = []
    for number in numbers:
        if number == 0:
            rows.append((0, "", 0, 0))
            continue
        text = lines[number - 1].rstrip("\r")
        # Each line is underlined where the span covers text: from the span's start (or the
        # line's first character) to its end (or the line's last).
        start = span.column - 1 if number == first else len(text) - len(text.lstrip())
        stop = span.end_column - 1 if number == span.end_line else len(text.rstrip())
        if stop <= start:
            rows.append((number, _window(text, 0, 0)[0], 0, 0))
        else:
            rows.append((number, *_window(text, start, stop)))
    return rows


def _window(text: str, start: int, stop: int) -> tuple[str, int, int]:
    """A source line as shown, the display column where ``start`` is and the display width up
    to ``stop``: a long line (a 4,000-character filter) is a window around the span."""
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
    width = max(1, caret_end - caret_at) if stop > start else 0
    return f"{prefix}{shown}{suffix}", caret_at, width


def render_all(
    diagnostics: Iterable[Diagnostic], source: str | None, filename: str = "<expr>"
) -> str:
    """Render several diagnostics, separated by blank lines."""
    return "\n\n".join(render(d, source, filename) for d in diagnostics)


_MAX_LINE = 100  # characters of a source line shown at most
_CONTEXT = 30  # characters shown before the span when a long line is cut
_MAX_LINES = 8  # lines of a multi-line span shown at most: the first and last ones

# ANSI styles (SGR parameters), as ruff and rustc colour their frames; plain escape codes, so
# that colour costs no import.
_BOLD = "1"
_GUTTER = "1;34"
_LEVEL_STYLES = {"error": "1;31", "warning": "1;33", "info": "1;36"}


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return _plain
    return paint


def _plain(text: str, style: str) -> str:
    return text


def paint(text: str, style: str) -> str:
    """``text`` in an ANSI style (SGR parameters such as ``"1;31"``, bold red)."""
    return f"\x1b[{style}m{text}\x1b[0m" if text else text


def severity_style(severity: Severity) -> str:
    """The ANSI style of a severity in frames and reports: bold red, yellow or cyan."""
    return _LEVEL_STYLES.get(severity.value, _BOLD)


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
