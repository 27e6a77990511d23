"""How a result's values are written as text: one CSV or table cell (:func:`cell_text`) and a
JSON value (:func:`json_default`). The CSV and JSON exports, the tables and the DataFrames'
text columns all write values through here, so a value reads the same in each."""

from __future__ import annotations

import datetime as dt
import json

from flowql.times import format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import tzinfo

__all__ = ["cell_text", "json_default"]


def cell_text(value: object, zone: tzinfo | None = None) -> str:
    """A value as one CSV or table cell: empty for None, ``true``/``false``, JSON for lists and
    objects, ISO 8601 for times (in ``zone``, UTC by default)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dt.datetime):
        return format_time(value, zone)
    return str(value)


def json_default(value: object) -> object:
    """What ``json.dumps`` writes for a value it cannot: ISO 8601 for a time, else its text."""
    if isinstance(value, dt.datetime):
        return format_time(value)
    return str(value)
