"""Errors as values: codes, positions, hints and the rendered code frame."""

from __future__ import annotations

import pytest

import flowql
from flowql.codes import CODES
from flowql.diagnostics import Diagnostic, Severity, render
from flowql.errors import FlowQLError, LimitError, ParseError


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        flowql.parse(text)
    return info.value


def test_error_carries_code_position_message_and_hint() -> None:
    err = error_of("geo_country = 'Spain'")
    assert isinstance(err, FlowQLError)
    assert (err.code, err.line, err.column, err.end_line, err.end_column) == ("FQ006", 1, 13, 1, 14)
    assert err.message == "a single '=' is not a FlowQL operator"
    assert err.hint is not None
    assert "'=='" in err.hint
    assert err.span is not None
    assert err.span.start == 12
    assert err.source == "geo_country = 'Spain'"
    assert err.diagnostics == (err.diagnostic,)
    assert err.diagnostic.severity is Severity.ERROR
    assert str(err) == "1:13: FQ006 a single '=' is not a FlowQL operator"


def test_render_shows_a_code_frame_with_a_caret_under_the_spot() -> None:
    err = error_of("device_os == 'Android' AND\n  geo_country = 'Spain'")
    assert err.render("filters/spain.flowql") == "\n".join(
        [
            "error[FQ006]: a single '=' is not a FlowQL operator",
            " --> filters/spain.flowql:2:15",
            "  |",
            "2 |   geo_country = 'Spain'",
            "  |               ^",
            "  |",
            "  = help: compare with '==' (equals) or '!=' (does not equal)",
        ]
    )


def test_render_underlines_the_whole_span() -> None:
    rendered = error_of("k == Los Angeles AND b == 'c'").render()
    assert "1 | k == Los Angeles AND b == 'c'\n  |      ^^^^^^^^^^^\n" in rendered


def test_an_expression_that_ends_early_points_at_the_end_of_the_input() -> None:
    err = error_of("a == 'x' AND")
    assert (err.line, err.column) == (1, 13)
    assert "  |             ^\n" in err.render()
    err = error_of("(a == 'x'   # trailing comment\n")
    assert (err.code, err.line, err.column) == ("FQ010", 1, 10)


def test_render_expands_tabs_and_counts_wide_characters() -> None:
    assert "1 |     k = 'x'\n  |       ^\n" in error_of("\tk = 'x'").render()
    rendered = error_of("k == '日本' && b == 'c'").render()
    assert "1 | k == '日本' && b == 'c'\n  |             ^^\n" in rendered


def test_render_cuts_long_lines_around_the_span() -> None:
    text = "a == 'b' AND " * 300 + "c = 'd'"
    rendered = error_of(text).render()
    source_line = rendered.splitlines()[3]
    assert source_line.startswith("1 | \u2026")
    assert len(source_line) < 120
    caret_line = rendered.splitlines()[4]
    assert source_line[caret_line.index("^")] == "="


def test_render_without_source_or_span() -> None:
    diagnostic = Diagnostic("FQ013", "the filter is empty", None, hint="write one")
    assert render(diagnostic, None, "x.flowql") == (
        "error[FQ013]: the filter is empty\n --> x.flowql\n  = help: write one"
    )


def test_diagnostic_value_semantics() -> None:
    a = Diagnostic("FQ004", "m", None, severity=Severity.WARNING)
    b = Diagnostic("FQ004", "m", None, severity=Severity.WARNING)
    assert a == b
    assert hash(a) == hash(b)
    assert a != Diagnostic("FQ004", "m", None)
    assert a.to_dict() == {
        "code": "FQ004",
        "severity": "warning",
        "message": "m",
        "line": None,
        "column": None,
        "end_line": None,
        "end_column": None,
        "hint": None,
        "fix": None,
    }
    assert "FQ004" in repr(a)


def test_error_needs_a_diagnostic_and_keeps_them_all() -> None:
    with pytest.raises(ValueError, match="at least one diagnostic"):
        FlowQLError([])
    first = Diagnostic("FQ004", "first", None)
    second = Diagnostic("FQ005", "second", None)
    err = FlowQLError([first, second], "x")
    assert err.diagnostics == (first, second)
    assert err.code == "FQ004"
    assert err.render().count("error[") == 2
    assert repr(err).startswith("FlowQLError(<Diagnostic FQ004")


def test_limits_are_limit_errors() -> None:
    with pytest.raises(LimitError) as info:
        flowql.parse("a == 'b'", max_length=5)
    assert info.value.code == "FQ016"
    assert isinstance(info.value, ParseError)


def test_parse_rejects_non_text_with_type_error() -> None:
    with pytest.raises(TypeError):
        flowql.parse(b"a == 'b'")  # type: ignore[arg-type]


def test_every_code_is_registered_with_a_summary_family_and_severity() -> None:
    assert all(c.code == key and c.summary and c.name for key, c in CODES.items())
    assert list(CODES) == sorted(CODES)
    assert len({c.name for c in CODES.values()}) == len(CODES)
    assert all(c.severity in ("error", "warning", "info") and c.family for c in CODES.values())
    syntax = [int(code[2:]) for code in CODES if code.startswith("FQ0")]
    assert syntax == list(range(1, len(syntax) + 1))
