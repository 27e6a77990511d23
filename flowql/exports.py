"""Results written out in a format: to a file (atomically) or to stdout.

The formats (:data:`FORMATS`): ``table`` (:func:`flowql.display.table`), ``csv`` and ``json``
(``Result.to_csv()``, ``Result.to_json()``), ``ndjson`` (one JSON object per record per line,
times in ISO 8601) and ``parquet`` (the typed Arrow table of :func:`flowql.frames.to_arrow`,
the ``flowql[parquet]`` extra). Parquet is binary: it goes to a file, or to a stdout that is a
pipe, never to a terminal. Several results (a manifest's queries) are one document: a JSON list
of results each with its ``query`` name, CSV, NDJSON and Parquet rows with a ``query`` column
first, or a table each.

Every file is written through :func:`flowql.files.write_atomic`: whole or not at all, and never
over an existing file unless ``force``. What cannot be written as asked is
:class:`OutputError` (FQ807, with a "did you mean" for a format).
"""

from __future__ import annotations

import json
import os

from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from flowql.results import Result

__all__ = [
    "BINARY",
    "FORMATS",
    "OutputError",
    "check_output",
    "format_of",
    "ndjson",
    "parse_format",
    "render",
    "render_many",
    "require_format",
    "to_stream",
    "write_file",
]

FORMATS = ("table", "csv", "json", "ndjson", "parquet")
"""Every format a result is written in."""

BINARY = frozenset({"parquet"})
"""The formats that are bytes, not text."""

_EXTENSIONS = {
    "csv": "csv",
    "json": "json",
    "ndjson": "ndjson",
    "jsonl": "ndjson",
    "parquet": "parquet",
    "pq": "parquet",
    "txt": "table",
}


class OutputError(FlowQLError):
    """An export that cannot be written as asked (FQ807): its format, its file, or a binary
    format to a terminal."""


def _error(message: str, hint: str | None = None) -> OutputError:
    return OutputError(Diagnostic("FQ807", message, None, hint=hint))


def parse_format(name: str) -> str:
    """``name`` as one of :data:`FORMATS` (any case); FQ807 with a "did you mean" otherwise."""
    chosen = name.strip().lower()
    if chosen in FORMATS:
        return chosen
    hint = did_you_mean(chosen, [*FORMATS, *_EXTENSIONS]) or ""
    close = _EXTENSIONS.get(hint.removeprefix("did you mean '").removesuffix("'?"))
    if close is not None and close != hint:
        hint = f"did you mean '{close}'?"
    raise _error(
        f"'{name}' is not a format flowql writes",
        (hint + " " if hint else "") + "the formats are " + ", ".join(FORMATS),
    )


def format_of(path: str) -> str | None:
    """The format ``path``'s extension names (``.csv``, ``.json``, ``.ndjson`` or ``.jsonl``,
    ``.parquet``, ``.txt`` for a table), or None."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    return _EXTENSIONS.get(extension)


def require_format(fmt: str) -> None:
    """Import what ``fmt`` needs now, so a missing extra (FQ806) is said before any fetch."""
    if fmt == "parquet":
        from flowql.extras import require

        require("pyarrow.parquet", "parquet", "Parquet files")


def ndjson(records: Sequence[dict[str, object]]) -> str:
    """Records as NDJSON: one JSON object a line, times as ISO 8601."""
    from flowql.cells import json_default

    return "".join(json.dumps(r, ensure_ascii=False, default=json_default) + "\n" for r in records)


def render(result: Result, fmt: str) -> str | bytes:
    """``result`` in ``fmt``: text, or bytes for a binary format."""
    if fmt == "csv":
        return result.to_csv()
    if fmt == "json":
        return result.to_json() + "\n"
    if fmt == "ndjson":
        return ndjson(result.to_records())
    if fmt == "parquet":
        from flowql.frames import to_arrow

        require_format(fmt)  # pyarrow as the parquet extra, before the table is built
        return _parquet(to_arrow(result))
    if fmt == "table":
        from flowql.display import table

        return table(result)
    parse_format(fmt)  # raises FQ807 for an unknown format
    raise AssertionError(fmt)


def render_many(results: Sequence[tuple[str, Result]], fmt: str) -> str | bytes:
    """Several named results as one document (see the module)."""
    if fmt == "json":
        documents = [{"query": name, **json.loads(r.to_json())} for name, r in results]
        return json.dumps(documents, indent=2, ensure_ascii=False) + "\n"
    if fmt == "table":
        from flowql.display import table

        return "".join(f"# {name}\n{table(r)}\n" for name, r in results)
    rows = [{"query": name, **record} for name, r in results for record in r.to_records()]
    if fmt == "csv":
        from flowql.results import records_csv

        return records_csv(rows) if rows else "query\n"
    if fmt == "ndjson":
        return ndjson(rows)
    if fmt == "parquet":
        from flowql.frames import arrow_table, dimensions_of

        require_format(fmt)
        names = dict.fromkeys(k for row in rows for k in row) or {"query": None}
        columns = {n: [row.get(n) for row in rows] for n in names}
        categories = frozenset({"query"}).union(*(dimensions_of(r) for _, r in results))
        return _parquet(arrow_table(columns, categories=categories))
    parse_format(fmt)  # raises FQ807 for an unknown format
    raise AssertionError(fmt)


def _parquet(table: object) -> bytes:
    import io

    from flowql.extras import require

    pq = require("pyarrow.parquet", "parquet", "Parquet files")
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def check_output(path: str, *, force: bool = False) -> None:
    """Refuse, before anything is fetched, a ``path`` that cannot be written: a directory, a
    directory that does not exist, an existing file (unless ``force``)."""
    target = os.path.expanduser(path)
    if os.path.isdir(target):
        raise _error(f"'{path}' is a directory", f"give a file name: {path.rstrip('/')}/out.csv")
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        parent = os.path.dirname(path) or "."
        raise _error(
            f"cannot write '{path}': the directory {parent} does not exist",
            f"create it first: mkdir -p {parent}",
        )
    if os.path.lexists(target) and not force:
        raise _error(
            f"'{path}' exists: it was left as it is",
            "give another name, or replace it with --force",
        )


def write_file(path: str, data: str | bytes, *, force: bool = False) -> int:
    """Write ``data`` to ``path`` atomically (never over a file unless ``force``); the number
    of bytes written. Raises :class:`OutputError`."""
    from flowql.files import write_atomic

    check_output(path, force=force)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        write_atomic(os.path.expanduser(path), payload, replace=force)
    except FileExistsError:
        raise _error(
            f"'{path}' exists: it was left as it is",
            "give another name, or replace it with --force",
        ) from None
    except OSError as exc:
        raise _error(f"cannot write '{path}': {exc.strerror or exc}") from None
    return len(payload)


def to_stream(out: TextIO, data: str | bytes) -> None:
    """Write ``data`` to ``out``; bytes only to a binary stream that is not a terminal."""
    if isinstance(data, str):
        out.write(data)
        return
    isatty = getattr(out, "isatty", None)
    buffer = getattr(out, "buffer", None)
    if (isatty is not None and isatty()) or buffer is None:
        raise _error(
            "Parquet is binary and is not written to a terminal",
            "write it to a file with -o FILE.parquet, or pipe it",
        )
    out.flush()
    buffer.write(data)
    buffer.flush()
