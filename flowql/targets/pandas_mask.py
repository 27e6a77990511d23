"""The pandas target: a FlowQL filter as a mask over a pandas DataFrame.

``compile_mask(expr, schema)`` gives a :class:`Mask`; ``mask(df)`` is a boolean ``pd.Series``
aligned to ``df.index`` (never NA), for ``df[mask(df)]`` or ``df.loc[mask(df)]``. It means what
the ``python`` target means on the frame's rows (see docs/targets/pandas.md), as the polars
target's expression does:

- the record of a row is what ``df.to_dict("records")`` gives, with NaN, None, ``pd.NA`` and
  ``NaT`` as None, numpy arrays as lists and numpy scalars in lists as Python's: a missing
  cell equals nothing, so it matches ``!=``, ``!~`` and ``NOT IN`` and nothing else (NaN
  included: ``nan == x`` is false for every ``x`` in Python too), and every test is two-valued
  before any negation;
- values are typed by the column's dtype, read when the mask runs: a value of another type than
  its column's is a constant; an ``object`` column is typed by what it holds (strings, numbers
  or booleans are tested with pandas' vectorised operations; anything else, such as dicts or
  mixed types, cell by cell with the python target's own test);
- ``~~`` is ``str.contains(value, regex=False)``: no regular expression, case-sensitive;
- a list column is tested item by item: an ``ArrowDtype`` list through pyarrow, an ``object``
  column of lists by collecting its items in one Python pass and testing them together;
- a category is tested as its categories, by code;
- a dotted key is the column named with the dots when there is one (``pandas.json_normalize``
  makes those), else it reads through a column of the first parts: an ``ArrowDtype`` struct's
  fields, or the dicts of an ``object`` column, as the python target reads nested mappings.

The schema (``df``, ``df.dtypes``, any table schema the sql and polars targets read, or
column -> ``string``, ``integer``, ``float``, ``boolean``, ``list[...]``) is checked when
compiling, so that a key the frame lacks (FQ605)
or a column no FlowQL value can be compared with (FQ601) is refused there, with its span; the
mask checks the frame it is given the same way. pandas is imported only when this target
compiles.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_object_dtype,
)

from flowql.ast import And, Boolean, Comparison, In, Not, Number, Op, Or, String, walk
from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.errors import FlowQLError, UnsupportedError
from flowql.formatter import format
from flowql.targets._columns import connect, equal_number, fold_negated, missing_column
from flowql.targets.python import compile_predicate
from flowql.targets.table_schemas import TableSchema, read_schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import numpy.typing as npt

    from flowql.ast import Expr, Key, Value
    from flowql.targets.python import Predicate

    Bools = npt.NDArray[np.bool_]

__all__ = ["TARGET", "Mask", "MaskOptionError", "column_kinds", "compile_mask", "kind_of_dtype"]

TARGET = "pandas"
"""The target's name."""

_NUMERIC_OBJECTS = frozenset(("integer", "floating", "mixed-integer-float", "decimal", "complex"))
"""What ``infer_dtype`` says of an object column of numbers only (Python compares them by
value, as the python target does)."""


class MaskOptionError(FlowQLError):
    """A schema that is not a frame, its dtypes, or a mapping of column names to kinds
    (FQ605)."""


def kind_of_dtype(dtype: object) -> str | None:
    """What a column of this pandas dtype holds, for a filter: ``string``, ``integer``,
    ``float``, ``boolean``, ``list`` (an ``ArrowDtype`` list of those), ``struct`` (an
    ``ArrowDtype`` struct, read through its fields), ``category``, ``object`` (typed by its
    values), or None for one FlowQL values cannot be compared with (dates, decimals,
    durations, complex numbers)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.ArrowDtype):
        return _kind_of_arrow(dtype.pyarrow_dtype)
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.SparseDtype):
        return None
    if is_object_dtype(dtype):
        return "object"
    if is_bool_dtype(dtype):
        return "boolean"
    if is_integer_dtype(dtype):
        return "integer"
    if is_float_dtype(dtype):
        return "float"
    return None


def _kind_of_arrow(kind: Any) -> str | None:
    import pyarrow as pa

    types = pa.types
    view = getattr(types, "is_string_view", None)  # pyarrow 16 and later
    if types.is_string(kind) or types.is_large_string(kind) or (view is not None and view(kind)):
        return "string"
    if types.is_boolean(kind):
        return "boolean"
    if types.is_integer(kind):
        return "integer"
    if types.is_floating(kind):
        return "float"
    if types.is_list(kind) or types.is_large_list(kind):
        item = _kind_of_arrow(kind.value_type)
        return "list" if item in ("string", "boolean", "integer", "float") else None
    if types.is_struct(kind):
        return "struct"
    return None


# --- where a key's values are --------------------------------------------------------------


class _Place:
    """Where a key's values are in a frame: its column, the struct fields to read on the way
    (an ``ArrowDtype`` struct's), the dtype of what is tested, and whether the column's values
    are read through element by element (an ``object`` column, maybe of dicts)."""

    __slots__ = ("column", "dtype", "fields", "through")

    def __init__(self, column: str, fields: tuple[str, ...], dtype: object, through: bool):
        self.column = column
        self.fields = fields
        self.dtype = dtype
        self.through = through


def _longest(parts: list[str], start: int, names: Mapping[str, object]) -> int | None:
    """The end of the longest run of ``parts`` from ``start`` that is one of ``names`` (the
    python target's look-up: no backtracking)."""
    for end in range(len(parts), start, -1):
        if ".".join(parts[start:end]) in names:
            return end
    return None


def _paths(layout: Mapping[str, object]) -> list[str]:
    """Every key the layout answers: its columns, and the dotted paths of struct fields."""
    found: list[str] = []
    stack = [(name, dtype) for name, dtype in layout.items()]
    while stack:
        name, dtype = stack.pop()
        found.append(name)
        if isinstance(dtype, pd.ArrowDtype) and kind_of_dtype(dtype) == "struct":
            for field in dtype.pyarrow_dtype:
                stack.append((f"{name}.{field.name}", pd.ArrowDtype(field.type)))
    return found


def _place(key: Key, layout: Mapping[str, object], twice: set[str]) -> _Place | Diagnostic:
    """Where ``key`` is in a frame of these columns (name -> dtype; ``twice``: the names two
    columns have), or the diagnostic that says why it is nowhere the filter can read."""
    parts = key.name.split(".")
    end = _longest(parts, 0, layout)
    if end is None:
        return Diagnostic(
            "FQ605",
            f"the frame has no column {key.name!r}",
            key.span,
            hint=did_you_mean(key.name, _paths(layout)),
        )
    column = ".".join(parts[:end])
    if column in twice:
        return Diagnostic(
            "FQ601",
            f"the pandas target cannot tell which column {column!r} to read: the frame has "
            "more than one of that name",
            key.span,
            hint="rename the columns so that each name is one column",
        )
    dtype = layout[column]
    fields: list[str] = []
    while end < len(parts):
        kind = kind_of_dtype(dtype)
        if kind == "object":
            return _Place(column, (), dtype, True)
        names = (
            {f.name: f for f in dtype.pyarrow_dtype}
            if isinstance(dtype, pd.ArrowDtype) and kind == "struct"
            else {}
        )
        after = _longest(parts, end, names)
        if after is None:
            within = ".".join([column, *fields])
            return Diagnostic(
                "FQ605",
                f"the frame has no column {key.name!r}: {within!r} has no field "
                f"{'.'.join(parts[end:])!r}",
                key.span,
                hint=did_you_mean(key.name, _paths(layout)),
            )
        field = ".".join(parts[end:after])
        fields.append(field)
        dtype = pd.ArrowDtype(names[field].type)
        end = after
    kind = kind_of_dtype(dtype)
    if kind == "struct":
        assert isinstance(dtype, pd.ArrowDtype)
        first = dtype.pyarrow_dtype[0].name if dtype.pyarrow_dtype.num_fields else "field"
        return Diagnostic(
            "FQ601",
            f"the pandas target cannot compare column {key.name!r} (a struct) with FlowQL values",
            key.span,
            hint=f"filter on one of its fields, such as {key.name}.{first}",
        )
    if kind is None:
        return Diagnostic(
            "FQ601",
            f"the pandas target cannot compare column {key.name!r} (of type {dtype}) with "
            "FlowQL values",
            key.span,
            hint="cast the column to a string, a number or a boolean first",
        )
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
        inner = kind_of_dtype(dtype.categories.dtype)
        if inner is None or inner in ("struct", "list", "category"):
            return Diagnostic(
                "FQ601",
                f"the pandas target cannot compare column {key.name!r} (categories of type "
                f"{dtype.categories.dtype}) with FlowQL values",
                key.span,
                hint="cast the column to a string, a number or a boolean first",
            )
    return _Place(column, tuple(fields), dtype, False)


def _layout(frame_or_dtypes: pd.DataFrame | pd.Series) -> tuple[dict[str, object], set[str]]:
    """A frame's (or ``df.dtypes``') columns of text names -> dtype, and the names more than
    one column has."""
    dtypes = (
        frame_or_dtypes.dtypes if isinstance(frame_or_dtypes, pd.DataFrame) else frame_or_dtypes
    )
    layout: dict[str, object] = {}
    twice: set[str] = set()
    for name, dtype in dtypes.items():
        if not isinstance(name, str):
            continue  # no FlowQL key names it
        if name in layout:
            twice.add(name)
        layout[name] = dtype
    return layout, twice


# --- the tests ------------------------------------------------------------------------------


class _Test:
    """One comparison or IN list in its positive form (``==``, ``~~``, ``IN``): what the mask
    tests, negated or not."""

    __slots__ = ("_predicate", "contains", "key", "node", "positive", "values")

    def __init__(self, node: Comparison | In, negate: bool) -> None:
        if isinstance(node, Comparison):
            op = node.op.negated if negate else node.op
            self.positive = op in (Op.EQ, Op.CONTAINS)
            self.contains = op in (Op.CONTAINS, Op.NOT_CONTAINS)
            self.values: tuple[Value, ...] = (node.value,)
            positive_op = Op.CONTAINS if self.contains else Op.EQ
            self.node: Comparison | In = Comparison(node.key, positive_op, node.value)
        else:
            self.positive = node.negated == negate
            self.contains = False
            self.values = node.values
            self.node = In(node.key, node.values, False)
        self.key = node.key
        self._predicate: Predicate | None = None

    @property
    def never(self) -> bool:
        """Whether the positive test holds for no value (a number or boolean contained)."""
        return self.contains and not isinstance(self.values[0], String)

    @property
    def predicate(self) -> Predicate:
        """The python target's test, for values pandas has no typed operation on."""
        if self._predicate is None:
            self._predicate = compile_predicate(self.node)
        return self._predicate


def _bools(found: pd.Series) -> Bools:
    """A boolean Series (maybe nullable, maybe of objects) as an array, missing as False."""
    out: Bools = found.to_numpy(dtype=bool, na_value=False)
    return out


_SEQUENCES = (list, tuple, np.ndarray)
"""The cells of an object column that hold items."""


def _scalar(value: object) -> object:
    """A value as the python target's record holds it: missing as None, numpy's as Python's."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain(cell: object) -> object:
    """A cell as the python target's record holds it, a list's items too."""
    if isinstance(cell, (list, tuple)):
        return [_scalar(item) for item in cell]
    return _scalar(cell)


def _one_by_one(series: pd.Series, column: str, test: _Test, items: bool) -> Bools:
    """The python target's test on each value (``items``: each as the one item of a list): for
    object cells of dicts or mixed types, which pandas has no typed vectorised operation on."""
    predicate = test.predicate
    cells = series.to_numpy(dtype=object)
    records: Iterator[dict[str, object]]
    if items:
        records = ({column: [_scalar(cell)]} for cell in cells)
    else:
        records = ({column: _plain(cell)} for cell in cells)
    return np.fromiter(map(predicate, records), dtype=bool, count=len(cells))


def _list_items(series: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Series] | None:
    """For an object column whose cells are lists (or tuples, or arrays) or missing: the row of
    each item, and the items; None for one that holds anything else."""
    cells = series.to_numpy(dtype=object)
    lengths = np.zeros(len(cells), dtype=np.intp)
    flat: list[object] = []
    for at, cell in enumerate(cells):
        if isinstance(cell, _SEQUENCES):
            lengths[at] = len(cell)
            flat.extend(cell)
        elif _scalar(cell) is not None:
            return None
    owners = np.repeat(np.arange(len(cells)), lengths)
    return owners, pd.Series([_scalar(item) for item in flat], dtype=object)


def _any_item(hits: Bools | bool, owners: npt.NDArray[np.intp], count: int) -> Bools | bool:
    """Each row's any over its items' ``hits``."""
    if isinstance(hits, bool):
        if not hits:
            return False
        hits = np.ones(len(owners), dtype=bool)
    out = np.zeros(count, dtype=bool)
    out[owners[hits]] = True
    return out


def _strings(series: pd.Series, test: _Test, items: bool) -> Bools | bool:
    texts = [v.value for v in test.values if isinstance(v, String)]
    if not texts:
        return False
    if test.contains and not items:
        if texts[0] == "":
            return _bools(series.notna())  # every string contains ''
        return _bools(series.str.contains(texts[0], regex=False))
    if len(texts) == 1:
        return _bools(series == texts[0])
    return _bools(series.isin(texts))


def _booleans(series: pd.Series, test: _Test) -> Bools | bool:
    flags = {v.value for v in test.values if isinstance(v, Boolean)}
    if not flags:
        return False
    present = _bools(series.notna())
    if len(flags) == 2:
        return present
    data = _bools(series)
    return (data if True in flags else ~data) & present


def _numbers(series: pd.Series, kind: str, test: _Test) -> Bools | bool:
    numbers = [v.value for v in test.values if isinstance(v, Number)]
    if not numbers:
        return False
    dtype = series.dtype
    numpy_dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype.numpy_dtype)
    wanted: list[int | float] = []
    if kind == "integer":
        info = np.iinfo(numpy_dtype)
        for number in numbers:
            found = equal_number(number, "integer", (int(info.min), int(info.max)))
            if found is not None and found not in wanted:
                wanted.append(found)
    else:
        numpy_dtype = np.dtype(np.float64)  # every float type widens to it exactly
        for number in numbers:
            found = equal_number(number, "float")
            if found is not None and found not in wanted:
                wanted.append(found)
    if not wanted:
        return False
    data = series.to_numpy(dtype=numpy_dtype, na_value=0)
    present = _bools(series.notna())
    return np.isin(data, np.array(wanted, dtype=numpy_dtype)) & present


def _objects(series: pd.Series, test: _Test, items: bool, column: str) -> Bools | bool:
    held = infer_dtype(series, skipna=True)
    if held == "empty":
        return False
    if held == "string":
        return _strings(series, test, items)
    if held == "boolean":
        return _booleans(pd.Series(pd.array(series, dtype="boolean")), test)
    if held in _NUMERIC_OBJECTS:
        numbers = [v.value for v in test.values if isinstance(v, Number)]
        if not numbers:
            return False
        hits = np.zeros(len(series), dtype=bool)
        for number in numbers:  # Python's own ==, cell by cell: exact for any number type
            hits |= _bools(series == number)
        return hits
    if not items:
        found = _list_items(series)
        if found is not None:
            owners, values = found
            return _any_item(_objects(values, test, True, column), owners, len(series))
    return _one_by_one(series, column, test, items)


def _lists(series: pd.Series, test: _Test) -> Bools | bool:
    """An ``ArrowDtype`` list column, item by item (whole items: ``~~`` is an item equal to
    the value): the items' test once over all of them, then each row's any."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pa.array(series.array)
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    items = pd.Series(pd.arrays.ArrowExtensionArray(pc.list_flatten(lists)))
    owners = np.repeat(np.arange(len(series)), lengths)
    return _any_item(_positive(items, test, True, ""), owners, len(series))


def _positive(series: pd.Series, test: _Test, items: bool, column: str) -> Bools | bool:
    """The positive test on ``series`` (``items``: the items of lists, tested whole)."""
    dtype = series.dtype
    kind = kind_of_dtype(dtype)
    if kind == "category":
        assert isinstance(dtype, pd.CategoricalDtype)
        found = _positive(pd.Series(dtype.categories), test, items, column)
        codes = series.cat.codes.to_numpy()
        if isinstance(found, bool):
            return found and codes >= 0
        out: Bools = np.append(found, False)[codes]  # code -1 (missing): the False at the end
        return out
    if kind == "object":
        return _objects(series, test, items, column)
    if kind == "string":
        return _strings(series, test, items)
    if kind == "boolean":
        return _booleans(series, test)
    if kind in ("integer", "float"):
        return _numbers(series, kind, test)
    if kind == "list" and not items:
        return _lists(series, test)
    return False  # a list in a list, or a struct in a list: no item equals anything


def _field(series: pd.Series, name: str) -> pd.Series:
    """A field of an ``ArrowDtype`` struct column (missing where the struct is)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    structs = pa.array(series.array)
    index = structs.type.get_field_index(name)
    return pd.Series(pd.arrays.ArrowExtensionArray(pc.struct_field(structs, [index])))


# --- the mask -------------------------------------------------------------------------------


class Mask:
    """A compiled filter over pandas DataFrames: ``mask(df)`` is the boolean ``pd.Series`` of
    the rows that match, aligned to ``df.index``.

    ``expr`` is the filter it was compiled from; ``repr`` shows it as canonical FlowQL. A mask
    is immutable, safe to share between threads, and pickles as its filter.
    """

    __slots__ = ("_expr", "_tests")

    def __init__(self, expr: Expr) -> None:
        self._expr = expr
        tests: dict[int, _Test] = {}

        def leaf(node: Comparison | In, negate: bool) -> bool:
            tests[id(node)] = _Test(node, negate)
            return True

        fold_negated(expr, leaf, connect)
        self._tests = tests

    @property
    def expr(self) -> Expr:
        """The filter this mask evaluates."""
        return self._expr

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        """The rows of ``frame`` that match, as a boolean Series on its index. Raises
        :class:`~flowql.errors.UnsupportedError` (every problem, each with the key's span) for a
        key the frame lacks (FQ605) or a column FlowQL values cannot be compared with (FQ601),
        and :class:`TypeError` for something that is not a DataFrame."""
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"a pandas mask is applied to a DataFrame, not {type(frame).__name__}")
        layout, twice = _layout(frame)
        places: dict[str, _Place] = {}
        problems: list[Diagnostic] = []
        for test in self._tests.values():
            if test.never or test.key.name in places:
                continue
            found = _place(test.key, layout, twice)
            if isinstance(found, Diagnostic):
                problems.append(found)
            else:
                places[test.key.name] = found
        if problems:
            raise UnsupportedError(problems)
        columns: dict[str, pd.Series] = {}

        def values(name: str) -> pd.Series:
            if name not in columns:
                place = places[name]
                series = frame[place.column].reset_index(drop=True)
                for field in place.fields:
                    series = _field(series, field)
                columns[name] = series
            return columns[name]

        def leaf(node: Comparison | In, negate: bool) -> Bools | bool:
            test = self._tests[id(node)]
            if test.never:
                return not test.positive
            place = places[test.key.name]
            series = values(test.key.name)
            if place.through:
                found: Bools | bool = _one_by_one(series, place.column, test, False)
            else:
                found = _positive(series, test, False, place.column)
            if isinstance(found, bool):
                return found == test.positive
            return found if test.positive else ~found

        result = fold_negated(self._expr, leaf, connect)
        if isinstance(result, bool):
            return pd.Series(result, index=frame.index, dtype=bool)
        return pd.Series(result, index=frame.index, dtype=bool, copy=False)

    def __repr__(self) -> str:
        text = format(self._expr)
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"Mask({quoted})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Mask, (self._expr,))


def _schema(schema: object) -> tuple[dict[str, object], set[str]] | TableSchema | None:
    """The layout of a frame or its dtypes (or of a mapping of dtypes); another table's schema,
    or kinds by key, as the sql and polars targets read them; or None."""
    if isinstance(schema, (pd.DataFrame, pd.Series)):
        return _layout(schema)
    if isinstance(schema, Mapping) and schema:
        values = list(schema.values())
        if all(isinstance(v, (np.dtype, pd.api.extensions.ExtensionDtype)) for v in values):
            return {str(k): v for k, v in schema.items()}, set()
    return read_schema(schema, MaskOptionError)


def compile_mask(expr: Expr, schema: object = None) -> Mask:
    """``expr`` as a :class:`Mask`. ``schema`` is the frame (``df``), its ``df.dtypes``, a
    mapping of column -> dtype, another table's schema (:mod:`flowql.targets.table_schemas`:
    pyarrow, Parquet, polars...) or keys to kinds (``string``, ``integer``, ``float``,
    ``boolean``, ``list[...]``); it checks the filter's keys and their columns' types now
    (the mask checks the frame it is given the same way). Raises :class:`MaskOptionError` for a
    bad schema and :class:`~flowql.errors.UnsupportedError` with every problem, each with its
    span.

    >>> import pandas as pd
    >>> from flowql import parse
    >>> df = pd.DataFrame({"k": ["50%", "5", None], "n": [1, 2, None]})
    >>> mask = compile_mask(parse("k ~~ '%' OR n != 2"), df)
    >>> df[mask(df)]["k"].tolist()
    ['50%', None]
    """
    if not isinstance(expr, (Comparison, In, Not, And, Or)):
        raise TypeError(f"not a FlowQL expression: {expr!r}")
    read = _schema(schema)
    mask = Mask(expr)
    problems: list[Diagnostic] = []
    seen: set[str] = set()
    for test in mask._tests.values():
        key = test.key
        if test.never or key.name in seen or read is None:
            continue
        seen.add(key.name)
        if isinstance(read, tuple):
            found = _place(key, *read)
            if isinstance(found, Diagnostic):
                problems.append(found)
        elif key.name in read.others:
            problems.append(
                Diagnostic(
                    "FQ601",
                    f"the pandas target cannot compare column {key.name!r} (of type "
                    f"{read.others[key.name]}) with FlowQL values",
                    key.span,
                    hint="cast the column to a string, a number or a boolean first",
                )
            )
        elif key.name not in read.kinds:
            problems.append(missing_column(key.name, key.span, [*read.kinds, *read.others]))
    if problems:
        raise UnsupportedError(problems)
    return mask


def column_kinds(expr: Expr, schema: object) -> dict[str, str] | None:
    """The kinds (``string``, ``integer``, ``float``, ``boolean``, ``list[...]``) that
    ``schema`` gives the filter's keys, for the FQ606 warnings the sql and polars targets give
    too: a key whose column may hold anything (``object``, a ``uint64`` beyond what those
    warnings take) is left out. None without a schema. ``schema`` is checked as
    :func:`compile_mask` checks it."""
    read = _schema(schema)
    if read is None or not isinstance(read, tuple):
        return read.kinds if read is not None else None
    kinds: dict[str, str] = {}
    for node in walk(expr):
        if isinstance(node, (Comparison, In)) and node.key.name not in kinds:
            place = _place(node.key, *read)
            if isinstance(place, _Place) and not place.through:
                kind = _scalar_kind(place.dtype)
                if kind is not None:
                    kinds[node.key.name] = kind
    return kinds


def _scalar_kind(dtype: object) -> str | None:
    """The kind a column of ``dtype`` holds for certain, or None."""
    kind = kind_of_dtype(dtype)
    if kind == "category":
        assert isinstance(dtype, pd.CategoricalDtype)
        if dtype.categories is None:
            return None
        held = infer_dtype(dtype.categories, skipna=True)
        return {"string": "string", "integer": "integer", "floating": "float"}.get(held)
    if kind == "list":
        assert isinstance(dtype, pd.ArrowDtype)
        item = _scalar_kind(pd.ArrowDtype(dtype.pyarrow_dtype.value_type))
        return f"list[{item}]" if item is not None else None
    if kind == "integer":
        numpy_dtype = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is None or np.dtype(numpy_dtype) == np.uint64:
            return None  # beyond the 64-bit signed integers the warnings take
    return kind if kind in ("string", "integer", "float", "boolean") else None
