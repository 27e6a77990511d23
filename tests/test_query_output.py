"""``flowql query --format table|json|csv|ndjson|parquet`` and ``-o/--output FILE``: every
format to stdout and to files, refusing to overwrite without ``--force``, never a half-written
file, FQ807 for what cannot be written and FQ806 for a missing extra; and ``flowql check``
never imports pyarrow, pandas, polars or duckdb."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from flowql.cli import main
from flowql.exports import OutputError, format_of, parse_format, render_many
from flowql.repl.run import export
from flowql.results import Point, TimeSeries

QUERY = ("query", "conviva-flow", "historical", "--flow", "825", "--start=-1h", "--end=now")
GROUPED = (*QUERY, "--group-by", "geo_country")
CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")


@pytest.fixture(autouse=True)
def _sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ndjson_is_one_record_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUERY, "--format", "ndjson")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 60
    records = [json.loads(line) for line in lines]
    assert records[0]["timestamp"].endswith("Z")
    code, csv_out, _ = run(capsys, *QUERY, "--format", "csv")
    assert code == 0
    assert len(csv_out.splitlines()) == 61  # a header and the same 60 records


@pytest.mark.parametrize(
    ("name", "fmt"), [("r.csv", "csv"), ("r.json", "json"), ("r.jsonl", "ndjson"), ("r.txt", None)]
)
def test_output_writes_the_format_of_the_extension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, fmt: str | None
) -> None:
    code, out, err = run(capsys, *QUERY, "-o", name)
    assert code == 0, err
    assert out == ""
    assert f"wrote 60 rows to {name}" in err
    text = (tmp_path / name).read_text("utf-8")
    if fmt == "json":
        assert len(json.loads(text)["records"]) == 60
    elif fmt == "ndjson":
        assert len(text.splitlines()) == 60
    elif fmt == "csv":
        assert text.startswith("timestamp,m_825_1,")
    else:
        assert text.splitlines()[0].startswith("timestamp ")  # the table, as stdout shows it


def test_parquet_to_a_file_is_the_typed_frame(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, *GROUPED, "-o", "g.parquet")
    assert code == 0, err
    frame = pd.read_parquet(tmp_path / "g.parquet")
    assert str(frame.dtypes["geo_country"]) == "category"
    assert list(frame.columns[:2]) == ["geo_country", "country_code"]
    assert frame.dtypes["m_825_1"] == "int64"


def test_parquet_goes_to_a_pipe_but_never_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    done = subprocess.run(
        [sys.executable, "-m", "flowql", *QUERY, "--format", "parquet"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(io.BytesIO(done.stdout)).num_rows == 60

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkey = pytest.MonkeyPatch()
    monkey.setattr(sys, "stdout", Terminal())
    try:
        code = main([*QUERY, "--format", "parquet"])
    finally:
        monkey.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert "error[FQ807]: Parquet is binary and is not written to a terminal" in err
    assert "-o FILE.parquet" in err


def test_an_existing_file_is_kept_unless_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "r.csv"
    target.write_text("mine\n", "utf-8")
    code, _, err = run(capsys, *QUERY, "-o", "r.csv")
    assert code == 2
    assert "error[FQ807]: 'r.csv' exists: it was left as it is" in err
    assert "--force" in err
    assert target.read_text("utf-8") == "mine\n"
    code, _, err = run(capsys, *QUERY, "-o", "r.csv", "--force")
    assert code == 0, err
    assert target.read_text("utf-8").startswith("timestamp,")


def test_the_data_model_endpoint_writes_to_output_and_keeps_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "query", "conviva-flow", "data-model", "-o", "model.json")
    assert code == 0, err
    assert out == ""
    saved = json.loads((tmp_path / "model.json").read_text("utf-8"))
    assert [f["id"] for f in saved["flow_models"]] == ["825", "142"]
    (tmp_path / "model.json").write_text("mine\n", "utf-8")
    code, _, err = run(capsys, "query", "conviva-flow", "data-model", "-o", "model.json")
    assert code == 2
    assert "error[FQ807]: 'model.json' exists" in err
    assert (tmp_path / "model.json").read_text("utf-8") == "mine\n"
    code, _, err = run(capsys, "query", "conviva-flow", "data-model", "-o", "model.json", "--force")
    assert code == 0, err
    assert "flow_models" in (tmp_path / "model.json").read_text("utf-8")


def test_a_missing_directory_is_refused_before_the_fetch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, *QUERY, "-o", "nowhere/r.parquet")
    assert code == 2
    assert "error[FQ807]: cannot write 'nowhere/r.parquet': the directory nowhere" in err
    assert "mkdir -p nowhere" in err
    assert "sandbox" not in err  # nothing was fetched
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_leaves_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    code, _, err = run(capsys, *QUERY, "-o", "r.ndjson")
    assert code == 1
    assert "error[FQ807]: cannot write 'r.ndjson': No space left on device" in err
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


def test_an_unknown_format_is_fq807_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *QUERY, "--format", "parqet")
    assert code == 2
    assert "error[FQ807]: 'parqet' is not a format flowql writes" in err
    assert "did you mean 'parquet'?" in err
    with pytest.raises(OutputError) as caught:
        parse_format("jsonl")
    assert caught.value.code == "FQ807"
    assert "did you mean 'ndjson'?" in str(caught.value.hint)
    assert format_of("a.PARQUET") == "parquet"
    assert format_of("a.xlsx") is None


def test_force_goes_with_output_and_plot_with_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, *QUERY, "--force")
    assert code == 2
    assert "--force goes with --plot or --plot-file" in err
    code, out, err = run(capsys, *QUERY, "--plot", "-o", "r.csv")
    assert code == 0, err
    assert (tmp_path / "r.csv").read_text("utf-8").startswith("timestamp,")
    assert out.strip()  # the picture, on stdout
    assert "timestamp" not in out  # and no table: the records went to the file


def test_a_dry_run_writes_no_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, *QUERY, "--dry-run", "-o", "r.csv")
    assert code == 2
    assert "--dry-run prints the requests" in err
    assert list(tmp_path.iterdir()) == []


def test_a_manifest_writes_a_query_field_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "q.toml").write_text(
        '[[query]]\nname = "one"\nendpoint = "historical"\nflow = "825"\n'
        'start = "-1h"\nend = "now"\n\n'
        '[[query]]\nname = "two"\nendpoint = "historical"\nflow = "825"\n'
        'start = "-1h"\nend = "now"\ngroup_by = "geo_country"\n',
        "utf-8",
    )
    code, out, err = run(capsys, "query", "--manifest", "q.toml", "--format", "ndjson")
    assert code == 0, err
    names = [json.loads(line)["query"] for line in out.splitlines()]
    assert names[0] == "one"
    assert names[-1] == "two"
    assert names.count("one") == 60
    code, _, err = run(capsys, "query", "--manifest", "q.toml", "-o", "all.parquet")
    assert code == 0, err
    frame = pd.read_parquet(tmp_path / "all.parquet")
    assert frame.columns[0] == "query"
    assert str(frame.dtypes["query"]) == "category"
    assert sorted(set(frame["query"])) == ["one", "two"]


def test_render_many_of_nothing() -> None:
    assert render_many([], "csv") == "query\n"
    assert render_many([], "ndjson") == ""


def test_the_repl_exports_ndjson_and_parquet(tmp_path: Path) -> None:
    import datetime as dt

    t = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)
    result = TimeSeries(
        api="conviva-flow", endpoint="historical", points=(Point(t, {"m_825_1": 1}),)
    )
    line = export(result, str(tmp_path / "r.jsonl"))
    assert line.startswith(f"wrote 1 row to {tmp_path / 'r.jsonl'} (ndjson, ")
    assert json.loads((tmp_path / "r.jsonl").read_text("utf-8")) == {
        "timestamp": "2026-11-22T00:00:00Z",
        "m_825_1": 1,
    }
    export(result, str(tmp_path / "r.parquet"))
    assert pq.read_table(tmp_path / "r.parquet").column("m_825_1").to_pylist() == [1]
    export(result, str(tmp_path / "r.data"), "parquet")
    assert pq.read_table(tmp_path / "r.data").num_rows == 1


def _probe(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )


def test_parquet_without_pyarrow_is_fq806_before_the_fetch(tmp_path: Path) -> None:
    done = _probe(
        "import sys\n"
        "sys.modules['pyarrow'] = None  # as if it were not installed\n"
        "sys.modules['pyarrow.parquet'] = None\n"
        "from flowql.cli import main\n"
        f"print('exit', main({[*QUERY, '-o', 'r.parquet']!r}))\n",
        tmp_path,
    )
    assert done.stdout.splitlines()[-1] == "exit 2", done.stderr
    assert "Traceback" not in done.stderr
    assert "error[FQ806]: Parquet files need pyarrow, which is not installed" in done.stderr
    assert "pip install 'flowql[parquet]'" in done.stderr
    assert "sandbox" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_frames_without_their_library_are_fq806(tmp_path: Path) -> None:
    done = _probe(
        "import sys\n"
        "sys.modules['polars'] = None\n"
        "from flowql.results import Rows\n"
        "from flowql.extras import MissingExtraError\n"
        "try:\n"
        "    Rows(api='x', endpoint='y', rows=({'a': 1},)).to_polars()\n"
        "except MissingExtraError as exc:\n"
        "    print(exc.code, exc.message, '|', exc.hint)\n",
        tmp_path,
    )
    assert done.stdout.splitlines() == [
        "FQ806 polars DataFrames need polars, which is not installed | pip install 'flowql[polars]'"
    ], done.stderr


def test_check_never_imports_the_frame_libraries(tmp_path: Path) -> None:
    done = _probe(
        "import sys\n"
        "from flowql.cli import main\n"
        "code = main(['check', '--flow', '825', '--expr', \"geo_country == 'Spain'\"])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'pandas', "
        "'polars', 'numpy', 'duckdb', 'sqlglot') "
        "or m in ('flowql.frames', 'flowql.exports', 'flowql.scans', 'flowql.cli.filter')), "
        "code)\n",
        tmp_path,
    )
    assert done.stdout.splitlines()[-1] == "[] 0", done.stderr
