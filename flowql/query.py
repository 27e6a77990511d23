"""Queries as values, checked against each API's documented rules before any request.

A query names everything one fetch needs: the API and endpoint, ids, time range, granularity or
interval, group-by, limit, statistics and a FlowQL filter. There is one frozen dataclass per API
(or endpoint family):

- :class:`FlowQuery`: Conviva DPI Flow API, real-time or historical, optionally grouped;
- :class:`SessionsQuery`: Conviva Sessions V3, content or ad sessions, a viewer's sessions or
  summary;
- :class:`KlaviyoReportQuery`: the Klaviyo reporting endpoints (flow, campaign, form and segment
  values and series reports);
- :class:`KlaviyoMetricsQuery`: Klaviyo's metrics list and a metric's flow triggers;
- :class:`FlowXOQuery`: Flow XO's insights, top messages and top flows.

``query.validate()`` returns every problem (FQ7xx diagnostics, and the filter's own FQ0xx, FQ5xx
and FQ6xx ones); ``query.plan()`` returns the requests to send, or raises :class:`QueryError`
with every problem: a query the server would reject never leaves the machine.

Time values are :class:`~datetime.datetime` (a naive one is taken as UTC), ISO 8601 text
(``2026-11-22T10:00:00Z``, or a date), epoch numbers (milliseconds for the Flow API, seconds for
Sessions V3, as each API counts them), ``now``, or a time relative to now such as ``-2h``
(``s``, ``m``, ``h``, ``d``, ``w``), resolved when the query is planned.

Ranges longer than one request allows are split into :class:`Window` values (Flow historical:
1 hour; Sessions content and ad: 3 hours), one request each. The filter is compiled for the
endpoint's target; with ``post_filter=True``, the parts the target refuses are left out of the
request and applied to the returned records with the ``python`` target
(:class:`FilterPlan`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field

from flowql.diagnostics import Diagnostic, Severity
from flowql.errors import FlowQLError, UnsupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import TypeAlias

    from flowql.ast import Expr
    from flowql.endpoints import Endpoint
    from flowql.model import DataModel
    from flowql.targets import CompileResult

    TimeValue: TypeAlias = "dt.datetime | str | int | float"
    AnyQuery: TypeAlias = (
        "FlowQuery | SessionsQuery | KlaviyoReportQuery | KlaviyoMetricsQuery | FlowXOQuery"
    )

__all__ = [
    "FLOWXO_ENDPOINTS",
    "FLOWXO_UNITS",
    "FLOW_HISTORY",
    "FLOW_WINDOW",
    "KLAVIYO_INTERVALS",
    "KLAVIYO_METRICS_ENDPOINTS",
    "KLAVIYO_REPORTS",
    "KLAVIYO_REVISION",
    "KLAVIYO_TIMEFRAMES",
    "SESSIONS_ENDPOINTS",
    "SESSIONS_HISTORY",
    "SESSIONS_MAX_LIMIT",
    "SESSIONS_WINDOW",
    "FilterPlan",
    "FlowQuery",
    "FlowXOQuery",
    "KlaviyoMetricsQuery",
    "KlaviyoReportQuery",
    "Plan",
    "QueryError",
    "Request",
    "SessionsQuery",
    "Window",
    "format_time",
    "parse_time",
    "split_windows",
    "timeframe_range",
]

FLOW_WINDOW = dt.timedelta(hours=1)
"""The longest range one Flow API historical request covers."""
FLOW_HISTORY = dt.timedelta(days=7)
"""How far back the Flow API keeps historical data."""
SESSIONS_WINDOW = dt.timedelta(hours=3)
"""The longest range one Sessions V3 content or ad request covers."""
SESSIONS_HISTORY = dt.timedelta(days=31)
"""How far back a Sessions V3 content or ad request may start."""
SESSIONS_MAX_LIMIT = 500
"""The largest ``limit`` the Sessions V3 guide allows (a newer page says 1500: raise
``max_limit`` on the query to use it)."""
KLAVIYO_REVISION = "2024-10-15"
"""The Klaviyo API revision flowql sends (the clients take another)."""

_UTC = dt.timezone.utc
_INTERVAL = re.compile(r"PT([1-9]|1[0-5])M")
_RELATIVE = re.compile(r"-\s*(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class QueryError(FlowQLError):
    """A query the server would reject, found before any request: every problem, each an
    FQ7xx diagnostic (or the filter's own diagnostics, with spans into ``source``, the filter
    text)."""


# --- time ----------------------------------------------------------------------------------------


def parse_time(
    value: TimeValue, *, now: dt.datetime | None = None, epoch_unit: str = "ms"
) -> dt.datetime:
    """``value`` as an aware UTC datetime.

    Takes a datetime (naive means UTC), ISO 8601 text (a trailing ``Z`` too, or a bare date),
    an epoch number or digits in ``epoch_unit`` (``ms`` or ``s``), ``now``, or ``-<n><unit>``
    relative to ``now`` (units ``s m h d w``). Raises ValueError for anything else.
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    if isinstance(value, bool):
        raise ValueError("a time cannot be a boolean")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if epoch_unit == "ms" else value
        try:
            return dt.datetime.fromtimestamp(seconds, _UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{value} is not a usable epoch time") from None
    if not isinstance(value, str):
        raise ValueError(
            f"a time must be a datetime, a str or a number, not {type(value).__name__}"
        )
    text = value.strip()
    current = now or dt.datetime.now(_UTC)
    if text.lower() == "now":
        return current.astimezone(_UTC)
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount = int(relative.group(1))
        return current.astimezone(_UTC) - dt.timedelta(**{_UNITS[relative.group(2)]: amount})
    if text.isdigit():
        return parse_time(int(text), epoch_unit=epoch_unit)
    iso = text[:-1] + "+00:00" if text[-1:] in "Zz" and len(text) > 1 else text
    try:
        parsed = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: use ISO 8601 (2026-11-22T10:00:00Z), epoch "
            f"{'milliseconds' if epoch_unit == 'ms' else 'seconds'}, 'now' or '-2h'"
        ) from None
    return parse_time(parsed)


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, milliseconds only when there are some:
    ``2026-11-22T10:00:00Z``."""
    moment = moment.astimezone(_UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


@dataclass(frozen=True)
class Window:
    """One slice of a split time range: ``start`` (inclusive) to ``end``, aware UTC."""

    start: dt.datetime
    end: dt.datetime

    def __str__(self) -> str:
        return f"{format_time(self.start)}/{format_time(self.end)}"

    def to_dict(self) -> dict[str, str]:
        """``{"start": ISO, "end": ISO}``."""
        return {"start": format_time(self.start), "end": format_time(self.end)}


def split_windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta) -> list[Window]:
    """``start`` to ``end`` cut into consecutive windows of ``size`` (the last may be shorter),
    in time order."""
    if size <= dt.timedelta(0):
        raise ValueError("the window size must be positive")
    windows = []
    cursor = start
    while cursor < end:
        stop = min(cursor + size, end)
        windows.append(Window(cursor, stop))
        cursor = stop
    return windows


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FilterPlan:
    """What happens to a query's filter: the whole filter (``expr``, parsed from ``source``),
    the part sent to the API (``sent``, compiled as ``compiled``) and the part applied to the
    returned records with the python target (``local``, only with ``post_filter``)."""

    source: str | None = None
    expr: Expr | None = None
    sent: Expr | None = None
    compiled: CompileResult | None = None
    local: Expr | None = None

    @property
    def sent_text(self) -> str | None:
        """The sent part as canonical FlowQL, or None."""
        return _text(self.sent)

    @property
    def local_text(self) -> str | None:
        """The locally applied part as canonical FlowQL, or None."""
        return _text(self.local)


def _text(expr: Expr | None) -> str | None:
    if expr is None:
        return None
    from flowql.formatter import format

    return format(expr)


@dataclass(frozen=True)
class Request:
    """One planned request: ``method``, ``path`` (relative to the API's base URL, query string
    included and percent-encoded), a JSON ``body`` for POSTs, the ``window`` it covers when the
    range was split, and which of the client's rate ``limiter`` it counts against."""

    method: str
    path: str
    body: Mapping[str, object] | None = field(default=None, compare=False)
    window: Window | None = None
    limiter: str = "default"


@dataclass(frozen=True, eq=False)
class Plan:
    """A validated query: the requests to send (one per window, in time order), what happens to
    the filter, and warnings (a URL near its limit, an undocumented escape)."""

    query: AnyQuery
    requests: tuple[Request, ...]
    filter: FilterPlan
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def windows(self) -> tuple[Window, ...]:
        """The windows of a split range (empty when the query is not split)."""
        return tuple(r.window for r in self.requests if r.window is not None)


# --- shared checks -------------------------------------------------------------------------------


class _Checks:
    """Collects diagnostics while a query is planned."""

    def __init__(self) -> None:
        self.found: list[Diagnostic] = []

    def add(
        self,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        span: object = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        from flowql.ast import Span

        where = span if isinstance(span, Span) else None
        self.found.append(Diagnostic(code, message, where, hint=hint, severity=severity))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.found.extend(diagnostics)

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.found)

    def time(
        self, name: str, value: TimeValue | None, now: dt.datetime, epoch_unit: str = "ms"
    ) -> dt.datetime | None:
        if value is None:
            return None
        try:
            return parse_time(value, now=now, epoch_unit=epoch_unit)
        except ValueError as exc:
            self.add("FQ702", f"{name}: {exc}")
            return None

    def range(
        self,
        start: dt.datetime | None,
        end: dt.datetime | None,
        what: str,
    ) -> bool:
        if start is not None and end is not None and start >= end:
            self.add(
                "FQ702",
                f"{what}: the start ({format_time(start)}) is not before the end "
                f"({format_time(end)})",
                "swap them, or give a later end",
            )
            return False
        return start is not None and end is not None


def _now(now: dt.datetime | None) -> dt.datetime:
    return parse_time(now) if now is not None else dt.datetime.now(_UTC)


def _id(checks: _Checks, name: str, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        checks.add("FQ701", f"{name} is required (a non-empty id)")
        return None
    return str(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_filter(checks: _Checks, value: str | Expr | None) -> tuple[str | None, Expr | None]:
    """The filter's text and tree; a parse error's diagnostics are collected."""
    if value is None:
        return None, None
    from flowql.ast import Expr

    if isinstance(value, Expr):
        return None, value
    if not isinstance(value, str):
        checks.add("FQ701", f"the filter must be FlowQL text or a tree, not {type(value).__name__}")
        return None, None
    from flowql.syntax import parse

    try:
        return value, parse(value)
    except FlowQLError as exc:
        checks.extend(exc.diagnostics)
        return value, None


def _plan_filter(
    checks: _Checks,
    source: str | None,
    expr: Expr | None,
    *,
    target: str | None,
    what: str,
    post_filter: bool,
    record_keys: frozenset[str] | None,
    record_hint: str = "",
) -> FilterPlan:
    """Compile ``expr`` for ``target`` (None: the endpoint takes no filter).

    Without ``post_filter`` a refused filter is FQ714 plus the target's FQ601s. With it, the
    largest AND-part the target takes is sent and the rest applied locally; a local part on a
    key the records do not carry (``record_keys``, None when unknown) is FQ715.
    """
    if expr is None:
        return FilterPlan(source=source)
    from flowql.ast import And, Key, find_all
    from flowql.targets import compile

    problems: tuple[Diagnostic, ...] = ()
    if target is not None:
        try:
            compiled = compile(expr, target)
        except UnsupportedError as exc:
            problems = exc.diagnostics
        else:
            checks.extend(compiled.warnings)
            return FilterPlan(source=source, expr=expr, sent=expr, compiled=compiled)
    if not post_filter:
        reason = (
            f"the {what} takes no filter"
            if target is None
            else f"the {what} cannot take this filter as it is"
        )
        checks.add(
            "FQ714",
            reason,
            "pass post_filter=True (--post-filter) to send what the API takes and apply the "
            "rest to the returned records on this machine",
            span=expr.span,
        )
        checks.extend(problems)
        return FilterPlan(source=source, expr=expr)
    parts = list(expr.operands) if isinstance(expr, And) else [expr]
    sent_parts: list[Expr] = []
    sent_compiled: CompileResult | None = None
    local_parts: list[Expr] = []
    for part in parts:
        if target is None:
            local_parts.append(part)
            continue
        candidate = And(*sent_parts, part, span=expr.span) if sent_parts else part
        try:
            attempt = compile(candidate, target)
        except UnsupportedError:
            local_parts.append(part)
        else:
            sent_parts.append(part)
            sent_compiled = attempt
    sent = _conjoin(sent_parts, expr)
    local = _conjoin(local_parts, expr)
    if sent_compiled is not None:
        checks.extend(sent_compiled.warnings)
    if local is not None and record_keys is not None:
        for key in find_all(local, Key):
            if key.name not in record_keys:
                known = ", ".join(sorted(record_keys)) or "none"
                checks.add(
                    "FQ715",
                    f"'{key.name}' cannot be post-filtered: the {what}'s records do not carry "
                    f"it (they carry {known})",
                    record_hint or None,
                    span=key.span,
                )
    return FilterPlan(source=source, expr=expr, sent=sent, compiled=sent_compiled, local=local)


def _conjoin(parts: Sequence[Expr], whole: Expr) -> Expr | None:
    from flowql.ast import And

    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return And(*parts, span=whole.span)


def _raise_or_plan(checks: _Checks, source: str | None, build: Plan | None) -> Plan:
    if checks.failed or build is None:
        errors = [d for d in checks.found if d.severity is Severity.ERROR] or checks.found
        raise QueryError(errors, source)
    return build


def _encode_query(params: Sequence[tuple[str, str]]) -> str:
    from flowql.endpoints import percent_encode

    if not params:
        return ""
    return "?" + "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params)


class _QueryMixin:
    """What every query value has: ``validate`` and ``plan``."""

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        raise NotImplementedError

    def _source(self) -> str | None:
        value = getattr(self, "filter", None)
        return value if isinstance(value, str) else None

    def validate(
        self, *, now: dt.datetime | None = None, model: DataModel | None = None
    ) -> list[Diagnostic]:
        """Every problem with the query (errors and warnings), none if it is good to send.

        ``now`` is the time relative ranges and "how far back" are measured from (default: the
        current time); ``model`` (a Conviva data model) adds checks of flow ids and group-by
        dimensions.
        """
        checks = _Checks()
        self._build(checks, _now(now), model)
        return checks.found

    def plan(self, *, now: dt.datetime | None = None, model: DataModel | None = None) -> Plan:
        """The requests to send. Raises :class:`QueryError` with every error found (warnings
        go in :attr:`Plan.warnings`)."""
        checks = _Checks()
        built = self._build(checks, _now(now), model)
        plan = _raise_or_plan(checks, self._source(), built)
        return dataclasses.replace(plan, warnings=tuple(checks.found))


# --- Conviva DPI Flow API ------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowQuery(_QueryMixin):
    """A Conviva DPI Flow API query.

    ``endpoint`` ``real-time`` takes ``interval`` (``PT1M`` to ``PT15M``, default ``PT15M``) and
    ``granularity`` (the same range); ``historical`` takes ``start`` and ``end`` (start before
    end, at most 7 days back), split into 1-hour windows. ``group_by`` is a dimension key;
    ``filter`` is FlowQL (compiled for the ``conviva-flow`` target); ``url_limit`` the URL
    budget (default 4096, as Conviva answers 414 above 4K characters).
    """

    flow_id: str | int
    endpoint: str = "historical"
    start: TimeValue | None = None
    end: TimeValue | None = None
    interval: str | None = None
    granularity: str | None = None
    group_by: str | None = None
    filter: str | Expr | None = None
    post_filter: bool = False
    url_limit: int = 4096

    api = "conviva-flow"

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        from flowql.endpoints import Endpoint

        flow_id = _id(checks, "flow_id", self.flow_id)
        if self.endpoint not in ("real-time", "historical"):
            checks.add(
                "FQ701",
                f"unknown Flow API endpoint '{self.endpoint}'",
                "use real-time or historical",
            )
            return None
        if self.group_by is not None and (not isinstance(self.group_by, str) or not self.group_by):
            checks.add("FQ701", "group_by must be a dimension key")
        if flow_id is not None and model is not None and model.kind == "conviva-flow":
            flow = model.flow(flow_id)
            if flow is None:
                checks.add(
                    "FQ701",
                    f"the data model has no flow '{flow_id}'",
                    "the flows are " + ", ".join(sorted(model.flows)) if model.flows else None,
                )
            elif isinstance(self.group_by, str) and self.group_by not in flow.dimensions:
                checks.add(
                    "FQ713",
                    f"flow {flow_id} has no dimension '{self.group_by}' to group by",
                    _did_you_mean(self.group_by, flow.dimensions),
                )
        windows: list[Window] = []
        if self.endpoint == "real-time":
            interval = self.interval if self.interval is not None else "PT15M"
            for name, value in (("interval", interval), ("granularity", self.granularity)):
                if value is not None and not (
                    isinstance(value, str) and _INTERVAL.fullmatch(value)
                ):
                    checks.add(
                        "FQ704",
                        f"the real-time {name} must be PT1M to PT15M, not {value!r}",
                        "the Flow API's real-time data reaches back 15 minutes; use the "
                        "historical endpoint for longer ranges",
                    )
            if self.start is not None or self.end is not None:
                checks.add(
                    "FQ701",
                    "the real-time endpoint takes an interval, not start and end",
                    "use endpoint='historical' for a time range",
                )
        else:
            if self.interval is not None or self.granularity is not None:
                checks.add(
                    "FQ701",
                    "the historical endpoint takes start and end, not an interval or granularity",
                )
            start = checks.time("start", self.start, now)
            end = checks.time("end", self.end, now)
            if self.start is None or self.end is None:
                checks.add("FQ702", "the historical endpoint needs both start and end")
            if checks.range(start, end, "the historical range"):
                assert start is not None
                assert end is not None
                if start < now - FLOW_HISTORY:
                    checks.add(
                        "FQ703",
                        f"the start ({format_time(start)}) is more than 7 days back; the Flow "
                        "API keeps 7 days of historical data",
                        f"start at {format_time(now - FLOW_HISTORY)} or later",
                    )
                windows = split_windows(start, end, FLOW_WINDOW)
        records = frozenset({self.group_by}) if isinstance(self.group_by, str) else frozenset()
        source, expr = _parse_filter(checks, self.filter)
        plan = _plan_filter(
            checks,
            source,
            expr,
            target="conviva-flow",
            what="Flow API",
            post_filter=self.post_filter,
            record_keys=records,
            record_hint="group by that key to post-filter on it, or leave that part out",
        )
        if not _is_int(self.url_limit) or self.url_limit < 1:
            checks.add("FQ701", "url_limit must be a positive number of characters")
        if checks.failed or flow_id is None:
            return None
        group_by = self.group_by
        endpoints: list[tuple[Endpoint, Window | None]]
        if self.endpoint == "real-time":
            endpoints = [
                (
                    Endpoint.flow_real_time(
                        flow_id,
                        self.interval or "PT15M",
                        group_by=group_by,
                        granularity=self.granularity,
                    ),
                    None,
                )
            ]
        else:
            endpoints = [
                (
                    Endpoint.flow_historical(
                        flow_id,
                        str(int(w.start.timestamp() * 1000)),
                        str(int(w.end.timestamp() * 1000)),
                        group_by=group_by,
                    ),
                    w,
                )
                for w in windows
            ]
        params = (
            [("filter", plan.compiled.filter)] if plan.compiled and plan.compiled.filter else []
        )
        return _conviva_plan(self, checks, endpoints, plan, params)


def _conviva_plan(
    query: FlowQuery | SessionsQuery,
    checks: _Checks,
    endpoints: Sequence[tuple[Endpoint, Window | None]],
    plan: FilterPlan,
    params: list[tuple[str, str]],
) -> Plan | None:
    """One GET per endpoint (window), and the URL budget (``query.url_limit``, already checked
    to be a positive int) checked on the longest of them."""
    from flowql.endpoints import url_budget

    requests = []
    longest: tuple[int, Endpoint] | None = None
    for endpoint, window in endpoints:
        path = endpoint.path + _encode_query(endpoint.params() + params)
        requests.append(Request("GET", path, window=window))
        if longest is None or len(path) > longest[0]:
            longest = (len(path), endpoint)
    if longest is not None:
        checks.extend(
            url_budget(longest[1], plan.sent, limit=query.url_limit, filter_params=params)
        )
    if checks.failed:
        return None
    return Plan(query, tuple(requests), plan)


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


# --- Conviva Sessions V3 -------------------------------------------------------------------------

SESSIONS_ENDPOINTS = ("content", "ad", "viewer", "viewer-summary")
_SPLIT_SESSIONS = ("content", "ad")


@dataclass(frozen=True)
class SessionsQuery(_QueryMixin):
    """A Conviva Sessions V3 query.

    ``endpoint`` is ``content`` or ``ad`` (sample sessions; dimension filters, ``filter_id``,
    split into 3-hour windows) or ``viewer`` / ``viewer-summary`` (a viewer's sessions: exactly
    one of ``viewer_id`` and ``viewer_ip``, and ``days``). One time format per request:
    ``start_date``/``end_date`` (ISO 8601) or ``start_epoch``/``end_epoch`` (seconds), or
    neither (the API's default range). ``limit`` is 1 to ``max_limit`` (500, the guide's).
    ``filter_id`` is a saved Conviva filter, which excludes dimension filters.
    """

    endpoint: str = "content"
    start_date: TimeValue | None = None
    end_date: TimeValue | None = None
    start_epoch: TimeValue | None = None
    end_epoch: TimeValue | None = None
    limit: int | None = None
    viewer_id: str | None = None
    viewer_ip: str | None = None
    days: int | None = None
    filter_id: str | int | None = None
    filter: str | Expr | None = None
    post_filter: bool = False
    max_limit: int = SESSIONS_MAX_LIMIT
    url_limit: int = 4096

    api = "conviva-sessions"

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        from flowql.endpoints import Endpoint

        kind = self.endpoint
        if kind not in SESSIONS_ENDPOINTS:
            checks.add(
                "FQ701",
                f"unknown Sessions V3 endpoint '{kind}'",
                "use " + ", ".join(SESSIONS_ENDPOINTS),
            )
            return None
        dates = (self.start_date, self.end_date)
        epochs = (self.start_epoch, self.end_epoch)
        has_dates = any(v is not None for v in dates)
        has_epochs = any(v is not None for v in epochs)
        time_format: str | None = None
        start = end = None
        if has_dates and has_epochs:
            checks.add(
                "FQ705",
                "a Sessions V3 request takes one time format: start_date/end_date or "
                "start_epoch/end_epoch, not both",
                "give the range once, in either format",
            )
        elif has_dates or has_epochs:
            time_format = "date" if has_dates else "epoch"
            pair = dates if has_dates else epochs
            names = (f"start_{time_format}", f"end_{time_format}")
            if None in pair:
                checks.add("FQ702", f"give both {names[0]} and {names[1]}, or neither")
            start = checks.time(names[0], pair[0], now, "s")
            end = checks.time(names[1], pair[1], now, "s")
            if (
                checks.range(start, end, "the sessions range")
                and kind in _SPLIT_SESSIONS
                and start is not None
                and start < now - SESSIONS_HISTORY
            ):
                checks.add(
                    "FQ703",
                    f"the start ({format_time(start)}) is more than 31 days back; Sessions V3 "
                    "content and ad requests start within the last 31 days",
                    f"start at {format_time(now - SESSIONS_HISTORY)} or later",
                )
        if self.limit is not None:
            if not _is_int(self.limit):
                checks.add("FQ701", "limit must be a whole number")
            elif not 1 <= self.limit <= self.max_limit:
                checks.add(
                    "FQ706",
                    f"limit must be 1 to {self.max_limit}, not {self.limit}",
                    "Sessions V3 returns at most 500 sessions per request; split the range to "
                    "get more",
                )
        viewer = kind not in _SPLIT_SESSIONS
        if viewer:
            if (self.viewer_id is None) == (self.viewer_ip is None):
                checks.add(
                    "FQ707",
                    f"the {kind} endpoint takes exactly one of viewer_id and viewer_ip"
                    + (", not both" if self.viewer_id is not None else ""),
                )
            if self.days is not None and (not _is_int(self.days) or self.days < 1):
                checks.add("FQ701", "days must be a whole number of days, at least 1")
            if self.filter_id is not None:
                checks.add("FQ701", f"the {kind} endpoint takes no saved filter (filter_id)")
        else:
            given = [
                name
                for name in ("viewer_id", "viewer_ip", "days")
                if getattr(self, name) is not None
            ]
            if given:
                checks.add(
                    "FQ701",
                    f"{', '.join(given)}: only the viewer endpoints take "
                    + ("it" if len(given) == 1 else "them"),
                )
        if not _is_int(self.url_limit) or self.url_limit < 1:
            checks.add("FQ701", "url_limit must be a positive number of characters")
        source, expr = _parse_filter(checks, self.filter)
        if self.filter_id is not None and expr is not None:
            checks.add(
                "FQ708",
                "a saved filter (filter_id) excludes dimension filters: the API takes one or "
                "the other",
                "put every condition in the saved filter, or drop filter_id",
                span=expr.span,
            )
        plan = _plan_filter(
            checks,
            source,
            expr,
            target=None if viewer else "conviva-sessions",
            what=f"Sessions V3 {kind} endpoint",
            post_filter=self.post_filter,
            record_keys=None,
        )
        if checks.failed:
            return None
        params: list[tuple[str, str]] = []
        if self.filter_id is not None:
            params.append(("filter_id", str(self.filter_id)))
        if plan.compiled is not None and plan.compiled.params:
            params.extend(plan.compiled.params)
        if start is not None and end is not None and kind in _SPLIT_SESSIONS:
            windows: list[Window | None] = list(split_windows(start, end, SESSIONS_WINDOW))
        else:
            windows = [None]
        endpoints: list[tuple[Endpoint, Window | None]] = []
        for window in windows:
            lo, hi = (window.start, window.end) if window else (start, end)
            times: dict[str, str | None] = {}
            if time_format == "date" and lo is not None and hi is not None:
                times = {"start_date": format_time(lo), "end_date": format_time(hi)}
            elif time_format == "epoch" and lo is not None and hi is not None:
                times = {
                    "start_epoch": str(int(lo.timestamp())),
                    "end_epoch": str(int(hi.timestamp())),
                }
            endpoint = Endpoint.sessions(
                kind,
                limit=self.limit,
                viewer_id=self.viewer_id,
                viewer_ip=self.viewer_ip,
                days=self.days,
                **times,
            )
            endpoints.append((endpoint, window))
        return _conviva_plan(self, checks, endpoints, plan, params)


# --- Klaviyo -------------------------------------------------------------------------------------

KLAVIYO_TIMEFRAMES = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "last_7_days",
    "this_month",
    "last_month",
    "last_30_days",
    "last_3_months",
    "last_90_days",
    "this_year",
    "last_12_months",
    "last_365_days",
    "last_year",
)
"""The timeframe keys of Klaviyo's reporting API."""


def _month_start(year: int, month: int) -> dt.datetime:
    while month < 1:
        year, month = year - 1, month + 12
    return dt.datetime(year, month, 1, tzinfo=_UTC)


def timeframe_range(key: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The range a Klaviyo timeframe key covers at ``now``, in UTC (Klaviyo uses the account's
    time zone; the length, which the interval limits are checked against, is the same but for
    a daylight-saving hour). Weeks start on Monday. Raises KeyError for an unknown key."""
    now = now.astimezone(_UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - dt.timedelta(days=today.weekday())
    month = _month_start(now.year, now.month)
    ranges = {
        "today": (today, now),
        "yesterday": (today - dt.timedelta(days=1), today),
        "this_week": (monday, now),
        "last_week": (monday - dt.timedelta(days=7), monday),
        "this_month": (month, now),
        "last_month": (_month_start(now.year, now.month - 1), month),
        "this_year": (dt.datetime(now.year, 1, 1, tzinfo=_UTC), now),
        "last_year": (
            dt.datetime(now.year - 1, 1, 1, tzinfo=_UTC),
            dt.datetime(now.year, 1, 1, tzinfo=_UTC),
        ),
        "last_3_months": (_month_start(now.year, now.month - 3), month),
        "last_12_months": (_month_start(now.year, now.month - 12), month),
    }
    if key in ranges:
        return ranges[key]
    days = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}[key]
    return today - dt.timedelta(days=days), today


KLAVIYO_MESSAGE_STATISTICS = (
    "average_order_value",
    "bounce_rate",
    "bounced",
    "bounced_or_failed",
    "bounced_or_failed_rate",
    "click_rate",
    "click_to_open_rate",
    "clicks",
    "clicks_unique",
    "conversion_rate",
    "conversion_uniques",
    "conversion_value",
    "conversions",
    "delivered",
    "delivery_rate",
    "failed",
    "failed_rate",
    "message_segment_count_sum",
    "open_rate",
    "opens",
    "opens_unique",
    "recipients",
    "revenue_per_recipient",
    "spam_complaint_rate",
    "spam_complaints",
    "text_message_credit_usage_amount",
    "text_message_roi",
    "text_message_spend",
    "unsubscribe_rate",
    "unsubscribe_uniques",
    "unsubscribes",
)
KLAVIYO_FORM_STATISTICS = (
    "closed_form",
    "closed_form_uniques",
    "qualified_form",
    "qualified_form_uniques",
    "submit_rate",
    "submits",
    "submitted_form_step",
    "submitted_form_step_uniques",
    "viewed_form",
    "viewed_form_step",
    "viewed_form_step_uniques",
    "viewed_form_uniques",
)
KLAVIYO_SEGMENT_STATISTICS = (
    "members_added",
    "members_removed",
    "net_members_changed",
    "total_members",
)
"""The statistics of Klaviyo's segment reports (flow and campaign reports share
:data:`KLAVIYO_MESSAGE_STATISTICS`, form reports have :data:`KLAVIYO_FORM_STATISTICS`)."""
_FLOW_GROUP_BY = (
    "flow_id",
    "flow_message_id",
    "flow_message_name",
    "flow_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
)
_CAMPAIGN_GROUP_BY = (
    "campaign_id",
    "campaign_message_id",
    "campaign_message_name",
    "group",
    "group_name",
    "send_channel",
    "tag_id",
    "tag_name",
    "text_message_format",
    "variation",
    "variation_name",
)


@dataclass(frozen=True)
class _Report:
    family: str
    series: bool
    statistics: tuple[str, ...]
    group_by: tuple[str, ...]
    default_groupings: tuple[str, ...]
    conversion: bool
    required_group_by: tuple[str, ...] = ()
    prerequisites: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> str:
        return f"klaviyo-{self.family}-report"


def _flow(series: bool) -> _Report:
    return _Report(
        "flow",
        series,
        KLAVIYO_MESSAGE_STATISTICS,
        _FLOW_GROUP_BY,
        ("flow_id", "flow_message_id", "send_channel"),
        True,
        ("flow_id", "flow_message_id"),
    )


def _form(series: bool) -> _Report:
    return _Report(
        "form",
        series,
        KLAVIYO_FORM_STATISTICS,
        ("form_id", "form_version_id"),
        ("form_id",),
        False,
        prerequisites=(("form_version_id", "form_id"),),
    )


def _segment(series: bool) -> _Report:
    return _Report("segment", series, KLAVIYO_SEGMENT_STATISTICS, (), ("segment_id",), False)


KLAVIYO_REPORTS: dict[str, _Report] = {
    "flow-values": _flow(False),
    "flow-series": _flow(True),
    "campaign-values": _Report(
        "campaign",
        False,
        KLAVIYO_MESSAGE_STATISTICS,
        _CAMPAIGN_GROUP_BY,
        ("campaign_id", "campaign_message_id", "send_channel"),
        True,
        ("campaign_id", "campaign_message_id"),
    ),
    "form-values": _form(False),
    "form-series": _form(True),
    "segment-values": _segment(False),
    "segment-series": _segment(True),
}
"""Klaviyo's reports by name (``flow-values`` is ``POST /api/flow-values-reports/``): their
statistics, group-by fields (a group-by must include ``flow_id`` and ``flow_message_id`` for
flows, ``campaign_id`` and ``campaign_message_id`` for campaigns; ``form_version_id`` needs
``form_id``; segment reports take none), the groupings results carry by default, and whether
they need a ``conversion_metric_id``."""

KLAVIYO_INTERVALS: dict[str, dt.timedelta | None] = {
    "hourly": dt.timedelta(days=7),
    "daily": dt.timedelta(days=60),
    "weekly": dt.timedelta(weeks=52),
    "monthly": dt.timedelta(weeks=52),
}
"""Series intervals and the longest timeframe each takes."""


def _tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)  # type: ignore[return-value]  # reported by validation


@dataclass(frozen=True)
class KlaviyoReportQuery(_QueryMixin):
    """A Klaviyo reporting query: ``report`` is one of :data:`KLAVIYO_REPORTS` (``flow-values``,
    ``flow-series``, ``campaign-values``, ``form-values``, ``form-series``, ``segment-values``,
    ``segment-series``).

    ``statistics`` (at least one, each known to the report); a ``timeframe`` key (such as
    ``last_30_days``) or a custom ``start`` and ``end`` of at most one year; series reports an
    ``interval`` (hourly up to 7 days, daily up to 60 days, weekly, monthly up to 52 weeks);
    flow and campaign reports a ``conversion_metric_id``; ``group_by`` fields of the report;
    ``filter`` compiled for the report family's target. Lists may be given as lists or as
    comma-separated text.
    """

    report: str
    statistics: Sequence[str] = ()
    timeframe: str | None = None
    start: TimeValue | None = None
    end: TimeValue | None = None
    interval: str | None = None
    conversion_metric_id: str | None = None
    group_by: Sequence[str] = ()
    filter: str | Expr | None = None
    post_filter: bool = False

    api = "klaviyo"

    def __post_init__(self) -> None:
        object.__setattr__(self, "statistics", _tuple(self.statistics))
        object.__setattr__(self, "group_by", _tuple(self.group_by))

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        spec = KLAVIYO_REPORTS.get(self.report)
        if spec is None:
            checks.add(
                "FQ701",
                f"unknown Klaviyo report '{self.report}'",
                _did_you_mean(self.report, KLAVIYO_REPORTS) or "use " + ", ".join(KLAVIYO_REPORTS),
            )
            return None
        if not self.statistics:
            checks.add(
                "FQ712",
                f"the {self.report} report needs at least one statistic",
                "for example " + ", ".join(spec.statistics[:3]),
            )
        seen: set[str] = set()
        for name in self.statistics:
            if name not in spec.statistics:
                checks.add(
                    "FQ712",
                    f"the {self.report} report has no statistic '{name}'",
                    _did_you_mean(str(name), spec.statistics),
                )
            elif name in seen:
                checks.add(
                    "FQ712",
                    f"the statistic '{name}' is listed twice",
                    severity=Severity.WARNING,
                )
            seen.add(str(name))
        for name in self.group_by:
            if not spec.group_by:
                checks.add("FQ713", f"the {self.report} report takes no group_by")
                break
            if name not in spec.group_by:
                checks.add(
                    "FQ713",
                    f"the {self.report} report cannot group by '{name}'",
                    _did_you_mean(str(name), spec.group_by)
                    or "it groups by " + ", ".join(spec.group_by),
                )
        if self.group_by and spec.group_by:
            needed = [n for n in spec.required_group_by if n not in self.group_by]
            needed += [
                needs
                for field_name, needs in spec.prerequisites
                if field_name in self.group_by and needs not in self.group_by
            ]
            if needed:
                checks.add(
                    "FQ713",
                    f"a {self.report} group_by must include " + " and ".join(needed),
                    "add " + ", ".join(needed) + " to group_by, or leave group_by out",
                )
        custom = self.start is not None or self.end is not None
        length: dt.timedelta | None = None
        timeframe: dict[str, str] = {}
        if self.timeframe is not None and custom:
            checks.add("FQ702", "give a timeframe key or a custom start and end, not both")
        elif self.timeframe is not None:
            if self.timeframe not in KLAVIYO_TIMEFRAMES:
                checks.add(
                    "FQ709",
                    f"unknown timeframe '{self.timeframe}'",
                    _did_you_mean(str(self.timeframe), KLAVIYO_TIMEFRAMES)
                    or "use " + ", ".join(KLAVIYO_TIMEFRAMES),
                )
            else:
                lo, hi = timeframe_range(self.timeframe, now)
                length = hi - lo
                timeframe = {"key": self.timeframe}
        elif custom:
            start = checks.time("start", self.start, now)
            end = checks.time("end", self.end, now)
            if self.start is None or self.end is None:
                checks.add("FQ702", "a custom timeframe needs both start and end")
            if checks.range(start, end, "the timeframe"):
                assert start is not None
                assert end is not None
                if end > _add_year(start):
                    checks.add(
                        "FQ710",
                        "a Klaviyo report timeframe is at most one year; this one is "
                        f"{(end - start).days} days",
                        "split the range into years",
                    )
                length = end - start
                timeframe = {"start": format_time(start), "end": format_time(end)}
        else:
            checks.add(
                "FQ701",
                "a Klaviyo report needs a timeframe",
                "give a timeframe key (last_30_days...) or a custom start and end",
            )
        if spec.series:
            if self.interval is None:
                checks.add(
                    "FQ704",
                    f"the {self.report} report needs an interval",
                    "use " + ", ".join(KLAVIYO_INTERVALS),
                )
            elif self.interval not in KLAVIYO_INTERVALS:
                checks.add(
                    "FQ704",
                    f"unknown interval '{self.interval}'",
                    "use " + ", ".join(KLAVIYO_INTERVALS),
                )
            else:
                longest = KLAVIYO_INTERVALS[self.interval]
                if longest is not None and length is not None and length > longest:
                    checks.add(
                        "FQ710",
                        f"the {self.interval} interval covers at most {_days(longest)}; this "
                        f"timeframe is {_days(length)}"
                        + (" now" if self.timeframe is not None else ""),
                        "choose a coarser interval or a shorter timeframe",
                    )
        elif self.interval is not None:
            checks.add(
                "FQ701",
                f"the {self.report} report takes no interval",
                f"use {spec.family}-series for a series",
            )
        if spec.conversion and not (
            isinstance(self.conversion_metric_id, str) and self.conversion_metric_id
        ):
            checks.add(
                "FQ711",
                f"the {self.report} report needs a conversion_metric_id",
                "pass the id of the metric conversions count (`flowql query klaviyo metrics` "
                "lists them)",
            )
        source, expr = _parse_filter(checks, self.filter)
        records = frozenset(self.group_by or spec.default_groupings)
        plan = _plan_filter(
            checks,
            source,
            expr,
            target=spec.target,
            what=f"{self.report} report",
            post_filter=self.post_filter,
            record_keys=records,
            record_hint="group by that field to post-filter on it",
        )
        if checks.failed:
            return None
        attributes: dict[str, object] = {
            "statistics": list(self.statistics),
            "timeframe": timeframe,
        }
        if spec.series:
            attributes["interval"] = self.interval
        if spec.conversion:
            attributes["conversion_metric_id"] = self.conversion_metric_id
        if plan.compiled is not None and plan.compiled.filter:
            attributes["filter"] = plan.compiled.filter
        if self.group_by:
            attributes["group_by"] = list(self.group_by)
        body = {"data": {"type": f"{self.report}-report", "attributes": attributes}}
        request = Request("POST", f"{self.report}-reports/", body=body, limiter="reports")
        return Plan(self, (request,), plan)


def _add_year(moment: dt.datetime) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def _days(length: dt.timedelta) -> str:
    days = length.total_seconds() / 86400
    return f"{days:g} days" if days != 1 else "1 day"


KLAVIYO_METRICS_ENDPOINTS = ("metrics", "flow-triggers")


@dataclass(frozen=True)
class KlaviyoMetricsQuery(_QueryMixin):
    """Klaviyo's metrics: ``metrics`` lists them (``GET /api/metrics/``, every page; the filter
    takes ``==`` on ``integration.name`` or ``integration.category``), ``flow-triggers`` the
    flows a metric (``metric_id``) triggers."""

    endpoint: str = "metrics"
    metric_id: str | None = None
    filter: str | Expr | None = None
    post_filter: bool = False

    api = "klaviyo"

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        from flowql.endpoints import percent_encode

        if self.endpoint not in KLAVIYO_METRICS_ENDPOINTS:
            checks.add(
                "FQ701",
                f"unknown Klaviyo metrics endpoint '{self.endpoint}'",
                "use metrics or flow-triggers",
            )
            return None
        source, expr = _parse_filter(checks, self.filter)
        if self.endpoint == "flow-triggers":
            metric = _id(checks, "metric_id", self.metric_id)
            plan = _plan_filter(
                checks,
                source,
                expr,
                target=None,
                what="flow-triggers endpoint",
                post_filter=self.post_filter,
                record_keys=frozenset({"type", "id"}),
            )
            if checks.failed or metric is None:
                return None
            path = f"metrics/{percent_encode(metric)}/relationships/flow-triggers"
            return Plan(self, (Request("GET", path),), plan)
        if self.metric_id is not None:
            checks.add("FQ701", "the metrics endpoint lists every metric; it takes no metric_id")
        plan = _plan_filter(
            checks,
            source,
            expr,
            target="klaviyo-metrics",
            what="metrics endpoint",
            post_filter=self.post_filter,
            record_keys=None,
        )
        if checks.failed:
            return None
        params = []
        if plan.compiled is not None and plan.compiled.filter:
            params.append(("filter", plan.compiled.filter))
        return Plan(self, (Request("GET", "metrics/" + _encode_query(params)),), plan)


# --- Flow XO -------------------------------------------------------------------------------------

FLOWXO_ENDPOINTS: dict[str, tuple[str, frozenset[str]]] = {
    "insights": (
        "insights",
        frozenset(
            {
                "timestamp",
                "period",
                "active_users",
                "total_users",
                "new_users",
                "triggers",
                "received_messages",
                "sent_messages",
            }
        ),
    ),
    "top-messages": ("insights/top_messages", frozenset({"message", "count"})),
    "top-flows": ("insights/top_flows", frozenset({"flow_id", "flow_name", "count"})),
}
"""Flow XO's endpoints: path and the keys of their records (what a filter can test)."""
FLOWXO_UNITS = ("hour", "day", "month")


@dataclass(frozen=True)
class FlowXOQuery(_QueryMixin):
    """A Flow XO analytics query: ``insights`` (``start``, ``end``, ``unit`` hour/day/month,
    ``offset`` the UTC offset in minutes), ``top-messages`` or ``top-flows`` (``start``,
    ``end``, ``limit``).

    Flow XO takes no filter parameter: a ``filter`` is always applied to the returned records
    with the python target (``post_filter`` is implied), on the record keys of
    :data:`FLOWXO_ENDPOINTS`. Text times are sent as given (Flow XO takes bare dates).
    """

    endpoint: str = "insights"
    start: TimeValue | None = None
    end: TimeValue | None = None
    unit: str | None = None
    offset: int | None = None
    limit: int | None = None
    filter: str | Expr | None = None
    post_filter: bool = True

    api = "flowxo"

    def _build(self, checks: _Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        spec = FLOWXO_ENDPOINTS.get(self.endpoint)
        if spec is None:
            checks.add(
                "FQ701",
                f"unknown Flow XO endpoint '{self.endpoint}'",
                "use " + ", ".join(FLOWXO_ENDPOINTS),
            )
            return None
        path, keys = spec
        start = checks.time("start", self.start, now)
        end = checks.time("end", self.end, now)
        checks.range(start, end, "the range")
        params: list[tuple[str, str]] = []
        if self.endpoint == "insights":
            if self.offset is not None:
                if not _is_int(self.offset) or not -720 <= self.offset <= 840:
                    checks.add(
                        "FQ701",
                        f"offset is a UTC offset in minutes, -720 to 840, not {self.offset!r}",
                    )
                else:
                    params.append(("offset", str(self.offset)))
            if self.unit is not None and self.unit not in FLOWXO_UNITS:
                checks.add(
                    "FQ704",
                    f"unknown unit '{self.unit}'",
                    "use " + ", ".join(FLOWXO_UNITS),
                )
            if self.limit is not None:
                checks.add("FQ701", "the insights endpoint takes no limit")
        else:
            for name in ("unit", "offset"):
                if getattr(self, name) is not None:
                    checks.add("FQ701", f"the {self.endpoint} endpoint takes no {name}")
            if self.limit is not None and (not _is_int(self.limit) or self.limit < 1):
                checks.add("FQ706", f"limit must be a whole number, at least 1, not {self.limit}")
        for name, value, parsed in (("start", self.start, start), ("end", self.end, end)):
            if parsed is not None:
                shown = value.strip() if isinstance(value, str) else None
                if shown is None or shown.lower() == "now" or shown.startswith("-"):
                    shown = format_time(parsed)
                params.append((name, shown))
        if self.endpoint == "insights" and self.unit is not None:
            params.append(("unit", self.unit))
        if self.endpoint != "insights" and self.limit is not None:
            params.append(("limit", str(self.limit)))
        source, expr = _parse_filter(checks, self.filter)
        plan = _plan_filter(
            checks,
            source,
            expr,
            target=None,
            what=f"Flow XO {self.endpoint} endpoint",
            post_filter=True,
            record_keys=keys,
        )
        if checks.failed:
            return None
        return Plan(self, (Request("GET", path + _encode_query(params)),), plan)
