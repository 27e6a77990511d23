"""Results as Arrow tables and pandas and polars DataFrames (flowql/frames.py): dtypes per kind
of result, UTC times from datetimes and ISO text, categories, Nones, the Parquet round trip and
agreement with the CSV export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flowql.frames import _text, columns_of, pandas_of, to_arrow
from flowql.query import Window
from flowql.results import (
    DimensionalRow,
    DimensionalRows,
    Point,
    ReportRow,
    ReportRows,
    Result,
    Rows,
    Sessions,
    TimeSeries,
    cell_text,
)

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)


def series() -> TimeSeries:
    points = tuple(
        Point(T0 + i * MINUTE, {"m_825_1": i, "m_825_2": i / 4, "m_825_3": None if i == 1 else i})
        for i in range(3)
    )
    return TimeSeries(api="conviva-flow", endpoint="historical", points=points)


def grouped() -> DimensionalRows:
    window = Window(T0, T0 + dt.timedelta(hours=1))
    rows = tuple(
        DimensionalRow(name, {"m_825_1": i}, {"country_code": name[:2].upper()}, window)
        for i, name in enumerate(["Spain", "France", "Spain", "Italy"])
    )
    return DimensionalRows(
        api="conviva-flow", endpoint="historical", dimension="geo_country", rows=rows
    )


def report() -> ReportRows:
    rows = (
        ReportRow({"flow_id": "XyZ1"}, {"opens": [1, 2], "open_rate": [0.5, None]}),
        ReportRow({"flow_id": "AbC2"}, {"opens": [3, 4], "open_rate": [0.25, 0.75]}),
    )
    days = ("2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+01:00")
    return ReportRows(api="klaviyo", endpoint="flow-series", rows=rows, date_times=days)


def sessions() -> Sessions:
    found = tuple(
        {
            "session_id": f"s{i}",
            "tags": {"selected_dimensions": {"device_os": "iOS" if i % 2 else "Android"}},
            "cdns": ["akamai", "fastly"][: i % 2 + 1],
            "is_video_start_failure_tech": i == 2,
        }
        for i in range(4)
    )
    return Sessions(api="conviva-sessions", endpoint="content", sessions=found)


def test_a_time_series_has_utc_times_int64_float64_and_nullable_ints() -> None:
    frame = series().to_pandas()
    assert list(frame.columns) == series().columns()
    assert str(frame.dtypes["timestamp"]) == "datetime64[us, UTC]"
    assert frame.dtypes["m_825_1"] == "int64"
    assert frame.dtypes["m_825_2"] == "float64"
    assert str(frame.dtypes["m_825_3"]) == "Int64"
    assert frame["m_825_3"].isna().tolist() == [False, True, False]
    assert frame["timestamp"][1] == pd.Timestamp(T0 + MINUTE)
    polars = series().to_polars()
    assert polars.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert polars.schema["m_825_3"] == pl.Int64
    assert polars["m_825_3"].null_count() == 1


def test_a_time_series_read_from_its_points_is_its_records() -> None:
    # The fast path (the points, no dict per point) gives what to_records() gives.
    result = series()
    fast = to_arrow(result)
    records = Rows(api="x", endpoint="y", rows=tuple(result.to_records()))
    assert list(columns_of(result)) == result.columns()
    assert fast.column_names == records.to_arrow().column_names
    slow = to_arrow(records)
    for name in fast.column_names:
        assert fast.column(name).to_pylist() == slow.column(name).to_pylist(), name


def test_a_grouped_result_read_from_its_rows_is_its_records() -> None:
    result = grouped()
    records = Rows(api="x", endpoint="y", rows=tuple(result.to_records()))
    assert list(columns_of(result)) == result.columns()
    fast, slow = to_arrow(result), records.to_arrow()
    assert fast.column_names == slow.column_names
    for name in fast.column_names:
        assert fast.column(name).to_pylist() == slow.column(name).to_pylist(), name


def test_a_grouped_result_has_its_dimension_and_attributes_as_categories() -> None:
    frame = grouped().to_pandas()
    assert str(frame.dtypes["geo_country"]) == "category"
    assert str(frame.dtypes["country_code"]) == "category"
    assert sorted(frame["geo_country"].cat.categories) == ["France", "Italy", "Spain"]
    assert "window_start" not in frame.columns  # windows are how it was fetched
    assert grouped().to_polars().schema["geo_country"] == pl.Categorical()
    assert pa.types.is_dictionary(grouped().to_arrow().schema.field("geo_country").type)


def test_a_report_reads_iso_text_with_offsets_as_utc() -> None:
    frame = report().to_pandas()
    assert str(frame.dtypes["date_time"]) == "datetime64[us, UTC]"
    assert frame["date_time"][1] == pd.Timestamp("2026-11-01T23:00:00Z")
    assert str(frame.dtypes["flow_id"]) == "category"  # a grouping, though every value differs
    assert frame.dtypes["opens"] == "int64"
    assert frame["open_rate"].isna().tolist() == [False, True, False, False]


def test_times_as_datetimes_or_text_give_the_same_column() -> None:
    as_text = Rows(api="x", endpoint="y", rows=({"timestamp": "2026-11-22T10:00:00.250Z"},))
    as_time = Rows(api="x", endpoint="y", rows=({"timestamp": T0 + dt.timedelta(0, 0, 250000)},))
    naive = Rows(api="x", endpoint="y", rows=({"timestamp": "2026-11-22T10:00:00.250"},))
    arrays = [r.to_arrow().column("timestamp") for r in (as_text, as_time, naive)]
    assert arrays[0].type == pa.timestamp("us", tz="UTC")
    assert arrays[0].equals(arrays[1])
    assert arrays[0].equals(arrays[2])


def test_sessions_repeat_into_categories_and_lists_become_json() -> None:
    frame = sessions().to_pandas()
    assert str(frame.dtypes["device_os"]) == "category"  # 2 values over 4 sessions
    assert str(frame.dtypes["session_id"]) != "category"  # every one differs
    assert frame["cdns"].tolist() == ['["akamai"]', '["akamai", "fastly"]'] * 2
    assert frame.dtypes["is_video_start_failure_tech"] == "bool"


def test_mixed_columns_become_text_as_csv_writes_them() -> None:
    result = Rows(api="x", endpoint="y", rows=({"v": 1}, {"v": "two"}, {"v": True}, {"v": None}))
    assert result.to_arrow().column("v").to_pylist() == ["1", "two", "true", None]
    numbers = Rows(api="x", endpoint="y", rows=({"v": 1}, {"v": 2.5}))
    assert numbers.to_pandas().dtypes["v"] == "float64"
    for value in (True, [1, {"b": 2, "a": "é"}], {"z": 1}, T0, 3, "x"):
        assert _text(value) == cell_text(value)


def test_an_empty_result_is_an_empty_frame() -> None:
    empty = TimeSeries(api="conviva-flow", endpoint="historical")
    assert len(empty.to_pandas()) == 0
    assert empty.to_polars().height == 0


@pytest.mark.parametrize("make", [series, grouped, report, sessions])
def test_the_parquet_round_trip_gives_the_same_frame(make: Any) -> None:
    result: Result = make()
    table = result.to_arrow()
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    back = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert back.equals(table)
    assert back.schema.metadata[b"flowql"].startswith(b'{"api": ')
    pd.testing.assert_frame_equal(pandas_of(back), result.to_pandas())
    polars = pl.from_arrow(back)
    assert isinstance(polars, pl.DataFrame)
    assert polars.equals(result.to_polars())


@pytest.mark.parametrize("make", [series, grouped, report, sessions])
def test_the_frame_equals_the_csv_export_read_back(make: Any) -> None:
    result: Result = make()
    frame = result.to_pandas()
    back = pd.read_csv(io.StringIO(result.to_csv()), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(frame.columns)
    for name in frame.columns:
        column = frame[name]
        if str(column.dtype).startswith("datetime64"):
            texts = [pd.Timestamp(v).tz_convert("UTC").isoformat() if v else "" for v in back[name]]
            mine = ["" if pd.isna(v) else v.isoformat() for v in column]
        else:
            texts = list(back[name])
            mine = [_csv_cell(v) for v in column]
        assert mine == texts, name


def _csv_cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool":
        return "true" if value else "false"
    return str(value)


def test_a_series_whose_points_differ_in_metrics_keeps_the_records_order() -> None:
    points = (Point(T0, {"b": 1}), Point(T0 + MINUTE, {"a": 2.5, "b": 2}), Point(T0, {}))
    result = TimeSeries(api="conviva-flow", endpoint="historical", points=points)
    assert list(columns_of(result)) == result.columns() == ["timestamp", "b", "a"]
    assert to_arrow(result).column("a").to_pylist() == [None, 2.5, None]
    assert to_arrow(result).column("b").to_pylist() == [1, 2, None]
