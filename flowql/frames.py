"""Results as Arrow tables and pandas or polars DataFrames, with typed columns.

:func:`to_arrow` builds a ``pyarrow.Table`` column by column (never one dict per row), and
:func:`to_pandas` and :func:`to_polars` derive their frame from it: Arrow hands its buffers to
both for next to nothing, so building the Arrow table once is faster than building each frame
from Python values (``benchmarks/bench_frames.py`` measures it). The columns come in
``result.columns()`` order, typed so:

- times (``timestamp``, ``date_time``, whether they hold
  datetimes or ISO 8601 text, and any other column of datetimes): timezone-aware, in UTC, to the
  microsecond;
- whole numbers: int64 (pandas ``Int64``, nullable, where some are None); other numbers:
  float64; true and false: bool (pandas ``boolean`` where some are None); text: string;
- lists and objects: their JSON text, as the CSV export writes them (so a frame and the CSV
  read back agree);
- dimensions as categories (Arrow dictionary, pandas ``category``, polars ``Categorical``): the
  grouping key and its attributes of a grouped result, the groupings of a Klaviyo report, and in
  any result a text column whose values repeat (at most half as many distinct values as values,
  such as a session's ``device_os``; an id column stays text).

The libraries are the extras ``flowql[arrow]``, ``flowql[pandas]`` and ``flowql[polars]``,
imported here only, when a frame is made (FQ806 when one is missing). This module reads a result
by its shape and never imports :mod:`flowql.results`, which imports it lazily for
``Result.to_pandas()`` and its siblings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator

from flowql.cells import cell_text, json_default
from flowql.extras import require

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    import polars

    from flowql.results import Result

__all__ = ["TIME_COLUMNS", "arrow_table", "pandas_of", "to_arrow", "to_pandas", "to_polars"]

TIME_COLUMNS = frozenset({"timestamp", "date_time"})
"""The columns that hold times, as datetimes or as ISO 8601 text."""

REPEATS = 0.5
"""A text column is a category when it has at most this many distinct values per value."""


def to_arrow(result: Result) -> Any:
    """``result`` as a ``pyarrow.Table`` (the ``flowql[arrow]`` extra), its metadata as JSON
    under the schema's ``flowql`` key."""
    grouped = _grouped(result)
    if grouped is not None:  # its dimensions are known from its columns: no second walk
        columns, categories = grouped
    else:
        columns, categories = columns_of(result), dimensions_of(result)
    return arrow_table(columns, categories=categories, meta=result.meta())


def to_pandas(result: Result) -> Any:
    """``result`` as a ``pandas.DataFrame`` (the ``flowql[pandas]`` extra)."""
    require("pandas", "pandas", "pandas DataFrames")
    require("pyarrow", "pandas", "pandas DataFrames")  # the extra that brings both
    return pandas_of(to_arrow(result))


def to_polars(result: Result) -> polars.DataFrame:
    """``result`` as a ``polars.DataFrame`` (the ``flowql[polars]`` extra, with pyarrow)."""
    pl = require("polars", "polars", "polars DataFrames")
    require("pyarrow", "polars", "polars DataFrames")
    frame: polars.DataFrame = pl.from_arrow(to_arrow(result))
    return frame


def pandas_of(table: Any) -> Any:
    """A ``pyarrow.Table`` as a pandas DataFrame with the dtypes of :func:`to_pandas`: whole
    numbers and booleans nullable only where some are null (so a Parquet file read back gives
    the same frame)."""
    pa = _arrow()
    pd = require("pandas", "pandas", "pandas DataFrames")
    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    frame = table.to_pandas(types_mapper=nullable.get)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count == 0 and column.type in nullable:
            frame[name] = frame[name].astype("int64" if column.type == pa.int64() else "bool")
    return frame


def arrow_table(
    columns: Mapping[str, Sequence[object]],
    *,
    categories: frozenset[str] = frozenset(),
    meta: Mapping[str, object] | None = None,
) -> Any:
    """Columns of Python values as a ``pyarrow.Table``, typed as this module says;
    ``categories`` names the columns that are always categories (when they hold text)."""
    pa = _arrow()
    arrays = {
        name: _array(pa, name, values, name in categories) for name, values in columns.items()
    }
    table = pa.table(arrays) if arrays else pa.table({})
    if meta is not None:
        text = json.dumps(meta, ensure_ascii=False, default=json_default)
        table = table.replace_schema_metadata({"flowql": text})
    return table


def _arrow() -> Any:
    return require("pyarrow", "arrow", "Arrow tables")


# --- the columns of a result -----------------------------------------------------------------


def columns_of(result: Result) -> dict[str, list[object]]:
    """``result``'s columns (name to values, one per record), in ``result.columns()`` order.
    A time series is read from its points (the values ``to_records()`` gives, without a dict
    per point); every other result from its records."""
    fast = _points(result)
    if fast is not None:
        return fast
    grouped = _grouped(result)
    if grouped is not None:
        return grouped[0]
    records = result.to_records()
    names = dict.fromkeys(itertools.chain.from_iterable(records))
    return {name: [r.get(name) for r in records] for name in names}


def _points(result: object) -> dict[str, list[object]] | None:
    """A time series' columns straight from its points: ``timestamp``, then each metric in
    order of first appearance. None for another result, or one whose metrics include a
    ``timestamp`` (its records say which wins)."""
    if type(result).__name__ != "TimeSeries":
        return None
    points: Sequence[Any] = getattr(result, "points", ())
    values: list[Mapping[str, object]] = [p.values for p in points]
    out: dict[str, list[object]] = {"timestamp": [p.timestamp for p in points]}
    if values:
        # Most series have the same metrics at every point: then the first point names them
        # all (every point has each of its keys, and no more keys than it has).
        first = list(values[0])
        try:
            same = {name: list(map(operator.itemgetter(name), values)) for name in first}
        except KeyError:
            same = None
        if same is not None and sum(map(len, values)) == len(first) * len(values):
            if "timestamp" in same:
                return None
            out.update(same)
            return out
    names = dict.fromkeys(itertools.chain.from_iterable(values))
    if "timestamp" in names:
        return None
    for name in names:
        out[name] = _field(values, name)
    return out


def _field(rows: Sequence[Mapping[str, object]], name: str) -> list[object]:
    """``row.get(name)`` of each row (by ``itemgetter`` while every row has it: twice as
    fast)."""
    try:
        return list(map(operator.itemgetter(name), rows))
    except KeyError:
        return [r.get(name) for r in rows]


def _columns(mappings: Sequence[Mapping[str, object]]) -> dict[str, list[object]]:
    """The columns of ``mappings`` (each key's values, None where a mapping lacks it), keys in
    order of first appearance. When every mapping has as many keys as the first and each of
    the first's keys (the usual case), they are read by ``itemgetter`` alone, with no walk
    over every key."""
    if not mappings:
        return {}
    first = mappings[0]
    if first and set(map(len, mappings)) == {len(first)}:
        try:
            return {name: list(map(operator.itemgetter(name), mappings)) for name in first}
        except KeyError:
            pass  # another mapping has other keys
    names = dict.fromkeys(itertools.chain.from_iterable(mappings))
    return {name: _field(mappings, name) for name in names}


def _grouped(result: object) -> tuple[dict[str, list[object]], frozenset[str]] | None:
    """A grouped result's columns straight from its rows (what ``to_records()`` gives): the
    time (of slices and buckets), the dimension, the attributes, the metrics; and its
    dimensions (the dimension and the attributes: :func:`dimensions_of`). None for another
    result, or rows of different shapes or clashing names (the records then say)."""
    if type(result).__name__ != "DimensionalRows":
        return None
    dimension: str = getattr(result, "dimension", "")
    rows: Sequence[Any] = getattr(result, "rows", ())
    if not rows:
        return None
    stamp = operator.attrgetter("timestamp")
    has_stamp = rows[0].timestamp is not None
    # Rows of different shapes (some with a time, some without): their records' order says.
    if (has_stamp and None in map(stamp, rows)) or (not has_stamp and any(map(stamp, rows))):
        return None
    attributes = list(map(operator.attrgetter("attributes"), rows))
    metrics = list(map(operator.attrgetter("metrics"), rows))
    attribute_columns = _columns(attributes)
    metric_columns = _columns(metrics)
    fixed = {dimension, "timestamp"}
    if fixed & (attribute_columns.keys() | metric_columns.keys()) or (
        attribute_columns.keys() & metric_columns.keys()
    ):
        return None
    out: dict[str, list[object]] = {}
    if has_stamp:
        out["timestamp"] = list(map(stamp, rows))
    out[dimension] = list(map(operator.attrgetter("value"), rows))
    out.update(attribute_columns)
    out.update(metric_columns)
    return out, frozenset({dimension, *attribute_columns})


def dimensions_of(result: object) -> frozenset[str]:
    """The columns that are a result's dimensions: a grouped result's key and its rows'
    attributes, a Klaviyo report's groupings."""
    out: set[str] = set()
    dimension = getattr(result, "dimension", None)
    rows: Sequence[Any] = getattr(result, "rows", ())
    if isinstance(dimension, str):
        out.add(dimension)
    for name in ("attributes", "groupings"):
        if rows and hasattr(rows[0], name):
            try:  # every row has them (a mapping): one union, in C
                out.update(set().union(*map(operator.attrgetter(name), rows)))
            except TypeError:  # some have None
                out.update(set().union(*(p or {} for p in map(operator.attrgetter(name), rows))))
    return frozenset(out)


# --- one column ------------------------------------------------------------------------------


def _time_type(pa: Any) -> Any:
    return pa.timestamp("us", tz="UTC")


def _array(pa: Any, name: str, values: Sequence[object], category: bool) -> Any:
    """One column as an Arrow array, typed as the module says."""
    if name in TIME_COLUMNS:
        times = _times(pa, values)
        if times is not None:
            return times
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return _mixed(pa, values)
    kind = array.type
    if pa.types.is_timestamp(kind):
        # Aware datetimes keep their instant; naive ones are read as UTC, as format_time does.
        return array.cast(_time_type(pa))
    if pa.types.is_string(kind):
        if category or _repeats(pa, array):
            return array.dictionary_encode()
        return array
    if kind in (pa.int64(), pa.float64(), pa.bool_(), pa.null()):
        return array
    return pa.array([_text(v) for v in values], pa.string())


def _repeats(pa: Any, array: Any) -> bool:
    present = int(len(array) - array.null_count)
    if present < 2:
        return False
    distinct = int(pa.compute.count_distinct(array).as_py())
    return distinct <= present * REPEATS


def _times(pa: Any, values: Sequence[object]) -> Any:
    """A time column from datetimes or ISO 8601 text (or both), or None when it holds
    something else (it is then typed as any other column)."""
    kind = _time_type(pa)
    try:
        if all(map(operator.attrgetter("tzinfo"), values)):  # aware datetimes, no None
            return _instants(pa, values)
    except AttributeError:
        pass
    if all(v is None or isinstance(v, dt.datetime) for v in values):
        return pa.array(values, type=kind)
    if all(v is None or isinstance(v, str) for v in values):
        try:
            return pa.array(values, pa.string()).cast(kind)  # ISO 8601 with a Z or an offset
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    moments: list[dt.datetime | None] = []
    for value in values:
        if value is None or isinstance(value, dt.datetime):
            moments.append(value)
        elif isinstance(value, str):
            moment = _iso(value)
            if moment is None:
                return None
            moments.append(moment)
        else:
            return None
    return pa.array(moments, type=kind)


def _instants(pa: Any, values: Sequence[object]) -> Any:
    """Aware datetimes as UTC microseconds: each distinct one converted once (the windows of a
    grouped result repeat), through its POSIX time, which is faster than Arrow's own reading
    of datetime objects."""
    stamp = dt.datetime.timestamp
    # Repeats show in the first rows (a window's groups come together); only then is it worth
    # hashing every value.
    if len(values) > 2 and len(set(values[:64])) * 2 <= min(len(values), 64):
        firsts = list(dict.fromkeys(values))
        table = _instants(pa, firsts)
        index = {moment: i for i, moment in enumerate(firsts)}
        return table.take(pa.array(list(map(index.__getitem__, values)), pa.int32()))
    seconds = pa.array(list(map(stamp, values)), pa.float64())  # type: ignore[arg-type]
    micros = pa.compute.round(pa.compute.multiply(seconds, 1_000_000.0))
    return micros.cast(pa.int64()).cast(_time_type(pa))


def _iso(text: str) -> dt.datetime | None:
    """ISO 8601 text as an aware datetime (naive text is UTC), or None."""
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"  # Python 3.10's fromisoformat takes no Z
    try:
        moment = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _mixed(pa: Any, values: Sequence[object]) -> Any:
    """A column of several kinds of value: numbers as float64 when it holds only numbers, else
    every value as the text the CSV export writes."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) == sum(v is not None for v in values):
        try:
            floats = [v if v is None else float(v) for v in values]  # type: ignore[arg-type]
            return pa.array(floats, pa.float64())
        except OverflowError:
            pass
    return pa.array([_text(v) for v in values], pa.string())


def _text(value: object) -> str | None:
    """A value as the CSV export writes it (:func:`flowql.cells.cell_text`), None kept as a
    null."""
    return None if value is None else cell_text(value)
