"""A FlowQL filter evaluated over data files (``flowql filter``): CSV, JSON, NDJSON, Parquet.

Three engines select the same rows of the same files:

- ``duckdb`` (the default, the ``flowql[duckdb]`` extra): the files are read by DuckDB's
  ``read_csv_auto``, ``read_json_auto`` or ``read_parquet``; the schema is the relation's
  ``DESCRIBE`` mapped to the sql target's kinds (:mod:`flowql.targets.table_schemas`), and the
  filter is that target's clause for the duckdb dialect, run as ``SELECT * FROM <scan> WHERE
  <clause>``, so DuckDB pushes it into the scan.
- ``polars`` (the ``flowql[polars]`` extra): ``scan_csv``, ``scan_ndjson``, ``scan_parquet`` or
  ``read_json``; the schema is the frame's and the filter the polars target's expression.
- ``python``: the rows read as dicts (the csv and json modules, pyarrow for Parquet) and
  filtered by the python target. CSV cells are typed as DuckDB and polars type them: a column
  whose every non-empty cell is a whole number holds integers, then floats, then ``true`` or
  ``false`` booleans, else strings; an empty cell is NULL. (DuckDB is told to read no dates,
  ``t``/``f`` or ``yes``/``no`` from CSV, and no dates from JSON strings, as polars does not.)

Files of other columns are combined by column name on every engine, NULL where a file lacks a
column.

A column of a type no FlowQL value can equal (dates, times, decimals, maps) is left out
of the schema: a filter that names it is refused with its span (FQ601), never compared with a
value of another type; a struct's fields are dotted keys (``integration.name``). A test the
columns' types contradict (``count ~~ 'x'`` on integers) is compiled as the python target means
it, with an FQ606 warning (on the duckdb and polars engines, which read the types). What cannot
be read is :class:`ScanError`, naming the path.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from flowql.diagnostics import did_you_mean
from flowql.extras import require
from flowql.results import Rows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import tzinfo
    from typing import Any

    from flowql.ast import Expr
    from flowql.diagnostics import Diagnostic

__all__ = [
    "ENGINES",
    "FILE_FORMATS",
    "FileRows",
    "ScanError",
    "expand_paths",
    "file_format",
    "filter_files",
    "parse_engine",
    "result_of",
]

ENGINES = ("duckdb", "polars", "python")
"""The engines a filter runs on; the first is the default."""

FILE_FORMATS = {
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""The extensions read, and the format each names."""


class ScanError(Exception):
    """Files that cannot be read: the message names the path (``flowql filter`` says it on
    stderr and exits 1)."""


def _error(message: str, hint: str | None = None) -> ScanError:
    return ScanError(message + (f" ({hint})" if hint else ""))


def parse_engine(name: str) -> str:
    """``name`` as one of :data:`ENGINES`; ValueError with a "did you mean" otherwise."""
    chosen = name.strip().lower()
    if chosen in ENGINES:
        return chosen
    hint = did_you_mean(chosen, ENGINES) or "the engines are " + ", ".join(ENGINES)
    raise ValueError(f"'{name}' is not an engine ({hint})")


def file_format(path: str) -> str:
    """The format ``path``'s extension names; :class:`ScanError` for another."""
    extension = os.path.splitext(path)[1].lower()
    found = FILE_FORMATS.get(extension)
    if found is None:
        raise _error(
            f"{path}: not a file flowql filter reads",
            "the extensions are " + ", ".join(FILE_FORMATS),
        )
    return found


def expand_paths(patterns: Sequence[str]) -> tuple[list[str], str]:
    """The files ``patterns`` name (globs expanded, in order, each once) and their one format;
    :class:`ScanError` for a pattern that matches nothing, a path that is not a file, or files
    of two formats."""
    files: list[str] = []
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if glob.has_magic(expanded):
            matches = sorted(glob.glob(expanded, recursive=True))
            if not matches:
                raise _error(f"{pattern}: no file matches")
        else:
            matches = [expanded]
        for path in matches:
            if os.path.isdir(path):
                raise _error(f"{path}: is a directory", "name the files: DIR/*.parquet")
            if not os.path.isfile(path):
                raise _error(f"{path}: no such file")
            if not os.access(path, os.R_OK):
                raise _error(f"{path}: cannot read (permission denied)")
            if path not in files:
                files.append(path)
    if not files:
        raise _error("no files to read", "give one or more files or globs")
    formats = {path: file_format(path) for path in files}
    kinds = sorted(set(formats.values()))
    if len(kinds) > 1:
        raise _error(
            "the files are of " + " and ".join(kinds) + ": one format at a time",
            "filter each format with its own command",
        )
    return files, kinds[0]


def filter_files(
    expr: Expr,
    files: Sequence[str],
    fmt: str,
    engine: str = "duckdb",
    warnings: list[Diagnostic] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns of ``files`` (all of format ``fmt``) and the rows ``expr`` selects, in file
    order, on ``engine``. Raises :class:`ScanError` for files that cannot be read,
    :class:`~flowql.extras.MissingExtraError` for an engine not installed, and the target's
    errors (with spans) for a filter the schema refuses. The target's warnings (FQ606, a test
    the files' column types contradict) go into ``warnings``, if given."""
    chosen = parse_engine(engine)
    found: list[Diagnostic] = [] if warnings is None else warnings
    if chosen == "duckdb":
        return _duckdb(expr, files, fmt, found)
    if chosen == "polars":
        return _polars(expr, files, fmt, found)
    return _python(expr, files, fmt)


def _unreadable(files: Sequence[str], exc: Exception) -> ScanError:
    where = files[0] if len(files) == 1 else ", ".join(files)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _error(f"{where}: cannot read ({detail})")


# --- duckdb ----------------------------------------------------------------------------------

_DUCKDB_READERS = {
    "csv": "read_csv_auto",
    "json": "read_json_auto",
    "ndjson": "read_json_auto",
    "parquet": "read_parquet",
}


def _duckdb(
    expr: Expr, files: Sequence[str], fmt: str, warnings: list[Diagnostic]
) -> tuple[list[str], list[dict[str, Any]]]:
    duckdb = require("duckdb", "duckdb", "DuckDB filters of files")
    require("sqlglot", "duckdb", "DuckDB filters of files")  # the sql target's clause
    from flowql.targets import get_target

    connection = duckdb.connect(":memory:")
    try:
        listed = ", ".join(_sql_string(path) for path in files)
        # Files of other columns are combined by column name (NULL where a file lacks one), as
        # the python engine combines records. CSV cells are typed as polars and the python
        # engine type them: whole numbers, floats, true/false, else strings (DuckDB alone would
        # also read dates, t/f and yes/no); and a JSON string stays a string (DuckDB alone
        # would read '2026-01-01' as a date: a format no string holds turns that off).
        options = ", union_by_name=true"
        if fmt == "csv":
            options += ", auto_type_candidates=['BIGINT', 'DOUBLE', 'VARCHAR']"
        elif fmt in ("json", "ndjson"):
            options += f", dateformat='{_NO_DATES}', timestampformat='{_NO_DATES}'"
        scan = f"{_DUCKDB_READERS[fmt]}([{listed}]{options})"
        try:
            if fmt == "csv":
                scan = _csv_booleans(connection, scan)
            # The relation's columns and types: what DESCRIBE of it lists.
            relation = connection.sql(f"SELECT * FROM {scan}")
            columns = [str(name) for name in relation.columns]
        except duckdb.Error as exc:
            raise _unreadable(files, exc) from None
        # Typed by the relation's columns (flowql.targets.table_schemas reads them).
        compiled = get_target("sql").compile(expr, dialect="duckdb", schema=relation)
        warnings.extend(compiled.warnings)
        clause = compiled.filter
        try:
            cursor = connection.execute(f"SELECT * FROM {scan} WHERE {clause}")
            rows = cursor.fetchall()
        except duckdb.Error as exc:
            raise _unreadable(files, exc) from None
    finally:
        connection.close()
    return columns, [dict(zip(columns, row, strict=True)) for row in rows]


_NO_DATES = "flowql: strings stay strings %Y"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_booleans(connection: Any, scan: str) -> str:
    """``scan`` with each string column whose every value is ``true`` or ``false`` (any case)
    cast to BOOLEAN, as a subquery; ``scan`` itself when there is none."""
    relation = connection.sql(f"SELECT * FROM {scan}")
    strings = [
        str(name)
        for name, dtype in zip(relation.columns, relation.types, strict=True)
        if str(dtype) == "VARCHAR"
    ]
    if not strings:
        return scan
    tests = ", ".join(
        f"count({_sql_name(n)}) > 0 AND bool_and(lower({_sql_name(n)}) IN ('true', 'false'))"
        for n in strings
    )
    found = connection.execute(f"SELECT {tests} FROM {scan}").fetchone()
    booleans = [n for n, flag in zip(strings, found or (), strict=False) if flag]
    if not booleans:
        return scan
    replaced = ", ".join(
        f"CAST(lower({_sql_name(n)}) = 'true' AS BOOLEAN) AS {_sql_name(n)}" for n in booleans
    )
    return f"(SELECT * REPLACE ({replaced}) FROM {scan})"


# --- polars ----------------------------------------------------------------------------------


def _polars(
    expr: Expr, files: Sequence[str], fmt: str, warnings: list[Diagnostic]
) -> tuple[list[str], list[dict[str, Any]]]:
    pl = require("polars", "polars", "polars filters of files")
    from flowql.targets import get_target

    try:
        if fmt == "csv":
            frames = [pl.scan_csv(path) for path in files]
        elif fmt == "ndjson":
            frames = [pl.scan_ndjson(path) for path in files]
        elif fmt == "parquet":
            frames = [pl.scan_parquet(path) for path in files]
        else:
            frames = [pl.read_json(path).lazy() for path in files]
        # Files of other columns are combined by column name, as on the other engines.
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise _unreadable(files, exc) from None
    compiled = get_target("polars").compile(expr, schema=schema)
    warnings.extend(compiled.warnings)
    predicate = compiled.expression
    try:
        selected = frame.filter(predicate).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(files, exc) from None
    return list(schema.names()), selected.to_dicts()


# --- python ----------------------------------------------------------------------------------


def _python(expr: Expr, files: Sequence[str], fmt: str) -> tuple[list[str], list[dict[str, Any]]]:
    from flowql.targets.python import filter_records

    records: list[dict[str, Any]] = []
    names: list[str] = []  # a file's columns, with rows or without (a CSV header, a schema)
    for path in files:
        try:
            found, read = _read_records(path, fmt)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise _unreadable([path], exc) from None
        names.extend(found)
        records.extend(read)
    columns = list(dict.fromkeys([*names, *(key for record in records for key in record)]))
    _check_keys(expr, columns)
    _refuse_other_types(expr, _other_types(records), "the python engine")
    if fmt == "csv":
        # Each column typed over every file's cells, as the engines type a column of all files;
        # a file without the column has empty cells in it.
        typed = [_typed_column([record.get(key, "") for record in records]) for key in columns]
        records = [dict(zip(columns, values, strict=True)) for values in zip(*typed, strict=True)]
    else:  # a key a record lacks is NULL, as in the engines' relations
        records = [{key: record.get(key) for key in columns} for record in records]
    return columns, list(filter_records(expr, records))


def _refuse_other_types(expr: Expr, others: Mapping[str, str], who: str) -> None:
    """FQ601, with its span, for each key of a column whose type no FlowQL value equals (a
    date, a decimal: ``others``, key -> type), as the polars target refuses one."""
    from flowql.ast import Key, walk
    from flowql.diagnostics import Diagnostic
    from flowql.errors import UnsupportedError

    problems = [
        Diagnostic(
            "FQ601",
            f"{who} cannot compare column {node.name!r} of type {others[node.name]} with "
            "FlowQL values",
            node.span,
            hint="cast the column to a string, a number or a boolean first",
        )
        for node in walk(expr)
        if isinstance(node, Key) and node.name in others
    ]
    if problems:
        raise UnsupportedError(problems)


_PLAIN = (str, bool, int, float)


def _other_types(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The keys (dotted below objects) whose values are of a type no FlowQL value equals (a
    date, a decimal, bytes), with that type's name."""
    found: dict[str, str] = {}

    def visit(key: str, value: object) -> None:
        if value is None or isinstance(value, _PLAIN) or key in found:
            return
        if isinstance(value, dict):
            for field, inner in value.items():
                visit(f"{key}.{field}", inner)
        elif isinstance(value, list):
            for item in value:
                if item is not None and not isinstance(item, _PLAIN):
                    found[key] = f"list of {type(item).__name__}"
                    return
        else:
            found[key] = type(value).__name__

    for record in records:
        for key, value in record.items():
            visit(key, value)
    return found


def _check_keys(expr: Expr, columns: Sequence[str]) -> None:
    """FQ605, with its span, for each key the files have no column for, as the table engines
    refuse it (the python target alone would match no record)."""
    from flowql.ast import Key, walk
    from flowql.diagnostics import Diagnostic
    from flowql.errors import UnsupportedError

    known = set(columns)
    problems = [
        Diagnostic(
            "FQ605",
            f"the schema has no column {node.name!r}",
            node.span,
            hint=did_you_mean(node.name, columns),
        )
        for node in walk(expr)
        if isinstance(node, Key) and node.name not in known and node.name.split(".")[0] not in known
    ]
    if problems:
        raise UnsupportedError(problems)


def _read_records(path: str, fmt: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns a file names (its CSV header or Parquet schema; none for JSON) and its
    records."""
    if fmt == "parquet":
        pq = require("pyarrow.parquet", "parquet", "Parquet files")
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow's errors are of many types
            raise ValueError(str(exc)) from None
        rows: list[dict[str, Any]] = table.to_pylist()
        return list(table.column_names), rows
    with open(path, encoding="utf-8", newline="") as stream:
        if fmt == "csv":
            return _csv_records(stream.read())
        if fmt == "ndjson":
            found = [_json_object(line) for line in stream if line.strip()]
        else:
            import json

            document = json.load(stream)
            items = document if isinstance(document, list) else [document]
            found = [_json_object(item) for item in items]
    return [], found


def _json_object(item: object) -> dict[str, Any]:
    if isinstance(item, str):
        import json

        item = json.loads(item)
    if not isinstance(item, dict):
        raise ValueError(f"a record is a JSON object, not {type(item).__name__}")
    return item


def _csv_records(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV file, as dicts of their cells (text: :func:`_typed_column`
    types them)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return [], []
    records = []
    for row in reader:
        if len(row) != len(header):
            raise ValueError(f"line {reader.line_num}: {len(row)} cells for {len(header)} columns")
        records.append(dict(zip(header, row, strict=True)))
    return header, records


def _typed_column(cells: list[str]) -> list[Any]:
    """A column's cells, typed as a whole (see the module); empty cells are None."""
    present = [cell for cell in cells if cell != ""]
    for convert in (_integer, _float, _boolean):
        try:
            for cell in present:
                convert(cell)
        except ValueError:
            continue
        if present:
            return [None if cell == "" else convert(cell) for cell in cells]
    return [None if cell == "" else cell for cell in cells]


_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _integer(cell: str) -> int:
    """A whole number as the engines read one (no ``_`` separators, no white space)."""
    if _INTEGER.fullmatch(cell) is None:
        raise ValueError(cell)
    return int(cell)


def _float(cell: str) -> float:
    if _FLOAT.fullmatch(cell) is None:
        raise ValueError(cell)
    return float(cell)


def _boolean(cell: str) -> bool:
    lowered = cell.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(cell)


@dataclass(frozen=True, kw_only=True)
class FileRows(Rows):
    """The rows a filter selected from files, with the files' columns (``names``), which a
    result with no rows still has: its CSV has the header, its ``columns()`` the names."""

    names: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """The files' columns, then any other key a record has (a struct's fields)."""
        return list(dict.fromkeys([*self.names, *super().columns()]))

    def to_csv(self, *, names: str = "keys", zone: tzinfo | None = None) -> str:
        """As :meth:`Rows.to_csv`; with no rows, the header of the files' columns."""
        if not self.rows and self.names:
            return _header(self.names)
        return super().to_csv(names=names, zone=zone)


def _header(names: Sequence[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(names)
    return buffer.getvalue()


def result_of(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]], engine: str, text: str | None = None
) -> FileRows:
    """The rows as a :class:`FileRows` result (``api`` ``files``, ``endpoint`` the engine,
    ``sent_filter`` the filter's ``text``), each row with every column in order, for the table
    and the exports."""
    return FileRows(
        api="files",
        endpoint=engine,
        sent_filter=text,
        names=tuple(columns),
        rows=tuple({column: row.get(column) for column in columns} for row in rows),
    )
