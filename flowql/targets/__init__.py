"""Targets: what a FlowQL filter becomes when it is sent to an API.

- :mod:`flowql.targets.conviva_flow`: the ``filter`` query parameter of the Conviva DPI Flow API
  (``compile_filter``), the filter lowered to the Flow syntax: ``==`` ``!=`` ``~~`` ``!~``,
  ``AND``, ``OR`` and parentheses.
- :mod:`flowql.targets.conviva_sessions`: the ``key=value`` query parameters of Conviva
  Sessions V3 and Metrics V3 (``compile_params``), which can only say "this key is one of these
  values, and that key is one of those".
- :mod:`flowql.targets.klaviyo`: the general Klaviyo filter syntax (``equals``, ``any``,
  ``contains``, ``and``), written (``compile_filter``) and read back (``read_filter``).
- :mod:`flowql.targets.sql`: a SQL boolean expression (a ``WHERE`` clause) for one of ten
  dialects (``compile_clause``), built with sqlglot (the ``flowql[sql]`` extra).
- :mod:`flowql.targets.frame`: the ``polars`` target, a polars expression
  (``compile_expression``).
- :mod:`flowql.targets.pandas_mask`: the ``pandas`` target, a mask over a pandas DataFrame
  (``compile_mask``: ``mask(df)`` is a boolean Series).
- :mod:`flowql.targets.table_schemas`: a table's schema (pyarrow, polars, DuckDB, pandas,
  flowql's data model) as the column kinds the ``sql`` and ``polars`` targets take.
- :mod:`flowql.targets.python`: the local evaluator, a predicate over records
  (``compile_predicate``, ``filter_records``), which can express everything.

A target never emits a filter that means something else: what it cannot express it refuses with
:class:`~flowql.errors.UnsupportedError` (FQ601), every problem collected first.
"""

from __future__ import annotations

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError
from flowql.targets.klaviyo_targets import KLAVIYO_ENDPOINT_TARGETS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from flowql.ast import Expr
    from flowql.targets.pandas_mask import Mask
    from flowql.targets.python import Predicate

__all__ = ["CompileResult", "Target", "TargetError", "compile", "get_target", "targets"]


class TargetError(FlowQLError):
    """A target name flowql does not know (code FQ603), with the names it does know."""


class CompileResult:
    """What a target made of a filter.

    ``filter`` is the text for targets that send text (``conviva-flow``, ``klaviyo``, ``sql``);
    ``params`` the ``(key, value)`` query parameters for ``conviva-sessions``; ``predicate`` the
    callable for ``python``; ``expression`` the ``polars.Expr`` for ``polars``; ``mask`` the
    callable for ``pandas`` (``mask(df)``, a boolean Series). ``warnings`` are diagnostics
    about a filter that was compiled nonetheless (FQ602 for ``conviva-flow``; FQ606 for
    ``sql``, ``polars`` and ``pandas``: a test the schema's column types contradict).
    Immutable.
    """

    __slots__ = (
        "_expression",
        "_filter",
        "_mask",
        "_params",
        "_predicate",
        "_target",
        "_warnings",
    )

    def __init__(
        self,
        target: str,
        *,
        filter: str | None = None,
        params: list[tuple[str, str]] | None = None,
        predicate: Predicate | None = None,
        expression: object = None,
        mask: Mask | None = None,
        warnings: list[Diagnostic] | None = None,
    ) -> None:
        self._target = target
        self._expression = expression
        self._mask = mask
        self._filter = filter
        self._params = tuple(params) if params is not None else None
        self._predicate = predicate
        self._warnings = tuple(warnings or ())

    @property
    def target(self) -> str:
        """The target's name."""
        return self._target

    @property
    def filter(self) -> str | None:
        """The compiled filter text, for text targets."""
        return self._filter

    @property
    def params(self) -> tuple[tuple[str, str], ...] | None:
        """The query parameters, for ``conviva-sessions``."""
        return self._params

    @property
    def predicate(self) -> Predicate | None:
        """The record predicate, for ``python``."""
        return self._predicate

    @property
    def expression(self) -> object:
        """The ``polars.Expr``, for ``polars``."""
        return self._expression

    @property
    def mask(self) -> Mask | None:
        """The DataFrame mask, for ``pandas``: ``mask(df)`` is a boolean ``pd.Series``."""
        return self._mask

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Diagnostics about the compiled filter (it was compiled nonetheless)."""
        return self._warnings

    def to_dict(self) -> dict[str, object]:
        """``{"target": T, "filter": "..."}`` or ``{"target": T, "params": [[k, v], ...]}``."""
        if self._params is not None:
            return {"target": self._target, "params": [list(p) for p in self._params]}
        return {"target": self._target, "filter": self._filter}

    def __repr__(self) -> str:
        shown = self._params if self._params is not None else self._filter
        return f"CompileResult({self._target!r}, {shown!r})"


class Target:
    """A target API: its name, what it is, and how to compile a filter for it (and read its text
    form back, when it has one)."""

    __slots__ = ("_compile", "_read", "description", "name", "options", "output")

    def __init__(
        self,
        name: str,
        description: str,
        output: str,
        compile: Callable[..., CompileResult],
        read: Callable[[str], Expr] | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.description = description
        self.output = output
        self._compile = compile
        self._read = read
        self.options = options

    @property
    def reads(self) -> bool:
        """Whether the target's text form can be read back into FlowQL."""
        return self._read is not None

    def compile(self, expr: Expr, **options: object) -> CompileResult:
        """Compile a tree for this target; raises UnsupportedError for what it cannot express.
        ``options`` are the target's own (:attr:`options`: a Klaviyo endpoint target's
        ``revision``); one it does not take is a :class:`TargetError` (FQ603)."""
        unknown = [name for name in options if name not in self.options]
        if unknown:
            takes = ", ".join(self.options) if self.options else "none"
            raise TargetError(
                Diagnostic(
                    "FQ603",
                    f"the {self.name} target takes no option '{unknown[0]}'",
                    None,
                    hint=f"its options: {takes}",
                )
            )
        return self._compile(expr, **options)

    def read(self, text: str) -> Expr:
        """Read this target's text form back into a tree, with positions in ``text``."""
        if self._read is None:
            raise TargetError(
                Diagnostic("FQ603", f"the {self.name} target has no text form to read", None)
            )
        return self._read(text)

    def __repr__(self) -> str:
        return f"<Target {self.name}>"


def _conviva_flow(expr: Expr) -> CompileResult:
    from flowql.targets.conviva_flow import compile_filter

    text, warnings = compile_filter(expr)
    return CompileResult("conviva-flow", filter=text, warnings=warnings)


def _conviva_sessions(expr: Expr) -> CompileResult:
    from flowql.targets.conviva_sessions import compile_params

    return CompileResult("conviva-sessions", params=compile_params(expr))


def _klaviyo(expr: Expr) -> CompileResult:
    from flowql.targets.klaviyo import compile_filter

    return CompileResult("klaviyo", filter=compile_filter(expr))


def _python(expr: Expr) -> CompileResult:
    from flowql.targets.python import compile_predicate

    return CompileResult("python", predicate=compile_predicate(expr))


def _sql(expr: Expr, dialect: object = "duckdb", schema: object = None) -> CompileResult:
    try:
        from flowql.targets.sql import SqlOptionError, compile_clause
    except ImportError:
        from flowql.extras import missing_extra

        raise TargetError(missing_extra("sqlglot", "sql", "SQL clauses")) from None
    from flowql.targets._type_warnings import contradictions
    from flowql.targets.table_schemas import read_schema

    try:
        table = read_schema(schema, SqlOptionError)
        text = compile_clause(expr, dialect, table)
    except SqlOptionError as exc:  # an option, as FQ603 is: the CLI's usage errors
        raise TargetError(exc.diagnostics) from None
    warnings = contradictions(expr, table.kinds if table is not None else None)
    return CompileResult("sql", filter=text, warnings=warnings)


def _polars(expr: Expr, schema: object = None) -> CompileResult:
    try:
        from flowql.targets.frame import FrameOptionError, compile_expression
    except ImportError:
        from flowql.extras import missing_extra

        raise TargetError(missing_extra("polars", "polars", "polars expressions")) from None
    from flowql.targets._type_warnings import contradictions
    from flowql.targets.table_schemas import read_schema

    try:
        table = read_schema(schema, FrameOptionError)
        expression = compile_expression(expr, table)
    except FrameOptionError as exc:
        raise TargetError(exc.diagnostics) from None
    warnings = contradictions(expr, table.kinds if table is not None else None)
    return CompileResult("polars", expression=expression, warnings=warnings)


def _pandas(expr: Expr, schema: object = None) -> CompileResult:
    try:
        from flowql.targets.pandas_mask import MaskOptionError, column_kinds, compile_mask
    except ImportError:
        from flowql.extras import missing_extra

        raise TargetError(missing_extra("pandas", "pandas", "pandas masks")) from None
    from flowql.targets._type_warnings import contradictions

    try:
        mask = compile_mask(expr, schema)
        kinds = column_kinds(expr, schema)
    except MaskOptionError as exc:
        raise TargetError(exc.diagnostics) from None
    return CompileResult("pandas", mask=mask, warnings=contradictions(expr, kinds))


def _read_conviva_flow(text: str) -> Expr:
    from flowql.targets.conviva_flow import read_filter

    return read_filter(text)


def _read_conviva_sessions(text: str) -> Expr:
    from flowql.targets.conviva_sessions import read_query

    return read_query(text)


def _read_klaviyo(text: str) -> Expr:
    from flowql.targets.klaviyo import read_filter

    return read_filter(text)


# Targets import their modules only when used: `flowql check` and `import flowql` stay quick.
_TARGETS = {
    t.name: t
    for t in (
        Target(
            "conviva-flow",
            "the filter parameter of the Conviva DPI Flow API",
            "filter",
            _conviva_flow,
            _read_conviva_flow,
        ),
        Target(
            "conviva-sessions",
            "the key=value parameters of Conviva Sessions V3 and Metrics V3",
            "params",
            _conviva_sessions,
            _read_conviva_sessions,
        ),
        Target(
            "klaviyo",
            "the general Klaviyo filter syntax (equals, any, contains, and)",
            "filter",
            _klaviyo,
            _read_klaviyo,
        ),
        Target(
            "sql",
            "a SQL boolean expression (WHERE clause) for DuckDB, SQLite, PostgreSQL, Spark, "
            "BigQuery, Snowflake, Trino, ClickHouse or MySQL",
            "filter",
            _sql,
            options=("dialect", "schema"),
        ),
        Target(
            "polars",
            "a polars expression, for DataFrame.filter",
            "expression",
            _polars,
            options=("schema",),
        ),
        Target(
            "pandas",
            "a mask over a pandas DataFrame (mask(df), a boolean Series)",
            "mask",
            _pandas,
            options=("schema",),
        ),
        Target(
            "python",
            "a predicate over records: flowql's local evaluator",
            "predicate",
            _python,
        ),
    )
}


def _klaviyo_endpoint(name: str) -> Callable[..., CompileResult]:
    def compile_(expr: Expr, revision: object = None) -> CompileResult:
        from flowql.klaviyo_revisions import RevisionError
        from flowql.targets.klaviyo_endpoints import compile_for

        if revision is not None and not isinstance(revision, str):
            raise TargetError(
                Diagnostic("FQ603", "a Klaviyo revision is text, such as 2026-07-15", None)
            )
        try:
            return CompileResult(name, filter=compile_for(name, expr, revision))
        except RevisionError as exc:
            raise TargetError(Diagnostic("FQ603", str(exc), None, hint=exc.hint)) from None

    return compile_


_TARGETS.update(
    (name, Target(name, description, "filter", _klaviyo_endpoint(name), options=("revision",)))
    for name, description in KLAVIYO_ENDPOINT_TARGETS.items()
)


def targets() -> list[Target]:
    """Every target flowql knows, by name."""
    return [_TARGETS[name] for name in sorted(_TARGETS)]


def get_target(name: str) -> Target:
    """The target of this name; raises :class:`TargetError` (with "did you mean") if unknown."""
    found = _TARGETS.get(name)
    if found is not None:
        return found
    from flowql.diagnostics import did_you_mean

    # A looser cutoff than for keys: target names share long prefixes (klaviyo-...-report).
    hint = did_you_mean(name, _TARGETS, cutoff=0.5)
    known = ", ".join(sorted(_TARGETS))
    raise TargetError(
        Diagnostic("FQ603", f"unknown target '{name}'; the targets are {known}", None, hint=hint)
    )


def compile(source: str | Expr, target: str = "conviva-flow", **options: object) -> CompileResult:
    """Compile FlowQL text or a tree for a target. ``options`` are the target's own: a Klaviyo
    endpoint target takes ``revision`` (default :data:`flowql.query.KLAVIYO_REVISION`), the
    Klaviyo API revision whose fields and values the filter is checked against; ``sql`` takes
    ``dialect`` (default ``duckdb``) and ``schema`` (column -> ``string``, ``integer``,
    ``float``, ``boolean`` or ``list[...]``, or a table's schema: see :func:`flowql.table_schema`),
    its text in :attr:`CompileResult.filter`; ``polars`` takes ``schema`` (``df.schema``, or as
    for ``sql``), its ``polars.Expr`` in :attr:`CompileResult.expression`. Their
    :attr:`CompileResult.warnings` hold an FQ606 for each test the schema contradicts.
    ``pandas`` takes ``schema`` (``df``, ``df.dtypes``, or kinds), its
    :class:`~flowql.targets.pandas_mask.Mask` in :attr:`CompileResult.mask`, and warns alike.

    Raises :class:`~flowql.errors.ParseError` for text that does not parse,
    :class:`~flowql.errors.UnsupportedError` (every problem, each with its span and what to do
    instead) for what the target cannot express, and :class:`TargetError` for an unknown
    target. A compiled filter always means exactly what the source means.
    """
    chosen = get_target(target)
    if isinstance(source, str):
        from flowql.syntax import parse

        return chosen.compile(parse(source), **options)
    return chosen.compile(source, **options)
