"""Query manifests: the queries a team keeps in its repository, in TOML.

A manifest is a ``.toml`` file with a ``[[query]]`` table per query::

    [[query]]
    name = "android-spain"
    endpoint = "historical"
    flow = "825"
    start = "2026-11-22T10:00:00Z"
    end = "2026-11-22T11:00:00Z"
    filter = \"\"\"
    device_operating_system == 'Android'
    AND geo_country == 'Spain'
    \"\"\"

:func:`load_manifest` reads one into :class:`Query` values. A query's ``filter`` is the decoded
text of the TOML string, and :meth:`Query.to_file` maps a span in that text to the span in the
manifest file, so a diagnostic about the filter points at the line and column the user wrote,
whatever string form (basic, multi-line, literal) and escapes they used. ``tomllib`` gives values
but no positions, so a small scanner here finds each value in the text and decodes it again,
recording where each character came from.

Errors come at two levels:

- a file flowql cannot read as a manifest (not UTF-8, invalid TOML, no ``[[query]]`` tables,
  keys outside them) raises :class:`ManifestError` (FQ802): nothing in it can be checked;
- a problem in one query (no ``filter``, an unknown field, a field of the wrong type, an
  ``interval`` out of range...) is an FQ802 diagnostic in :attr:`Query.diagnostics`, placed at
  the field in the file. The other queries of the file are still good to check.

:mod:`flowql.checker.noqa` finds the ``# noqa`` comments of a ``.flowql`` file or a
manifest.
"""

from __future__ import annotations

import re

from flowql.apis import Api
from flowql.ast import Span
from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any, TypeAlias

    from flowql.fixes import Fix

    _Path: TypeAlias = "tuple[str | int, ...]"

__all__ = [
    "ENDPOINTS",
    "FIELDS",
    "ManifestError",
    "ManifestMemo",
    "Query",
    "is_manifest",
    "load_manifest",
    "load_manifest_text",
    "scan_manifest",
]


def _fields() -> tuple[str, ...]:
    from flowql.apis import FIELDS as QUERY_FIELDS

    return ("name", "api", "target", "endpoint", *QUERY_FIELDS)


FIELDS = _fields()
"""The fields of a ``[[query]]`` table: ``name``, ``api`` (default: the target's API, or
``conviva-flow``), ``target`` (what the filter is checked for), ``endpoint``, and every query
field of :data:`flowql.query.FIELDS` (``group-by`` is accepted for ``group_by``)."""

_ALIASES = {"sessions/content": "content", "sessions/ad": "ad"}
"""Endpoint names of earlier manifests, read as Sessions V3's."""


def _endpoints() -> tuple[str, ...]:
    from flowql.apis import APIS

    names: dict[str, None] = {}
    for spec in APIS.values():
        names.update(dict.fromkeys(spec.query_endpoints))
    return (*names, *_ALIASES)


ENDPOINTS = _endpoints()
"""Endpoints a manifest query may name: every API's (``sessions/content`` and ``sessions/ad``
are read as Sessions V3's ``content`` and ``ad``)."""

CONFIG_FILES = ("pyproject.toml", "flowql.toml")
"""TOML files that are configuration, never manifests."""

_BOM = "\ufeff"


class ManifestError(FlowQLError):
    """A query manifest flowql cannot read (code FQ802)."""


def _error(message: str, span: Span | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic("FQ802", message, span, hint=hint)


# --- reading TOML ------------------------------------------------------------------------------


class TomlSyntaxError(Exception):
    """Text that is not TOML: tomllib's message and the 1-based position it gives (or None at
    the end of the document)."""

    def __init__(
        self, message: str, line: int | None, column: int | None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint

    def span(self, text: str) -> Span:
        """The position as a (one-character, or empty at the end) span of ``text``."""
        if self.line is None or self.column is None:
            return Span.from_offsets(text, len(text), len(text))
        offset = 0
        for _ in range(self.line - 1):
            found = text.find("\n", offset)
            if found < 0:
                break
            offset = found + 1
        start = min(offset + self.column - 1, len(text))
        end = start + 1 if start < len(text) and text[start] not in "\r\n" else start
        return Span.from_offsets(text, start, end)


_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


def toml_loads(text: str) -> dict[str, Any]:
    """Parse TOML (tomllib, or tomli on Python 3.10); raise :class:`TomlSyntaxError`."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        match = _TOML_POSITION.search(message)
        line = column = None
        if match:
            message = message[: match.start()]
            if match.group(1):
                line, column = int(match.group(1)), int(match.group(2))
        raise TomlSyntaxError(message, line, column) from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table: a hostile file runs it out.
        raise TomlSyntaxError(
            "Arrays or inline tables nested too deeply",
            None,
            None,
            "nest arrays and inline tables a few levels at most",
        ) from None
    except ValueError as exc:
        # An integer of more digits than Python converts (sys.get_int_max_str_digits()).
        if "digits" not in str(exc):
            raise
        raise TomlSyntaxError(
            "An integer with too many digits",
            None,
            None,
            "write a number of at most a few dozen digits",
        ) from None
    return data


# --- finding values in TOML text ---------------------------------------------------------------
#
# tomllib says what a document means but not where anything is. The scanner below walks the
# text once, the way a TOML parser does, and records for every value its key path (the tomllib
# path: table names, keys and array indexes), the span of its key and of the value, and for a
# string where it is, to be decoded (with the file offsets each character came from) when asked.
# It also records every comment and every table header. It trusts tomllib to have validated the
# text: on text that is not TOML it stops with _ScanError, keeping what it found up to there.


class _ScanError(Exception):
    pass


class _Decoded:
    """A TOML string, decoded: ``value``, and for each character ``starts[i]``/``ends[i]``, the
    file offsets of the text that produced it (the character itself, an escape, or the CRLF of a
    newline). ``content_start``/``content_end`` delimit the text between the quotes."""

    __slots__ = ("content_end", "content_start", "ends", "starts", "value")

    def __init__(self) -> None:
        self.value = ""
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.content_start = 0
        self.content_end = 0


class _Str:
    """A TOML string value found in the text, not decoded: :meth:`decoded` decodes it when asked
    and keeps nothing, so that a scan costs memory by the values of a file, not by its
    characters (two offsets a character are hundreds of megabytes for a large manifest). The
    attributes of :class:`_Decoded` read the same, each decoding again."""

    __slots__ = ("at", "end", "text")

    def __init__(self, text: str, at: int, end: int) -> None:
        self.text = text
        self.at = at  # the offset of the opening quote
        self.end = end  # just after the closing one

    def decoded(self) -> _Decoded:
        scanner = _Scanner(self.text, self.at)
        text = self.text
        if text.startswith('"""', self.at):
            return scanner._multiline('"')
        if text.startswith("'''", self.at):
            return scanner._multiline("'")
        return scanner._basic() if text[self.at] == '"' else scanner._literal()

    @property
    def value(self) -> str:
        return self.decoded().value

    @property
    def starts(self) -> list[int]:
        return self.decoded().starts

    @property
    def ends(self) -> list[int]:
        return self.decoded().ends

    @property
    def content_start(self) -> int:
        text, at = self.text, self.at
        if not text.startswith(('"""', "'''"), at):
            return at + 1
        # A line break right after the opening quotes is not part of the string.
        return (
            at + 3 + (1 if text.startswith("\n", at + 3) else 2 * text.startswith("\r\n", at + 3))
        )

    @property
    def content_end(self) -> int:
        multiline = self.text.startswith(('"""', "'''"), self.at)
        return self.end - (3 if multiline else 1)


class _Entry:
    """A value in the text: its path, the span of its key (the value itself for an array item)
    and of its value, and the decoded string when it is one."""

    __slots__ = ("end", "key_end", "key_start", "path", "start", "string")

    def __init__(
        self, path: _Path, key_start: int, key_end: int, start: int, end: int, string: _Str | None
    ) -> None:
        self.path = path
        self.key_start = key_start
        self.key_end = key_end
        self.start = start
        self.end = end
        self.string = string


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}#\r\n]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SIMPLE_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "e": "\x1b",  # TOML 1.1
}
_HEX_ESCAPES = {"u": 4, "U": 8, "x": 2}  # \x: TOML 1.1
# Runs of characters that stand for themselves, taken in one step (a manifest of thousands of
# filters is mostly such runs): in basic strings, in multi-line basic and in multi-line literal.
_BASIC_RUN = re.compile(r'[^"\\\r\n]+')
_MULTILINE_BASIC_RUN = re.compile(r'[^"\\\r]+')
_MULTILINE_LITERAL_RUN = re.compile(r"[^'\r]+")
# Whole string values, stepped over without decoding them: each accepts what the decoder below
# accepts (on TOML that tomllib read, the same text), written as "normal* (special normal*)*" so
# that no text makes them backtrack more than a step.
_ESCAPE = r'\\(?:[btnfre"\\]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})'
_SKIP_BASIC = re.compile(r'"[^"\\\r\n]*(?:' + _ESCAPE + r'[^"\\\r\n]*)*"')
_SKIP_LITERAL = re.compile(r"'[^'\r\n]*'")
_SKIP_MULTILINE_BASIC = re.compile(
    r'"""[^"\\]*(?:(?:"(?!"")|\\[ \t]*\r?\n|' + _ESCAPE + r')[^"\\]*)*"""(?:"{0,2})'
)
_SKIP_MULTILINE_LITERAL = re.compile(r"'''[^']*(?:'(?!'')[^']*)*'''(?:'{0,2})")


class _Scanner:
    def __init__(self, text: str, start: int = 0, stop: int | None = None) -> None:
        """Scan ``text`` from ``start`` to ``stop`` (a line start; the end by default)."""
        self.text = text
        self.pos = start
        self.stop = len(text) if stop is None else stop
        self.entries: dict[_Path, _Entry] = {}
        self.headers: dict[_Path, tuple[int, int]] = {}
        self.comments: list[tuple[int, int]] = []
        self._arrays: dict[_Path, int] = {}

    def run(self) -> None:
        text = self.text
        prefix: _Path = ()
        while True:
            self._blank(newlines=True)
            if self.pos >= self.stop:
                return
            if text[self.pos] == "[":
                start = self.pos
                double = text.startswith("[[", start)
                self.pos += 2 if double else 1
                self._spaces()
                keys, _, _ = self._key()
                close = "]]" if double else "]"
                if not text.startswith(close, self.pos):
                    raise _ScanError
                self.pos += len(close)
                prefix = self._resolve(keys, double)
                self.headers.setdefault(prefix, (start, self.pos))
            else:
                keys, key_start, key_end = self._key()
                self._expect("=")
                self._spaces()
                self._value((*prefix, *keys), key_start, key_end)
            self._spaces()
            self._blank(newlines=False)
            if self.pos < len(text) and text[self.pos] not in "\r\n":
                raise _ScanError

    def _resolve(self, keys: tuple[str, ...], array: bool) -> _Path:
        """The concrete path of a table header: each array of tables it passes through is
        indexed by its latest element, as TOML says."""
        path: _Path = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            if i < len(keys) - 1 and path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        if array:
            index = self._arrays.get(path, 0)
            self._arrays[path] = index + 1
            path = (*path, index)
        return path

    def _spaces(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos] in " \t":
            self.pos += 1

    def _blank(self, *, newlines: bool) -> None:
        """Skip white space and comments (and line breaks, when ``newlines``)."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                end = len(text) if end < 0 else end
                if end > self.pos and text[end - 1] == "\r":
                    end -= 1
                self.comments.append((self.pos, end))
                self.pos = end
            else:
                return

    def _expect(self, token: str) -> None:
        self._spaces()
        if not self.text.startswith(token, self.pos):
            raise _ScanError
        self.pos += len(token)

    def _key(self) -> tuple[tuple[str, ...], int, int]:
        """A dotted key: its parts, and the span from its first to its last character."""
        text = self.text
        keys: list[str] = []
        start = self.pos
        while True:
            char = text[self.pos] if self.pos < len(text) else ""
            if char == '"':
                keys.append(self._basic().value)
            elif char == "'":
                keys.append(self._literal().value)
            else:
                match = _BARE_KEY.match(text, self.pos)
                if match is None:
                    raise _ScanError
                keys.append(match.group())
                self.pos = match.end()
            end = self.pos
            self._spaces()
            if not text.startswith(".", self.pos):
                return tuple(keys), start, end
            self.pos += 1
            self._spaces()

    def _value(self, path: _Path, key_start: int, key_end: int | None) -> None:
        text = self.text
        start = self.pos
        string: _Str | None = None
        char = text[start] if start < len(text) else ""
        if char == '"' or char == "'":
            if text.startswith('"""', start):
                skip = _SKIP_MULTILINE_BASIC
            elif text.startswith("'''", start):
                skip = _SKIP_MULTILINE_LITERAL
            else:
                skip = _SKIP_BASIC if char == '"' else _SKIP_LITERAL
            match = skip.match(text, start)
            if match is None:
                raise _ScanError
            self.pos = match.end()
            string = _Str(text, start, self.pos)
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if text.startswith("]", self.pos):
                    self.pos += 1
                    break
                self._value((*path, index), self.pos, None)
                index += 1
                self._blank(newlines=True)
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("]", self.pos):
                    raise _ScanError
        elif char == "{":
            self.pos += 1
            while True:
                self._blank(newlines=True)
                if text.startswith("}", self.pos):
                    self.pos += 1
                    break
                keys, inner_start, inner_end = self._key()
                self._expect("=")
                self._spaces()
                self._value((*path, *keys), inner_start, inner_end)
                self._blank(newlines=True)
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("}", self.pos):
                    raise _ScanError
            self.headers.setdefault(path, (start, self.pos))
        else:
            match = _SCALAR.match(text, start)
            if match is None:
                raise _ScanError
            self.pos = start + len(match.group().rstrip(" \t"))
        end = self.pos
        entry = _Entry(path, key_start, end if key_end is None else key_end, start, end, string)
        self.entries.setdefault(path, entry)

    # --- strings: each decoded character with the offsets it came from ---

    def _basic(self) -> _Decoded:
        text = self.text
        out = _Decoded()
        chars: list[str] = []
        self.pos += 1
        out.content_start = self.pos
        while True:
            if self._run(_BASIC_RUN, chars, out):
                continue
            char = text[self.pos] if self.pos < len(text) else ""
            if char == '"':
                out.content_end = self.pos
                self.pos += 1
                break
            if char == "\\":
                self._escape(chars, out)
            elif char in ("", "\r", "\n"):
                raise _ScanError
            else:
                chars.append(char)
                out.starts.append(self.pos)
                self.pos += 1
                out.ends.append(self.pos)
        out.value = "".join(chars)
        return out

    def _multiline(self, quote: str) -> _Decoded:
        """A multi-line string: basic (``quote`` ``"``, with escapes) or literal (``'``)."""
        text = self.text
        basic = quote == '"'
        run = _MULTILINE_BASIC_RUN if basic else _MULTILINE_LITERAL_RUN
        out = _Decoded()
        chars: list[str] = []
        self.pos += 3
        self._first_newline()
        out.content_start = self.pos
        while True:
            if self._run(run, chars, out):
                continue
            if self.pos >= len(text):
                raise _ScanError
            if text.startswith(quote * 3, self.pos):
                self._close(chars, out, quote)
                break
            if basic and text[self.pos] == "\\":
                after = self.pos + 1
                while after < len(text) and text[after] in " \t":
                    after += 1
                if text.startswith(("\n", "\r\n"), after):
                    # A line-ending backslash: it and all white space after it vanish.
                    while after < len(text) and text[after] in " \t\r\n":
                        after += 1
                    self.pos = after
                else:
                    self._escape(chars, out)
            else:
                self._verbatim(chars, out)
        out.value = "".join(chars)
        return out

    def _literal(self) -> _Decoded:
        text = self.text
        out = _Decoded()
        self.pos += 1
        out.content_start = self.pos
        end = self.pos
        while end < len(text) and text[end] not in "'\r\n":
            end += 1
        if not text.startswith("'", end):
            raise _ScanError
        out.value = text[self.pos : end]
        out.starts = list(range(self.pos, end))
        out.ends = list(range(self.pos + 1, end + 1))
        out.content_end = end
        self.pos = end + 1
        return out

    def _run(self, pattern: re.Pattern[str], chars: list[str], out: _Decoded) -> bool:
        """Take a run of characters that stand for themselves, if one starts here."""
        match = pattern.match(self.text, self.pos)
        if match is None:
            return False
        start, end = match.span()
        chars.append(match.group())
        out.starts.extend(range(start, end))
        out.ends.extend(range(start + 1, end + 1))
        self.pos = end
        return True

    def _first_newline(self) -> None:
        """TOML drops a line break right after the opening delimiter of a multi-line string."""
        if self.text.startswith("\n", self.pos):
            self.pos += 1
        elif self.text.startswith("\r\n", self.pos):
            self.pos += 2

    def _verbatim(self, chars: list[str], out: _Decoded) -> None:
        """One character as it is, a CRLF being one newline (tomllib's reading)."""
        start = self.pos
        if self.text.startswith("\r\n", start):
            chars.append("\n")
            self.pos += 2
        else:
            chars.append(self.text[start])
            self.pos += 1
        out.starts.append(start)
        out.ends.append(self.pos)

    def _close(self, chars: list[str], out: _Decoded, quote: str) -> None:
        """At three quotes: up to two more quotes before the closing three are content."""
        run = self.pos
        while run < len(self.text) and self.text[run] == quote:
            run += 1
        extra = run - self.pos - 3
        if extra > 2:
            raise _ScanError
        for i in range(extra):
            chars.append(quote)
            out.starts.append(self.pos + i)
            out.ends.append(self.pos + i + 1)
        out.content_end = self.pos + extra
        self.pos = run

    def _escape(self, chars: list[str], out: _Decoded) -> None:
        text = self.text
        start = self.pos
        kind = text[start + 1] if start + 1 < len(text) else ""
        if kind in _SIMPLE_ESCAPES:
            chars.append(_SIMPLE_ESCAPES[kind])
            self.pos = start + 2
        elif kind in _HEX_ESCAPES:
            digits = text[start + 2 : start + 2 + _HEX_ESCAPES[kind]]
            if len(digits) != _HEX_ESCAPES[kind] or not _HEX.fullmatch(digits):
                raise _ScanError
            try:
                chars.append(chr(int(digits, 16)))
            except ValueError:
                raise _ScanError from None
            self.pos = start + 2 + len(digits)
        else:
            raise _ScanError
        out.starts.append(start)
        out.ends.append(self.pos)


def scan_toml(text: str, table: tuple[int, int, int] | None = None) -> _Scanner:
    """Scan TOML text for positions; on text that is not TOML, what was found before the
    problem. ``table`` (start, stop, index) scans one ``[[query]]`` table of a manifest alone:
    the text from its header to ``stop``, its paths those of the ``index``-th query, its offsets
    in the whole text. Internal: :mod:`flowql.checker.config` uses it too."""
    if table is None:
        scanner = _Scanner(text)
    else:
        start, stop, index = table
        scanner = _Scanner(text, start, stop)
        scanner._arrays[("query",)] = index
    try:
        scanner.run()
    except (_ScanError, IndexError, RecursionError):
        return scanner  # not TOML (or nested past reason): what was found before the problem
    return scanner


class _LazyScan:
    """The scan of one manifest (or of one of its tables, ``table`` as for :func:`scan_toml`),
    made on first use: finding positions costs more than reading the TOML, and a clean query
    never needs them (only findings and problems do)."""

    __slots__ = ("_scanner", "memo", "table", "text")

    def __init__(
        self,
        text: str,
        memo: ManifestMemo | None = None,
        table: tuple[int, int, int] | None = None,
    ) -> None:
        self.text = text
        self.memo = memo
        self.table = table
        self._scanner: _Scanner | None = None

    def get(self) -> _Scanner:
        if self._scanner is None:
            if self.table is not None:
                self._scanner = scan_toml(self.text, self.table)
            else:
                self._scanner = scan_manifest(self.text, self.memo)
        return self._scanner


def entry_span(text: str, scanner: _Scanner, path: _Path, *, key: bool = False) -> Span | None:
    """The span of the value (or its key) at ``path``, if the scanner found it. Internal."""
    entry = scanner.entries.get(path)
    if entry is None:
        header = scanner.headers.get(path)
        if header is None:
            # An array of tables ([[queries]]) is known by its first element's header.
            header = next((h for p, h in scanner.headers.items() if p[: len(path)] == path), None)
        return Span.from_offsets(text, *header) if header else None
    if key:
        return Span.from_offsets(text, entry.key_start, entry.key_end)
    return Span.from_offsets(text, entry.start, entry.end)


# --- queries -----------------------------------------------------------------------------------


class Query:
    """One query of a manifest. Immutable.

    ``filter`` is the decoded filter text; :meth:`to_file` maps spans in it to the manifest.
    ``group_by`` is one dimension key. ``start`` and ``end`` are ISO 8601 date-times as written
    (a TOML date-time value is written out as ``2026-11-22T10:00:00Z``). ``diagnostics`` holds
    the FQ802 problems of this query, with spans in the manifest: a query that has any should be
    reported, and its filter checked only if :attr:`has_filter` (a missing or mistyped
    ``filter`` leaves ``filter`` empty). ``source`` is the manifest's text (the positions refer
    to it), ``span`` the span of the query's ``[[query]]`` header, ``filter_span`` that of the
    filter string (quotes included), ``index`` its 0-based place in the file.
    """

    __slots__ = (
        "_content_start",
        "_ends",
        "_fallback",
        "_filter_span",
        "_has_filter",
        "_lazy",
        "_scan",
        "_span",
        "_starts",
        "api",
        "diagnostics",
        "end",
        "endpoint",
        "fields",
        "filter",
        "flow",
        "granularity",
        "group_by",
        "index",
        "interval",
        "limit",
        "name",
        "path",
        "source",
        "start",
        "target",
    )

    name: str
    api: str | None
    fields: dict[str, object]
    target: str | None
    endpoint: str | None
    flow: str | None
    group_by: str | None
    interval: str | None
    granularity: str | None
    start: str | None
    end: str | None
    limit: int | None
    filter: str
    path: str | None
    index: int
    source: str | None
    _span: Span | None
    _filter_span: Span | None
    diagnostics: tuple[Diagnostic, ...]
    _lazy: tuple[_LazyScan, _Path, _Path | None] | None
    _scan: _LazyScan | None
    _starts: tuple[int, ...] | None
    _ends: tuple[int, ...]
    _content_start: int
    _fallback: Span | None
    _has_filter: bool

    def __init__(
        self,
        *,
        name: str,
        filter: str,
        api: str | None = None,
        fields: dict[str, object] | None = None,
        target: str | None = None,
        endpoint: str | None = None,
        flow: str | None = None,
        group_by: str | None = None,
        interval: str | None = None,
        granularity: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        path: str | None = None,
        index: int = 0,
        source: str | None = None,
        span: Span | None = None,
        diagnostics: tuple[Diagnostic, ...] = (),
    ) -> None:
        values = dict(locals())
        del values["self"]
        values["_span"] = values.pop("span")
        values["fields"] = dict(fields or {})
        for field, value in values.items():
            object.__setattr__(self, field, value)
        object.__setattr__(self, "_lazy", None)
        object.__setattr__(self, "_scan", None)
        object.__setattr__(self, "_filter_span", None)
        object.__setattr__(self, "_starts", None)
        object.__setattr__(self, "_ends", ())
        object.__setattr__(self, "_content_start", 0)
        object.__setattr__(self, "_fallback", None)
        object.__setattr__(self, "_has_filter", True)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Query is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Query is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        where = f" at {self.path}:{self.span.line}" if self.path and self.span else ""
        return f"<Query {self.name!r}{where}: {self.filter!r}>"

    @property
    def span(self) -> Span | None:
        """The span of the query's ``[[query]]`` header in the manifest, if known."""
        if self._span is None and self._lazy is not None:
            scan, base, _ = self._lazy
            header = scan.get().headers.get(base)
            if header is not None:
                object.__setattr__(self, "_span", Span.from_offsets(scan.text, *header))
        return self._span

    @property
    def filter_span(self) -> Span | None:
        """The span of the filter string in the manifest (quotes included), if known."""
        self._locate()
        return self._filter_span

    def _locate(self) -> None:
        """Find the filter in the manifest's text, once, when a position is first needed."""
        if self._lazy is None:
            return
        scan, base, filter_path = self._lazy
        object.__setattr__(self, "_lazy", None)
        span = self._span
        if span is None:
            header = scan.get().headers.get(base)
            span = Span.from_offsets(scan.text, *header) if header else None
            object.__setattr__(self, "_span", span)
        if filter_path is None:
            return
        text = scan.text
        entry = scan.get().entries.get(filter_path)
        string = entry.string.decoded() if entry is not None and entry.string else None
        fallback = span or Span.from_offsets(text, 0, 0)
        value_span = None
        if entry is not None:
            fallback = Span.from_offsets(text, entry.key_start, entry.key_end)
            value_span = Span.from_offsets(text, entry.start, entry.end)
        if string is not None and string.value != self.filter:
            # The scanner decoded the string differently from tomllib: a bug in the scanner, or a
            # TOML feature it does not know. Positions would be wrong, so every span in the
            # filter points at the `filter` key instead.
            string = None
        self._place(string, fallback, value_span)

    def query_api(self, default: str | None = None) -> str:
        """The API the query runs against: its ``api``, else that of its endpoint
        (``sessions/...``) or target, else ``default`` or ``conviva-flow``."""
        if self.api:
            return self.api
        if self.endpoint in _ALIASES:
            return "conviva-sessions"
        target = self.target or default
        if target:
            from flowql.apis import api_of_target

            found = api_of_target(target)
            if found is not None:
                return found.value
        return "conviva-flow"

    def place(self, diagnostic: Diagnostic, field_spans: Mapping[str, Span]) -> Diagnostic:
        """``diagnostic`` about this query, placed in the manifest: at a field's value as it is
        (``field_spans``, from :meth:`field_spans`), a filter's diagnostic at its place in the
        filter string, one with no span at the query's header."""
        span = diagnostic.span
        if span is None:
            return diagnostic.at(self.span) if self.span is not None else diagnostic
        if any(span == s for s in field_spans.values()):
            return diagnostic
        return diagnostic.at(self.to_file(span))

    @property
    def query_endpoint(self) -> str:
        """The endpoint the query runs, as the API names it (``sessions/content`` is Sessions
        V3's ``content``; a table that names none is read as ``historical``)."""
        return _ALIASES.get(self.endpoint or "", self.endpoint or "historical")

    def field_spans(self) -> dict[str, Span]:
        """Where each field's value is in the manifest (for diagnostics about it)."""
        if self.source is None or (self._lazy is None and self._span is None):
            return {}
        spans: dict[str, Span] = {}
        # The manifest's one scan, shared by its queries (made when first needed).
        scan = self._scan or _LazyScan(self.source)
        base: _Path = ("query", self.index)
        for key in (*self.fields, "api", "endpoint"):
            for spelled in (key, key.replace("_", "-")):
                found = entry_span(self.source, scan.get(), (*base, spelled))
                if found is not None:
                    spans[key] = found
                    break
        header = self.span
        if header is not None:
            spans.setdefault("endpoint", header)
        return spans

    def to_query(
        self,
        *,
        tz: str | None = None,
        default_target: str | None = None,
        default_flow: str | None = None,
        with_filter: bool = True,
        default_revision: str | None = None,
    ) -> Any:
        """The query value this table describes (:func:`flowql.query.build_query`), as
        ``flowql query --manifest`` runs it; ``tz`` is the time zone for naive times when the
        table sets none. Raises :class:`~flowql.query.QueryError`, its diagnostics placed at
        the fields in the manifest. ``with_filter=False`` leaves the filter out (``flowql
        check`` checks it on its own, with positions in the filter). ``default_revision`` is
        the configuration's Klaviyo revision, for a Klaviyo table that names none."""
        from flowql.query import build_query

        fields = dict(self.fields)
        if tz is not None:
            fields.setdefault("tz", tz)
        api = self.query_api(default_target)
        if default_flow is not None and api == Api.CONVIVA_FLOW:
            fields.setdefault("flow", default_flow)
        if default_revision is not None and api == Api.KLAVIYO:
            fields.setdefault("revision", default_revision)
        if with_filter and self.has_filter and "filter" in self.fields:
            fields["filter"] = self.filter
        else:
            fields.pop("filter", None)
        return build_query(api, self.query_endpoint, fields, spans=self.field_spans())

    @property
    def has_filter(self) -> bool:
        """Whether the query has a filter to check: False when its ``filter`` is missing or not a
        string (an FQ802 diagnostic says so, and :attr:`filter` is empty)."""
        return self._has_filter

    def _place(
        self, string: _Decoded | None, fallback: Span | None, value_span: Span | None
    ) -> None:
        object.__setattr__(self, "_filter_span", value_span)
        if string is not None:
            object.__setattr__(self, "_starts", tuple(string.starts))
            object.__setattr__(self, "_ends", tuple(string.ends))
            object.__setattr__(self, "_content_start", string.content_start)
        object.__setattr__(self, "_fallback", fallback)

    def to_file(self, span: Span) -> Span:
        """The span in the manifest of a span in :attr:`filter`.

        Offsets are into :attr:`source`; lines and columns are 1-based in the file. A span over
        an escape (``\\n``, ``\\u00e9``) covers the whole escape. An empty span stays empty, just
        after the character before it. A query built in code (no manifest) returns the span as
        it is.
        """
        self._locate()
        starts = self._starts
        source = self.source
        if source is None:
            return span
        if starts is None:
            return self._fallback or span
        ends = self._ends
        size = len(starts)
        lo = min(max(span.start, 0), size)
        hi = min(max(span.end, lo), size)
        if hi > lo:
            start, end = starts[lo], ends[hi - 1]
        else:
            start = end = ends[lo - 1] if lo > 0 else self._content_start
        return Span.from_offsets(source, start, end)

    def to_file_fix(self, fix: Fix) -> Fix | None:
        """The fix in the manifest of a fix of :attr:`filter`: each edit moved to the text it
        came from, its replacement written as the filter's string kind writes it (escapes in a
        basic string). None when that cannot be done: a replacement a literal string cannot
        hold (a quote, a line break), a filter whose positions are not known, or edits that do
        not read back as the fixed filter."""
        self._locate()
        starts, source, value = self._starts, self.source, self._filter_span
        if starts is None or source is None or value is None:
            return None
        from flowql.fixes import Edit, Fix

        delimiter = source[value.start : value.start + 3]
        if not delimiter.startswith(("'", '"')):
            return None
        multiline = delimiter in ("'" * 3, '"' * 3)
        literal = delimiter[0] == "'"
        if literal and not multiline and any("'" in e.replacement for e in fix.edits):
            # A literal string cannot hold a ', so its filter quotes with ": a quoted value
            # the fix writes does too (the same value to FlowQL).
            edits = [Edit(e.start, e.end, _double_quoted(e.replacement)) for e in fix.edits]
            fix = Fix(edits, fix.message, fix.applicability)
        ends, size = self._ends, len(starts)
        edits = []
        for edit in fix.edits:
            lo, hi = min(edit.start, size), min(edit.end, size)
            if hi > lo:
                start, end = starts[lo], ends[hi - 1]
            else:
                start = end = ends[lo - 1] if lo > 0 else self._content_start
            written = _toml_string_text(edit.replacement, literal=literal, multiline=multiline)
            if written is None:
                return None
            edits.append(Edit(start, end, written))
        moved = Fix(edits, fix.message, fix.applicability)
        # Read the string back: what the manifest then holds must be the fixed filter. Made in
        # the string's own text, not in the manifest up to it (a copy of megabytes a fix).
        if any(e.start < value.start for e in edits):
            return None
        shifted = Fix(
            [Edit(e.start - value.start, e.end - value.start, e.replacement) for e in edits],
            fix.message,
            fix.applicability,
        )
        string = shifted.apply(source[value.start : value.end])
        try:
            decoded = toml_loads("v = " + string).get("v")
        except TomlSyntaxError:
            return None
        return moved if decoded == fix.apply(self.filter) else None


def _double_quoted(text: str) -> str:
    """A single-quoted FlowQL string with nothing to escape, written in double quotes."""
    if len(text) >= 2 and text[0] == text[-1] == "'" and not any(c in text[1:-1] for c in "'\"\\"):
        return f'"{text[1:-1]}"'
    return text


def _toml_string_text(text: str, *, literal: bool, multiline: bool) -> str | None:
    """``text`` as it is written inside a TOML string of that kind, or None if it cannot be."""
    if literal:
        # A quote may stand in a multi-line literal string unless it closes it: read back.
        if "\r" in text or (not multiline and ("'" in text or "\n" in text)):
            return None
        return text
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    if not multiline:
        out = out.replace("\n", "\\n")
    out = out.replace("\r", "\\r").replace("\t", "\\t")
    return "".join(c if c >= " " or c == "\n" else f"\\u{ord(c):04x}" for c in out)


def is_manifest(path: str) -> bool:
    """Whether ``path`` is a query manifest: a ``.toml`` file (other than ``pyproject.toml`` and
    ``flowql.toml``) with ``[[query]]`` tables. A file that has a ``[[query]]`` header but is not
    valid TOML counts, so that its errors are reported rather than the file skipped."""
    import os

    name = os.path.basename(path)
    if not name.endswith(".toml") or name in CONFIG_FILES:
        return False
    from flowql.files import read_regular

    try:
        text = read_regular(path).decode("utf-8-sig")
    except (OSError, ValueError):
        return False
    if "query" not in text:
        return False
    if re.search(r"^[ \t]*\[\[[ \t]*query[ \t]*\]\]", text, re.MULTILINE):
        return True
    try:
        data = toml_loads(text)
    except TomlSyntaxError:
        return False
    return isinstance(data.get("query"), list)


def load_manifest(path: str) -> list[Query]:
    """Read the queries of a manifest file. Raises :class:`ManifestError` for a file that
    cannot be read as a manifest; problems in one query are in its ``diagnostics``."""
    from flowql.files import read_regular

    try:
        data = read_regular(path)
    except ValueError:
        raise ManifestError(_error(f"{path!r}: not a valid path (it holds a NUL)")) from None
    except OSError as exc:
        raise ManifestError(_error(f"{path}: cannot read ({exc.strerror})")) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            _error(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")
        ) from None
    return load_manifest_text(text, path)


def load_manifest_text(
    text: str, path: str | None = None, *, memo: ManifestMemo | None = None
) -> list[Query]:
    """Read the queries of a manifest from its text (a leading byte order mark is dropped, and
    positions are in the text without it). ``path`` is recorded in each query. ``memo`` keeps
    what each ``[[query]]`` table's text reads as (and where its values are), for a caller that
    reads the same manifest again after each small change (the language server): only the
    tables that changed are read again."""
    if text.startswith(_BOM):
        text = text[1:]
    try:
        found = None if memo is None else _loads_by_table(text, memo)
        data = found if found is not None else toml_loads(text)
    except TomlSyntaxError as exc:
        raise ManifestError(
            _error(
                f"not valid TOML: {exc.message[:1].lower()}{exc.message[1:]}",
                exc.span(text),
                exc.hint,
            ),
            text,
        ) from None
    scan = _LazyScan(text, memo)
    problems: list[Diagnostic] = []
    for key in data:
        if key != "query":
            problems.append(
                _error(
                    f"'{key}' is not part of a query manifest",
                    entry_span(text, scan.get(), (key,), key=True),
                    did_you_mean(key, ["query"])
                    or "a manifest holds [[query]] tables, and nothing outside them",
                )
            )
    tables = data.get("query")
    if tables is None:
        problems.insert(0, _error("no [[query]] tables in this manifest", None))
    elif not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        problems.insert(
            0,
            _error(
                "'query' must be an array of tables: write each query as a [[query]] table",
                entry_span(text, scan.get(), ("query",)),
            ),
        )
    elif not tables:
        problems.insert(
            0, _error("no queries in this manifest", entry_span(text, scan.get(), ("query",)))
        )
    if problems:
        raise ManifestError(problems, text)
    assert isinstance(tables, list)
    queries: list[Query] = []
    names: dict[str, int] = {}
    # A finding in one query of a manifest of [[query]] tables only scans its own table, not
    # the file. Every line that starts with '[' is then a [[query]] header: with as many of
    # them as tomllib read tables, each is a table's real header (none is inside a string).
    bounds = _tables_of(text) if memo is None else None
    if bounds is not None and len(bounds) != len(tables):
        bounds = None
    for index, table in enumerate(tables):
        own = scan if bounds is None else _LazyScan(text, table=(*bounds[index], index))
        query = _query(text, own, index, table, path, names)
        queries.append(query)
    return queries


# --- large manifests, table by table ----------------------------------------------------------
#
# A manifest that is comments and blank lines, then [[query]] tables and nothing else, means
# what its tables mean one by one: each can be read on its own (tomllib, and the scanner when a
# position is needed), so memory is bounded by one query, and runs of tables can be checked in
# different processes. A header is found by its line alone, so one inside a multi-line string
# or array would split a table in two: its first part then fails to read as a [[query]] table
# of its own (the string or array has no end), and the whole file is read as it is instead.
# So is any file where a table, or what comes before the first one, does not read as expected.

_HEADER_LINE = re.compile(r"^[ \t]*\[\[[ \t]*query[ \t]*\]\][ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)


class NotPlainError(Exception):
    """A manifest that is not a plain series of ``[[query]]`` tables: read it whole."""


def table_runs(text: str, parts: int) -> list[tuple[int, int, int]] | None:
    """``text`` cut into about ``parts`` runs of whole ``[[query]]`` tables of similar size:
    (start, stop, index of the first query) each, in file order; None when the text does not
    start with comments and blank lines and then a table header (it is read whole)."""
    if text.startswith(_BOM):
        return None
    headers = _HEADER_LINE.finditer(text)
    first = next(headers, None)
    if first is None:
        return None
    try:
        if toml_loads(text[: first.start()]):
            return None
    except TomlSyntaxError:
        return None
    runs: list[tuple[int, int, int]] = []
    start, index = first.start(), 0
    step = max(1, (len(text) - start) // max(1, parts))
    for count, header in enumerate(headers, 1):
        if header.start() - start >= step and len(runs) < parts - 1:
            runs.append((start, header.start(), index))
            start, index = header.start(), count
    runs.append((start, len(text), index))
    return runs


def table_bounds(text: str, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """The (start, stop) of each ``[[query]]`` table from ``start`` (a header) to ``stop``."""
    here = start
    for header in _HEADER_LINE.finditer(text, start + 1):
        if header.start() >= stop:
            break
        yield here, header.start()
        here = header.start()
    yield here, stop


def read_tables(
    text: str, path: str | None, run: tuple[int, int, int], names: dict[str, int]
) -> Iterator[Query]:
    """The queries of a run of tables (from :func:`table_runs`), read one at a time: the same
    as :func:`load_manifest_text` gives for them, when ``names`` holds the names of the queries
    before (it is updated). Raises :class:`NotPlainError` at a table that does not read as one
    ``[[query]]`` table."""
    start, stop, index = run
    for begin, end in table_bounds(text, start, stop):
        try:
            data = toml_loads(text[begin:end])
        except TomlSyntaxError:
            raise NotPlainError from None
        tables = data.get("query")
        if len(data) != 1 or not isinstance(tables, list) or len(tables) != 1:
            raise NotPlainError
        if not isinstance(tables[0], dict):
            raise NotPlainError
        scan = _LazyScan(text, table=(begin, end, index))
        yield _query(text, scan, index, tables[0], path, names)
        index += 1


_QUERY_HEADER = re.compile(r"^\[\[query\]\][ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


class ManifestMemo:
    """What the ``[[query]]`` tables of manifests read as, each by its text: the TOML values
    and where they are (see :func:`load_manifest_text`)."""

    __slots__ = ("scans", "tables")

    SIZE = 20_000
    """Tables kept before the memo starts again."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}
        self.scans: dict[str, _Scanner] = {}

    def trim(self) -> None:
        if len(self.tables) > self.SIZE or len(self.scans) > self.SIZE:
            self.tables.clear()
            self.scans.clear()


def _tables_of(text: str) -> list[tuple[int, int]] | None:
    """Where each ``[[query]]`` table of a manifest made of them only (comments before the
    first) starts and ends; None for any other manifest."""
    starts = [m.start() for m in _QUERY_HEADER.finditer(text)]
    if not starts or len(starts) != len(_ANY_HEADER.findall(text)):
        return None
    for line in text[: starts[0]].splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return None
    return list(zip(starts, [*starts[1:], len(text)], strict=True))


def _loads_by_table(text: str, memo: ManifestMemo) -> dict[str, Any] | None:
    """What tomllib reads in a manifest of ``[[query]]`` tables only, table by table; None for
    any other manifest, or when a table alone is not TOML (a multi-line string cut by a
    ``[[query]]`` line in it): the caller then reads the whole text, as tomllib would."""
    bounds = _tables_of(text)
    if bounds is None:
        return None
    memo.trim()
    tables = []
    for start, end in bounds:
        chunk = text[start:end]
        data = memo.tables.get(chunk)
        if data is None:
            try:
                data = memo.tables[chunk] = toml_loads(chunk)
            except TomlSyntaxError:
                return None
        tables.append(data["query"][0])
    return {"query": tables}


def _scan_by_table(text: str, memo: ManifestMemo) -> _Scanner | None:
    """:func:`scan_toml` of a manifest of ``[[query]]`` tables only, table by table, each
    table's scan moved to its place; None when the text is not such a manifest."""
    bounds = _tables_of(text)
    if bounds is None:
        return None
    merged = _Scanner(text)
    for index, (start, end) in enumerate(bounds):
        chunk = text[start:end]
        part = memo.scans.get(chunk)
        if part is None:
            part = _Scanner(chunk)
            try:
                part.run()
            except (_ScanError, IndexError, RecursionError):
                return None
            memo.scans[chunk] = part
        for path, entry in part.entries.items():
            if path[:2] != ("query", 0):
                return None
            moved = ("query", index, *path[2:])
            merged.entries[moved] = _Entry(
                moved,
                entry.key_start + start,
                entry.key_end + start,
                entry.start + start,
                entry.end + start,
                _moved(entry.string, text, start),
            )
        for path, (first, last) in part.headers.items():
            if path[:2] != ("query", 0):
                return None
            header: _Path = ("query", index, *path[2:])
            merged.headers[header] = (first + start, last + start)
        merged.comments.extend((first + start, last + start) for first, last in part.comments)
    return merged


def scan_manifest(text: str, memo: ManifestMemo | None = None) -> _Scanner:
    """:func:`scan_toml` of a manifest's text, table by table with a memo (as
    :func:`load_manifest_text` scans it)."""
    found = None if memo is None else _scan_by_table(text, memo)
    return found if found is not None else scan_toml(text)


def _moved(string: _Str | None, text: str, by: int) -> _Str | None:
    """A table's string, ``by`` characters further into the manifest's ``text``: the same
    string, decoded there when asked, so its offsets are the manifest's."""
    return None if string is None else _Str(text, string.at + by, string.end + by)


_INTERVAL = re.compile(r"PT([0-9]+)M")
_DURATION = re.compile(
    r"P(?=[0-9T])(?:[0-9]+W)?(?:[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?)?"
)


def _query(
    text: str,
    scan: _LazyScan,
    index: int,
    table: dict[str, Any],
    path: str | None,
    names: dict[str, int],
) -> Query:
    problems: list[Diagnostic] = []
    base: _Path = ("query", index)

    def header_span() -> Span | None:
        header = scan.get().headers.get(base)
        return Span.from_offsets(text, *header) if header else None

    label = f"query {index + 1}"
    if isinstance(table.get("name"), str) and table["name"]:
        label = f"query '{table['name']}'"

    def at(key: str, *, key_only: bool = False) -> Span | None:
        return entry_span(text, scan.get(), (*base, key), key=key_only) or header_span()

    def problem(message: str, key: str, hint: str | None = None, *, key_only: bool = False) -> None:
        problems.append(_error(f"{message} in {label}", at(key, key_only=key_only), hint))

    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in table.items():
        field = key.replace("-", "_")
        if field not in FIELDS:
            hint = did_you_mean(field, FIELDS)
            problem(
                f"unknown field '{key}'",
                key,
                hint or f"the fields are {', '.join(FIELDS)}",
                key_only=True,
            )
            continue
        if field in spelled:
            problem(f"'{key}' repeats '{spelled[field]}'", key, "keep one of them", key_only=True)
            continue
        spelled[field] = key
        values[field] = value

    def text_field(field: str, *, hint: str | None = None) -> str | None:
        value = values.get(field)
        if value is None:
            return None
        if not isinstance(value, str):
            problem(
                f"'{spelled[field]}' must be a string, not {_toml_type(value)}",
                spelled[field],
                hint or f'write it in quotes: {spelled[field]} = "{value}"',
            )
            return None
        return value

    name = text_field("name")
    if name is None and "name" not in values:
        problem("no 'name'", "name", 'give each query a name: name = "android-spain"')
    elif name == "":
        problem("the name is empty", "name")
    if name:
        if name in names:
            problem(
                f"the name '{name}' is used by query {names[name] + 1} too",
                "name",
                "give each query its own name",
            )
        else:
            names[name] = index

    target = text_field("target")
    endpoint = text_field("endpoint")
    if endpoint is not None and endpoint not in ENDPOINTS and not endpoint.startswith("sessions/"):
        problem(
            f"unknown endpoint '{endpoint}'",
            "endpoint",
            did_you_mean(endpoint, ENDPOINTS) or f"the endpoints are {', '.join(ENDPOINTS)}",
        )
    flow = text_field("flow", hint=f'flow ids are strings: flow = "{values.get("flow")}"')
    if flow == "":
        problem("the flow id is empty", "flow")
    # One dimension key for the Flow API; a list of fields for Klaviyo's reports.
    grouping = values.get("group_by")
    group_by: str | None = None
    if isinstance(grouping, list) and grouping and all(isinstance(g, str) for g in grouping):
        group_by = grouping[0] if len(grouping) == 1 else None
    else:
        group_by = text_field(
            "group_by",
            hint='name a dimension key (group_by = "geo_country") or, for a Klaviyo report, '
            'a list of fields (group_by = ["flow_id", "flow_message_id"])',
        )
        if group_by == "" or grouping == []:
            problem("group_by is empty", "group_by")

    interval = text_field("interval")
    flow_api = values.get("api") in (None, Api.CONVIVA_FLOW) and endpoint in (
        None,
        "real-time",
        "historical",
    )
    if interval is not None and flow_api:
        match = _INTERVAL.fullmatch(interval)
        if match is None or not 1 <= int(match.group(1)) <= 15:
            problem(
                f"the interval '{interval}' is not PT1M to PT15M",
                "interval",
                "a real-time interval is 1 to 15 minutes: PT1M, PT5M, PT15M",
            )
        elif endpoint is not None and endpoint != "real-time":
            problem(
                f"'interval' is for real-time queries, not {endpoint}",
                "interval",
                "use start and end for a time range",
                key_only=True,
            )
    granularity = text_field("granularity")
    if granularity is not None and not _DURATION.fullmatch(granularity):
        problem(
            f"the granularity '{granularity}' is not an ISO 8601 duration",
            "granularity",
            "for example PT1M, PT1H or P1D",
        )

    times: dict[str, Any] = {}
    for field in ("start", "end"):
        if field in values:
            times[field] = _time(
                values[field], lambda m, h, f=field: problem(m, f, h), values.get("tz")
            )
    start = times.get("start")
    end = times.get("end")
    if start is not None and end is not None:
        if end[1] <= start[1]:
            problem("the end is not after the start", "end", None)
    elif ("start" in values) != ("end" in values):
        given, missing = ("start", "end") if "start" in values else ("end", "start")
        problem(f"'{given}' without '{missing}'", given, "give both, or neither", key_only=True)
    if endpoint == "real-time" and ("start" in values or "end" in values):
        problem(
            "a real-time query takes an interval, not start and end",
            "start" if "start" in values else "end",
            key_only=True,
        )

    limit = values.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        problem(
            "the limit must be a positive whole number, not "
            + (
                str(limit)
                if isinstance(limit, int) and not isinstance(limit, bool)
                else _toml_type(limit)
            ),
            "limit",
            "for example: limit = 100",
        )
        limit = None

    filter_text = text_field("filter", hint="write the filter as a TOML string")
    # A table that names an endpoint is a query that runs, with or without a filter; one that
    # does not is a filter kept for checking, which must have one.
    if "filter" not in values and "endpoint" not in values:
        problems.append(
            _error(
                f"no 'filter' in {label}",
                header_span(),
                "add one: filter = \"geo_country == 'Spain'\"",
            )
        )

    # Every query field as given (times as written), for to_query(); the checks above are the
    # manifest's own, and the query value checks the rest when the query is planned.
    generic: dict[str, object] = {}
    for field, value in values.items():
        if field in ("name", "api", "target", "endpoint"):
            continue
        if field in times and times[field] is not None:
            value = times[field][0]
        generic[field] = value
    api = text_field("api")
    if api is not None:
        from flowql.apis import UnknownApiError, parse_api

        try:
            parse_api(api)
        except UnknownApiError as exc:
            problem(str(exc), "api", exc.hint)
    query = Query(
        name=name or "",
        filter=filter_text or "",
        api=api,
        fields=generic,
        target=target,
        endpoint=endpoint,
        flow=flow or None,
        group_by=group_by or None,
        interval=interval,
        granularity=granularity,
        start=start[0] if start else None,
        end=end[0] if end else None,
        limit=limit,
        path=path,
        index=index,
        source=text,
        diagnostics=tuple(problems),
    )
    # Positions (the header's, the filter's) are found when first asked for: see Query._locate.
    filter_path = (*base, spelled["filter"]) if filter_text is not None else None
    object.__setattr__(query, "_lazy", (scan, base, filter_path))
    object.__setattr__(query, "_scan", scan)
    if filter_text is None:
        object.__setattr__(query, "_has_filter", False)
    return query


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _time(value: object, problem: Any, tz: object = None) -> tuple[str, Any] | None:
    """A start or end: (the text as written, the datetime), or None after reporting. Read by
    :func:`flowql.times.parse_time`, as the command line and the REPL read times: ISO 8601
    (naive ones in the table's ``tz``, default UTC), epoch seconds or milliseconds, ``now``,
    ``-2h30m``."""
    import datetime

    from flowql import times

    if isinstance(value, datetime.datetime):
        written = value.isoformat().replace("+00:00", "Z")
    elif isinstance(value, datetime.date):  # a TOML local date: its midnight, as the CLI reads it
        written = value.isoformat()
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        written = str(value)
    else:
        problem(
            f"a time must be a string or a number, not {_toml_type(value)}",
            'for example "2026-11-22T10:00:00Z" or "-2h"',
        )
        return None
    try:
        moment = times.parse_time(written, tz=tz if isinstance(tz, str) else None)
    except times.TimeError as exc:
        problem(exc.message, exc.hint)
        return None
    return written, moment
