"""Lark running ``grammar/flowql.lark`` directly: the reference the corpus and the property tests
hold :func:`flowql.parse` to.

:func:`lark_parser` builds Lark's LALR parser once; :func:`lark_expr` turns its parse tree into
flowql's AST, built independently of :mod:`flowql.syntax` (recursive: the trees checked against
it are shallow). :data:`BEYOND_GRAMMAR` are the codes of checks flowql makes beyond the grammar,
for text the grammar itself accepts: Lark is not asked about those.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lark import Lark, Token, Tree

from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Not, Number, Op, Or, String

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "flowql.lark"

# Checks flowql makes beyond the grammar: an unknown escape, a number too large, the limits.
BEYOND_GRAMMAR = frozenset({"FQ003", "FQ015", "FQ016", "FQ017"})

STRING_RE = re.compile(r"""'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*\"""")
ESCAPE_RE = re.compile(r"\\([\s\S])")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """Lark's LALR parser for the grammar, built on first use."""
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic")


def decode_string(literal: str) -> str:
    """The value of a STRING literal, decoded independently of flowql."""
    assert STRING_RE.fullmatch(literal), literal
    body = literal[1:-1]
    assert all(ch in "'\"\\" for ch in ESCAPE_RE.findall(body)), literal
    return ESCAPE_RE.sub(lambda m: m.group(1), body)


def number_value(literal: str) -> int | float:
    return float(literal) if any(c in literal for c in ".eE") else int(literal)


def lark_expr(tree: Tree[Token] | Token) -> Expr:
    """Lark's parse tree as flowql's AST."""
    assert isinstance(tree, Tree), tree
    name, kids = str(tree.data), tree.children
    if name == "start":
        return lark_expr(kids[0])
    if name in ("or_expr", "and_expr"):
        operands = [lark_expr(k) for k in kids]
        return Or(*operands) if name == "or_expr" else And(*operands)
    if name == "negation":
        return Not(lark_expr(kids[0]))
    if name == "comparison":
        key, op, value = kids
        assert isinstance(op, Token)
        return Comparison(lark_key(key), Op(str(op)), lark_value(value))
    if name in ("membership", "negated_membership"):
        return In(
            lark_key(kids[0]), [lark_value(v) for v in kids[1:]], name == "negated_membership"
        )
    raise AssertionError(f"unexpected tree {name!r}")


def lark_key(tree: Tree[Token] | Token) -> Key:
    assert isinstance(tree, Tree)
    assert str(tree.data) == "key"
    return Key(str(tree.children[0]))


def lark_value(tree: Tree[Token] | Token) -> String | Number | Boolean:
    assert isinstance(tree, Tree)
    name = str(tree.data)
    if name == "true":
        return Boolean(True)
    if name == "false":
        return Boolean(False)
    (token,) = tree.children
    assert isinstance(token, Token)
    if name == "string":
        return String(decode_string(str(token)))
    assert name == "number", name
    return Number(number_value(str(token)))
