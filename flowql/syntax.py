"""Parsing FlowQL text into the AST.

The syntax is defined by ``grammar/flowql.lark`` and nothing else: the lexer's terminals and the
LALR(1) tables come from it, generated into :mod:`flowql._tables` (see :mod:`flowql._generate`).
This module drives those tables without importing Lark, building the tree exactly as Lark would
(``?rule`` expands a single child, ``_rule`` inlines, ``_TERMINAL`` is filtered out) and handing
each rule's children to the AST builder of the same name.

The driver is a loop over an explicit stack: nesting never recurses, so a filter nested 10,000
deep fails with :class:`~flowql.errors.LimitError`, not ``RecursionError``. Everything is local to
one call, so :func:`parse` is safe to call from many threads at once.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right

from flowql import _tables
from flowql.ast import (
    And,
    Boolean,
    Comparison,
    Expr,
    In,
    Key,
    Node,
    Not,
    Number,
    Op,
    Or,
    Span,
    String,
)
from flowql.diagnostics import Diagnostic, clip
from flowql.errors import LimitError, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    # A node's span as the parser hands it over: (start, end, positions), made into a Span by
    # the node on first use (see Node.span).
    _SpanRef: TypeAlias = "tuple[int, int, _Positions]"
    _Rule: TypeAlias = "tuple[str, int, int, tuple[tuple[int, bool], ...], Any, bool]"
    # A parse error's fix: what it does, and its edits as (start, end, replacement).
    _FixSpec: TypeAlias = "tuple[str, list[tuple[int, int, str]]]"

__all__ = ["MAX_DEPTH", "MAX_SOURCE_LENGTH", "Token", "parse", "tokenize"]

MAX_SOURCE_LENGTH = 1_000_000
"""The longest text :func:`parse` accepts, in characters (FQ016 above it)."""

MAX_DEPTH = 100
"""The deepest nesting :func:`parse` accepts: boolean nodes (AND, OR, NOT) on the path from the
root to a comparison (FQ017 above it). Real filters rarely pass 5."""

_END = "$END"
_INVALID = "INVALID"
_EOF = "EOF"
_SPECIAL = frozenset({_INVALID, _EOF})
_VALUE_KINDS = frozenset({"STRING", "NUMBER", "_TRUE", "_FALSE"})
_CONNECTIVES = frozenset({"_AND", "_OR"})
_OPERATORS = frozenset({"_AND", "_OR", "_NOT"})


@functools.cache
def _master() -> re.Pattern[str]:
    """One alternation of every terminal, in Lark's order, and a catch-all that turns any other
    character into an INVALID token, so the lexer never skips text silently. Only tokenize()
    and error messages need it: compiled on first use, to keep it off the start-up path."""
    return re.compile(
        "|".join(f"(?P<{name}>{regex})" for name, regex in _tables.TERMINALS)
        + rf"|(?P<{_INVALID}>{_INVALID_RUN})"
    )


# What the tokenizer takes as one INVALID token: a word that starts with a digit but is not a
# number (`12abc`), an unterminated string (to the end of the text), or any other character.
# Taking the whole run keeps tokenize() linear: retrying at every digit or quote is quadratic.
_INVALID_RUN = r"[0-9][A-Za-z0-9_.]*|'[\s\S]*|\"[\s\S]*|[\s\S]"


_IGNORE = _tables.IGNORE
# The parser's own pattern lets the ignored terminals (white space, comments) run ahead of each
# token inside one match, which halves the matches a typical filter takes. The token is the
# named group; the prefix is outside it. White space and comments at the very end match as EOF.
_IGNORED_PREFIX = (
    "(?:" + "|".join(regex for name, regex in _tables.TERMINALS if name in _IGNORE) + ")*"
)
_PARSE = re.compile(
    _IGNORED_PREFIX
    + "(?:"
    + "|".join(f"(?P<{name}>{regex})" for name, regex in _tables.TERMINALS if name not in _IGNORE)
    + rf"|(?P<{_INVALID}>[\s\S])|(?P<{_EOF}>\Z))"
)

# What each terminal is called in messages: the user's words, never a grammar name.
_DESCRIPTIONS = {
    "KEY": "a dimension key",
    "STRING": "a quoted value",
    "NUMBER": "a number",
    "_TRUE": "true",
    "_FALSE": "false",
    "COMPARE": "an operator (==, !=, ~~, !~)",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "_IN": "IN",
    "_LPAR": "'('",
    "_RPAR": "closing ')'",
    "_COMMA": "','",
    "COMMENT": "a comment",
    "WHITESPACE": "white space",
    _END: "the end of the filter",
}

# How a token that was found is named, before its text: "found the key geo_country".
_FOUND = {"KEY": "the key", "STRING": "the value", "NUMBER": "the number"}

_OPS = {op.value: op for op in Op}

_ESCAPES = {"'": "'", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\([\s\S])")


class Token:
    """A token of FlowQL text, as :func:`tokenize` returns it.

    ``kind`` is the grammar's terminal name without a leading underscore (``KEY``, ``STRING``,
    ``NUMBER``, ``COMPARE``, ``AND``, ``OR``, ``NOT``, ``IN``, ``TRUE``, ``FALSE``, ``LPAR``,
    ``RPAR``, ``COMMA``, ``COMMENT``, ``WHITESPACE``), or ``INVALID`` for a character that starts
    no token. ``start`` and ``end`` are offsets into the text.
    """

    __slots__ = ("end", "kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.start}, {self.end})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Token):
            return NotImplemented
        return (self.kind, self.text, self.start, self.end) == (
            other.kind,
            other.text,
            other.start,
            other.end,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.text, self.start, self.end))


def tokenize(text: str) -> list[Token]:
    """Split text into tokens, comments and white space included. Never raises.

    Every character belongs to exactly one token. Text that starts no token comes out as an
    ``INVALID`` token: a word that starts with a digit but is no number (``12abc``), an
    unterminated string (from its quote to the end of the text), or a single other character.
    """
    return [
        Token((m.lastgroup or _INVALID).lstrip("_"), m.group(), m.start(), m.end())
        for m in _master().finditer(text)
    ]


class _Positions:
    """Turns offsets into spans for one text."""

    __slots__ = ("_line_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        # Indexed on the first span asked for: most parses never make one.
        self._line_starts: list[int] | None = None

    def span(self, start: int, end: int) -> Span:
        starts = self._line_starts
        if starts is None:
            starts = [0]
            starts.extend(m.end() for m in re.finditer("\n", self.text))
            # Assigned whole, so threads reading one tree's spans at worst index it twice.
            self._line_starts = starts
        if len(starts) == 1:
            return Span(start, end, 1, start + 1, 1, end + 1)
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end)
        return Span(
            start, end, line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1
        )


# --- AST builders: one per tree name in the grammar (rule name or alias) -------------------
#
# A builder gets the children Lark would give the tree (token values are re.Match objects; a
# tree that always has exactly one child gets that child alone) and the node's span as a _SpanRef.
#
# They make nodes with _new and set their fields directly, skipping the public constructors'
# checks: the grammar already guarantees them (a KEY token is a valid key, since the reserved
# words lex as keywords; children are nodes of the right kinds; And/Or get two or more), and
# the checks cost a sixth of a parse. number_value() keeps a Number finite and printable.


def _build_start(child: object, span: _SpanRef) -> object:
    return child


_new = object.__new__


def _connective(cls: type[And] | type[Or], children: list[Any], span: _SpanRef) -> object:
    # What _Connective.__init__ does: operands of the node's own kind are flattened in.
    flat: list[Expr] = []
    for child in children:
        if type(child) is cls:
            flat.extend(child._operands)
        else:
            flat.append(child)
    node = _new(cls)
    node._operands = tuple(flat)
    node._span = span
    return node


def _build_or(children: list[Any], span: _SpanRef) -> object:
    return _connective(Or, children, span)


def _build_and(children: list[Any], span: _SpanRef) -> object:
    return _connective(And, children, span)


def _build_negation(children: list[Any], span: _SpanRef) -> object:
    node = _new(Not)
    node._operand = children[0]
    node._span = span
    return node


def _build_comparison(children: list[Any], span: _SpanRef) -> object:
    key, op, value = children
    node = _new(Comparison)
    node._key = key
    node._op = _OPS[op[op.lastindex]]
    node._value = value
    node._span = span
    return node


def _membership(children: list[Any], negated: bool, span: _SpanRef) -> object:
    node = _new(In)
    node._key = children[0]
    node._values_ = tuple(children[1:])
    node._negated = negated
    node._span = span
    return node


def _build_membership(children: list[Any], span: _SpanRef) -> object:
    return _membership(children, False, span)


def _build_negated_membership(children: list[Any], span: _SpanRef) -> object:
    return _membership(children, True, span)


def _token_text(token: re.Match[str]) -> str:
    # The parser's pattern puts white space before the token's own group, the last one to close.
    return token[token.lastindex or 0]


def _build_key(token: re.Match[str], span: _SpanRef) -> object:
    node = _new(Key)
    node._name = _token_text(token)
    node._span = span
    return node


def _build_string(token: re.Match[str], span: _SpanRef) -> object:
    body = _token_text(token)[1:-1]
    if "\\" in body:
        start, _, positions = span
        body = _decode_escapes(body, positions, start + 1)
    node = _new(String)
    node._value = body
    node._span = span
    return node


def _decode_escapes(body: str, pos: _Positions, offset: int) -> str:
    def replace(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        at = offset + m.start()
        shown = "\\n" if ch == "\n" else m.group()
        raise ParseError(
            Diagnostic(
                "FQ003",
                f"'{shown}' is not an escape FlowQL knows",
                pos.span(at, at + 2),
                hint="the escapes are \\' \\\" and \\\\; write \\\\ for a backslash",
            ),
            pos.text,
        )

    return _ESCAPE_RE.sub(replace, body)


def number_value(raw: str) -> int | float | None:
    """The number a numeric literal stands for, or None when it is out of range: a float that
    overflows to infinity or underflows to zero from a non-zero literal (it would silently mean
    another number), or an int of more than 4,000 digits (an explicit cap, rather than Python's
    int_max_str_digits, which users can change). Shared with the readers of other syntaxes."""
    if "." in raw or "e" in raw or "E" in raw:
        value = float(raw)
        mantissa = raw.lower().split("e")[0]
        if value in (float("inf"), float("-inf")):
            return None
        if value == 0 and any(c in "123456789" for c in mantissa):
            return None
        return value
    if len(raw.lstrip("-")) > _MAX_INT_DIGITS:
        return None
    return int(raw)


def _build_number(token: re.Match[str], span: _SpanRef) -> object:
    raw = _token_text(token)
    value = number_value(raw)
    if value is None:
        start, end, positions = span
        raise ParseError(
            Diagnostic(
                "FQ015",
                f"the number {clip(raw)} is out of range",
                positions.span(start, end),
                hint="quote it to compare it as text: '" + clip(raw) + "'",
            ),
            positions.text,
        )
    node = _new(Number)
    node._value = value
    node._span = span
    return node


_MAX_INT_DIGITS = 4000


def _build_true(children: list[object], span: _SpanRef) -> object:
    node = _new(Boolean)
    node._value = True
    node._span = span
    return node


def _build_false(children: list[object], span: _SpanRef) -> object:
    node = _new(Boolean)
    node._value = False
    node._span = span
    return node


_BUILDERS = {
    "start": _build_start,
    "or_expr": _build_or,
    "and_expr": _build_and,
    "negation": _build_negation,
    "comparison": _build_comparison,
    "membership": _build_membership,
    "negated_membership": _build_negated_membership,
    "key": _build_key,
    "string": _build_string,
    "number": _build_number,
    "true": _build_true,
    "false": _build_false,
}

# --- rules, compiled from the tables into the few shapes the driver handles ---------------

_UNIT = 0  # `?a: b`: the value passes through, only the state changes
_SINGLE = 1  # `a: b`: a tree of exactly one child, built in place on the stack
_PICK = 2  # `?a: "(" b ")"`: one child passes through, the symbol covers all of them
_LIST = 3  # `_a: ...`: a list that its parent splices in
_BUILD = 4  # a tree: the builder of that name gets the children
_MAYBE = 5  # `?a: b c*`: a tree, or the one child when there is only one
_APPEND = 6  # `_a: _a x`: the list grows in place (only in the driver's own table, _LOOP_RULES)


def _compile_rules() -> list[_Rule]:
    compiled: list[_Rule] = []
    for lhs, size, keep, name, expand1, inline in _tables.RULES:
        builder = _BUILDERS.get(name) if name else None
        if inline:
            kind = _LIST
        elif expand1 and size == 1 and keep == ((0, False),):
            kind = _UNIT
        elif expand1 and len(keep) == 1 and not keep[0][1]:
            kind = _PICK
        elif expand1:
            kind = _MAYBE
        elif size == 1 and keep == ((0, False),):
            kind = _SINGLE
        else:
            kind = _BUILD
        if kind in (_BUILD, _MAYBE, _SINGLE) and builder is None:
            raise RuntimeError(f"no AST builder for grammar rule {name!r}")
        # `whole`: every child is kept and none is spliced, so the children are the popped values.
        whole = keep == tuple((i, False) for i in range(size))
        compiled.append((lhs, size, kind, keep, builder, whole))
    return compiled


_RULES = _compile_rules()
_STATES = _tables.STATES
_END_STATE = _tables.END_STATE

# --- the same tables, laid out for the driver's hot loop --------------------------------------
#
# A terminal's column is its group number in _PARSE (m.lastindex), so an action is a list index,
# not a dict look-up; EOF's column holds the $END actions. A missing action is _ERROR.

_ERROR = 1 << 30
_COLUMNS = _PARSE.groupindex
if len(_COLUMNS) != _PARSE.groups:
    # A terminal with a capturing group of its own would make m.lastindex that group's.
    raise RuntimeError("a terminal's regex has an unnamed capturing group: write (?:...)")
_KIND_OF = {column: name for name, column in _COLUMNS.items()}
_EOF_COLUMN = _COLUMNS[_EOF]
_INVALID_COLUMN = _COLUMNS[_INVALID]


def _compile_actions() -> list[list[int]]:
    width = _PARSE.groups + 1
    actions = []
    for row in _STATES:
        line = [_ERROR] * width
        for name, column in _COLUMNS.items():
            line[column] = row.get(_END if name == _EOF else name, _ERROR)
        if 0 <= line[_EOF_COLUMN] < _ERROR:
            raise RuntimeError("the driver cannot shift $END")
        actions.append(line)
    return actions


_ACTIONS = _compile_actions()
_LHS_IDS = {lhs: i for i, lhs in enumerate(dict.fromkeys(rule[0] for rule in _RULES))}


def _compile_after() -> list[list[Any]]:
    """Per state and symbol a reduction made, per column: (state, next action) once the goto and
    the `?a: b` reductions it leads to are done. Those only swap the top state for another goto
    from the same state below, so where they end depends on that state, the symbol and the
    column only, and the driver skips them."""
    width = _PARSE.groups + 1
    after: list[list[Any]] = []
    for row in _STATES:
        gotos: list[Any] = [None] * len(_LHS_IDS)
        for lhs, i in _LHS_IDS.items():
            if lhs not in row:
                continue
            ends = []
            for column in range(width):
                state = row[lhs]
                code = _ACTIONS[state][column]
                while code < 0 and _RULES[-code - 1][2] == _UNIT:
                    state = row[_RULES[-code - 1][0]]
                    code = _ACTIONS[state][column]
                ends.append((state, code))
            gotos[i] = ends
        after.append(gotos)
    return after


_AFTER = _compile_after()


def _compile_loop_rules() -> list[tuple[int, int, int, Any, Any]]:
    """Per rule (kind, symbol id, length, builder, argument), in reverse order so that a reduce
    action's code (-n - 1 for rule n) indexes it directly. Children are found by negative
    offsets into the value stack."""
    compiled = []
    for lhs, size, kind, keep, builder, whole in _RULES:
        arg: Any = tuple((i - size, splice) for i, splice in keep)
        if kind == _PICK:
            arg = keep[0][0] - size
        elif kind == _LIST and keep[0] == (0, True) and not any(s for _, s in keep[1:]):
            kind = _APPEND
            arg = tuple(i - size for i, _ in keep[1:])
        elif whole:
            arg = None
        compiled.append((kind, _LHS_IDS[lhs], size, builder, arg))
    return compiled[::-1]


_LOOP_RULES = _compile_loop_rules()


def parse(text: str, *, max_length: int = MAX_SOURCE_LENGTH, max_depth: int = MAX_DEPTH) -> Expr:
    """Parse FlowQL text into an :class:`~flowql.ast.Expr`.

    Raises :class:`~flowql.errors.ParseError` (a :class:`~flowql.errors.FlowQLError`) for text
    that is not a filter, with the position of the problem and a hint, and
    :class:`~flowql.errors.LimitError` for text longer than ``max_length`` characters or nested
    deeper than ``max_depth`` (see :data:`MAX_SOURCE_LENGTH` and :data:`MAX_DEPTH`).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a str, not {type(text).__name__}")
    if len(text) > max_length:
        pos = _Positions(text[: max_length + 1])
        raise LimitError(
            Diagnostic(
                "FQ016",
                f"the filter is {len(text):,} characters long; the limit is {max_length:,}",
                pos.span(max_length, max_length + 1),
                hint="split it into several filters",
            ),
            text,
        )
    return _Parse(text, max_depth).run()


class _Parse:
    """One parse: the LALR driver and everything an error message needs."""

    __slots__ = ("max_depth", "pos", "text")

    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.pos = _Positions(text)
        self.max_depth = max_depth

    def run(self) -> Expr:
        # The hot loop: locals only, reductions inlined, nothing done that only an error needs
        # (errors re-read the text instead). `values` holds each stack symbol's value (the
        # re.Match of a token, an AST node, or a list for a `_rule`), `spans` its _SpanRef.
        state = 0
        states = [0]
        values: list[Any] = []
        spans: list[_SpanRef] = []
        actions = _ACTIONS
        after = _AFTER
        rules = _LOOP_RULES
        pos = self.pos
        at = (pos,)
        for m in _PARSE.finditer(self.text):
            # Every alternative of _PARSE is a named group: lastindex is never None.
            column: int = m.lastindex  # type: ignore[assignment]
            code = actions[state][column]
            while code < 0:
                kind, lhs, size, builder, arg = rules[code]
                if kind <= _SINGLE:
                    if kind:
                        values[-1] = builder(values[-1], spans[-1])
                    state, code = after[states[-2]][lhs][column]
                    states[-1] = state
                    continue
                where = (spans[-size][0], spans[-1][1], pos)
                if kind == _APPEND:
                    value = values[-size]
                    for i in arg:
                        value.append(values[i])
                elif kind == _PICK:
                    value = values[arg]
                else:
                    if arg is None:
                        children = values[-size:]
                    else:
                        children = []
                        for i, splice in arg:
                            if splice:
                                children.extend(values[i])
                            else:
                                children.append(values[i])
                    if kind == _LIST:
                        value = children
                    elif kind == _MAYBE and len(children) == 1:
                        value = children[0]
                    else:
                        value = builder(children, where)
                del states[-size:]
                state, code = after[states[-1]][lhs][column]
                states.append(state)
                values[-size:] = (value,)
                spans[-size:] = (where,)
            if code == _ERROR:
                if column == _EOF_COLUMN:
                    if state == _END_STATE:
                        break
                    raise self._unexpected(_END, spans[-1][1] if spans else 0, states)
                if column == _INVALID_COLUMN:
                    raise self._invalid(m.start(column))
                raise self._unexpected(_KIND_OF[column], m.start(column), states)
            state = code
            states.append(code)
            values.append(m)
            spans.append(m.span(column) + at)
        else:
            raise AssertionError("the parser's pattern always ends with an EOF match")
        tree = values[-1]
        assert isinstance(tree, Expr)
        if not isinstance(tree, (And, Or, Not)):
            return tree
        # Below the top OR and AND levels, each deeper AND/OR level needs a '(' and each NOT
        # level a NOT: only a text with enough of them (counted generously, in strings and IN
        # lists too) can nest too deep, and only then is the tree measured.
        text = self.text
        if 2 * text.count("(") + text.lower().count("not") + 2 > self.max_depth:
            self._check_depth(tree)
        return tree

    # --- errors ---------------------------------------------------------------------------

    def _error(
        self,
        code: str,
        message: str,
        start: int,
        end: int,
        hint: str | None,
        fix: _FixSpec | None = None,
    ) -> ParseError:
        """The error; ``fix`` is the one repair, when there is one: what it does in a few words
        and its edits as (start, end, replacement)."""
        made = None
        if fix is not None:
            from flowql.fixes import Edit, Fix

            made = Fix([Edit(*edit) for edit in fix[1]], fix[0])
        return ParseError(
            Diagnostic(code, message, self.pos.span(start, end), hint=hint, fix=made), self.text
        )

    def _check_depth(self, tree: Expr) -> None:
        stack: list[tuple[Node, int]] = [(tree, 1)]
        boolean = (And, Or, Not)
        while stack:
            node, depth = stack.pop()
            if depth > self.max_depth:
                span = node.span
                assert span is not None
                raise LimitError(
                    Diagnostic(
                        "FQ017",
                        f"the filter nests deeper than {self.max_depth} levels",
                        span,
                        hint="flatten the nested groups, or split the filter in several",
                    ),
                    self.text,
                )
            stack.extend((c, depth + 1) for c in node.children() if isinstance(c, boolean))

    def _history(self, upto: int) -> tuple[list[tuple[str, int, int]], list[int]]:
        """The significant tokens before offset ``upto`` as (kind, start, end), and the offsets
        of the '(' still open there: re-read on error so that parsing does not track them."""
        tokens: list[tuple[str, int, int]] = []
        parens: list[int] = []
        for m in _master().finditer(self.text):
            if m.start() >= upto:
                break
            kind = m.lastgroup
            assert kind is not None
            if kind in _IGNORE:
                continue
            tokens.append((kind, m.start(), m.end()))
            if kind == "_LPAR":
                parens.append(m.start())
            elif kind == "_RPAR" and parens:
                parens.pop()
        return tokens, parens

    def _next_kind(self, at: int) -> str:
        """The kind of the first significant token at or after offset ``at``."""
        for m in _master().finditer(self.text, at):
            kind = m.lastgroup
            assert kind is not None
            if kind not in _IGNORE:
                return kind
        return _END

    def _invalid(self, at: int) -> ParseError:
        text = self.text
        ch = text[at]
        two = text[at : at + 2]
        tokens, _ = self._history(at)
        kinds = [t[0] for t in tokens]
        value_expected = _value_position(kinds)
        after_key = bool(kinds) and kinds[-1] == "KEY"
        if value_expected and (
            ch.isalnum() or (two[:1] == "-" and len(two) == 2 and two[1] in _DIGITS)
        ):
            return self._unquoted(at, list_context=kinds[-1] != "COMPARE")
        if ch in _DIGITS:
            match = _WORD.match(text, at)
            assert match is not None
            run = match.end()
            return self._error(
                "FQ004",
                f"expected a dimension key, found {clip(text[at:run])!r}",
                at,
                run,
                "a key starts with a letter or '_'",
            )
        if ch in "'\"":
            end = max(len(text.rstrip()), at + 1)
            hint = f"add the closing {ch} at the end of the value"
            if text[at:end].endswith("\\" + ch):
                hint += f"; a value that ends in a backslash is written with \\\\ before the {ch}"
            return self._error(
                "FQ002", f"the value starting with {ch} is never closed", at, end, hint
            )
        if ch == "=":
            hint = "compare with '==' (equals) or '!=' (does not equal)"
            if two == "=~":
                hint = "write '~~' for contains, or '==' for equals"
            # Between a key and its value '=' is an equals; '=~' could be two things.
            fix: _FixSpec | None = ("replace '=' with '=='", [(at, at + 1, "==")])
            return self._error(
                "FQ006",
                "a single '=' is not a FlowQL operator",
                at,
                at + 1,
                hint,
                fix if after_key and two != "=~" else None,
            )
        if two == "<>":
            return self._error(
                "FQ007",
                "'<>' is not a FlowQL operator",
                at,
                at + 2,
                "write '!=' for does not equal",
                ("replace '<>' with '!='", [(at, at + 2, "!=")]) if after_key else None,
            )
        if ch in "<>":
            width = 2 if two in ("<=", ">=") else 1
            return self._error(
                "FQ019",
                f"FlowQL has no '{text[at : at + width]}' operator",
                at,
                at + width,
                "FlowQL compares with == (equals), != (does not equal), ~~ (contains) and !~ "
                "(does not contain)",
            )
        if ch in "&|":
            width = 2 if two in ("&&", "||") else 1
            word = "AND" if ch == "&" else "OR"
            symbol = text[at : at + width]
            fix = None
            if kinds and (kinds[-1] in _VALUE_KINDS or kinds[-1] == "_RPAR"):
                # After a comparison it joins two; spaces keep the word from running into its
                # neighbours ('x'&&y would be 'x'ANDy).
                left = "" if at == 0 or text[at - 1].isspace() else " "
                right = "" if text[at + width : at + width + 1].isspace() else " "
                fix = (f"replace '{symbol}' with {word}", [(at, at + width, left + word + right)])
            return self._error(
                "FQ008",
                f"'{symbol}' is not a FlowQL operator",
                at,
                at + width,
                f"write {word}",
                fix,
            )
        hints = {
            "!": "use != (does not equal), !~ (does not contain) or NOT",
            "~": "use ~~ (contains) or !~ (does not contain)",
            "[": "a list is written in parentheses: key IN ('a', 'b')",
            "+": "write a number without a '+' sign",
        }
        if ch in hints:
            message = f"unexpected character '{ch}'"
            if ch in "!~":
                message = f"'{ch}' on its own is not a FlowQL operator"
            fix = None
            if ch == "+" and value_expected and two[1:] in tuple(_DIGITS):
                fix = ("remove the '+'", [(at, at + 1, "")])
            return self._error("FQ001", message, at, at + 1, hints[ch], fix)
        if ch in "\u2018\u2019\u201c\u201d":
            return self._error(
                "FQ001",
                f"the typographic quote {ch} is not a FlowQL quote",
                at,
                at + 1,
                "use straight quotes: ' or \"",
                _straight_quotes(text, at),
            )
        if ch.isalpha():
            return self._error(
                "FQ001",
                f"unexpected character '{ch}'",
                at,
                at + 1,
                "keys use ASCII letters, digits, '_', '-' and '.'; other text goes in quotes",
            )
        shown = repr(ch) if not ch.isprintable() or ch.isspace() else f"'{ch}'"
        return self._error("FQ001", f"unexpected character {shown}", at, at + 1, None)

    def _unquoted(self, start: int, *, list_context: bool) -> ParseError:
        run = _unquoted_run(self.text, start, list_context=list_context)
        raw = self.text[start:run]
        quoted = _quote(raw)
        fix: _FixSpec | None = None
        words = _BARE_WORDS.match(raw)
        # Words are evidently a value; a run with operators or quotes in it might be more,
        # unless what follows the words is a symbolic AND or OR (FQ008 fixes it next).
        if words and (words.end() == len(raw) or raw[words.end() :].lstrip()[:1] in ("&", "|")):
            fix = ("quote the value", [(start, start + words.end(), _quote(words.group()))])
        return self._error(
            "FQ009",
            f"the value {clip(raw)!r} is not in quotes",
            start,
            run,
            "quote it: " + quoted,
            fix,
        )

    def _unexpected(self, kind: str, start: int, states: list[int]) -> ParseError:
        text = self.text
        tokens, parens = self._history(start)
        kinds = [t[0] for t in tokens]
        expected = _acceptable(states)
        if kind == _END:
            return self._unexpected_end(start, tokens, expected, parens)
        match = _master().match(text, start)
        assert match is not None
        end = match.end()
        last = kinds[-1] if kinds else None
        before = kinds[-2] if len(kinds) > 1 else None
        found = self._found(kind, start, end)
        if kind == "_RPAR":
            if not parens:
                return self._error(
                    "FQ011", "this ')' has no '(' to close", start, end, "remove it, or add the '('"
                )
            if last == "_LPAR" and before == "_IN":
                word = "NOT IN" if len(kinds) > 2 and kinds[-3] == "_NOT" else "IN"
                return self._error(
                    "FQ014",
                    f"{word} needs at least one value",
                    parens[-1],
                    end,
                    f"list the values: key {word} ('a', 'b')",
                )
            if last in _OPERATORS:
                word = _DESCRIPTIONS[last]
                return self._error(
                    "FQ012",
                    f"{word} has nothing on its right before this ')'",
                    start,
                    end,
                    f"add a comparison after {word}, or remove the {word}",
                )
            if last == "_LPAR":
                return self._error(
                    "FQ004", "empty parentheses", parens[-1], end, "put a comparison inside them"
                )
            if last == "_COMMA":
                return self._error(
                    "FQ004",
                    "the list ends with ','",
                    start,
                    end,
                    "remove the last ',' or add a value after it",
                )
        if kind in _RESERVED and "KEY" in expected and self._next_kind(end) in _AFTER_KEY:
            return self._reserved(kind, start, end)
        if kind in ("COMPARE", "_IN") and last in _RESERVED and before in _BEFORE_KEY:
            _, word_start, word_end = tokens[-1]
            return self._reserved(last, word_start, word_end)
        if kind in _CONNECTIVES and last in (None, "_LPAR", "_AND", "_OR", "_NOT"):
            word = _DESCRIPTIONS[kind]
            if last in ("_AND", "_OR", "_NOT"):
                hint = "two operators in a row: remove one, or add a comparison between them"
                message = f"{word} right after {_DESCRIPTIONS[last]}"
            else:
                hint = f"add a comparison before {word}, or remove it"
                message = f"{word} has nothing on its left"
            return self._error("FQ012", message, start, end, hint)
        if "STRING" in expected and (kind == "KEY" or kind in _RESERVED):
            return self._unquoted(start, list_context=last != "COMPARE")
        if last == "_NOT" and before == "KEY" and kind != "_IN":
            return self._error(
                "FQ004",
                f"expected IN after NOT, found {found}",
                start,
                end,
                "write key NOT IN ('a', 'b'), or negate a comparison with != or !~",
            )
        if kind == "KEY" and last == "KEY":
            word = text[start:end]
            hint = "use == (equals), != (does not equal), ~~ (contains) or !~ (does not contain)"
            if word.upper() == "LIKE":
                hint = "FlowQL has no LIKE: use ~~ (contains) or !~ (does not contain)"
            return self._error(
                "FQ004", f"expected an operator after the key, found {found}", start, end, hint
            )
        if kind in _VALUE_KINDS and last in _VALUE_KINDS and "_COMMA" in expected:
            return self._error(
                "FQ004",
                f"expected ',' or ')' before {found}",
                start,
                end,
                "separate the values in a list with ','",
            )
        if kind in ("KEY", "_NOT", "_LPAR") and (last in _VALUE_KINDS or last == "_RPAR"):
            hint = "join comparisons with AND or OR"
            if last == "STRING" and _looks_unclosed(text[tokens[-1][1] : tokens[-1][2]]):
                _, value_start, value_end = tokens[-1]
                position = self.pos.span(value_start, value_end)
                hint = (
                    f"the value at line {position.line}, column {position.column} may be "
                    "missing its closing quote"
                )
            return self._error("FQ018", f"expected AND or OR before {found}", start, end, hint)
        if kind in _VALUE_KINDS and last == "KEY":
            return self._error(
                "FQ004",
                f"expected an operator between the key and {found}",
                start,
                end,
                "use == (equals), != (does not equal), ~~ (contains) or !~ (does not contain)",
            )
        if kind in _VALUE_KINDS and last == "_IN":
            word = "NOT IN" if before == "_NOT" else "IN"
            run = _unquoted_run(text, start, list_context=False)
            return self._error(
                "FQ004",
                f"expected '(' after {word}, found {found}",
                start,
                end,
                f"put the values in parentheses: {word} ({text[start:run]})",
            )
        if kind in _VALUE_KINDS and "KEY" in expected:
            return self._error(
                "FQ004",
                f"expected a dimension key, found {found}",
                start,
                end,
                "a comparison starts with the key: key == 'value'",
            )
        return self._error(
            "FQ004", f"expected {_expected_words(expected)}, found {found}", start, end, None
        )

    def _reserved(self, kind: str, start: int, end: int) -> ParseError:
        word = _DESCRIPTIONS[kind].upper()
        return self._error(
            "FQ004",
            f"{word} is a reserved word and cannot be a key",
            start,
            end,
            "AND, OR, NOT, IN, TRUE and FALSE are reserved in any case; rename the key",
        )

    def _unexpected_end(
        self,
        at: int,
        tokens: list[tuple[str, int, int]],
        expected: set[str],
        parens: list[int],
    ) -> ParseError:
        kinds = [t[0] for t in tokens]
        last = kinds[-1] if kinds else None
        before = kinds[-2] if len(kinds) > 1 else None
        if last is None:
            return self._error(
                "FQ013",
                "the filter is empty",
                at,
                at,
                "write a comparison, for example: geo_country == 'Spain'",
            )
        if last == "_NOT" and before == "KEY":
            return self._error(
                "FQ005",
                "the filter ends after NOT; expected IN",
                at,
                at,
                "write key NOT IN ('a', 'b'), or negate a comparison with != or !~",
            )
        if last in _OPERATORS:
            word = _DESCRIPTIONS[last]
            return self._error(
                "FQ012",
                f"the filter ends after {word}",
                at,
                at,
                f"add a comparison after {word}, or remove the {word}",
            )
        in_at = -1 if last == "_IN" else -2
        word = "NOT IN" if len(kinds) > -in_at and kinds[in_at - 1] == "_NOT" else "IN"
        endings = {
            "COMPARE": (
                "the filter ends where a value should be",
                "add a quoted value: key == 'value'",
            ),
            "KEY": (
                "the filter ends after a key; expected an operator",
                "use == (equals), != (does not equal), ~~ (contains) or !~ (does not contain)",
            ),
            "_IN": (
                f"the filter ends after {word}; expected '('",
                f"write key {word} ('a', 'b')",
            ),
            "_COMMA": ("the list ends after ','", "add a value after the ',' and close the list"),
            "_LPAR": ("the filter ends after '('", "add a comparison and the closing ')'"),
        }
        if last == "_LPAR" and before == "_IN":
            endings["_LPAR"] = (
                "the filter ends after '('; expected a value",
                f"list the values and close the list: key {word} ('a', 'b')",
            )
        if last in endings:
            message, hint = endings[last]
            return self._error("FQ005", message, at, at, hint)
        if "_RPAR" in expected and parens:
            open_pos = self.pos.span(parens[-1], parens[-1] + 1)
            message = "the filter ends after '('" if last == "_LPAR" else "expected closing ')'"
            return self._error(
                "FQ010",
                message,
                at,
                at,
                f"the '(' at line {open_pos.line}, column {open_pos.column} is never closed",
            )
        return self._error(
            "FQ005",
            f"the filter ends too early; expected {_expected_words(expected)}",
            at,
            at,
            None,
        )

    def _found(self, kind: str, start: int, end: int) -> str:
        if kind in _FOUND:
            return f"{_FOUND[kind]} {clip(self.text[start:end])}"
        if kind == "COMPARE" or kind in _RESERVED:
            return self.text[start:end] if kind in _RESERVED else f"'{self.text[start:end]}'"
        return _DESCRIPTIONS[kind]


_RESERVED = frozenset({"_AND", "_OR", "_NOT", "_IN", "_TRUE", "_FALSE"})
_AFTER_KEY = frozenset({"COMPARE", "_IN", "_NOT"})  # what may follow a key
_BEFORE_KEY = frozenset({None, "_LPAR", "_AND", "_OR", "_NOT"})  # what may come before a key
_WORD = re.compile(r"[A-Za-z0-9_.-]+")
_DIGITS = "0123456789"


def _value_position(kinds: list[str]) -> bool:
    """Whether a value comes next after these token kinds: after an operator, or in a list."""
    if not kinds:
        return False
    if kinds[-1] in ("COMPARE", "_COMMA"):
        return True
    return kinds[-1] == "_LPAR" and len(kinds) > 1 and kinds[-2] == "_IN"


def _looks_unclosed(literal: str) -> bool:
    """Whether a string literal probably swallowed the filter after a missing closing quote."""
    body = literal[1:-1]
    return bool(re.search(r"\s(?i:and|or)\s|==|!=|~~|!~", body))


def _acceptable(states: list[int]) -> set[str]:
    """The terminals the parser could really shift next from this stack.

    A state's row lists every terminal an LALR parser may reduce on, including some that merged
    states bring along and that fail a reduction later; simulating the reductions on a copy of
    the stack keeps only the ones that lead to a shift, so messages never offer an impossible
    token (Lark's interactive parser does the same in ``accepts()``).
    """
    return {
        terminal
        for terminal in _STATES[states[-1]]
        if terminal in _DESCRIPTIONS and _shift(list(states), terminal)
    }


def _shift(stack: list[int], terminal: str) -> bool:
    """Feed one terminal to the parser whose state stack is ``stack``: reduce as the table says,
    then shift it (``$END``: accept). False when the parser cannot take it; ``stack`` is then
    left part-way and must not be used."""
    while True:
        if stack[-1] == _END_STATE:
            return terminal == _END
        code = _STATES[stack[-1]].get(terminal)
        if code is None:
            return False
        if code >= 0:
            stack.append(code)
            return True
        lhs, size = _RULES[-code - 1][:2]
        del stack[len(stack) - size :]
        stack.append(_STATES[stack[-1]][lhs])


def _expected_words(expected: set[str]) -> str:
    expected = set(expected)
    words = []
    if expected >= _VALUE_KINDS:
        expected -= _VALUE_KINDS
        words.append("a value")
    order = ["KEY", "COMPARE", "_NOT", "_IN", "_LPAR", "_AND", "_OR", "_COMMA", "_RPAR", _END]
    words.extend(_DESCRIPTIONS[k] for k in order if k in expected)
    words.extend(sorted(_DESCRIPTIONS[k] for k in expected if k not in order))
    if not words:
        return "nothing more"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


_BARE_WORDS = re.compile(r"[\w.\-]+(?:[ \t]+[\w.\-]+)*")
_TYPOGRAPHIC_PAIRS = {
    "\u2018": ("\u2018\u2019", "'"),
    "\u2019": ("\u2018\u2019", "'"),
    "\u201c": ("\u201c\u201d", '"'),
    "\u201d": ("\u201c\u201d", '"'),
}


def _straight_quotes(text: str, at: int) -> _FixSpec | None:
    """The fix of a value in typographic quotes: straight quotes at both ends, when the closing
    one is on the same line and nothing between them would need escaping."""
    family, straight = _TYPOGRAPHIC_PAIRS[text[at]]
    close = at + 1
    while close < len(text) and text[close] not in family:
        if text[close] in "'\"\\\n\r\u2018\u2019\u201c\u201d":
            return None
        close += 1
    if close >= len(text):
        return None
    edits = [(at, at + 1, straight), (close, close + 1, straight)]
    return "use straight quotes", edits


def _quote(raw: str) -> str:
    return "'" + raw.replace("\\", "\\\\").replace("'", "\\'") + "'"


_RUN_END = re.compile(r"\s+(?i:and|or)(?![A-Za-z0-9_.-])|[)#\n]")
_LIST_RUN_END = re.compile(r"\s+(?i:and|or)(?![A-Za-z0-9_.-])|[),#\n]")


def _unquoted_run(text: str, start: int, *, list_context: bool) -> int:
    """Where an unquoted value that starts at ``start`` most likely ends: before the next AND,
    OR, ')' (or ',' in a list) or comment on the same line, trailing white space dropped."""
    m = (_LIST_RUN_END if list_context else _RUN_END).search(text, start)
    stop = m.start() if m else len(text)
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    return stop
