"""The TextMate grammar of editors/vscode: generated from the lexer's terminals, up to date, and
highlighting sample filters token for token as flowql's own tokenizer splits them."""

from __future__ import annotations

import json
import re

import pytest

from flowql import _generate_textmate as textmate
from flowql.syntax import tokenize

SAMPLES = [
    "geo_country == 'Spain' AND (k ~~ 'x' OR n IN (1, 2))",
    "brand != \"it's\" and android !~ 'or' or not in_app == TRUE",
    "notable NOT IN ('a\\'b', \"c\\\"d\") # a comment: AND 'x'\nx.y-z == -1.5e3",
    "order_id == 42 AND False == inner OR (true)",
    "# only a comment\n\tf == 'tab\\tthere'  # noqa: FQ101",
]


def test_the_grammar_file_is_up_to_date() -> None:
    assert textmate.GRAMMAR_PATH.read_text("utf-8") == textmate.render()
    assert textmate.main(["--check"]) == 0


def _highlight(text: str) -> list[tuple[int, int, str]]:
    """What an editor colours: at each point, the pattern that matches soonest (the first of
    those that match at the same place), then on from its end; what matches nothing is skipped."""
    data = json.loads(textmate.GRAMMAR_PATH.read_text("utf-8"))
    patterns = [(re.compile(p["match"]), p["name"]) for p in data["patterns"]]
    out = []
    at = 0
    while at < len(text):
        best: tuple[int, int, str] | None = None
        for regex, scope in patterns:
            match = regex.search(text, at)
            if (
                match is not None
                and match.end() > match.start()
                and (best is None or match.start() < best[0])
            ):
                best = (match.start(), match.end(), scope)
        if best is None:
            break
        out.append(best)
        at = best[1]
    return out


@pytest.mark.parametrize("text", SAMPLES)
def test_highlighting_follows_the_tokenizer(text: str) -> None:
    scopes = {name.lstrip("_"): scope for name, scope in textmate.SCOPES.items()}
    expected = [(t.start, t.end, scopes[t.kind]) for t in tokenize(text) if t.kind != "WHITESPACE"]
    assert "INVALID" not in [t.kind for t in tokenize(text)]
    assert _highlight(text) == expected


def test_every_terminal_has_a_scope() -> None:
    from flowql import _tables

    assert {name for name, _ in _tables.TERMINALS} - {"WHITESPACE"} == set(textmate.SCOPES)
