"""The bottom toolbar's first line (flowql.repl.toolbar): the live check's first finding with
its hint, as Enter's message words it, fitted to the terminal's width."""

from __future__ import annotations

import pytest
from prompt_toolkit.utils import get_cwidth

from flowql.repl.session import Session
from flowql.repl.toolbar import finding, fit, status_line

UNKNOWN_KEY = "geo_contry == 'Spain'"


def line(session: Session, text: str, width: int | None, *, fresh: bool = True) -> str:
    return "".join(t for _, t, *_ in status_line(session.check(text), fresh, None, width))


@pytest.fixture
def session() -> Session:
    session = Session()
    session.set_flow("825")
    return session


def test_an_error_comes_with_its_did_you_mean(session: Session) -> None:
    assert line(session, UNKNOWN_KEY, None) == (
        " error FQ101 1:1: 'geo_contry' is not a dimension of flow 825 (Login Process)"
        " (did you mean 'geo_country'?)"
    )
    [fragment] = status_line(session.check(UNKNOWN_KEY), True, None, None)
    assert fragment[0] == "class:toolbar.error"


def test_the_toolbar_words_a_finding_as_enter_does(session: Session) -> None:
    [error] = session.check(UNKNOWN_KEY).errors
    assert finding(error) == (
        "'geo_contry' is not a dimension of flow 825 (Login Process) (did you mean 'geo_country'?)"
    )
    assert f" error {error.code} 1:1: {finding(error)}" == line(session, UNKNOWN_KEY, None)


@pytest.mark.parametrize("width", [100, 80, 72])
def test_in_a_narrow_terminal_the_message_gives_way_to_the_did_you_mean(
    session: Session, width: int
) -> None:
    shown = line(session, UNKNOWN_KEY, width)
    assert get_cwidth(shown) <= width
    assert shown.startswith(" error FQ101 1:1: 'geo_contry' is not a")
    assert shown.endswith("... (did you mean 'geo_country'?)")


def test_a_long_hint_gives_way_to_the_message() -> None:
    session = Session()
    text = "geo_country == 'Spain' AND cdn = 'x'"
    assert line(session, text, None) == (
        " error FQ006 1:32: a single '=' is not a FlowQL operator"
        " (compare with '==' (equals) or '!=' (does not equal))"
    )
    shown = line(session, text, 80)
    assert (
        shown == " error FQ006 1:32: a single '=' is not a FlowQL operator (compare with '=='...)"
    )
    assert get_cwidth(shown) <= 80


def test_the_count_of_the_others_and_the_stale_mark_stay_at_the_end(session: Session) -> None:
    text = "geo_contry == 'Spain' AND browser_nme == 'Firefox' AND geo_stat == 'x'"
    shown = line(session, text, 90, fresh=False)
    assert shown.endswith(" (+2 more) ...")
    assert "(did you mean 'geo_country'?)" in shown
    assert get_cwidth(shown) <= 90


def test_an_unfinished_filter_shows_no_hint(session: Session) -> None:
    # What may come next is the completion menu's to offer.
    assert line(session, "geo_country", None) == (
        " unfinished 1:12: the filter ends after a key; expected an operator"
    )


def test_a_line_that_fits_is_left_whole() -> None:
    assert fit(" a: ", "message", " (hint)", " ...", 100) == " a: message (hint) ..."
    assert fit(" a: ", "message", " (hint)", "", None) == " a: message (hint)"


def test_wide_characters_count_for_two_cells() -> None:
    message = "'\u56fd\u5bb6\u56fd\u5bb6\u56fd\u5bb6\u56fd\u5bb6\u56fd\u5bb6' is not a key"
    shown = fit(" error FQ101 1:1: ", message, " (did you mean 'country'?)", "", 64)
    assert get_cwidth(shown) <= 64
    assert shown.endswith("... (did you mean 'country'?)")


def test_a_very_narrow_terminal_cuts_the_line() -> None:
    shown = fit(" error FQ101 1:1: ", "'geo_contry' is unknown", " (did you mean 'x'?)", "", 30)
    assert get_cwidth(shown) <= 30
    assert shown.startswith(" error FQ101")
    assert shown.endswith("...")
