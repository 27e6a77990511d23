"""The inline error mark (flowql.repl.marks): which characters of which line it covers, and
the processor that styles them, given the live check's answer for the text."""

from __future__ import annotations

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.layout.processors import TransformationInput

from flowql.ast import Span
from flowql.repl.marks import MARK_STYLE, ErrorMark, error_span, marked_columns
from flowql.repl.session import Check, Session


def span_of(session: Session, text: str) -> Span | None:
    return error_span(session.check(text))


def test_the_first_error_is_marked() -> None:
    session = Session()
    session.set_flow("825")
    span = span_of(session, "geo_contry == 'Spain' AND browser_nme == 'x'")
    assert span is not None
    assert (span.start, span.end) == (0, 10)  # the first of the two unknown keys


def test_nothing_is_marked_while_the_filter_is_being_typed_or_when_it_is_right() -> None:
    session = Session()
    assert span_of(session, "geo_country == 'Spain'") is None
    assert span_of(session, "(geo_country == 'Spain' OR") is None  # unfinished
    assert span_of(session, "geo_country ~") is None  # an operator half typed
    assert span_of(session, "") is None


def test_the_columns_of_each_line_a_span_covers() -> None:
    # "a == 1 AND\n  (b\n== 2" with a span from line 1 column 8 to line 3 column 3.
    span = Span(7, 18, 1, 8, 3, 3)
    assert marked_columns(span, 0, "a == 1 AND") == (7, 10)
    assert marked_columns(span, 1, "  (b") == (0, 4)
    assert marked_columns(span, 2, "== 2") == (0, 2)
    assert marked_columns(span, 3, "") is None
    assert marked_columns(Span(0, 3, 1, 1, 1, 4), 0, "abc == 1") == (0, 3)
    assert marked_columns(Span(0, 3, 2, 1, 2, 4), 0, "abc == 1") is None


def transform(mark: ErrorMark, text: str, fragments: StyleAndTextTuples) -> StyleAndTextTuples:
    ti = TransformationInput(BufferControl(), Document(text), 0, lambda i: i, fragments, 80, 5)
    return mark.apply_transformation(ti).fragments


def test_the_processor_styles_the_span_and_only_for_the_text_it_was_checked_for() -> None:
    session = Session()
    text = "geo_country == 'Spain' AND cdn = 'x'"
    answers: dict[str, Check] = {text: session.check(text)}
    mark = ErrorMark(answers.get)
    fragments: StyleAndTextTuples = [("class:k", "geo_country == 'Spain' AND "), ("", "cdn = 'x'")]
    out = transform(mark, text, fragments)
    assert "".join(t for s, t, *_ in out) == text
    assert [(s, t) for s, t, *_ in out if MARK_STYLE in s] == [(f" {MARK_STYLE}", "=")]
    # Another text (the check has not answered for it yet): the fragments as they came.
    assert transform(mark, text + " ", fragments) == fragments
