"""A table's schema as the column kinds the table targets (``sql``, ``polars``) compare with.

A schema is read from what describes a table, and each column gets one kind (``string``,
``integer``, ``float``, ``boolean`` or ``list[...]`` of one of them):

- a mapping of column names to kinds (``{"count": "integer"}``), or to a library's types;
- a pyarrow ``Schema``, ``Table``, ``RecordBatch``, ``Dataset`` or ``ParquetFile``, and the path of
  a Parquet file (its schema is read, not its rows);
- a polars ``Schema`` (``df.schema``), ``DataFrame`` or ``LazyFrame``;
- a DuckDB relation (its columns' types), or the rows of its ``DESCRIBE`` (``(name, type, ...)``,
  as ``fetchall()`` gives them, or the ``DESCRIBE`` relation itself);
- a pandas ``DataFrame`` (its ``dtypes``);
- a Spark ``StructType`` (``df.schema``) or DataFrame;
- flowql's :class:`~flowql.model.DataModel` (a dimension's ``number`` is ``float``, which
  compares any number by value; ``list`` is ``list[string]``).

The rules are the same for every library: text (and categories, dictionaries, enums, compared as
their text) is ``string``; integers of up to 64 bits are ``integer``, except unsigned 64-bit ones,
whose values an ``integer`` does not hold; floats are ``float``; a list of one of those is a
``list[...]``; a struct's fields are dotted keys (``integration.name``), and a column named with
the dots wins over a struct path of that name (the python target's rule). A column of a type no
FlowQL value equals (dates, times, timestamps, decimals, binary, maps, 128-bit integers, lists
of lists, fixed-size lists, pandas ``object``) is left out of the kinds: read from a table, it is
kept aside so that a filter naming it is refused (FQ601, "cast the column first"), never
compared with a value of another type. The libraries are imported only to read their own
objects.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, field

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError
from flowql.targets._columns import SCALARS, check_schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["TableSchema", "TableSchemaError", "duckdb_kind", "read_schema", "table_schema"]


class TableSchemaError(FlowQLError):
    """What cannot be read as a table's schema (FQ605)."""


@dataclass(frozen=True)
class TableSchema:
    """A table's columns as kinds: ``kinds`` (key -> kind), ``others`` (key -> the type of a
    column no FlowQL value can be compared with), ``paths`` (the dotted keys that are struct
    fields; None when unknown, as for a mapping of kinds: a dotted key is then a struct path
    where the target has structs) and ``texts`` (the keys of categories, compared as text)."""

    kinds: dict[str, str]
    others: dict[str, str] = field(default_factory=dict)
    paths: frozenset[str] | None = None
    texts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Type:
    """One column's type, read from a library: its name (for messages), its kind (None: no
    FlowQL value compares with it), a struct's fields, and whether it is a category."""

    name: str
    kind: str | None = None
    fields: tuple[tuple[str, _Type], ...] | None = None
    text: bool = False


def _error(message: str, hint: str | None = None) -> TableSchemaError:
    return TableSchemaError(Diagnostic("FQ605", message, None, hint=hint))


def _list_of(name: str, item: _Type) -> _Type:
    return _Type(name, f"list[{item.kind}]") if item.kind in SCALARS else _Type(name)


# --- DuckDB ----------------------------------------------------------------------------------

_DUCKDB_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
)
_DUCKDB_FLOATS = frozenset({"FLOAT", "DOUBLE", "REAL"})


def duckdb_kind(type_name: str) -> str | None:
    """The kind of a DuckDB column type (``BIGINT`` is ``integer``, ``VARCHAR[]``
    ``list[string]``, an ``ENUM`` ``string``), or None for a type no FlowQL value equals (dates,
    decimals, structs, 64-bit unsigned and 128-bit integers)."""
    name = type_name.strip().upper()
    if name.endswith("[]"):
        inner = duckdb_kind(name[:-2])
        return f"list[{inner}]" if inner in SCALARS else None
    if name == "VARCHAR" or name.startswith("ENUM("):
        return "string"
    if name == "BOOLEAN":
        return "boolean"
    if name in _DUCKDB_INTEGERS:
        return "integer"
    if name in _DUCKDB_FLOATS:
        return "float"
    return None


def _duckdb_type(dtype: Any) -> _Type:
    """A ``DuckDBPyType``."""
    name = str(dtype)
    kind_id = getattr(dtype, "id", None)
    if kind_id == "struct":
        children = dtype.children
        return _Type(name, fields=tuple((str(n), _duckdb_type(t)) for n, t in children))
    if kind_id == "list":
        return _list_of(name, _duckdb_type(dtype.children[0][1]))
    kind = duckdb_kind(name)
    return _Type(name, kind if kind in SCALARS else None, text=name.upper().startswith("ENUM("))


def _duckdb_type_named(text: str) -> _Type:
    """A type as DESCRIBE writes it (``STRUCT(a INTEGER)``), parsed by DuckDB."""
    from flowql.extras import require

    duckdb = require("duckdb", "duckdb", "DuckDB DESCRIBE rows")

    try:
        return _duckdb_type(duckdb.sqltype(text))
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0]
        message = f"the schema names the type {text!r}, which DuckDB cannot read: {detail}"
        raise _error(message) from None


_DESCRIBE = ("column_name", "column_type")


def _duckdb_relation(relation: Any) -> list[tuple[str, _Type]]:
    columns = [str(name) for name in relation.columns]
    if tuple(columns[:2]) == _DESCRIBE:  # a DESCRIBE, not a table
        rows = relation.fetchall()
        return [(str(row[0]), _duckdb_type_named(str(row[1]))) for row in rows]
    types = list(relation.types)
    return [(name, _duckdb_type(dtype)) for name, dtype in zip(columns, types, strict=True)]


# --- pyarrow ---------------------------------------------------------------------------------


def _arrow_type(dtype: object) -> _Type:
    import pyarrow as pa

    types = pa.types
    name = str(dtype)
    assert isinstance(dtype, pa.DataType)
    if types.is_dictionary(dtype):
        inner = _arrow_type(dtype.value_type)
        return _Type(name, "string", text=True) if inner.kind == "string" else _Type(name)
    if types.is_string(dtype) or types.is_large_string(dtype) or _is(types, "string_view", dtype):
        return _Type(name, "string")
    if types.is_boolean(dtype):
        return _Type(name, "boolean")
    if types.is_integer(dtype):
        return _Type(name, None if types.is_uint64(dtype) else "integer")
    if types.is_floating(dtype):
        return _Type(name, "float")
    # A fixed-size list is left out, as polars (an Array) and DuckDB (INTEGER[3]) read it.
    if isinstance(dtype, (pa.ListType, pa.LargeListType)) or (
        _is(types, "list_view", dtype) or _is(types, "large_list_view", dtype)
    ):
        return _list_of(name, _arrow_type(dtype.value_type))
    if types.is_struct(dtype):
        fields = (dtype.field(i) for i in range(dtype.num_fields))
        return _Type(name, fields=tuple((f.name, _arrow_type(f.type)) for f in fields))
    return _Type(name)


def _is(types: Any, name: str, dtype: object) -> bool:
    """``pyarrow.types.is_<name>(dtype)``, False where this pyarrow lacks the type (views came
    in pyarrow 16)."""
    test = getattr(types, f"is_{name}", None)
    return bool(test(dtype)) if test is not None else False


def _arrow_schema(schema: object) -> list[tuple[str, _Type]]:
    import pyarrow as pa

    assert isinstance(schema, pa.Schema)
    return [(f.name, _arrow_type(f.type)) for f in schema]


def _parquet_path(path: object) -> list[tuple[str, _Type]]:
    from flowql.extras import require

    pq = require("pyarrow.parquet", "parquet", "Parquet schemas")
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow's errors are of many types
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _error(f"cannot read the schema of {str(path)!r}: {detail}") from None
    return _arrow_schema(schema)


# --- polars ----------------------------------------------------------------------------------


def _polars_type(dtype: object) -> _Type:
    import polars as pl

    if isinstance(dtype, type):
        try:
            dtype = dtype()
        except TypeError:
            return _Type(str(dtype))
    if not isinstance(dtype, pl.DataType):
        return _Type(str(dtype))
    name = str(dtype)
    if isinstance(dtype, pl.List):
        return _list_of(name, _polars_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return _Type(name, fields=tuple((f.name, _polars_type(f.dtype)) for f in dtype.fields))
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        return _Type(name, "string", text=True)
    if dtype == pl.String:
        return _Type(name, "string")
    if dtype == pl.Boolean:
        return _Type(name, "boolean")
    if dtype.is_integer():
        wide = name in ("UInt64", "Int128", "UInt128")  # by name: older polars lack Int128
        return _Type(name, None if wide else "integer")
    if dtype.is_float():
        return _Type(name, "float")
    return _Type(name)


# --- Spark ------------------------------------------------------------------------------------

_SPARK_KINDS = {
    "string": "string",
    "char": "string",
    "varchar": "string",
    "boolean": "boolean",
    "byte": "integer",
    "short": "integer",
    "integer": "integer",
    "long": "integer",
    "float": "float",
    "double": "float",
}


def _spark_type(dtype: Any) -> _Type:
    """A ``pyspark.sql.types.DataType``."""
    name = str(dtype.simpleString())
    kind_name = str(dtype.typeName())
    if kind_name == "struct":
        return _Type(name, fields=tuple((f.name, _spark_type(f.dataType)) for f in dtype.fields))
    if kind_name == "array":
        return _list_of(name, _spark_type(dtype.elementType))
    return _Type(name, _SPARK_KINDS.get(kind_name))


def _spark_schema(obj: Any) -> list[tuple[str, _Type]] | None:
    """The fields of a Spark ``StructType``, or of a DataFrame's ``schema``."""
    schema = obj if hasattr(obj, "fields") else getattr(obj, "schema", None)
    if not (hasattr(schema, "fields") and hasattr(schema, "typeName")):
        return None
    assert schema is not None
    return [(str(f.name), _spark_type(f.dataType)) for f in schema.fields]


# --- pandas ----------------------------------------------------------------------------------


def _pandas_type(dtype: object) -> _Type:
    import pandas as pd

    name = str(dtype)
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_type(dtype.pyarrow_dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        texts = all(isinstance(c, str) for c in dtype.categories)
        return _Type(name, "string", text=True) if texts else _Type(name)
    if isinstance(dtype, pd.StringDtype):
        return _Type(name, "string")
    kind = getattr(dtype, "kind", "")
    if kind == "b":
        return _Type(name, "boolean")
    if kind == "i" or (kind == "u" and getattr(dtype, "itemsize", 8) < 8):
        return _Type(name, "integer")
    if kind == "f":
        return _Type(name, "float")
    return _Type(name)  # object (anything at all), datetimes, 64-bit unsigned...


# --- flowql's data model ---------------------------------------------------------------------

_MODEL_KINDS = {"string": "string", "number": "float", "boolean": "boolean", "list": "list[string]"}


# --- reading ---------------------------------------------------------------------------------


def _library(obj: object) -> str:
    """The top package of the library ``obj`` (or the class ``obj``) comes from."""
    module = (obj if isinstance(obj, type) else type(obj)).__module__ or ""
    return module.split(".")[0].lstrip("_")


def _loaded(name: str) -> bool:
    return name in sys.modules


def _of_type(column: str, dtype: object) -> _Type:
    """A mapping's value: a kind, or a library's type."""
    library = _library(dtype)
    if library == "polars" and _loaded("polars"):
        return _polars_type(dtype)
    if library == "pyarrow" and _loaded("pyarrow"):
        return _arrow_type(dtype)
    if library == "duckdb" and _loaded("duckdb"):
        return _duckdb_type(dtype)
    if library in ("numpy", "pandas") and _loaded("pandas"):
        return _pandas_type(dtype)
    checked = check_schema({column: dtype}, TableSchemaError)
    assert checked is not None
    return _Type(checked[column], checked[column])


def _columns(obj: object) -> list[tuple[str, _Type]] | None:
    """The columns of a table (or of its schema), or None for a mapping of kinds."""
    import os
    from collections.abc import Mapping

    library = _library(obj)
    if library == "pyarrow" and _loaded("pyarrow"):
        import pyarrow as pa

        if isinstance(obj, pa.Schema):
            return _arrow_schema(obj)
        arrow = getattr(obj, "schema_arrow", None)  # a ParquetFile
        if arrow is None:
            arrow = getattr(obj, "schema", None)  # a Table, RecordBatch, Dataset
        if isinstance(arrow, pa.Schema):
            return _arrow_schema(arrow)
    elif library == "polars" and _loaded("polars"):
        import polars as pl

        if isinstance(obj, pl.LazyFrame):
            return [(n, _polars_type(t)) for n, t in obj.collect_schema().items()]
        if isinstance(obj, pl.DataFrame):
            return [(n, _polars_type(t)) for n, t in obj.schema.items()]
    elif library == "duckdb" and _loaded("duckdb") and hasattr(obj, "types"):
        return _duckdb_relation(obj)
    elif library == "pandas" and _loaded("pandas"):
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            return [(str(n), _pandas_type(t)) for n, t in obj.dtypes.items()]
    elif library == "pyspark" and _loaded("pyspark"):
        found = _spark_schema(obj)
        if found is not None:
            return found
    elif isinstance(obj, (str, os.PathLike)):
        return _parquet_path(obj)
    if isinstance(obj, Mapping):
        if all(isinstance(v, str) for v in obj.values()):
            return None
        return [(str(n), _of_type(str(n), t)) for n, t in obj.items()]
    if isinstance(obj, (list, tuple)) and all(_is_describe_row(row) for row in obj):
        return [(str(row[0]), _duckdb_type_named(str(row[1]))) for row in obj]
    raise _error(
        f"a schema maps column names to types, not a {type(obj).__name__}",
        hint="for example {'geo_country': 'string', 'count': 'integer'}, a pyarrow or polars "
        "schema, or a DuckDB relation",
    )


def _is_describe_row(row: object) -> bool:
    return (
        isinstance(row, (list, tuple))
        and len(row) >= 2
        and isinstance(row[0], str)
        and isinstance(row[1], str)
    )


def _flatten(columns: Iterable[tuple[str, _Type]]) -> TableSchema:
    """Columns as kinds, a struct's fields as dotted keys (breadth first, so that a column
    named with the dots wins over a struct path of that name)."""
    queue = deque(columns)
    taken = {name for name, _ in queue}
    kinds: dict[str, str] = {}
    others: dict[str, str] = {}
    paths: set[str] = set()
    texts: set[str] = set()
    while queue:
        key, dtype = queue.popleft()
        if dtype.fields is not None:
            others[key] = dtype.name  # a struct is compared through its fields
            for name, inner in dtype.fields:
                dotted = f"{key}.{name}"
                if dotted not in taken:
                    taken.add(dotted)
                    paths.add(dotted)
                    queue.append((dotted, inner))
        elif dtype.kind is None:
            others[key] = dtype.name
        else:
            kinds[key] = dtype.kind
            if dtype.text:
                texts.add(key)
    return TableSchema(kinds, others, frozenset(paths), frozenset(texts))


def read_schema(
    schema: object, error: type[FlowQLError] = TableSchemaError, *, flow: str | None = None
) -> TableSchema | None:
    """``schema`` (anything the module reads; None for none) as a :class:`TableSchema`;
    ``error`` (FQ605) for what is not a schema. ``flow`` names the flow of a Conviva Flow data
    model (none: the keys of every flow)."""
    if schema is None or isinstance(schema, TableSchema):
        return schema
    from flowql.model import DataModel

    try:
        if isinstance(schema, DataModel):
            found = {key: _MODEL_KINDS[d.type] for key, d in schema.dimensions(flow).items()}
            return TableSchema(found)
        columns = _columns(schema)
        if columns is None:
            kinds = check_schema(schema, TableSchemaError)
            assert kinds is not None
            return TableSchema(kinds)
        return _flatten(columns)
    except TableSchemaError as exc:
        if error is TableSchemaError:
            raise
        raise error(exc.diagnostics) from None


def table_schema(table: object, *, flow: str | None = None) -> dict[str, str]:
    """The kinds of a table's columns (column -> ``string``, ``integer``, ``float``,
    ``boolean`` or ``list[...]``), as the ``sql`` and ``polars`` targets read a ``schema=``:
    from a pyarrow schema or table, a Parquet file's path, a polars schema or frame, a DuckDB
    relation or its ``DESCRIBE`` rows, a pandas DataFrame, a Spark schema, flowql's data model
    (``flow``: one flow's keys), or a mapping of kinds. A struct's fields are dotted keys; a
    column of a type no FlowQL value equals (a date, a decimal) is left out. Raises
    :class:`~flowql.errors.FlowQLError` (FQ605) for what is not a schema.

    >>> import flowql
    >>> flowql.table_schema({"count": "INTEGER ", "tags": "list[string]"})
    {'count': 'integer', 'tags': 'list[string]'}
    """
    found = read_schema(table, flow=flow)
    return {} if found is None else dict(found.kinds)
