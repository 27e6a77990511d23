"""The target matrix: the committed document is current, and a few cells are what they must be."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowql.targets import targets
from flowql.targets.matrix import CONSTRUCTS, DOC, Row, main, matrix, render_markdown

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return matrix()


def _row(rows: list[Row], example: str) -> Row:
    (found,) = [row for row in rows if row.construct.example == example]
    return found


def test_committed_document_is_current() -> None:
    assert DOC == REPO / "docs" / "targets" / "matrix.md"
    committed = DOC.read_text(encoding="utf-8")
    assert committed == render_markdown(), (
        "docs/targets/matrix.md is stale: run `python -m flowql.targets.matrix`"
    )


def test_every_registered_target_is_a_column(rows: list[Row]) -> None:
    names = [t.name for t in targets()]
    assert len(rows) == len(CONSTRUCTS)
    for row in rows:
        assert [cell.target for cell in row.cells] == names
    header = next(
        line for line in render_markdown(rows).splitlines() if line.startswith("| construct")
    )
    for name in names:
        assert f"`{name}`" in header


def test_conviva_flow_lowers_in_to_an_or_of_equals(rows: list[Row]) -> None:
    cell = _row(rows, "a IN ('x', 'y')").cell("conviva-flow")
    assert cell.status == "lowered"
    assert cell.output == "a == 'x' OR a == 'y'"
    assert cell.short == "lowered"


def test_conviva_flow_refuses_numbers_and_warns_on_quotes(rows: list[Row]) -> None:
    refused = _row(rows, "a == 7").cell("conviva-flow")
    assert refused.status == "refused"
    assert refused.codes == ("FQ601",)
    assert refused.message is not None
    assert "number 7" in refused.message
    warned = _row(rows, "a == 'it\\'s'").cell("conviva-flow")
    assert warned.status == "warning"
    assert warned.codes == ("FQ602",)
    assert warned.short == "yes, FQ602 warning"


def test_conviva_sessions_refuses_not_equals(rows: list[Row]) -> None:
    cell = _row(rows, "a != 'x'").cell("conviva-sessions")
    assert cell.status == "refused"
    assert cell.codes == ("FQ601",)
    assert cell.short == "no (FQ601)"
    assert cell.message is not None
    assert "\n" not in cell.message


def test_conviva_sessions_sends_in_as_repeated_parameters(rows: list[Row]) -> None:
    cell = _row(rows, "a IN ('x', 'y')").cell("conviva-sessions")
    assert cell.status == "supported"
    assert cell.output == "a=x&a=y"


def test_python_supports_everything(rows: list[Row]) -> None:
    for row in rows:
        cell = row.cell("python")
        assert cell.status == "supported", row.construct.example
        assert cell.short == "yes"


def test_unknown_target_cell_is_a_key_error(rows: list[Row]) -> None:
    with pytest.raises(KeyError):
        rows[0].cell("no-such-target")


def test_check_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "matrix.md"
    assert main(["--check", "--output", str(out)]) == 1
    assert "run `python -m flowql.targets.matrix`" in capsys.readouterr().err
    assert main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_markdown()
    assert main(["--check", "--output", str(out)]) == 0
    out.write_text("old\n", encoding="utf-8")
    assert main(["--check", "--output", str(out)]) == 1
