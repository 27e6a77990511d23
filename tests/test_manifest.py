"""Query manifests: loading, validation, positions in the file, and noqa comments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowql.ast import Span, String, find_all
from flowql.checker.manifest import (
    ManifestError,
    ManifestMemo,
    Query,
    is_manifest,
    load_manifest,
    load_manifest_text,
    toml_loads,
)
from flowql.checker.noqa import Noqa, noqa_comments, noqa_lines
from flowql.errors import FlowQLError
from flowql.syntax import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def one(text: str) -> Query:
    queries = load_manifest_text(text, "q.toml")
    assert len(queries) == 1
    return queries[0]


def mapped_strings(query: Query) -> list[tuple[str, str, Span]]:
    """(value, file text at the mapped span, mapped span) of every string in the filter."""
    out = []
    for node in find_all(parse(query.filter), String):
        assert node.span is not None
        span = query.to_file(node.span)
        assert query.source is not None
        out.append((node.value, query.source[span.start : span.end], span))
    return out


def check_line_column(source: str, span: Span) -> None:
    assert span.line == source.count("\n", 0, span.start) + 1
    assert span.column == span.start - source.rfind("\n", 0, span.start)
    assert span.end_line == source.count("\n", 0, span.end) + 1


# --- positions, for every string form ---------------------------------------------------------


def test_basic_string_positions() -> None:
    text = '[[query]]\nname = "a"\nfilter = "geo_country == \'Spain\'"\n'
    [(_, found, span)] = mapped_strings(one(text))
    assert found == "'Spain'"
    assert (span.line, span.column, span.end_line, span.end_column) == (3, 26, 3, 33)


def test_multiline_basic_string_drops_the_first_newline() -> None:
    text = (
        "[[query]]\n"
        'name = "a"\n'
        'filter = """\n'
        "device_operating_system == 'Android'\n"
        "  AND geo_country == 'Spain'\n"
        '"""\n'
    )
    query = one(text)
    assert query.filter.startswith("device_operating_system")
    found = mapped_strings(query)
    assert [f for _, f, _ in found] == ["'Android'", "'Spain'"]
    assert [(s.line, s.column) for _, _, s in found] == [(4, 28), (5, 22)]
    for _, _, span in found:
        check_line_column(text, span)


def test_literal_string() -> None:
    text = "[[query]]\nname = 'a'\nfilter = 'a == \"x\\y\" OR b == \"q\"'\n"
    query = one(text)
    assert query.filter == 'a == "x\\y" OR b == "q"'
    # FlowQL rejects \y; map the error instead.
    with pytest.raises(FlowQLError) as info:
        parse(query.filter)
    assert info.value.span is not None
    span = query.to_file(info.value.span)
    assert text[span.start : span.end] == "\\y"
    assert (span.line, span.column) == (3, 18)


def test_multiline_literal_string() -> None:
    text = "[[query]]\nname = 'a'\nfilter = '''\na IN ('x', 'y')\n  AND b != \"z\"'''\n"
    query = one(text)
    assert query.filter == "a IN ('x', 'y')\n  AND b != \"z\""
    assert [f for _, f, _ in mapped_strings(query)] == ["'x'", "'y'", '"z"']
    spans = [s for _, _, s in mapped_strings(query)]
    assert [(s.line, s.column) for s in spans] == [(4, 7), (4, 12), (5, 12)]


def test_multiline_literal_with_quotes_before_the_delimiter() -> None:
    text = "[[query]]\nname = 'a'\nfilter = '''a == 'x''''\n"
    query = one(text)
    assert query.filter == "a == 'x'"
    assert [f for _, f, _ in mapped_strings(query)] == ["'x'"]


def test_escapes_cover_the_whole_escape() -> None:
    text = (
        "[[query]]\n"
        'name = "a"\n'
        "filter = \"a == \\\"caf\\u00e9\\\"\\tAND b == 'x\\\\\\\\y'\\nOR c == '\\U0001F600'\"\n"
    )
    query = one(text)
    assert query.filter == "a == \"café\"\tAND b == 'x\\\\y'\nOR c == '\U0001f600'"
    found = mapped_strings(query)
    assert [v for v, _, _ in found] == ["café", "x\\y", "\U0001f600"]
    assert [f for _, f, _ in found] == [
        '\\"caf\\u00e9\\"',
        "'x\\\\\\\\y'",
        "'\\U0001F600'",
    ]
    for _, _, span in found:
        assert span.line == 3


def test_line_ending_backslash() -> None:
    text = '[[query]]\nname = "a"\nfilter = """a == \'x\' \\\n      AND b == \'y\'"""\n'
    query = one(text)
    assert query.filter == "a == 'x' AND b == 'y'"
    found = mapped_strings(query)
    assert [f for _, f, _ in found] == ["'x'", "'y'"]
    assert [(s.line, s.column) for _, _, s in found] == [(3, 18), (4, 16)]
    # A span over the whole filter ends at the last character, not at the backslash.
    whole = query.to_file(Span.from_offsets(query.filter, 0, len(query.filter)))
    assert text[whole.start : whole.end].startswith("a == 'x'")
    assert text[whole.start : whole.end].endswith("'y'")


def test_crlf_file() -> None:
    text = (
        '[[query]]\r\nname = "a"\r\nfilter = """\r\n'
        "device_operating_system == 'Android'\r\n"
        'AND geo_country == \'Spain\'\r\n"""\r\n'
        '\r\n[[query]]\r\nname = "b"\r\nfilter = \'x == "1"\'\r\n'
    )
    first, second = load_manifest_text(text)
    assert first.filter == "device_operating_system == 'Android'\nAND geo_country == 'Spain'\n"
    found = mapped_strings(first)
    assert [f for _, f, _ in found] == ["'Android'", "'Spain'"]
    assert [(s.line, s.column) for _, _, s in found] == [(4, 28), (5, 20)]
    newline = first.filter.index("\n")
    span = first.to_file(Span.from_offsets(first.filter, newline, newline + 1))
    assert text[span.start : span.end] == "\r\n"
    [(_, found2, span2)] = mapped_strings(second)
    assert found2 == '"1"'
    assert (span2.line, span2.column) == (10, 16)


def test_several_queries_and_other_keys_that_mention_filter() -> None:
    text = (
        "# a comment with [[query]] and filter = 'nope' in it\n"
        "[[query]]\n"
        'name = "filter = \\"x\\""\n'
        'endpoint = "historical"  # filter = "not this one"\n'
        "start = 2026-11-22T10:00:00Z\n"
        'end = "2026-11-22T11:00:00Z"\n'
        "filter = \"a == 'one'\"\n"
        "\n"
        "[[query]]\n"
        "name = '''filter = \"\"\"'''\n"
        "'filter' = \"b == 'two'\"\n"
        "\n"
        "[[query]]\n"
        'name = "third"\n'
        "filter.x = 1\n"
    )
    first, second, third = load_manifest_text(text, "q.toml")
    assert first.name == 'filter = "x"'
    assert first.start == "2026-11-22T10:00:00Z"
    assert [f for _, f, _ in mapped_strings(first)] == ["'one'"]
    assert mapped_strings(first)[0][2].line == 7
    assert [f for _, f, _ in mapped_strings(second)] == ["'two'"]
    assert mapped_strings(second)[0][2].line == 11
    assert [d.message for d in third.diagnostics] == [
        "'filter' must be a string, not a table in query 'third'"
    ]


def test_inline_tables() -> None:
    text = "query = [\n  { name = 'a', filter = \"a == 'x'\" },\n  { name = 'b' },\n]\n"
    first, second = load_manifest_text(text)
    assert [f for _, f, _ in mapped_strings(first)] == ["'x'"]
    assert mapped_strings(first)[0][2].line == 2
    [problem] = second.diagnostics
    assert problem.message == "no 'filter' in query 'b'"
    assert problem.span is not None
    assert text[problem.span.start : problem.span.end] == "{ name = 'b' }"


def test_empty_spans_and_out_of_range_spans() -> None:
    text = "[[query]]\nname = 'a'\nfilter = 'a == '\n"
    query = one(text)
    with pytest.raises(FlowQLError) as info:
        parse(query.filter)
    assert info.value.code == "FQ005"
    assert info.value.span is not None
    span = query.to_file(info.value.span)
    assert span.start == span.end
    assert text[: span.start].endswith("a ==")
    empty = query.to_file(Span(0, 0, 1, 1, 1, 1))
    assert (empty.start, empty.line, empty.column) == (text.index("'a ==") + 1, 3, 11)
    beyond = query.to_file(Span(0, 99, 1, 1, 1, 100))
    assert text[beyond.start : beyond.end] == "a == "


def test_bom_is_dropped() -> None:
    query = one("\ufeff[[query]]\nname = 'a'\nfilter = \"a == 'x'\"\n")
    assert query.source is not None
    assert not query.source.startswith("\ufeff")
    assert mapped_strings(query)[0][2].column == 16


def test_query_built_in_code_maps_to_itself() -> None:
    query = Query(name="q", filter="a == 'x'")
    span = Span(5, 8, 1, 6, 1, 9)
    assert query.to_file(span) is span
    with pytest.raises(AttributeError):
        query.name = "other"


def test_fallback_when_the_scanner_disagrees_with_tomllib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flowql.checker.manifest as manifest

    real = manifest.toml_loads

    def altered(text: str) -> dict[str, object]:
        data = real(text)
        data["query"][0]["filter"] = "b == 'other'"
        return data

    monkeypatch.setattr(manifest, "toml_loads", altered)
    text = "[[query]]\nname = 'a'\nfilter = \"a == 'x'\"\n"
    query = one(text)
    span = query.to_file(Span(5, 12, 1, 6, 1, 13))
    assert text[span.start : span.end] == "filter"
    assert span.line == 3


# --- fields and errors ----------------------------------------------------------------------


def test_every_field() -> None:
    text = """
[[query]]
name = "all"
target = "conviva-flow"
endpoint = "historical"
flow = "825"
group-by = "geo_country"
granularity = "PT1H"
start = 2026-11-22T10:00:00+01:00
end = "2026-11-22T11:00:00Z"
limit = 10
filter = "a == 'x'"
"""
    query = one(text)
    assert query.diagnostics == ()
    assert (query.name, query.target, query.endpoint, query.flow) == (
        "all",
        "conviva-flow",
        "historical",
        "825",
    )
    assert (query.group_by, query.granularity, query.limit) == ("geo_country", "PT1H", 10)
    assert (query.start, query.end) == ("2026-11-22T10:00:00+01:00", "2026-11-22T11:00:00Z")
    assert query.interval is None
    assert query.path == "q.toml"
    assert query.span is not None
    assert (query.span.line, query.span.column, query.span.end_column) == (2, 1, 10)
    assert query.filter_span is not None
    assert text[query.filter_span.start : query.filter_span.end] == "\"a == 'x'\""


def messages(text: str) -> list[tuple[str, str | None, str]]:
    """(message, hint, the file text at the span) of every problem of every query."""
    out = []
    for query in load_manifest_text(text):
        for d in query.diagnostics:
            assert d.code == "FQ802"
            assert d.span is not None
            out.append((d.message, d.hint, text[d.span.start : d.span.end]))
    return out


def test_per_query_problems_are_collected_with_positions() -> None:
    text = """
[[query]]
name = "one"
flwo = "825"
flow = 825
interval = "PT20M"
endpoint = "real-time"
filter = "a == 'x'"

[[query]]
name = "two"
endpoint = "historical"
interval = "PT5M"
start = "2026-11-22T10:00:00"
end = "yesterday"
limit = 0

[[query]]
name = "one"
endpoint = "real-tme"
start = "2026-11-22T11:00:00Z"
end = "2026-11-22T10:00:00Z"
granularity = "hourly"
filter = "a == 'y'"
"""
    assert messages(text) == [
        ("unknown field 'flwo' in query 'one'", "did you mean 'flow'?", "flwo"),
        (
            "'flow' must be a string, not an integer in query 'one'",
            'flow ids are strings: flow = "825"',
            "825",
        ),
        (
            "the interval 'PT20M' is not PT1M to PT15M in query 'one'",
            "a real-time interval is 1 to 15 minutes: PT1M, PT5M, PT15M",
            '"PT20M"',
        ),
        (
            "'interval' is for real-time queries, not historical in query 'two'",
            "use start and end for a time range",
            "interval",
        ),
        # A naive time is read in the table's tz (UTC by default), as the command line reads it;
        # a table with an endpoint is a query that runs, and needs no filter.
        (
            "'yesterday' is not a time in query 'two'",
            "write ISO 8601 (2026-11-22T10:00:00Z), epoch seconds or milliseconds, 'now', or a "
            "relative time such as -2h30m",
            '"yesterday"',
        ),
        (
            "the limit must be a positive whole number, not 0 in query 'two'",
            "for example: limit = 100",
            "0",
        ),
        (
            "the name 'one' is used by query 1 too in query 'one'",
            "give each query its own name",
            '"one"',
        ),
        (
            "unknown endpoint 'real-tme' in query 'one'",
            "did you mean 'real-time'?",
            '"real-tme"',
        ),
        (
            "the granularity 'hourly' is not an ISO 8601 duration in query 'one'",
            "for example PT1M, PT1H or P1D",
            '"hourly"',
        ),
        ("the end is not after the start in query 'one'", None, '"2026-11-22T10:00:00Z"'),
    ]


def test_more_per_query_problems() -> None:
    text = """
[[query]]
filter = "a == 'x'"
group_by = ["a", "b"]
group-by = "c"
start = "2026-11-22T10:00:00Z"
endpoint = "real-time"

[[query]]
name = ""
filter = 42
end = 2026-11-22
"""
    found = messages(text)
    assert [q.has_filter for q in load_manifest_text(text)] == [True, False]
    assert found == [
        ("'group-by' repeats 'group_by' in query 1", "keep one of them", "group-by"),
        (
            "no 'name' in query 1",
            'give each query a name: name = "android-spain"',
            "[[query]]",
        ),
        # A list of fields is a Klaviyo report's grouping (the query value checks the rest).
        ("'start' without 'end' in query 1", "give both, or neither", "start"),
        ("a real-time query takes an interval, not start and end in query 1", None, "start"),
        ("the name is empty in query 2", None, '""'),
        ("'end' without 'start' in query 2", "give both, or neither", "end"),
        (
            "'filter' must be a string, not an integer in query 2",
            "write the filter as a TOML string",
            "42",
        ),
    ]


def test_a_query_with_problems_keeps_its_filter() -> None:
    query = one("[[query]]\nname = 'a'\nlimit = -1\nfilter = \"a == 'x'\"\n")
    assert len(query.diagnostics) == 1
    assert query.has_filter
    assert query.filter == "a == 'x'"
    assert [f for _, f, _ in mapped_strings(query)] == ["'x'"]


def test_invalid_toml_raises_with_position() -> None:
    text = "[[query]]\nname = 'a'\nfilter = \n"
    with pytest.raises(ManifestError) as info:
        load_manifest_text(text, "q.toml")
    error = info.value
    assert isinstance(error, FlowQLError)
    assert error.code == "FQ802"
    assert error.message == "not valid TOML: invalid value"
    assert (error.line, error.column) == (3, 10)
    assert error.source == text
    assert "q.toml:3:10" in error.render("q.toml")


def test_unterminated_string_points_at_the_end() -> None:
    text = "[[query]]\nname = 'a'\nfilter = \"a == 'x'\n"
    with pytest.raises(ManifestError) as info:
        load_manifest_text(text)
    assert info.value.line == 3


def test_file_level_problems_raise_all_at_once() -> None:
    text = "title = 'x'\n[[queries]]\nname = 'a'\n"
    with pytest.raises(ManifestError) as info:
        load_manifest_text(text)
    found = [(d.message, d.hint, d.line) for d in info.value.diagnostics]
    assert found == [
        ("no [[query]] tables in this manifest", None, None),
        (
            "'title' is not part of a query manifest",
            "a manifest holds [[query]] tables, and nothing outside them",
            1,
        ),
        ("'queries' is not part of a query manifest", "did you mean 'query'?", 2),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "query = 'x'\n",
            "'query' must be an array of tables: write each query as a [[query]] table",
        ),
        ("query = []\n", "no queries in this manifest"),
        (
            "[query]\nname = 'a'\n",
            "'query' must be an array of tables: write each query as a [[query]] table",
        ),
    ],
)
def test_query_of_the_wrong_shape(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest_text(text)
    assert info.value.message == message
    assert info.value.line == 1


def test_load_manifest_reads_files(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_bytes(b"[[query]]\r\nname = 'a'\r\nfilter = \"a == 'x'\"\r\n")
    [query] = load_manifest(str(path))
    assert query.path == str(path)
    path.write_bytes(b"[[query]]\nname = '\xff'\n")
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_manifest(str(path))
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(str(tmp_path / "missing.toml"))


def test_is_manifest(tmp_path: Path) -> None:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    manifest = "[[query]]\nname = 'a'\nfilter = \"a == 'x'\"\n"
    assert is_manifest(write("queries.toml", manifest))
    assert is_manifest(write("inline.toml", "query = [{name = 'a', filter = 'a == 1'}]\n"))
    assert is_manifest(write("broken.toml", "[[query]]\nname = \n"))
    assert not is_manifest(write("pyproject.toml", manifest))
    assert not is_manifest(write("flowql.toml", manifest))
    assert not is_manifest(write("other.toml", "[tool]\nquery = 1\n"))
    assert not is_manifest(write("queries.flowql", manifest))
    assert not is_manifest(str(tmp_path / "missing.toml"))
    assert is_manifest(str(EXAMPLES / "queries.toml"))


def test_the_example_manifest_is_clean() -> None:
    queries = load_manifest(str(EXAMPLES / "queries.toml"))
    assert 4 <= len(queries) <= 6
    assert all(q.diagnostics == () for q in queries)
    endpoints = {q.endpoint for q in queries}
    assert {"real-time", "historical", "content", "ad"} <= endpoints
    for query in queries:
        expr = parse(query.filter)
        for node in find_all(expr, String):
            assert node.span is not None
            span = query.to_file(node.span)
            assert query.source is not None
            literal = query.source[span.start : span.end]
            assert literal[0] in "'\""
            assert node.value in literal


# --- noqa -----------------------------------------------------------------------------------


def test_noqa_in_flowql_files() -> None:
    text = (
        "# noqa\n"
        "a == '# noqa' # NOQA: fq101, FQ3 because reasons\n"
        'AND b == "x # noqa"  #noqa:FQ402\n'
        "AND c == 1 # see the noqa docs # noqa: whatever\n"
        "AND d == 2 # noqa FQ1\n"
        "AND e == 3 # noqa-like\n"
    )
    found = noqa_comments(text)
    assert found == [
        Noqa(1, 1, 7, None, 0, 6),
        Noqa(2, 15, 33, frozenset({"FQ101", "FQ3"}), 21, 39),
        Noqa(3, 22, 33, frozenset({"FQ402"}), 77, 88),
        Noqa(4, 32, 39, frozenset(), 120, 127),
        Noqa(5, 12, 22, frozenset({"FQ1"}), 148, 158),
    ]
    for noqa in found:
        assert text[noqa.start : noqa.end].lower().startswith("#")
        assert noqa.span.line == noqa.line
    assert noqa_lines(text) == {
        1: None,
        2: frozenset({"FQ101", "FQ3"}),
        3: frozenset({"FQ402"}),
        4: frozenset(),
        5: frozenset({"FQ1"}),
    }


def test_noqa_suppresses() -> None:
    assert Noqa(1, 1, 7, None).suppresses("FQ101")
    some = Noqa(1, 1, 20, frozenset({"FQ1", "FQ402"}))
    assert some.suppresses("FQ101")
    assert some.suppresses("fq402")
    assert not some.suppresses("FQ401")
    assert not Noqa(1, 1, 8, frozenset()).suppresses("FQ101")
    assert repr(some) == "Noqa(1:1-20, FQ1,FQ402)"


def test_noqa_in_manifests() -> None:
    text = (
        "# noqa: FQ9\n"
        "[[query]]\n"
        'name = "x # noqa"  # noqa: FQ101\n'
        "endpoint = '# noqa'\n"
        'filter = """\n'
        "device_operating_system == 'Android'   # noqa: FQ402\n"
        "AND geo_country == '# noqa'\n"
        '"""\n'
        "[[query]]\n"
        "name = 'y'\n"
        "filter = \"a == '1' # noqa: FQ2\\nAND b == 'c'\"  # noqa: FQ4\n"
        "description = '''\n# noqa: FQ1\n'''\n"
    )
    found = noqa_comments(text, manifest=True)
    assert [(n.line, n.column, n.end_column, n.codes) for n in found] == [
        (1, 1, 12, frozenset({"FQ9"})),
        (3, 20, 33, frozenset({"FQ101"})),
        (6, 40, 53, frozenset({"FQ402"})),
        (11, 20, 31, frozenset({"FQ2"})),
        (11, 48, 59, frozenset({"FQ4"})),
    ]
    for noqa in found:
        assert text[noqa.start : noqa.end].startswith("# noqa")
    assert noqa_lines(text, manifest=True)[11] == frozenset({"FQ2", "FQ4"})
    # The same text read as FlowQL finds FlowQL comments everywhere: the reader decides.
    assert len(noqa_comments(text)) != len(found)


def test_noqa_in_a_broken_manifest_is_best_effort() -> None:
    text = "# noqa\n[[query]]\nname = \n# noqa: FQ1\n"
    assert [n.line for n in noqa_comments(text, manifest=True)] == [1]


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from("[]{}='\"\\#\n\r .,query filter noqa FQ1:"), st.characters()
        ),
        max_size=80,
    )
)
def test_noqa_comments_never_fail(text: str) -> None:
    for noqa in noqa_comments(text, manifest=True) + noqa_comments(text):
        assert 0 <= noqa.start < noqa.end <= len(text)


def test_deeply_nested_text_does_not_fail() -> None:
    text = "x = " + "[" * 5000 + "\n# noqa\n"
    assert noqa_comments(text, manifest=True) == []


def test_noqa_bare_and_codes_merge_on_one_line() -> None:
    text = "[[query]]\nname = 'a'\nfilter = \"a == 1 # noqa\"  # noqa: FQ4\n"
    assert noqa_lines(text, manifest=True) == {3: None}


# --- the property: any text, any string form, decodes and maps back ---------------------------

_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("'\"\\\n\t #=()abc AND OR é€😀\x01\x7f\u2028"),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


def _escape_basic(text: str, *, multiline: bool, draw: st.DataObject) -> str:
    out = []
    for i, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" and multiline:
            out.append("\n")
        elif char in "\n\t\r\b\f":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[char])
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        elif draw.draw(st.integers(0, 5), label="escape") == 0:
            out.append(f"\\U{ord(char):08X}" if ord(char) > 0xFFFF else f"\\u{ord(char):04X}")
        else:
            out.append(char)
        if (
            multiline
            and i + 1 < len(text)
            and text[i + 1] not in " \t\n"
            and draw.draw(st.integers(0, 7), label="continuation") == 0
        ):
            out.append("\\\n   \n  ")
    return "".join(out)


def _embed(text: str, form: str, draw: st.DataObject) -> str | None:
    if form == "basic":
        return '"' + _escape_basic(text, multiline=False, draw=draw) + '"'
    if form == "multiline-basic":
        return '"""\n' + _escape_basic(text, multiline=True, draw=draw) + '"""'
    bad = any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in text if c != "\n")
    if form == "literal":
        if bad or "'" in text or "\n" in text:
            return None
        return "'" + text + "'"
    if bad or "'''" in text or text.endswith("'''"):
        return None
    return "'''\n" + text + "'''"


@settings(max_examples=300, deadline=None)
@given(
    text=_TEXT,
    form=st.sampled_from(["basic", "multiline-basic", "literal", "multiline-literal"]),
    crlf=st.booleans(),
    data=st.data(),
)
def test_any_text_round_trips_and_maps_back(
    text: str, form: str, crlf: bool, data: st.DataObject
) -> None:
    literal = _embed(text, form, data)
    if literal is None:
        return
    manifest = f'# before\n[[query]]\nname = "q"\nfilter = {literal}  # after\nlimit = 1\n'
    if crlf:
        manifest = manifest.replace("\n", "\r\n")
    assert toml_loads(manifest)["query"][0]["filter"] == text
    [query] = load_manifest_text(manifest)
    assert query.filter == text
    assert query.source == manifest
    previous_end = 0
    for i, char in enumerate(text):
        span = query.to_file(Span.from_offsets(text, i, i + 1))
        assert span.start >= previous_end
        previous_end = span.end
        piece = manifest[span.start : span.end]
        if piece != char:
            if piece == "\r\n":
                assert char == "\n"
            else:
                assert piece.startswith("\\")
                assert toml_loads(f'x = "{piece}"')["x"] == char
        check_line_column(manifest, span)


_BY_TABLE = [
    '# queries\n\n[[query]]\nname = "a"\nfilter = "k == 1"\n\n[[query]]  # second\nname = "b"\n'
    "limit = 5\nfilter = '''\ngeo_country == 'x'\n'''\n",
    # A [[query]] line inside a multi-line string: the tables cannot be read one by one.
    '[[query]]\nname = "a"\nfilter = """\n[[query]]\nk == 1"""\n',
    # Other tables, keys before the first query, a header with spaces: read whole.
    'x = 1\n[[query]]\nname = "a"\nfilter = "k == 1"\n',
    '[[query]]\nname = "a"\n[query.sub]\nfilter = "k == 1"\n',
    '[[ query ]]\nname = "a"\nfilter = "k == 1"\n[[query]]\nname = "a"\nfilter = "k == 2"\n',
]


@pytest.mark.parametrize("text", _BY_TABLE)
def test_a_memo_reads_a_manifest_as_the_whole_text_reads(text: str) -> None:
    def read(memo: ManifestMemo | None) -> object:
        try:
            queries = load_manifest_text(text, "m.toml", memo=memo)
        except FlowQLError as exc:
            return [str(d) for d in exc.diagnostics]
        # Where every character of each filter is in the text: the scan, table by table.
        return [
            (
                (repr(q), q.filter, q.fields, [str(d) for d in q.diagnostics]),
                (q.span, q.filter_span),
                [q.to_file(Span.from_offsets(q.filter, i, i + 1)) for i in range(len(q.filter))],
            )
            for q in queries
        ]

    memo = ManifestMemo()
    assert read(memo) == read(None)
    assert read(memo) == read(None)  # and again, from the memo
    # The one text that can be read table by table was, and its tables scanned.
    assert bool(memo.tables) == bool(memo.scans) == (text == _BY_TABLE[0])


def test_a_memo_parses_only_the_tables_that_changed() -> None:
    tables = [f'[[query]]\nname = "q{i}"\nfilter = "k == {i}"\n' for i in range(3)]
    memo = ManifestMemo()
    load_manifest_text("".join(tables), memo=memo)
    assert len(memo.tables) == 3
    tables[1] = tables[1].replace("k == 1", "k == 10")
    [_, second, _] = load_manifest_text("".join(tables), memo=memo)
    assert second.filter == "k == 10"
    assert len(memo.tables) == 4  # one more: the table that changed


# --- positions found table by table -----------------------------------------------------------

_TABLES = [
    # [[query]] tables only: a finding's positions come from a scan of its table alone.
    "".join(f"[[query]]\nname = 'q{i}'\nfilter = \"cdn == 'x{i}'\"\n\n" for i in range(5)),
    # A [[query]] line inside a multi-line string: the tables are not where the lines say.
    "[[query]]\nname = 'a'\nnote = '''\n[[query]]\n'''\nfilter = \"cdn == 'a'\"\n"
    "[[query]]\nname = 'b'\nfilter = \"cdn == 'b'\"\n",
    # A sub-table and a comment header: not tables only.
    "# queries\n[[query]]\nfilter = \"a == 'b'\"\n[query.params]\nx = 1\n"
    "[[query]]\nname = 'c'\nflow = '825'\nfilter = '''cdn == 'c' '''\n",
]


@pytest.mark.parametrize("text", _TABLES)
def test_positions_of_each_query_are_those_of_its_own_table(text: str) -> None:
    queries = load_manifest_text(text, "q.toml")
    assert len(queries) == len(toml_loads(text)["query"])
    headers = [i for i in range(len(text)) if text.startswith("[[query]]", i)]
    for query in queries:
        span = query.filter_span
        assert span is not None
        assert toml_loads("f = " + text[span.start : span.end])["f"] == query.filter
        check_line_column(text, span)
        header = query.span
        assert header is not None
        assert text[header.start : header.end] == "[[query]]"
        assert header.start in headers
        assert header.start < span.start
        assert mapped_strings(query)
        if query.flow:
            flow = query.field_spans()["flow"]
            assert text[flow.start : flow.end] == f"'{query.flow}'"
