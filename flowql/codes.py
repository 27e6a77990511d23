"""The registry of diagnostic codes.

Every diagnostic flowql reports has a code from this table. Codes are stable: once released, a
code keeps its meaning, and a retired code is never reused. Codes group by their first digit:

====== ==================================================================
FQ0xx  syntax: the text is not a FlowQL filter, or exceeds a limit
FQ1xx  data model: keys and flows the account does not have
FQ2xx  values: types, empty values, duplicates, values a field does not take
FQ3xx  logic: filters that can never match, always match, or repeat themselves
FQ4xx  style: what a reader (or a server) could misread, and formatting
FQ5xx  URL budget: requests longer than the API accepts
FQ6xx  targets: what a target API cannot express
FQ8xx  inputs: data models, manifests and configuration flowql cannot read
FQ9xx  suppressions: ``# noqa`` comments
====== ==================================================================
"""

from __future__ import annotations

__all__ = ["CODES", "Code"]


FAMILIES = {
    "FQ0": "syntax",
    "FQ1": "data model",
    "FQ2": "values",
    "FQ3": "logic",
    "FQ4": "style",
    "FQ5": "URL budget",
    "FQ6": "targets",
    "FQ8": "inputs",
    "FQ9": "suppressions",
}
"""The code families, by prefix."""


class Code:
    """A diagnostic code: its identifier, a short name, its default severity and a summary."""

    __slots__ = ("code", "name", "severity", "summary")

    def __init__(self, code: str, name: str, summary: str, severity: str = "error") -> None:
        self.code = code
        self.name = name
        self.summary = summary
        self.severity = severity

    @property
    def family(self) -> str:
        """The family the code belongs to, such as ``syntax``."""
        return FAMILIES[self.code[:3]]

    def __repr__(self) -> str:
        return f"Code({self.code!r}, {self.name!r})"


_TABLE: list[tuple[str, ...]] = [
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
    ("FQ101", "unknown-key", "A key that is not a dimension of the data model."),
    ("FQ102", "key-in-other-flow", "A key of another flow model than the one the query names."),
    ("FQ103", "unknown-flow", "A flow id that the data model does not have."),
    ("FQ201", "type-mismatch", "A value of the wrong type for the key (a number for a string...)."),
    (
        "FQ202",
        "empty-value",
        "An empty string value, which matches nothing or everything.",
        "warning",
    ),
    ("FQ203", "duplicate-value", "A value listed twice in IN or NOT IN.", "warning"),
    ("FQ204", "unknown-value", "A value the field does not take (a send_channel of 'fax')."),
    ("FQ301", "contradiction", "Conditions that can never all hold: the filter matches nothing."),
    (
        "FQ302",
        "tautology",
        "Alternatives that always hold: the group matches everything.",
        "warning",
    ),
    ("FQ303", "redundant-comparison", "A comparison that a sibling makes redundant.", "warning"),
    ("FQ401", "mixed-and-or", "AND and OR at one level without parentheses.", "warning"),
    ("FQ402", "not-formatted", "Text that flowql fmt would change.", "warning"),
    ("FQ501", "url-too-long", "The request URL is longer than the API accepts."),
    ("FQ502", "url-near-limit", "The request URL is above 90% of the limit.", "warning"),
    ("FQ601", "unsupported", "A construct the target API cannot express."),
    (
        "FQ602",
        "undocumented-escape",
        "A quote escaped in a way the API does not document.",
        "warning",
    ),
    ("FQ603", "unknown-target", "A target name flowql does not know."),
    ("FQ801", "invalid-data-model", "A data model file flowql cannot read."),
    ("FQ802", "invalid-manifest", "A query manifest, or a query in it, flowql cannot read."),
    ("FQ803", "invalid-config", "A configuration flowql cannot read."),
    ("FQ901", "unused-noqa", "A noqa comment that suppresses nothing.", "warning"),
]

CODES: dict[str, Code] = {entry[0]: Code(*entry) for entry in _TABLE}
"""Every code, by identifier."""
