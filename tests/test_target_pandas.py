"""The pandas target: each construct, each family of dtypes, hostile strings, dotted keys,
schemas, refusals, and the CLI. tests/test_pandas_engine.py compares it with the python target
on random frames."""

from __future__ import annotations

import pickle
import subprocess
import sys
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import flowql
from flowql.ast import Comparison, Key, Op, String
from flowql.cli import main
from flowql.errors import UnsupportedError
from flowql.targets import TargetError
from flowql.targets.pandas_mask import Mask, compile_mask, kind_of_dtype
from flowql.targets.python import compile_predicate


def rows(text: str, frame: pd.DataFrame, schema: object = "frame") -> list[int]:
    """The positions of the rows the mask keeps, after checking that it is a clean mask."""
    chosen = frame if isinstance(schema, str) and schema == "frame" else schema
    mask = flowql.compile(text, "pandas", schema=chosen).mask
    assert isinstance(mask, Mask)
    found = mask(frame)
    assert found.dtype == bool
    assert found.index.equals(frame.index)
    return [int(i) for i in np.flatnonzero(found.to_numpy())]


def python_rows(text: str, records: list[dict[str, object]]) -> list[int]:
    predicate = compile_predicate(flowql.parse(text))
    return [i for i, record in enumerate(records) if predicate(record)]


FRAME = pd.DataFrame(
    {
        "k": ["Spain", "50%", None, "spain"],
        "n": pd.array([1, 2, None, 3], dtype="Int64"),
        "f": [1.0, 1.5, np.nan, 0.1],
        "b": pd.array([True, False, None, True], dtype="boolean"),
        "tags": [["vip"], [], None, ["vips", None]],
        "integration": [{"name": "Slack"}, {"name": None}, None, {"name": "Slack bot"}],
    }
)


def test_each_construct_on_a_frame() -> None:
    assert rows("k == 'Spain'", FRAME) == [0]
    assert rows("k != 'Spain'", FRAME) == [1, 2, 3]
    assert rows("NOT (k == 'Spain')", FRAME) == [1, 2, 3]
    assert rows("k ~~ '%'", FRAME) == [1]
    assert rows("k !~ 'pain'", FRAME) == [1, 2]
    assert rows("k ~~ ''", FRAME) == [0, 1, 3]
    assert rows("k !~ ''", FRAME) == [2]
    assert rows("k IN ('spain', '50%')", FRAME) == [1, 3]
    assert rows("k NOT IN ('spain', '50%')", FRAME) == [0, 2]
    assert rows("n == 1.0 OR f == 1", FRAME) == [0]
    assert rows("n == 1.5", FRAME) == []
    assert rows("n != '1'", FRAME) == [0, 1, 2, 3]
    assert rows("n IN (2, 3, 'x', true)", FRAME) == [1, 3]
    assert rows("b == true", FRAME) == [0, 3]
    assert rows("b != true", FRAME) == [1, 2]
    assert rows("b IN (true, false)", FRAME) == [0, 1, 3]
    assert rows("b == 1", FRAME) == []
    assert rows("b ~~ 'true'", FRAME) == []
    assert rows("n ~~ 1", FRAME) == []
    assert rows("n !~ 1", FRAME) == [0, 1, 2, 3]
    assert rows("tags ~~ 'vip'", FRAME) == [0]
    assert rows("tags != 'vip'", FRAME) == [1, 2, 3]
    assert rows("integration.name == 'Slack'", FRAME) == [0]
    assert rows("integration.name !~ 'Slack'", FRAME) == [1, 2]
    assert rows("NOT (k == 'Spain' OR n == 2) AND f != 1.5", FRAME) == [2, 3]


def test_the_frame_means_what_its_records_mean() -> None:
    # The python target on df.to_dict('records') keeps the same rows, for every filter above.
    records = FRAME.to_dict("records")
    for text in ("k != 'Spain'", "n NOT IN (1, 3)", "f != 1.5", "b != false", "tags != 'vip'"):
        assert rows(text, FRAME) == python_rows(text, records), text


def test_a_missing_cell_matches_only_the_negative_tests() -> None:
    # NaN, None and pd.NA alike: in the python target NaN equals no value either.
    assert python_rows("f == 1", [{"f": float("nan")}]) == []
    assert python_rows("f != 1", [{"f": float("nan")}]) == [0]
    for flavour in ("float64", "Float64", pd.ArrowDtype(pa.float64()), object):
        frame = pd.DataFrame({"f": pd.Series([np.nan, None, 2.0], dtype=flavour)})
        assert rows("f == 2", frame) == [2], flavour
        assert rows("f != 2", frame) == [0, 1], flavour
        assert rows("f NOT IN (2, 3)", frame) == [0, 1], flavour
        assert rows("NOT (f IN (2, 3))", frame) == [0, 1], flavour
        assert rows("f ~~ ''", frame) == [], flavour
        assert rows("f !~ 'x'", frame) == [0, 1, 2], flavour


STRINGS = ["abc", "a_c", "50%", "500", "A\\B", "ABC", "it's", None, "a.c", "[x]", "x*", "^a"]


@pytest.mark.parametrize(
    "dtype", [object, "str", "string", "string[pyarrow]", pd.ArrowDtype(pa.string()), "category"]
)
def test_wildcards_escapes_and_case_are_plain_text(dtype: object) -> None:
    frame = pd.DataFrame({"k": pd.Series(STRINGS, dtype=dtype)})
    records: list[dict[str, object]] = [{"k": value} for value in STRINGS]
    expected = {
        "k ~~ '_'": [1],
        "k ~~ '%'": [2],
        "k ~~ 'a_c'": [1],
        "k ~~ '\\\\'": [4],
        "k ~~ 'b'": [0],
        "k ~~ '\\''": [6],
        "k ~~ '.'": [8],
        "k ~~ 'a.c'": [8],
        "k ~~ '[x]'": [9],
        "k ~~ 'x*'": [10],
        "k ~~ '*'": [10],
        "k ~~ '^a'": [11],
        "k ~~ '^A'": [],
        "k ~~ '.*'": [],
        "k !~ '_'": [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        "k == 'abc'": [0],
        "k == 'ABC'": [5],
        "k IN ('ABC', 'a_c', 'nothing')": [1, 5],
        "k NOT IN ('ABC', 'a_c')": [0, 2, 3, 4, 6, 7, 8, 9, 10, 11],
    }
    for text, kept in expected.items():
        assert python_rows(text, records) == kept, text
        assert rows(text, frame) == kept, (dtype, text)


def test_numbers_are_typed_and_exact() -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2**62, -3], dtype=np.int64),
            "u": np.array([2**64 - 1, 0, 7], dtype=np.uint64),
            "small": np.array([1, 100, -128], dtype=np.int8),
            "f32": np.array([0.1, 1.5, -0.0], dtype=np.float32),
            "s": ["1", "2", "x"],
        }
    )
    assert rows("i == 1", frame) == [0]
    assert rows("i == 1.0", frame) == [0]
    assert rows("i == 4611686018427387904", frame) == [1]
    assert rows("i == '1'", frame) == []
    assert rows("s == 1", frame) == []
    assert rows("s != 1", frame) == [0, 1, 2]
    assert rows("u == 18446744073709551615", frame) == [0]  # beyond 64-bit signed
    assert rows("u == 18446744073709551616", frame) == []
    assert rows("small IN (-128, 1000)", frame) == [2]
    # A float32 cell is the float it holds: 0.1 as float32 is not 0.1.
    assert rows("f32 == 0.1", frame) == []
    assert rows(f"f32 == {float(np.float32(0.1))!r}", frame) == [0]
    assert rows("f32 == 1.5 OR f32 == 0", frame) == [1, 2]
    assert rows("i == 1.5", frame) == []


def test_booleans_are_not_numbers() -> None:
    frame = pd.DataFrame(
        {
            "b": np.array([True, False]),
            "a": pd.Series([True, False], dtype=pd.ArrowDtype(pa.bool_())),
            "o": pd.Series([np.True_, 1], dtype=object),
            "n": np.array([1, 0]),
        }
    )
    for column in ("b", "a"):
        assert rows(f"{column} == true", frame) == [0]
        assert rows(f"{column} == false", frame) == [1]
        assert rows(f"{column} == 1", frame) == []
    assert rows("o == true", frame) == [0]  # a numpy bool is a bool; 1 is not
    assert rows("o == 1", frame) == [1]  # and True is not 1
    assert rows("n == true", frame) == []


def test_object_columns_are_typed_by_their_values() -> None:
    values = [1, "1", True, 1.0, None, Decimal("1"), ["1", 1], ("x",), {"a": 1}, np.nan, b"1"]
    frame = pd.DataFrame({"k": pd.Series(values, dtype=object)})
    records = [{"k": value} for value in values]
    for text in (
        "k == 1",
        "k == '1'",
        "k == true",
        "k != 1",
        "k ~~ '1'",
        "k ~~ 'x'",
        "k IN (1, 'x')",
        "k NOT IN ('1', true)",
    ):
        assert rows(text, frame) == python_rows(text, records), text
    assert rows("k == 1", frame) == [0, 3, 5, 6]
    numbers = pd.DataFrame({"k": pd.Series([2**70, 2.5, Decimal("2.5"), None], dtype=object)})
    assert rows("k == 1180591620717411303424", numbers) == [0]
    assert rows("k == 2.5", numbers) == [1, 2]
    assert rows("k IN ('2.5', true)", numbers) == []


def test_lists_hold_items() -> None:
    arrow = pd.ArrowDtype(pa.list_(pa.string()))
    values = [["vip", "new"], ["vips"], [], None, [None, "vip"]]
    for column in (
        pd.Series(values, dtype=object),
        pd.Series(values, dtype=arrow),
        pd.Series([None if v is None else np.array(v, dtype=object) for v in values]),
    ):
        frame = pd.DataFrame({"tag": column})
        assert rows("tag ~~ 'vip'", frame) == [0, 4]
        assert rows("tag == 'vip'", frame) == [0, 4]
        assert rows("tag !~ 'vip'", frame) == [1, 2, 3]
        assert rows("tag IN ('new', 'vips')", frame) == [0, 1]
        assert rows("tag NOT IN ('new', 'vips')", frame) == [2, 3, 4]
        assert rows("tag ~~ ''", frame) == []
    numbers = pd.DataFrame(
        {"n": pd.Series([[1, 2], [3], None], dtype=pd.ArrowDtype(pa.list_(pa.int32())))}
    )
    assert rows("n == 2.0", numbers) == [0]
    assert rows("n IN (3, '1')", numbers) == [1]
    assert rows("n != 3", numbers) == [0, 2]
    nested = pd.DataFrame({"k": pd.Series([[["x"]], ["x"]], dtype=object)})
    assert rows("k == 'x'", nested) == [1]  # a list in a list is not an item


def test_object_lists_hold_typed_items() -> None:
    # numpy's scalars count as Python's (as an array's tolist() gives them), inside lists too.
    cells = [
        ["vip", 1, True],
        ("vip",),
        [np.True_, np.int64(2)],
        [],
        None,
        [["vip"]],
        [None, np.nan, "x"],
        np.array([1.0, 2.5]),
    ]
    lists = pd.DataFrame({"k": pd.Series(cells, dtype=object)})
    assert rows("k == 'vip'", lists) == [0, 1]
    assert rows("k ~~ 'vi'", lists) == []
    assert rows("k == true", lists) == [0, 2]
    assert rows("k == 1", lists) == [0, 7]
    assert rows("k IN (2, 2.5, 'x')", lists) == [2, 6, 7]
    assert rows("k != 'vip'", lists) == [2, 3, 4, 5, 6, 7]
    records: list[dict[str, object]] = [
        {"k": [True, 2]} if i == 2 else {"k": [1.0, 2.5]} if i == 7 else {"k": cell}
        for i, cell in enumerate(cells)
    ]
    for text in ("k == 'vip'", "k == true", "k IN (2, 2.5, 'x')", "k NOT IN (1, 'x')"):
        assert rows(text, lists) == python_rows(text, records), text
    # A set, a dict or a string among the lists: each cell is compared as Python compares it.
    mixed = pd.DataFrame({"k": pd.Series([["vip"], {"vip"}, "vip", {"vip": 1}], dtype=object)})
    assert rows("k == 'vip'", mixed) == [0, 2]
    assert rows("k ~~ 'vi'", mixed) == [2]


def test_categories_are_their_values() -> None:
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(["x", "y", None, "x"]),
            "n": pd.Categorical([1, 2, None, 1]),
            "e": pd.Categorical([None, None], categories=["x"]).repeat(2)[:4],
        }
    )
    assert rows("c == 'x'", frame) == [0, 3]
    assert rows("c != 'x'", frame) == [1, 2]
    assert rows("c ~~ ''", frame) == [0, 1, 3]
    assert rows("c IN ('y', 'z')", frame) == [1]
    assert rows("n == 1", frame) == [0, 3]
    assert rows("n == '1'", frame) == []
    assert rows("e == 'x'", frame) == []
    assert rows("e != 'x'", frame) == [0, 1, 2, 3]


def test_dotted_keys() -> None:
    flat = pd.json_normalize([{"integration": {"name": "Slack"}}, {"integration": {"name": "X"}}])
    assert list(flat.columns) == ["integration.name"]
    assert rows("integration.name == 'Slack'", flat) == [0]
    # A column named with the dots wins over a column to read through, as in the python target.
    both = pd.DataFrame({"a.b": ["flat"], "a": [{"b": "nested"}]})
    assert rows("a.b == 'flat'", both) == [0]
    assert rows("a.b == 'nested'", both) == []
    # Dicts are read through with the python target's look-up: longest run, no backtracking.
    dicts = pd.DataFrame({"a": [{"b": {"c": 1}}, {"b.c": 1}, {"b": 1}, "x", None, {"b": {}}]})
    assert rows("a.b.c == 1", dicts) == [0, 1]
    assert rows("a.b.c != 1", dicts) == [2, 3, 4, 5]
    struct = pa.struct([("name", pa.string()), ("geo", pa.struct([("city", pa.string())]))])
    arrow = pd.DataFrame(
        {
            "s": pd.Series(
                [{"name": "Slack", "geo": {"city": "Rome"}}, None, {"name": None, "geo": None}],
                dtype=pd.ArrowDtype(struct),
            )
        }
    )
    assert rows("s.name == 'Slack'", arrow) == [0]
    assert rows("s.name != 'Slack'", arrow) == [1, 2]
    assert rows("s.geo.city ~~ 'om'", arrow) == [0]
    assert rows("s.geo.city !~ 'om'", arrow) == [1, 2]


def test_the_mask_is_aligned_to_the_index() -> None:
    frame = FRAME.set_index(pd.Index(["w", "x", "y", "z"]))
    mask = flowql.compile("k != 'Spain'", "pandas", schema=frame).mask
    assert mask is not None
    assert frame[mask(frame)].index.tolist() == ["x", "y", "z"]
    assert frame.loc[mask(frame), "k"].fillna("-").tolist() == ["50%", "-", "spain"]
    shuffled = FRAME.iloc[[3, 1, 0, 2]]
    assert shuffled[mask(shuffled)].index.tolist() == [3, 1, 2]
    empty = FRAME.iloc[:0]
    assert mask(empty).tolist() == []
    assert mask(empty).dtype == bool
    constant = flowql.compile("n == 'x'", "pandas", schema=FRAME).mask
    assert constant is not None
    assert constant(frame).tolist() == [False] * 4
    assert constant(frame).index.equals(frame.index)


def test_schemas() -> None:
    # The frame, its dtypes, a mapping of dtypes, kinds by key, or nothing: the same mask.
    for schema in (FRAME, FRAME.dtypes, dict(FRAME.dtypes), {"k": "string", "n": "integer"}, None):
        assert rows("k ~~ 'pain' AND n != 2", FRAME, schema) == [0, 3]
    with pytest.raises(UnsupportedError) as info:
        flowql.compile("kk == 1 OR n == 2", "pandas", schema={"k": "string"})
    assert [(d.code, d.column, d.hint) for d in info.value.diagnostics] == [
        ("FQ605", 1, "did you mean 'k'?"),
        ("FQ605", 12, None),
    ]
    with pytest.raises(TargetError) as bad:
        flowql.compile("k == 1", "pandas", schema={"k": "strng"})
    assert (bad.value.code, bad.value.hint) == ("FQ605", "did you mean 'string'?")
    with pytest.raises(TargetError) as bad:
        flowql.compile("k == 1", "pandas", schema=["k"])
    assert bad.value.code == "FQ605"
    with pytest.raises(TargetError) as bad:
        flowql.compile("k == 1", "pandas", dialect="duckdb")
    assert bad.value.code == "FQ603"


def test_another_tables_schema() -> None:
    # Any schema the sql and polars targets read: here pyarrow's, as a Parquet file has it.
    schema = pa.schema([("k", pa.string()), ("day", pa.date32()), ("n", pa.int64())])
    with pytest.raises(UnsupportedError) as info:
        flowql.compile("k == 'x' AND day == 'x' AND kk == 'y'", "pandas", schema=schema)
    assert [(d.code, d.column) for d in info.value.diagnostics] == [("FQ601", 14), ("FQ605", 29)]
    result = flowql.compile("k ~~ 'pain' AND n == '2'", "pandas", schema=schema)
    assert [(w.code, w.column) for w in result.warnings] == [("FQ606", 22)]
    assert result.mask is not None
    assert result.mask(FRAME).tolist() == [False, False, False, False]


def test_a_contradicted_type_is_a_warning() -> None:
    # FQ606, as the sql and polars targets warn: the test is a constant, most likely a mistake.
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "o": pd.Series([1, "x"], dtype=object),
            "u": np.array([1, 2], dtype=np.uint64),
            "c": pd.Categorical(["x", "y"]),
        }
    )
    text = "n == '1' AND o == 'x' AND u == 'z' AND c IN (3, 'x') AND n ~~ 1"
    result = flowql.compile(text, "pandas", schema=frame)
    assert [(w.code, w.column) for w in result.warnings] == [
        ("FQ606", 6),
        ("FQ606", 46),
        ("FQ606", 63),
    ]
    assert result.warnings[0].hint == "compare with the number: n == 1"
    # An object column may hold anything, a uint64 more than the warnings' integers: no warning.
    kinds = flowql.compile("n == '1' AND k == 1", "pandas", schema={"n": "integer", "k": "string"})
    assert [w.column for w in kinds.warnings] == [6, 19]
    assert flowql.compile("n == '1'", "pandas").warnings == ()


def test_refusals_carry_spans() -> None:
    frame = pd.DataFrame(
        {
            "d": pd.to_datetime(["2026-01-01"]),
            "s": pd.Series([{"x": 1}], dtype=pd.ArrowDtype(pa.struct([("x", pa.int64())]))),
            "k": ["x"],
        }
    )
    text = "d == '2026-01-01' AND s == 1 AND kk == 'x' AND s.y == 1 AND k ~~ 1"
    with pytest.raises(UnsupportedError) as info:
        flowql.compile(text, "pandas", schema=frame)
    found = [(d.code, d.column) for d in info.value.diagnostics]
    assert found == [("FQ601", 1), ("FQ601", 23), ("FQ605", 34), ("FQ605", 48)]
    assert "of type datetime64" in info.value.diagnostics[0].message
    assert info.value.diagnostics[1].hint == "filter on one of its fields, such as s.x"
    assert info.value.diagnostics[2].hint == "did you mean 'k'?"
    # Without a schema, the mask refuses the frame the same way when it runs.
    mask = flowql.compile(text, "pandas").mask
    assert mask is not None
    with pytest.raises(UnsupportedError) as late:
        mask(frame)
    assert [(d.code, d.column) for d in late.value.diagnostics] == found
    twice = pd.DataFrame([[1, 2]], columns=["k", "k"])
    with pytest.raises(UnsupportedError) as dup:
        flowql.compile("k == 1", "pandas", schema=twice)
    assert "more than one" in dup.value.message
    with pytest.raises(TypeError):
        mask([{"k": "x"}])


def test_hostile_strings_survive() -> None:
    hostile = ["\x01", "é", "'\"", "\\", "\u202e", "", " ", "😀", "a\nb", "%_", "(?i)a"]
    frame = pd.DataFrame({"k": pd.Series(hostile, dtype="string[pyarrow]")})
    for value in hostile:
        for op in Op:
            expr = Comparison(Key("k"), op, String(value))
            predicate = compile_predicate(expr)
            expected = [predicate({"k": cell}) for cell in hostile]
            assert compile_mask(expr, frame)(frame).tolist() == expected, (op, value)


def test_repr_and_pickle() -> None:
    mask = compile_mask(flowql.parse("a in ('x', \"y\") and not b == 1"))
    assert repr(mask) == "Mask(\"a IN ('x', 'y') AND NOT b == 1\")"
    again = pickle.loads(pickle.dumps(mask))
    assert isinstance(again, Mask)
    assert again.expr == mask.expr
    frame = pd.DataFrame({"a": ["x", "z"], "b": [2, 1]})
    assert again(frame).tolist() == [True, False]


def test_kinds_of_dtypes() -> None:
    assert kind_of_dtype(np.dtype("int16")) == "integer"
    assert kind_of_dtype(pd.UInt64Dtype()) == "integer"
    assert kind_of_dtype(pd.Float32Dtype()) == "float"
    assert kind_of_dtype(pd.BooleanDtype()) == "boolean"
    assert kind_of_dtype(pd.StringDtype("python")) == "string"
    assert kind_of_dtype(pd.ArrowDtype(pa.large_string())) == "string"
    assert kind_of_dtype(pd.ArrowDtype(pa.list_(pa.float32()))) == "list"
    assert kind_of_dtype(pd.ArrowDtype(pa.list_(pa.date32()))) is None
    assert kind_of_dtype(pd.CategoricalDtype(["x"])) == "category"
    assert kind_of_dtype(np.dtype("O")) == "object"
    assert kind_of_dtype(np.dtype("M8[ns]")) is None
    assert kind_of_dtype(np.dtype("complex128")) is None
    assert kind_of_dtype(pd.SparseDtype(int)) is None


def test_cli_says_it_has_no_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--target", "pandas", "--expr", "a == 'b'"]) == 2
    assert ".mask(df)" in capsys.readouterr().err


def test_pandas_is_imported_only_when_the_target_compiles() -> None:
    probe = (
        "import sys, flowql\n"
        "flowql.targets()\n"
        "print('pandas' in sys.modules)\n"
        "flowql.compile(\"a == 'b'\", 'pandas')\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_without_pandas_the_target_names_its_extra() -> None:
    probe = (
        "import sys\n"
        "sys.modules['pandas'] = None  # as if it were not installed\n"
        "import flowql\n"
        "try:\n"
        "    flowql.compile(\"a == 'b'\", 'pandas')\n"
        "except flowql.TargetError as exc:\n"
        "    print(exc.code, exc.hint)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FQ806 pip install 'flowql[pandas]'"
