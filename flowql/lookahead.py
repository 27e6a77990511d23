"""What may come next in a FlowQL filter, from the grammar's own parse tables.

The REPL and the language server complete filters (and the REPL judges unfinished ones) with
the LALR(1) tables that :mod:`flowql.syntax` parses with (generated from
``grammar/flowql.lark``): the tokens before the cursor are fed through the tables, and
:func:`flowql.syntax._acceptable` (the simulation that error messages use) says which terminals
the parser could really shift next. That is the same
answer as Lark's interactive parser (``parse_interactive(text).accepts()``); a property test
checks it for many prefixes.

Terminal names are the grammar's: ``KEY``, ``COMPARE``, ``STRING``, ``NUMBER``, ``_TRUE``,
``_FALSE``, ``_AND``, ``_OR``, ``_NOT``, ``_IN``, ``_LPAR``, ``_RPAR``, ``_COMMA`` and ``$END``.
"""

from __future__ import annotations

from flowql import _tables
from flowql.syntax import Token, _acceptable, _shift, tokenize

__all__ = [
    "END",
    "Lookahead",
    "feed",
    "half_typed",
    "lookahead",
    "scan",
    "state_after",
    "unfinished",
]

END = "$END"
"""The terminal that stands for the end of the filter."""

_IGNORED = _tables.IGNORE
# tokenize() drops the leading underscore of the grammar's filtered terminals (_AND is AND).
_GRAMMAR_NAMES = {name.lstrip("_"): name for name, _ in _tables.TERMINALS if name[0] == "_"}


def scan(text: str) -> tuple[list[Token], bool]:
    """The significant tokens of ``text``, and whether the text ends inside a comment.

    The tokens are :func:`flowql.syntax.tokenize`'s, each ``kind`` renamed as the grammar names
    it (``_AND``, ``_LPAR``... for the filtered terminals); what starts no token is ``INVALID``:
    an unterminated string runs to the end of the text, a word that starts with a digit but is
    no number is taken whole."""
    tokens: list[Token] = []
    in_comment = False
    for token in tokenize(text):
        if token.kind in _IGNORED:
            in_comment = token.kind == "COMMENT" and token.end == len(text)
            continue
        in_comment = False
        token.kind = _GRAMMAR_NAMES.get(token.kind, token.kind)
        tokens.append(token)
    return tokens, in_comment


def state_after(kinds: list[str]) -> list[int] | None:
    """The parser's state stack after these terminals, or None when they are not the start of
    any filter."""
    states = [_tables.START_STATE]
    for kind in kinds:
        if not _shift(states, kind):
            return None
    return states


def feed(kinds: list[str]) -> set[str] | None:
    """The terminals that may follow this sequence of terminals, or None when the sequence is
    not the start of any filter. ``$END`` is in the set when the sequence is a whole filter."""
    states = state_after(kinds)
    return None if states is None else _acceptable(states)


class Lookahead:
    """What the parser expects after the significant tokens of a text.

    ``accepts`` is the set of terminals that may come next (None: the tokens are not the start
    of any filter, or one is not a token at all); ``error_at`` the offset of the first token the
    parser could not take; ``last_key`` the most recent key, which is the key a value in this
    position belongs to; ``tokens`` the tokens fed.
    """

    __slots__ = ("accepts", "error_at", "last_key", "tokens")

    def __init__(
        self,
        accepts: set[str] | None,
        error_at: int | None,
        last_key: str | None,
        tokens: list[Token],
    ) -> None:
        self.accepts = accepts
        self.error_at = error_at
        self.last_key = last_key
        self.tokens = tokens

    @property
    def complete(self) -> bool:
        """Whether the tokens make a whole filter."""
        return self.accepts is not None and END in self.accepts


def unfinished(text: str) -> bool:
    """Whether ``text`` is the start of a filter but not a whole one yet: a group still open, a
    string with no closing quote, an operator or keyword with nothing after it. Text that is
    wrong (or empty, or only comments) is not unfinished."""
    tokens, _ = scan(text)
    if not tokens:
        return False
    last = tokens[-1]
    if last.kind == "INVALID" and last.text[:1] in ("'", '"'):
        before = lookahead(tokens[:-1]).accepts
        return before is not None and "STRING" in before
    accepts = lookahead(tokens).accepts
    return accepts is not None and END not in accepts


def half_typed(text: str) -> str | None:
    """The operator character the text ends with (``=``, ``!`` or ``~``) when it is the first
    half of an operator where one may come (``geo_country ~``), else None."""
    tokens, _ = scan(text)
    if not tokens or tokens[-1].end != len(text):
        return None
    last = tokens[-1]
    if last.kind != "INVALID" or last.text not in ("=", "!", "~"):
        return None
    accepts = lookahead(tokens[:-1]).accepts
    return last.text if accepts is not None and "COMPARE" in accepts else None


def lookahead(tokens: list[Token]) -> Lookahead:
    """Feed the tokens (from :func:`scan`) through the parse tables."""
    states = [_tables.START_STATE]
    last_key = None
    for token in tokens:
        if token.kind == "INVALID" or not _shift(states, token.kind):
            return Lookahead(None, token.start, last_key, tokens)
        if token.kind == "KEY":
            last_key = token.text
    return Lookahead(_acceptable(states), None, last_key, tokens)
