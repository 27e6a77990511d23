"""Hypothesis strategies for FlowQL, shared by the property tests.

Building blocks, from small to large:

- :func:`key_names` / :func:`keys`: dimension keys (``str`` / :class:`~flowql.ast.Key`), never a
  reserved word, biased towards keys that look like keywords (``android``, ``in_stock``...).
- :func:`string_values`: hostile ``str`` contents (both quotes, backslashes, ``%&+#=``, control
  characters, emoji, right-to-left text, the empty string).
- :func:`values`: :class:`~flowql.ast.String`, :class:`~flowql.ast.Number` (ints up to
  :data:`MAX_INT_DIGITS` digits, the most flowql parses; negative ones; finite floats) and
  :class:`~flowql.ast.Boolean` nodes.
- :func:`comparisons`, :func:`memberships` (``IN`` and ``NOT IN``), :func:`exprs`: whole trees,
  nested up to ``max_depth`` boolean levels (NOT, AND, OR).
- :func:`source_texts`: *one* expression rendered as varied valid FlowQL text (keyword case,
  white space, comments, redundant parentheses, regrouped AND/OR operands, quote style and
  escapes, number spellings). :func:`filters` draws ``(expr, text)`` pairs.
- :func:`noisy_texts`: arbitrary text for fuzzing: random Unicode, text over a FlowQL-flavoured
  alphabet, sequences of FlowQL fragments, and valid filters with a few random edits.
- :func:`small_trees` and :func:`text_matches`: small trees over given leaves, and an evaluator
  of the Flow semantics on text records, for the targets' property tests.
- :func:`random_expr`, :func:`random_filter` (and :func:`seeded_filters`, their strategy): the
  same kinds of trees and texts from a plain :class:`random.Random`, for tests that do not use
  Hypothesis and for fuzzing input, where one draw per filter keeps generation cheap.

Everything is built from the public AST, so any test can import these strategies::

    from strategies import exprs, filters  # tests/ is on sys.path under pytest

    @given(filters())
    def test_something(pair: tuple[Expr, str]) -> None: ...

:func:`expr_depth` is the depth :func:`flowql.parse` limits (boolean nodes on the deepest path).
"""

from __future__ import annotations

import functools
import math
import random
import re
import struct
from collections.abc import Callable, Mapping, Sequence

from hypothesis import strategies as st

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
    String,
    Value,
)
from flowql.errors import FlowQLError
from flowql.formatter import format as flowql_format
from flowql.syntax import parse

__all__ = [
    "FRAGMENTS",
    "HOSTILE_CHARACTERS",
    "KEY_PATTERN",
    "MAX_INT_DIGITS",
    "RESERVED",
    "comparisons",
    "expr_depth",
    "exprs",
    "filters",
    "key_names",
    "keys",
    "memberships",
    "mutated_texts",
    "noisy_texts",
    "numbers",
    "random_expr",
    "random_filter",
    "random_key",
    "random_value",
    "render",
    "seeded_filters",
    "source_texts",
    "string_values",
    "values",
]

RESERVED = frozenset({"and", "or", "not", "in", "true", "false"})
"""FlowQL's reserved words, compared lower case."""

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
"""What a key looks like (reserved words aside)."""


def _largest_int_digits() -> int:
    # The most digits every int may have and still parse and print: flowql caps int literals
    # (FQ015 above the cap), Number caps its value, and Python refuses to turn ints of more than
    # sys.get_int_max_str_digits() digits into text. Found by bisection, so that the strategies
    # follow flowql's choices.
    def fits(digits: int) -> bool:
        literal = "9" * digits
        try:
            expr = parse(f"a == {literal}")
            return flowql_format(expr) == f"a == {literal}"
        except (FlowQLError, ValueError):
            return False

    low, high = 1, 100_000
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


MAX_INT_DIGITS: int = _largest_int_digits()
"""The most digits (leading zeros included) an int literal may have and still parse, and print
back: literals with more are FQ015, "number out of range"."""

_KEY_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_KEY_REST = _KEY_START + "0123456789-"
_TRICKY_KEYS = (
    "a",
    "_",
    "_x",
    "A-",
    "a-b",
    "a--b",
    "android",
    "order_id",
    "in_stock",
    "In-stock",
    "notable",
    "NOTE",
    "orange",
    "OR_",
    "trueish",
    "false_positive",
    "and1",
    "in.a",
    "x.and",
    "x.not.in",
    "geo_country",
    "tag_specialContentId",
    "integration.name",
    "a.b-c.d_e",
    "_.__._",
)

HOSTILE_CHARACTERS = (
    "'",
    '"',
    "\\",
    "%",
    "&",
    "+",
    "#",
    "=",
    "?",
    "/",
    ",",
    "(",
    ")",
    "~",
    "!",
    " ",
    "\n",
    "\r",
    "\t",
    "\x00",
    "\x0b",
    "\x7f",
    "\u00e9",  # é
    "\u00df",  # ß
    "\u017f",  # long s: matches 's' case-insensitively in Python's re
    "\u0131",  # dotless i
    "\u05e9",  # Hebrew shin (right to left)
    "\u0645",  # Arabic meem (right to left)
    "\u202e",  # right-to-left override
    "\u200b",  # zero width space
    "\u00a0",  # no-break space
    "\u2028",  # line separator
    "\u2018",  # typographic quotes
    "\u201d",
    "\u4e2d",  # wide CJK
    "\U0001f600",  # emoji
    "\u0301",  # combining acute accent
)
"""Characters that have broken quoting, escaping, URL encoding or position reporting before."""

_HOSTILE_STRINGS = (
    "",
    " ",
    "\\",
    "\\\\",
    "'",
    '"',
    "\\'",
    '\\"',
    "a\\",
    "'\"'\"",
    "%20%27",
    "a&b=c+d#e",
    "' OR '1'=='1",
    "x') OR (y == 'z",
    "# not a comment",
    "line\nbreak",
    "\r\n",
    "\t",
    "emoji \U0001f600",
    "\U0001f1ea\U0001f1f8",  # a flag: two code points
    "e\u0301",  # e and a combining accent
    "\u05e2\u05d1\u05e8\u05d9\u05ea",  # Hebrew
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic
    "\u202eabc",
    "\u4e2d\u6587",
)

FRAGMENTS = (
    "(",
    ")",
    ",",
    "==",
    "!=",
    "~~",
    "!~",
    "=",
    "<>",
    "<",
    ">=",
    "&&",
    "||",
    "&",
    "|",
    "!",
    "~",
    " and ",
    " or ",
    " not ",
    " in ",
    "AND",
    "Or",
    "NOT IN",
    "in",
    "true",
    "FALSE",
    "'",
    '"',
    "\\",
    "'x'",
    '"y"',
    "'a\\'b'",
    "'\\q'",
    '"\\\n"',
    "1",
    "-2",
    "3.5",
    "1e5",
    "-1E-7",
    "1e999",
    "9" * (MAX_INT_DIGITS + 1),
    "1" + "0" * 4400,
    "12abc",
    "1.",
    ".5",
    "key",
    "geo_country",
    "a.b",
    "a-b",
    "#c\n",
    "#",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\u00e9",
    "\U0001f600",
    "\u2018",
    "\u201c",
    "\x00",
    ".",
    "-",
    "_",
    "\u017f",
    "\u0131",
)
"""Bits of FlowQL, valid and not, to assemble fuzzing input from."""


# --- keys and values ----------------------------------------------------------------------------


@functools.cache
def key_names() -> st.SearchStrategy[str]:
    """Dimension key names: any text the KEY terminal matches, except a reserved word."""
    part = st.builds(str.__add__, st.sampled_from(_KEY_START), st.text(_KEY_REST, max_size=8))
    generated = st.lists(part, min_size=1, max_size=3).map(".".join)
    tricky = st.sampled_from(_TRICKY_KEYS)
    # Mostly the (cheap) list: generating a key costs as much as the rest of a comparison.
    return st.one_of(tricky, tricky, generated).filter(lambda name: name.lower() not in RESERVED)


@functools.cache
def keys() -> st.SearchStrategy[Key]:
    """:class:`~flowql.ast.Key` nodes."""
    return key_names().map(Key)


@functools.cache
def string_values() -> st.SearchStrategy[str]:
    """String contents meant to break quoting and escaping: hostile characters mixed with any
    Unicode (no surrogates: they cannot be written as UTF-8)."""
    characters = st.one_of(
        st.sampled_from(HOSTILE_CHARACTERS), st.characters(codec="utf-8"), st.just("a")
    )
    return st.one_of(
        st.sampled_from(_HOSTILE_STRINGS),
        st.text(characters, max_size=12),
        st.text(max_size=8),
    )


def _int_with_digits(digits: int, seed: int, negative: bool) -> int:
    # An int of exactly `digits` digits; built from a seed so that the strategy's repr (which
    # Hypothesis prints) stays short however large the number.
    value = random.Random(seed).randrange(10 ** (digits - 1), 10**digits)
    return -value if negative else value


@functools.cache
def numbers() -> st.SearchStrategy[Number]:
    """:class:`~flowql.ast.Number` nodes: small and huge ints (up to :data:`MAX_INT_DIGITS`
    digits, the longest that converts to text), negative ones, and finite floats (subnormals,
    ``-0.0`` and the largest float included)."""
    huge = st.builds(
        _int_with_digits,
        st.one_of(st.integers(19, 400), st.just(MAX_INT_DIGITS)),
        st.integers(0, 2**32),
        st.booleans(),
    )
    ints = st.one_of(
        st.integers(),
        st.integers(min_value=-(2**130), max_value=2**130),
        huge,
        st.sampled_from((0, -1, 2**63, -(2**63) - 1, 2**64)),
    )
    floats = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from((0.0, -0.0, 0.1, 1e16, 1.5e-7, 5e-324, 1.7976931348623157e308)),
    )
    return st.one_of(ints, floats).map(Number)


@functools.cache
def values() -> st.SearchStrategy[Value]:
    """Value nodes: :class:`~flowql.ast.String`, :class:`~flowql.ast.Number` or
    :class:`~flowql.ast.Boolean`, strings most often."""
    return st.one_of(
        string_values().map(String),
        numbers(),
        st.booleans().map(Boolean),
    )


# --- expressions --------------------------------------------------------------------------------


@functools.cache
def comparisons() -> st.SearchStrategy[Comparison]:
    """``key OP value`` with any of the four operators."""
    return st.builds(Comparison, keys(), st.sampled_from(list(Op)), values())


@functools.cache
def memberships(max_values: int = 5) -> st.SearchStrategy[In]:
    """``key IN (...)`` and ``key NOT IN (...)`` with 1 to ``max_values`` values."""
    return st.builds(In, keys(), st.lists(values(), min_size=1, max_size=max_values), st.booleans())


@functools.cache
def exprs(max_depth: int = 4, max_operands: int = 4) -> st.SearchStrategy[Expr]:
    """Expressions with at most ``max_depth`` boolean levels (NOT, AND, OR) above a test.

    AND/OR get 2 to ``max_operands`` operands; operands of their own kind are flattened by the
    constructors, so the trees are in the shape the parser returns.
    """
    leaves: st.SearchStrategy[Expr] = st.one_of(comparisons(), memberships())
    strategy = leaves
    for _ in range(max_depth):
        below = strategy
        operands = st.lists(below, min_size=2, max_size=max_operands)
        strategy = st.one_of(
            leaves,
            below.map(Not),
            operands.map(lambda ops: And(*ops)),
            operands.map(lambda ops: Or(*ops)),
        )
    return strategy


def expr_depth(expr: Node) -> int:
    """The nesting depth :func:`flowql.parse` limits: the most boolean nodes (AND, OR, NOT) on a
    path from ``expr`` down to a test. Iterative, so it works on trees of any depth."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(expr, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (And, Or, Not)):
            stack.extend((child, depth + 1) for child in node.children())
        else:
            deepest = max(deepest, depth)
    return deepest


# --- rendering an expression as varied text -----------------------------------------------------

_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_SPACES = (" ", "  ", "\t", "\n", "\r\n", "\f", "\v", " \n\t ", "\n\n")


def _random_character(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(HOSTILE_CHARACTERS)
    while True:
        ch = chr(rng.randrange(0x20, 0x110000 if rng.random() < 0.3 else 0x800))
        if not 0xD800 <= ord(ch) <= 0xDFFF:
            return ch


def _mixed_case(rng: random.Random, word: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return word.lower()
    if style == 1:
        return word.upper()
    if style == 2:
        return word.title()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


def _quote(rng: random.Random, text: str) -> str:
    quote = rng.choice("'\"")
    other = '"' if quote == "'" else "'"
    escape_other = rng.random() < 0.5
    out = [quote]
    for ch in text:
        if ch in ("\\", quote) or (ch == other and escape_other):
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def _spell_number(rng: random.Random, value: int | float) -> str:
    text = repr(value)
    sign = "-" if text.startswith("-") else ""
    body = text[len(sign) :]
    if isinstance(value, int):
        if value == 0 and rng.random() < 0.5:
            sign = "-"
        zeros = rng.randrange(3) if len(body) + 2 <= MAX_INT_DIGITS else 0
        return sign + "0" * zeros + body
    mantissa, e, exponent = body.partition("e")
    if rng.random() < 0.3:
        mantissa = "0" * rng.randrange(1, 3) + mantissa
    if not e:
        return sign + mantissa
    exp_sign = exponent[0] if exponent[0] in "+-" else ""
    digits = exponent[len(exp_sign) :]
    if exp_sign == "+" and rng.random() < 0.5:
        exp_sign = ""
    elif not exp_sign and rng.random() < 0.5:
        exp_sign = "+"
    digits = "0" * rng.randrange(3) + digits
    return sign + mantissa + rng.choice("eE") + exp_sign + digits


def _value_tokens(rng: random.Random, value: Value) -> list[str]:
    if isinstance(value, String):
        return [_quote(rng, value.value)]
    if isinstance(value, Boolean):
        return [_mixed_case(rng, "true" if value.value else "false")]
    return [_spell_number(rng, value.value)]


def _maybe_parens(rng: random.Random, tokens: list[str], required: bool) -> list[str]:
    count = (1 if required else 0) + (rng.randrange(1, 3) if rng.random() < 0.15 else 0)
    return ["("] * count + tokens + [")"] * count


def _expr_tokens(rng: random.Random, expr: Expr) -> list[str]:
    # Recursive: the trees rendered here are shallow.
    if isinstance(expr, Comparison):
        return [expr.key.name, expr.op.value, *_value_tokens(rng, expr.value)]
    if isinstance(expr, In):
        tokens = [expr.key.name]
        if expr.negated:
            tokens.append(_mixed_case(rng, "not"))
        tokens += [_mixed_case(rng, "in"), "("]
        for i, value in enumerate(expr.values):
            if i:
                tokens.append(",")
            tokens += _value_tokens(rng, value)
        tokens.append(")")
        return tokens
    if isinstance(expr, Not):
        operand = expr.operand
        inner = _expr_tokens(rng, operand)
        inner = _maybe_parens(rng, inner, isinstance(operand, (And, Or)))
        return [_mixed_case(rng, "not"), *inner]
    assert isinstance(expr, (And, Or))
    return _connective_tokens(rng, type(expr), list(expr.operands))


def _connective_tokens(
    rng: random.Random, kind: type[And | Or], operands: Sequence[Expr]
) -> list[str]:
    # Split the operands into runs; a run of two or more becomes a parenthesized group of the same
    # kind, which the parser flattens back: `a AND (b AND c)` is And(a, b, c).
    groups: list[Sequence[Expr]] = []
    rest = list(operands)
    while rest:
        size = 1
        if len(rest) > 1 and rng.random() < 0.15:
            size = rng.randrange(2, len(rest) + 1)
            if size == len(operands):
                size = 1
        groups.append(rest[:size])
        rest = rest[size:]
    word = "and" if kind is And else "or"
    tokens: list[str] = []
    for i, group in enumerate(groups):
        if i:
            tokens.append(_mixed_case(rng, word))
        if len(group) > 1:
            tokens += ["(", *_connective_tokens(rng, kind, group), ")"]
            continue
        operand = group[0]
        inner = _expr_tokens(rng, operand)
        # OR inside AND needs parentheses; AND inside OR and anything else may have them.
        tokens += _maybe_parens(rng, inner, kind is And and isinstance(operand, Or))
    return tokens


def _gap(rng: random.Random, required: bool, at_end: bool = False) -> str:
    roll = rng.random()
    if roll < 0.4 and not required:
        return ""
    if roll < 0.9:
        return " " if rng.random() < 0.5 else rng.choice(_SPACES)
    comment = "#" + "".join(_random_character(rng) for _ in range(rng.randrange(8)))
    comment = comment.replace("\n", "")
    before = rng.choice(("", " ", "\t"))
    return before + comment + ("" if at_end and rng.random() < 0.5 else "\n")


def render(expr: Expr, rng: random.Random | None = None) -> str:
    """``expr`` as FlowQL text: canonical spacing without ``rng``, else varied by ``rng``'s
    choices (see :func:`source_texts`). Plain Python, so non-Hypothesis tests can use it too."""
    if rng is None:
        return flowql_format(expr)
    tokens = _maybe_parens(rng, _expr_tokens(rng, expr), False)
    out = [_gap(rng, False)]
    for i, token in enumerate(tokens):
        if i:
            out.append(_gap(rng, tokens[i - 1][-1] in _WORD and token[0] in _WORD))
        out.append(token)
    out.append(_gap(rng, False, at_end=True))
    return "".join(out)


def source_texts(expr: Expr) -> st.SearchStrategy[str]:
    """Varied valid FlowQL text that parses to ``expr``: random keyword case, white space
    (newlines, tabs, form feeds), comments between tokens, redundant parentheses, AND/OR operands
    regrouped in parentheses, single or double quotes with the escapes each needs (and sometimes
    one it does not), numbers with leading zeros, ``E``, ``+`` or zero-padded exponents.

    The choices come from a seeded :class:`random.Random` rather than one Hypothesis draw each:
    that is many times faster, and the tree (which does shrink) is what matters in a failure."""
    return st.integers(0, 2**32 - 1).map(lambda seed: render(expr, random.Random(seed)))


@functools.cache
def filters(max_depth: int = 4) -> st.SearchStrategy[tuple[Expr, str]]:
    """``(expr, text)`` pairs where ``text`` is a varied rendering of ``expr``."""
    return exprs(max_depth).flatmap(lambda e: st.tuples(st.just(e), source_texts(e)))


# --- fuzzing input ------------------------------------------------------------------------------


# --- seeded generation: plain `random`, for fuzzing input and for tests without Hypothesis ------


def random_key(rng: random.Random) -> Key:
    """A key: one of the tricky ones, or dotted parts of random identifier characters."""
    if rng.random() < 0.5:
        return Key(rng.choice(_TRICKY_KEYS))
    while True:
        parts = [
            rng.choice(_KEY_START) + "".join(rng.choice(_KEY_REST) for _ in range(rng.randrange(8)))
            for _ in range(rng.randrange(1, 4))
        ]
        name = ".".join(parts)
        if name.lower() not in RESERVED:
            return Key(name)


def random_value(rng: random.Random) -> Value:
    """A value, as hostile as :func:`values` draws them."""
    roll = rng.random()
    if roll < 0.5:
        if rng.random() < 0.3:
            return String(rng.choice(_HOSTILE_STRINGS))
        return String("".join(_random_character(rng) for _ in range(rng.randrange(10))))
    if roll < 0.65:
        digits = rng.choice((1, 3, 19, 40, rng.randrange(1, MAX_INT_DIGITS + 1)))
        return Number(_int_with_digits(digits, rng.randrange(2**32), rng.random() < 0.5))
    if roll < 0.8:
        while True:
            bits = rng.getrandbits(64).to_bytes(8, "little")
            value = struct.unpack("<d", bits)[0] if rng.random() < 0.5 else rng.uniform(-1e6, 1e6)
            if math.isfinite(value):
                return Number(value)
    return Boolean(rng.random() < 0.5)


def random_expr(rng: random.Random, max_depth: int = 3) -> Expr:
    """An expression with at most ``max_depth`` boolean levels, like those :func:`exprs`
    draws."""
    roll = rng.random() if max_depth > 0 else 0.0
    if roll < 0.35:
        key = random_key(rng)
        if rng.random() < 0.7:
            return Comparison(key, rng.choice(list(Op)), random_value(rng))
        values = [random_value(rng) for _ in range(rng.randrange(1, 4))]
        return In(key, values, rng.random() < 0.5)
    if roll < 0.5:
        return Not(random_expr(rng, max_depth - 1))
    operands = [random_expr(rng, max_depth - 1) for _ in range(rng.randrange(2, 4))]
    return (And if roll < 0.75 else Or)(*operands)


def random_filter(rng: random.Random, max_depth: int = 3) -> str:
    """The varied text (see :func:`source_texts`) of a random expression."""
    return render(random_expr(rng, max_depth), rng)


@functools.cache
def seeded_filters(max_depth: int = 2) -> st.SearchStrategy[str]:
    """Valid filter texts from :func:`random_filter`: one Hypothesis draw each (the seed), so
    many times cheaper than :func:`filters`, at the price of failing examples that do not shrink
    structurally. For fuzzing input, where most of the text is noise anyway."""
    return st.integers(0, 2**32 - 1).map(lambda seed: random_filter(random.Random(seed), max_depth))


@functools.cache
def _fragments() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(FRAGMENTS), key_names())


@st.composite
def mutated_texts(draw: st.DrawFn, max_edits: int = 3) -> str:
    """A valid filter with one to ``max_edits`` random edits: a slice deleted, duplicated or
    replaced by a fragment, or a fragment inserted. Mostly invalid, and close to valid."""
    text = draw(seeded_filters())
    fragment = _fragments()
    for _ in range(draw(st.integers(1, max_edits))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 6)))
        action = draw(st.sampled_from(("delete", "duplicate", "replace", "insert")))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "replace":
            text = text[:start] + draw(fragment) + text[end:]
        else:
            text = text[:start] + draw(fragment) + text[start:]
    return text


@functools.cache
def noisy_texts() -> st.SearchStrategy[str]:
    """Arbitrary text for fuzzing, about a third of it valid filters: one to three chunks of any
    Unicode, of text over a FlowQL-flavoured alphabet, of runs of FlowQL fragments and keys, or of
    a valid filter, joined; and valid filters with a few random edits."""
    alphabet = st.sampled_from("()=!~<>&|,'\"\\#-._ \n\tanotrueinfls0123456789eE")
    pieces = st.one_of(st.sampled_from(FRAGMENTS), key_names(), st.sampled_from(_SPACES))
    chunk = st.one_of(
        st.text(min_size=1, max_size=20),
        st.text(alphabet, min_size=1, max_size=30),
        st.lists(pieces, min_size=1, max_size=12).map("".join),
        seeded_filters(),
    )
    # (Hypothesis draws from the branches of one_of unevenly, favouring those with more choices
    # to make; the chunks keep plain text from being crowded out.)
    return st.one_of(st.lists(chunk, min_size=1, max_size=3).map("".join), mutated_texts())


def small_trees(leaves: st.SearchStrategy[Expr], *, max_leaves: int) -> st.SearchStrategy[Expr]:
    """Small trees over ``leaves``: NOT, and AND/OR of 2 or 3 operands, at most ``max_leaves``
    leaves. The target tests evaluate them on every record of a small domain."""
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(*ops)),
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(*ops)),
        ),
        max_leaves=max_leaves,
    )


def text_matches(expr: Expr, record: Mapping[str, str], text_of: Callable[[Value], str]) -> bool:
    """A tiny evaluator of the Flow semantics on text records, for the targets' property tests:
    == exact, ~~ substring, a missing key matches only != and !~; ``text_of`` is the text a value
    is compared as."""
    if isinstance(expr, And):
        return all(text_matches(e, record, text_of) for e in expr.operands)
    if isinstance(expr, Or):
        return any(text_matches(e, record, text_of) for e in expr.operands)
    if isinstance(expr, Not):
        return not text_matches(expr.operand, record, text_of)
    if isinstance(expr, In):
        found = any(record.get(expr.key.name) == text_of(v) for v in expr.values)
        return found != expr.negated
    assert isinstance(expr, Comparison)
    actual = record.get(expr.key.name)
    wanted = text_of(expr.value)
    if actual is None:
        return expr.op in (Op.NE, Op.NOT_CONTAINS)
    return {
        Op.EQ: actual == wanted,
        Op.NE: actual != wanted,
        Op.CONTAINS: wanted in actual,
        Op.NOT_CONTAINS: wanted not in actual,
    }[expr.op]
