"""Fixes: the repair a diagnostic carries, as data.

An :class:`Edit` replaces the text between two offsets of the checked text; a :class:`Fix` is
the edits of one repair, with its :class:`Applicability`: ``safe`` fixes never change what a
filter means (or, for a filter that does not parse, make it mean the one thing it evidently
meant), ``unsafe`` ones may (a misspelt key replaced by the one the model has).
``flowql check --fix`` applies the safe ones, ``--unsafe-fixes`` the others too; the language
server and the REPL apply the same edits. :func:`apply_fixes` applies what does not overlap.
"""

from __future__ import annotations

import enum
import itertools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Applicability", "Edit", "Fix", "apply_fixes"]


class Applicability(str, enum.Enum):
    """Whether a fix may be applied without asking."""

    SAFE = "safe"
    """It keeps the filter's meaning: ``flowql check --fix`` applies it."""
    UNSAFE = "unsafe"
    """It may change the meaning: applied only with ``--unsafe-fixes``."""

    def __str__(self) -> str:
        return self.value


class Edit:
    """Replace ``text[start:end]`` with ``replacement`` (``start == end`` inserts). Immutable."""

    __slots__ = ("_end", "_replacement", "_start")

    def __init__(self, start: int, end: int, replacement: str) -> None:
        if not 0 <= start <= end:
            raise ValueError(f"an edit needs 0 <= start <= end, not {start}, {end}")
        self._start = start
        self._end = end
        self._replacement = replacement

    @property
    def start(self) -> int:
        """Offset of the first character replaced."""
        return self._start

    @property
    def end(self) -> int:
        """Offset one past the last character replaced."""
        return self._end

    @property
    def replacement(self) -> str:
        """The new text."""
        return self._replacement

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: start, end, replacement."""
        return {"start": self._start, "end": self._end, "replacement": self._replacement}

    def _key(self) -> tuple[int, int, str]:
        return (self._start, self._end, self._replacement)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Edit):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Edit({self._start}, {self._end}, {self._replacement!r})"


class Fix:
    """The edits of one repair (sorted, not overlapping), how safe it is, and what it does in a
    few words (``replace '=' with '=='``). Immutable."""

    __slots__ = ("_applicability", "_edits", "_message")

    def __init__(
        self,
        edits: Iterable[Edit],
        message: str,
        applicability: Applicability = Applicability.SAFE,
    ) -> None:
        ordered = tuple(sorted(edits, key=lambda e: (e.start, e.end)))
        if not ordered:
            raise ValueError("a fix needs at least one edit")
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ValueError("the edits of a fix overlap")
        self._edits = ordered
        self._message = message
        self._applicability = Applicability(applicability)

    @property
    def edits(self) -> tuple[Edit, ...]:
        """The edits, in text order."""
        return self._edits

    @property
    def message(self) -> str:
        """What the fix does, such as ``replace '=' with '=='``."""
        return self._message

    @property
    def applicability(self) -> Applicability:
        """Safe or unsafe."""
        return self._applicability

    @property
    def safe(self) -> bool:
        """Whether it keeps the filter's meaning."""
        return self._applicability is Applicability.SAFE

    @property
    def start(self) -> int:
        """Offset of the first character the fix touches."""
        return self._edits[0].start

    @property
    def end(self) -> int:
        """Offset one past the last character the fix touches."""
        return self._edits[-1].end

    def apply(self, text: str) -> str:
        """``text`` with the edits made."""
        return apply_fixes(text, [self])[0]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: message, applicability and the edits."""
        return {
            "message": self._message,
            "applicability": self._applicability.value,
            "edits": [e.to_dict() for e in self._edits],
        }

    def _key(self) -> tuple[object, ...]:
        return (self._edits, self._message, self._applicability)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fix):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Fix({list(self._edits)!r}, {self._message!r}, {self._applicability.value})"


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """``text`` with as many of ``fixes`` made as do not overlap one another (earlier ones
    first; a fix equal to one made is made once), and how many were made. A fix whose edits
    reach past the end of ``text`` is left out."""
    chosen: list[Fix] = []
    for fix in sorted(set(fixes), key=lambda f: (f.start, f.end)):
        if fix.end > len(text):
            continue
        # Touching is overlapping too: two insertions at one offset have no agreed order.
        if chosen and not _disjoint(chosen[-1], fix):
            continue
        chosen.append(fix)
    if not chosen:
        return text, 0
    edits = sorted((e for f in chosen for e in f.edits), key=lambda e: (e.start, e.end))
    out: list[str] = []
    at = 0
    for edit in edits:
        out.append(text[at : edit.start])
        out.append(edit.replacement)
        at = edit.end
    out.append(text[at:])
    return "".join(out), len(chosen)


def _disjoint(first: Fix, second: Fix) -> bool:
    """Whether the second fix (starting at or after the first) touches none of its text: it
    starts after the first's last edit ends, and a zero-width edit is not at that end."""
    if second.start > first.end:
        return True
    return (
        second.start == first.end
        and first.edits[-1].start < first.end
        and (second.edits[0].end > second.start)
    )
