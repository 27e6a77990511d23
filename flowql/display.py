"""Results as text tables, for the command line and the REPL.

:func:`table` shows a result's records as an aligned table (floats to 6 significant digits; the
JSON and CSV formats keep every digit); :func:`records_table` does so for given columns and
records, fitted to a terminal's width when one is given.
"""

from __future__ import annotations

import datetime as dt

from flowql.results import cell_text, record_columns
from flowql.times import format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import tzinfo

    from flowql.results import Result

__all__ = ["records_table", "short_number", "shown_records", "table"]


def table(
    result: Result,
    *,
    max_width: int = 40,
    width: int | None = None,
    names: str = "labels",
    zone: tzinfo | None = None,
) -> str:
    """The records as an aligned text table (cells cut at ``max_width`` characters, floats to 6
    significant digits: the JSON and CSV formats keep every digit), or a line saying there are
    none. Metric columns are headed by their labels and units (``names="labels"``) or keys
    (``"keys"``); times are shown in ``zone`` (UTC by default). With ``width``, lines fit in
    that many columns (see :func:`records_table`)."""
    records = shown_records(result.to_records(), result.headings(names), zone)
    return records_table(record_columns(records), records, max_width=max_width, width=width)


def shown_records(
    records: Iterable[Mapping[str, object]],
    headings: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
) -> list[dict[str, object]]:
    """Records as a table shows them: keys replaced by their ``headings``, floats to 6
    significant digits, times as ISO 8601 in ``zone`` (UTC by default)."""
    names = headings or {}
    return [
        {
            names.get(k, k): short_number(v)
            if isinstance(v, float)
            else (format_time(v, zone) if isinstance(v, dt.datetime) else v)
            for k, v in r.items()
        }
        for r in records
    ]


def short_number(value: float) -> str:
    """A float as a table shows it: to 6 significant digits (exports keep every digit)."""
    text = f"{value:.6g}"
    return text if "e" not in text else repr(value)


def records_table(
    columns: list[str],
    records: list[dict[str, object]],
    *,
    max_width: int = 40,
    width: int | None = None,
) -> str:
    """:func:`table` of these records and columns. With ``width``, when the lines are longer,
    cells are cut to 26 characters, and the columns that still do not fit are left out, a last
    column ``…`` saying so."""
    if not records:
        return "(no rows)\n"
    cells = [[_cut(cell_text(r.get(c)), max_width) for c in columns] for r in records]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]
    if width is not None:
        columns, cells, widths = _fit(columns, cells, widths, width)
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _fit(
    columns: list[str], cells: list[list[str]], widths: list[int], width: int
) -> tuple[list[str], list[list[str]], list[int]]:
    """Columns, cells and widths cut to fit lines of ``width`` characters (see
    :func:`records_table`): columns are cut to 26 characters, then those that still do not fit
    are left out, a last column ``…`` saying so."""

    def total(ws: list[int]) -> int:
        return sum(ws) + 2 * (len(ws) - 1)

    if total(widths) > width:
        widths = [min(w, 26) for w in widths]
    keep = len(widths)
    if total(widths) > width:  # keep the columns that fit whole, and say there are more
        keep = 0
        while keep < len(widths) and total(widths[: keep + 1]) + 3 <= width:
            keep += 1
        if keep == 0:
            keep, widths = 1, [max(width - 3, 1)]
    fitted = [[_cut(c, w) for c, w in zip(row[:keep], widths, strict=False)] for row in cells]
    heads = [_cut(c, w) for c, w in zip(columns[:keep], widths, strict=False)]
    widths = widths[:keep]
    if keep < len(columns):
        heads.append("\u2026")
        fitted = [[*row, "\u2026"] for row in fitted]
        widths.append(1)
    return heads, fitted, widths
