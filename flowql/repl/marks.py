"""The inline error mark: the first error of the live check, styled where it is in the text.

It is an input processor, not part of the lexer: prompt_toolkit keeps a line's lexed fragments
for as long as the text and the lexer's ``invalidation_hash`` stay the same, and a
``PromptSession`` wraps its lexer in a ``DynamicLexer``, whose hash is the lexer's ``id()``. A
mark drawn by the lexer was therefore lexed before the live check had answered, and kept. The
processors run on every render, so the mark is drawn once the check answers (its redraw) and
is gone as soon as the text changes.
"""

from __future__ import annotations

from prompt_toolkit.layout.processors import Processor, Transformation
from prompt_toolkit.layout.utils import explode_text_fragments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from prompt_toolkit.layout.processors import TransformationInput

    from flowql.ast import Span
    from flowql.repl.session import Check

__all__ = ["MARK_STYLE", "ErrorMark", "error_span", "marked_columns"]

MARK_STYLE = "class:error-span"
"""The style class added to the marked characters (the REPL's style draws it)."""


def error_span(check: Check) -> Span | None:
    """Where the first error of the check is, when it is to be marked: not in an unfinished
    filter (the text is still being typed), nor when the error has no place or no width."""
    if check.unfinished or check.half_typed is not None or not check.errors:
        return None
    span = check.errors[0].span
    return span if span is not None and span.start < span.end else None


def marked_columns(span: Span, lineno: int, line: str) -> tuple[int, int] | None:
    """The columns (0-based, end exclusive) of line ``lineno`` (0-based) of the text that the
    span covers, or None when it covers none of it."""
    number = lineno + 1
    if not span.line <= number <= span.end_line:
        return None
    first = span.column - 1 if number == span.line else 0
    last = span.end_column - 1 if number == span.end_line else len(line)
    last = min(last, len(line))
    return (first, last) if first < last else None


class ErrorMark(Processor):
    """Adds :data:`MARK_STYLE` to the characters of the first error of the live check.

    ``current`` gives the live check's result for a text, or None when there is none for it
    yet (the check is of another text, or of other settings): then nothing is marked, rather
    than a place that may be wrong.
    """

    def __init__(self, current: Callable[[str], Check | None]) -> None:
        self.current = current

    def apply_transformation(self, transformation_input: TransformationInput) -> Transformation:
        """The line's fragments with the error's characters marked."""
        ti = transformation_input
        check = self.current(ti.document.text)
        span = error_span(check) if check is not None else None
        lines = ti.document.lines
        columns = (
            marked_columns(span, ti.lineno, lines[ti.lineno])
            if span is not None and ti.lineno < len(lines)
            else None
        )
        if columns is None:
            return Transformation(ti.fragments)
        # Earlier processors may have moved the text (they map its columns to the screen's).
        first, last = ti.source_to_display(columns[0]), ti.source_to_display(columns[1])
        fragments = explode_text_fragments(ti.fragments)
        for index in range(first, min(last, len(fragments))):
            fragment = fragments[index]
            style = f"{fragment[0]} {MARK_STYLE}"
            fragments[index] = (
                (style, fragment[1], fragment[2]) if len(fragment) == 3 else (style, fragment[1])
            )
        return Transformation(fragments)
