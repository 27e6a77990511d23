"""``flowql filter FILE... --filter TEXT``: the three engines (duckdb, polars, python) select the
same rows of the same CSV, JSON, NDJSON and Parquet files (typed columns, NULLs and empty cells,
strings with ``%`` and ``_``, lists); the output is ``flowql query``'s (table, formats, ``-o``,
never over a file, never over an input); bad filters are diagnostics with spans (exit 1), files
that cannot be read a message naming the path (exit 1), an unknown engine a usage error with a
"did you mean" (exit 2), and a missing duckdb FQ806."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowql.cli import main
from flowql.scans import filter_files
from flowql.syntax import parse
from flowql.targets.table_schemas import duckdb_kind

ENGINES = ("duckdb", "polars", "python")

RECORDS: list[dict[str, object]] = [
    {"id": 1, "name": "Spain", "n": 1, "x": 1.5, "ok": True, "tags": ["a", "b"]},
    {"id": 2, "name": "50%_off", "n": 2, "x": None, "ok": False, "tags": ["c"]},
    {"id": 3, "name": None, "n": 3, "x": 2.5, "ok": None, "tags": None},
    {"id": 4, "name": "France", "n": None, "x": 0.5, "ok": True, "tags": []},
    {"id": 5, "name": "a_b", "n": 10, "x": -1.0, "ok": False, "tags": ["a"]},
    {"id": 6, "name": "100%", "n": 0, "x": 0.0, "ok": True, "tags": ["%", "_"]},
]

# Each filter, and the ids it selects (the python target's meaning, which all engines keep).
FILTERS: list[tuple[str, set[int]]] = [
    ("n == 1", {1}),
    ("n != 1", {2, 3, 4, 5, 6}),  # NULL matches != (FlowQL's meaning, not SQL's)
    ("NOT n == 1", {2, 3, 4, 5, 6}),
    ("name ~~ '%'", {2, 6}),  # literally, no wildcard
    ("name ~~ '_'", {2, 5}),
    ("name !~ '%'", {1, 3, 4, 5}),
    ("n IN (2, 3) OR name == 'France'", {2, 3, 4}),
    ("n NOT IN (0, 1)", {2, 3, 4, 5}),
    ("ok == true", {1, 4, 6}),
    ("NOT ok == true", {2, 3, 5}),
    ("x == 0.5 OR x == -1", {4, 5}),
    ("x != 2.5 AND n != 10", {1, 2, 4, 6}),
    ("n == '1'", set()),  # typed: an integer column holds no '1'
]

# Lists only where a format carries them.
LIST_FILTERS: list[tuple[str, set[int]]] = [
    ("tags == 'a'", {1, 5}),
    ("tags ~~ '%'", {6}),
    ("tags != 'a'", {2, 3, 4, 6}),
]


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_fixture(directory: Path, fmt: str, records: list[dict[str, object]] = RECORDS) -> Path:
    """``records`` as a file of ``fmt`` in ``directory``; CSV has no list column."""
    if fmt == "csv":
        path = directory / "data.csv"
        columns = [c for c in records[0] if c != "tags"]
        lines = [",".join(columns)]
        lines += [",".join(_csv_cell(r[c]) for c in columns) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "json":
        path = directory / "data.json"
        path.write_text(json.dumps(records), encoding="utf-8")
    elif fmt == "ndjson":
        path = directory / "data.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        path = directory / "data.parquet"
        pq.write_table(pa.Table.from_pylist(records), path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ids(capsys: pytest.CaptureFixture[str], path: Path, text: str, engine: str) -> set[int]:
    code, out, err = run(
        capsys, "filter", str(path), "--filter", text, "--engine", engine, "--format", "ndjson"
    )
    assert code == 0, err
    return {json.loads(line)["id"] for line in out.splitlines()}


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet"])
def test_the_engines_select_the_same_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    path = write_fixture(tmp_path, fmt)
    cases = FILTERS + (LIST_FILTERS if fmt != "csv" else [])
    for text, expected in cases:
        for engine in ENGINES:
            assert ids(capsys, path, text, engine) == expected, (fmt, text, engine)


def test_a_glob_reads_every_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for i, half in enumerate((RECORDS[:3], RECORDS[3:])):
        sub = tmp_path / f"part{i}"
        sub.mkdir()
        write_fixture(sub, "parquet", half).rename(tmp_path / f"part{i}.parquet")
    for engine in ENGINES:
        assert ids(capsys, tmp_path / "part*.parquet", "n != 1", engine) == {2, 3, 4, 5, 6}


def test_the_table_is_flowql_querys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_fixture(tmp_path, "csv")
    code, out, _ = run(
        capsys, "filter", str(path), "--filter", "name ~~ '%'", "--columns", "name,id"
    )
    assert code == 0
    assert out.splitlines()[0].split() == ["name", "id"]
    assert "50%_off" in out
    assert "100%" in out
    assert "Spain" not in out
    code, _, err = run(capsys, "filter", str(path), "--filter", "n == 1", "--columns", "nope")
    assert code == 2
    assert "FQ740" in err


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("o.csv", "csv"), ("o.json", "json"), ("o.ndjson", "ndjson"), ("o.parquet", "parquet")],
)
def test_output_files_by_extension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, fmt: str
) -> None:
    path = write_fixture(tmp_path, "ndjson")
    target = tmp_path / name
    code, out, err = run(capsys, "filter", str(path), "--filter", "n != 1", "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert f"wrote 5 rows to {target} ({fmt}," in err
    # The file written is read back by the command itself, with the same rows.
    if fmt != "json":
        assert ids(capsys, target, "n != 2", "duckdb") == {3, 4, 5, 6}
    else:
        assert [r["id"] for r in json.loads(target.read_text())["records"]] == [2, 3, 4, 5, 6]
    # Never over it without --force; with --force, replaced.
    code, _, err = run(capsys, "filter", str(path), "--filter", "n == 1", "-o", str(target))
    assert code == 2
    assert "FQ807" in err
    assert "exists" in err
    code, _, err = run(
        capsys, "filter", str(path), "--filter", "n == 1", "-o", str(target), "--force"
    )
    assert code == 0, err
    assert "wrote 1 row to" in err


def test_never_over_an_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_fixture(tmp_path, "csv")
    before = path.read_bytes()
    for extra in ((), ("--force",)):
        code, _, err = run(
            capsys, "filter", str(tmp_path / "*.csv"), "--filter", "n == 1", "-o", str(path), *extra
        )
        assert code == 2
        assert "error[FQ807]:" in err
        assert "is an input file" in err
    assert path.read_bytes() == before
    # Nor through a link to it, soft or hard.
    (tmp_path / "soft.csv").symlink_to(path)
    os.link(path, tmp_path / "hard.csv")
    for name in ("soft.csv", "hard.csv"):
        code, _, err = run(
            capsys, "filter", str(path), "--filter", "n == 1", "-o", str(tmp_path / name), "--force"
        )
        assert code == 2
        assert "is an input file" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("n ==", "FQ005", 5),  # does not parse
        ("nme == 'Spain'", "FQ605", 1),  # a column the file lacks
    ],
)
def test_bad_filters_are_diagnostics_with_spans(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    engine: str,
    text: str,
    code: str,
    column: int,
) -> None:
    path = write_fixture(tmp_path, "parquet")
    status, out, err = run(capsys, "filter", str(path), "--filter", text, "--engine", engine)
    assert status == 1
    assert out == ""
    assert f"error[{code}]" in err
    assert f"--> <filter>:1:{column}" in err
    assert "Traceback" not in err


def test_a_column_of_another_type_is_left_out_of_the_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import datetime
    import decimal

    path = tmp_path / "d.parquet"
    row = {"day": datetime.date(2026, 1, 1), "n": 1, "d": decimal.Decimal("1.5")}
    pq.write_table(pa.Table.from_pylist([row]), path)
    for engine in ENGINES:
        argv = ("filter", str(path), "--engine", engine, "--filter")
        status, out, err = run(capsys, *argv, "day == '2026-01-01' OR d == 1.5")
        assert status == 1
        assert out == ""
        assert "error[FQ601]:" in err
        assert "cannot compare column 'day' of type" in err
        assert "cannot compare column 'd' of type" in err
        assert "--> <filter>:1:24" in err  # d's span
        # The columns are still read and shown; only a filter cannot name them.
        status, out, err = run(capsys, *argv, "n == 1", "--format", "csv")
        assert status == 0, err
        assert out.splitlines() == ["day,n,d", "2026-01-01,1,1.5"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_contradicted_type_is_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    path = write_fixture(tmp_path, fmt)
    text = "n ~~ '1' OR name == 'France' OR name == 5"
    for engine in ENGINES:
        status, out, err = run(
            capsys, "filter", str(path), "--filter", text, "--engine", engine, "--format", "ndjson"
        )
        assert status == 0, err  # a warning does not fail the command
        assert [json.loads(line)["id"] for line in out.splitlines()] == [4]
        if engine == "python":  # reads no column types: nothing to contradict
            assert err == ""
            continue
        assert err.count("warning[FQ606]") == 2
        assert err.startswith(
            "warning[FQ606]: column 'n' holds integers; ~~ tests text, so this test never "
            "matches\n --> <filter>:1:1\n"
        )
        assert "column 'name' holds strings; 5 is a number, so this test never matches" in err
        assert " --> <filter>:1:41" in err
        assert "= help: quote the value: name == '5'" in err


def test_duckdb_kinds() -> None:
    assert duckdb_kind("BIGINT") == "integer"
    assert duckdb_kind("VARCHAR[]") == "list[string]"
    assert duckdb_kind("DOUBLE") == "float"
    assert duckdb_kind("BOOLEAN") == "boolean"
    for other in ("DATE", "DECIMAL(18,3)", "HUGEINT", "UBIGINT", "STRUCT(a INTEGER)", "BIGINT[][]"):
        assert duckdb_kind(other) is None


@pytest.mark.parametrize("engine", ENGINES)
def test_unreadable_files_name_the_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str
) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    (tmp_path / "x.txt").write_text("a\n")
    cases: list[tuple[tuple[str, ...], str]] = [
        ((str(tmp_path / "missing.csv"),), "missing.csv: no such file"),
        ((str(tmp_path / "none*.csv"),), "none*.csv: no file matches"),
        ((str(tmp_path),), "is a directory"),
        ((str(tmp_path / "x.txt"),), "x.txt: not a file flowql filter reads"),
        ((str(broken),), f"{broken}: cannot read"),
    ]
    for argv, said in cases:
        code, out, err = run(capsys, "filter", *argv, "--filter", "n == 1", "--engine", engine)
        assert code == 1, (argv, err)
        assert out == ""
        assert said in err
        assert "Traceback" not in err


def test_two_formats_at_once_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a, b = write_fixture(tmp_path, "csv"), write_fixture(tmp_path, "parquet")
    code, _, err = run(capsys, "filter", str(a), str(b), "--filter", "n == 1")
    assert code == 1
    assert "csv and parquet: one format at a time" in err


def test_an_unknown_engine_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_fixture(tmp_path, "csv")
    code, out, err = run(capsys, "filter", str(path), "--filter", "n == 1", "--engine", "duckbd")
    assert code == 2
    assert out == ""
    assert "'duckbd' is not an engine (did you mean 'duckdb'?)" in err


def _probe(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("module", ["duckdb", "sqlglot"])
def test_without_duckdb_is_fq806(tmp_path: Path, module: str) -> None:
    write_fixture(tmp_path, "csv")
    done = _probe(
        "import sys\n"
        f"sys.modules[{module!r}] = None  # as if it were not installed\n"
        "from flowql.cli import main\n"
        "print('exit', main(['filter', 'data.csv', '--filter', 'n == 1']))\n",
        tmp_path,
    )
    assert done.stdout.splitlines()[-1] == "exit 2", done.stderr
    assert "error[FQ806]:" in done.stderr
    assert f"need {module}" in done.stderr
    assert "pip install 'flowql[duckdb]'" in done.stderr
    assert "Traceback" not in done.stderr


NESTED: list[dict[str, object]] = [
    {"id": 1, "integration": {"name": "roku", "version": 2}},
    {"id": 2, "integration": {"name": "web", "version": None}},
    {"id": 3, "integration": None},
]


@pytest.mark.parametrize("fmt", ["ndjson", "parquet"])
def test_struct_fields_are_dotted_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    path = write_fixture(tmp_path, fmt, NESTED)
    for text, expected in [
        ("integration.name == 'roku'", {1}),
        ("integration.name != 'roku'", {2, 3}),
        ("integration.version != 2", {2, 3}),
    ]:
        for engine in ENGINES:
            assert ids(capsys, path, text, engine) == expected, (fmt, text, engine)


def test_csv_cells_are_typed_alike_on_every_engine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # DuckDB alone would read dates, t/f and yes/no: here they stay strings on every engine,
    # and true/false in any case are booleans on every engine.
    path = tmp_path / "t.csv"
    path.write_text(
        "id,day,flag,answer,ok,x\n1,2026-01-01,t,yes,True,1\n2,2026-01-02,f,no,false,2.5\n3,,,,,\n",
        encoding="utf-8",
    )
    for text, expected in [
        ("day == '2026-01-01'", {1}),
        ("flag == 'f' OR answer == 'yes'", {1, 2}),
        ("ok == true", {1}),
        ("ok != false", {1, 3}),
        ("x == 1 OR x == 2.5", {1, 2}),
        ("flag == false", set()),
    ]:
        for engine in ENGINES:
            assert ids(capsys, path, text, engine) == expected, (text, engine)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_strings_stay_strings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    records: list[dict[str, object]] = [
        {"id": 1, "day": "2026-01-01", "at": "2026-01-01T10:00:00"},
        {"id": 2, "day": "2026-01-02", "at": None},
    ]
    path = write_fixture(tmp_path, fmt, records)
    for text, expected in [("day == '2026-01-01'", {1}), ("at ~~ 'T10'", {1})]:
        for engine in ENGINES:
            assert ids(capsys, path, text, engine) == expected, (text, engine)
    code, out, _ = run(capsys, "filter", str(path), "--filter", "id == 1", "--format", "csv")
    assert code == 0
    assert out.splitlines()[1] == "1,2026-01-01,2026-01-01T10:00:00"


def test_no_rows_keep_the_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_fixture(tmp_path, "parquet")
    for engine in ENGINES:
        argv = ("filter", str(path), "--filter", "n == 99", "--engine", engine)
        code, out, err = run(capsys, *argv, "--format", "csv")
        assert code == 0, err
        assert out == "id,name,n,x,ok,tags\n"
        code, out, err = run(capsys, *argv, "--columns", "name,n")
        assert code == 0, err
        assert out == "(no rows)\n"


# Random filters over the fixture's columns, with the values it holds and their neighbours.
_VALUES = st.sampled_from(
    [
        "'Spain'", "'50%_off'", "'%'", "'_'", "'a_b'", "'100%'", "'a'", "'b'", "'France'",
        "'1'", "0", "1", "2", "3", "10", "-1", "0.5", "2.5", "1.5", "true", "false",
    ]
)  # fmt: skip
_COLUMNS = st.sampled_from(["id", "name", "n", "x", "ok", "tags"])


def _tests() -> st.SearchStrategy[str]:
    ops = st.sampled_from(["==", "!=", "~~", "!~"])
    compared = st.builds(lambda k, o, v: f"{k} {o} {v}", _COLUMNS, ops, _VALUES)
    members = st.builds(
        lambda k, neg, vs: f"{k} {'NOT IN' if neg else 'IN'} ({', '.join(vs)})",
        _COLUMNS,
        st.booleans(),
        st.lists(_VALUES, min_size=1, max_size=3),
    )
    return compared | members


_FILTERS = st.recursive(
    _tests(),
    lambda inner: st.builds(
        lambda parts, joiner, negated: (
            ("NOT " if negated else "") + "(" + f" {joiner} ".join(parts) + ")"
        ),
        st.lists(inner, min_size=2, max_size=3),
        st.sampled_from(["AND", "OR"]),
        st.booleans(),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    for fmt in ("csv", "json", "ndjson", "parquet"):
        directory = tmp_path_factory.mktemp(fmt)
        made[fmt] = write_fixture(directory, fmt)
    return made


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_FILTERS, fmt=st.sampled_from(["csv", "json", "ndjson", "parquet"]))
def test_random_filters_select_the_same_rows_on_every_engine(
    fixtures: dict[str, Path], text: str, fmt: str
) -> None:
    if fmt == "csv" and "tags" in text:
        text = text.replace("tags", "name")  # CSV has no list column
    expr = parse(text)
    selected = {}
    for engine in ENGINES:
        _, rows = filter_files(expr, [str(fixtures[fmt])], fmt, engine)
        selected[engine] = sorted(row["id"] for row in rows)
    assert selected["duckdb"] == selected["polars"] == selected["python"], (text, fmt, selected)


def test_files_of_other_columns_are_combined_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "p1.csv").write_text("id,a,b\n1,1,x\n2,2,y\n", encoding="utf-8")
    (tmp_path / "p2.csv").write_text("id,b,c\n3,z,1_000\n4,,2\n", encoding="utf-8")
    pattern = tmp_path / "p*.csv"
    for text, expected in [
        ("a != 1", {2, 3, 4}),  # a is NULL in p2's rows
        ("b != 'x'", {2, 3, 4}),
        ("c == '1_000'", {3}),  # a string column: 1_000 is no number
        ("c != 2", {1, 2, 3, 4}),  # ... so no cell equals the number 2
    ]:
        for engine in ENGINES:
            assert ids(capsys, pattern, text, engine) == expected, (text, engine)


def test_a_csv_header_without_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("id,name\n", encoding="utf-8")
    for engine in ENGINES:
        argv = ("filter", str(path), "--filter", "name != 'x'", "--engine", engine)
        code, out, err = run(capsys, *argv, "--format", "csv")
        assert code == 0, (engine, err)
        assert out == "id,name\n"
        code, _, err = run(
            capsys, "filter", str(path), "--filter", "nme == 'x'", "--engine", engine
        )
        assert code == 1
        assert "did you mean 'name'?" in err


def test_flowqls_own_parquet_is_filtered_alike_on_every_engine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # flowql query writes a grouped result's dimensions as categories (dictionary columns):
    # every engine compares them as the text they hold.
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "grouped.parquet"
    argv = ["query", "conviva-flow", "historical", "--flow", "825", "--start=-2h", "--end=now"]
    assert main([*argv, "--group-by", "geo_country", "-o", str(path)]) == 0
    capsys.readouterr()
    text = "geo_country IN ('Spain', 'France') OR geo_country ~~ 'Ger' OR country_code == 'JP'"
    found = {}
    for engine in ("duckdb", "polars", "python"):
        code, out, err = run(
            capsys, "filter", str(path), "--filter", text, "--engine", engine, "--format", "csv"
        )
        assert code == 0, err
        found[engine] = sorted(line.split(",")[0] for line in out.splitlines()[1:])
    assert found["duckdb"] == found["polars"] == found["python"]
    assert {"Spain", "France", "Germany", "Japan"} <= set(found["duckdb"])
