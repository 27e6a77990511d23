"""`:fix` in the REPL: the fixes the check's findings carry (the same edits as flowql check
--fix and the language server's code actions), made in the last filter typed."""

from __future__ import annotations

import pytest

from flowql.repl.commands import execute, submit
from flowql.repl.errors import CommandError
from flowql.repl.session import Session


def test_fix_repairs_the_last_filter_typed_and_submits_it() -> None:
    session = Session()
    check, outcome = submit(session, "geo_country = 'Spain' && device_category == Console")
    assert outcome is None  # errors: not the session's filter
    assert any(d.fix is not None for d in check.diagnostics)
    fixed = execute(session, ":fix")
    assert not fixed.failed
    assert fixed.notes[0].startswith("3 fixes made: ")
    assert session.filter == "geo_country == 'Spain' AND device_category == 'Console'"
    assert "geo_country" in fixed.text  # the compiled filter, as a submitted one shows
    # Fixing again finds nothing: fixing is idempotent.
    assert execute(session, ":fix").text == "nothing to fix"


def test_fix_takes_a_filter_and_keeps_unsafe_fixes_for_unsafe() -> None:
    session = Session()
    # A misspelt key: its fix changes what the filter matches, so only --unsafe makes it.
    assert execute(session, ":fix geo_contry == 'Spain'").text == (
        "nothing to fix (1 unsafe: :fix --unsafe)"
    )
    done = execute(session, ":fix --unsafe geo_contry == 'Spain'")
    assert session.filter == "geo_country == 'Spain'"
    assert done.notes == ["1 fix made: geo_country == 'Spain'"]


def test_errors_no_fix_repairs_are_shown_and_fail() -> None:
    session = Session()
    outcome = execute(session, ":fix geo_country = 'Spain' AND nothing_here == 'x'")
    assert outcome.failed
    assert outcome.text == "1 fix made: geo_country == 'Spain' AND nothing_here == 'x'"
    assert [d.code for d in outcome.warnings] == ["FQ101"]
    assert session.filter is None


def test_fix_without_a_filter_says_so() -> None:
    with pytest.raises(CommandError) as raised:
        execute(Session(), ":fix")
    assert raised.value.diagnostics[0].code == "FQ804"
