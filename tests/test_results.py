"""Tests for flowql.results: records the python target can filter, JSON and CSV export,
totals merging, and filtering results."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from flowql import parse
from flowql.merging import merge_values
from flowql.query import Window
from flowql.results import (
    DimensionalRow,
    DimensionalRows,
    MetricInfo,
    Point,
    ReportRow,
    ReportRows,
    Rows,
    Sessions,
    TimeSeries,
    flatten,
)
from flowql.targets.python import compile_predicate, filter_records

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 22, 10, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def grouped() -> DimensionalRows:
    windows = (Window(T0, T0 + HOUR), Window(T0 + HOUR, T0 + 2 * HOUR))
    rows = tuple(
        DimensionalRow(country, {"m_1": n}, {"country_code": code}, window)
        for window in windows
        for country, code, n in (("Spain", "ES", 4), ("Germany", "DE", 2))
    )
    return DimensionalRows(
        api="conviva-flow",
        endpoint="historical",
        windows=windows,
        dimension="geo_country",
        rows=rows,
        totals={"m_1": 12, "m_2": None},
        recomputed=("m_1",),
        not_recomputed=("m_2",),
    )


def test_dimensional_records_carry_the_dimension_under_its_key() -> None:
    records = grouped().to_records()
    assert records[0] == {  # windows are how it was fetched, not columns
        "geo_country": "Spain",
        "country_code": "ES",
        "m_1": 4,
    }
    spain = list(filter_records(parse("geo_country == 'Spain'"), records))
    assert len(spain) == 2


def test_filtering_a_result_marks_its_totals_stale() -> None:
    result = grouped().filtered(compile_predicate(parse("country_code == 'DE'")))
    assert [r["geo_country"] for r in result.to_records()] == ["Germany", "Germany"]
    assert result.totals == {"m_1": None, "m_2": None}
    assert result.not_recomputed == ("m_1", "m_2")
    assert result.totals_recomputed is False


def test_json_export_holds_metadata_and_records() -> None:
    document = json.loads(grouped().to_json())
    assert document["api"] == "conviva-flow"
    assert document["windows"][1] == {
        "start": "2026-11-22T11:00:00Z",
        "end": "2026-11-22T12:00:00Z",
    }
    assert document["totals"] == {"m_1": 12, "m_2": None}
    assert document["totals_recomputed"] is False
    assert document["not_recomputed"] == ["m_2"]
    assert document["dimension"] == "geo_country"
    assert document["post_filter"] is None
    assert len(document["records"]) == 4


def test_csv_export_has_every_column_and_reads_back() -> None:
    result = Rows(
        api="klaviyo",
        endpoint="metrics",
        rows=(
            {"id": "A", "integration": {"name": "Shopify"}, "flags": [1, 2]},
            {"id": "B", "extra": True, "missing": None},
        ),
    )
    rows = list(csv.reader(io.StringIO(result.to_csv())))
    assert rows[0] == ["id", "integration.name", "flags", "extra", "missing"]
    assert rows[1] == ["A", "Shopify", "[1, 2]", "", ""]
    assert rows[2] == ["B", "", "", "true", ""]


def test_time_series_records_and_empty_results() -> None:
    series = TimeSeries(
        api="flowxo",
        endpoint="insights",
        points=(Point(T0, {"new_users": 9}), Point(None, {"new_users": 1})),
    )
    assert series.to_records() == [
        {"timestamp": T0, "new_users": 9},
        {"timestamp": None, "new_users": 1},
    ]
    assert series.to_csv().splitlines()[1] == "2026-11-22T10:00:00Z,9"
    assert json.loads(series.to_json())["records"][0]["timestamp"] == "2026-11-22T10:00:00Z"
    assert series.totals_recomputed is None
    empty = TimeSeries(api="flowxo", endpoint="insights")
    assert empty.to_csv() == "\n"
    assert json.loads(empty.to_json())["records"] == []
    assert len(empty) == 0


def test_series_reports_give_one_record_per_date_time() -> None:
    report = ReportRows(
        api="klaviyo",
        endpoint="flow-series",
        rows=(ReportRow({"flow_id": "F"}, {"clicks": [1, 2], "open_rate": [0.5]}),),
        date_times=("2024-01-05", "2024-01-06"),
    )
    assert report.to_records() == [
        {"date_time": "2024-01-05", "flow_id": "F", "clicks": 1, "open_rate": 0.5},
        {"date_time": "2024-01-06", "flow_id": "F", "clicks": 2, "open_rate": None},
    ]
    assert report.filtered(compile_predicate(parse("flow_id == 'G'"))).to_records() == []


def test_sessions_filter_by_their_records() -> None:
    result = Sessions(
        api="conviva-sessions",
        endpoint="content",
        sessions=(
            {"tags": {"selected_dimensions": {"device_os": "iOS"}}},
            {"tags": {"selected_dimensions": {"device_os": "Android"}}},
        ),
    )
    kept = result.filtered(compile_predicate(parse("device_os IN ('iOS', 'tvOS')")))
    assert kept.to_records() == [{"device_os": "iOS"}]


def test_totals_are_summed_only_for_counts() -> None:
    info = {"a": MetricInfo("A", "count"), "c": MetricInfo("C", "count")}
    merged, not_merged = merge_values([{"a": 1, "b": 0.5, "c": 3}, {"a": 2, "b": 0.7}], info)
    assert merged == {"a": 3, "b": None, "c": None}
    assert not_merged == {"b", "c"}


@given(
    st.lists(
        st.dictionaries(st.sampled_from("abc"), st.integers(0, 10**9), min_size=3),
        min_size=2,
        max_size=20,
    )
)
def test_summed_counts_equal_the_sum_of_the_windows(windows: list[dict[str, int]]) -> None:
    info = {k: MetricInfo(k, "count") for k in "abc"}
    merged, not_merged = merge_values(windows, info)
    assert not not_merged
    for key in "abc":
        assert merged[key] == sum(w[key] for w in windows)


@given(
    st.recursive(
        st.integers() | st.text(max_size=3),
        lambda inner: st.dictionaries(st.text("xyz", min_size=1, max_size=2), inner, max_size=3),
        max_leaves=10,
    )
)
def test_flatten_keeps_every_leaf(data: object) -> None:
    if not isinstance(data, dict):
        return
    flat = flatten(data)

    def leaves(value: object) -> int:
        if isinstance(value, dict) and value:
            return sum(leaves(v) for v in value.values())
        return 1

    assert len(flat) <= leaves(data)
    assert all(not (isinstance(v, dict) and v) for v in flat.values())
