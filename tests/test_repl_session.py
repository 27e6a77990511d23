"""The REPL's session and commands: settings, live checks, the current query, and what each
command prints. No terminal involved: these are the plain-Python parts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from flowql import parse
from flowql.errors import FlowQLError
from flowql.repl.commands import COMMANDS, execute, help_text, submit
from flowql.repl.session import CommandError, Session, parse_duration, parse_time
from flowql.targets import TargetError

NOW = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone.utc)


def session(**settings: str) -> Session:
    s = Session(clock=lambda: NOW)
    if "target" in settings:
        s.set_target(settings["target"])
    if "flow" in settings:
        s.set_flow(settings["flow"])
    return s


def run(s: Session, line: str) -> str:
    return execute(s, line).text


# --- settings ---------------------------------------------------------------------------------


def test_a_session_starts_on_the_demo_model_and_the_flow_api() -> None:
    s = session()
    assert s.target == "conviva-flow"
    assert s.model().name == "built-in demo model"
    assert s.flow is None
    assert str(s.time_range) == "last 15m"
    assert "cdn" in dict(s.keys())
    assert "login_method" in dict(s.keys())


def test_an_unknown_target_says_what_was_meant() -> None:
    s = session()
    with pytest.raises(TargetError) as caught:
        s.set_target("klavio")
    assert caught.value.code == "FQ603"
    assert caught.value.hint == "did you mean 'klaviyo'?"
    assert s.target == "conviva-flow"


def test_each_target_has_its_model() -> None:
    s = session(target="conviva-sessions")
    assert "geo_country_name" in dict(s.keys())
    assert s.dimension("is_ended") is not None
    assert s.dimension("tag_anything") is not None  # custom tags
    s.set_target("klaviyo-campaign-report")
    assert "campaign_id" in dict(s.keys())
    assert "flow_id" not in dict(s.keys())


def test_a_flow_by_id_or_by_a_word_of_its_label() -> None:
    s = session(flow="825")
    assert s.active_flow() == "825"
    assert "cdn" not in dict(s.keys())
    s.set_flow("video")
    assert s.flow == "142"
    s.set_flow(None)
    assert s.flow is None


def test_an_unknown_flow_lists_the_flows() -> None:
    s = session()
    with pytest.raises(CommandError) as caught:
        s.set_flow("826")
    assert caught.value.code == "FQ103"
    assert caught.value.hint is not None
    assert "did you mean 825?" in caught.value.hint
    assert "142 (Video Start)" in caught.value.hint


def test_flows_are_for_the_flow_api() -> None:
    s = session(target="conviva-sessions")
    with pytest.raises(CommandError, match="has no flows"):
        s.set_flow("825")


def test_group_by_takes_a_key_of_the_flow() -> None:
    s = session(flow="142")
    s.set_group_by("cdn")
    assert s.group_by == "cdn"
    with pytest.raises(CommandError) as caught:
        s.set_group_by("geo_contry")
    assert caught.value.code == "FQ101"
    assert caught.value.hint == "did you mean geo_country?"
    s.set_flow("825")  # cdn is not a key of the login flow: the grouping goes
    assert s.group_by is None


@pytest.mark.parametrize("bad", ["0", "501", "ten", "-1"])
def test_the_limit_is_1_to_500(bad: str) -> None:
    with pytest.raises(CommandError, match="from 1 to 500"):
        session().set_limit(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", dt.timedelta(minutes=15)),
        ("PT15M", dt.timedelta(minutes=15)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("7d", dt.timedelta(days=7)),
        ("P1DT2H", dt.timedelta(days=1, hours=2)),
        ("90s", dt.timedelta(seconds=90)),
    ],
)
def test_durations(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "15", "m", "1y", "0m", "PT"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(CommandError):
        parse_duration(bad)


def test_times_in_iso_8601_or_epoch() -> None:
    utc = dt.timezone.utc
    assert parse_time("2026-11-22T10:00:00Z") == dt.datetime(2026, 11, 22, 10, tzinfo=utc)
    assert parse_time("2026-11-22T10:00") == dt.datetime(2026, 11, 22, 10, tzinfo=utc)
    assert parse_time("2026-11-22T11:00+01:00") == dt.datetime(2026, 11, 22, 10, tzinfo=utc)
    assert parse_time("1795341600000") == dt.datetime(2026, 11, 22, 10, tzinfo=utc)
    assert parse_time("1795341600") == dt.datetime(2026, 11, 22, 10, tzinfo=utc)
    with pytest.raises(CommandError, match="not a time"):
        parse_time("yesterday")


def test_a_range_must_not_run_backwards() -> None:
    with pytest.raises(CommandError, match="ends before it starts"):
        session().set_range("2026-11-22T11:00Z", "2026-11-22T10:00Z")


def test_every_change_is_a_new_version() -> None:
    s = session()
    before = s.version
    s.set_last("5m")
    s.set_target("klaviyo")
    assert s.version == before + 2


def test_a_loaded_model_serves_the_targets_of_its_api(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(
        json.dumps(
            {
                "flow_models": [
                    {"id": "7", "label": "Checkout", "dimensions": [{"key": "store", "label": "S"}]}
                ]
            }
        )
    )
    s = session(flow="825")
    s.load_model(str(path))
    assert s.flow is None  # the new model has no flow 825
    assert list(s.keys()) == ["store"]
    s.set_target("conviva-sessions")  # another API: its built-in model
    assert "store" not in dict(s.keys())
    s.set_target("conviva-flow")
    s.load_model(None)
    assert "cdn" in dict(s.keys())


def test_a_model_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(FlowQLError) as caught:
        session().load_model(str(tmp_path / "missing.json"))
    assert caught.value.code == "FQ801"


# --- checks -----------------------------------------------------------------------------------


def test_a_clean_filter_compiles_and_has_its_url_measured() -> None:
    check = session(flow="142").check("geo_country == 'Spain' AND cdn ~~ 'akamai'")
    assert check.ok
    assert check.diagnostics == []
    assert check.compiled is not None
    assert check.compiled.filter == "geo_country == 'Spain' AND cdn ~~ 'akamai'"
    assert check.url_length is not None
    assert 100 < check.url_length < 200


def test_without_a_flow_there_is_no_flow_api_url() -> None:
    check = session().check("geo_country == 'Spain'")
    assert check.ok
    assert check.url_length is None
    assert check.request_note == "no flow is set"


def test_keys_are_checked_against_the_flow() -> None:
    check = session(flow="825").check("geo_country == 'Spain' AND cdn == 'x'")
    assert not check.ok
    assert [d.code for d in check.diagnostics] == ["FQ102"]
    span = check.diagnostics[0].span
    assert span is not None
    assert span.start == 27


def test_syntax_errors_and_unfinished_filters() -> None:
    s = session()
    wrong = s.check("geo_country = 'Spain'")
    assert [d.code for d in wrong.diagnostics] == ["FQ006"]
    assert not wrong.unfinished
    unfinished = s.check("(geo_country == 'Spain'")
    assert [d.code for d in unfinished.diagnostics] == ["FQ010"]
    assert unfinished.unfinished
    assert s.check("   ").diagnostics == []


def test_what_the_target_cannot_express_is_an_error_at_its_place() -> None:
    check = session(target="conviva-sessions").check("geo_country_name ~~ 'Spa'")
    assert [d.code for d in check.diagnostics] == ["FQ601"]
    assert check.compiled is None


def test_an_unknown_key_or_value_is_one_problem_not_two() -> None:
    s = session(target="klaviyo-flow-report")
    assert [d.code for d in s.check("flow_idd == 'x'").diagnostics] == ["FQ101"]
    assert [d.code for d in s.check("send_channel == 'fax'").diagnostics] == ["FQ204"]


def test_the_url_budget_is_checked() -> None:
    s = Session(url_limit=150, clock=lambda: NOW)
    s.set_flow("142")
    check = s.check("geo_country IN ('Spain', 'France', 'Germany', 'Italy', 'Portugal')")
    assert [d.code for d in check.diagnostics] == ["FQ501"]
    assert check.url_length is not None
    assert check.url_length > 150


def test_warnings_do_not_stop_a_filter() -> None:
    check = session().check("cdn == 'a' OR cdn == 'b' AND asn == '1'")
    assert [d.code for d in check.diagnostics] == ["FQ401"]
    assert check.ok


# --- the current query ------------------------------------------------------------------------


def test_no_query_without_a_filter() -> None:
    with pytest.raises(CommandError, match="no filter yet"):
        session().current_query()


def test_a_real_time_query() -> None:
    s = session(flow="142")
    s.set_group_by("cdn")
    s.filter = "geo_country == 'Spain'"
    query = s.current_query()
    assert query.request is not None
    assert query.request.method == "GET"
    assert query.url == (
        "https://api.conviva.com/flow-data/real-time-metrics/142/PT15M/group-by/cdn"
        "?filter=geo_country%20%3D%3D%20%27Spain%27"
    )
    assert query.endpoint == "real-time"
    assert (query.start, query.end) == (NOW - dt.timedelta(minutes=15), NOW)


def test_a_historical_query_in_epoch_milliseconds() -> None:
    s = session(flow="825")
    s.set_last("1h")
    url = s.current_query("geo_country == 'Spain'").url
    assert url is not None
    assert "/flow-data/metrics/825/1795339800000_to_1795343400000?filter=" in url
    s.set_range("2026-11-22T09:00:00Z", "2026-11-22T09:30:00Z")
    url = s.current_query("geo_country == 'Spain'").url
    assert url is not None
    assert "/flow-data/metrics/825/1795338000000_to_1795339800000?" in url


def test_a_range_longer_than_one_request_is_fetched_in_windows() -> None:
    s = session(flow="825")
    s.set_last("2h30m")
    query = s.current_query("geo_country == 'Spain'")
    assert query.windows == 3
    assert query.url is not None
    # The request shown is the first window's: from the start to a second before the next.
    assert "/flow-data/metrics/825/1795334400000_to_1795337999000?" in query.url
    shown = run(s, ":show geo_country == 'Spain'")
    assert "windows  3 requests of at most 1 hour; the first is shown" in shown
    check = s.check("geo_country == 'Spain'")
    assert check.ok
    # The URL measured is the longest of the windows' (they differ only in their times).
    assert check.url_length == len(query.url)
    sessions = session(target="conviva-sessions")
    sessions.set_last("7h")
    assert sessions.current_query("geo_country_name == 'Spain'").windows == 3
    sessions.set_last("3h")
    assert sessions.current_query("geo_country_name == 'Spain'").windows == 1


def test_a_sessions_query_with_dates_and_a_limit() -> None:
    s = session(target="conviva-sessions")
    s.set_limit("20")
    s.set_last("3h")
    query = s.current_query("geo_country_name IN ('Spain', 'France')")
    assert query.url == (
        "https://api.conviva.com/insights/3.0/sessions/content?start_date=2026-11-22T07:30:00Z"
        "&end_date=2026-11-22T10:30:00Z&limit=20&geo_country_name=Spain&geo_country_name=France"
    )


def test_a_klaviyo_report_request() -> None:
    s = session(target="klaviyo-flow-report")
    s.set_last("30d")
    query = s.current_query("send_channel == 'email'")
    # Without statistics and a conversion metric there is nothing to send yet: the problem is
    # kept for :run to raise, and :show to say.
    assert query.request is None
    assert query.problem is not None
    assert {d.code for d in query.problem.diagnostics} == {"FQ711", "FQ712"}
    s.set_statistics(["opens"])
    s.set_conversion("RESQ6t")
    query = s.current_query("send_channel == 'email'")
    assert query.request is not None
    assert query.request.method == "POST"
    assert query.url == "https://a.klaviyo.com/api/flow-values-reports"
    # The body :run sends, statistics and conversion metric included.
    assert query.request.body == {
        "data": {
            "type": "flow-values-report",
            "attributes": {
                "statistics": ["opens"],
                "timeframe": {"key": "last_30_days"},
                "conversion_metric_id": "RESQ6t",
                "filter": 'equals(send_channel,"email")',
            },
        }
    }
    s.set_last("2d")
    request = s.current_query("send_channel == 'email'").request
    assert request is not None
    assert request.body is not None
    assert request.body["data"]["attributes"]["timeframe"] == {  # type: ignore[index]
        "start": "2026-11-20T10:30:00+00:00",
        "end": "2026-11-22T10:30:00+00:00",
    }


def test_klaviyo_metrics_and_targets_without_a_request() -> None:
    s = session(target="klaviyo-metrics")
    query = s.current_query("integration.name == 'Shopify'")
    assert query.url == (
        "https://a.klaviyo.com/api/metrics?filter=equals%28integration.name%2C%22Shopify%22%29"
    )
    s.set_target("python")
    assert s.current_query("a == 1").request is None
    s.set_target("klaviyo")
    assert s.current_query("a == 'x'").request is None


# --- values for completion ------------------------------------------------------------------


def test_results_replace_the_previous_results() -> None:
    s = session()
    s.remember_values([{"cdn": "Akamai", "count": 3}])
    s.remember_values([{"cdn": "Fastly"}])
    assert s.values("cdn") == [("Fastly", "last results")]


def test_typed_values_are_kept_most_recent_last_and_once() -> None:
    s = session()
    s.remember_filter(parse("cdn IN ('a', 'b') AND NOT cdn == 'a' AND asn == 1"))
    assert s.values("cdn") == [("b", "typed before"), ("a", "typed before")]
    assert s.values("asn") == []


# --- commands -----------------------------------------------------------------------------------


def test_the_commands_and_their_help() -> None:
    assert list(COMMANDS) == [
        "target",
        "model",
        "flow",
        "keys",
        "metrics",
        "range",
        "load",
        "tz",
        "bucket",
        "last",
        "group-by",
        "limit",
        "show",
        "fix",
        "explain",
        "run",
        "export",
        "plot",
        "statistics",
        "conversion",
        "revision",
        "columns",
        "names",
        "expanded",
        "pager",
        "help",
        "quit",
    ]
    text = help_text()
    assert ":group-by [KEY|none]" in text
    assert ":run [FILTER]" in text
    assert ":export PATH [csv|json|ndjson|parquet] [--force]" in text
    assert ":plot [KIND] [METRIC...] [FILE]" in text
    assert "cancels a :run" in text
    assert help_text("show").startswith(":show [FILTER]\n")
    assert run(session(), ":help q").startswith(":quit")


def test_an_unknown_command_says_what_was_meant() -> None:
    with pytest.raises(CommandError) as caught:
        execute(session(), ":tagret klaviyo")
    assert caught.value.message == "unknown command ':tagret'"
    assert caught.value.hint == "did you mean :target?"
    with pytest.raises(CommandError, match="a command name goes after"):
        execute(session(), ":")


def test_target_lists_and_sets() -> None:
    s = session()
    listing = run(s, ":target")
    assert "* conviva-flow " in listing
    assert "  klaviyo-metrics " in listing
    assert run(s, ":target klaviyo-metrics") == "target klaviyo-metrics (Klaviyo metrics, 2 keys)"
    assert s.target == "klaviyo-metrics"


def test_flow_range_last_group_by_limit() -> None:
    s = session()
    assert (
        run(s, ":flow")
        == "no flow: keys of every flow; flows: 825 (Login Process), 142 (Video Start)"
    )
    assert run(s, ":flow 142").splitlines() == [
        "flow 142 Video Start (16 keys)",
        "  geo_country, geo_state, geo_city, device_operating_system, "
        "device_operating_system_version,",
        "  device_category, device_name, browser_name, browser_version, app_version, isp,",
        "  connection_type, cdn, asn, content_category, player_name",
        "  :keys shows their labels, :metrics the flow's 4 metrics",
    ]
    assert run(s, ":group-by cdn") == "group by cdn"
    assert run(s, ":group-by none") == "no grouping"
    assert run(s, ":last 1h") == "time last 1h"
    assert run(s, ":range 2026-11-22T09:00Z 2026-11-22T10:00Z") == (
        "time 2026-11-22T09:00:00Z to 2026-11-22T10:00:00Z"
    )
    with pytest.raises(CommandError, match="usage: :range START END"):
        execute(s, ":range 2026-11-22T09:00Z")
    assert run(s, ":limit 50") == "limit 50"
    assert run(s, ":limit none") == "no limit"
    assert run(s, ":flow none").startswith("no flow")


def test_submit_then_show_and_explain() -> None:
    s = session(flow="142")
    check, outcome = submit(s, "geo_country == 'Spain' AND NOT cdn IN ('a', 'b')")
    assert check.ok
    assert outcome is not None
    assert outcome.text == "geo_country == 'Spain' AND cdn != 'a' AND cdn != 'b'"
    assert s.filter == "geo_country == 'Spain' AND NOT cdn IN ('a', 'b')"
    shown = run(s, ":show").splitlines()
    assert shown[0] == "target   conviva-flow"
    assert shown[1] == "flow     142 Video Start"
    assert shown[3] == "filter   geo_country == 'Spain' AND cdn != 'a' AND cdn != 'b'"
    assert shown[4] == "endpoint conviva-flow real-time"
    assert shown[5] == "request"
    assert shown[6].startswith("  GET https://api.conviva.com/flow-data/real-time-metrics/142/")
    assert "  Authorization: ********" in shown
    assert shown[-1] == "URL      165 of 4,096 characters (4%)"
    explained = run(s, ":explain")
    assert explained.startswith("tree\n  And 1:1-1:49\n")
    assert "conviva-sessions         refused: FQ601 at 1:32" in explained
    assert "python                   a predicate over records" in explained


def test_a_filter_with_an_error_is_not_submitted() -> None:
    s = session()
    check, outcome = submit(s, "geo_country = 'x'")
    assert outcome is None
    assert check.errors[0].code == "FQ006"
    assert s.filter is None


def test_show_a_filter_given_inline_and_quit() -> None:
    s = session(target="conviva-sessions")
    assert "params   cdn=a" in run(s, ":show cdn == 'a'")
    assert execute(s, ":quit").quit
    assert execute(s, ":q").quit
    with pytest.raises(FlowQLError) as caught:
        execute(s, ":show cdn ~~ 'a'")
    assert caught.value.code == "FQ601"
