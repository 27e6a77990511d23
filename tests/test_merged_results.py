"""Merged, labelled results: windows merged into one row per group, ``--bucket``, labels and
units from the data model, times in a zone (issue 13).

The golden table of the README's grouped query is kept in
tests/snapshots/query.readme-grouped.txt: refresh it with ``FLOWQL_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowql.cli import main
from flowql.client import ConvivaFlowClient, RetryPolicy
from flowql.display import table
from flowql.merging import (
    BucketError,
    bucket_query,
    merge_rows,
    merge_values,
    metric_info,
    rebucket,
    server_granularity,
)
from flowql.model import demo_model
from flowql.query import FlowQuery
from flowql.results import DimensionalRow, DimensionalRows, MetricInfo, Point, TimeSeries
from flowql.sandbox import Sandbox

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, max_retry_time=5.0)
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
INFO = metric_info(demo_model().flows["825"])


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


def flow(sb: Sandbox, **options: object) -> ConvivaFlowClient:
    return ConvivaFlowClient(
        "e2e-client", "sandbox", base_url=sb.conviva_url, now=lambda: NOW, retry=FAST, **options
    )


def readme_query(start: str = "-3h") -> FlowQuery:
    return FlowQuery(
        825,
        "historical",
        start=start,
        end="now",
        group_by="geo_country",
        filter="device_operating_system == 'Android'",
    )


def num(value: object) -> float:
    """A metric's value as a number (mypy: record values are objects)."""
    assert isinstance(value, (int, float))
    return value


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("FLOWQL_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: see the diff above"


# --- the README's grouped query ------------------------------------------------------------


def test_the_readme_grouped_query_is_one_row_per_country(sb: Sandbox) -> None:
    with flow(sb) as client:
        result = client.query(readme_query())
    assert isinstance(result, DimensionalRows)
    assert len(result.windows) == 3
    countries = [r.value for r in result.rows]
    assert len(countries) == len(set(countries)) > 3
    snapshot("query.readme-grouped.txt", table(result))


def test_merged_rows_add_up_to_the_windows_and_shares_are_recomputed(sb: Sandbox) -> None:
    with flow(sb) as client:
        merged = client.query(readme_query())
        pieces = [
            client.query(
                FlowQuery(
                    825,
                    "historical",
                    start=w.start,
                    end=w.end,
                    group_by="geo_country",
                    filter="device_operating_system == 'Android'",
                )
            )
            for w in merged.windows
        ]
    assert isinstance(merged, DimensionalRows)
    for row in merged.rows:
        same = [
            r
            for p in pieces
            if isinstance(p, DimensionalRows)
            for r in p.rows
            if r.value == row.value
        ]
        for key in ("m_825_1", "m_825_3", "m_825_4"):
            assert row.metrics[key] == sum(num(r.metrics[key]) for r in same)
        share = row.metrics["m_825_1_percentage"]
        assert share == pytest.approx(
            100 * num(row.metrics["m_825_1"]) / num(row.metrics["m_825_3"])
        )
        assert row.metrics["m_825_2"] is None  # a duration is not summed
    assert merged.not_merged == ("m_825_2",)
    assert [w.code for w in merged.warnings] == ["FQ719"]
    assert "Login Process Duration (sec)" in merged.warnings[0].message
    # The totals follow the same rules.
    assert merged.totals["m_825_1_percentage"] == pytest.approx(
        100 * merged.totals["m_825_1"] / merged.totals["m_825_3"]  # type: ignore[operator]
    )


def test_the_readme_query_on_the_command_line_is_one_row_per_country(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    argv = ["query", "conviva-flow", "historical", "--flow", "825", "--start=-3h", "--end=now"]
    argv += ["--group-by", "geo_country", "--filter", "device_operating_system == 'Android'"]
    assert main([*argv, "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    countries = [r["geo_country"] for r in rows]
    assert len(countries) == len(set(countries)) > 3
    assert "window_start" not in rows[0]
    assert "warning[FQ719]" in err
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    head = out.splitlines()[0]
    assert "Login Process Complete (count)" in head
    assert "m_825_1" not in head
    assert main([*argv, "--names", "keys"]) == 0
    out, _ = capsys.readouterr()
    assert "m_825_1" in out.splitlines()[0]


# --- labels, units, times ------------------------------------------------------------------


def test_json_has_both_keys_and_labels_and_times_have_no_stray_milliseconds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    argv = ["query", "conviva-flow", "real-time", "--flow", "825", "--interval", "PT5M"]
    assert main([*argv, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["metrics"]["m_825_2"] == {"label": "Login Process Duration", "unit": "sec"}
    assert document["metrics"]["m_825_1_percentage"]["unit"] == "%"
    assert "m_825_1" in document["records"][0]
    assert all(
        r["timestamp"].endswith(":00Z") or "." not in r["timestamp"] for r in document["records"]
    )
    assert main([*argv, "--format", "csv", "--tz", "+05:30"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows
    assert all(r["timestamp"].endswith("+05:30") for r in rows)
    assert all("." not in r["timestamp"] for r in rows)


def test_library_results_carry_labels_units_and_aware_times(sb: Sandbox) -> None:
    with flow(sb) as client:
        result = client.real_time("825", "PT5M", granularity="PT1M")
    assert result.metric_info["m_825_2"] == MetricInfo("Login Process Duration", "sec")
    assert result.metric_info["m_825_1_percentage"].share_of == ("m_825_1", "m_825_3")
    stamp = result.to_records()[0]["timestamp"]
    assert isinstance(stamp, dt.datetime)
    assert stamp.utcoffset() == dt.timedelta(0)
    assert result.headings()["m_825_1"] == "Login Process Complete (count)"
    assert result.headings("keys") == {}
    with flow(sb, labels=False) as client:
        assert client.real_time("825", "PT5M").metric_info == {}


# --- buckets -------------------------------------------------------------------------------


def test_six_days_in_hour_buckets_are_144_rows_adding_up_to_the_minutes(sb: Sandbox) -> None:
    end = NOW.replace(minute=0)
    with flow(sb) as client:
        minutes = client.historical("825", end - dt.timedelta(days=6), end)
    assert isinstance(minutes, TimeSeries)
    assert len(minutes.points) == 6 * 24 * 60
    hours = rebucket(minutes, "1h")
    assert len(hours.points) == 144
    assert hours.bucket == "1h"
    assert hours.bucketed_by == "flowql"
    for key in ("m_825_1", "m_825_3", "m_825_4"):
        assert sum(num(p.values[key]) for p in hours.points) == sum(
            num(p.values[key]) for p in minutes.points
        )
    first = hours.points[0]
    assert first.timestamp == end - dt.timedelta(days=6)
    assert first.values["m_825_1"] == sum(num(p.values["m_825_1"]) for p in minutes.points[:60])
    assert hours.not_merged == ("m_825_2",)
    days = rebucket(minutes, "1d")
    assert len(days.points) == 7  # the range starts and ends at 12:00
    assert sum(num(p.values["m_825_3"]) for p in days.points) == sum(
        num(p.values["m_825_3"]) for p in minutes.points
    )


def test_day_buckets_start_at_midnight_in_the_zone() -> None:
    points = tuple(
        Point(dt.datetime(2026, 11, 21, 20, tzinfo=UTC) + dt.timedelta(hours=h), {"m_825_1": 1})
        for h in range(8)
    )
    series = TimeSeries(api="conviva-flow", endpoint="historical", points=points, metric_info=INFO)
    utc = rebucket(series, "1d")
    assert [p.values["m_825_1"] for p in utc.points] == [4, 4]
    madrid = rebucket(series, "1d", tz="Europe/Madrid")  # midnight is 23:00 UTC
    assert [p.values["m_825_1"] for p in madrid.points] == [3, 5]
    assert madrid.points[1].timestamp == dt.datetime(2026, 11, 21, 23, tzinfo=UTC)


def test_grouped_buckets_are_one_row_per_group_and_bucket() -> None:
    start = dt.datetime(2026, 11, 22, 0, tzinfo=UTC)
    from flowql.query import Window

    rows = tuple(
        DimensionalRow(
            country,
            {"m_825_1": n, "m_825_3": 2 * n},
            {},
            Window(start + dt.timedelta(hours=h), start + dt.timedelta(hours=h + 1)),
        )
        for h in range(48)
        for country, n in (("Spain", 3), ("France", 1))
    )
    result = DimensionalRows(
        api="conviva-flow",
        endpoint="historical",
        dimension="geo_country",
        rows=rows,
        metric_info=INFO,
    )
    days = rebucket(result, "1d")
    assert [(r.value, r.metrics["m_825_1"]) for r in days.rows] == [
        ("Spain", 72),
        ("France", 24),
        ("Spain", 72),
        ("France", 24),
    ]
    assert days.rows[2].timestamp == start + dt.timedelta(days=1)
    assert days.to_records()[0]["timestamp"] == start
    with pytest.raises(BucketError, match="finer"):
        rebucket(result, "15m")


def test_unknown_and_impossible_buckets_are_diagnostics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(BucketError) as info:
        rebucket(TimeSeries(api="conviva-flow", endpoint="historical"), "2h")
    assert info.value.diagnostic.code == "FQ717"
    assert info.value.diagnostic.hint == "did you mean '12h'?"
    argv = ["query", "conviva-flow", "real-time", "--flow", "825", "--bucket", "1hour"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error[FQ717]: unknown bucket '1hour'" in err
    assert "Traceback" not in err
    argv = ["query", "conviva-sessions", "content", "--start=-1h", "--end=now", "--bucket", "1h"]
    assert main(argv) == 1
    assert "has no times to bucket" in capsys.readouterr().err


def test_real_time_buckets_ask_the_server_when_it_can() -> None:
    query, server = bucket_query(FlowQuery(825, "real-time", interval="PT10M"), "5m")
    assert server
    assert query.granularity == "PT5M"
    assert bucket_query(FlowQuery(825, "real-time", interval="PT10M"), "1h") == (
        FlowQuery(825, "real-time", interval="PT10M"),
        False,
    )
    given_one = FlowQuery(825, "real-time", granularity="PT1M")
    assert bucket_query(given_one, "5m") == (given_one, False)
    assert server_granularity("15m", None) == "PT15M"
    assert server_granularity("30m", None) is None


def test_the_dry_run_shows_the_granularity_a_bucket_sends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["query", "conviva-flow", "real-time", "--flow", "825", "--interval", "PT10M"]
    assert main([*argv, "--bucket", "5m", "--dry-run"]) == 0
    assert "granularity=PT5M" in capsys.readouterr().out


# --- the rules, as properties --------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(0, 100)),
        min_size=2,
        max_size=30,
    )
)
def test_merged_values_follow_the_model(pieces: list[tuple[int, int, float]]) -> None:
    values = [
        {"m_825_1": a, "m_825_3": a + b, "m_825_1_percentage": 50.0, "m_825_2": d}
        for a, b, d in pieces
    ]
    merged, not_merged = merge_values(values, INFO)
    assert merged["m_825_1"] == sum(a for a, _, _ in pieces)
    init = sum(a + b for a, b, _ in pieces)
    assert merged["m_825_3"] == init
    expected = 100 * num(merged["m_825_1"]) / init if init else None
    assert merged["m_825_1_percentage"] == expected
    assert merged["m_825_2"] is None
    assert not_merged == {"m_825_2"}


def test_a_group_seen_once_keeps_its_values_and_unknown_metrics_are_not_summed() -> None:
    rows = [
        DimensionalRow("Spain", {"m_825_2": 0.5, "x": 3}),
        DimensionalRow("France", {"m_825_2": 0.7, "x": 1}),
        DimensionalRow("France", {"m_825_2": 0.9, "x": 2}),
    ]
    merged, not_merged = merge_rows(rows, INFO)
    assert merged[0].metrics == {"m_825_2": 0.5, "x": 3}
    assert merged[1].metrics == {"m_825_2": None, "x": None}
    assert not_merged == ("m_825_2", "x")


# --- the REPL ------------------------------------------------------------------------------


def test_the_repl_buckets_and_names_as_the_command_line_does(sb: Sandbox) -> None:
    from flowql.repl.commands import execute
    from flowql.repl.errors import CommandError
    from flowql.repl.run import Runner
    from flowql.repl.session import Session

    session = Session(runner=Runner(sandbox=sb))
    session.width = 200
    try:
        execute(session, ":flow 825")
        execute(session, ":last 3h")
        assert execute(session, ":bucket 1h").text == "bucket 1h"
        assert execute(session, ":names keys").text == "names keys"
        outcome = execute(session, ":run device_operating_system == 'Android'")
        lines = outcome.text.splitlines()
        assert lines[0].split()[:2] == ["timestamp", "m_825_1"]
        assert "in buckets of 1h, made here" in " ".join(outcome.text.split())
        assert [w.code for w in outcome.warnings] == ["FQ719"]
        stamps = [line.split()[0] for line in lines[2:] if line[:4].isdigit()]
        assert stamps
        assert all(s.endswith(":00:00Z") for s in stamps)
        with pytest.raises(CommandError) as info:
            execute(session, ":bucket 2h")
        assert info.value.diagnostic.code == "FQ717"
        # What :show prints is what :run sends: the bucket as the server's granularity.
        execute(session, ":target conviva-flow")
        session.time_range = type(session.time_range)(duration=dt.timedelta(minutes=10))
        execute(session, ":bucket 5m")
        shown = execute(session, ":show").text
        assert "granularity=PT5M" in shown
        assert execute(session, ":names labels").text == "names labels"
        assert execute(session, ":bucket none").text == "no buckets: as fetched"
    finally:
        session.close()


def test_buckets_the_range_only_partly_covers_are_named(sb: Sandbox) -> None:
    from flowql.merging import partial_note

    with flow(sb) as client:
        aligned = client.historical("825", NOW - dt.timedelta(hours=3), NOW)
        ragged = client.historical("825", NOW - dt.timedelta(hours=2, minutes=30), NOW)
    assert rebucket(aligned, "1h").partial_buckets == ()
    assert partial_note(rebucket(aligned, "1h")) is None
    hours = rebucket(ragged, "1h")
    assert hours.partial_buckets == (NOW - dt.timedelta(hours=3),)
    assert partial_note(hours) == (
        "the bucket of 2026-11-22T09:00:00Z holds only part of its time (the range starts or "
        "ends inside it)"
    )
    days = rebucket(aligned, "1d")
    assert days.partial_buckets == (NOW.replace(hour=0),)
    assert json.loads(days.to_json())["partial_buckets"] == ["2026-11-22T00:00:00Z"]


def test_a_value_with_other_attributes_is_another_group() -> None:
    rows = [
        DimensionalRow("Georgia", {"m_825_1": 1}, {"country_code": "GE"}),
        DimensionalRow("Georgia", {"m_825_1": 2}, {"country_code": "US"}),
        DimensionalRow("Georgia", {"m_825_1": 4}, {"country_code": "GE"}),
        DimensionalRow(["a", "b"], {"m_825_1": 8}, {"tags": ["x"]}),
        DimensionalRow(["a", "b"], {"m_825_1": 16}, {"tags": ["x"]}),
    ]
    merged, _ = merge_rows(rows, INFO)
    found = {(str(r.value), str(dict(r.attributes))): r.metrics["m_825_1"] for r in merged}
    assert found == {
        ("Georgia", "{'country_code': 'GE'}"): 5,
        ("Georgia", "{'country_code': 'US'}"): 2,
        ("['a', 'b']", "{'tags': ['x']}"): 24,
    }


def test_the_repl_columns_say_fq740_as_the_command_line_does(sb: Sandbox) -> None:
    from flowql.repl.commands import execute
    from flowql.repl.errors import CommandError
    from flowql.repl.run import Runner
    from flowql.repl.session import Session

    session = Session(runner=Runner(sandbox=sb))
    try:
        execute(session, ":columns geo_country m_825_1")  # no result yet: taken as given
        execute(session, ":flow 825")
        execute(session, ":run device_operating_system == 'Android'")
        with pytest.raises(CommandError) as info:
            execute(session, ":columns timestamp m_825_1_percentag")
        assert info.value.diagnostic.code == "FQ740"
        assert info.value.diagnostic.hint == "did you mean 'm_825_1_percentage'?"
        assert session.columns == ("geo_country", "m_825_1")
        assert execute(session, ":columns timestamp m_825_1").text == "columns timestamp, m_825_1"
    finally:
        session.close()


def test_a_grouped_range_fetched_in_windows_is_bucketed_from_its_windows(sb: Sandbox) -> None:
    with flow(sb) as client:
        result = client.historical("825", NOW - dt.timedelta(hours=3), NOW, group_by="geo_country")
    assert isinstance(result, DimensionalRows)
    assert len(result.window_rows) > len(result.rows)  # merged: one row per country
    hours = rebucket(result, "1h")
    starts = sorted({r.timestamp for r in hours.rows if r.timestamp is not None})
    assert starts == [NOW - dt.timedelta(hours=h) for h in (3, 2, 1)]
    spain = [r for r in hours.rows if r.value == "Spain"]
    assert len(spain) == 3
    merged_spain = next(r for r in result.rows if r.value == "Spain")
    assert sum(num(r.metrics["m_825_1"]) for r in spain) == merged_spain.metrics["m_825_1"]
    assert hours.to_records()[0]["timestamp"] == NOW - dt.timedelta(hours=3)
    assert len(rebucket(result, "1d").rows) == len(result.rows)  # one day: one row per country
    kept = result.filtered(lambda r: r["geo_country"] == "Spain")
    assert {r.value for r in kept.window_rows} == {"Spain"}
