"""Property tests of the parser, the formatter and the tokenizer (Hypothesis).

- round trip: ``parse(format(e)) == e`` for generated trees;
- varied text: any valid spelling of a tree (case, white space, comments, parentheses, quotes,
  number spellings) parses to that tree, and nests exactly as deep as the tree;
- no crash: on any text, :func:`flowql.parse` returns an expression or raises a
  :class:`~flowql.FlowQLError` whose positions are real positions in the text;
- agreement with Lark: Lark running ``grammar/flowql.lark`` accepts exactly the texts flowql
  accepts, and builds the same tree;
- spans: every node's span is where its text is;
- tokenize: the tokens cover the text exactly, and match Lark's lexer.
"""

from __future__ import annotations

import functools
import random
import re

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput
from lark.lexer import LexerThread
from lark_reference import BEYOND_GRAMMAR, decode_string, lark_expr, lark_parser, number_value
from strategies import (
    MAX_INT_DIGITS,
    expr_depth,
    exprs,
    filters,
    noisy_texts,
    random_expr,
    render,
    small_trees,
)

import flowql
from flowql.ast import (
    Boolean,
    Comparison,
    Expr,
    In,
    Key,
    Node,
    Number,
    Op,
    Span,
    String,
    transform,
    walk,
)
from flowql.codes import CODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.checker.check import Checker

LARK = lark_parser()
# Lark's lexer with nothing ignored, built once (Lark.lex(dont_ignore=True) builds one per call).
LEXER = LARK._build_lexer(dont_ignore=True)

NUMBER_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")

# Names from the grammar that must never reach a user; checked in messages about texts that do
# not themselves contain them (a message may quote the text).
GRAMMAR_NAMES = tuple(
    sorted({t.name for t in LARK.terminals} | {"$END", "or_expr", "and_expr", "not_expr"})
)

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


# --- helpers ------------------------------------------------------------------------------------


def lark_tree(text: str) -> Tree[Token] | None:
    """Lark's parse tree for the text, or None when Lark rejects the text."""
    try:
        return LARK.parse(text)
    except UnexpectedInput:
        return None


def lark_tokens(text: str) -> tuple[list[Token], int | None]:
    """Lark's tokens (ignored ones too) up to the first character that starts none, and where
    that character is (None when there is none)."""
    tokens: list[Token] = []
    try:
        tokens.extend(LexerThread.from_text(LEXER, text).lex(None))  # type: ignore[no-untyped-call]
    except UnexpectedCharacters as exc:
        return tokens, exc.pos_in_stream
    return tokens, None


def sanitize(text: str) -> str:
    """The text with every string flowql rejects for an unknown escape replaced by ``'s'``, and
    every number it rejects as out of range by ``0`` (or ``-0``): the same tokens for Lark, and
    no FQ003 or FQ015 for flowql. (Tokens after a character that starts none do not matter: both
    parsers stop there.)"""
    tokens, _ = lark_tokens(text)
    for token in reversed(tokens):
        if token.type in ("STRING", "NUMBER"):
            code = outcome(f"v == {token}")
            start, end = token.start_pos, token.end_pos
            assert start is not None
            assert end is not None
            if code == "FQ003":
                text = text[:start] + "'s'" + text[end:]
            elif code == "FQ015":
                # Keep the sign: in `0-1e999` the number follows a digit, and `00` is one token.
                zero = "-0" if token.startswith("-") else "0"
                text = text[:start] + zero + text[end:]
    return text


def attempt(text: str, **limits: int) -> Expr | flowql.FlowQLError:
    """flowql's tree, or its error."""
    try:
        return flowql.parse(text, **limits)
    except flowql.FlowQLError as err:
        return err


def outcome(text: str, **limits: int) -> Expr | str:
    """flowql's tree, or the code of its error."""
    result = attempt(text, **limits)
    return result.code if isinstance(result, flowql.FlowQLError) else result


def check_position(text: str, line: int | None, column: int | None) -> None:
    lines = text.split("\n")
    assert line is not None
    assert column is not None
    assert 1 <= line <= len(lines), (line, len(lines))
    assert 1 <= column <= len(lines[line - 1]) + 1, (line, column, lines[line - 1])


def check_error(text: str, err: flowql.FlowQLError) -> None:
    """The error's positions are positions in the text, and it renders and reads well."""
    assert err.code in CODES
    assert isinstance(err, flowql.ParseError)
    assert isinstance(err, flowql.LimitError) == (err.code in ("FQ016", "FQ017"))
    span = err.span
    assert span is not None
    assert 0 <= span.start <= span.end <= len(text)
    assert span == Span.from_offsets(text, span.start, span.end)
    check_position(text, err.line, err.column)
    check_position(text, err.end_line, err.end_column)
    assert (span.line, span.column) <= (span.end_line, span.end_column)
    rendered = err.render()
    assert f"error[{err.code}]: " in rendered
    words = f"{err.message}\n{err.hint or ''}"
    for name in GRAMMAR_NAMES:
        assert name in text or name not in words, (name, words)
    for leak in ("re.Match", "Token(", "Tree(", "None"):
        assert leak in text or leak not in words, (leak, words)


# --- round trip and varied text -----------------------------------------------------------------


@settings(max_examples=2000, deadline=None, suppress_health_check=SLOW)
@given(exprs(max_depth=4, max_operands=3))
def test_format_round_trip(expr: Expr) -> None:
    text = flowql.format(expr)
    parsed = flowql.parse(text)
    assert parsed == expr
    assert "\n" not in text or any(isinstance(n, String) and "\n" in n.value for n in walk(expr))
    assert flowql.format(parsed) == text


@settings(max_examples=800, deadline=None, suppress_health_check=SLOW)
@given(filters())
def test_varied_text_parses_to_its_tree(pair: tuple[Expr, str]) -> None:
    expr, text = pair
    assert flowql.parse(text) == expr


@settings(max_examples=1000, deadline=None, suppress_health_check=SLOW)
@given(st.integers(0, 2**32 - 1))
def test_seeded_filters_parse_to_their_tree(seed: int) -> None:
    # The fuzzing input builds on these, so they must be right too.
    rng = random.Random(seed)
    expr = random_expr(rng, rng.randrange(5))
    assert flowql.parse(render(expr, rng)) == expr


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
@given(filters(), st.integers(0, 8))
def test_depth_limit_is_exact(pair: tuple[Expr, str], max_depth: int) -> None:
    # The parser skips the depth check for texts that cannot nest too deep; the limit must hold
    # exactly all the same, with any parentheses and NOTs.
    expr, text = pair
    depth = expr_depth(expr)
    for candidate in (text, flowql.format(expr)):
        result = outcome(candidate, max_depth=max_depth)
        if depth <= max_depth:
            assert result == expr
        else:
            assert result == "FQ017"


# --- arbitrary text -----------------------------------------------------------------------------


@settings(max_examples=3000, deadline=None, suppress_health_check=SLOW)
@given(noisy_texts())
# Inputs that crashed some version of the parser:
@example("\u00b9")  # a superscript digit: str.isdigit() is True, but no NUMBER starts there
@example("a == \u00b9")
@example("a == " + "9" * 4215)  # an int that Number refused as too large: a bare ValueError
@example("k in (0-1E-7750)")  # a float that underflows to zero
def test_parse_never_crashes(text: str) -> None:
    result = attempt(text)
    if isinstance(result, flowql.FlowQLError):
        event(result.code)
        check_error(text, result)
    else:
        event("parsed")
        assert isinstance(result, Expr)


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW)
@given(noisy_texts(), st.integers(0, 40))
def test_length_limit_errors_are_positioned(text: str, max_length: int) -> None:
    result = attempt(text, max_length=max_length)
    if isinstance(result, flowql.FlowQLError):
        check_error(text, result)
    if len(text) > max_length:
        assert isinstance(result, flowql.LimitError)
        assert result.code == "FQ016"


@settings(max_examples=1500, deadline=None, suppress_health_check=SLOW)
@given(noisy_texts())
def test_lark_accepts_exactly_what_flowql_accepts(text: str) -> None:
    clean = sanitize(text)
    ours = outcome(clean, max_depth=1_000_000)
    tree = lark_tree(clean)
    event("rejected" if isinstance(ours, str) else "accepted")
    if isinstance(ours, str):
        assert ours not in BEYOND_GRAMMAR
        assert tree is None, f"Lark accepts {clean!r}, flowql says {ours}"
    else:
        assert tree is not None, f"Lark rejects {clean!r}, flowql accepts it"
        assert lark_expr(tree) == ours, clean
    if clean != text:
        # Lark does not look inside strings or at a number's size...
        assert (lark_tree(text) is None) == (tree is None)
        # ...and flowql either reports the escape or the number, or the same as without them.
        original = outcome(text, max_depth=1_000_000)
        assert original in ("FQ003", "FQ015") or original == ours


# --- spans --------------------------------------------------------------------------------------


def _parents(tree: Node) -> list[tuple[Node, Node | None]]:
    pairs: list[tuple[Node, Node | None]] = []
    stack: list[tuple[Node, Node | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        pairs.append((node, parent))
        stack.extend((child, node) for child in node.children())
    return pairs


@settings(max_examples=400, deadline=None, suppress_health_check=SLOW)
@given(filters())
def test_spans_point_at_the_text(pair: tuple[Expr, str]) -> None:
    _, text = pair
    tree = flowql.parse(text)
    for node, parent in _parents(tree):
        span = node.span
        assert span is not None
        assert span == Span.from_offsets(text, span.start, span.end)
        piece = text[span.start : span.end]
        if parent is not None:
            outer = parent.span
            assert outer is not None
            assert outer.start <= span.start <= span.end <= outer.end
        if isinstance(node, Key):
            assert piece == node.name
        elif isinstance(node, String):
            assert decode_string(piece) == node.value
            assert flowql.parse(f"k == {piece}") == Comparison(Key("k"), Op.EQ, node)
        elif isinstance(node, Number):
            assert NUMBER_RE.fullmatch(piece)
            assert Number(number_value(piece)) == node
        elif isinstance(node, Boolean):
            assert piece.lower() == ("true" if node.value else "false")
        else:
            # An expression's text is that expression on its own.
            assert isinstance(node, Expr)
            assert flowql.parse(piece) == node, piece
            if isinstance(node, (Comparison, In)):
                assert span.start == node.key.span.start  # type: ignore[union-attr]


# --- tokenize -----------------------------------------------------------------------------------

KINDS = frozenset(
    {"KEY", "STRING", "NUMBER", "COMPARE", "AND", "OR", "NOT", "IN", "TRUE", "FALSE"}
    | {"LPAR", "RPAR", "COMMA", "COMMENT", "WHITESPACE", "INVALID"}
)


# An INVALID token is one character, a word that starts with a digit but is no number, or an
# unterminated string running to the end of the text (whole runs keep tokenize() linear).
_INVALID_TOKEN = re.compile(r"[\s\S]|[0-9][A-Za-z0-9_.]*|['\"][\s\S]*")


@settings(max_examples=1500, deadline=None, suppress_health_check=SLOW)
@given(st.one_of(st.text(), noisy_texts()))
@example("1" * 5000 + "x")
@example("'" + "\\'" * 5000)
def test_tokens_cover_the_text(text: str) -> None:
    tokens = flowql.tokenize(text)
    assert "".join(t.text for t in tokens) == text
    at = 0
    for token in tokens:
        assert token.kind in KINDS
        assert token.start == at
        assert token.end == at + len(token.text) > at
        assert text[token.start : token.end] == token.text
        if token.kind == "INVALID":
            assert _INVALID_TOKEN.fullmatch(token.text)
        at = token.end
    # Up to the first character that starts no token, Lark's lexer reads the same tokens.
    theirs, stopped = lark_tokens(text)
    ours = []
    for token in tokens:
        if token.kind == "INVALID":
            assert stopped == token.start
            break
        ours.append((token.kind, token.text, token.start))
    else:
        assert stopped is None
    assert ours == [(t.type.lstrip("_"), str(t), t.start_pos) for t in theirs]


# --- numbers at the edge of what Python can print -----------------------------------------------


@pytest.mark.parametrize(
    "digits",
    [MAX_INT_DIGITS, MAX_INT_DIGITS + 1, MAX_INT_DIGITS + 10, 4300, 4301, 5000],
)
@pytest.mark.parametrize("sign", ["", "-"])
def test_huge_int_parses_or_is_FQ015(digits: int, sign: str) -> None:
    # Every int of MAX_INT_DIGITS digits is a Number; longer ones may be too large, and then the
    # parser reports FQ015 (never a bare ValueError).
    text = f"n == {sign}{'9' * digits}"
    result = attempt(text)
    if isinstance(result, flowql.FlowQLError):
        assert digits > MAX_INT_DIGITS
        assert result.code == "FQ015"
        check_error(text, result)
        assert (result.span.start, result.span.end) == (5, len(text))  # type: ignore[union-attr]
    else:
        assert isinstance(result, Comparison)
        assert flowql.parse(flowql.format(result)) == result


@pytest.mark.parametrize("text", ["1e309", "-1e309", "1.5e99999", "9" * 400 + ".0"])
def test_huge_float_is_FQ015(text: str) -> None:
    with pytest.raises(flowql.ParseError) as info:
        flowql.parse(f"n == {text}")
    assert info.value.code == "FQ015"


# --- fixes: `flowql check --fix` is idempotent and keeps (or restores) the meaning -------------


@functools.cache
def fixer() -> Checker:
    from flowql.checker.check import Checker
    from flowql.checker.config import Config

    return Checker(Config())


def fixed(text: str) -> str:
    """The text as `flowql check --fix` writes a `.flowql` file of it (safe fixes only)."""
    from flowql.checker.check import Input

    return fixer().fix(Input("f.flowql", text, path="f.flowql"))[0]


def same_meaning(a: Expr, b: Expr, rng: random.Random) -> None:
    """Both filters match the same records, per the python target, on records built from the
    keys and values they name (missing, equal, containing, other)."""
    from flowql.targets.python import compile_predicate

    names = sorted({n.name for n in walk(a) if isinstance(n, Key)})
    values: list[object] = [v.value for v in walk(a) if isinstance(v, (String, Number, Boolean))]
    texts = [v for v in values if isinstance(v, str)]
    choices: list[object] = [*values, *(t + "x" for t in texts), "", "other", 0, True]
    left, right = compile_predicate(a), compile_predicate(b)
    for _ in range(40):
        record = {n: rng.choice(choices) for n in names if rng.random() < 0.85}
        assert left(record) == right(record), (flowql.format(a), flowql.format(b), record)


_BARE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,12}")


def mutate(expr: Expr, rng: random.Random) -> str:
    """``expr`` written as people get it wrong: '=' for '==', '<>' for '!=', '&&' '&' '||' '|'
    for AND and OR, a one-word value without quotes, lower-case connectives and stray spaces;
    every mistake one that has one repair."""
    out = []
    tokens = flowql.tokenize(flowql.format(expr))
    for i, token in enumerate(tokens):
        text = token.text
        mistake = rng.random() < 0.5
        if token.kind == "COMPARE" and mistake and text in ("==", "!="):
            text = "=" if text == "==" else "<>"
        elif token.kind in ("AND", "OR") and mistake:
            text = rng.choice(("&&", "&") if token.kind == "AND" else ("||", "|")) or text
        elif token.kind in ("AND", "OR") and rng.random() < 0.5:
            text = text.lower()
        elif token.kind == "STRING" and mistake and i >= 2:
            value = flowql.parse(f"k == {text}").value.value  # type: ignore[attr-defined]
            before = tokens[i - 2].kind  # the token before the space
            if (
                isinstance(value, str)
                and _BARE.fullmatch(value)
                and value.lower() not in RESERVED_WORDS
                and before in ("COMPARE", "COMMA", "LPAR")
            ):
                text = value
        elif token.kind == "WHITESPACE" and rng.random() < 0.3:
            text = rng.choice(("  ", "\t", " \n  "))
        out.append(text)
    return "".join(out) + "\n"


RESERVED_WORDS = frozenset({"and", "or", "not", "in", "true", "false"})


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
@given(filters(max_depth=3), st.randoms(use_true_random=False))
def test_fixing_a_valid_filter_keeps_its_meaning_and_is_idempotent(
    pair: tuple[Expr, str], rng: random.Random
) -> None:
    expr, text = pair
    once = fixed(text)
    assert fixed(once) == once
    same_meaning(expr, flowql.parse(once), rng)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
@given(exprs(max_depth=3), st.randoms(use_true_random=False))
def test_fixing_mistakes_gives_the_filter_that_was_meant(expr: Expr, rng: random.Random) -> None:
    # Words for values, some of them: a one-word value is the one that gets written bare.
    words = ("Spain", "Android", "tv_2", "x", "Madrid.Centro")
    expr = transform(  # type: ignore[assignment]
        expr,
        lambda n: String(rng.choice(words)) if isinstance(n, String) and rng.random() < 0.6 else n,
    )
    text = mutate(expr, rng)
    event("mistakes" if text != flowql.format(expr) + "\n" else "none")
    once = fixed(text)
    try:
        meant = flowql.parse(once)
    except flowql.ParseError as exc:
        raise AssertionError(f"{text!r} fixed to {once!r}: {exc.diagnostics[0]}") from None
    assert fixed(once) == once
    same_meaning(expr, meant, rng)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
@given(noisy_texts())
def test_fixing_any_text_is_idempotent(text: str) -> None:
    once = fixed(text)
    assert fixed(once) == once
    if once != text:
        # A filter stays a filter.
        was_valid = not isinstance(attempt(text), flowql.FlowQLError)
        assert not was_valid or not isinstance(attempt(once), flowql.FlowQLError)


@settings(max_examples=1500, deadline=None, suppress_health_check=SLOW)
@given(noisy_texts())
def test_a_parse_error_fix_moves_the_error_on(text: str) -> None:
    outcome = attempt(text)
    if not isinstance(outcome, flowql.ParseError):
        return
    first = outcome.diagnostics[0]
    if first.fix is None:
        return
    event(first.code)
    after = attempt(first.fix.apply(text))
    if isinstance(after, flowql.FlowQLError):
        # Fixed text may be wrong further on, never at or before the repair again.
        assert first.span is not None
        later = after.diagnostics[0]
        assert later.span is not None
        assert later.span.start >= first.span.start, (text, first, later)
        assert (later.code, later.span.start) != (first.code, first.span.start), (text, later)


def _small_leaves() -> st.SearchStrategy[Expr]:
    keys = st.sampled_from(["a", "b"]).map(Key)
    words = st.sampled_from(["x", "xy", "y"]).map(String)
    comparison = st.builds(Comparison, keys, st.sampled_from(list(Op)), words)
    membership = st.builds(
        In, keys, st.lists(words, min_size=1, max_size=3).map(tuple), negated=st.booleans()
    )
    return st.one_of(comparison, membership)


@settings(max_examples=400, deadline=None, suppress_health_check=SLOW)
@given(small_trees(_small_leaves(), max_leaves=6), st.randoms(use_true_random=False))
def test_fixing_redundant_logic_keeps_the_meaning(expr: Expr, rng: random.Random) -> None:
    # Few keys and values: repeats, implied comparisons and lists with repeats abound (FQ203,
    # FQ303), and their removal must not change what the filter matches.
    text = render(expr, rng)
    once = fixed(text)
    assert fixed(once) == once
    same_meaning(expr, flowql.parse(once), rng)
    event("changed" if once.strip() != flowql.format(expr) else "as it was")
