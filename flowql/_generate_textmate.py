"""Generate the TextMate grammar editors highlight FlowQL with, from the lexer's terminals.

The terminals of ``grammar/flowql.lark`` are in ``flowql/_tables.py`` (generated from it), each a
regular expression, in the order the lexer tries them. A TextMate grammar is the same list: each
terminal becomes a ``match`` pattern with a scope name, in that order (at one position, the first
pattern that matches wins, as in the lexer). Python's and Oniguruma's syntax agree on every
construct the terminals use (classes, groups, look-aheads).

Run ``python -m flowql._generate_textmate`` after regenerating the tables; ``--check`` exits 1
when ``editors/vscode/syntaxes/flowql.tmLanguage.json`` is out of date (a test does the same).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowql import _tables

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR_PATH = ROOT / "editors" / "vscode" / "syntaxes" / "flowql.tmLanguage.json"

SCOPES = {
    "_FALSE": "constant.language.boolean.false.flowql",
    "_TRUE": "constant.language.boolean.true.flowql",
    "_AND": "keyword.operator.logical.and.flowql",
    "_NOT": "keyword.operator.logical.not.flowql",
    "_IN": "keyword.operator.word.in.flowql",
    "_OR": "keyword.operator.logical.or.flowql",
    "STRING": "string.quoted.flowql",
    "NUMBER": "constant.numeric.flowql",
    "KEY": "variable.other.key.flowql",
    "COMMENT": "comment.line.number-sign.flowql",
    "COMPARE": "keyword.operator.comparison.flowql",
    "_COMMA": "punctuation.separator.comma.flowql",
    "_LPAR": "punctuation.section.parens.begin.flowql",
    "_RPAR": "punctuation.section.parens.end.flowql",
}
"""The scope of each terminal (white space has none: it is not highlighted)."""


def grammar() -> dict[str, object]:
    """The TextMate grammar, as JSON data."""
    patterns = [
        {"name": SCOPES[name], "match": pattern}
        for name, pattern in _tables.TERMINALS
        if name != "WHITESPACE"
    ]
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "FlowQL",
        "scopeName": "source.flowql",
        "fileTypes": ["flowql"],
        "comment": "Generated from grammar/flowql.lark by python -m flowql._generate_textmate.",
        "patterns": patterns,
    }


def render() -> str:
    """The grammar file's text."""
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = GRAMMAR_PATH.read_text("utf-8") if GRAMMAR_PATH.exists() else ""
        if current != text:
            print(f"{GRAMMAR_PATH} is out of date: run python -m flowql._generate_textmate")
            return 1
        return 0
    GRAMMAR_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {GRAMMAR_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
