"""The Conviva DPI Flow API's ``filter`` syntax as the sandbox reads it: a reader and an
evaluator of its own.

This is the server's independent reading of Conviva's DPI Flow API guide, deliberately not
flowql's parser (:mod:`flowql.syntax`) nor its targets (:mod:`flowql.targets.conviva_flow`,
:mod:`flowql.targets.python`): a client tested against the sandbox is tested against a second
reading of the same rules, so a disagreement between the two is a finding.

What the guide gives: comparisons ``key == 'value'``, with the operators ``==`` (equals), ``!=``
(not equals), ``~~`` (contains substring) and ``!~`` (does not contain), values in single
quotes, ``AND``, ``OR`` and ``( )`` "for precedence", in "a syntax similar to SQL WHERE
clause". Where it is silent, the sandbox reads it as SQL would:

- ``AND`` binds tighter than ``OR``; parentheses group;
- the keywords ``AND`` and ``OR`` are read in any case (``and``, ``Or``);
- white space (spaces, tabs, line breaks) is optional between the parts of a filter;
- a ``'`` inside a value is written ``\\'`` and a backslash ``\\\\`` (the escape flowql
  decided to send, SQL having no backslash escapes; ``\\"`` is read as ``"`` too); any other
  backslash escape is refused, and so is SQL's doubled ``''``;
- comparisons are case-sensitive, as the Sessions V3 guide says of its dimension values.

What the guide does not have is refused with a message saying what to write instead: ``NOT``,
``IN``, double quotes, unquoted values (numbers, ``true``), ``=``, ``<>``, ``&&``, comments.

>>> tree = parse("(device_operating_system == 'Android' AND geo_country == 'Spain')")
>>> tree
Group('AND', (Condition('device_operating_system', '==', 'Android'), \
Condition('geo_country', '==', 'Spain')))
>>> holds(tree, {"device_operating_system": "Android", "geo_country": "Spain"})
True
>>> keys(parse("a ~~ 'x' OR (b !~ 'y' AND a != 'z')"))
['a', 'b']
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeAlias

    Filter: TypeAlias = "Condition | Group"
    Predicate: TypeAlias = "Callable[[Mapping[str, object]], bool]"

__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "FilterSyntaxError",
    "Group",
    "Condition",
    "holds",
    "keys",
    "parse",
    "predicate",
]

OPERATORS = ("==", "!=", "~~", "!~")
"""The comparison operators of the guide."""

MAX_DEPTH = 100
"""The deepest nesting of parentheses read (the server's stack is finite; a URL of 4K characters
could hold 2,000 of them)."""

_SPACE = frozenset(" \t\r\n\f\v")
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_WORD = _WORD_START | frozenset("0123456789.-")
_DIGITS = frozenset("0123456789")
_ESCAPES = {"'": "'", "\\": "\\", '"': '"'}
_TYPOGRAPHIC = frozenset("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u00b4")
# Reserved in any case, never read as a key: the two connectives, and the words of FlowQL and SQL
# a client might send (named in the error).
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "TRUE", "FALSE"})


class FilterSyntaxError(ValueError):
    """Text that is not a Flow API filter: ``message`` says why, ``position`` (0-based) where,
    and ``where`` the same for people: ``column 7``, or ``line 2, column 3`` in a filter of
    several lines."""

    def __init__(self, message: str, position: int, text: str = "") -> None:
        self.message = message
        self.position = position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        self.where = f"line {line}, column {column}" if "\n" in text else f"column {column}"
        super().__init__(f"{message} (at {self.where})")


class Condition:
    """One comparison: ``key``, ``op`` (one of :data:`OPERATORS`) and the ``value`` text."""

    __slots__ = ("key", "op", "value")

    def __init__(self, key: str, op: str, value: str) -> None:
        self.key = key
        self.op = op
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return (self.key, self.op, self.value) == (other.key, other.op, other.value)

    def __hash__(self) -> int:
        return hash((self.key, self.op, self.value))

    def __repr__(self) -> str:
        return f"Condition({self.key!r}, {self.op!r}, {self.value!r})"


class Group:
    """``AND`` or ``OR`` (``kind``) of two or more ``parts``."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, parts: tuple[Filter, ...]) -> None:
        self.kind = kind
        self.parts = parts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return (self.kind, self.parts) == (other.kind, other.parts)

    def __hash__(self) -> int:
        return hash((self.kind, self.parts))

    def __repr__(self) -> str:
        return f"Group({self.kind!r}, {self.parts!r})"


def parse(text: str) -> Filter:
    """The filter ``text`` (already percent-decoded) as a tree. ``a AND b AND c`` is one group
    of three, and so is ``a AND (b AND c)``: parentheses leave no node of their own. Raises
    :class:`FilterSyntaxError`."""
    try:
        return _Parser(text).run()
    except _Error as exc:
        raise FilterSyntaxError(exc.message, exc.position, text) from None


def keys(tree: Filter) -> list[str]:
    """The dimension keys a filter compares, each once, in the order they first appear."""
    found: dict[str, None] = {}
    stack: list[Filter] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Condition):
            found.setdefault(node.key)
        else:
            stack.extend(reversed(node.parts))
    return list(found)


# --- reading ----------------------------------------------------------------------------------


class _Error(Exception):
    """A reading error before it knows the text (see :class:`FilterSyntaxError`)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Token:
    __slots__ = ("kind", "start", "text", "value")

    def __init__(self, kind: str, start: int, text: str, value: str = "") -> None:
        self.kind = kind  # WORD, STRING, NUMBER, OP, (, ), END
        self.start = start
        self.text = text
        self.value = value

    def shown(self) -> str:
        """How a message names this token."""
        if self.kind == "END":
            return "the end of the filter"
        if self.kind == "STRING":
            return f"the value {_clip(self.text)}"
        if self.kind == "WORD" and self.text.upper() in _KEYWORDS:
            return self.text.upper()
        if self.kind == "WORD":
            return f"the key {_clip(self.text)}"
        return repr(_clip(self.text))


def _clip(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _next_token(text: str, at: int) -> _Token:
    """The token at or after ``at`` (white space skipped; END at the end); raises for a
    character no token starts with."""
    size = len(text)
    while at < size and text[at] in _SPACE:
        at += 1
    if at >= size:
        return _Token("END", size, "")
    char = text[at]
    two = text[at : at + 2]
    if char in "()":
        return _Token(char, at, char)
    if two in OPERATORS:
        return _Token("OP", at, two)
    if char == "'":
        return _string(text, at)
    if char in _WORD_START or char in _DIGITS or (char == "-" and text[at + 1 : at + 2] in _DIGITS):
        # A number is read as a word too: the parser says it needs quotes.
        end = at + 1
        while end < size and text[end] in _WORD:
            end += 1
        kind = "WORD" if char in _WORD_START else "NUMBER"
        return _Token(kind, at, text[at:end])
    raise _Error(_stray(text, at), at)


def _stray(text: str, at: int) -> str:
    """The message for a character that starts no token at ``at``."""
    char = text[at]
    two = text[at : at + 2]
    if char == '"':
        return "values are written in single quotes ('...'), not double quotes"
    if char in _TYPOGRAPHIC:
        return f"{char!r} is a typographic quote: write values in plain single quotes ('...')"
    if char == "=":
        return "a single '=' is not an operator: write '==' (equals) or '!=' (not equals)"
    if two == "<>":
        return "'<>' is not an operator: write '!=' (not equals)"
    if char in "<>":
        return (
            f"{char!r} is not an operator: a filter compares text with == (equals), "
            "!= (not equals), ~~ (contains) and !~ (does not contain)"
        )
    if char in "!~":
        return f"{char!r} is not an operator: write '!=', '~~' or '!~'"
    if two in ("&&", "||"):
        return f"{two!r} is not an operator: write {'AND' if two == '&&' else 'OR'}"
    if char == "#":
        return "a filter has no comments"
    if char == ",":
        return "a ',' is not part of a filter: combine conditions with AND or OR"
    return f"unexpected character {char!r}"


def _string(text: str, start: int) -> _Token:
    """The single-quoted value starting at ``start``, its escapes decoded."""
    parts: list[str] = []
    at = start + 1
    size = len(text)
    while True:
        if at >= size:
            raise _Error(
                "the value is never closed: add the closing ' (a quote inside a value is "
                "written \\')",
                start,
            )
        char = text[at]
        if char == "'":
            return _Token("STRING", start, text[start : at + 1], "".join(parts))
        if char == "\\":
            escaped = text[at + 1 : at + 2]
            if not escaped:
                raise _Error("the filter ends inside a value, after a backslash", at)
            if escaped not in _ESCAPES:
                raise _Error(
                    f"'\\{escaped}' is not an escape the filter syntax has: \\' is a quote, "
                    "\\\\ a backslash",
                    at,
                )
            parts.append(_ESCAPES[escaped])
            at += 2
        else:
            parts.append(char)
            at += 1


def _group(kind: str, parts: list[Filter]) -> Filter:
    """One part alone, or a group of them, a part that is a group of the same kind merged in
    (``a AND (b AND c)`` is ``a AND b AND c``)."""
    if len(parts) == 1:
        return parts[0]
    merged: list[Filter] = []
    for part in parts:
        if isinstance(part, Group) and part.kind == kind:
            merged.extend(part.parts)
        else:
            merged.append(part)
    return Group(kind, tuple(merged))


class _Parser:
    """Recursive descent over the tokens: ``or := and (OR and)*``, ``and := primary (AND
    primary)*``, ``primary := '(' or ')' | key op 'value'``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[_Token] = []  # read so far: the lexer runs one token ahead at most
        self.at = 0

    def peek(self, ahead: int = 0) -> _Token:
        while len(self.tokens) <= self.at + ahead:
            last = self.tokens[-1] if self.tokens else None
            if last is not None and last.kind == "END":
                return last
            start = last.start + len(last.text) if last is not None else 0
            self.tokens.append(_next_token(self.text, start))
        return self.tokens[self.at + ahead]

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "WORD" and token.text.upper() == word

    def run(self) -> Filter:
        if self.peek().kind == "END":
            raise _Error("the filter is empty", 0)
        tree = self.either(0)
        token = self.peek()
        if token.kind == ")":
            raise _Error("this ')' has no '(' to close", token.start)
        if token.kind != "END":
            raise self.after_condition(token)
        return tree

    def after_condition(self, token: _Token) -> _Error:
        previous = self.tokens[self.at - 1]
        if (
            token.kind == "STRING"
            and previous.kind == "STRING"
            and previous.start + len(previous.text) == token.start
        ):
            return _Error("a quote inside a value is written \\', not ''", token.start - 1)
        return _Error(
            f"expected AND, OR or the end of the filter after a condition, found {token.shown()}",
            token.start,
        )

    def either(self, depth: int) -> Filter:
        parts = [self.both(depth)]
        while self.is_word("OR"):
            self.at += 1
            parts.append(self.both(depth))
        return _group("OR", parts)

    def both(self, depth: int) -> Filter:
        parts = [self.primary(depth)]
        while self.is_word("AND"):
            self.at += 1
            parts.append(self.primary(depth))
        return _group("AND", parts)

    def primary(self, depth: int) -> Filter:
        token = self.peek()
        if token.kind == "(":
            if depth >= MAX_DEPTH:
                raise _Error(
                    f"the filter nests parentheses deeper than {MAX_DEPTH} levels", token.start
                )
            self.at += 1
            tree = self.either(depth + 1)
            close = self.peek()
            if close.kind != ")":
                if close.kind == "END":
                    raise _Error(
                        f"the '(' at character {token.start + 1} is never closed", close.start
                    )
                raise self.after_condition(close)
            self.at += 1
            return tree
        return self.test()

    def test(self) -> Condition:
        key = self.peek()
        if key.kind != "WORD" or key.text.upper() in _KEYWORDS:
            raise _Error(self.not_a_key(key), key.start)
        if not all(part[:1] in _WORD_START for part in key.text.split(".")):
            raise _Error(
                f"{_clip(key.text)!r} is not a dimension key: a key is letters, digits, _ and -, "
                "starting with a letter or _, in parts joined by dots",
                key.start,
            )
        self.at += 1
        op = self.peek()
        if op.kind != "OP":
            raise _Error(self.not_an_operator(key, op), op.start)
        self.at += 1
        value = self.peek()
        if value.kind != "STRING":
            raise _Error(self.not_a_value(value), value.start)
        self.at += 1
        return Condition(key.text, op.text, value.value)

    def not_a_key(self, token: _Token) -> str:
        word = token.text.upper() if token.kind == "WORD" else ""
        if word == "NOT":
            return (
                "NOT is not part of the Flow API filter syntax: negate the comparison instead "
                "(== and != swap, ~~ and !~ swap, AND and OR swap)"
            )
        if token.kind == "STRING":
            return f"a condition starts with the dimension key, not {token.shown()}: key == 'value'"
        if token.kind == "END":
            return "the filter ends where a condition should be: key == 'value'"
        return f"expected a dimension key, found {token.shown()}"

    def not_an_operator(self, key: _Token, token: _Token) -> str:
        word = token.text.upper() if token.kind == "WORD" else ""
        if word == "IN" or (word == "NOT" and self.peek(1).text.upper() == "IN"):
            negated = word == "NOT"
            instead = (
                f"{key.text} != 'x' AND {key.text} != 'y'"
                if negated
                else f"{key.text} == 'x' OR {key.text} == 'y'"
            )
            return (
                f"{'NOT IN' if negated else 'IN'} is not part of the Flow API filter syntax: "
                f"write {instead}"
            )
        if word == "NOT":
            return "NOT is not part of the Flow API filter syntax: write != or !~"
        if word in ("LIKE", "IS"):
            return f"{word} is not part of the Flow API filter syntax: write ~~ (contains)"
        shown = token.shown()
        return f"expected an operator (==, !=, ~~, !~) after the key {key.text!r}, found {shown}"

    def not_a_value(self, token: _Token) -> str:
        if token.kind in ("WORD", "NUMBER"):
            text = _clip(token.text)
            return f"the value {text} must be in single quotes: '{text}'"
        if token.kind == "END":
            return "the filter ends where a quoted value should be: key == 'value'"
        return f"expected a value in single quotes, found {token.shown()}"


# --- meaning ----------------------------------------------------------------------------------


def _texts(got: object) -> list[str]:
    """The texts a record's value offers a comparison: a string itself, a boolean ``true`` or
    ``false`` (as the Sessions parameters write them), a number as written, each item of a list;
    nothing for a missing value or None."""
    if isinstance(got, str):
        return [got]
    if got is None:
        return []
    if isinstance(got, bool):
        return ["true" if got else "false"]
    if isinstance(got, (int, float)):
        return [str(got)]
    if isinstance(got, (list, tuple)):
        return [text for item in got for text in _texts(item)]
    return [str(got)]


def _equals(got: object, value: str) -> bool:
    if type(got) is str:  # the common case: flow dimensions are all text
        return got == value
    return value in _texts(got)


def _contains(got: object, value: str) -> bool:
    if type(got) is str:
        return value in got
    return any(value in text for text in _texts(got))


def holds(tree: Filter, record: Mapping[str, object]) -> bool:
    """Whether a record (dimension key to value) passes the filter.

    ``==`` is exact and case-sensitive, ``~~`` a case-sensitive substring test, ``!=`` and
    ``!~`` their negations: a key the record lacks equals nothing and contains nothing, so it
    passes ``!=`` and ``!~``. A list passes ``==`` (``~~``) when one of its items does."""
    if isinstance(tree, Condition):
        got = record.get(tree.key)
        if tree.op == "==":
            return _equals(got, tree.value)
        if tree.op == "!=":
            return not _equals(got, tree.value)
        if tree.op == "~~":
            return _contains(got, tree.value)
        return not _contains(got, tree.value)
    if tree.kind == "AND":
        return all(holds(part, record) for part in tree.parts)
    return any(holds(part, record) for part in tree.parts)


def predicate(tree: Filter) -> Predicate:
    """:func:`holds` for one filter, compiled once into nested functions (a request tests every
    event of its range)."""
    if isinstance(tree, Condition):
        return _compile_test(tree)
    parts = tuple(predicate(part) for part in tree.parts)
    if tree.kind == "AND":

        def every(record: Mapping[str, object]) -> bool:
            return all(part(record) for part in parts)

        return every

    def some(record: Mapping[str, object]) -> bool:
        return any(part(record) for part in parts)

    return some


def _compile_test(test: Condition) -> Predicate:
    key, value = test.key, test.value
    if test.op in ("==", "!="):
        want = test.op == "=="

        def equals(record: Mapping[str, object]) -> bool:
            got = record.get(key)
            if type(got) is str:
                return (got == value) is want
            return _equals(got, value) is want

        return equals
    want = test.op == "~~"

    def contains(record: Mapping[str, object]) -> bool:
        got = record.get(key)
        if type(got) is str:
            return (value in got) is want
        return _contains(got, value) is want

    return contains
