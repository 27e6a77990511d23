"""What may come next in a filter: flowql's answer is the grammar's own (Lark's).

flowql.lookahead feeds the tokens before the cursor through flowql's generated LALR tables
and asks flowql.syntax._acceptable what the parser could shift next. Lark, running
grammar/flowql.lark itself, answers the same question with its interactive parser
(``parse_interactive(text)``, ``exhaust_lexer()``, ``accepts()``): for any text, the two
answers must be the same set of terminal names, or both "this is not the start of a filter".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from lark.exceptions import LarkError
from strategies import noisy_texts, seeded_filters

from flowql.lookahead import END, feed, half_typed, lookahead, scan, unfinished

ROOT = Path(__file__).resolve().parent.parent
LARK = Lark(
    (ROOT / "grammar" / "flowql.lark").read_text(encoding="utf-8"), parser="lalr", lexer="basic"
)


def lark_accepts(text: str) -> set[str] | None:
    """Lark's set of terminals that may follow ``text``, or None when Lark cannot read it."""
    try:
        interactive = LARK.parse_interactive(text)
        interactive.exhaust_lexer()
        return set(interactive.accepts())  # type: ignore[no-untyped-call]
    except LarkError:
        return None


def flowql_accepts(text: str) -> set[str] | None:
    tokens, _ = scan(text)
    return lookahead(tokens).accepts


@st.composite
def prefixes(draw: st.DrawFn) -> str:
    """The start of a valid filter, cut anywhere (mid-word and mid-string included)."""
    text = draw(seeded_filters())
    return text[: draw(st.integers(0, len(text)))]


@settings(max_examples=400, deadline=None)
@given(prefixes())
def test_the_next_tokens_are_larks_for_every_prefix(prefix: str) -> None:
    assert flowql_accepts(prefix) == lark_accepts(prefix)


@settings(max_examples=200, deadline=None)
@given(noisy_texts())
def test_the_next_tokens_are_larks_for_any_text(text: str) -> None:
    assert flowql_accepts(text) == lark_accepts(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"KEY", "_LPAR", "_NOT"}),
        ("geo_country", {"COMPARE", "_IN", "_NOT"}),
        ("geo_country ==", {"STRING", "NUMBER", "_TRUE", "_FALSE"}),
        ("geo_country == 'Spain'", {"_AND", "_OR", END}),
        ("(geo_country == 'Spain'", {"_AND", "_OR", "_RPAR"}),
        ("cdn IN ('a'", {"_COMMA", "_RPAR"}),
        ("cdn NOT", {"_IN"}),
        ("cdn IN", {"_LPAR"}),
        ("NOT", {"KEY", "_LPAR", "_NOT"}),
    ],
)
def test_what_may_come_next(text: str, expected: set[str]) -> None:
    assert flowql_accepts(text) == expected
    assert lark_accepts(text) == expected


def test_feed_takes_terminal_names() -> None:
    assert feed(["KEY", "COMPARE", "STRING"]) == {"_AND", "_OR", END}
    assert feed(["KEY", "KEY"]) is None


def test_the_last_key_is_the_key_a_value_belongs_to() -> None:
    tokens, _ = scan("a == 'x' AND cdn IN ('y', ")
    assert lookahead(tokens).last_key == "cdn"


def test_a_comment_at_the_end_is_noticed() -> None:
    assert scan("a == 'x' # note")[1] is True
    assert scan("a == 'x' # note\n")[1] is False


@pytest.mark.parametrize(
    "text",
    [
        "geo_country ==",
        "(geo_country == 'Spain'",
        "geo_country == 'Spa",
        "a == 'x' AND",
        "cdn IN ('a',",
        "NOT",
        "a == 'it\\'s",
        "(a == 'x' OR\n  b == 'y'",
    ],
)
def test_unfinished_filters(text: str) -> None:
    assert unfinished(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   # only a comment",
        "geo_country == 'Spain'",
        "geo_country = 'Spain'",  # wrong, not unfinished
        "a == 'x')",
        "a == 'x' b",
        "'open string where a key goes",
    ],
)
def test_finished_or_wrong_filters(text: str) -> None:
    assert not unfinished(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("geo_country ~", "~"),
        ("geo_country =", "="),
        ("a == 'x' AND b !", "!"),
        ("geo_country = ", None),  # left as it is: a mistake, not half an operator
        ("~", None),  # no key before it
        ("a == 'x' ~", None),
        ("geo_country", None),
    ],
)
def test_half_typed_operators(text: str, expected: str | None) -> None:
    assert half_typed(text) == expected
