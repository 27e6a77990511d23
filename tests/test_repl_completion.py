"""Completion at the cursor: what the grammar allows there, filled in from the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import noisy_texts, seeded_filters

from flowql import parse
from flowql.lookahead import lookahead, scan
from flowql.repl.commands import Completions
from flowql.repl.completion import Candidate, complete
from flowql.repl.session import Session


def candidates(text: str, session: Session | None = None) -> list[Candidate]:
    return complete(text, Completions(session or Session()))


def texts(text: str, session: Session | None = None) -> list[str]:
    return [c.text for c in candidates(text, session)]


def test_a_half_typed_key_completes_to_the_keys_that_start_with_it() -> None:
    found = candidates("geo_cou")
    assert [c.text for c in found] == ["geo_country"]
    assert found[0].start == -len("geo_cou")
    assert found[0].meta == "Countries"
    assert found[0].kind == "key"


def test_keys_that_contain_the_word_come_after_those_that_start_with_it() -> None:
    assert texts("country")[:1] == ["geo_country"]
    assert texts("geo_c") == ["geo_city", "geo_country"]
    assert texts("GEO_CI") == ["geo_city"]


def test_at_the_start_keys_and_not_may_come() -> None:
    found = texts("")
    assert "geo_country" in found
    assert "cdn" in found  # no flow set: the keys of every flow
    assert found[-1] == "NOT"
    assert "AND" not in found


def test_keys_follow_the_flow() -> None:
    session = Session()
    session.set_flow("825")
    assert "cdn" not in texts("", session)
    assert texts("login_m", session) == ["login_method"]


def test_after_a_key_come_the_operators_then_in_and_not_in() -> None:
    found = candidates("geo_country ")
    assert [c.text for c in found] == ["==", "!=", "~~", "!~", "IN", "NOT IN"]
    assert found[2].meta == "contains"
    assert all(c.start == 0 for c in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("geo_country ~", ["~~"]),
        ("geo_country =", ["=="]),
        ("geo_country !", ["!=", "!~"]),
        ("geo_country i", ["IN"]),
        ("geo_country n", ["NOT IN"]),
        ("geo_country NOT ", ["IN"]),
        ("geo_country NOT i", ["IN"]),
    ],
)
def test_a_half_typed_operator_completes(text: str, expected: list[str]) -> None:
    found = candidates(text)
    assert [c.text for c in found] == expected
    assert all(c.start == -1 for c in found if not text.endswith(" "))


def test_after_a_comparison_come_and_or_and_a_closing_parenthesis_when_one_is_open() -> None:
    assert texts("geo_country == 'Spain' ") == ["AND", "OR"]
    assert texts("(geo_country == 'Spain' ") == ["AND", "OR", ")"]
    assert texts("geo_country == 'Spain' a") == ["AND"]
    assert texts("geo_country == 'Spain' o") == ["OR"]


def test_a_word_right_after_a_value_gets_a_space_before_it() -> None:
    assert texts("geo_country == 'Spain'") == [" AND", " OR"]
    assert texts("(a == 1)") == [" AND", " OR"]


def test_in_a_list_come_a_comma_and_the_closing_parenthesis() -> None:
    assert texts("cdn IN ('a'") == [",", ")"]
    assert texts("cdn IN ") == ["("]
    assert texts("cdn IN") == ["IN"]  # the word being typed


def test_values_come_from_filters_typed_before() -> None:
    session = Session()
    session.remember_filter(parse("geo_country IN ('Spain', 'Sweden')"))
    found = candidates("geo_country == ", session)
    assert [c.text for c in found] == ["'Spain'", "'Sweden'"]
    assert found[0].meta == "typed before"


def test_inside_an_open_string_the_values_of_the_key_that_start_with_it() -> None:
    session = Session()
    session.remember_values([{"geo_country": "Spain"}, {"geo_country": "Sweden"}, {"asn": 7}])
    found = candidates("device_os == 'x' AND geo_country == 'Sp", session)
    assert [c.text for c in found] == ["'Spain'"]
    assert found[0].start == -len("'Sp")
    assert found[0].meta == "last results"
    # The same in a list, and with double quotes (kept).
    assert texts('geo_country IN ("Sw', session) == ['"Sweden"']
    assert texts("geo_country IN ('Spain', 'sw", session) == ["'Sweden'"]


def test_an_unquoted_value_is_completed_quoted() -> None:
    session = Session()
    session.remember_values([{"geo_country": "United Kingdom"}])
    found = candidates("geo_country == Uni", session)
    assert [(c.text, c.start) for c in found] == [("'United Kingdom'", -3)]


def test_values_are_quoted_and_escaped() -> None:
    session = Session()
    session.remember_values([{"isp": "O'Brien \\ Sons"}])
    assert texts("isp == ", session) == ["'O\\'Brien \\\\ Sons'"]
    assert texts('isp == "O', session) == ['"O\'Brien \\\\ Sons"']


def test_a_value_source_is_asked_and_a_broken_one_is_ignored() -> None:
    session = Session()

    def sandbox(key: str) -> list[str]:
        return ["Akamai", "Fastly"] if key == "cdn" else []

    def broken(key: str) -> list[str]:
        raise RuntimeError("the sandbox is down")

    session.add_value_source("sandbox", sandbox)
    session.add_value_source("broken", broken)
    found = candidates("cdn == ", session)
    assert [(c.text, c.meta) for c in found] == [("'Akamai'", "sandbox"), ("'Fastly'", "sandbox")]


def test_a_field_with_fixed_values_and_operators() -> None:
    session = Session(target="klaviyo-flow-report")
    assert texts("send_channel ", session) == ["==", "IN"]
    found = candidates("send_channel == ", session)
    assert [c.text for c in found] == ["'email'", "'sms'", "'push-notification'", "'whatsapp'"]
    assert found[0].meta == "model"
    assert texts("send_channel IN ('email', 'p", session) == ["'push-notification'"]


def test_a_boolean_key_takes_true_and_false() -> None:
    session = Session(target="conviva-sessions")
    assert texts("is_ended == ", session) == ["true", "false"]
    assert texts("is_ended == f", session) == ["false"]


@pytest.mark.parametrize(
    "text",
    [
        "geo_country == 'Spain' # a note",
        "geo_country = 'x' AND ",  # an error before the cursor: nothing to go on
        "geo_country == 'Spain' AND 'x",  # a string where a key goes
    ],
)
def test_nothing_to_offer(text: str) -> None:
    assert texts(text) == []


def test_a_multi_line_filter_completes_on_its_last_line() -> None:
    assert texts("(geo_country == 'Spain' OR\n  geo_ci") == ["geo_city"]


@st.composite
def prefixes(draw: st.DrawFn) -> str:
    text = draw(seeded_filters())
    return text[: draw(st.integers(0, len(text)))]


@settings(max_examples=300, deadline=None)
@given(prefixes())
def test_every_candidate_keeps_the_text_the_start_of_a_filter(prefix: str) -> None:
    session = Session()
    session.remember_values([{"geo_country": "Spain"}])
    for candidate in candidates(prefix, session):
        assert candidate.start <= 0
        completed = prefix[: len(prefix) + candidate.start] + candidate.text
        tokens, _ = scan(completed)
        assert lookahead(tokens).accepts is not None, (prefix, candidate)


@settings(max_examples=300, deadline=None)
@given(noisy_texts())
def test_completion_never_fails(text: str) -> None:
    for candidate in candidates(text):
        assert -len(text) <= candidate.start <= 0


# --- commands ---------------------------------------------------------------------------------


def test_commands_complete_after_a_colon() -> None:
    found = candidates(":")
    names = [c.text for c in found]
    assert names[:3] == [":target", ":model", ":flow"]
    assert ":run" in names
    assert ":export" in names
    assert candidates(":gr")[0].text == ":group-by"
    assert candidates(":gr")[0].start == -3
    assert candidates(":ex")[0].meta.startswith("the syntax tree")


def test_command_arguments_complete() -> None:
    found = candidates(":target klaviyo-f")
    assert [c.text for c in found] == ["klaviyo-flow-report", "klaviyo-form-report"]
    assert found[0].start == -len("klaviyo-f")
    assert [(c.text, c.meta) for c in candidates(":flow ")][:2] == [
        ("825", "Login Process"),
        ("142", "Video Start"),
    ]
    assert [c.text for c in candidates(":group-by geo_ci")] == ["geo_city"]
    assert [c.text for c in candidates(":help sh")] == ["show"]
    assert "15m" in [c.text for c in candidates(":last ")]


def test_a_filter_after_run_show_or_explain_completes_as_a_filter() -> None:
    for command in (":run", ":show", ":explain", ":fix"):
        found = candidates(f"{command} geo_c")
        assert [(c.text, c.start) for c in found] == [("geo_city", -5), ("geo_country", -5)]
    assert "AND" in texts(":run geo_country == 'Spain' ")


def test_the_arguments_of_the_run_settings_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowql.results import Rows

    session = Session()
    session.set_target("klaviyo-form-report")
    # The report's own statistics, less those already given.
    assert texts(":statistics viewed_form submit", session)[:2] == ["submit_rate", "submits"]
    assert "viewed_form" not in texts(":statistics viewed_form ", session)
    session.metrics.update({"mjZe6P": "Placed Order", "0rCBvz": "Sent SMS"})
    assert [(c.text, c.meta) for c in candidates(":conversion ", session)] == [
        ("0rCBvz", "Sent SMS"),
        ("mjZe6P", "Placed Order"),
        ("none", "unset"),
    ]
    session.set_result(Rows(api="klaviyo", endpoint="metrics", rows=({"id": "a", "name": "b"},)))
    assert texts(":columns id ", session) == ["name", "all"]
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    assert texts(":export ", session) == ["out/"]
    assert texts(":export out/rows.csv ", session) == ["csv", "json", "--force"]


def test_model_paths_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "acme.json").write_text("{}")
    (tmp_path / "models" / "notes.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    assert [c.text for c in candidates(":model ")] == ["demo", "models/"]
    assert [c.text for c in candidates(":model models/")] == ["models/acme.json"]
    assert candidates(":model models/ac")[0].start == -len("models/ac")
