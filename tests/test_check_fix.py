"""`flowql check --fix`, `--unsafe-fixes` and `--diff` from the command line.

The snapshots tests/snapshots/check-fix.<case>.txt are the output over a copy of
tests/fixtures/fix/ (and, for --fix, every file after it); refresh them with
FLOWQL_UPDATE_SNAPSHOTS=1 (the test then fails once, to have them reviewed).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from flowql.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fix"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def run(capsys: pytest.CaptureFixture[str], cwd: Path, *args: str) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args))
    finally:
        os.chdir(old)
    out, err = capsys.readouterr()
    return code, out, err


def copy(tmp_path: Path) -> Path:
    target = tmp_path / "fix"
    shutil.copytree(FIXTURES, target)
    return target


def contents(root: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(root.iterdir())}


def check_snapshot(name: str, text: str) -> None:
    snapshot = SNAPSHOTS / name
    if os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text, encoding="utf-8")
        pytest.fail(f"{snapshot.name} rewritten; review it and run again")
    assert text == snapshot.read_text(encoding="utf-8")


def test_diff_prints_the_fixes_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy(tmp_path)
    before = contents(root)
    code, out, err = run(capsys, root, "check", "--diff", ".")
    assert code == 1
    assert contents(root) == before
    assert err == "Would fix 14 findings in 4 files.\n"
    check_snapshot("check-fix.diff.txt", out)


def test_fix_writes_the_files_and_reports_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy(tmp_path)
    code, out, err = run(capsys, root, "check", "--fix", ".")
    assert code == 1  # FQ018 has no fix; the misspelt key only an unsafe one
    assert err == ""
    after = contents(root)
    files = "".join(f"=== {name}\n{text}" for name, text in after.items())
    check_snapshot("check-fix.fix.txt", out + files)
    # Fixing again changes nothing: what --fix wrote is what --fix writes.
    code, again, _ = run(capsys, root, "check", "--fix", ".")
    assert code == 1
    assert contents(root) == after
    assert "Fixed" not in again
    assert run(capsys, root, "check", "--diff", ".")[:2] == (0, "")


def test_unsafe_fixes_are_made_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy(tmp_path)
    _, out, _ = run(capsys, root, "check", "typo.flowql")
    assert (
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)" in out
    )
    _, out, _ = run(capsys, root, "check", "--unsafe-fixes", "typo.flowql")
    assert "[*] 1 fixable with `flowql check --fix --unsafe-fixes`." in out
    assert "error[FQ101]: [*] " in out
    assert run(capsys, root, "check", "--fix", "typo.flowql")[0] == 1
    assert (root / "typo.flowql").read_text() == "geo_contry == 'Spain'\n"
    code, out, _ = run(capsys, root, "check", "--fix", "--unsafe-fixes", "typo.flowql")
    assert code == 0
    assert out == "All checks passed (1 file checked).\nFixed 1 finding.\n"
    assert (root / "typo.flowql").read_text() == "geo_country == 'Spain'\n"


def test_standard_input_and_expr_print_the_fixed_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"isp <> 'x' || geo_city = y\n")))
    code, out, err = run(capsys, tmp_path, "check", "--fix", "-")
    assert code == 0
    assert out == "isp != 'x' OR geo_city == 'y'\n"
    assert err.startswith("All checks passed")  # the report goes to stderr: stdout is the text
    code, out, err = run(capsys, tmp_path, "check", "--fix", "-e", "isp = 'x'", "-e", "isp = ")
    assert code == 1
    assert out == "isp == 'x'\nisp == \n"
    assert "FQ005" in err
    code, out, _ = run(capsys, tmp_path, "check", "--diff", "-e", "isp = 'x'")
    assert code == 1
    assert out == (
        "--- <expr>\n+++ <expr>\n@@ -1 +1 @@\n"
        "-isp = 'x'\n\\ No newline at end of file\n"
        "+isp == 'x'\n\\ No newline at end of file\n"
    )


def test_fix_keeps_the_byte_order_mark_and_line_breaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.flowql"
    path.write_bytes("\ufeffisp = 'x'\r\n  AND geo_country <> 'y'\r\n".encode())
    assert run(capsys, tmp_path, "check", "--fix", "f.flowql")[0] == 0
    assert path.read_bytes() == "\ufeffisp == 'x' AND geo_country != 'y'\r\n".encode()


def test_a_file_that_cannot_be_written_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.flowql"
    path.write_text("isp = 'x'\n")
    path.chmod(stat.S_IRUSR)
    try:
        code, out, err = run(capsys, tmp_path, "check", "--fix", "f.flowql")
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert code == 2
    assert path.read_text() == "isp = 'x'\n"
    assert "f.flowql: not written" in err
    assert "error[FQ006]: [*]" in out  # reported as it still is


def test_removing_a_repeated_operand_never_runs_two_tokens_together() -> None:
    from flowql import parse
    from flowql.checker.check import Checker, Input
    from flowql.checker.config import Config

    # Found by the property test: removing a repeat left `a== 0or NOT ...`.
    text = 'not In-stock#\u200b+,(\x7f\'ש\n!=\t""OR noT  ( (\x0cNot\n\n(\r\n(\n\na\nIn("") )\n\n))\n\n)OR\r\na ==""\nAnd (\x0ba ==\x0c\'\'AND\x0ca =="")\tOR(a==#\\́Ʀé\U000e1b5b%+\n04553260803050964941 )\tOR a== \'\'\r\nAND  a ==\'\'and\na\r\n=="" AND a== ""or \n\t a =="" Or a== 0 OR  a in ("") \n\t or a\r\nin ( ""\n,"",\'\'\n\n)or\x0bNot\x0c( not In-stock in#\n(""\t,\' \' )) \n\t '  # noqa: E501
    fixed, count = Checker(Config()).fix(Input("<stdin>", text))
    assert count >= 1
    parse(fixed)
