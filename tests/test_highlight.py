"""The Pygments lexer: registered as a plugin, faithful to the grammar, tolerant of unfinished
text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import (  # type: ignore[import-untyped]
    find_lexer_class_for_filename,
    get_lexer_by_name,
)
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Token,
    Whitespace,
)
from strategies import filters, noisy_texts

from flowql.highlight import FlowQLLexer
from flowql.syntax import tokenize

LEXER = FlowQLLexer(stripnl=False, ensurenl=False)

# flowql's token kinds, and the Pygments token each is highlighted as.
KINDS = {
    "KEY": Name.Attribute,
    "COMPARE": Operator,
    "AND": Keyword,
    "OR": Keyword,
    "NOT": Keyword,
    "IN": Keyword,
    "TRUE": Keyword.Constant,
    "FALSE": Keyword.Constant,
    "NUMBER": Number,
    "LPAR": Punctuation,
    "RPAR": Punctuation,
    "COMMA": Punctuation,
    "COMMENT": Comment.Single,
    "WHITESPACE": Whitespace,
}


def tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in LEXER.get_tokens(text) if value]


def newlines(text: str) -> str:
    """The text as Pygments reads it: every line break a \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_the_lexer_is_a_pygments_plugin() -> None:
    assert isinstance(get_lexer_by_name("flowql"), FlowQLLexer)
    assert find_lexer_class_for_filename("filters/spain.flowql") is FlowQLLexer


def test_pygments_highlights_flowql_by_name() -> None:
    html = highlight(
        "geo_country == 'Spain' AND NOT asn IN (1, 2)", get_lexer_by_name("flowql"), HtmlFormatter()
    )
    assert '<span class="na">geo_country</span>' in html
    assert '<span class="ow">' not in html  # keywords are Keyword, not Operator.Word
    assert '<span class="k">AND</span>' in html


@settings(max_examples=150, deadline=None)
@given(filters(max_depth=3))
def test_every_token_is_highlighted_as_its_kind(pair: tuple[object, str]) -> None:
    # Pygments reads a lone \\r as a line break, which would end a comment early.
    text = pair[1].replace("\r", " ")
    # Strings come out in pieces (quote, body, escapes); everything else is one token.
    lexed = tokens(text)
    at = 0
    for token in tokenize(text):
        if token.kind == "STRING":
            pieces = ""
            while len(pieces) < len(token.text):
                kind, value = lexed[at]
                assert kind in String
                assert kind is not Error
                pieces += value
                at += 1
            assert pieces == token.text
        else:
            assert lexed[at] == (KINDS[token.kind], token.text)
            at += 1
    assert at == len(lexed)


@settings(max_examples=200, deadline=None)
@given(noisy_texts())
def test_any_text_is_lexed_whole(text: str) -> None:
    assert "".join(value for _, value in LEXER.get_tokens(text)) == newlines(text)


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("geo_country == 'Spa", (String.Single, "Spa")),
        ('geo_country == "Spa', (String.Double, "Spa")),
        ("geo_country == 'it\\", (String.Single, "\\")),
        ("geo_country ==", (Operator, "==")),
        ("geo_country =", (Operator, "=")),
        ("geo_country ~", (Operator, "~")),
        ("geo_country !  ", (Whitespace, "  ")),
        ("a == 'x' AND", (Keyword, "AND")),
        ("a IN ('x',", (Punctuation, ",")),
    ],
)
def test_unfinished_text_is_not_an_error(text: str, last: tuple[object, str]) -> None:
    lexed = tokens(text)
    assert all(kind is not Error for kind, _ in lexed)
    assert lexed[-1] == last


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("a = 'x'", "="),  # a single '=' that is not at the end is a mistake
        ("a <> 'x'", "<"),
        ("12abc == 'x'", "12abc"),
        ("a == 'x\\q'", "\\q"),  # an escape FlowQL does not know
    ],
)
def test_what_starts_no_token_is_an_error(text: str, bad: str) -> None:
    assert (Error, bad) in tokens(text)


def test_keywords_take_any_case_but_keys_that_start_with_them_are_keys() -> None:
    lexed = tokens("android == true or in_stock != FALSE")
    assert (Name.Attribute, "android") in lexed
    assert (Name.Attribute, "in_stock") in lexed
    assert (Keyword, "or") in lexed
    assert (Keyword.Constant, "FALSE") in lexed
    assert all(kind in Token for kind, _ in lexed)
