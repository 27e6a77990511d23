"""The documentation of each rule: where it is published, and what it says.

The text is that of docs/rules, each code's own section, copied into the package by
``python -m flowql._generate_rule_docs`` (the wheel has no docs/ directory; a test keeps the two
the same). ``flowql rules CODE`` prints it, and SARIF logs link each rule to its page.
"""

from __future__ import annotations

__all__ = ["rule_text", "rule_url"]


def rule_url(code: str) -> str | None:
    """The address of the code's documentation (its section of a docs/rules page), or None for
    a code flowql does not have."""
    from flowql._rule_texts import DOCS_URL, PAGES

    page = PAGES.get(code)
    return f"{DOCS_URL}/{page}" if page is not None else None


def rule_text(code: str) -> str | None:
    """What docs/rules says of the code (Markdown, links made absolute), or None."""
    from flowql._rule_texts import TEXTS

    return TEXTS.get(code)
