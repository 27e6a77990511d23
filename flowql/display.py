"""Results as text tables, for the command line and the REPL.

:func:`table` shows a result's records as an aligned table (floats to 6 significant digits; the
JSON and CSV formats keep every digit); :func:`records_table` does so for given columns and
records, fitted to a terminal's width when one is given, or as an expanded view (one
``field | value`` line per column, as pgcli's ``\\x``) when a row is too wide to fit.

Widths are display columns (``wcwidth``: CJK and emoji take two, combining marks none), so
non-ASCII text lines up; wcwidth is imported only when a cell is not ASCII, which keeps it off
``flowql check``'s path. Without it (a lint-only install: the client extra brings it), the
standard library's Unicode tables give the same widths for all but the newest symbols.
Numbers (``int`` and ``float``, not ``bool``) are right-aligned.
"""

from __future__ import annotations

import datetime as dt

from flowql.results import cell_text, record_columns
from flowql.times import format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import tzinfo

    from flowql.diagnostics import Diagnostic
    from flowql.results import Result

__all__ = [
    "EXPANDED",
    "column_problem",
    "cut_to_width",
    "records_table",
    "short_number",
    "shown_records",
    "table",
    "text_width",
    "unknown_columns",
]

EXPANDED = ("auto", "on", "off")
"""The ways :func:`records_table` may show rows: ``auto`` (expanded when the table would not fit
the width), ``on`` (always expanded) and ``off`` (a table, cut to fit)."""


def table(
    result: Result,
    *,
    max_width: int = 40,
    width: int | None = None,
    expanded: str = "off",
    columns: Sequence[str] | None = None,
    names: str = "labels",
    zone: tzinfo | None = None,
) -> str:
    """The records as an aligned text table (cells cut at ``max_width`` columns, floats to 6
    significant digits: the JSON and CSV formats keep every digit), or a line saying there are
    none. ``columns`` picks and orders the columns (by key); metric columns are headed by their
    labels and units (``names="labels"``) or keys (``"keys"``); times are shown in ``zone``
    (UTC by default); ``width`` and ``expanded`` are as :func:`records_table` takes them."""
    records = result.to_records()
    chosen = list(columns) if columns else record_columns(records)
    headings = result.headings(names)
    shown = shown_records(records, headings, zone)
    heads = [headings.get(c, c) for c in chosen]
    return records_table(heads, shown, max_width=max_width, width=width, expanded=expanded)


def unknown_columns(wanted: Sequence[str], known: Sequence[str]) -> list[str]:
    """The names in ``wanted`` that are not among ``known`` (to say so, with a hint)."""
    have = set(known)
    return [name for name in wanted if name not in have]


def column_problem(wanted: Sequence[str], known: Sequence[str]) -> Diagnostic | None:
    """FQ740 for the first name in ``wanted`` that a result's columns (``known``) lack, with
    the closest column or the columns as its hint; None when every name is there. ``flowql
    query --columns`` and the REPL's ``:columns`` both say it."""
    missing = unknown_columns(wanted, known)
    if not missing:
        return None
    from flowql.diagnostics import Diagnostic, did_you_mean

    name = missing[0]
    listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    hint = did_you_mean(name, known) or f"its columns are {listed}"
    return Diagnostic("FQ740", f"the result has no column '{name}'", None, hint=hint)


def shown_records(
    records: Iterable[Mapping[str, object]],
    headings: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
) -> list[dict[str, object]]:
    """Records as a table shows them: keys replaced by their ``headings``, times as ISO 8601 in
    ``zone`` (UTC by default). Numbers stay numbers: :func:`records_table` aligns them and
    shows floats short."""
    names = headings or {}
    return [
        {
            names.get(k, k): format_time(v, zone) if isinstance(v, dt.datetime) else v
            for k, v in r.items()
        }
        for r in records
    ]


def short_number(value: float) -> str:
    """A float as a table shows it: to 6 significant digits (exports keep every digit)."""
    text = f"{value:.6g}"
    return text if "e" not in text else repr(value)


def text_width(text: str) -> int:
    """How many terminal columns ``text`` takes (one line, no control characters)."""
    if text.isascii():
        return len(text)
    width = _char_width()
    return sum(width(ch) for ch in text)


def cut_to_width(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns: cut, with ``…``, and never through a wide
    character."""
    if text_width(text) <= width:
        return text
    if width <= 0:
        return ""
    if text.isascii():
        return text[: width - 1] + "\u2026"
    char_width = _char_width()
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "\u2026"


def _char_width() -> Callable[[str], int]:
    """Columns of one character: wcwidth's, or the Unicode tables' when it is not installed;
    a control character counts 0."""
    try:
        from wcwidth import wcwidth
    except ImportError:
        return _unicode_width
    return lambda ch: max(int(wcwidth(ch)), 0)


def _unicode_width(ch: str) -> int:
    import unicodedata

    # wcwidth's rules: marks, controls, line and paragraph separators, Hangul's medial and
    # final jamo and format characters take none, but the soft hyphen and the marks that
    # prefix a number (U+0600 to U+0605 and their kin) take one.
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Mc", "Cc", "Zl", "Zp") or "\u1160" <= ch <= "\u11ff":
        return 0
    if "\ud7b0" <= ch <= "\ud7ff":
        return 0
    if category == "Cf":
        return 1 if ch == "\xad" or unicodedata.bidirectional(ch) == "AN" else 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(width - text_width(text), 0)
    return fill + text if right else text + fill


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: object) -> str:
    return short_number(value) if isinstance(value, float) else cell_text(value)


def records_table(
    columns: list[str],
    records: list[dict[str, object]],
    *,
    max_width: int = 40,
    width: int | None = None,
    expanded: str = "off",
) -> str:
    """:func:`table` of these records and columns. With ``width``, when the lines are longer:
    ``expanded="off"`` cuts cells to 26 columns and leaves out the columns that still do not
    fit, a last column ``…`` saying so; ``"auto"`` shows each record as a block of
    ``field | value`` lines instead of leaving any out (``"on"`` always does)."""
    if not records:
        return "(no rows)\n"
    texts = [[" ".join(_cell(r.get(c)).split()) for c in columns] for r in records]
    if expanded == "on":
        return _expanded(columns, texts, width)
    cells = [[cut_to_width(t, max_width) for t in row] for row in texts]
    numeric = [
        any(_is_number(r.get(c)) for r in records)
        and all(_is_number(r.get(c)) or r.get(c) is None for r in records)
        for c in columns
    ]
    widths = [
        max(text_width(column), *(text_width(row[i]) for row in cells))
        for i, column in enumerate(columns)
    ]
    heads = list(columns)
    if width is not None and _total(widths) > width:
        if expanded == "auto" and _total([min(w, 26) for w in widths]) > width:
            return _expanded(columns, texts, width)  # a table would leave columns out
        heads, cells, widths, numeric = _fit(heads, cells, widths, numeric, width)

    def line(row: list[str]) -> str:
        parts = (_pad(c, w, n) for c, w, n in zip(row, widths, numeric, strict=True))
        return "  ".join(parts).rstrip()

    lines = [line(heads), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in cells]
    return "\n".join(lines) + "\n"


def _total(widths: list[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _fit(
    columns: list[str], cells: list[list[str]], widths: list[int], numeric: list[bool], width: int
) -> tuple[list[str], list[list[str]], list[int], list[bool]]:
    """Columns, cells and widths cut to fit lines of ``width`` columns (see
    :func:`records_table`): columns are cut to 26 columns, then those that still do not fit
    are left out, a last column ``…`` saying so."""
    if _total(widths) > width:
        widths = [min(w, 26) for w in widths]
    keep = len(widths)
    if _total(widths) > width:  # keep the columns that fit whole, and say there are more
        keep = 0
        while keep < len(widths) and _total(widths[: keep + 1]) + 3 <= width:
            keep += 1
        if keep == 0:
            keep, widths = 1, [max(width - 3, 1)]
    fitted = [
        [cut_to_width(c, w) for c, w in zip(row[:keep], widths, strict=False)] for row in cells
    ]
    heads = [cut_to_width(c, w) for c, w in zip(columns[:keep], widths, strict=False)]
    widths = widths[:keep]
    numeric = numeric[:keep]
    if keep < len(columns):
        heads.append("\u2026")
        fitted = [[*row, "\u2026"] for row in fitted]
        widths.append(1)
        numeric.append(False)
    return heads, fitted, widths, numeric


def _expanded(columns: list[str], rows: list[list[str]], width: int | None) -> str:
    """Each record as a block: ``-[ RECORD n ]---`` then ``field | value`` per column, field
    names padded to the longest, values wrapped to ``width`` (a field name too long for the
    width is cut)."""
    limit = width if width is not None else None
    name_width = max(text_width(c) for c in columns)
    if limit is not None:
        name_width = min(name_width, max(limit - 3 - 20, limit // 2, 1))  # values get 20
    names = [_pad(cut_to_width(c, name_width), name_width, False) for c in columns]
    room = None if limit is None else max(limit - name_width - 3, 1)
    longest = max((text_width(t) for row in rows for t in row), default=0)
    rule_width = name_width + 3 + longest if limit is None else min(name_width + 3 + longest, limit)
    lines: list[str] = []
    for number, row in enumerate(rows, 1):
        head = f"-[ RECORD {number} ]"
        lines.append(head + "-" * max(rule_width - len(head), 0))
        for name, text in zip(names, row, strict=True):
            pieces = _wrap(text, room)
            lines.append(f"{name} | {pieces[0]}".rstrip())
            lines += [(" " * name_width + " | " + p).rstrip() for p in pieces[1:]]
    return "\n".join(lines) + "\n"


def _wrap(text: str, room: int | None) -> list[str]:
    """``text`` in pieces of at most ``room`` columns (never through a wide character)."""
    if room is None or text_width(text) <= room:
        return [text]
    pieces: list[str] = []
    current = ""
    used = 0
    for ch in text:
        w = text_width(ch)
        if used + w > room and current:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += w
    pieces.append(current)
    return pieces
