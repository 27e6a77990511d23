"""``# noqa`` comments: the findings a ``.flowql`` file or a query manifest suppresses.

:func:`noqa_comments` finds every ``# noqa`` (or ``# noqa: FQ101, FQ2``) comment with its span
and codes; :func:`noqa_lines` maps each line to the codes suppressed there (None: all of them).
In a manifest, only comments on a filter's lines count (TOML's own comments are read by
:func:`flowql.checker.manifest.scan_toml`).
"""

from __future__ import annotations

import re

from flowql.ast import Span
from flowql.checker.manifest import scan_toml

__all__ = ["Noqa", "noqa_comments", "noqa_lines"]


class Noqa:
    """A ``# noqa`` comment: where it is (1-based line, column of its ``#``, column one past its
    last code; offsets ``start``/``end`` into the text) and the codes or prefixes it names,
    upper-cased, or None for a bare ``# noqa`` (every code). Immutable."""

    __slots__ = ("codes", "column", "end", "end_column", "line", "start")

    line: int
    column: int
    end_column: int
    codes: frozenset[str] | None
    start: int
    end: int

    def __init__(
        self,
        line: int,
        column: int,
        end_column: int,
        codes: frozenset[str] | None,
        start: int = 0,
        end: int = 0,
    ) -> None:
        for field, value in (
            ("line", line),
            ("column", column),
            ("end_column", end_column),
            ("codes", codes),
            ("start", start),
            ("end", end),
        ):
            object.__setattr__(self, field, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Noqa is immutable: cannot set {name!r}")

    @property
    def span(self) -> Span:
        """The comment's ``# noqa...`` part, as a span."""
        return Span(self.start, self.end, self.line, self.column, self.line, self.end_column)

    def suppresses(self, code: str) -> bool:
        """Whether the comment silences ``code``: a bare noqa does; otherwise one of its codes
        must be a prefix of it."""
        if self.codes is None:
            return True
        return any(code.upper().startswith(c) for c in self.codes)

    def _key(self) -> tuple[object, ...]:
        return (self.line, self.column, self.end_column, self.codes, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Noqa):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        codes = "all" if self.codes is None else ",".join(sorted(self.codes)) or "none"
        return f"Noqa({self.line}:{self.column}-{self.end_column}, {codes})"


_CODE = r"FQ[0-9]*(?![A-Za-z0-9_])"
_NOQA = re.compile(
    rf"#[ \t]*noqa(?![A-Za-z0-9_-])"
    rf"(?:[ \t]*(?P<colon>:)[ \t]*|[ \t]+)?"
    rf"(?P<codes>{_CODE}(?:[ \t]*,?[ \t]*{_CODE})*)?",
    re.IGNORECASE,
)
_CODE_RE = re.compile(_CODE, re.IGNORECASE)


def _noqa_in(comment: str) -> tuple[int, int, frozenset[str] | None] | None:
    """The first noqa in a comment's text: its start, end, and codes (None: every code).
    ``# noqa: text`` with no code suppresses nothing (an empty set), never everything."""
    match = _NOQA.search(comment)
    if match is None:
        return None
    codes_text = match.group("codes")
    if codes_text:
        codes: frozenset[str] | None = frozenset(c.upper() for c in _CODE_RE.findall(codes_text))
    elif match.group("colon"):
        codes = frozenset()
    else:
        codes = None
    end = len(match.group().rstrip(" \t")) + match.start()
    return match.start(), end, codes


def noqa_comments(text: str, *, manifest: bool = False) -> list[Noqa]:
    """The ``# noqa`` comments of a ``.flowql`` file's text (FlowQL comments) or of a manifest
    (TOML comments, and FlowQL comments inside the ``filter`` strings of its queries), in the
    order of the text. ``# noqa`` inside a quoted value is text, not a comment."""
    from flowql.syntax import tokenize

    found: list[Noqa] = []
    if not manifest:
        for token in tokenize(text):
            if token.kind == "COMMENT":
                hit = _noqa_in(token.text)
                if hit is not None:
                    found.append(_noqa(text, token.start + hit[0], token.start + hit[1], hit[2]))
        return found
    scanner = scan_toml(text)
    for start, end in scanner.comments:
        hit = _noqa_in(text[start:end])
        if hit is not None:
            found.append(_noqa(text, start + hit[0], start + hit[1], hit[2]))
    for path, entry in scanner.entries.items():
        string = entry.string
        if (
            string is None
            or len(path) != 3
            or path[0] != "query"
            or not isinstance(path[1], int)
            or path[2] not in ("filter",)
        ):
            continue
        for token in tokenize(string.value):
            if token.kind != "COMMENT":
                continue
            hit = _noqa_in(token.text)
            if hit is not None:
                first = token.start + hit[0]
                last = token.start + hit[1] - 1
                found.append(_noqa(text, string.starts[first], string.ends[last], hit[2]))
    found.sort(key=lambda n: n.start)
    return found


def _noqa(text: str, start: int, end: int, codes: frozenset[str] | None) -> Noqa:
    span = Span.from_offsets(text, start, end)
    end_column = span.end_column if span.end_line == span.line else span.column + (end - start)
    return Noqa(span.line, span.column, end_column, codes, start, end)


def noqa_lines(text: str, *, manifest: bool = False) -> dict[int, frozenset[str] | None]:
    """The lines that carry a ``# noqa`` comment and the codes it names (None: every code);
    see :func:`noqa_comments` for where and what."""
    lines: dict[int, frozenset[str] | None] = {}
    for noqa in noqa_comments(text, manifest=manifest):
        if noqa.line in lines:
            before = lines[noqa.line]
            lines[noqa.line] = None if before is None or noqa.codes is None else before | noqa.codes
        else:
            lines[noqa.line] = noqa.codes
    return lines
