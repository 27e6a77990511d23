"""Tests for flowql.formatter: the one-line ``format`` and the file formatter ``format_source``."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowql import ParseError, parse, tokenize
from flowql.ast import And, Boolean, Comparison, Expr, In, Key, Not, Number, Op, Or, String, Value
from flowql.errors import LimitError
from flowql.formatter import format, format_source, format_value, quote

# --- format: one line, canonical ----------------------------------------------------------------


def canon(text: str) -> str:
    return format(parse(text))


@pytest.mark.parametrize("op", ["==", "!=", "~~", "!~"])
def test_format_each_operator(op: str) -> None:
    assert canon(f"geo_country {op} 'Spain'") == f"geo_country {op} 'Spain'"
    assert canon(f"geo_country{op}'Spain'") == f"geo_country {op} 'Spain'"


def test_format_built_comparison() -> None:
    expr = Comparison(Key("geo_city"), Op.CONTAINS, String("Madrid"))
    assert format(expr) == "geo_city ~~ 'Madrid'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 1 and b == 2", "a == 1 AND b == 2"),
        ("a == 1 AnD b == 2 oR c == 3", "(a == 1 AND b == 2) OR c == 3"),
        ("not a == 1", "NOT a == 1"),
        ("a in (1, 2)", "a IN (1, 2)"),
        ("a not in (1)", "a NOT IN (1)"),
        ("a nOt In (1)", "a NOT IN (1)"),
        ("a == TRUE OR b == False", "a == true OR b == false"),
    ],
)
def test_format_keyword_case(text: str, expected: str) -> None:
    assert canon(text) == expected


def test_format_keys_are_kept_as_written() -> None:
    assert canon("Integration.Name == 'x'") == "Integration.Name == 'x'"
    assert canon("android == 'x' and order_id == 'y'") == "android == 'x' AND order_id == 'y'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 'x'", "a == 'x'"),
        ('a == "x"', "a == 'x'"),
        ('a == "it\'s"', "a == 'it\\'s'"),
        ("a == 'it\\'s'", "a == 'it\\'s'"),
        ('a == "say \\"hi\\""', "a == 'say \"hi\"'"),
        ("a == 'say \\\"hi\\\"'", "a == 'say \"hi\"'"),
        ("a == 'C:\\\\temp'", "a == 'C:\\\\temp'"),
        ('a == "C:\\\\temp"', "a == 'C:\\\\temp'"),
        ("a == ''", "a == ''"),
        ('a == ""', "a == ''"),
        ("a == '# not a comment'", "a == '# not a comment'"),
        ("a == 'Zürich 東京'", "a == 'Zürich 東京'"),
        ("a == 'two\nlines'", "a == 'two\nlines'"),
    ],
)
def test_format_strings(text: str, expected: str) -> None:
    assert canon(text) == expected


def test_quote_escapes_only_backslash_and_single_quote() -> None:
    assert quote("") == "''"
    assert quote("plain") == "'plain'"
    assert quote("a'b") == "'a\\'b'"
    assert quote("a\\b") == "'a\\\\b'"
    assert quote("\\'") == "'\\\\\\''"
    assert quote('"\t\n#') == "'\"\t\n#'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 0", "a == 0"),
        ("a == 42", "a == 42"),
        ("a == -7", "a == -7"),
        ("a == 2.5", "a == 2.5"),
        ("a == -0.25", "a == -0.25"),
        ("a == 1e3", "a == 1000.0"),
        ("a == 1E3", "a == 1000.0"),
        ("a == 2.5e-3", "a == 0.0025"),
        ("a == 1e20", "a == 1e+20"),
        ("a == 007", "a == 7"),
    ],
)
def test_format_numbers(text: str, expected: str) -> None:
    assert canon(text) == expected
    assert parse(expected) == parse(text)


def test_format_value() -> None:
    assert format_value(String("x")) == "'x'"
    assert format_value(Number(3)) == "3"
    assert format_value(Number(3.0)) == "3.0"
    assert format_value(Boolean(True)) == "true"
    assert format_value(Boolean(False)) == "false"
    with pytest.raises(TypeError):
        format_value(Key("a"))  # type: ignore[arg-type]


def test_format_key_and_value_nodes() -> None:
    assert format(Key("geo_country")) == "geo_country"
    assert format(String("it's")) == "'it\\'s'"
    assert format(Number(-1.5)) == "-1.5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a in ('x')", "a IN ('x')"),
        ("a IN ( 'x' ,\"y\",3,true )", "a IN ('x', 'y', 3, true)"),
        ("a not in ('x', 'y')", "a NOT IN ('x', 'y')"),
        ("not a in ('x')", "NOT a IN ('x')"),
        ("not a not in ('x')", "NOT a NOT IN ('x')"),
    ],
)
def test_format_in(text: str, expected: str) -> None:
    assert canon(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not a == 1", "NOT a == 1"),
        ("not (a == 1)", "NOT a == 1"),
        ("not not a == 1", "NOT NOT a == 1"),
        ("not (not (a == 1))", "NOT NOT a == 1"),
        ("not (a == 1 and b == 2)", "NOT (a == 1 AND b == 2)"),
        ("not (a == 1 or b == 2)", "NOT (a == 1 OR b == 2)"),
        ("not not (a == 1 or b == 2)", "NOT NOT (a == 1 OR b == 2)"),
        ("not a == 1 and b == 2", "NOT a == 1 AND b == 2"),
    ],
)
def test_format_not(text: str, expected: str) -> None:
    assert canon(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a == 1 and b == 2 and c == 3", "a == 1 AND b == 2 AND c == 3"),
        ("a == 1 and (b == 2 and c == 3)", "a == 1 AND b == 2 AND c == 3"),
        ("(a == 1 and b == 2) and c == 3", "a == 1 AND b == 2 AND c == 3"),
        ("a == 1 or (b == 2 or c == 3)", "a == 1 OR b == 2 OR c == 3"),
        ("((a == 1))", "a == 1"),
        ("(a == 1) and ((b == 2))", "a == 1 AND b == 2"),
        ("a == 1 or b == 2 and c == 3", "a == 1 OR (b == 2 AND c == 3)"),
        ("a == 1 and b == 2 or c == 3", "(a == 1 AND b == 2) OR c == 3"),
        ("a == 1 and (b == 2 or c == 3)", "a == 1 AND (b == 2 OR c == 3)"),
        (
            "a == 1 and (b == 2 or (c == 3 and d == 4))",
            "a == 1 AND (b == 2 OR (c == 3 AND d == 4))",
        ),
        ("(a == 1 or b == 2) and (c == 3 or d == 4)", "(a == 1 OR b == 2) AND (c == 3 OR d == 4)"),
    ],
)
def test_format_parentheses(text: str, expected: str) -> None:
    assert canon(text) == expected
    assert parse(expected) == parse(text)


def test_format_built_trees_flatten() -> None:
    a, b, c = (Comparison(Key(k), Op.EQ, Number(1)) for k in "abc")
    assert format(And(a, And(b, c))) == "a == 1 AND b == 1 AND c == 1"
    assert format(Or(And(a, b), c)) == "(a == 1 AND b == 1) OR c == 1"
    assert format(Not(Or(a, b))) == "NOT (a == 1 OR b == 1)"
    assert format(In(Key("k"), [String("x"), Boolean(False)], True)) == "k NOT IN ('x', false)"


def test_format_is_whitespace_and_comment_blind() -> None:
    text = "a  ==\t'x'   # note\n  AND\n\n b != 2"
    assert canon(text) == "a == 'x' AND b != 2"


def test_format_deep_tree_does_not_recurse() -> None:
    expr: Expr = Comparison(Key("a"), Op.EQ, Number(1))
    for i in range(5000):
        leaf = Comparison(Key("b"), Op.EQ, Number(i))
        expr = And(leaf, expr) if i % 2 else Or(leaf, expr)
    text = format(expr)
    assert text.startswith("b == 4999 AND (b == 4998 OR (")
    assert text.endswith("a == 1" + ")" * 4999)


# --- format_source ------------------------------------------------------------------------------


def fmt(text: str, line_length: int = 88) -> str:
    """format_source, checking the invariants every result must have."""
    out = format_source(text, line_length=line_length)
    assert out.endswith("\n")
    assert not out.endswith("\n\n")
    assert not out.startswith("\n")
    assert parse(out) == parse(text)
    assert comment_texts(out) == comment_texts(text)
    assert format_source(out, line_length=line_length) == out
    return out


def comment_texts(text: str) -> Counter[str]:
    """The comments of ``text`` (trailing white space dropped), as a multiset."""
    return Counter(t.text.rstrip() for t in tokenize(text) if t.kind == "COMMENT")


def test_source_one_line() -> None:
    assert fmt("a == 'x'") == "a == 'x'\n"
    assert fmt("  a=='x'\n\n\n") == "a == 'x'\n"
    assert fmt('a == "x" and b in (1,2) or not c ~~ "y"') == (
        "(a == 'x' AND b IN (1, 2)) OR NOT c ~~ 'y'\n"
    )


def test_source_example_from_the_docs() -> None:
    text = (
        "# Android users in Spain\n"
        "device_operating_system == 'Android'  # mobile only\n"
        "and (geo_country == 'Spain' or geo_city ~~ 'Madrid')\n"
    )
    assert fmt(text) == (
        "# Android users in Spain\n"
        "device_operating_system == 'Android'  # mobile only\n"
        "AND (geo_country == 'Spain' OR geo_city ~~ 'Madrid')\n"
    )


def test_source_without_comments_joins_lines_that_fit() -> None:
    text = "a == 1\nAND (\n    b == 2\n    OR c == 3\n)\n"
    assert fmt(text) == "a == 1 AND (b == 2 OR c == 3)\n"


def test_source_fits_exactly_at_line_length() -> None:
    line = "geo_country == 'Spain' AND geo_city == 'Madrid'"
    assert fmt(line, line_length=len(line)) == line + "\n"
    assert fmt(line, line_length=len(line) - 1) == (
        "geo_country == 'Spain'\nAND geo_city == 'Madrid'\n"
    )


LONG_AND = " AND ".join(f"dimension_{i} == 'value number {i}'" for i in range(10))


def test_source_breaks_long_filters_one_operand_per_line() -> None:
    out = fmt(LONG_AND)
    lines = out.splitlines()
    assert lines[0] == "dimension_0 == 'value number 0'"
    assert lines[1:] == [f"AND dimension_{i} == 'value number {i}'" for i in range(1, 10)]


def test_source_ten_comparisons_and_an_or_group() -> None:
    ands = [f"dimension_{i} == 'value {i}'" for i in range(10)]
    short = " or ".join(f"k{i} == {i}" for i in range(6))
    long = " or ".join(f"long_dimension_name_{i} ~~ 'a rather long value {i}'" for i in range(6))
    for group, broken in ((short, False), (long, True)):
        out = fmt(" and ".join([*ands[:5], f"({group})", *ands[5:]]))
        lines = out.split("\n")
        assert lines[0] == ands[0]
        assert lines[1:5] == [f"AND {a}" for a in ands[1:5]]
        if broken:
            assert lines[5:13] == [
                "AND (",
                *(f"    {'OR ' if i else ''}{part}" for i, part in enumerate(long.split(" or "))),
                ")",
            ]
            assert lines[13:18] == [f"AND {a}" for a in ands[5:]]
        else:
            assert lines[5] == f"AND ({short.replace(' or ', ' OR ')})"
            assert lines[6:11] == [f"AND {a}" for a in ands[5:]]


def test_source_nested_group_stays_inline_when_it_fits() -> None:
    text = "a == 'x' and (b == 'y' or c == 'z') and " + LONG_AND
    out = fmt(text)
    assert out.splitlines()[:3] == [
        "a == 'x'",
        "AND (b == 'y' OR c == 'z')",
        "AND dimension_0 == 'value number 0'",
    ]


def test_source_nested_group_breaks_inside_parentheses() -> None:
    group = " or ".join(f"long_dimension_name_{i} ~~ 'a rather long value {i}'" for i in range(6))
    text = f"a == 'x' and ({group}) and b == 'y'"
    assert fmt(text) == (
        "a == 'x'\n"
        "AND (\n"
        + "".join(
            f"    {'OR ' if i else ''}long_dimension_name_{i} ~~ 'a rather long value {i}'\n"
            for i in range(6)
        )
        + ")\n"
        "AND b == 'y'\n"
    )


def test_source_two_levels_of_nesting() -> None:
    text = "a == 1 and (b == 2 or (c == 3 and d == 4 and e == 5)) and f == 6"
    assert fmt(text, line_length=40) == (
        "a == 1\nAND (\n    b == 2\n    OR (c == 3 AND d == 4 AND e == 5)\n)\nAND f == 6\n"
    )
    assert fmt(text, line_length=30) == (
        "a == 1\n"
        "AND (\n"
        "    b == 2\n"
        "    OR (\n"
        "        c == 3\n"
        "        AND d == 4\n"
        "        AND e == 5\n"
        "    )\n"
        ")\n"
        "AND f == 6\n"
    )


def test_source_indentation_counts_towards_the_fit() -> None:
    # The inner group is 28 wide, 37 on its line after "    OR (" and before ")".
    inner = "c == 3 AND d == 4 AND e == 5"
    text = f"a == 1 and (b == 2 or ({inner}))"
    out = fmt(text, line_length=len(inner) + 9)
    assert f"    OR ({inner})\n" in out
    out = fmt(text, line_length=len(inner) + 8)
    assert "    OR (\n        c == 3\n" in out


def test_source_not_of_a_broken_group() -> None:
    text = "not (a == 'xxxxxxxxxx' or b == 'yyyyyyyyyy') and not not (c == 1 or d == 2)"
    assert fmt(text, line_length=30) == (
        "NOT (\n"
        "    a == 'xxxxxxxxxx'\n"
        "    OR b == 'yyyyyyyyyy'\n"
        ")\n"
        "AND NOT NOT (c == 1 OR d == 2)\n"
    )
    assert fmt("not (a == 'xxxxxxxxxx' or b == 'yyyyyyyyyy')", line_length=30) == (
        "NOT (\n    a == 'xxxxxxxxxx'\n    OR b == 'yyyyyyyyyy'\n)\n"
    )


def test_source_leaves_are_never_broken() -> None:
    values = ", ".join(f"'value {i}'" for i in range(30))
    text = f"a IN ({values}) AND b == 1"
    assert fmt(text, line_length=40) == f"a IN ({values})\nAND b == 1\n"
    assert fmt(text, line_length=0) == f"a IN ({values})\nAND b == 1\n"


def test_source_header_comments_stay_on_top() -> None:
    assert fmt("# one\n# two\na == 1 and b == 2") == "# one\n# two\na == 1 AND b == 2\n"


def test_source_blank_line_after_header_is_kept_once() -> None:
    assert fmt("# header\n\na == 1") == "# header\n\na == 1\n"
    assert fmt("# header\n\n\n\na == 1") == "# header\n\na == 1\n"
    assert fmt("\n\n# header\na == 1") == "# header\na == 1\n"
    assert fmt("# one\n\n\n# two\n\na == 1") == "# one\n\n# two\n\na == 1\n"


def test_source_header_then_comment_inside_the_filter() -> None:
    text = "# header\n\nnot (\n  # inside\n  a == 1 or b == 2)"
    assert fmt(text) == "# header\n\n# inside\nNOT (a == 1 OR b == 2)\n"
    assert fmt(text, line_length=10) == (
        "# header\n\nNOT (\n    # inside\n    a == 1\n    OR b == 2\n)\n"
    )


def test_source_comment_above_an_operator_stays_above_its_operand() -> None:
    # Written before "AND (", a comment is about the whole group, and stays outside it.
    group = "b == 'bbbbbbbbbb' or c == 'cccccccccc'"
    text = f"a == 1\n# the group\nand ({group})"
    assert fmt(text, line_length=30) == (
        "a == 1\n# the group\nAND (\n    b == 'bbbbbbbbbb'\n    OR c == 'cccccccccc'\n)\n"
    )
    # Written after it, it is about the first test inside.
    text = f"a == 1 and (\n# the b test\n{group})"
    assert fmt(text, line_length=30) == (
        "a == 1\nAND (\n    # the b test\n    b == 'bbbbbbbbbb'\n    OR c == 'cccccccccc'\n)\n"
    )


def test_source_leading_comment_goes_before_its_operand() -> None:
    text = "a == 1\n# why b\n# and more\nand b == 2"
    assert fmt(text) == "a == 1\n# why b\n# and more\nAND b == 2\n"


def test_source_leading_comment_inside_a_broken_group_is_indented() -> None:
    group = " or ".join(f"long_dimension_name_{i} ~~ 'a rather long value {i}'" for i in range(3))
    group = group.replace(" or ", "\n# next\n or ", 1)
    text = f"a == 1 and (\n  # the first one\n  {group})"
    assert fmt(text) == (
        "a == 1\n"
        "AND (\n"
        "    # the first one\n"
        "    long_dimension_name_0 ~~ 'a rather long value 0'\n"
        "    # next\n"
        "    OR long_dimension_name_1 ~~ 'a rather long value 1'\n"
        "    OR long_dimension_name_2 ~~ 'a rather long value 2'\n"
        ")\n"
    )


def test_source_leading_comment_of_a_group_that_fits_goes_above_its_line() -> None:
    text = "a == 1 and (\n    # about b\n    b == 2 or c == 3\n)"
    assert fmt(text) == "a == 1\n# about b\nAND (b == 2 OR c == 3)\n"


def test_source_comment_after_an_opening_parenthesis_leads_what_follows() -> None:
    assert fmt("a == 1 and (  # about the group\n b == 2 or c == 3)") == (
        "a == 1\n# about the group\nAND (b == 2 OR c == 3)\n"
    )
    assert fmt("a == 1 and not  # about c\n c == 3") == "a == 1\n# about c\nAND NOT c == 3\n"


def test_source_trailing_comment_stays_on_its_line() -> None:
    text = "a == 1  # first\nand b == 2  # second\nand c == 3"
    assert fmt(text) == "a == 1  # first\nAND b == 2  # second\nAND c == 3\n"


def test_source_trailing_comment_after_an_operator_belongs_to_the_leaf_before() -> None:
    text = "a == 1 and  # about a\nb == 2 or  # about b\nc == 3"
    assert fmt(text) == "(\n    a == 1  # about a\n    AND b == 2  # about b\n)\nOR c == 3\n"


def test_source_trailing_comment_on_the_last_leaf_does_not_break() -> None:
    assert fmt("a == 1 and b == 2  # note") == "a == 1 AND b == 2  # note\n"
    assert fmt("(a == 1 and b == 2)  # note\n") == "a == 1 AND b == 2  # note\n"
    assert fmt("a == 1 and (b == 2  # note\n)") == "a == 1 AND b == 2  # note\n"


def test_source_trailing_comment_on_the_last_leaf_of_an_inline_group() -> None:
    text = "(b == 2 or c == 3)  # note\nand a == 1"
    assert fmt(text) == "(b == 2 OR c == 3)  # note\nAND a == 1\n"


def test_source_trailing_comment_breaks_only_the_group_it_is_in() -> None:
    text = "a == 1 and (b == 2  # note\nor c == 3)"
    assert fmt(text) == "a == 1\nAND (\n    b == 2  # note\n    OR c == 3\n)\n"


def test_source_comments_inside_a_leaf_trail_its_line() -> None:
    assert fmt("a  # k\n== 1 and b == 2") == "a == 1  # k\nAND b == 2\n"
    text = "a == 1 and b in ('x',  # x is old\n  'y'\n) and c == 3"
    assert fmt(text) == "a == 1\nAND b IN ('x', 'y')  # x is old\nAND c == 3\n"
    text = "b in (\n  # own line, inside the list\n  'x'\n)"
    assert fmt(text) == "b IN ('x')  # own line, inside the list\n"


def test_source_several_comments_in_one_leaf_keep_their_order() -> None:
    text = "a == 1 and b  # one\n ==  # two\n 2  # three\nand c == 3"
    assert fmt(text) == "a == 1\n# one\n# two\nAND b == 2  # three\nAND c == 3\n"


def test_source_footer_comments_stay_at_the_end() -> None:
    assert fmt("a == 1\n# end") == "a == 1\n# end\n"
    assert fmt("a == 1\n\n\n# end\n\n\n") == "a == 1\n\n# end\n"
    assert fmt("a == 1\n# one\n\n# two") == "a == 1\n# one\n\n# two\n"


def test_source_own_line_comment_before_closing_parenthesis() -> None:
    assert fmt("(a == 1 or b == 2\n# last\n)") == "a == 1 OR b == 2\n# last\n"
    assert fmt("(a == 1 or b == 2\n# next\n) and c == 3") == (
        "(a == 1 OR b == 2)\n# next\nAND c == 3\n"
    )


def test_source_every_place_at_once() -> None:
    text = (
        "# Spanish Android traffic\n"
        "\n"
        "device_operating_system == 'Android'  # mobile only\n"
        "# either the country or the capital\n"
        "and (geo_country == 'Spain'\n"
        "     or geo_city ~~ 'Madrid'  # the city, any spelling\n"
        "     or geo_city in ('Barcelona',  # big ones\n"
        "                     'Valencia'))\n"
        "and not integration.name == 'test'\n"
        "# reviewed 2024-05\n"
    )
    assert fmt(text) == (
        "# Spanish Android traffic\n"
        "\n"
        "device_operating_system == 'Android'  # mobile only\n"
        "# either the country or the capital\n"
        "AND (\n"
        "    geo_country == 'Spain'\n"
        "    OR geo_city ~~ 'Madrid'  # the city, any spelling\n"
        "    OR geo_city IN ('Barcelona', 'Valencia')  # big ones\n"
        ")\n"
        "AND NOT integration.name == 'test'\n"
        "# reviewed 2024-05\n"
    )


def test_source_comment_text_is_kept_verbatim_but_trailing_space() -> None:
    text = "#no space\t \n#  two  spaces inside  \na == 1  #\t# tab   \n"
    assert fmt(text) == "#no space\n#  two  spaces inside\na == 1  #\t# tab\n"


def test_source_crlf_input() -> None:
    lf = "# header\n\na == 1  # one\n# two\nand (b == 2 or c == 3)\n# end\n"
    crlf = lf.replace("\n", "\r\n")
    assert fmt(crlf) == fmt(lf)
    assert "\r" not in fmt(crlf)


def test_source_trailing_white_space_is_removed() -> None:
    text = "a == 1   \t\n  and b == 2 \t \n  # note \t \n"
    out = fmt(text)
    assert out == "a == 1 AND b == 2\n# note\n"
    assert all(line == line.rstrip() for line in out.split("\n"))


def test_source_keeps_white_space_inside_strings() -> None:
    text = "a == 'two  \nlines' and b == 1  # note"
    assert fmt(text) == "a == 'two  \nlines' AND b == 1  # note\n"


def test_source_parse_error_propagates() -> None:
    with pytest.raises(ParseError) as info:
        format_source("# header\na == 1 and\n# dangling\n")
    assert info.value.code == "FQ012"
    with pytest.raises(ParseError) as info:
        format_source("a == 1\nand b = 2  # oops\n")
    assert (info.value.code, info.value.line, info.value.column) == ("FQ006", 2, 7)
    with pytest.raises(ParseError):
        format_source("# only a comment\n")
    with pytest.raises(ParseError):
        format_source("")


def test_source_too_deep_raises_limit_error() -> None:
    with pytest.raises(LimitError):
        format_source("not " * 200 + "a == 1")


def test_source_deep_nesting_within_the_limit() -> None:
    # 98 nested groups, each with a comment that forces it apart: the deepest layout there is.
    text = "a == 0"
    for i in range(1, 99):
        keyword = "and" if i % 2 else "or"
        text = f"(b == {i}  # level {i}\n {keyword} {text})"
    out = fmt(text, line_length=20)
    lines = out.split("\n")
    assert lines[:3] == ["b == 98  # level 98", "OR (", "    b == 97  # level 97"]
    assert " " * 4 * 97 + "b == 1  # level 1\n" + " " * 4 * 97 + "AND a == 0\n" in out
    assert out.endswith("\n    )\n)\n")
    assert len(lines) == 2 + 98 + 97 * 2


def test_source_deep_not_chain() -> None:
    text = "not " * 99 + "(a == 1 or b == 2)"
    out = fmt(text, line_length=10)
    assert out.startswith("NOT " * 99 + "(\n    a == 1\n")


# --- properties ---------------------------------------------------------------------------------

KEYS = [
    "geo_country",
    "geo_city",
    "device_os",
    "integration.name",
    "tag_x-y",
    "android",
    "in_stock",
]

string_values = st.text(
    st.sampled_from(list("ab '\"\\#\n\t()ñ東😀,=~")) | st.characters(codec="utf-8"), max_size=8
)

values: st.SearchStrategy[Value] = st.one_of(
    st.builds(String, string_values),
    st.builds(Number, st.integers(-(10**12), 10**12)),
    st.builds(Number, st.floats(allow_nan=False, allow_infinity=False, width=32)),
    st.builds(Boolean, st.booleans()),
)

leaves: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Comparison, st.builds(Key, st.sampled_from(KEYS)), st.sampled_from(list(Op)), values),
    st.builds(
        In,
        st.builds(Key, st.sampled_from(KEYS)),
        st.lists(values, min_size=1, max_size=3),
        st.booleans(),
    ),
)


def _groups(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        st.builds(Not, children),
        operands.map(lambda ops: And(*ops)),
        operands.map(lambda ops: Or(*ops)),
    )


exprs: st.SearchStrategy[Expr] = st.recursive(leaves, _groups, max_leaves=12)

comment_bodies = st.text(
    st.sampled_from(list("ab #'\"\\()\t\ré→"))
    | st.characters(codec="utf-8", exclude_characters="\n"),
    max_size=10,
)


def _spell(draw: st.DrawFn, expr: Expr) -> list[str]:
    """The tokens of a valid spelling of ``expr``: random keyword case, quote style and redundant
    parentheses, and runs of AND/OR operands regrouped in parentheses."""

    def word(w: str) -> str:
        return draw(st.sampled_from([w, w.lower(), w.capitalize()]))

    def value(v: Value) -> str:
        if isinstance(v, String) and draw(st.booleans()):
            return '"' + v.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text = format_value(v)
        return word(text) if isinstance(v, Boolean) else text

    def spell(node: Expr, wrap: bool) -> list[str]:
        # Bounded recursion: the strategy's trees are a few levels deep.
        if isinstance(node, Comparison):
            out = [node.key.name, node.op.value, value(node.value)]
        elif isinstance(node, In):
            out = [node.key.name, *([word("NOT")] if node.negated else []), word("IN"), "("]
            for i, v in enumerate(node.values):
                out += [",", value(v)] if i else [value(v)]
            out.append(")")
        elif isinstance(node, Not):
            out = [word("NOT"), *spell(node.operand, True)]
        else:
            assert isinstance(node, (And, Or))
            ops = list(node.operands)
            parts = [spell(op, True) for op in ops]
            if len(parts) >= 3 and draw(st.booleans()):
                i = draw(st.integers(0, len(parts) - 2))
                j = draw(st.integers(i + 2, len(parts)))
                run: list[str] = ["("]
                for k, part in enumerate(parts[i:j]):
                    run += [word(node.keyword), *part] if k else part
                parts[i:j] = [[*run, ")"]]
            out = []
            for k, part in enumerate(parts):
                out += [word(node.keyword), *part] if k else part
            if wrap:
                return ["(", *out, ")"]
        if draw(st.integers(0, 9)) == 0:
            return ["(", *out, ")"]
        return out

    return spell(expr, False)


@st.composite
def sources(draw: st.DrawFn) -> tuple[Expr, str]:
    """A filter and a source text for it, with comments and white space at token boundaries."""
    expr = draw(exprs)
    tokens = _spell(draw, expr)

    def gap() -> str:
        kind = draw(st.integers(0, 9))
        if kind <= 3:
            return draw(st.sampled_from([" ", "  ", "\n", "\n\n", "\t", "\r\n", "\n    "]))
        space = draw(st.sampled_from(["", " ", "  ", "\t"]))
        comment = "#" + draw(comment_bodies)
        end = draw(st.sampled_from(["\n", "\r\n", "\n\n", "\n  "]))
        if kind <= 6:
            return f"{space}{comment}{end}"  # after code on the same line
        return f"\n{space}{comment}{end}"  # on a line of its own

    parts = [draw(st.sampled_from(["", "\n"])) if draw(st.booleans()) else gap()]
    for token in tokens:
        parts += [token, gap()]
    return expr, "".join(parts).lstrip(" \t")


def _assert_clean_lines(out: str) -> None:
    """No white space before a line end outside strings, and exactly one final newline."""
    assert out.endswith("\n")
    assert not out.endswith("\n\n")
    for token in tokenize(out):
        if token.kind == "WHITESPACE":
            assert all(not piece for piece in token.text.split("\n")[:-1]), repr(token.text)
        elif token.kind == "COMMENT":
            assert token.text == token.text.rstrip()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources(), st.integers(0, 100))
def test_property_format_source(source: tuple[Expr, str], line_length: int) -> None:
    expr, text = source
    assert parse(text) == expr
    out = format_source(text, line_length=line_length)
    assert parse(out) == expr
    assert comment_texts(out) == comment_texts(text)
    assert format_source(out, line_length=line_length) == out
    _assert_clean_lines(out)


@settings(max_examples=300, deadline=None)
@given(exprs, st.integers(20, 100))
def test_property_without_comments(expr: Expr, line_length: int) -> None:
    one_line = format(expr)
    out = format_source(one_line, line_length=line_length)
    assert parse(out) == expr
    if len(one_line) <= line_length:
        assert out == one_line + "\n"
    if "\n" in one_line:
        return
    for line in out[:-1].split("\n"):
        if len(line) > line_length:
            # Only what cannot be broken may overflow: a single test, or a group's opening line.
            body = line.lstrip(" ").removeprefix("AND ").removeprefix("OR ")
            while body.startswith("NOT "):
                body = body[4:]
            assert body == "(" or isinstance(parse(body), (Comparison, In)), line
        assert line == line.rstrip()
