"""Fixes as data: the values (Edit, Fix), applying them, and the fix each rule attaches where
there is one repair: made by the checker round after round, in `.flowql` text and in the TOML
strings of a manifest."""

from __future__ import annotations

import pytest

import flowql
from flowql.checker.check import Checker, Input
from flowql.checker.config import Config
from flowql.codes import CODES
from flowql.diagnostics import Diagnostic
from flowql.fixes import Applicability, Edit, Fix, apply_fixes
from flowql.validate import validate

# --- the values ----------------------------------------------------------------------------


def test_edit_and_fix_are_values() -> None:
    edit = Edit(1, 2, "==")
    assert edit == Edit(1, 2, "==")
    assert hash(edit) == hash(Edit(1, 2, "=="))
    assert edit != Edit(1, 2, "!=")
    assert edit.to_dict() == {"start": 1, "end": 2, "replacement": "=="}
    fix = Fix([Edit(5, 5, ")"), Edit(0, 0, "(")], "add parentheses")
    assert [e.start for e in fix.edits] == [0, 5]  # kept in text order
    assert fix.safe
    assert fix.applicability is Applicability.SAFE
    assert (fix.start, fix.end) == (0, 5)
    assert fix == Fix([Edit(0, 0, "("), Edit(5, 5, ")")], "add parentheses")
    assert fix != Fix([Edit(0, 0, "("), Edit(5, 5, ")")], "add parentheses", "unsafe")  # type: ignore[arg-type]
    assert fix.apply("a OR b") == "(a OR )b"
    assert fix.to_dict() == {
        "message": "add parentheses",
        "applicability": "safe",
        "edits": [
            {"start": 0, "end": 0, "replacement": "("},
            {"start": 5, "end": 5, "replacement": ")"},
        ],
    }
    assert "Edit(0, 0, '(')" in repr(fix)
    with pytest.raises(ValueError, match="overlap"):
        Fix([Edit(0, 3, "x"), Edit(2, 4, "y")], "m")
    with pytest.raises(ValueError, match="at least one"):
        Fix([], "m")
    with pytest.raises(ValueError, match="start <= end"):
        Edit(3, 2, "")


def test_a_diagnostic_carries_its_fix_in_equality_and_json() -> None:
    fix = Fix([Edit(12, 13, "==")], "replace '=' with '=='")
    with_fix = Diagnostic("FQ006", "m", None, fix=fix)
    assert with_fix.fix is fix
    assert with_fix != Diagnostic("FQ006", "m", None)
    assert with_fix == Diagnostic("FQ006", "m", None, fix=Fix([Edit(12, 13, "==")], fix.message))
    assert with_fix.to_dict()["fix"] == fix.to_dict()
    # Placed in another text, the old offsets mean nothing: the fix goes unless given anew.
    assert with_fix.at(None).fix is None
    assert with_fix.at(None, fix=fix).fix is fix
    assert with_fix.with_fix(None).fix is None
    assert flowql.Fix is Fix
    assert flowql.Edit is Edit
    assert flowql.Applicability is Applicability


def test_apply_fixes_skips_overlaps_and_repeats() -> None:
    a = Fix([Edit(0, 1, "A")], "a")
    b = Fix([Edit(0, 2, "B")], "b")  # overlaps a
    c = Fix([Edit(1, 1, "c")], "c")  # touches a's end with an insertion: waits
    d = Fix([Edit(3, 4, "D")], "d")
    assert apply_fixes("wxyz", [d, b, a, c, a]) == ("AxyD", 2)
    assert apply_fixes("wxyz", []) == ("wxyz", 0)
    assert apply_fixes("w", [d]) == ("w", 0)  # past the end of the text


# --- what each rule fixes ------------------------------------------------------------------


def first_fix(text: str) -> Fix | None:
    try:
        flowql.parse(text)
    except flowql.ParseError as exc:
        return exc.diagnostics[0].fix
    raise AssertionError(f"{text!r} parses")


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("geo_country = 'Spain'", "geo_country == 'Spain'"),
        ("geo_country <> 'Spain'", "geo_country != 'Spain'"),
        ("a == 'x' && b == 'y'", "a == 'x' AND b == 'y'"),
        ("a == 'x'&&b == 'y'", "a == 'x' AND b == 'y'"),
        ("a == 'x' || b == 'y'", "a == 'x' OR b == 'y'"),
        ("(a == 'x')|b == 'y'", "(a == 'x') OR b == 'y'"),
        ("a == 'x' & b == 'y'", "a == 'x' AND b == 'y'"),
        ("os == Android", "os == 'Android'"),
        ("os == Android TV OR x == 'y'", "os == 'Android TV' OR x == 'y'"),
        ("os IN (iOS, 'x')", "os IN ('iOS', 'x')"),
        ("n == +5", "n == 5"),
        ("city == \u2018Madrid\u2019", "city == 'Madrid'"),
        ("city == \u201cMadrid\u201d", 'city == "Madrid"'),
    ],
)
def test_parse_errors_with_one_repair_carry_it(text: str, fixed: str) -> None:
    fix = first_fix(text)
    assert fix is not None
    assert fix.safe
    assert fix.apply(text) == fixed


@pytest.mark.parametrize(
    "text",
    [
        "a =~ 'x'",  # '~~' or '=='?
        "a !== 'x'",  # the '=' after '!=' is not between a key and a value
        "&& a == 'x'",  # nothing on its left to join
        "os == Android's",  # a quote in the word: more than a bare value
        "city == \u2018Madrid",  # no closing quote
        "a == 'x' b == 'y'",  # AND or OR?
        "a == 'x'",  # no error, for the record
    ][:-1],
)
def test_ambiguous_parse_errors_carry_no_fix(text: str) -> None:
    assert first_fix(text) is None


def test_every_fix_of_a_parse_error_parses_or_moves_the_error_on() -> None:
    for text in ("a = 1 && b = Android", "a <> 1 || b <> 2", "k IN (a, b, c) | z = 1"):
        for _ in range(10):
            try:
                flowql.parse(text)
                break
            except flowql.ParseError as exc:
                d = exc.diagnostics[0]
                assert d.fix is not None, (text, d)
                again = d.fix.apply(text)
                assert again != text
                text = again
        flowql.parse(text)


def fixes(text: str, **options: object) -> dict[str, Fix | None]:
    return {d.code: d.fix for d in validate(text, model=flowql.demo_model(), **options)}  # type: ignore[arg-type]


def test_validation_fixes() -> None:
    found = fixes("geo_contry == 'Spain'")
    fix = found["FQ101"]
    assert fix is not None
    assert not fix.safe
    assert fix.apply("geo_contry == 'Spain'") == "geo_country == 'Spain'"
    # Two keys close to it: no one repair (the hint still names the closest).
    assert fixes("device_os == 'x'")["FQ101"] is None
    mixed = "geo_city == 'a' OR geo_country == 'b' AND isp == 'c'"
    fix = fixes(mixed)["FQ401"]
    assert fix is not None
    assert fix.safe
    assert fix.apply(mixed) == "geo_city == 'a' OR (geo_country == 'b' AND isp == 'c')"
    listed = "geo_country IN ('a', 'b', 'a')"
    fix = fixes(listed)["FQ203"]
    assert fix is not None
    assert fix.apply(listed) == "geo_country IN ('a', 'b')"
    spaced = "geo_country  ==  'a'  # why\n"
    fix = fixes(spaced, final_newline=True)["FQ402"]
    assert fix is not None
    assert fix.apply(spaced) == "geo_country == 'a'  # why\n"
    typed = fixes("geo_country == 5")["FQ201"]
    assert typed is not None
    assert not typed.safe
    assert typed.edits[0].replacement == "'5'"
    value = "send_channel == 'emial'"
    unknown = {d.code: d.fix for d in validate(value, model=flowql.klaviyo_model("flow-report"))}[
        "FQ204"
    ]
    assert unknown is not None
    assert not unknown.safe
    assert unknown.apply(value) == "send_channel == 'email'"
    # A redundant operand goes with its connective and its own parentheses.
    for text, left in [
        ("geo_country == 'a' AND geo_country != 'b'", "geo_country == 'a'"),
        ("(isp == 'a') OR ((isp == 'a'))", "(isp == 'a')"),
        ("isp ~~ 'ab' OR isp ~~ 'a' OR isp == 'c'", "isp ~~ 'a' OR isp == 'c'"),
        ("isp IN ('a', 'b') OR isp == 'a'  # why", "isp IN ('a', 'b')  # why"),
    ]:
        redundant = fixes(text)["FQ303"]
        assert redundant is not None, text
        assert redundant.safe
        assert redundant.apply(text) == left
    assert fixes("isp == 'a'  # why\n OR isp == 'a'")["FQ303"] is None  # the comment would go
    # A tree has no text to edit.
    assert all(
        d.fix is None
        for d in validate(flowql.parse("geo_contry == 'x'"), model=flowql.demo_model())
    )


def test_the_codes_say_which_fixes_they_carry() -> None:
    assert CODES["FQ006"].fix == "safe"
    assert CODES["FQ101"].fix == "unsafe"
    assert CODES["FQ402"].fix == "safe"
    assert CODES["FQ301"].fix is None
    safe = sorted(c.code for c in CODES.values() if c.fix == "safe")
    unsafe = sorted(c.code for c in CODES.values() if c.fix == "unsafe")
    assert safe == [
        "FQ001", "FQ006", "FQ007", "FQ008", "FQ009", "FQ203", "FQ303", "FQ401", "FQ402", "FQ901"
    ]  # fmt: skip
    assert unsafe == ["FQ101", "FQ201", "FQ204"]


# --- the checker: rounds, files, manifests -------------------------------------------------


def fix_text(text: str, *, unsafe: bool = False, manifest: bool = False) -> tuple[str, int]:
    name = "q.toml" if manifest else "f.flowql"
    return Checker(Config()).fix(Input(name, text, path=name, manifest=manifest), unsafe=unsafe)


def test_fixing_takes_as_many_rounds_as_the_errors_need() -> None:
    text = "geo_country = 'Spain' && isp <> Vodafone || geo_city = Madrid\n"
    fixed, made = fix_text(text)
    # Five parse errors one after the other, then the parentheses (FQ401) and the layout (FQ402).
    assert fixed == "(geo_country == 'Spain' AND isp != 'Vodafone') OR geo_city == 'Madrid'\n"
    assert made >= 6
    assert fix_text(fixed) == (fixed, 0)


def test_unsafe_fixes_only_when_asked() -> None:
    assert fix_text("geo_contry == 'Spain'\n") == ("geo_contry == 'Spain'\n", 0)
    assert fix_text("geo_contry == 'Spain'\n", unsafe=True) == ("geo_country == 'Spain'\n", 1)


def test_unused_noqa_is_removed() -> None:
    assert fix_text("geo_country == 'x'  # noqa: FQ101\n")[0] == "geo_country == 'x'\n"
    partly = "geo_contry == 'x'  # noqa: FQ101, FQ3\n"
    assert fix_text(partly)[0] == "geo_contry == 'x'  # noqa: FQ101\n"
    # The comment says more than noqa: only the codes could go, and there are none to keep.
    kept = "geo_country == 'x'  # noqa: FQ101 legacy key\n"
    assert fix_text(kept)[0] == kept


def manifest(filter_toml: str) -> str:
    return f'[[query]]\nname = "q"\nfilter = {filter_toml}\n'


@pytest.mark.parametrize(
    ("written", "fixed"),
    [
        # A basic string: the quotes of a quoted value are escaped as TOML escapes them.
        (
            '"geo_country = \\"Spain\\" && isp == Vodafone"',
            '"geo_country == \\"Spain\\" AND isp == \'Vodafone\'"',
        ),
        ("\"geo_country = 'a\\u00e9'\"", "\"geo_country == 'a\\u00e9'\""),
        # A literal string cannot hold a ': the value is quoted with ".
        ("'geo_country = Spain'", "'geo_country == \"Spain\"'"),
        # Multi-line strings, basic and literal: the fixes land on their lines.
        (
            '"""\ngeo_country = "a"\n  || isp == V\n"""',
            '"""\ngeo_country == "a"\n  OR isp == \'V\'\n"""',
        ),
        (
            "'''\ngeo_country = 'a'\n  || isp == V\n'''",
            "'''\ngeo_country == 'a'\n  OR isp == 'V'\n'''",
        ),
    ],
)
def test_fixes_in_a_manifest_are_written_as_the_string_kind_writes_them(
    written: str, fixed: str
) -> None:
    assert fix_text(manifest(written), manifest=True)[0] == manifest(fixed)


def test_a_manifest_stays_toml_and_keeps_what_it_cannot_fix() -> None:
    from flowql.checker.manifest import load_manifest_text

    # Straight quotes for typographic ones: a literal string cannot hold them.
    text = manifest("'geo_country = \u2018Spain\u2019'")
    fixed, made = fix_text(text, manifest=True)
    assert made == 1
    queries = load_manifest_text(fixed)
    assert queries[0].filter == "geo_country == \u2018Spain\u2019"
    assert fix_text(fixed, manifest=True) == (fixed, 0)


def test_the_rule_pages_say_which_codes_fix_and_how_safely() -> None:
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs" / "rules"
    pages = {
        "FQ0": "syntax",
        "FQ1": "data-model",
        "FQ2": "values",
        "FQ3": "logic",
        "FQ4": "style",
        "FQ9": "suppressions",
    }
    for code in CODES.values():
        page = pages.get(code.code[:3])
        if page is None:
            assert code.fix is None, code.code  # a family without a page of notes
            continue
        text = (docs / f"{page}.md").read_text(encoding="utf-8")
        section = text.split(f"\n## {code.code} {code.name}\n", 1)[1].split("\n## ", 1)[0]
        notes = re.findall(r"\*\*Automatic fix\*\* \((safe|unsafe)", section)
        assert notes == ([code.fix] if code.fix else []), code.code
    index = (docs / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| (FQ\d{3}) \| [a-z-]+ \| (safe|unsafe) \|", index, flags=re.M)
    assert listed == [
        (c.code, c.fix) for c in sorted(CODES.values(), key=lambda c: c.code) if c.fix
    ]
