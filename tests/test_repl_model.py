"""The REPL's look at the data model: `:keys`, `:metrics`, and `:flow` naming its keys, with
the completion of their arguments. Plain Python, no terminal."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from flowql.repl.batch import run_script
from flowql.repl.commands import Completions, execute, help_text
from flowql.repl.completion import complete
from flowql.repl.session import CommandError, Session

NOW = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone.utc)


def session() -> Session:
    return Session(clock=lambda: NOW)


def run(s: Session, line: str) -> str:
    return execute(s, line).text


def rows(text: str) -> list[list[str]]:
    """The table's rows below its header and rule, split on runs of two spaces."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in lines[rule + 1 :]]


def test_keys_of_the_current_flow() -> None:
    s = session()
    s.set_flow("825")
    text = run(s, ":keys")
    assert text.splitlines()[:3] == [
        "flow 825 Login Process: 14 keys",
        "key                              label                     type",
        "-------------------------------  ------------------------  ------",
    ]
    assert rows(text)[0] == ["geo_country", "Countries", "string"]
    assert rows(text)[-1] == ["identity_provider", "Identity Providers", "string"]
    assert len(rows(text)) == 14


def test_keys_of_a_flow_given_by_id_or_label_leave_the_setting_alone() -> None:
    s = session()
    assert run(s, ":keys video").startswith("flow 142 Video Start: 16 keys\n")
    assert ["cdn", "CDNs", "string"] in rows(run(s, ":keys 142"))
    assert s.flow is None


def test_keys_of_every_flow_say_which_flows_have_each() -> None:
    text = run(session(), ":keys")
    assert text.splitlines()[0] == "built-in demo model: 18 keys of every flow"
    assert text.splitlines()[1].split() == ["key", "label", "type", "flows"]
    table = rows(text)
    assert ["geo_country", "Countries", "string", "825, 142"] in table
    assert ["login_method", "Login Methods", "string", "825"] in table
    assert ["cdn", "CDNs", "string", "142"] in table


def test_keys_of_other_targets() -> None:
    s = session()
    s.set_target("conviva-sessions")
    text = run(s, ":keys")
    assert text.splitlines()[0] == "built-in Sessions V3 demo dimensions: 32 keys"
    assert ["is_ended", "is ended", "boolean"] in rows(text)
    assert text.endswith("\nand any custom tag, as tag_<name>")
    s.set_target("klaviyo-flow-report")
    text = run(s, ":keys")
    assert text.splitlines()[1].split() == ["key", "label", "type", "operators", "values"]
    assert [
        "send_channel",
        "send channel",
        "string",
        "==, IN",
        "email, sms, push-notification, whatsapp",
    ] in rows(text)


def test_an_unknown_flow_says_what_was_meant() -> None:
    with pytest.raises(CommandError) as caught:
        execute(session(), ":keys 82")
    assert caught.value.code == "FQ103"
    assert caught.value.message == "the data model has no flow '82'"
    assert (
        caught.value.hint
        == "did you mean 825? its flows are 825 (Login Process), 142 (Video Start)"
    )
    assert caught.value.in_line  # placed at the argument
    s = session()
    s.set_target("conviva-sessions")
    with pytest.raises(CommandError, match="has no flows") as caught:
        execute(s, ":keys 825")
    assert caught.value.hint == "flows are for the conviva-flow target: :target conviva-flow"


def test_metrics_with_labels_and_units() -> None:
    s = session()
    s.set_flow("825")
    text = run(s, ":metrics")
    assert text.splitlines()[0] == "flow 825 Login Process: 4 metrics"
    assert text.splitlines()[1].split() == ["key", "label", "unit", "type"]
    assert rows(text) == [
        ["m_825_1", "Login Process Complete", "count", "complete"],
        ["m_825_2", "Login Process Duration", "sec", "duration"],
        ["m_825_3", "Login Process Init", "count", "init"],
        ["m_825_4", "Login Process Success", "count", "success"],
    ]
    assert rows(run(s, ":metrics 142"))[1] == ["m_142_2", "Video Start Duration", "sec", "duration"]


def test_metrics_of_every_flow() -> None:
    text = run(session(), ":metrics")
    assert text.splitlines()[0] == "built-in demo model: 8 metrics of every flow"
    assert [r[-1] for r in rows(text)] == ["825"] * 4 + ["142"] * 4


def test_metrics_where_the_model_has_none() -> None:
    s = session()
    s.set_target("klaviyo-flow-report")
    with pytest.raises(CommandError) as caught:
        execute(s, ":metrics")
    assert caught.value.message == "the Klaviyo flow-report has no metrics"
    assert caught.value.hint == (
        "a flow-values report's statistics are its numbers: :statistics and Tab lists them"
    )
    s.set_target("conviva-sessions")
    with pytest.raises(CommandError) as caught:
        execute(s, ":metrics")
    assert caught.value.hint == "metrics are the Flow API's: :target conviva-flow"


def test_the_tables_fit_the_width_of_the_terminal() -> None:
    s = session()
    s.width = 40
    text = run(s, ":keys")
    assert all(len(line) <= 40 for line in text.splitlines()[1:])


def test_flow_names_its_keys_and_points_to_keys_and_metrics() -> None:
    assert run(session(), ":flow 825").splitlines() == [
        "flow 825 Login Process (14 keys)",
        "  geo_country, geo_state, geo_city, device_operating_system, "
        "device_operating_system_version,",
        "  device_category, device_name, browser_name, browser_version, app_version, isp,",
        "  connection_type, login_method, identity_provider",
        "  :keys shows their labels, :metrics the flow's 4 metrics",
    ]


def test_help_and_completion_of_the_new_commands() -> None:
    text = help_text()
    assert ":keys [FLOW]" in text
    assert ":metrics [FLOW]" in text
    assert help_text("metrics").startswith(":metrics [FLOW]\n  Lists the metrics")
    source = Completions(session())
    for command in (":keys ", ":metrics "):
        assert [(c.text, c.meta) for c in complete(command, source)] == [
            ("825", "Login Process"),
            ("142", "Video Start"),
        ]
    assert [c.text for c in complete(":ke", source)] == [":keys"]
    assert [c.text for c in complete(":metrics 1", source)] == ["142"]


def test_a_script() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_script(session(), io.StringIO(":flow 142\n:metrics\n:keys nowhere\n"), out, err)
    assert code == 1  # the unknown flow stops the script
    assert "flow 142 Video Start: 4 metrics\n" in out.getvalue()
    assert err.getvalue().startswith("error[FQ103]: the data model has no flow 'nowhere'")
