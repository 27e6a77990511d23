"""The registry of diagnostic codes.

Every diagnostic flowql reports has a code from this table. Codes are stable: once released, a
code keeps its meaning, and a retired code is never reused. Codes group by their first digit:

====== ==========================================================
FQ0xx  syntax: the text is not a FlowQL filter, or exceeds a limit
====== ==========================================================

Later families (data model, values, logic, style, URL budget, targets) take FQ1xx to FQ6xx.
"""

from __future__ import annotations

__all__ = ["CODES", "Code"]


class Code:
    """A diagnostic code: its identifier, a short name and a one-line summary."""

    __slots__ = ("code", "name", "summary")

    def __init__(self, code: str, name: str, summary: str) -> None:
        self.code = code
        self.name = name
        self.summary = summary

    def __repr__(self) -> str:
        return f"Code({self.code!r}, {self.name!r})"


_TABLE = [
    ("FQ001", "invalid-character", "A character that cannot start any FlowQL token."),
    ("FQ002", "unterminated-string", "A quoted value with no closing quote."),
    ("FQ003", "invalid-escape", "A backslash escape other than \\', \\\" or \\\\ in a string."),
    ("FQ004", "unexpected-token", "A token where the grammar does not allow it."),
    ("FQ005", "unexpected-end", "The filter ends before the expression is complete."),
    ("FQ006", "single-equals", "A single '=' where '==' (equals) was meant."),
    ("FQ007", "sql-not-equal", "'<>' where '!=' (does not equal) was meant."),
    ("FQ008", "symbolic-boolean", "'&&', '||', '&' or '|' where AND or OR was meant."),
    ("FQ009", "unquoted-value", "A value that is not in quotes (and not a number or boolean)."),
    ("FQ010", "missing-close-paren", "A '(' that is never closed."),
    ("FQ011", "unmatched-close-paren", "A ')' with no '(' to close."),
    ("FQ012", "dangling-operator", "AND, OR or NOT without an expression on each side."),
    ("FQ013", "empty-filter", "The filter is empty, or holds only comments."),
    ("FQ014", "empty-in-list", "IN or NOT IN with an empty list."),
    ("FQ015", "number-out-of-range", "A number too large (or too small) to represent."),
    ("FQ016", "source-too-long", "The filter is longer than flowql's limit."),
    ("FQ017", "nesting-too-deep", "The filter nests deeper than flowql's limit."),
    ("FQ018", "missing-connective", "Two comparisons with no AND or OR between them."),
    ("FQ019", "unsupported-operator", "A comparison operator FlowQL does not have (<, >, ...)."),
]

CODES: dict[str, Code] = {code: Code(code, name, summary) for code, name, summary in _TABLE}
"""Every code, by identifier."""
