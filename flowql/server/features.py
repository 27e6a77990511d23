"""What the language server answers about a checked document: completion, hover, formatting,
code actions, and its diagnostics as LSP has them.

Each function takes an :class:`~flowql.server.documents.Analysis` (a document's text, its
setting and what ``flowql check`` finds in it) and offsets into its text, and answers with
:mod:`lsprotocol` values. In a query manifest, the filter strings are FlowQL: an offset in the
TOML text is mapped to the decoded filter and back (each character of a TOML string knows the
text it came from), so completion and hover work inside them as in a ``.flowql`` file.
"""

from __future__ import annotations

import re

from lsprotocol import types

from flowql.candidates import complete_filter
from flowql.codes import CODES
from flowql.diagnostics import Severity
from flowql.server.documents import FILTER, MANIFEST

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from flowql.diagnostics import Diagnostic
    from flowql.model import DataModel, Dimension
    from flowql.server.documents import Analysis
    from flowql.server.positions import Lines
    from flowql.syntax import Token

__all__ = [
    "code_actions",
    "complete",
    "fix_to_edit",
    "format_edits",
    "hover",
    "rule_doc",
    "to_lsp_diagnostics",
]

_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_KINDS = {
    "key": types.CompletionItemKind.Field,
    "operator": types.CompletionItemKind.Operator,
    "keyword": types.CompletionItemKind.Keyword,
    "value": types.CompletionItemKind.Value,
    "punctuation": types.CompletionItemKind.Text,
}
_DID_YOU_MEAN = re.compile(r"did you mean ('(?:[^'\\]|\\.)*')\?")
_WORD = re.compile(r"[A-Za-z0-9_.-]+")
_CODE_WORD = re.compile(r"FQ[0-9]{3}")
_FIELD_LINE = re.compile(r"[ \t]*([A-Za-z0-9_-]*)")
_HEADER = re.compile(r"^[ \t]*\[[^\r\n]*", re.MULTILINE)
_QUERY_HEADER = re.compile(r"\[\[[ \t]*query[ \t]*\]\]")
_FIELD_KEY = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=", re.MULTILINE)


def _range(lines: Lines, start: int, end: int) -> types.Range:
    (line, char), (end_line, end_char) = lines.position(start), lines.position(end)
    return types.Range(types.Position(line, char), types.Position(end_line, end_char))


# --- diagnostics ---------------------------------------------------------------------------


def to_lsp_diagnostics(analysis: Analysis) -> list[types.Diagnostic]:
    """The document's diagnostics, as LSP has them (a hint is the message's second line)."""
    out = [_lsp_diagnostic(analysis.lines, d) for d in analysis.diagnostics]
    if analysis.failure is not None:
        start = types.Position(0, 0)
        out.append(
            types.Diagnostic(
                types.Range(start, start),
                analysis.failure,
                severity=types.DiagnosticSeverity.Error,
                source="flowql",
            )
        )
    return out


def _lsp_diagnostic(lines: Lines, d: Diagnostic) -> types.Diagnostic:
    span = d.span
    where = _range(lines, span.start, span.end) if span is not None else _range(lines, 0, 0)
    message = d.message if d.hint is None else f"{d.message}\nhelp: {d.hint}"
    from flowql.rule_docs import rule_url

    url = rule_url(d.code)
    tags = [types.DiagnosticTag.Unnecessary] if d.code == "FQ901" else None
    return types.Diagnostic(
        where,
        message,
        severity=_SEVERITIES[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=url) if url is not None else None,
        source="flowql",
        tags=tags,
    )


# --- the filters of a document -------------------------------------------------------------


class _Offsets:
    """Where each character of a filter is in the document, and the span of its text there
    (``content_start``, ``content_end``): a TOML string's, as the manifest scan has it."""

    __slots__ = ("content_end", "content_start", "ends", "starts")

    def __init__(self, starts: list[int], ends: list[int], content_start: int, content_end: int):
        self.starts = starts
        self.ends = ends
        self.content_start = content_start
        self.content_end = content_end


class _Filter:
    """A filter in a document: its text, where each of its characters is in the document (None:
    the document is the filter), and the target, endpoint and flow it is checked for."""

    __slots__ = ("delimiter", "endpoint", "flow", "string", "target", "text")

    def __init__(
        self,
        text: str,
        string: Any,
        target: str | None,
        endpoint: str | None,
        flow: str | None,
        delimiter: str = "",
    ) -> None:
        self.text = text
        self.string = string  # an _Offsets, or the scan's string (its offsets made when read)
        self.target = target
        self.endpoint = endpoint
        self.flow = flow
        self.delimiter = delimiter

    def holds(self, offset: int) -> bool:
        """Whether a document offset is in the filter's text (its ends included)."""
        string = self.string
        return string is None or string.content_start <= offset <= string.content_end

    def to_doc(self, index: int) -> int:
        """The document offset of the filter's ``index``-th character (its end: ``len``)."""
        if self.string is None:
            return index
        starts: list[int] = self.string.starts
        return starts[index] if index < len(starts) else self.to_doc_end(index)

    def to_doc_end(self, index: int) -> int:
        """The document offset just after the filter's ``index - 1``-th character."""
        if self.string is None:
            return index
        starts: list[int] = self.string.starts
        ends: list[int] = self.string.ends
        if index <= 0 or not ends:
            return starts[0] if starts else int(self.string.content_start)
        return ends[min(index, len(ends)) - 1]

    def index_at(self, offset: int) -> int:
        """How many of the filter's characters come before a document offset."""
        if self.string is None:
            return offset
        from bisect import bisect_right

        return bisect_right(self.string.ends, offset)


def _filters(analysis: Analysis) -> list[_Filter]:
    """The filters of a document: the whole text of a ``.flowql`` file, each query's filter
    string in a manifest."""
    if "filters" not in analysis.memo:
        analysis.memo["filters"] = _find_filters(analysis)
    found: list[_Filter] = analysis.memo["filters"]
    return found


def _find_filters(analysis: Analysis) -> list[_Filter]:
    config = analysis.setting.config
    if analysis.kind == FILTER:
        return [_Filter(analysis.text, None, config.target, config.endpoint, config.flow)]
    if analysis.kind != MANIFEST:
        return []
    scanner = analysis.scanner()
    fields: dict[int, dict[str, str]] = {}
    for path, entry in scanner.entries.items():
        if len(path) == 3 and path[0] == "query" and isinstance(path[1], int):
            value = entry.string.value if entry.string is not None else None
            if value is None:
                value = analysis.text[entry.start : entry.end].strip()
            fields.setdefault(path[1], {})[str(path[2])] = value
    out = []
    for path, entry in scanner.entries.items():
        if path[2:] != ("filter",) or path[0] != "query" or entry.string is None:
            continue
        # Decoded once: the scan's strings decode again each time they are read.
        string = entry.string.decoded()
        table = fields.get(path[1], {})
        delimiter = analysis.text[string.content_start - 1 : string.content_start]
        offsets = _Offsets(string.starts, string.ends, string.content_start, string.content_end)
        out.append(
            _Filter(
                string.value,
                offsets,
                table.get("target") or config.target,
                table.get("endpoint") or config.endpoint,
                table.get("flow") or config.flow,
                delimiter,
            )
        )
    return out


def _filter_at(analysis: Analysis, offset: int) -> _Filter | None:
    for found in _filters(analysis):
        if found.holds(offset):
            return found
    if analysis.kind == MANIFEST:
        return _filter_on_line(analysis, offset)
    return None


def _filter_on_line(analysis: Analysis, offset: int) -> _Filter | None:
    """The ``filter = "..."`` string around an offset, read from its line alone: for a manifest
    that is not TOML while it is being typed."""
    from flowql.checker.manifest import scan_toml

    lines = analysis.lines
    line = lines.line_of(offset)
    start = lines.starts[line]
    entry = scan_toml(analysis.text[start : lines.line_end(line)]).entries.get(("filter",))
    string = entry.string if entry is not None else None
    if string is None or not string.content_start <= offset - start <= string.content_end:
        return None
    config = analysis.setting.config
    offsets = _Offsets(
        [start + i for i in string.starts],
        [start + i for i in string.ends],
        start + string.content_start,
        start + string.content_end,
    )
    delimiter = analysis.text[offsets.content_start - 1 : offsets.content_start]
    return _Filter(string.value, offsets, config.target, config.endpoint, config.flow, delimiter)


class _Source:
    """What completion knows of keys and values: the data model's, and the values the document
    compares each key with."""

    def __init__(self, model: DataModel | None, flow: str | None, typed: Mapping[str, list[str]]):
        self.model = model
        self.flow = flow
        self.typed = typed

    def keys(self) -> Mapping[str, Dimension]:
        if self.model is None:
            return {}
        dimensions = self.model.dimensions(self.flow)
        # A flow the model does not have: every key of the model.
        return dimensions or self.model.dimensions()

    def dimension(self, key: str) -> Dimension | None:
        if self.model is None:
            return None
        return self.model.lookup(key, self.flow) or self.model.lookup(key)

    def values(self, key: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        dimension = self.dimension(key)
        for value in (dimension.values if dimension is not None else None) or ():
            seen.setdefault(value, "model")
        for value in self.typed.get(key, ()):
            seen.setdefault(value, "in this file")
        return list(seen.items())


def _typed_values(filters: Sequence[_Filter]) -> dict[str, list[str]]:
    """The string values each key is compared with in these filters."""
    found: dict[str, dict[str, None]] = {}
    for item in filters:
        for key, value in _compared(item.text):
            found.setdefault(key, {})[value] = None
    return {k: list(v) for k, v in found.items()}


_COMPARED: dict[str, list[tuple[str, str]]] = {}


def _compared(text: str) -> list[tuple[str, str]]:
    """(key, value) for each string value of a filter, after the key it is compared with;
    remembered by the filter's text (most filters of a manifest are the same from one change to
    the next)."""
    found = _COMPARED.get(text)
    if found is None:
        from flowql.syntax import tokenize

        if len(_COMPARED) > 20_000:
            _COMPARED.clear()
        found = _COMPARED[text] = []
        key = None
        for token in tokenize(text):
            if token.kind == "KEY":
                key = token.text
            elif token.kind == "STRING" and key is not None:
                found.append((key, _unquote(token.text)))
    return found


def _unquote(text: str) -> str:
    return re.sub(r"\\([\s\S])", r"\1", text[1:-1])


# --- completion ----------------------------------------------------------------------------


def complete(analysis: Analysis, offset: int) -> list[types.CompletionItem]:
    """The completion items at an offset: keys (their labels as detail), operators, keywords
    and values in a filter; the fields of a query in a manifest's ``[[query]]`` table."""
    found = _filter_at(analysis, offset)
    if found is None:
        return _manifest_fields(analysis, offset) if analysis.kind == MANIFEST else []
    index = found.index_at(offset)
    model = analysis.model_for(found.target, found.endpoint)
    if "typed" not in analysis.memo:
        analysis.memo["typed"] = _typed_values(_filters(analysis))
    source = _Source(model, found.flow, analysis.memo["typed"])
    items = []
    for number, candidate in enumerate(complete_filter(found.text[:index], source)):
        text = _fit(candidate.text, found.delimiter)
        if text is None:
            continue
        start = found.to_doc(index + candidate.start) if candidate.start else offset
        item = types.CompletionItem(
            label=candidate.display,
            kind=_KINDS.get(candidate.kind, types.CompletionItemKind.Text),
            detail=candidate.meta or None,
            label_details=types.CompletionItemLabelDetails(description=candidate.meta or None),
            sort_text=f"{number:05d}",
            filter_text=candidate.text.strip(),
            text_edit=types.TextEdit(_range(analysis.lines, start, offset), text),
        )
        items.append(item)
    return items


def _fit(text: str, delimiter: str) -> str | None:
    """``text`` as it must be written inside a TOML string with this delimiter (none: a
    ``.flowql`` file), or None when it cannot be."""
    if delimiter.startswith('"'):
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if delimiter.startswith("'") and "'" in text:
        # A literal TOML string cannot hold a quote: a value is written in double quotes.
        stripped = text.strip()
        if stripped.startswith("'") and stripped.endswith("'") and '"' not in stripped:
            return text.replace("'", '"')
        return None
    return text


def _manifest_fields(analysis: Analysis, offset: int) -> list[types.CompletionItem]:
    """The fields of a query, where a key of a ``[[query]]`` table is being typed."""
    text = analysis.text
    line_start = analysis.lines.starts[analysis.lines.line_of(offset)]
    typed = _FIELD_LINE.fullmatch(text[line_start:offset])
    if typed is None:
        return []
    headers = list(_HEADER.finditer(text, 0, line_start))
    if not headers or not _QUERY_HEADER.match(headers[-1].group().strip()):
        return []
    following = _HEADER.search(text, offset)
    table = text[headers[-1].end() : following.start() if following else len(text)]
    present = {m.group(1).replace("-", "_") for m in _FIELD_KEY.finditer(table)}
    from flowql.checker.manifest import FIELDS

    word = typed.group(1)
    start = offset - len(word)
    return [
        types.CompletionItem(
            label=field,
            kind=types.CompletionItemKind.Property,
            detail="query field",
            sort_text=f"{number:05d}",
            text_edit=types.TextEdit(_range(analysis.lines, start, offset), f"{field} = "),
        )
        for number, field in enumerate(FIELDS)
        if field not in present and field.startswith(word.replace("-", "_"))
    ]


# --- hover ---------------------------------------------------------------------------------


def hover(analysis: Analysis, offset: int) -> types.Hover | None:
    """What a key (its label, type, the flows that have it), a value or a code is, at an
    offset; a diagnostic there adds its rule's doc."""
    parts: list[str] = []
    where: tuple[int, int] | None = None
    found = _filter_at(analysis, offset)
    if found is not None:
        index = found.index_at(offset)
        token, key = _token_at(found.text, index)
        if token is not None and token.kind in ("KEY", "STRING", "NUMBER", "TRUE", "FALSE"):
            model = analysis.model_for(found.target, found.endpoint)
            text = (
                _key_doc(token.text, model, found.flow)
                if token.kind == "KEY"
                else _value_doc(token, key, model, found.flow)
            )
            parts.append(text)
            where = (found.to_doc(token.start), found.to_doc_end(token.end))
    code = _code_at(analysis.text, analysis.lines, offset)
    if code is not None:
        parts.append(rule_doc(code[0]))
        where = code[1:]
    for d in analysis.diagnostics:
        span = d.span
        if span is not None and span.start <= offset <= span.end and d.code in CODES:
            doc = rule_doc(d.code)
            if doc not in parts:
                parts.append(doc)
            where = where or (span.start, span.end)
    if not parts:
        return None
    assert where is not None
    return types.Hover(
        types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(parts)),
        _range(analysis.lines, *where),
    )


def _token_at(text: str, index: int) -> tuple[Token | None, str | None]:
    """The significant token at (or just before) a filter index, and the last key before it."""
    from flowql.syntax import tokenize

    key = None
    for token in tokenize(text):
        if token.kind in ("WHITESPACE", "COMMENT"):
            if token.start <= index < token.end:
                return None, key
            continue
        if token.start <= index <= token.end and (index < token.end or token.kind != "INVALID"):
            return token, key
        if token.start > index:
            break
        if token.kind == "KEY":
            key = token.text
    return None, key


def _key_doc(key: str, model: DataModel | None, flow: str | None) -> str:
    if model is None:
        return f"`{key}`: the data model cannot be read"
    dimension = model.lookup(key, flow) or model.lookup(key)
    if dimension is None:
        return f"`{key}` is not a key of the data model ({model.name})"
    lines = [f"**{key}**" + (f": {dimension.label}" if dimension.label != key else "")]
    lines.append(f"type: {dimension.type}")
    flows = model.flows_with(key)
    if flows:
        lines.append("flows: " + ", ".join(f"{f.id} ({f.label})" for f in flows))
    if dimension.values:
        from flowql.formatter import quote

        lines.append("values: " + ", ".join(quote(v) for v in dimension.values))
    if dimension.operators is not None:
        lines.append("operators: " + ", ".join(sorted(dimension.operators)))
    lines.append(f"data model: {model.name}")
    return "  \n".join(lines)


def _value_doc(token: Token, key: str | None, model: DataModel | None, flow: str | None) -> str:
    kinds = {"STRING": "string", "NUMBER": "number", "TRUE": "boolean", "FALSE": "boolean"}
    text = f"`{token.text}`: a {kinds[token.kind]} value"
    if key is None:
        return text
    text += f" of `{key}`"
    dimension = None if model is None else (model.lookup(key, flow) or model.lookup(key))
    if dimension is None:
        return text
    if dimension.label != key:
        text += f" ({dimension.label})"
    if dimension.values and token.kind == "STRING":
        known = _unquote(token.text) in dimension.values
        text += ", one of the values it takes" if known else ", not a value it takes"
    return text


def _code_at(text: str, lines: Lines, offset: int) -> tuple[str, int, int] | None:
    """A diagnostic code written at an offset (a ``# noqa: FQ101`` comment's)."""
    line = lines.line_of(offset)
    start = lines.starts[line]
    for match in _CODE_WORD.finditer(text, start, lines.line_end(line)):
        if match.start() <= offset <= match.end() and match.group() in CODES:
            return match.group(), match.start(), match.end()
    return None


def rule_doc(code: str) -> str:
    """A rule's doc as Markdown: its name, severity and summary, its section of docs/rules and
    the link to it (what ``flowql rules CODE`` prints, from :mod:`flowql.rule_docs`)."""
    from flowql.rule_docs import rule_text, rule_url

    known = CODES[code]
    head = f"**{code} {known.name}** ({known.family}, {known.severity})\n\n{known.summary}"
    section = rule_text(code)
    url = rule_url(code)
    parts = [head, *([section] if section else []), *([f"[the rule's page]({url})"] if url else [])]
    return "\n\n".join(parts)


# --- formatting ----------------------------------------------------------------------------


def format_edits(
    analysis: Analysis, within: tuple[int, int] | None = None
) -> list[types.TextEdit] | None:
    """The edits that make a ``.flowql`` document as ``flowql fmt`` writes it (only those inside
    ``within``, a range of offsets, when given); None when it does not parse."""
    if analysis.kind != FILTER:
        return None
    from flowql.errors import FlowQLError
    from flowql.formatter import format_file

    text = analysis.text
    try:
        formatted = format_file(text, line_length=analysis.setting.config.line_length)
    except FlowQLError:
        return None
    edits = _token_edits(text, formatted)
    if within is not None:
        low, high = within
        edits = [e for e in edits if low <= e[0] and e[1] <= high]
    return [types.TextEdit(_range(analysis.lines, s, e), new) for s, e, new in edits]


def _token_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Small edits from ``old`` to ``new``, token by token when the two have the same tokens
    (the formatter changes the space between them, and the spelling of some), else one."""
    if old == new:
        return []
    from flowql.syntax import tokenize

    before = [t for t in tokenize(old) if t.kind != "WHITESPACE"]
    after = [t for t in tokenize(new) if t.kind != "WHITESPACE"]
    if [t.kind for t in before] != [t.kind for t in after]:
        return [(0, len(old), new)]
    edits: list[tuple[int, int, str]] = []
    old_at = new_at = 0
    for was, now in zip(before, after, strict=True):
        if old[old_at : was.start] != new[new_at : now.start]:
            edits.append((old_at, was.start, new[new_at : now.start]))
        if was.text != now.text:
            edits.append((was.start, was.end, now.text))
        old_at, new_at = was.end, now.end
    if old[old_at:] != new[new_at:]:
        edits.append((old_at, len(old), new[new_at:]))
    return edits


# --- code actions --------------------------------------------------------------------------


def fix_to_edit(uri: str, lines: Lines, fix: Any) -> types.WorkspaceEdit:
    """A diagnostic's fix (its ``edits``: each a ``(start, end, replacement)`` of offsets into
    the document, or an object with those attributes) as a workspace edit."""
    edits = []
    for edit in getattr(fix, "edits", ()):
        if isinstance(edit, tuple):
            start, end, replacement = edit
        else:
            start, end, replacement = edit.start, edit.end, edit.replacement
        edits.append(types.TextEdit(_range(lines, start, end), replacement))
    return types.WorkspaceEdit(changes={uri: edits})


def code_actions(analysis: Analysis, uri: str, low: int, high: int) -> list[types.CodeAction]:
    """The quick fixes for the diagnostics that touch a range of offsets: each diagnostic's own
    fix, "did you mean", and a ``# noqa`` comment for its code."""
    out: list[types.CodeAction] = []
    for d in analysis.diagnostics:
        span = d.span
        if span is None or span.end < low or span.start > high:
            continue
        lsp = [_lsp_diagnostic(analysis.lines, d)]
        fix = getattr(d, "fix", None)
        if fix is not None:
            title = str(getattr(fix, "title", None) or getattr(fix, "message", None) or "")
            out.append(
                types.CodeAction(
                    title=(title[:1].upper() + title[1:]) if title else f"Fix {d.code}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=lsp,
                    edit=fix_to_edit(uri, analysis.lines, fix),
                    is_preferred=True,
                )
            )
        # A "did you mean" the diagnostic's own fix does not already make.
        suggestion = _suggestion(analysis, d) if fix is None else None
        if suggestion is not None:
            shown, start, end, replacement = suggestion
            out.append(
                types.CodeAction(
                    title=f"Change to {shown}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=lsp,
                    edit=fix_to_edit(uri, analysis.lines, _Fix([(start, end, replacement)])),
                    is_preferred=fix is None,
                )
            )
        noqa = _noqa_edit(analysis, d)
        if noqa is not None:
            out.append(
                types.CodeAction(
                    title=f"Ignore {d.code} on this line (# noqa)",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=lsp,
                    edit=fix_to_edit(uri, analysis.lines, _Fix([noqa])),
                )
            )
    return out


class _Fix:
    """Edits made here, in the shape of a diagnostic's fix."""

    __slots__ = ("edits",)

    def __init__(self, edits: list[tuple[int, int, str]]) -> None:
        self.edits = edits


def _suggestion(analysis: Analysis, d: Diagnostic) -> tuple[str, int, int, str] | None:
    """ "did you mean 'x'?" as (what to show, start, end, replacement), when the hint says it
    and the diagnostic's span is a word or a quoted value that it can replace."""
    span = d.span
    match = _DID_YOU_MEAN.search(d.hint or "")
    if span is None or match is None or span.end <= span.start:
        return None
    written = analysis.text[span.start : span.end]
    if "\n" in written or "\r" in written:
        return None
    shown = match.group(1)
    value = _unquote(shown)
    if written[:1] in ("'", '"'):
        quote = written[0]
        replacement = quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
        if analysis.kind == MANIFEST:
            found = _filter_at(analysis, span.start)
            fitted = _fit(replacement, found.delimiter) if found is not None else replacement
            if fitted is None:
                return None
            replacement = fitted
    elif _WORD.fullmatch(written) and _WORD.fullmatch(value):
        replacement = value
    else:
        return None
    return shown, span.start, span.end, replacement


def _noqa_edit(analysis: Analysis, d: Diagnostic) -> tuple[int, int, str] | None:
    """The edit that adds ``# noqa: CODE`` to the line the diagnostic starts on (or the code
    to the noqa comment already there), where a comment can be written."""
    span = d.span
    if span is None:
        return None
    from flowql.checker.noqa import noqa_comments

    lines = analysis.lines
    line = lines.line_of(span.start)
    manifest = analysis.kind == MANIFEST
    for comment in noqa_comments(analysis.text, manifest=manifest):
        if lines.line_of(comment.start) != line:
            continue
        if comment.suppresses(d.code):
            return None
        if comment.codes:
            return comment.end, comment.end, f", {d.code}"
        # A noqa comment with a colon and no code yet.
        return comment.end, comment.end, f" {d.code}"
    end = lines.line_end(line)
    if not _can_comment(analysis, end):
        return None
    return end, end, f"  # noqa: {d.code}"


def _can_comment(analysis: Analysis, offset: int) -> bool:
    """Whether a ``#`` written at an offset starts a comment (FlowQL's, or TOML's in a
    manifest), not text inside a string."""
    from flowql.syntax import tokenize

    if analysis.kind == FILTER:
        return not any(
            t.start < offset < t.end and t.kind in ("STRING", "INVALID")
            for t in tokenize(analysis.text)
        )
    for path, entry in analysis.scanner().entries.items():
        string = entry.string
        if string is None or not string.content_start <= offset < string.content_end:
            continue
        if path[2:] != ("filter",):
            return False  # inside another multi-line string: the comment would be its text
        found = _filter_at(analysis, offset)
        if found is None:
            return False
        index = found.index_at(offset)
        return not any(
            t.start < index < t.end and t.kind in ("STRING", "INVALID")
            for t in tokenize(found.text)
        )
    return True
