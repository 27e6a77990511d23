"""Tables that fit: numbers right-aligned, widths in display columns (wcwidth), an expanded
view for rows too wide for the terminal, ``--columns`` (FQ740), and a golden snapshot of a
99-column Sessions result in an 80-column terminal. Refresh the snapshot with
``FLOWQL_UPDATE_SNAPSHOTS=1 pytest tests/test_display.py`` and review the diff."""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowql.display import cut_to_width, records_table, text_width

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)


def test_numbers_are_right_aligned_and_their_heading_too() -> None:
    records: list[dict[str, object]] = [
        {"name": "a", "plays": 5, "ratio": 0.25, "live": True},
        {"name": "bbbb", "plays": 1200, "ratio": None, "live": False},
    ]
    assert records_table(["name", "plays", "ratio", "live"], records) == (
        "name  plays  ratio  live\n"
        "----  -----  -----  -----\n"
        "a         5   0.25  true\n"
        "bbbb   1200         false\n"
    )


def test_wide_characters_take_two_columns_and_are_never_split() -> None:
    assert text_width("日本") == 4
    assert text_width("e\u0301") == 1  # a combining accent takes no column
    assert text_width("🎬") == 2
    assert cut_to_width("日本語", 4) == "日\u2026"  # 3 columns: 本 would not fit before the …
    table = records_table(["title", "n"], [{"title": "日本語", "n": 1}, {"title": "abc", "n": 22}])
    lines = table.splitlines()
    assert [text_width(line) for line in lines] == [10, 10, 10, 10]
    assert lines[2] == "日本語   1"


def test_a_row_too_wide_is_expanded_on_auto_and_cut_on_off() -> None:
    columns = [f"field_{i}" for i in range(12)]
    records: list[dict[str, object]] = [dict.fromkeys(columns, "x" * 12)]
    expanded = records_table(columns, records, width=40, expanded="auto")
    assert expanded.splitlines()[0] == "-[ RECORD 1 ]" + "-" * 10
    assert expanded.splitlines()[1] == "field_0  | xxxxxxxxxxxx"
    assert len(expanded.splitlines()) == 13
    cut = records_table(columns, records, width=40, expanded="off")
    assert cut.splitlines()[0].endswith("\u2026")  # columns were left out, and it says so
    assert all(text_width(line) <= 40 for line in cut.splitlines())
    fits = records_table(columns[:2], records, width=40, expanded="auto")
    assert fits.splitlines()[0] == "field_0       field_1"  # it fits: a table


def test_expanded_wraps_long_values_to_the_width() -> None:
    out = records_table(["k"], [{"k": "y" * 30}], width=20, expanded="on")
    assert out.splitlines()[1:] == ["k | " + "y" * 16, "  | " + "y" * 14]


def _sessions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    import flowql.query.plan
    import flowql.sandbox
    from flowql.cli import main
    from flowql.client._core import AsyncClientBase

    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(
        flowql.sandbox, "Sandbox", functools.partial(flowql.sandbox.Sandbox, now=NOW)
    )
    resolve = flowql.query.plan.resolve_now
    monkeypatch.setattr(flowql.query.plan, "resolve_now", lambda now: resolve(now or NOW))
    monkeypatch.setattr(AsyncClientBase, "now", lambda self: NOW)
    argv = ["query", "conviva-sessions", "content", "--start", "2026-11-22T11:00:00Z"]
    code = main([*argv, "--end", "2026-11-22T12:00:00Z", "--limit", "3", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_99_column_sessions_result_in_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _sessions(monkeypatch, capsys, "--expanded", "auto")
    assert code == 0, err
    lines = out.splitlines()
    assert max(text_width(line) for line in lines) <= 80
    assert sum(line.startswith("-[ RECORD ") for line in lines) == 3
    fields = {line.split(" |")[0].strip() for line in lines if " |" in line} - {""}
    assert len(fields) == 99  # every field, none cut out
    path = SNAPSHOTS / "query.sessions-content-80.txt"
    if UPDATE and (not path.exists() or path.read_text(encoding="utf-8") != out):
        path.write_text(out, encoding="utf-8")
        pytest.fail("snapshot rewritten; review it and run again", pytrace=False)
    assert path.exists(), "no snapshot: FLOWQL_UPDATE_SNAPSHOTS=1 creates it"
    assert out == path.read_text(encoding="utf-8")


def test_columns_pick_and_order_and_an_unknown_one_is_fq740(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _sessions(monkeypatch, capsys, "--columns", "session_id,viewer_id")
    assert code == 0
    assert out.splitlines()[0].split() == ["session_id", "viewer_id"]
    assert len(out.splitlines()) == 5
    code, out, err = _sessions(monkeypatch, capsys, "--columns", "session_id,viewr_id")
    assert code == 2
    assert out == ""
    assert "error[FQ740]: the result has no column 'viewr_id'" in err
    assert "did you mean 'viewer_id'?" in err


def test_check_cold_start_does_not_import_wcwidth(tmp_path: Path) -> None:
    (tmp_path / "f.flowql").write_text("geo_country == 'US'\n", encoding="utf-8")
    code = "import sys\nfrom flowql.cli import main\nmain(['check', sys.argv[1]])\n"
    code += "print('wcwidth' in sys.modules, file=sys.stderr)\n"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "f.flowql")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stderr.strip().splitlines()[-1] == "False"
