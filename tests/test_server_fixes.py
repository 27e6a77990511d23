"""The language server's quick fixes, in-process: a diagnostic's own fix (its ``fix``: edits of
``(start, end, replacement)`` offsets) becomes one workspace edit, before "did you mean" and
``# noqa``."""

from __future__ import annotations

from pathlib import Path

from flowql.fixes import Applicability, Edit, Fix
from flowql.server import features
from flowql.server.documents import FILTER, Settings, analyze
from flowql.server.positions import Lines


class _Edit:
    def __init__(self, start: int, end: int, replacement: str) -> None:
        self.start = start
        self.end = end
        self.replacement = replacement


class _Fix:
    def __init__(self, title: str, edits: list[object]) -> None:
        self.title = title
        self.edits = edits


def test_a_diagnostics_fix_is_the_preferred_action(tmp_path: Path) -> None:
    text = "geo_country = 'Spain'\n"
    analysis = analyze(text, str(tmp_path / "a.flowql"), FILTER, Settings())
    [found] = analysis.diagnostics
    assert found.code == "FQ006"
    edits = [Edit(12, 13, "=="), Edit(21, 21, "  # fixed")]
    repair = Fix(edits, "write '=='", Applicability.SAFE)
    analysis.diagnostics = [found.with_fix(repair)]
    actions = features.code_actions(analysis, "file:///a.flowql", 12, 12)
    assert actions[0].title == "Write '=='"
    assert actions[0].is_preferred
    assert actions[0].edit is not None
    assert actions[0].edit.changes is not None
    changes = actions[0].edit.changes["file:///a.flowql"]
    spans = [(e.range.start.character, e.range.end.character, e.new_text) for e in changes]
    assert spans == [(12, 13, "=="), (21, 21, "  # fixed")]
    # Without a fix: no such action, the noqa one still there.
    analysis.diagnostics = [found.with_fix(None)]
    titles = [a.title for a in features.code_actions(analysis, "file:///a.flowql", 12, 12)]
    assert titles == ["Ignore FQ006 on this line (# noqa)"]


def test_fix_offsets_become_positions_in_utf16_units() -> None:
    text = "a == '😀'\nb == 1\n"
    edit = features.fix_to_edit("u", Lines(text), _Fix("x", [(7, 8, ""), (9, 10, "c")]))
    assert edit.changes is not None
    ranges = [
        (e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character)
        for e in edit.changes["u"]
    ]
    # The closing quote is character 7 of the line but UTF-16 unit 8; 'b' starts line 1.
    assert ranges == [(0, 8, 0, 9), (1, 0, 1, 1)]
