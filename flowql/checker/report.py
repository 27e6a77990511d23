"""How ``flowql check`` shows what it found.

A :class:`Finding` is a diagnostic placed in a file: the path as the user named it, the
diagnostic (its span in the coordinates of that file) and the file's text for code frames.
:func:`render_findings` turns a list of findings into one of :data:`FORMATS`:

``text``
    a code frame per finding (see :func:`flowql.diagnostics.render`), then a summary line;
``concise``
    ``path:line:col: CODE [severity] message``, one per line, then the summary line;
``json``
    a JSON list of objects (``file``, ``code``, ``name``, ``severity``, ``message``, the position
    fields, ``hint``, ``fixable``, ``fix``);
``github``
    GitHub Actions workflow commands (``::error file=...::message``), which show as annotations;
``sarif``
    a SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers (a finding's fix as
    its ``fixes``).

A finding whose diagnostic carries a fix ``flowql check --fix`` makes is marked ``[*]``; the
summary counts them, and the unsafe fixes ``--unsafe-fixes`` would make too.

The machine formats (json, github, sarif) are one document each and nothing else. The output of
every format ends with a newline, or is empty when there is nothing to show (github with no
findings; text and concise with no findings and no summary).
:func:`render_statistics` counts the findings by code instead (``--statistics``);
:func:`render_rules` lists every code, for ``flowql rules``, and :func:`render_rule` explains
one (``flowql rules CODE``). The text formats take ``color``, for a terminal (ANSI codes).
"""

from __future__ import annotations

import os

from flowql.codes import CODES, FAMILIES
from flowql.diagnostics import Diagnostic, Severity, paint, render, severity_style

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from flowql.codes import Code

__all__ = [
    "FIXABLE",
    "FORMATS",
    "RULE_FORMATS",
    "Finding",
    "UnknownRuleError",
    "render_findings",
    "render_rule",
    "render_rules",
    "render_statistics",
]

FORMATS = ("text", "concise", "json", "github", "sarif")
"""The formats :func:`render_findings` knows, the first the default."""

RULE_FORMATS = ("text", "json")
"""The formats :func:`render_rules` knows."""

FIXABLE = frozenset(c.code for c in CODES.values() if c.fix is not None)
"""Codes whose findings can carry a fix (``flowql check --fix``): those with one repair."""

INFORMATION_URI = "https://github.com/flowql/flowql"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# ANSI styles (SGR parameters) besides the severities' (flowql.diagnostics.severity_style).
_BOLD = "1"
_FIX = "1;36"

_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


class Finding:
    """A diagnostic in a file. Immutable.

    ``path`` is the file as the user named it (or ``<expr>``, ``<stdin>``); the diagnostic's span
    is in the coordinates of that file; ``source`` is the file's text, for code frames.
    """

    __slots__ = ("_diagnostic", "_path", "_source")

    def __init__(self, path: str, diagnostic: Diagnostic, source: str | None = None) -> None:
        self._path = path
        self._diagnostic = diagnostic
        self._source = source

    @property
    def path(self) -> str:
        """The file, as the user named it."""
        return self._path

    @property
    def diagnostic(self) -> Diagnostic:
        """What was found, with its span in the file's coordinates."""
        return self._diagnostic

    @property
    def source(self) -> str | None:
        """The file's text, if known."""
        return self._source

    @property
    def fixable(self) -> bool:
        """Whether ``flowql check --fix`` fixes it: it carries a safe fix."""
        fix = self._diagnostic.fix
        return fix is not None and fix.safe

    def fixable_with(self, unsafe: bool) -> bool:
        """Whether it carries a fix that is made with (``unsafe``) or without
        ``--unsafe-fixes``."""
        fix = self._diagnostic.fix
        return fix is not None and (unsafe or fix.safe)

    def sort_key(self) -> tuple[str, int, int, str]:
        """The report order: path, line, column, code (findings without a position first)."""
        d = self._diagnostic
        return (self._path, d.line or 0, d.column or 0, d.code)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return (self._path, self._diagnostic, self._source) == (
            other._path,
            other._diagnostic,
            other._source,
        )

    def __hash__(self) -> int:
        return hash((self._path, self._diagnostic))

    def __repr__(self) -> str:
        return f"<Finding {self._path} {self._diagnostic!r}>"


def render_findings(
    findings: Sequence[Finding],
    fmt: str,
    *,
    files_checked: int,
    tool_version: str,
    summary: bool = True,
    color: bool = False,
    unsafe_fixes: bool = False,
    fixed: int = 0,
) -> str:
    """The findings, in the order given, as ``fmt`` (one of :data:`FORMATS`).

    ``files_checked`` is the number of inputs checked, for the summary line that ends text and
    concise output (``summary=False`` leaves it out, as for input errors on stderr);
    ``tool_version`` goes into SARIF; ``color`` colours text and concise output (the machine
    formats never are). ``unsafe_fixes`` counts unsafe fixes as fixable (marked ``[*]``);
    ``fixed`` is how many findings ``--fix`` fixed, for the summary. Raises :class:`ValueError`
    for an unknown format.
    """
    if fmt in ("text", "concise"):
        if fmt == "text":
            body = [_frame(f, color, unsafe_fixes) for f in findings]
        else:
            body = [_concise_line(f, color, unsafe_fixes) for f in findings]
        if not summary:
            return (_blocks(body, fmt) + "\n") if body else ""
        last = _summary(findings, files_checked, unsafe_fixes, fixed)
        return _blocks([*body, last], fmt) + "\n"
    if fmt == "json":
        return _json(findings)
    if fmt == "github":
        return _github(findings)
    if fmt == "sarif":
        return _sarif(findings, tool_version)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


# --- text and concise ----------------------------------------------------------------------


def _blocks(parts: list[str], fmt: str) -> str:
    """Frames are set apart by a blank line; concise lines are not."""
    return ("\n\n" if fmt == "text" else "\n").join(parts)


def _frame(finding: Finding, color: bool = False, unsafe_fixes: bool = False) -> str:
    text = render(finding.diagnostic, finding.source, finding.path, color=color)
    if finding.fixable_with(unsafe_fixes):
        # After the code's colon, coloured or not: "error[FQ006]: [*] ..."
        at = text.index(": ") + 2
        text = f"{text[:at]}[*] {text[at:]}"
    return text


def _concise_line(finding: Finding, color: bool = False, unsafe_fixes: bool = False) -> str:
    d = finding.diagnostic
    fix = " [*]" if finding.fixable_with(unsafe_fixes) else ""
    if not color:
        return f"{_where(finding)}: {d.code} [{d.severity.value}]{fix} {d.message}"
    level = severity_style(d.severity)
    return (
        f"{paint(_where(finding), _BOLD)}: {paint(d.code, level)} "
        f"[{paint(d.severity.value, level)}]{paint(fix, _FIX)} {d.message}"
    )


def _where(finding: Finding) -> str:
    d = finding.diagnostic
    return f"{finding.path}:{d.line}:{d.column}" if d.span else finding.path


def _summary(
    findings: Sequence[Finding], files_checked: int, unsafe_fixes: bool = False, fixed: int = 0
) -> str:
    checked = f"({_count(files_checked, 'file')} checked)"
    done = f"\nFixed {_count(fixed, 'finding')}." if fixed else ""
    if not findings:
        return f"All checks passed {checked}.{done}"
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.diagnostic.severity] += 1
    parts = [
        _count(n, severity.value)
        for severity, n in counts.items()
        if n and severity is not Severity.INFO
    ]
    if counts[Severity.INFO]:
        parts.append(f"{counts[Severity.INFO]} info")  # "info" has no plural
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    files = len({f.path for f in findings})
    line = f"Found {listed} in {_count(files, 'file')} {checked}.{done}"
    fixable = sum(1 for f in findings if f.fixable_with(unsafe_fixes))
    hidden = 0 if unsafe_fixes else sum(1 for f in findings if f.fixable_with(True)) - fixable
    command = "flowql check --fix --unsafe-fixes" if unsafe_fixes else "flowql check --fix"
    more = (
        f" ({hidden} hidden {'fix' if hidden == 1 else 'fixes'} can be enabled with the "
        "`--unsafe-fixes` option)"
        if hidden
        else ""
    )
    if fixable:
        line += f"\n[*] {fixable} fixable with `{command}`{more}."
    elif hidden:
        line += f"\nNo fixes available{more}."
    return line


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- statistics ----------------------------------------------------------------------------


def render_statistics(
    findings: Sequence[Finding], fmt: str = "text", *, color: bool = False
) -> str:
    """How many findings there are of each code, the most frequent first (``--statistics``):
    a table of count, code, ``[*]`` for what ``flowql check --fix`` fixes and the code's summary
    (``text``), or a JSON list of ``code``, ``name``, ``count``, ``fixable``, ``summary``
    (``json``). Empty (text) when there are no findings."""
    counts: dict[str, int] = {}
    fixable: dict[str, bool] = {}
    for f in findings:
        code = f.diagnostic.code
        counts[code] = counts.get(code, 0) + 1
        fixable[code] = fixable.get(code, False) or f.fixable
    rows = sorted(counts.items(), key=lambda row: (-row[1], row[0]))
    if fmt == "json":
        import json

        entries = [
            {
                "code": code,
                "name": CODES[code].name if code in CODES else None,
                "count": count,
                "fixable": fixable[code],
                "summary": CODES[code].summary if code in CODES else None,
            }
            for code, count in rows
        ]
        return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; expected text or json")
    if not rows:
        return ""
    count_width = max(len(str(count)) for _, count in rows)
    code_width = max(len(code) for code, _ in rows)
    # As ruff: the [*] column is there only when something is fixable.
    marks = any(fixable.values())
    lines = []
    for code, count in rows:
        known = CODES.get(code)
        summary = known.summary if known else ""
        mark = ("[*] " if fixable[code] else "[ ] ") if marks else ""
        shown = code if not color else paint(code, severity_style(_severity(code)))
        pad = " " * (code_width - len(code))
        if color and fixable[code]:
            mark = paint("[*]", _FIX) + " "
        lines.append(f"{count:>{count_width}}  {shown}{pad}  {mark}{summary}".rstrip())
    return "\n".join(lines) + "\n"


def _severity(code: str) -> Severity:
    known = CODES.get(code)
    return Severity(known.severity) if known else Severity.ERROR


# --- json ----------------------------------------------------------------------------------


def _json(findings: Sequence[Finding]) -> str:
    import json

    return json.dumps([_json_entry(f) for f in findings], indent=2, ensure_ascii=False) + "\n"


def _json_entry(finding: Finding) -> dict[str, object]:
    d = finding.diagnostic
    code = CODES.get(d.code)
    return {
        "file": finding.path,
        "code": d.code,
        "name": code.name if code else None,
        "severity": d.severity.value,
        "message": d.message,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "hint": d.hint,
        "fixable": finding.fixable,
        "fix": d.fix.to_dict() if d.fix is not None else None,
    }


# --- github --------------------------------------------------------------------------------


def _github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        d = f.diagnostic
        props: list[tuple[str, object]] = []
        if _is_file(f.path):
            props.append(("file", f.path))
            if d.span is not None:
                props += [
                    ("line", d.line),
                    ("col", d.column),
                    ("endLine", d.end_line),
                    ("endColumn", d.end_column),
                ]
        code = CODES.get(d.code)
        props.append(("title", f"{d.code} {code.name}" if code else d.code))
        rendered = ",".join(f"{key}={_github_property(str(value))}" for key, value in props)
        message = _github_data(_message_with_hint(d))
        lines.append(f"::{_GITHUB_COMMANDS[d.severity]} {rendered}::{message}")
    return "".join(line + "\n" for line in lines)


def _github_data(text: str) -> str:
    """Escaped as GitHub's runner expects a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """Escaped as GitHub's runner expects a command's property value."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _message_with_hint(d: Diagnostic) -> str:
    return f"{d.message}\nhelp: {d.hint}" if d.hint else d.message


def _is_file(path: str) -> bool:
    """Whether a finding's path names a file (``<expr>``, ``<stdin>`` do not)."""
    return not (path.startswith("<") and path.endswith(">"))


# --- sarif ---------------------------------------------------------------------------------


def _sarif(findings: Sequence[Finding], tool_version: str) -> str:
    import json

    codes = sorted({f.diagnostic.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    rules = [_sarif_rule(code) for code in codes]
    results = []
    for f in findings:
        d = f.diagnostic
        result: dict[str, object] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVELS[d.severity],
            "message": {"text": _message_with_hint(d)},
        }
        if _is_file(f.path):
            physical: dict[str, object] = {"artifactLocation": {"uri": _artifact_uri(f.path)}}
            if d.span is not None:
                physical["region"] = {
                    "startLine": d.line,
                    "startColumn": d.column,
                    "endLine": d.end_line,
                    "endColumn": d.end_column,
                }
            result["locations"] = [{"physicalLocation": physical}]
            if d.fix is not None and f.source is not None:
                result["fixes"] = [_sarif_fix(f, physical["artifactLocation"])]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowql",
                        "version": tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                # Columns count characters (code points), as everywhere in flowql.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _sarif_fix(finding: Finding, artifact: object) -> dict[str, object]:
    """A SARIF fix: the edits as regions of the file's text (deleted) and inserted content."""
    from flowql.ast import Span

    fix = finding.diagnostic.fix
    source = finding.source
    assert fix is not None
    assert source is not None
    replacements = []
    for edit in fix.edits:
        span = Span.from_offsets(source, edit.start, edit.end)
        replacements.append(
            {
                "deletedRegion": {
                    "startLine": span.line,
                    "startColumn": span.column,
                    "endLine": span.end_line,
                    "endColumn": span.end_column,
                },
                "insertedContent": {"text": edit.replacement},
            }
        )
    return {
        "description": {"text": fix.message},
        "artifactChanges": [{"artifactLocation": artifact, "replacements": replacements}],
        "properties": {"applicability": fix.applicability.value},
    }


def _sarif_rule(code: str) -> dict[str, object]:
    known = CODES.get(code)
    if known is None:
        return {"id": code}
    from flowql.rule_docs import rule_url

    return {
        "id": code,
        "name": known.name,
        "shortDescription": {"text": known.summary},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": _SARIF_LEVELS[Severity(known.severity)]},
        "properties": {"family": known.family},
    }


def _artifact_uri(path: str) -> str:
    """A relative URI with forward slashes for a path under the working directory (which is
    where code scanning resolves it from); a ``file:`` URI for a path outside it."""
    from urllib.parse import quote

    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            from pathlib import Path

            return Path(path).as_uri()
        path = relative
    parts = [p for p in path.split(os.sep) if p not in ("", os.curdir)]
    if os.altsep:
        parts = [q for p in parts for q in p.split(os.altsep) if q not in ("", os.curdir)]
    return quote("/".join(parts), safe="/")


# --- rules ---------------------------------------------------------------------------------


def render_rules(fmt: str = "text") -> str:
    """Every code, grouped by family: aligned columns (``text``) or a JSON list (``json``)."""
    codes = sorted(CODES.values(), key=lambda c: c.code)
    if fmt == "json":
        import json

        entries = [
            {
                "code": c.code,
                "name": c.name,
                "family": c.family,
                "severity": c.severity,
                "summary": c.summary,
                "fix": c.fix,
            }
            for c in codes
        ]
        return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(RULE_FORMATS)}")
    name_width = max(len(c.name) for c in codes)
    severity_width = max(len(s.value) for s in Severity)
    blocks = []
    for prefix, family in FAMILIES.items():
        members = [c for c in codes if c.code.startswith(prefix)]
        if not members:
            continue
        rows = [f"{family} ({prefix}xx)"]
        rows += [
            f"  {c.code}  {c.name:<{name_width}}  {c.severity:<{severity_width}}  {c.summary}"
            for c in members
        ]
        blocks.append("\n".join(rows) + "\n")
    return "\n".join(blocks)


class UnknownRuleError(ValueError):
    """A code (or name) that is not one of flowql's; the message says what was meant."""


def render_rule(code: str, fmt: str = "text") -> str:
    """One code explained, as docs/rules explains it (``flowql rules CODE``): a heading, its
    family, severity and summary, the documentation's text and its address (``text``, Markdown),
    or one JSON object with those fields and ``explanation`` (``json``). ``code`` may be the
    code in any case or its name; raises :class:`UnknownRuleError` for one flowql does not have."""
    from flowql.rule_docs import rule_text, rule_url

    found = _rule(code)
    text = rule_text(found.code) or found.summary
    url = rule_url(found.code)
    if fmt == "json":
        import json

        entry = {
            "code": found.code,
            "name": found.name,
            "family": found.family,
            "severity": found.severity,
            "summary": found.summary,
            "fixable": found.code in FIXABLE,
            "url": url,
            "explanation": text,
        }
        return json.dumps(entry, indent=2, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(RULE_FORMATS)}")
    prefix = found.code[:3]
    facts = f"Family: {found.family} ({prefix}xx). Default severity: {found.severity}."
    if found.fix == "safe":
        facts += " Fixable with `flowql check --fix`."
    elif found.fix == "unsafe":
        facts += " Fixable with `flowql check --fix --unsafe-fixes`."
    parts = [f"# {found.code} {found.name}", f"{facts}\n{found.summary}", text]
    if url:
        parts.append(f"Documentation: {url}")
    return "\n\n".join(parts) + "\n"


def _rule(word: str) -> Code:
    from flowql.diagnostics import did_you_mean

    upper = word.strip().upper()
    if upper in CODES:
        return CODES[upper]
    by_name = {c.name: c for c in CODES.values()}
    if word.strip().lower() in by_name:
        return by_name[word.strip().lower()]
    guess = did_you_mean(upper, CODES) or did_you_mean(word.strip().lower(), by_name)
    raise UnknownRuleError(f"no rule {word!r}" + (f"; {guess}" if guess else ""))
