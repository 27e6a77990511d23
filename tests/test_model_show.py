"""`flowql model show`: golden outputs of each view (the flows, a flow, the Sessions V3
dimensions, Klaviyo's endpoints and an endpoint's fields), JSON, where the model comes from
(a file, the account, the built-in demo), and what bad input gets.

The long views are kept in tests/snapshots/model-show.*.txt: refresh them with
``FLOWQL_UPDATE_SNAPSHOTS=1 pytest tests/test_model_show.py`` and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flowql.cli import main

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("FLOWQL_UPDATE_SNAPSHOTS") == "1"
DEMO_NOTICE = (
    "flowql: CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET not set: showing the built-in demo model\n"
)


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["model", "show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            path.write_text(actual, encoding="utf-8")
            pytest.fail(f"snapshot {name} rewritten; review it and run again", pytrace=False)
        return
    assert path.exists(), f"no snapshot {name}: FLOWQL_UPDATE_SNAPSHOTS=1 creates it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs"


def test_the_flows_of_the_demo_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = show(capsys)
    assert code == 0
    assert err == DEMO_NOTICE  # which model it is, on stderr: stdout is the table alone
    assert out == (
        "built-in demo model: 2 flows\n"
        "\n"
        "flows\n"
        "id   label          dimensions  metrics\n"
        "---  -------------  ----------  -------\n"
        "825  Login Process  14          4\n"
        "142  Video Start    16          4\n"
        "\n"
        "--flow ID shows a flow's dimensions and metrics\n"
    )


def test_a_flows_dimensions_and_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = show(capsys, "--flow", "825")
    assert code == 0
    assert err == DEMO_NOTICE
    assert out == (
        "flow 825 Login Process (built-in demo model)\n"
        "\n"
        "dimensions (14)\n"
        "key                              label                     type\n"
        "-------------------------------  ------------------------  ------\n"
        "geo_country                      Countries                 string\n"
        "geo_state                        States                    string\n"
        "geo_city                         Cities                    string\n"
        "device_operating_system          Device Operating Systems  string\n"
        "device_operating_system_version  Device OS Versions        string\n"
        "device_category                  Device Categories         string\n"
        "device_name                      Device Names              string\n"
        "browser_name                     Browsers                  string\n"
        "browser_version                  Browser Versions          string\n"
        "app_version                      App Versions              string\n"
        "isp                              ISPs                      string\n"
        "connection_type                  Connection Types          string\n"
        "login_method                     Login Methods             string\n"
        "identity_provider                Identity Providers        string\n"
        "\n"
        "metrics (4)\n"
        "key      label                   unit   type\n"
        "-------  ----------------------  -----  --------\n"
        "m_825_1  Login Process Complete  count  complete\n"
        "m_825_2  Login Process Duration  sec    duration\n"
        "m_825_3  Login Process Init      count  init\n"
        "m_825_4  Login Process Success   count  success\n"
    )


def test_a_flow_by_a_word_of_its_label(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = show(capsys, "--flow", "video")
    assert code == 0
    assert out.startswith("flow 142 Video Start (built-in demo model)\n")
    assert "cdn                              CDNs" in out
    assert "login_method" not in out


@pytest.mark.parametrize(
    ("args", "snapshot"),
    [
        (("--sessions",), "model-show.sessions.txt"),
        (("conviva-sessions",), "model-show.sessions.txt"),
        (("klaviyo",), "model-show.klaviyo.txt"),
        (("klaviyo", "flow-values"), "model-show.klaviyo-flow-values.txt"),
        (("klaviyo", "flow-series", "--revision", "2024-10-15"), "model-show.klaviyo-2024.txt"),
        (("klaviyo", "segment-values"), "model-show.klaviyo-segment-values.txt"),
    ],
)
def test_the_sessions_and_klaviyo_views(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], snapshot: str
) -> None:
    code, out, err = show(capsys, *args)
    assert code == 0, err
    check_snapshot(snapshot, out)


def test_the_klaviyo_views_say_what_each_revision_takes(capsys: pytest.CaptureFixture[str]) -> None:
    _, new, _ = show(capsys, "klaviyo", "flow-values")
    _, old, _ = show(capsys, "klaviyo", "flow-values", "--revision", "2024-10-15")
    assert "(Klaviyo revision 2026-07-15)" in new.splitlines()[0]
    assert "(Klaviyo revision 2024-10-15)" in old.splitlines()[0]
    # The 2024-10-15 flow report takes no group_by and no whatsapp channel.
    assert "group by (10)" in new
    assert "group by" not in old
    assert "whatsapp" in new
    assert "whatsapp" not in old
    assert "a conversion metric (--conversion-metric-id ID)" in new
    _, metrics, _ = show(capsys, "klaviyo", "metrics")
    assert "integration.name      scalar  ==         equals" in metrics
    assert "statistics" not in metrics


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = show(capsys, "--flow", "825", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["api"], data["model"], data["source"]) == (
        "conviva-flow",
        "built-in demo model",
        "built-in",
    )
    assert data["dimensions"][0] == {"key": "geo_country", "label": "Countries", "type": "string"}
    assert data["metrics"][1] == {
        "key": "m_825_2",
        "label": "Login Process Duration",
        "unit": "sec",
        "type": "duration",
    }
    _, out, _ = show(capsys, "--format", "json")
    assert json.loads(out)["flows"] == [
        {"id": "825", "label": "Login Process", "dimensions": 14, "metrics": 4},
        {"id": "142", "label": "Video Start", "dimensions": 16, "metrics": 4},
    ]
    _, out, _ = show(capsys, "klaviyo", "form-series", "--format", "json")
    data = json.loads(out)
    assert (data["api"], data["revision"], data["endpoint"]) == (
        "klaviyo",
        "2026-07-15",
        "form-series",
    )
    assert data["filter"][0] == {
        "field": "form_id",
        "kind": "scalar",
        "operators": "==, IN",
        "klaviyo": "equals, any",
    }
    assert {"interval": "hourly", "longest timeframe": "7 days"} in data["intervals"]
    _, out, _ = show(capsys, "--sessions", "--format", "json")
    data = json.loads(out)
    assert {"key": "is_ended", "label": "is ended", "type": "boolean"} in data["dimensions"]
    assert data["note"] == "and any custom tag, as tag_<name> (a string)"


def test_a_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.json"
    path.write_text(
        json.dumps(
            {
                "flow_models": [
                    {
                        "id": 7,
                        "label": "Checkout",
                        "dimensions": [{"key": "geo_country", "label": "Country"}],
                        "metrics": [{"key": "m_7_1", "label": "Paid", "unit": "count"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    code, out, err = show(capsys, "--model", str(path), "--flow", "7")
    assert code == 0
    assert err == ""  # the heading names the file
    assert out.splitlines()[0] == f"flow 7 Checkout ({path})"
    assert "m_7_1  Paid   count" in out
    sessions = tmp_path / "dimensions.json"
    sessions.write_text('{"dimensions": [{"name": "Country", "query_filter": "?geo"}]}')
    code, _, err = show(capsys, "--model", str(sessions))
    assert code == 2
    assert "is a conviva-sessions model, not conviva-flow's" in err
    assert "show it with --sessions" in err
    code, out, _ = show(capsys, "--sessions", "--model", str(sessions))
    assert code == 0
    assert ["geo", "Country", "string"] in [line.split() for line in out.splitlines()]
    code, _, err = show(capsys, "--model", str(tmp_path / "missing.json"))
    assert code == 2
    assert "error[FQ801]" in err
    assert "no such data model file" in err


def test_the_configurations_model_when_no_file_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = {"flow_models": [{"id": 9, "label": "Signup", "metrics": [], "dimensions": []}]}
    (tmp_path / "team-model.json").write_text(json.dumps(model), encoding="utf-8")
    (tmp_path / "flowql.toml").write_text('model = "team-model.json"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = show(capsys)
    assert code == 0
    assert "flowql: showing " in err
    assert "team-model.json (the configuration's model)" in err
    assert "Signup" in out
    # Another API's model is its own: the configuration's Flow model is not used for Sessions.
    code, out, err = show(capsys, "--sessions")
    assert code == 0
    assert "the configuration's model" not in err


def test_the_accounts_model_when_credentials_are_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowql.connection import SANDBOX_CLIENT_ID, SANDBOX_SECRET
    from flowql.sandbox import Sandbox

    monkeypatch.setenv("CONVIVA_CLIENT_ID", SANDBOX_CLIENT_ID)
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", SANDBOX_SECRET)
    with Sandbox(seed=0) as sandbox:
        code, out, err = show(capsys, "--base-url", sandbox.conviva_url, "--format", "json")
        assert code == 0, err
        assert err == "flowql: showing the account's data model\n"
        data = json.loads(out)
        assert data["source"] == "account"
        assert data["flows"][0]["id"] == "825"
        code, out, err = show(capsys, "--sessions", "--base-url", sandbox.conviva_url)
        assert code == 0, err
        assert err == "flowql: showing the account's Sessions V3 dimensions\n"
        assert "geo_country_name" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--flow", "82"),
            "error[FQ103]: the data model has no flow '82'\n"
            " --> <command line>:1:26\n"
            "  |\n"
            "1 | flowql model show --flow 82\n"
            "  |                          ^^\n"
            "  |\n"
            "  = help: did you mean 825? its flows are 825 (Login Process), 142 (Video Start)\n",
        ),
        (
            ("klaviyo", "flow-valus"),
            "error[FQ701]: klaviyo has no endpoint 'flow-valus'\n"
            " --> <command line>:1:27\n"
            "  |\n"
            "1 | flowql model show klaviyo flow-valus\n"
            "  |                           ^^^^^^^^^^\n"
            "  |\n"
            "  = help: did you mean 'flow-values'?\n",
        ),
        (("klavio",), "  = help: did you mean 'klaviyo'?\n"),
        (("flowxo",), "error[FQ701]: flowxo has no data model: its queries take no filter\n"),
        (("klaviyo", "flow-triggers"), "flow-triggers takes no filter"),
        (("klaviyo", "--revision", "2019-01-01"), "error[FQ718]: flowql knows no Klaviyo"),
        (("klaviyo", "--flow", "825"), "--flow is for conviva-flow flows, not klaviyo"),
        (("--sessions", "--flow", "825"), "--flow is for conviva-flow flows, not conviva-sessions"),
        (("--revision", "2026-07-15"), "--revision is for klaviyo, not conviva-flow"),
        (("conviva-flow", "historical"), "conviva-flow takes no ENDPOINT here"),
        (("klaviyo", "--sessions"), "--sessions shows the conviva-sessions dimensions"),
    ],
)
def test_bad_input_is_a_diagnostic_with_a_hint(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    code, out, err = show(capsys, *args)
    assert code == 2
    assert out == ""
    assert expected in err
