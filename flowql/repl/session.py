"""The REPL's session: the settings a query is made of, the checks, and the current query.

A :class:`Session` holds what the commands set: the target, the data model, the flow, the time
range, the group-by dimension and the limit, and the last filter submitted. From them it

- checks a filter as it is typed (:meth:`Session.check`): syntax, the data model's keys and
  values, logic, what the target can express, and the request URL budget, the same checks as
  ``flowql check`` with the same codes;
- builds the current query (:meth:`Session.current_query`): the filter compiled for the target
  and the request it goes in (a Conviva URL, a Klaviyo request). This is what ``:show`` prints,
  and what running a query takes;
- answers completion (:meth:`keys`, :meth:`dimension`, :meth:`values`): the keys of the model
  for the flow, and values known from the model, from results (:meth:`remember_values`), from
  filters typed before, and from any source added with :meth:`add_value_source`;
- keeps what running a query needs and gives: the Klaviyo report settings
  (:attr:`Session.statistics`, :attr:`Session.conversion`), the :class:`~flowql.repl.run.Runner`
  that runs queries (:meth:`Session.runner`), and the last result (:meth:`Session.set_result`).

Nothing here imports prompt_toolkit: scripts (``flowql repl < script``) run on this alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from flowql.apis import URL_LIMIT, Api, target_api
from flowql.diagnostics import Diagnostic, Severity, closest
from flowql.errors import FlowQLError, UnsupportedError
from flowql.repl.errors import CommandError, command_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from flowql.ast import Expr
    from flowql.model import DataModel, Dimension
    from flowql.query import AnyQuery, Plan, Request
    from flowql.repl.run import Runner
    from flowql.results import Result
    from flowql.targets import CompileResult, Target

__all__ = [
    "DEFAULT_TARGET",
    "Check",
    "CommandError",
    "Query",
    "Session",
    "TimeRange",
    "api_of",
    "parse_duration",
    "parse_time",
]

DEFAULT_TARGET = "conviva-flow"
"""The target a session starts with."""


_UTC = dt.timezone.utc
_REAL_TIME_MAX = dt.timedelta(minutes=15)
_KLAVIYO_MAX = dt.timedelta(days=366)
# Klaviyo's relative timeframes, used when `:last` is exactly one of them.
_KLAVIYO_KEYS = {
    dt.timedelta(days=7): "last_7_days",
    dt.timedelta(days=30): "last_30_days",
    dt.timedelta(days=90): "last_90_days",
    dt.timedelta(days=365): "last_365_days",
}
# Values remembered per key, at most: completion lists, not a database.
_MAX_VALUES = 500
# Record keys whose values are times or ids of a row, shown first in a table.
_LEADING_COLUMNS = (
    "timestamp",
    "date_time",
    "window_start",
    "window_end",
    "timestamps.start.iso_date",
)


def _error(message: str, hint: str | None = None, code: str = "FQ804") -> CommandError:
    return command_error(message, hint, code)


api_of = target_api
"""The API a target sends to and its Klaviyo family (:func:`flowql.apis.target_api`)."""


# --- time ------------------------------------------------------------------------------------


def parse_duration(text: str) -> dt.timedelta:
    """A duration written ``15m``, ``1h``, ``1h30m``, ``7d``, ``1w``, ``90s`` or in ISO 8601
    (``PT15M``, ``P7D``), by :func:`flowql.times.parse_duration`. Raises
    :class:`CommandError`."""
    from flowql import times

    try:
        return times.parse_duration(text)
    except times.TimeError as exc:
        raise _error(exc.message, exc.hint or "write it as 15m, 1h, 1h30m, 7d or PT15M") from None


def parse_time(text: str, tz: str | None = None, now: dt.datetime | None = None) -> dt.datetime:
    """A point in time, by the rules of :func:`flowql.times.parse_time` (ISO 8601, epoch seconds
    or milliseconds, ``now``, ``-2h``; naive times in ``tz``, default UTC). Raises
    :class:`CommandError` (FQ702)."""
    from flowql import times

    try:
        return times.parse_time(text, tz=tz, now=now)
    except times.TimeError as exc:
        raise _error(exc.message, exc.hint, code="FQ702") from None


def _show_duration(duration: dt.timedelta) -> str:
    from flowql.times import format_duration

    return format_duration(duration, weeks=False)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TimeRange:
    """The time a query covers: the last ``duration`` before now, or ``start`` to ``end``."""

    __slots__ = ("duration", "end", "start")

    def __init__(
        self,
        *,
        duration: dt.timedelta | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> None:
        if (duration is None) == (start is None or end is None):
            raise ValueError("give a duration, or a start and an end")
        if start is not None and end is not None and start >= end:
            raise _error(
                "the range ends before it starts", "give the earlier time first", code="FQ702"
            )
        self.duration = duration
        self.start = start
        self.end = end

    @property
    def relative(self) -> bool:
        """Whether the range is the last ``duration`` before now."""
        return self.duration is not None

    def bounds(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """Start and end, for a relative range as of ``now``."""
        if self.duration is not None:
            return now - self.duration, now
        assert self.start is not None
        assert self.end is not None
        return self.start, self.end

    def length(self) -> dt.timedelta:
        """How long the range is."""
        if self.duration is not None:
            return self.duration
        assert self.start is not None
        assert self.end is not None
        return self.end - self.start

    def __str__(self) -> str:
        if self.duration is not None:
            return f"last {_show_duration(self.duration)}"
        assert self.start is not None
        assert self.end is not None
        return f"{_iso(self.start)} to {_iso(self.end)}"


# --- results of a check and of a query -------------------------------------------------------


class Check:
    """What :meth:`Session.check` found in a filter.

    ``diagnostics`` are sorted by position; ``expr`` is the tree (None when the text does not
    parse); ``unfinished`` says the text is the start of a filter that is not complete yet
    (Enter then continues it on a new line); ``half_typed`` is the operator character the text
    ends with when an operator is being typed there (``geo_country ~``); ``compiled`` is the
    target's output when the target accepts the filter; ``url_length`` the request URL's length
    for a Conviva target (None when there is no request to measure, and ``request_note`` says
    why).
    """

    __slots__ = (
        "compiled",
        "diagnostics",
        "expr",
        "half_typed",
        "request_note",
        "text",
        "unfinished",
        "url_length",
        "url_limit",
    )

    def __init__(
        self,
        text: str,
        *,
        expr: Expr | None = None,
        diagnostics: Sequence[Diagnostic] = (),
        unfinished: bool = False,
        half_typed: str | None = None,
        compiled: CompileResult | None = None,
        url_length: int | None = None,
        url_limit: int = URL_LIMIT,
        request_note: str | None = None,
    ) -> None:
        self.text = text
        self.expr = expr
        self.diagnostics = list(diagnostics)
        self.unfinished = unfinished
        self.half_typed = half_typed
        self.compiled = compiled
        self.url_length = url_length
        self.url_limit = url_limit
        self.request_note = request_note

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of error severity."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        """Whether the filter parses, and nothing of error severity was found."""
        return self.expr is not None and not self.errors


class Query:
    """The current query: the session's settings and the filter, compiled, and the query value
    of :mod:`flowql.query` they make (``value``, built by :func:`flowql.query.build_query` from
    ``api``, ``endpoint`` and ``fields``, as ``flowql query`` and manifests build theirs) with
    its ``plan``: the requests ``:run`` sends, which ``:show`` prints.

    ``value`` and ``plan`` are None for the general ``klaviyo`` and the ``python`` targets,
    which have no one endpoint; ``problem`` is the :class:`~flowql.query.QueryError` that kept
    the settings from planning (a missing statistic, say), which ``:run`` raises.
    ``start``/``end`` are the time range as of when the query was built; ``windows`` the
    number of requests; ``server_bucket`` whether the server buckets as ``:bucket`` asks
    (see :func:`flowql.merging.bucket_query`).
    """

    __slots__ = (
        "api",
        "compiled",
        "end",
        "endpoint",
        "expr",
        "family",
        "fields",
        "flow",
        "group_by",
        "limit",
        "model",
        "plan",
        "problem",
        "server_bucket",
        "start",
        "target",
        "text",
        "time_range",
        "value",
        "windows",
    )

    def __init__(
        self,
        *,
        target: str,
        model: DataModel,
        flow: str | None,
        time_range: TimeRange,
        start: dt.datetime,
        end: dt.datetime,
        group_by: str | None,
        limit: int | None,
        text: str,
        expr: Expr,
        compiled: CompileResult,
        endpoint: str | None = None,
        fields: Mapping[str, object] | None = None,
        value: AnyQuery | None = None,
        plan: Plan | None = None,
        problem: FlowQLError | None = None,
        server_bucket: bool = False,
    ) -> None:
        self.server_bucket = server_bucket
        self.target = target
        self.api, self.family = api_of(target)
        self.model = model
        self.flow = flow
        self.time_range = time_range
        self.start = start
        self.end = end
        self.group_by = group_by
        self.limit = limit
        self.text = text
        self.expr = expr
        self.compiled = compiled
        self.endpoint = endpoint
        self.fields = dict(fields or {})
        self.value = value
        self.plan = plan
        self.problem = problem
        self.windows = max(1, len(plan.requests)) if plan is not None else 1

    @property
    def request(self) -> Request | None:
        """The first request :meth:`Runner.run <flowql.repl.run.Runner.run>` sends, or None."""
        return self.plan.requests[0] if self.plan is not None else None

    @property
    def url(self) -> str | None:
        """The first request's absolute URL at the API (not the sandbox), or None."""
        from flowql.apis import api_spec

        if self.plan is None:
            return None
        base = api_spec(self.plan.query.api).base_url.rstrip("/")
        return base + "/" + self.plan.requests[0].path.lstrip("/")


def compiled_text(compiled: CompileResult) -> str:
    """The target's output as one line: the filter text, the query parameters
    (``key=value&...``, percent-encoded), or for the python, polars and pandas targets a note."""
    if compiled.params is not None:
        from flowql.urls import encode_query

        return encode_query(compiled.params, mark=False)
    if compiled.filter is not None:
        return compiled.filter
    if compiled.expression is not None:
        return "a polars expression, for DataFrame.filter; nothing is sent"
    if compiled.mask is not None:
        return "a pandas mask, for df[mask(df)]; nothing is sent"
    return "a predicate over records (flowql's local evaluator); nothing is sent"


# --- the session ------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(_UTC).replace(microsecond=0)


class Session:
    """The REPL's state, and everything computed from it.

    Settings change through the ``set_*`` methods (the commands call them), each of which
    checks its argument and raises :class:`CommandError` (or the :class:`FlowQLError` of the
    part that refused it) with a hint. ``version`` grows with every change, so that cached
    checks can tell they are stale. ``clock`` gives the current time (UTC), for relative ranges.

    Running queries: ``runner`` is the :class:`~flowql.repl.run.Runner` to use (by default one
    is made on first use, with the environment's credentials or the sandbox); ``width`` is how
    wide a table may be (the terminal's; None in scripts). ``last_result`` is what ``:export``
    writes; ``fetched_result`` the last result an API returned, which the ``python`` target
    filters. ``metrics`` maps Klaviyo metric ids to names, as results have shown them, for
    completing ``:conversion``. ``statistics``, ``conversion`` and ``columns`` are what
    ``:statistics``, ``:conversion`` and ``:columns`` set. Call :meth:`close` at the end (it
    stops the runner's sandbox).
    """

    def __init__(
        self,
        *,
        target: str = DEFAULT_TARGET,
        url_limit: int = URL_LIMIT,
        clock: Callable[[], dt.datetime] = _now,
        runner: Runner | None = None,
    ) -> None:
        self.target = DEFAULT_TARGET
        self.loaded: DataModel | None = None
        self.loaded_from: str | None = None
        self.flow: str | None = None
        self.time_range = TimeRange(duration=dt.timedelta(minutes=15))
        self.group_by: str | None = None
        self.limit: int | None = None
        self.filter: str | None = None
        # The last filter typed, errors and all: what :fix repairs.
        self.typed: str | None = None
        self.tz: str | None = None
        self.bucket: str | None = None
        self.names = "labels"
        self.url_limit = url_limit
        self.clock = clock
        self.version = 0
        self._builtin: dict[str, DataModel] = {}
        self._results: dict[str, dict[str, None]] = {}
        self._typed: dict[str, dict[str, None]] = {}
        self._sources: list[tuple[str, Callable[[str], Iterable[str]]]] = []
        self.statistics: tuple[str, ...] = ()
        self.conversion: str | None = None
        self.revision: str | None = None
        self._configured_revision: tuple[str | None] | None = None  # read on first use
        self.columns: tuple[str, ...] = ()
        self.width: int | None = None
        self.expanded = "auto"  # :expanded: auto, on or off (flowql.display.EXPANDED)
        self.pager = True  # :pager: long results through $PAGER on a terminal
        self.last_result: Result | None = None
        self.fetched_result: Result | None = None
        self.metrics: dict[str, str] = {}
        self._records: DataModel | None = None
        self._runner = runner
        if target != DEFAULT_TARGET:
            self.set_target(target)

    def _changed(self) -> None:
        self.version += 1

    # --- the model ---------------------------------------------------------------------------

    @property
    def api(self) -> str:
        """The API the current target sends to."""
        return api_of(self.target)[0]

    def model(self) -> DataModel:
        """The data model for the current target: the loaded one when it is for this API, else
        the built-in one (the demo flow model, the Sessions V3 demo dimensions, the fields of
        the Klaviyo family), as ``flowql check`` chooses."""
        api, family = api_of(self.target)
        if api == "python":
            if self._records is not None:
                return self._records  # the python target runs over the last results
            api = "conviva-flow"  # as flowql check: the demo flow model
        if self.loaded is not None and self.loaded.kind == api:
            return self.loaded
        key = f"{api}:{family or ''}"
        if key not in self._builtin:
            from flowql import model as models

            if api == Api.CONVIVA_SESSIONS:
                self._builtin[key] = models.demo_sessions_model()
            elif api == Api.KLAVIYO:
                self._builtin[key] = models.klaviyo_model(family or "flow-report")
            else:
                self._builtin[key] = models.demo_model()
        return self._builtin[key]

    @property
    def over_results(self) -> bool:
        """Whether the model is the last results' columns: the python target's, once a query
        has returned rows."""
        return self.api == "python" and self._records is not None

    def active_flow(self) -> str | None:
        """The flow, when the current model has flows (else the setting does not apply)."""
        model = self.model()
        return self.flow if model.kind == Api.CONVIVA_FLOW and model.flows else None

    def keys(self) -> Mapping[str, Dimension]:
        """The keys a filter may use now: the model's, for the flow when one is set."""
        return self.model().dimensions(self.active_flow())

    def dimension(self, key: str) -> Dimension | None:
        """The dimension a key names in the current model and flow, or None."""
        return self.model().lookup(key, self.active_flow())

    # --- values for completion ---------------------------------------------------------------

    def values(self, key: str) -> list[tuple[str, str]]:
        """Known values of ``key``, each with where it is known from: the model (a field's
        fixed values), the last results, the filters typed in this session, then each added
        source. Each value once, in that order."""
        seen: dict[str, str] = {}
        dimension = self.dimension(key)
        if dimension is not None and dimension.values:
            for value in dimension.values:
                seen.setdefault(value, "model")
        # Snapshots (list() of a dict holds the GIL throughout): completion runs in a thread
        # while a submitted filter may add values.
        for value in list(self._results.get(key, ())):
            seen.setdefault(value, "last results")
        for value in list(self._typed.get(key, ())):
            seen.setdefault(value, "typed before")
        for name, source in self._sources:
            try:
                found = list(source(key))
            except Exception:  # a value source is a convenience; it must never break typing
                continue
            for value in found:
                seen.setdefault(value, name)
        return list(seen.items())

    def add_value_source(self, name: str, source: Callable[[str], Iterable[str]]) -> None:
        """Add a source of values for completion: ``source(key)`` returns values of the key
        (``name`` is shown beside them). It is called from completion's background thread; an
        exception in it is ignored."""
        self._sources.append((name, source))

    def remember_values(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Keep the text values of result rows (by column), for completion; they replace the
        values of the previous results. Running a query calls this with its rows."""
        results: dict[str, dict[str, None]] = {}
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str) and value:
                    bucket = results.setdefault(key, {})
                    if len(bucket) < _MAX_VALUES:
                        bucket[value] = None
        self._results = results

    def remember_filter(self, expr: Expr) -> None:
        """Keep the text values a submitted filter compares its keys with, for completion."""
        from flowql.ast import Comparison, In, String, walk

        for node in walk(expr):
            if isinstance(node, Comparison):
                pairs = [(node.key.name, node.value)]
            elif isinstance(node, In):
                pairs = [(node.key.name, v) for v in node.values]
            else:
                continue
            for key, value in pairs:
                if isinstance(value, String) and value.value:
                    bucket = self._typed.setdefault(key, {})
                    bucket.pop(value.value, None)
                    if len(bucket) >= _MAX_VALUES:
                        del bucket[next(iter(bucket))]
                    bucket[value.value] = None  # most recent last

    # --- running ---------------------------------------------------------------------------------

    def runner(self) -> Runner:
        """The runner of this session's queries, made on first use."""
        if self._runner is None:
            from flowql.repl.run import Runner

            self._runner = Runner()
        return self._runner

    def close(self) -> None:
        """End what running queries started: the clients' connections, the sandbox."""
        if self._runner is not None:
            self._runner.close()

    def set_result(self, result: Result, *, fetched: bool = True) -> None:
        """Keep a result: :meth:`remember_values` of its rows for completion, and it is what
        ``:export`` writes. A ``fetched`` one (from an API, not filtered here) is also what the
        ``python`` target filters next, whose keys are then its columns."""
        records = result.to_records()
        self.last_result = result
        self.remember_values(records)
        if not fetched:
            return
        self.fetched_result = result
        if result.api == Api.KLAVIYO and result.endpoint == "metrics":
            for record in records:
                if isinstance(record.get("id"), str):
                    self.metrics[str(record["id"])] = str(record.get("name") or "")
        columns = result.columns()
        self._records = _records_model(columns, records) if columns else None
        self._changed()

    def shown_columns(self, result: Result) -> list[str]:
        """The columns a table of ``result`` shows, in order: those of :attr:`columns` when
        set (each that the result has), else every column with the time first, then the keys
        the filter and the group-by name, then the rest."""
        columns = result.columns()
        if self.columns:
            return [c for c in self.columns if c in columns]
        first = [c for c in _LEADING_COLUMNS if c in columns]
        wanted: list[str] = []
        if self.group_by is not None:
            wanted.append(self.group_by)
        if self.filter is not None:
            from flowql.ast import Comparison, In, walk
            from flowql.syntax import parse

            try:
                expr = parse(self.filter)
            except FlowQLError:
                expr = None
            if expr is not None:
                wanted.extend(
                    node.key.name for node in walk(expr) if isinstance(node, (Comparison, In))
                )
        order = dict.fromkeys([*first, *(k for k in wanted if k in columns), *columns])
        return list(order)

    def set_statistics(self, names: Sequence[str]) -> None:
        """The statistics Klaviyo reports are asked for (none: unset). Raises
        :class:`CommandError` (FQ712) for a name no Klaviyo report knows."""
        from flowql.query import KLAVIYO_REPORTS

        known = {s for report in KLAVIYO_REPORTS.values() for s in report.statistics}
        for name in names:
            if name not in known:
                close = closest(name, sorted(known))
                raise _error(
                    f"'{name}' is not a statistic of Klaviyo's reports",
                    f"did you mean {close}?" if close else "Tab after :statistics lists them",
                    code="FQ712",
                )
        self.statistics = tuple(dict.fromkeys(names))
        self._changed()

    def set_conversion(self, metric_id: str | None) -> None:
        """The ``conversion_metric_id`` of flow and campaign reports (None: unset)."""
        self.conversion = metric_id or None
        self._changed()

    def klaviyo_revision(self) -> str | None:
        """The Klaviyo revision of the session's queries: the one ``:revision`` chose, else the
        configuration's (``klaviyo-revision``, found as ``flowql check`` finds it from the
        working directory, read once), else None (flowql's default). Raises
        :class:`CommandError` (FQ803) for a configuration flowql cannot read."""
        if self.revision is not None:
            return self.revision
        if self._configured_revision is None:
            import os

            from flowql.checker.config import ConfigError, resolve_config

            try:
                config = resolve_config(None, os.getcwd())
            except ConfigError as exc:
                first = exc.diagnostics[0]
                raise _error(first.message, first.hint, code="FQ803") from None
            self._configured_revision = (config.klaviyo_revision,)
        return self._configured_revision[0]

    def compile_for(self, target: Target, expr: Expr) -> CompileResult:
        """``expr`` compiled for ``target`` with the session's options (the Klaviyo revision,
        for the targets that take one)."""
        if "revision" in target.options:
            revision = self.klaviyo_revision()
            if revision is not None:
                return target.compile(expr, revision=revision)
        return target.compile(expr)

    def set_revision(self, revision: str | None) -> None:
        """The Klaviyo API revision queries are checked against and sent with (None: the
        default). Raises :class:`CommandError` (FQ718) for one flowql cannot place."""
        if revision is not None:
            from flowql.klaviyo_revisions import RevisionError, resolve_revision

            try:
                resolve_revision(revision)
            except RevisionError as exc:
                raise _error(str(exc), exc.hint, code="FQ718") from None
        self.revision = revision or None
        self._changed()

    def set_bucket(self, bucket: str | None) -> None:
        """Put results in buckets of this size (``1h``, ``1d``: see
        :data:`flowql.merging.BUCKETS`; None: as fetched), as ``flowql query --bucket`` does.
        Raises :class:`CommandError` (FQ717, with a "did you mean") for a size that does not
        exist."""
        if bucket is not None:
            from flowql.merging import BucketError, bucket_size

            try:
                bucket_size(bucket)
            except BucketError as exc:
                raise CommandError(exc.diagnostic) from None
            bucket = bucket.strip().lower()
        self.bucket = bucket
        self._changed()

    def set_names(self, names: str) -> None:
        """Head metric columns by their data model ``labels`` (and units) or their ``keys``."""
        from flowql.diagnostics import did_you_mean
        from flowql.results import NAMES

        if names not in NAMES:
            raise _error(
                f"names are labels or keys, not {names!r}",
                did_you_mean(names, NAMES) or "try :names labels or :names keys",
                code="FQ804",
            )
        self.names = names

    def set_columns(self, names: Sequence[str]) -> None:
        """The columns a result's table shows, in this order (none: every column)."""
        self.columns = tuple(dict.fromkeys(names))

    # --- settings ----------------------------------------------------------------------------

    def set_target(self, name: str) -> None:
        """Use another target. Raises :class:`~flowql.targets.TargetError` (with "did you
        mean") for a name flowql does not know."""
        from flowql.targets import get_target

        self.target = get_target(name).name
        self._changed()

    def load_model(self, path: str | None) -> DataModel:
        """Use the data model in a JSON file (``None``: the built-in ones again). Raises
        :class:`~flowql.model.ModelError`. A flow the new model does not have is unset."""
        if path is None:
            self.loaded = self.loaded_from = None
        else:
            from flowql.model import load_model

            self.loaded = load_model(path)
            self.loaded_from = path
        model = self.loaded or self.model()
        if (
            self.flow is not None
            and model.kind == Api.CONVIVA_FLOW
            and model.flow(self.flow) is None
        ):
            self.flow = None
        self._changed()
        return model

    def set_flow(self, flow: str | None) -> None:
        """Check keys against this flow of the model (by id, or a word of its label); None:
        against every flow. Raises :class:`CommandError` (FQ103) for a flow the model lacks."""
        if flow is None:
            self.flow = None
            self._changed()
            return
        model = self.model()
        if model.kind != Api.CONVIVA_FLOW or not model.flows:
            raise _error(
                f"the {model.name} has no flows",
                "flows are for the conviva-flow target: :target conviva-flow",
                code="FQ103",
            )
        if model.flow(flow) is None:
            by_label = [f for f in model.flows.values() if flow.lower() in f.label.lower()]
            if len(by_label) != 1:
                listed = ", ".join(f"{f.id} ({f.label})" for f in model.flows.values())
                close = closest(flow, model.flows)
                hint = f"did you mean {close}? " if close else ""
                raise _error(
                    f"the data model has no flow '{flow}'",
                    f"{hint}its flows are {listed}",
                    code="FQ103",
                )
            flow = by_label[0].id
        self.flow = flow
        if self.group_by is not None and self.group_by not in model.dimensions(flow):
            self.group_by = None
        self._changed()

    def set_last(self, duration: str) -> None:
        """Cover the last ``duration`` before now (``15m``, ``1h``, ``PT15M``)."""
        self.time_range = TimeRange(duration=parse_duration(duration))
        self._changed()

    def set_range(self, start: str, end: str) -> None:
        """Cover ``start`` to ``end`` (ISO 8601, epoch seconds or milliseconds; naive times in
        the session's :attr:`tz`; relative ones, ``-2h``, as of now)."""
        now = self.clock()
        self.time_range = TimeRange(
            start=parse_time(start, self.tz, now), end=parse_time(end, self.tz, now)
        )
        self._changed()

    def load_query(self, path: str, name: str | None = None) -> str:
        """Take the settings and the filter of a manifest's query (``name``: which one; may be
        left out when the manifest has one query), as ``flowql query --manifest`` would run
        it. Returns the query's name. Raises :class:`CommandError` (FQ802 for a manifest that
        cannot be read, FQ804 for a query the REPL cannot hold, such as Flow XO's or one with
        a viewer id: run those with ``flowql query --manifest``)."""
        from flowql.checker.manifest import ManifestError, load_manifest

        try:
            entries = load_manifest(path)
        except ManifestError as exc:
            first = exc.diagnostics[0]
            raise _error(f"{path}: {first.message}", first.hint, code="FQ802") from None
        names = [e.name for e in entries]
        if name is None and len(entries) != 1:
            raise _error(
                f"{path} holds {len(entries)} queries: name one",
                f":load {path} NAME, with NAME one of " + ", ".join(names),
            )
        entry = entries[0] if name is None else next((e for e in entries if e.name == name), None)
        if entry is None:
            from flowql.diagnostics import did_you_mean

            raise _error(
                f"{path} has no query '{name}'",
                did_you_mean(str(name), names) or "its queries are " + ", ".join(names),
            )
        if entry.diagnostics:
            first = entry.diagnostics[0]
            raise _error(f"{path}: {first.message}", first.hint, code="FQ802")
        api = entry.query_api(self.target)
        endpoint = entry.query_endpoint
        fields = dict(entry.fields)
        target = {
            ("conviva-flow", "real-time"): "conviva-flow",
            ("conviva-flow", "historical"): "conviva-flow",
            ("conviva-sessions", "content"): "conviva-sessions",
            ("klaviyo", "metrics"): "klaviyo-metrics",
        }.get((api, endpoint))
        if api == Api.KLAVIYO and endpoint.endswith("-values"):
            target = f"klaviyo-{endpoint[: -len('-values')]}-report"
        held = {"flow", "start", "end", "tz", "interval", "group_by", "limit", "filter"}
        held |= {"statistics", "conversion_metric_id", "timeframe"}
        if api == Api.KLAVIYO and endpoint == "metrics":
            held = {"filter"}
        kept_out = sorted(set(fields) - held)
        if target is None or kept_out:
            what = f"{api} {endpoint}" + (f" with {', '.join(kept_out)}" if kept_out else "")
            raise _error(
                f"the REPL composes no {what} query",
                f"run it with `flowql query --manifest {path} --name {entry.name}`",
            )
        self.set_target(target)
        if "tz" in fields:
            self.set_tz(str(fields["tz"]))
        if "flow" in fields:
            self.set_flow(str(fields["flow"]))
        if isinstance(fields.get("interval"), str) and endpoint == "real-time":
            self.set_last(str(fields["interval"]))
        timeframe = fields.get("timeframe")
        if isinstance(timeframe, str):
            lengths = {v: k for k, v in _KLAVIYO_KEYS.items()}
            if timeframe not in lengths:
                raise _error(
                    f"the REPL covers Klaviyo's timeframes {', '.join(lengths)}, not {timeframe}",
                    f"run it with `flowql query --manifest {path} --name {entry.name}`",
                )
            self.time_range = TimeRange(duration=lengths[timeframe])
        start, end = fields.get("start"), fields.get("end")
        if start is not None and end is not None:
            text_start, text_end = str(start).strip(), str(end).strip()
            if text_start.startswith("-") and text_end.lower() == "now":
                self.set_last(text_start[1:])
            else:
                self.set_range(text_start, text_end)
        if "group_by" in fields:
            group_by = fields["group_by"]
            self.set_group_by(str(group_by[0] if isinstance(group_by, list) else group_by))
        if "limit" in fields:
            self.set_limit(str(fields["limit"]))
        statistics = fields.get("statistics")
        if statistics:
            names_given = (
                [statistics] if not isinstance(statistics, (list, tuple)) else list(statistics)
            )
            self.set_statistics([str(n) for n in names_given])
        if "conversion_metric_id" in fields:
            self.set_conversion(str(fields["conversion_metric_id"]))
        self.filter = entry.filter if entry.has_filter and "filter" in fields else None
        self._changed()
        return entry.name

    def set_tz(self, name: str | None) -> None:
        """Read naive times in this time zone (``Europe/Madrid``, ``+05:30``; None: UTC), as
        ``flowql query --tz`` and a manifest's ``tz`` do. Raises :class:`CommandError`."""
        if name is not None:
            from flowql import times

            try:
                times.parse_tz(name)
            except times.TimeError as exc:
                raise _error(exc.message, exc.hint, code="FQ702") from None
        self.tz = name
        self._changed()

    def set_group_by(self, key: str | None) -> None:
        """Group the Flow API's metrics by this key of the model (None: no grouping)."""
        if key is not None and key not in self.keys():
            close = closest(key, self.keys())
            where = f"flow {self.active_flow()}" if self.active_flow() else self.model().name
            raise _error(
                f"'{key}' is not a dimension of {where}",
                f"did you mean {close}?" if close else "Tab after :group-by lists the keys",
                code="FQ101",
            )
        self.group_by = key
        self._changed()

    def set_limit(self, limit: str | None) -> None:
        """How many sessions Sessions V3 returns, and rows a run shows (None: the default)."""
        from flowql.query.conviva_sessions import SESSIONS_MAX_LIMIT

        if limit is None:
            self.limit = None
        elif not limit.isdigit() or not 1 <= int(limit) <= SESSIONS_MAX_LIMIT:
            raise _error(
                f"the limit must be a whole number from 1 to {SESSIONS_MAX_LIMIT}, not '{limit}'",
                code="FQ706",
            )
        else:
            self.limit = int(limit)
        self._changed()

    # --- checking ----------------------------------------------------------------------------

    def check(self, text: str) -> Check:
        """Every problem in a filter for the current target and settings, as ``flowql check``
        finds them (the formatting rule aside, since typed text is not a file), plus the
        request URL's length. Never raises for a bad filter."""
        from flowql.lookahead import half_typed, unfinished
        from flowql.syntax import parse

        if not text.strip():
            return Check(text, url_limit=self.url_limit)
        try:
            expr = parse(text)
        except FlowQLError as exc:
            return Check(
                text,
                diagnostics=exc.diagnostics,
                unfinished=unfinished(text),
                half_typed=half_typed(text),
                url_limit=self.url_limit,
            )
        from flowql.checker.check import without_echoes
        from flowql.targets import get_target
        from flowql.validate import validate

        found = validate(
            text, model=self.model(), flow=self.active_flow(), parsed=expr, check_format=False
        )
        compiled = None
        try:
            compiled = self.compile_for(get_target(self.target), expr)
            found.extend(compiled.warnings)
        except UnsupportedError as exc:
            found.extend(exc.diagnostics)
        length = None
        note = None
        if compiled is not None and self.api in (Api.CONVIVA_FLOW, Api.CONVIVA_SESSIONS):
            from flowql.apis import api_spec
            from flowql.query import QueryError, build_query

            budget = ("FQ501", "FQ502")
            base = api_spec(self.api).base_url
            try:
                api, endpoint, fields = self.query_fields(text)
                planned = build_query(api, endpoint, fields).plan(
                    now=self.clock(), model=self._check_model()
                )
            except CommandError as exc:
                note = exc.message
            except QueryError as exc:
                found.extend(d for d in exc.diagnostics if d.code in budget)
                others = [d for d in exc.diagnostics if d.code not in budget and d.span is None]
                if others:
                    note = others[0].message
                else:
                    # Over the budget: measure the URL it would have been.
                    unlimited = {**fields, "url_limit": 1 << 30}
                    with contextlib.suppress(QueryError):
                        measured = build_query(api, endpoint, unlimited).plan(now=self.clock())
                        length = max(len(base + r.path) for r in measured.requests)
            else:
                found.extend(d for d in planned.warnings if d.code in budget)
                length = max(len(base + r.path) for r in planned.requests)
        found = without_echoes(found)
        found.sort(key=_position)
        return Check(
            text,
            expr=expr,
            diagnostics=found,
            compiled=compiled,
            url_length=length,
            url_limit=self.url_limit,
            request_note=note,
        )

    # --- the query ---------------------------------------------------------------------------

    def current_query(self, text: str | None = None) -> Query:
        """The query the session would run now: ``text`` (by default the last filter
        submitted) compiled for the target, its query value and plan. Raises
        :class:`CommandError` when there is no filter or the settings name no endpoint, and the
        filter's :class:`FlowQLError` when it does not parse or the target refuses it; a query
        the API would reject is kept in :attr:`Query.problem`."""
        from flowql.syntax import parse
        from flowql.targets import get_target

        if text is None:
            text = self.filter
        if text is None or not text.strip():
            raise _error("there is no filter yet", "type a filter and press Enter first")
        expr = parse(text)
        compiled = self.compile_for(get_target(self.target), expr)
        now = self.clock()
        start, end = self.time_range.bounds(now)
        endpoint = fields = value = plan = problem = None
        server_bucket = False
        if self.api != "python" and not (self.api == Api.KLAVIYO and self.family is None):
            from flowql.query import QueryError, build_query

            api, endpoint, fields = self.query_fields(text)
            value = build_query(api, endpoint, fields)
            if self.bucket is not None:
                from flowql.merging import bucket_query

                value, server_bucket = bucket_query(value, self.bucket)
            try:
                plan = value.plan(now=now, model=self._check_model())
            except QueryError as exc:
                problem = exc
        return Query(
            target=self.target,
            model=self.model(),
            flow=self.active_flow(),
            time_range=self.time_range,
            start=start,
            end=end,
            group_by=self.group_by,
            limit=self.limit,
            text=text,
            expr=expr,
            compiled=compiled,
            endpoint=endpoint,
            fields=fields,
            value=value,
            plan=plan,
            problem=problem,
            server_bucket=server_bucket,
        )

    @property
    def family(self) -> str | None:
        """The Klaviyo endpoint family of the target (``flow-report``...), or None."""
        return api_of(self.target)[1]

    def query_fields(self, text: str | None) -> tuple[str, str, dict[str, object]]:
        """The session's settings as a query: the API, the endpoint and the query fields
        (:data:`flowql.query.FIELDS`) that ``flowql query`` or a manifest would give for the
        same query. Raises :class:`CommandError` when the settings name no endpoint."""
        from flowql.times import format_duration

        fields: dict[str, object] = {}
        time_range = self.time_range
        length = time_range.length()
        relative = time_range.relative

        def time_fields() -> None:
            if relative:
                fields["start"] = "-" + format_duration(length, weeks=False)
                fields["end"] = "now"
            else:
                fields["start"], fields["end"] = time_range.bounds(self.clock())

        api = self.api
        if api == Api.CONVIVA_FLOW:
            flow = self.active_flow()
            if flow is None:
                model = self.model()
                listed = ", ".join(f"{f.id} ({f.label})" for f in model.flows.values())
                raise _error(
                    "no flow is set",
                    f":flow ID names the flow to query ({listed})" if listed else None,
                )
            fields["flow"] = flow
            minutes, rest = divmod(int(length.total_seconds()), 60)
            if relative and length <= _REAL_TIME_MAX and minutes and not rest:
                endpoint = "real-time"
                fields["interval"] = f"PT{minutes}M"
            else:
                endpoint = "historical"
                time_fields()
            if self.group_by is not None:
                fields["group_by"] = self.group_by
        elif api == Api.CONVIVA_SESSIONS:
            endpoint = "content"
            time_fields()
            if self.limit is not None:
                fields["limit"] = self.limit
        elif api in ("sql", "polars", "pandas"):
            made = {
                "sql": "a WHERE clause for a database",
                "polars": "a polars expression",
                "pandas": "a pandas mask",
            }[api]
            raise _error(
                f"the {api} target writes {made}: it has no API to run",
                "use what it compiles to in your engine, or :target python to filter the last "
                "result here",
            )
        else:
            family = self.family
            if family is None:
                raise _error(
                    "the klaviyo target is Klaviyo's general filter syntax: it has no one "
                    "endpoint to run",
                    "choose an endpoint family: :target klaviyo-flow-report (or "
                    "klaviyo-campaign-report, klaviyo-form-report, klaviyo-segment-report, "
                    "klaviyo-metrics)",
                )
            if family == "metrics":
                endpoint = "metrics"
            else:
                endpoint = family.replace("-report", "") + "-values"
                if length > _KLAVIYO_MAX:
                    raise _error(
                        f"Klaviyo reports cover at most a year, not {self.time_range}",
                        "set a shorter range: :last 365d",
                        code="FQ710",
                    )
                if relative and length in _KLAVIYO_KEYS:
                    fields["timeframe"] = _KLAVIYO_KEYS[length]
                else:
                    time_fields()
                if self.statistics:
                    fields["statistics"] = tuple(self.statistics)
                if self.conversion is not None and family in ("flow-report", "campaign-report"):
                    fields["conversion_metric_id"] = self.conversion
        if api == Api.KLAVIYO and self.klaviyo_revision() is not None:
            fields["revision"] = self.klaviyo_revision()
        if text is not None:
            fields["filter"] = text
        if self.url_limit != URL_LIMIT and api in (Api.CONVIVA_FLOW, Api.CONVIVA_SESSIONS):
            fields["url_limit"] = self.url_limit
        return api, endpoint, fields

    def _check_model(self) -> DataModel | None:
        """The model a Flow query's flow and group-by are checked against."""
        model = self.model()
        return model if model.kind == Api.CONVIVA_FLOW else None


def _records_model(columns: Sequence[str], records: Sequence[Mapping[str, object]]) -> DataModel:
    """The keys of result records as a data model, for the python target: each column, typed
    by its first value that is not None."""
    from flowql.model import DataModel, Dimension

    dimensions = []
    for column in columns:
        value = next((r[column] for r in records if r.get(column) is not None), None)
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, (int, float)):
            kind = "number"
        elif isinstance(value, list):
            kind = "list"
        else:
            kind = "string"
        dimensions.append(Dimension(column, type=kind))
    # A model kind is an API's; the records' keys are checked like Sessions V3 dimensions.
    return DataModel("conviva-sessions", dimensions=dimensions, name="the last results' columns")


def _position(diagnostic: Diagnostic) -> tuple[int, int]:
    span = diagnostic.span
    return (span.start, span.end) if span is not None else (-1, -1)
