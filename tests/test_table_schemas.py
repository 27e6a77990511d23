"""A table's schema as column kinds (flowql.targets.table_schemas): one rule for pyarrow,
Parquet, polars, DuckDB, pandas and flowql's data model, and the sql and polars targets typed
by any of them."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flowql
from flowql.errors import FlowQLError, UnsupportedError
from flowql.model import klaviyo_model
from flowql.targets import TargetError
from flowql.targets.table_schemas import TableSchema, read_schema, table_schema

# Every type a reader meets, and the kinds they are (None: left out, no FlowQL value equals it).
ARROW = pa.schema(
    [
        ("s", pa.string()),
        ("ls", pa.large_string()),
        ("sv", pa.string_view()),
        ("cat", pa.dictionary(pa.int32(), pa.string())),
        ("i8", pa.int8()),
        ("i64", pa.int64()),
        ("u32", pa.uint32()),
        ("u64", pa.uint64()),
        ("f32", pa.float32()),
        ("f64", pa.float64()),
        ("b", pa.bool_()),
        ("tags", pa.list_(pa.string())),
        ("ns", pa.large_list(pa.int64())),
        ("nested", pa.list_(pa.list_(pa.int64()))),
        ("fixed", pa.list_(pa.int64(), 3)),
        (
            "integration",
            pa.struct([("name", pa.string()), ("deep", pa.struct([("n", pa.int16())]))]),
        ),
        ("d", pa.date32()),
        ("t", pa.timestamp("us")),
        ("dec", pa.decimal128(18, 3)),
        ("bin", pa.binary()),
    ]
)
KINDS = {
    "s": "string",
    "ls": "string",
    "sv": "string",
    "cat": "string",
    "i8": "integer",
    "i64": "integer",
    "u32": "integer",
    "f32": "float",
    "f64": "float",
    "b": "boolean",
    "tags": "list[string]",
    "ns": "list[integer]",
    "integration.name": "string",
    "integration.deep.n": "integer",
}
LEFT_OUT = {"u64", "nested", "fixed", "integration", "integration.deep", "d", "t", "dec", "bin"}


def test_a_pyarrow_schema() -> None:
    read = read_schema(ARROW)
    assert read is not None
    assert read.kinds == KINDS
    assert set(read.others) == LEFT_OUT
    assert read.others["d"] == "date32[day]"
    assert read.paths == frozenset({"integration.name", "integration.deep", "integration.deep.n"})
    assert read.texts == {"cat"}
    assert flowql.table_schema(ARROW) == KINDS


def test_pyarrow_tables_batches_and_parquet_files(tmp_path: Path) -> None:
    table = pa.table({"k": ["x"], "n": [1], "when": [date(2026, 1, 1)]})
    expected = {"k": "string", "n": "integer"}
    assert table_schema(table) == expected
    assert table_schema(table.to_batches()[0]) == expected
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    assert table_schema(path) == expected
    assert table_schema(str(path)) == expected
    assert table_schema(pq.ParquetFile(path)) == expected
    assert table_schema(pq.read_schema(path)) == expected


def test_polars_schemas_and_frames() -> None:
    frame = pl.DataFrame(
        {
            "k": ["x"],
            "cat": pl.Series(["a"], dtype=pl.Categorical),
            "enum": pl.Series(["a"], dtype=pl.Enum(["a", "b"])),
            "n": pl.Series([1], dtype=pl.Int16),
            "u64": pl.Series([1], dtype=pl.UInt64),
            "f": [1.5],
            "b": [True],
            "tags": [["x"]],
            "s": [{"name": "Slack", "inner": {"n": 1}}],
            "d": [date(2026, 1, 1)],
            "dec": pl.Series([Decimal("1.5")]),
        }
    )
    expected = {
        "k": "string",
        "cat": "string",
        "enum": "string",
        "n": "integer",
        "f": "float",
        "b": "boolean",
        "tags": "list[string]",
        "s.name": "string",
        "s.inner.n": "integer",
    }
    for given in (frame, frame.lazy(), frame.schema, dict(frame.schema)):
        assert table_schema(given) == expected
    read = read_schema(frame)
    assert read is not None
    assert read.texts == {"cat", "enum"}
    assert {"u64", "d", "dec", "s", "s.inner"} == set(read.others)
    # A polars type class (not an instance) is read too, and mixes with kinds.
    assert table_schema({"n": pl.Int64, "k": "string"}) == {"n": "integer", "k": "string"}


def test_duckdb_relations_and_describe_rows() -> None:
    con = duckdb.connect()
    relation = con.sql(
        "SELECT 'x' AS k, 1::INTEGER AS n, 1::UBIGINT AS u, 1.5::DOUBLE AS f, true AS b, "
        "['a'] AS tags, {'name': 'Slack', 'id': 1} AS integration, DATE '2026-01-01' AS d, "
        "'a'::ENUM('a', 'b') AS e, 1.5::DECIMAL(18, 3) AS dec, 1::HUGEINT AS h"
    )
    expected = {
        "k": "string",
        "n": "integer",
        "f": "float",
        "b": "boolean",
        "tags": "list[string]",
        "e": "string",
        "integration.name": "string",
        "integration.id": "integer",
    }
    assert table_schema(relation) == expected
    con.execute("CREATE TABLE t AS " + relation.sql_query())
    assert table_schema(con.sql("DESCRIBE t")) == expected
    rows = con.sql("DESCRIBE t").fetchall()
    assert table_schema(rows) == expected
    read = read_schema(relation)
    assert read is not None
    assert set(read.others) == {"u", "integration", "d", "dec", "h"}
    assert read.others["d"] == "DATE"


def test_pandas_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "k": pd.Series(["x"], dtype="string"),
            "n": [1],
            "nullable": pd.array([1], dtype="Int64"),
            "u64": pd.Series([1], dtype="uint64"),
            "f": [1.5],
            "b": [True],
            "cat": pd.Categorical(["a"]),
            "ncat": pd.Categorical([1]),
            "when": pd.to_datetime(["2026-01-01"]),
            "arrow": pd.Series([["a"]], dtype=pd.ArrowDtype(pa.list_(pa.string()))),
            "anything": pd.Series([object()], dtype=object),
        }
    )
    assert table_schema(frame) == {
        "k": "string",
        "n": "integer",
        "nullable": "integer",
        "f": "float",
        "b": "boolean",
        "cat": "string",
        "arrow": "list[string]",
    }


def test_spark_schemas() -> None:
    from pyspark.sql import types as t  # the types alone: no Spark session, no Java

    schema = t.StructType(
        [
            t.StructField("k", t.StringType()),
            t.StructField("n", t.LongType()),
            t.StructField("small", t.ShortType()),
            t.StructField("f", t.DoubleType()),
            t.StructField("b", t.BooleanType()),
            t.StructField("tags", t.ArrayType(t.StringType())),
            t.StructField("nested", t.ArrayType(t.ArrayType(t.LongType()))),
            t.StructField("integration", t.StructType([t.StructField("name", t.StringType())])),
            t.StructField("d", t.DateType()),
            t.StructField("dec", t.DecimalType(10, 2)),
        ]
    )
    read = read_schema(schema)
    assert read is not None
    assert read.kinds == {
        "k": "string",
        "n": "integer",
        "small": "integer",
        "f": "float",
        "b": "boolean",
        "tags": "list[string]",
        "integration.name": "string",
    }
    assert set(read.others) == {"nested", "integration", "d", "dec"}
    clause = flowql.compile("integration.name == 'x'", "sql", dialect="spark", schema=schema)
    assert clause.filter == "NOT `integration`.`name` IS NULL AND `integration`.`name` = 'x'"


def test_the_data_model() -> None:
    kinds = table_schema(klaviyo_model("flow-report"))
    assert kinds["flow_id"] == "string"
    assert kinds["tag_name"] == "list[string]"
    assert table_schema(flowql.demo_model(), flow="825")["geo_country"] == "string"
    from flowql.model import DataModel, Dimension

    model = DataModel(
        "conviva-sessions",
        dimensions=[Dimension("count", type="number"), Dimension("live", type="boolean")],
    )
    # A number is a float: it compares with any number by value.
    assert table_schema(model) == {"count": "float", "live": "boolean"}
    assert flowql.compile("count == 3", "sql", schema=model).filter == (
        'NOT "count" IS NULL AND "count" = 3.0e0'
    )


def test_one_file_is_read_alike_by_every_library(tmp_path: Path) -> None:
    # The same Parquet file through pyarrow, polars and DuckDB: the same kinds, the same left out.
    table = pa.table(
        {
            "k": ["x"],
            "cat": pa.array(["a"]).dictionary_encode(),
            "n": pa.array([1], pa.int32()),
            "u64": pa.array([1], pa.uint64()),
            "f": [1.5],
            "b": [True],
            "tags": [["a"]],
            "s": [{"name": "x", "n": 1}],
            "d": [date(2026, 1, 1)],
            "dec": pa.array([Decimal("1.5")], pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    by_arrow = read_schema(path)
    by_polars = read_schema(pl.scan_parquet(path))
    by_duckdb = read_schema(duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')"))
    assert by_arrow is not None
    assert by_polars is not None
    assert by_duckdb is not None
    assert by_arrow.kinds == by_polars.kinds == by_duckdb.kinds
    assert set(by_arrow.others) == set(by_polars.others) == set(by_duckdb.others)
    assert set(by_arrow.others) == {"u64", "s", "d", "dec"}


def test_a_column_named_with_dots_wins_over_a_struct_path() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE t AS SELECT 'flat' AS "a.b", {'b': 'nested'} AS a, 1 AS i"""
        """ UNION ALL SELECT 'other', {'b': 'flat'}, 2"""
    )
    relation = con.sql("SELECT * FROM t")
    read = read_schema(relation)
    assert read is not None
    assert read.kinds == {"a.b": "string", "i": "integer"}
    assert read.paths == frozenset()
    clause = flowql.compile("a.b == 'flat'", "sql", schema=relation).filter
    assert clause == """NOT "a.b" IS NULL AND "a.b" = 'flat'"""
    assert con.execute(f"SELECT i FROM t WHERE {clause}").fetchall() == [(1,)]
    # With kinds alone a dotted key is a struct path, as before.
    assert flowql.compile("a.b == 'x'", "sql", schema={"a.b": "string"}).filter == (
        """NOT "a"."b" IS NULL AND "a"."b" = 'x'"""
    )


def test_the_targets_take_any_of_them(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(
        pa.table({"geo_country": ["Spain", "France"], "integration": [{"name": "Slack"}, None]}),
        path,
    )
    spark = flowql.compile(
        "geo_country == 'Spain' AND integration.name ~~ 'Sl'",
        "sql",
        dialect="spark",
        schema=pq.read_schema(path),
    )
    assert spark.filter == (
        "(NOT `geo_country` IS NULL AND `geo_country` = 'Spain') AND "
        "(NOT `integration`.`name` IS NULL AND LOCATE('Sl', `integration`.`name`) > 0)"
    )
    frame = pl.read_parquet(path)
    for schema in (pq.read_schema(path), path, frame.schema, duckdb.sql(f"FROM '{path}'")):
        expression = flowql.compile("integration.name == 'Slack'", "polars", schema=schema)
        assert isinstance(expression.expression, pl.Expr)
        assert frame.filter(expression.expression)["geo_country"].to_list() == ["Spain"]


def test_a_column_of_another_type_is_refused_where_used() -> None:
    schema = pa.schema([("d", pa.date32()), ("k", pa.string())])
    for target in ("sql", "polars"):
        with pytest.raises(UnsupportedError) as info:
            flowql.compile("k == 'x' AND d == '2026-01-01' AND e == 1", target, schema=schema)
        found = [(d.code, d.column) for d in info.value.diagnostics]
        assert found == [("FQ601", 14), ("FQ605", 36)]
        assert "of type date32[day]" in info.value.diagnostics[0].message
        assert (
            info.value.diagnostics[0].hint
            == "cast the column to a string, a number or a boolean first"
        )


def test_what_is_not_a_schema_is_fq605(tmp_path: Path) -> None:
    for target in ("sql", "polars"):
        with pytest.raises(TargetError) as info:
            flowql.compile("k == 'x'", target, schema=42)
        assert info.value.code == "FQ605"
        assert "not a int" in info.value.message
        assert "pyarrow or polars schema" in (info.value.hint or "")
        with pytest.raises(TargetError) as bad:
            flowql.compile("k == 'x'", target, schema=str(tmp_path / "missing.parquet"))
        assert bad.value.code == "FQ605"
        assert "cannot read the schema of" in bad.value.message
    with pytest.raises(FlowQLError) as kind:
        table_schema({"k": "strng"})
    assert (kind.value.code, kind.value.hint) == ("FQ605", "did you mean 'string'?")
    with pytest.raises(FlowQLError) as series:
        table_schema(pd.Series([1]))  # a column, not a table
    assert series.value.code == "FQ605"
    with pytest.raises(FlowQLError) as describe:
        table_schema([("k", "NOT A TYPE")])
    assert describe.value.code == "FQ605"
    assert "which DuckDB cannot read" in describe.value.message


def test_a_read_schema_is_passed_through() -> None:
    read = TableSchema({"k": "string"})
    assert read_schema(read) is read
    assert read_schema(None) is None
    assert table_schema({}) == {}


def test_no_library_is_imported_to_read_kinds() -> None:
    code = (
        "import sys, flowql\n"
        "assert flowql.table_schema({'k': 'string'}) == {'k': 'string'}\n"
        "flowql.compile(\"k == 'x'\", 'sql', schema={'k': 'string'})\n"
        "heavy = {'pyarrow', 'polars', 'duckdb', 'pandas', 'numpy', 'pyspark'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
