"""Completion of a filter: what may be typed at the cursor, from the grammar and the data model.

:func:`complete_filter` looks at the text before the cursor and answers with :class:`Candidate`
values. The grammar decides what kind of thing comes next (:mod:`flowql.lookahead`: the parser's
own tables), and a :class:`FilterSource` fills it in:

- where a key may come: the keys of the data model (for the current flow), labels as meta;
- after a key: the operators (only those the field takes, when the model says), ``IN``,
  ``NOT IN``;
- after a value or a closing ``)``: ``AND``, ``OR``, ``)`` when a group is open, ``,`` in a list;
- where a value may come: the values known for that key, quoted; ``true``/``false`` for a
  boolean key.

The word being typed is the prefix: ``geo_cou`` completes to keys that start with it (then keys
that contain it), ``~`` to ``~~``, and inside an open string (``key == 'Sp``) the candidates are
that key's values starting with ``Sp``. A candidate replaces the word (``start`` is negative).

The REPL (:mod:`flowql.repl.completion`, which adds its commands) and the language server
(:mod:`flowql.server`) both complete with it.
"""

from __future__ import annotations

import re

from flowql.lookahead import lookahead, scan
from flowql.syntax import Token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Protocol

    from flowql.model import Dimension

    class FilterSource(Protocol):
        """What completing a filter needs: the keys and values known where it is typed."""

        def keys(self) -> Mapping[str, Dimension]:
            """The keys a filter may use now, by name."""

        def dimension(self, key: str) -> Dimension | None:
            """The dimension a key names, or None when the model does not have it."""

        def values(self, key: str) -> Sequence[tuple[str, str]]:
            """Known values of a key, each with where it is known from."""


__all__ = ["OPERATORS", "Candidate", "complete_filter"]

OPERATORS = {
    "==": "equals",
    "!=": "does not equal",
    "~~": "contains",
    "!~": "does not contain",
}
"""The comparison operators, with what each means."""


class Candidate:
    """One completion: the text to insert, how many characters before the cursor it replaces
    (``start``, zero or negative, as prompt_toolkit's ``start_position``), what to show, a
    description (``meta``) and a ``kind`` (``key``, ``operator``, ``keyword``, ``value``,
    ``punctuation``, ``command`` or ``argument``)."""

    __slots__ = ("display", "kind", "meta", "start", "text")

    def __init__(
        self, text: str, start: int, kind: str, meta: str = "", display: str | None = None
    ) -> None:
        self.text = text
        self.start = start
        self.kind = kind
        self.meta = meta
        self.display = display if display is not None else text.strip()

    def __repr__(self) -> str:
        return f"Candidate({self.text!r}, {self.start}, {self.kind!r})"


# --- filters --------------------------------------------------------------------------------

_KEYWORDS = {"_AND": "AND", "_OR": "OR", "_IN": "IN", "_NOT": "NOT"}
_KEYWORD_META = {
    "AND": "both hold",
    "OR": "either holds",
    "IN": "one of a list",
    "NOT IN": "none of a list",
    "NOT": "negates what follows",
}
_VALUE_TERMINALS = frozenset({"STRING", "NUMBER", "_TRUE", "_FALSE"})
# The last token is the word being typed when it ends at the cursor and is one of these: a key
# or keyword being typed, a number, an operator (or a half of one).
_WORDS = frozenset({"KEY", "_AND", "_OR", "_NOT", "_IN", "_TRUE", "_FALSE", "NUMBER", "COMPARE"})
_PARTIAL = re.compile(r"[=!~]|[A-Za-z0-9_.-]+")
_ESCAPE = re.compile(r"\\([\s\S])")


def complete_filter(text: str, source: FilterSource) -> list[Candidate]:
    """The candidates at the end of ``text``, a filter being typed."""
    tokens, in_comment = scan(text)
    if in_comment:
        return []
    word: Token | None = None
    if tokens and tokens[-1].end == len(text):
        last = tokens[-1]
        if last.kind in _WORDS or (last.kind == "INVALID" and _is_partial(last.text)):
            word = last
    before = tokens[:-1] if word is not None else tokens
    ahead = lookahead(before)
    accepts = ahead.accepts
    if accepts is None:
        return []
    prefix = word.text if word is not None else ""
    start = -len(prefix)
    after_key = bool(before) and before[-1].kind == "KEY"
    dimension = source.dimension(ahead.last_key) if ahead.last_key else None
    out: list[Candidate] = []

    if accepts & _VALUE_TERMINALS and ahead.last_key is not None:
        out.extend(_values(ahead.last_key, dimension, prefix, start, source))
    if "KEY" in accepts and not (word is not None and word.text.startswith(("'", '"'))):
        for key, dim in _matching(source.keys().items(), prefix):
            out.append(Candidate(key, start, "key", dim.label if dim.label != key else ""))
    if "COMPARE" in accepts:
        allowed = dimension.operators if dimension is not None else None
        for op, meaning in OPERATORS.items():
            if (allowed is None or op in allowed) and op.startswith(prefix):
                out.append(Candidate(op, start, "operator", meaning))
    for terminal in ("_IN", "_NOT", "_AND", "_OR"):
        if terminal not in accepts:
            continue
        keyword = _KEYWORDS[terminal]
        if terminal == "_NOT" and after_key:
            keyword = "NOT IN"
        allowed = dimension.operators if after_key and dimension is not None else None
        if allowed is not None and keyword not in allowed:
            continue
        if keyword.lower().startswith(prefix.lower()):
            out.append(Candidate(keyword, start, "keyword", _KEYWORD_META[keyword]))
    if not prefix:
        if "_COMMA" in accepts:
            out.append(Candidate(",", 0, "punctuation", "another value"))
        if "_RPAR" in accepts:
            out.append(Candidate(")", 0, "punctuation", "close the group"))
        if accepts == {"_LPAR"}:
            out.append(Candidate("(", 0, "punctuation", "the list of values"))
        # A word straight after a value or ')' needs a space before it.
        if text and not text[-1].isspace() and text[-1] not in "(":
            for candidate in out:
                if candidate.kind != "punctuation":
                    candidate.text = " " + candidate.text
    return out


def _is_partial(text: str) -> bool:
    return text[:1] in ("'", '"') or _PARTIAL.fullmatch(text) is not None


def _matching(items: Iterable[tuple[str, Dimension]], prefix: str) -> list[tuple[str, Dimension]]:
    """Items whose name starts with the prefix (any case), then those that contain it (for a
    prefix of two characters or more: one matches too much)."""
    wanted = prefix.lower()
    first: list[tuple[str, Dimension]] = []
    then: list[tuple[str, Dimension]] = []
    for name, item in sorted(items):
        lowered = name.lower()
        if lowered.startswith(wanted):
            first.append((name, item))
        elif len(wanted) > 1 and wanted in lowered:
            then.append((name, item))
    return first + then


def _values(
    key: str, dimension: Dimension | None, prefix: str, start: int, source: FilterSource
) -> list[Candidate]:
    out: list[Candidate] = []
    if dimension is not None and dimension.type == "boolean":
        for word in ("true", "false"):
            if word.startswith(prefix.lower()):
                out.append(Candidate(word, start, "value", f"{key} is {word}"))
        return out
    quote = "'"
    body = prefix
    if prefix[:1] in ("'", '"'):
        quote = prefix[0]
        body = _ESCAPE.sub(r"\1", prefix[1:])
    wanted = body.lower()
    first: list[Candidate] = []
    then: list[Candidate] = []
    for value, where in source.values(key):
        lowered = value.lower()
        if lowered.startswith(wanted):
            first.append(Candidate(_quote(value, quote), start, "value", where))
        elif len(wanted) > 1 and wanted in lowered:
            then.append(Candidate(_quote(value, quote), start, "value", where))
    return first + then


def _quote(value: str, quote: str) -> str:
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"
