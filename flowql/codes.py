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
FQ7xx  queries and requests: what a server would reject, and failed requests
FQ8xx  inputs: data models, manifests, configuration and REPL commands flowql cannot read
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
    "FQ7": "queries and requests",
    "FQ8": "inputs",
    "FQ9": "suppressions",
}
"""The code families, by prefix."""


class Code:
    """A diagnostic code: its identifier, a short name, its default severity, a summary, and
    ``fix``: ``"safe"`` or ``"unsafe"`` when its diagnostics carry a fix where there is one
    repair (see :mod:`flowql.fixes`), else None."""

    __slots__ = ("code", "fix", "name", "severity", "summary")

    def __init__(
        self,
        code: str,
        name: str,
        summary: str,
        severity: str = "error",
        fix: str | None = None,
    ) -> None:
        self.code = code
        self.name = name
        self.summary = summary
        self.severity = severity
        self.fix = fix

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
    ("FQ020", "invalid-node", "A syntax tree node built in code that FlowQL text cannot hold."),
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
    ("FQ604", "unknown-dialect", "A SQL dialect the sql target does not know."),
    ("FQ605", "schema-mismatch", "A key the schema lacks, or a column type it cannot name."),
    (
        "FQ606",
        "contradicted-type",
        "A test the column's type makes constant (count ~~ 'x' on integers).",
        "warning",
    ),
    ("FQ701", "invalid-query", "A query field that is missing, of the wrong type or unknown."),
    ("FQ702", "invalid-time-range", "A time range that is unreadable, empty or backwards."),
    ("FQ703", "too-far-back", "A time range starting before the API keeps data."),
    ("FQ704", "interval-out-of-range", "An interval or granularity the endpoint does not take."),
    ("FQ705", "mixed-time-formats", "Two time formats in one Sessions V3 request."),
    ("FQ706", "limit-out-of-range", "A limit outside what the endpoint accepts."),
    ("FQ707", "viewer-id-or-ip", "A viewer request without exactly one of viewer_id, viewer_ip."),
    ("FQ708", "saved-filter-conflict", "A saved filter (filter_id) with dimension filters."),
    ("FQ709", "unknown-timeframe", "A Klaviyo timeframe key that does not exist."),
    ("FQ710", "timeframe-too-long", "A Klaviyo timeframe too long for the report or interval."),
    ("FQ711", "missing-conversion", "A Klaviyo report without the conversion_metric_id it needs."),
    ("FQ712", "unknown-statistic", "A statistic the report does not have."),
    ("FQ713", "unknown-group-by", "A group-by field the endpoint does not have."),
    ("FQ714", "filter-not-sendable", "A filter the API cannot take, without post-filtering."),
    ("FQ715", "post-filter-blocked", "A post-filter on a key the results do not carry."),
    (
        "FQ716",
        "range-clamped",
        "A range start clamped, as it was sent, to what the API keeps.",
        "warning",
    ),
    ("FQ717", "unknown-bucket", "A bucket size flowql cannot put the result in."),
    ("FQ718", "klaviyo-revision", "A Klaviyo revision that is malformed, unknown or retired."),
    (
        "FQ719",
        "not-merged",
        "Values that cannot be merged across windows or buckets, shown empty.",
        "warning",
    ),
    ("FQ720", "insecure-url", "A plain http URL to a host that is not this machine."),
    ("FQ721", "missing-credentials", "No usable credentials for the API: none, or unsendable."),
    ("FQ722", "bad-request", "The server rejected the request as malformed (400)."),
    ("FQ723", "unauthorized", "The server refused the credentials (401 or 403)."),
    ("FQ724", "not-found", "The server has no such path or id (404)."),
    ("FQ725", "uri-too-long", "The server refused the URL as too long (414)."),
    ("FQ726", "unprocessable", "The server refused a value in the request (422)."),
    ("FQ727", "rate-limited", "Still rate limited (429) when the retries ran out."),
    ("FQ728", "server-error", "The server failed (5xx), after the retries where they apply."),
    ("FQ729", "api-error", "Another error status from the server."),
    ("FQ730", "transport-error", "A timeout or dropped connection, after the retries."),
    ("FQ731", "invalid-response", "A response flowql cannot read."),
    ("FQ732", "partial-result", "Some windows of a multi-window fetch could not be fetched."),
    ("FQ740", "unknown-column", "A column to show (--columns, :columns) the result does not have."),
    ("FQ801", "invalid-data-model", "A data model file flowql cannot read."),
    ("FQ802", "invalid-manifest", "A query manifest, or a query in it, flowql cannot read."),
    ("FQ803", "invalid-config", "A configuration flowql cannot read."),
    ("FQ804", "invalid-command", "A REPL command, or an argument of one, flowql cannot use."),
    (
        "FQ805",
        "invalid-plot",
        "A picture flowql cannot draw as asked: its kind, metrics, file or result.",
    ),
    ("FQ806", "missing-extra", "An optional library the command needs is not installed."),
    (
        "FQ807",
        "invalid-output",
        "An export flowql cannot write as asked: its format, its file or where it goes.",
    ),
    ("FQ901", "unused-noqa", "A noqa comment that suppresses nothing.", "warning"),
]

# The codes whose diagnostics carry a fix when there is one repair, and how safe it is: a safe
# fix keeps what the filter means (or, for text that does not parse, what it evidently meant).
_FIXES = {
    "FQ001": "safe",  # typographic quotes made straight, a '+' before a number removed
    "FQ006": "safe",  # '=' -> '=='
    "FQ007": "safe",  # '<>' -> '!='
    "FQ008": "safe",  # '&&', '&' -> AND; '||', '|' -> OR
    "FQ009": "safe",  # a bare word value quoted
    "FQ101": "unsafe",  # the one model key close to a misspelt one
    "FQ201": "unsafe",  # a value quoted, or unquoted, to the key's type
    "FQ203": "safe",  # a repeated list value removed
    "FQ204": "unsafe",  # the one value of the field close to an unknown one
    "FQ303": "safe",  # the operand the group means the same without removed
    "FQ401": "safe",  # parentheses around the AND group
    "FQ402": "safe",  # the text flowql fmt writes
    "FQ901": "safe",  # the noqa codes (or the whole comment) that suppress nothing removed
}


def _code(entry: tuple[str, ...]) -> Code:
    made = Code(*entry)
    made.fix = _FIXES.get(made.code)
    return made


CODES: dict[str, Code] = {entry[0]: _code(entry) for entry in _TABLE}
"""Every code, by identifier."""
