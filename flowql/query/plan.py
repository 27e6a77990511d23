"""The parts every query value shares: windows, requests, plans, and the checks that collect
diagnostics while a query is planned.

A query value (one per endpoint family, in the modules beside this one) builds a :class:`Plan`:
the requests to send, in time order, what happens to the filter (:class:`FilterPlan`), and
warnings. A plan of a range that an API keeps for a limited time (``retention``) can be
refreshed at the moment each request is sent (:meth:`Plan.refresh`): a window whose start has
meanwhile slipped out of the API's reach is clamped to what the server accepts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from flowql import times
from flowql.diagnostics import Diagnostic, Severity
from flowql.endpoints import encode_query
from flowql.errors import FlowQLError, UnsupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import TypeAlias

    from flowql.ast import Expr
    from flowql.endpoints import Endpoint
    from flowql.model import DataModel
    from flowql.query.conviva_flow import FlowQuery
    from flowql.query.conviva_sessions import SessionsQuery
    from flowql.query.flowxo import FlowXOQuery
    from flowql.query.klaviyo import KlaviyoMetricsQuery, KlaviyoReportQuery
    from flowql.targets import CompileResult

    TimeValue: TypeAlias = "dt.datetime | str | int | float"
    AnyQuery: TypeAlias = (
        "FlowQuery | SessionsQuery | KlaviyoReportQuery | KlaviyoMetricsQuery | FlowXOQuery"
    )

UTC = dt.timezone.utc


class QueryError(FlowQLError):
    """A query the server would reject, found before any request: every problem, each an
    FQ7xx diagnostic (or the filter's own diagnostics, with spans into ``source``, the filter
    text)."""


# --- time ----------------------------------------------------------------------------------------

SECOND = dt.timedelta(seconds=1)
RETENTION_MARGIN = dt.timedelta(minutes=1)
"""How far inside an API's retention limit a clamped start is put: the server's clock may run
ahead of this machine's, and the request takes a moment to arrive."""


# The one time parser and formatter (flowql.times), named here too for the query layer's users.
parse_time = times.parse_time
format_time = times.format_time


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


MAX_WINDOWS = 10_000
"""The most windows one plan may hold: far more than any API's retention needs (7 days of
1-hour windows is 168), few enough that a range of centuries is refused before it is split."""


def split_windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta) -> list[Window]:
    """``start`` to ``end`` cut into consecutive windows of ``size`` (the last may be shorter),
    in time order, edges on whole seconds and no window shorter than one
    (:func:`flowql.times.split_range`). Raises :class:`~flowql.times.TimeError`, also for a
    range of more than :data:`MAX_WINDOWS` windows (counted before anything is split)."""
    if size > dt.timedelta(0) and end - start > size * MAX_WINDOWS:
        raise times.TimeError(
            f"the range {format_time(start)} to {format_time(end)} would be more than "
            f"{MAX_WINDOWS} windows of {times.format_duration(size)}",
            "give a shorter range",
        )
    return [Window(lo, hi) for lo, hi in times.split_range(start, end, size)]


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
    range was split, which of the client's rate ``limiter`` it counts against, and the
    ``headers`` the query itself sets (Klaviyo's ``revision``; the client adds the
    credentials)."""

    method: str
    path: str
    body: Mapping[str, object] | None = field(default=None, compare=False)
    window: Window | None = None
    limiter: str = "default"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class Plan:
    """A validated query: the requests to send (one per window, in time order), what happens to
    the filter, and warnings (a URL near its limit, an undocumented escape)."""

    query: AnyQuery
    requests: tuple[Request, ...]
    filter: FilterPlan
    warnings: tuple[Diagnostic, ...] = ()
    retention: dt.timedelta | None = None
    rebuild: Callable[[Window], Request] | None = field(default=None, repr=False)
    align: dt.timedelta | None = None
    """A clamped start stays a whole number of these after the window's start, so the
    server's buckets, which step from a request's start, still meet the next window's."""

    @property
    def windows(self) -> tuple[Window, ...]:
        """The windows of a split range (empty when the query is not split)."""
        return tuple(r.window for r in self.requests if r.window is not None)

    def refresh(
        self, request: Request, now: dt.datetime
    ) -> tuple[Request | None, Diagnostic | None]:
        """``request`` as it may be sent at ``now``: for an API that keeps data for a limited
        time (``retention``), a window whose start has slipped out of reach since the plan was
        made (a ``-7d`` range, an hour later) is clamped to the earliest start the server
        accepts (less :data:`RETENTION_MARGIN`, rounded up to a step of ``align``), with an
        FQ716 warning that says so; a window wholly out of reach is dropped (None), with the
        same warning. Other requests are returned as they are."""
        window = request.window
        if self.retention is None or self.rebuild is None or window is None:
            return request, None
        reach = now - self.retention + RETENTION_MARGIN
        earliest = times.floor_time(reach, SECOND)
        if earliest < reach:
            earliest += SECOND
        if window.start >= earliest:
            return request, None
        if self.align is not None:
            earliest = window.start + -(-(earliest - window.start) // self.align) * self.align
        keeps = f"{self.retention.days} days"
        if window.end <= earliest:
            return None, Diagnostic(
                "FQ716",
                f"the window {window} was out of the API's reach when it was sent (it keeps "
                f"{keeps} of data): left out",
                None,
                hint="start the range later",
                severity=Severity.WARNING,
            )
        clamped = Window(earliest, window.end)
        return self.rebuild(clamped), Diagnostic(
            "FQ716",
            f"the start was clamped from {format_time(window.start)} to "
            f"{format_time(earliest)}: the API keeps {keeps} of data, counted when the request "
            "was sent",
            None,
            hint=f"start a few minutes later than -{self.retention.days}d to fetch the whole range",
            severity=Severity.WARNING,
        )


# --- shared checks -------------------------------------------------------------------------------


class Checks:
    """Collects diagnostics while a query is planned."""

    def __init__(
        self, *, spans: Mapping[str, object] | None = None, timeless: bool = False
    ) -> None:
        self.found: list[Diagnostic] = []
        self.spans = dict(spans or {})
        self.timeless = timeless

    def add(
        self,
        code: str,
        message: str,
        hint: str | None = None,
        *,
        span: object = None,
        severity: Severity = Severity.ERROR,
        field: str | None = None,
    ) -> None:
        from flowql.ast import Span

        if span is None and field is not None:
            span = self.spans.get(field)
        where = span if isinstance(span, Span) else None
        self.found.append(Diagnostic(code, message, where, hint=hint, severity=severity))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.found.extend(diagnostics)

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.found)

    def time(
        self, name: str, value: TimeValue | None, now: dt.datetime, tz: object = None
    ) -> dt.datetime | None:
        """``value`` read as a time (naive ones in ``tz``), floored to a whole second: no API
        flowql speaks shows sub-second edges in its examples. FQ702 when it is not a time."""
        if value is None:
            return None
        try:
            zone = times.parse_tz(tz)  # type: ignore[arg-type]
        except times.TimeError as exc:
            if not any(d.message.startswith("tz: ") for d in self.found):  # once, not per time
                self.add("FQ702", f"tz: {exc.message}", exc.hint, field="tz")
            return None
        try:
            moment = times.parse_time(value, now=now, tz=zone)
        except times.TimeError as exc:
            field = name.split("_")[0] if name.startswith(("start", "end")) else name
            self.add("FQ702", f"{name}: {exc.message}", exc.hint, field=field)
            return None
        return times.floor_time(moment, SECOND)

    def retention(
        self, start: dt.datetime, now: dt.datetime, keeps: dt.timedelta, what: str
    ) -> None:
        """FQ703 when ``start`` is further back than an API that ``keeps`` data that long
        serves: a range that cannot be served is refused before any request."""
        earliest = times.floor_time(now - keeps, SECOND)
        if start < earliest and not self.timeless:
            self.add(
                "FQ703",
                f"the start ({format_time(start)}) is more than {keeps.days} days back; {what} "
                f"keeps {keeps.days} days of data",
                f"start at {format_time(earliest)} or later (-{keeps.days}d or less)",
                field="start",
            )

    def windows(
        self, start: dt.datetime, end: dt.datetime, size: dt.timedelta
    ) -> list[Window] | None:
        """The range split into windows, or None (after an FQ702) when a plan may not hold
        that many; nothing is split once an error was found."""
        if self.failed:
            return None
        try:
            return split_windows(start, end, size)
        except times.TimeError as exc:
            self.add("FQ702", exc.message, exc.hint, field="start")
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


def resolve_now(now: dt.datetime | None) -> dt.datetime:
    """The moment a plan is made: ``now`` (aware, or naive UTC), or the current time."""
    return times.parse_time(now) if now is not None else dt.datetime.now(UTC)


def required_id(
    checks: Checks, name: str, value: object, *, hint: str | None = None, field: str | None = None
) -> str | None:
    """``value`` as an id, or None after FQ701 (at ``field`` where it was written)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        checks.add("FQ701", f"{name} is required (a non-empty id)", hint, field=field or name)
        return None
    return str(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_filter(checks: Checks, value: str | Expr | None) -> tuple[str | None, Expr | None]:
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


def plan_filter(
    checks: Checks,
    source: str | None,
    expr: Expr | None,
    *,
    target: str | None,
    what: str,
    post_filter: bool,
    record_keys: frozenset[str] | None,
    record_hint: str = "",
    options: Mapping[str, object] | None = None,
) -> FilterPlan:
    """Compile ``expr`` for ``target`` (None: the endpoint takes no filter).

    Without ``post_filter`` a refused filter is FQ714 plus the target's FQ601s. With it, the
    largest AND-part the target takes is sent and the rest applied locally; a local part on a
    key the records do not carry (``record_keys``, None when unknown) is FQ715. ``options``
    go to the target (a Klaviyo target's ``revision``).
    """
    if expr is None:
        return FilterPlan(source=source)
    from flowql.ast import And, Key, find_all
    from flowql.targets import compile

    problems: tuple[Diagnostic, ...] = ()
    if target is not None:
        try:
            compiled = compile(expr, target, **(options or {}))
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
            attempt = compile(candidate, target, **(options or {}))
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


def _raise_or_plan(checks: Checks, source: str | None, build: Plan | None) -> Plan:
    if checks.failed or build is None:
        errors = [d for d in checks.found if d.severity is Severity.ERROR] or checks.found
        raise QueryError(errors, source)
    return build


class QueryBase:
    """What every query value has: ``validate`` and ``plan``."""

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        raise NotImplementedError

    def _source(self) -> str | None:
        value = getattr(self, "filter", None)
        return value if isinstance(value, str) else None

    def validate(
        self,
        *,
        now: dt.datetime | None = None,
        model: DataModel | None = None,
        timeless: bool = False,
        spans: Mapping[str, object] | None = None,
    ) -> list[Diagnostic]:
        """Every problem with the query (errors and warnings), none if it is good to send.

        ``now`` is the time relative ranges and "how far back" are measured from (default: the
        current time); ``model`` (a Conviva data model) adds checks of flow ids and group-by
        dimensions; ``timeless`` leaves out the rules that depend on when the query runs (how
        far back the API keeps data), as ``flowql check`` does for manifests; ``spans`` places
        a diagnostic about a field where it was written (see :meth:`plan`).
        """
        checks = Checks(timeless=timeless, spans=spans)
        self._build(checks, resolve_now(now), model)
        return checks.found

    def plan(
        self,
        *,
        now: dt.datetime | None = None,
        model: DataModel | None = None,
        spans: Mapping[str, object] | None = None,
    ) -> Plan:
        """The requests to send. Raises :class:`QueryError` with every error found (warnings
        go in :attr:`Plan.warnings`). ``spans`` places a diagnostic about a field (``start``)
        where the field was written (a command-line option, a manifest's value)."""
        checks = Checks(spans=spans)
        built = self._build(checks, resolve_now(now), model)
        plan = _raise_or_plan(checks, self._source(), built)
        return dataclasses.replace(plan, warnings=tuple(checks.found))


def conviva_plan(
    query: FlowQuery | SessionsQuery,
    checks: Checks,
    windows: Sequence[Window | None],
    endpoint_of: Callable[[Window | None], Endpoint],
    plan: FilterPlan,
    params: list[tuple[str, str]],
    *,
    retention: dt.timedelta | None = None,
    align: dt.timedelta | None = None,
) -> Plan | None:
    """One GET per window (``endpoint_of`` gives its endpoint; a single None window for an
    unsplit request), and the URL budget (``query.url_limit``, already checked to be a positive
    int) checked on the longest of them. With ``retention``, the plan can re-make a window's
    request when its start must be clamped as it is sent (:meth:`Plan.refresh`), by whole
    steps of ``align`` when given."""
    from flowql.endpoints import url_budget

    # The filter is the same in every window (a 7-day range has 168): encoded once.
    shared = encode_query(params, mark=False)

    def request_of(window: Window | None) -> tuple[Request, Endpoint]:
        endpoint = endpoint_of(window)
        query = "&".join(p for p in (endpoint.query_string(), shared) if p)
        path = endpoint.path + ("?" + query if query else "")
        return Request("GET", path, window=window), endpoint

    requests = []
    longest: tuple[int, Endpoint] | None = None
    for window in windows:
        request, endpoint = request_of(window)
        requests.append(request)
        if longest is None or len(request.path) > longest[0]:
            longest = (len(request.path), endpoint)
    if longest is not None:
        checks.extend(
            url_budget(longest[1], plan.sent, limit=query.url_limit, filter_params=params)
        )
    if checks.failed:
        return None
    return Plan(
        query,
        tuple(requests),
        plan,
        retention=retention,
        rebuild=(lambda w: request_of(w)[0]) if retention is not None else None,
        align=align,
    )
