"""Conviva requests as values, their URLs, and the URL budget.

An :class:`Endpoint` describes one request (which API, which kind of data, which flow, which
time range, grouped how); :func:`request_url` adds a filter and gives the full URL, the filter
compiled by the endpoint's target (:mod:`flowql.targets.conviva_flow` or
:mod:`flowql.targets.conviva_sessions`) and every part percent-encoded.

Conviva answers ``414 Request-URI Too Long`` above 4K characters, so :func:`url_budget` measures
the whole URL, scheme to query, in its longest sane encoding (:func:`percent_encode`): FQ501 when
it is over the limit, FQ502 when it is above 90% of it. :func:`longest_flow_endpoint` is the
request a flow filter is budgeted against when no exact request is named.
"""

from __future__ import annotations

from flowql.apis import URL_LIMIT
from flowql.diagnostics import Diagnostic, Severity
from flowql.errors import UnsupportedError
from flowql.urls import encode_query, percent_encode, query_length

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.model import DataModel

__all__ = [
    "BASE_URL",
    "DEFAULT_URL_LIMIT",
    "encode_query",
    "Endpoint",
    "flow_historical",
    "flow_real_time",
    "longest_flow_endpoint",
    "percent_encode",
    "request_url",
    "sessions",
    "url_budget",
    "url_length",
]

BASE_URL = "https://api.conviva.com"
"""Where every Conviva API lives."""

DEFAULT_URL_LIMIT = URL_LIMIT
"""The longest request URL Conviva accepts ("4K characters"); longer ones get a 414
(:data:`flowql.apis.URL_LIMIT`)."""

WARN_PERCENT = 90
"""FQ502 warns when the URL is longer than this share of the limit, in percent."""

FLOW = "conviva-flow"
SESSIONS = "conviva-sessions"
FLOW_KINDS = ("real-time", "historical")
SESSIONS_KINDS = ("content", "ad", "viewer", "viewer-summary")
_SESSIONS_PATHS = {
    "content": "/insights/3.0/sessions/content",
    "ad": "/insights/3.0/sessions/ad",
    "viewer": "/insights/3.0/sessions/content/viewer",
    "viewer-summary": "/insights/3.0/sessions/content/viewer/summary",
}
_FILTERABLE = ("content", "ad")
TIME_SAFE = {"start_date": ":", "end_date": ":"}
"""The characters each time parameter keeps as it is, as the guide's examples write them."""
_LONGEST_ISO = ("2026-11-22T19:37:00.000Z", "2026-11-22T20:37:00.000Z")
_SHOWN = 40  # characters of a clause shown in the budget hint
_LISTED = 3  # clauses named in the budget hint


def _text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} must be a str or an int, not {type(value).__name__}")
    text = str(value)
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def _interval(value: str, what: str) -> str:
    minutes = value[2:-1] if value.startswith("PT") and value.endswith("M") else ""
    if not minutes.isdigit() or minutes.startswith("0") or not 1 <= int(minutes) <= 15:
        raise ValueError(f"{what} must be PT1M to PT15M, not {value!r}")
    return value


def _is_timestamp(value: str) -> bool:
    """Epoch milliseconds, or an ISO 8601 date-time (checked loosely: digits where a
    ``YYYY-MM-DDTHH:MM`` starts)."""
    if value.isdigit():
        return True
    head = value[:16]
    return (
        len(head) == 16
        and head[4] == head[7] == "-"
        and head[10] in "Tt "
        and head[13] == ":"
        and (head[:4] + head[5:7] + head[8:10] + head[11:13] + head[14:16]).isdigit()
    )


class Endpoint:
    """One Conviva request, without its filter. Immutable; build it with
    :meth:`flow_real_time`, :meth:`flow_historical` or :meth:`sessions`.

    Attributes (None when the request does not have them): ``api`` (``conviva-flow`` or
    ``conviva-sessions``), ``kind`` (``real-time`` or ``historical`` for the Flow API;
    ``content``, ``ad``, ``viewer`` or ``viewer-summary`` for Sessions V3), ``flow_id``,
    ``interval`` (real time: ``PT1M`` to ``PT15M``), ``granularity``, ``start`` and ``end``
    (as sent: epoch milliseconds or ISO 8601 for the Flow API; ISO 8601 dates or epoch seconds
    for Sessions, ``time_format`` telling which), ``group_by``, ``limit``, and for the viewer
    endpoints ``viewer_id``, ``viewer_ip`` and ``days``.
    """

    __slots__ = (
        "_api",
        "_days",
        "_end",
        "_flow_id",
        "_granularity",
        "_group_by",
        "_hash",
        "_interval",
        "_kind",
        "_limit",
        "_path",
        "_start",
        "_time_format",
        "_viewer_id",
        "_viewer_ip",
    )
    _FIELDS = (
        "api",
        "kind",
        "flow_id",
        "interval",
        "granularity",
        "start",
        "end",
        "time_format",
        "group_by",
        "limit",
        "viewer_id",
        "viewer_ip",
        "days",
    )

    def __init__(
        self,
        api: str,
        kind: str,
        *,
        flow_id: str | None = None,
        interval: str | None = None,
        granularity: str | None = None,
        start: str | None = None,
        end: str | None = None,
        time_format: str | None = None,
        group_by: str | None = None,
        limit: int | None = None,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
    ) -> None:
        """Prefer the constructors, which check each API's rules; this checks only the
        ``api``/``kind`` pair."""
        kinds = {FLOW: FLOW_KINDS, SESSIONS: SESSIONS_KINDS}.get(api)
        if kinds is None:
            raise ValueError(f"unknown API {api!r}; expected {FLOW!r} or {SESSIONS!r}")
        if kind not in kinds:
            raise ValueError(f"unknown {api} endpoint kind {kind!r}; expected one of {kinds}")
        self._api = api
        self._kind = kind
        self._flow_id = flow_id
        self._interval = interval
        self._granularity = granularity
        self._start = start
        self._end = end
        self._time_format = time_format
        self._group_by = group_by
        self._limit = limit
        self._viewer_id = viewer_id
        self._viewer_ip = viewer_ip
        self._days = days
        self._path: str | None = None  # made when first asked for
        self._hash: int | None = None

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def flow_real_time(
        cls,
        flow_id: str | int,
        interval: str = "PT15M",
        *,
        group_by: str | None = None,
        granularity: str | None = None,
    ) -> Endpoint:
        """The last ``interval`` (``PT1M`` to ``PT15M``) of a flow's metrics,
        ``/flow-data/real-time-metrics/{flow_id}/{interval}[/group-by/{dimension}]``, sliced
        by ``granularity`` (``PT1M``...) when given."""
        return cls(
            FLOW,
            "real-time",
            flow_id=_text(flow_id, "flow_id"),
            interval=_interval(interval, "interval"),
            granularity=None if granularity is None else _text(granularity, "granularity"),
            group_by=None if group_by is None else _text(group_by, "group_by"),
        )

    @classmethod
    def flow_historical(
        cls,
        flow_id: str | int,
        start: str | int,
        end: str | int,
        *,
        group_by: str | None = None,
    ) -> Endpoint:
        """A flow's metrics from ``start`` to ``end`` (epoch milliseconds or ISO 8601, as the
        API takes them), ``/flow-data/metrics/{flow_id}/{start}_to_{end}[/group-by/{dim}]``."""
        start_text, end_text = _text(start, "start"), _text(end, "end")
        for name, value in (("start", start_text), ("end", end_text)):
            if not _is_timestamp(value):
                raise ValueError(f"{name} must be epoch milliseconds or ISO 8601, not {value!r}")
        if start_text.isdigit() and end_text.isdigit() and int(start_text) >= int(end_text):
            raise ValueError("start must be earlier than end")
        return cls(
            FLOW,
            "historical",
            flow_id=_text(flow_id, "flow_id"),
            start=start_text,
            end=end_text,
            group_by=None if group_by is None else _text(group_by, "group_by"),
        )

    @classmethod
    def sessions(
        cls,
        kind: str = "content",
        *,
        start_date: str | None = None,
        end_date: str | None = None,
        start_epoch: int | str | None = None,
        end_epoch: int | str | None = None,
        limit: int | None = None,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
    ) -> Endpoint:
        """A Sessions V3 request: ``content`` or ``ad`` sample sessions (which take dimension
        filters), or a viewer's sessions (``viewer``) or summary (``viewer-summary``).

        One time format per request: ``start_date``/``end_date`` (ISO 8601) or
        ``start_epoch``/``end_epoch`` (seconds), each pair given whole or not at all (the API
        then takes the last 3 hours), or, on the viewer endpoints, ``days`` instead. ``limit``
        is the number of sessions, at least 1.
        """
        if kind not in SESSIONS_KINDS:
            raise ValueError(f"unknown Sessions V3 endpoint kind {kind!r}")
        dates = (start_date, end_date)
        epochs = (start_epoch, end_epoch)
        if any(v is not None for v in dates) and any(v is not None for v in epochs):
            raise ValueError("use one time format per request: dates or epochs, not both")
        start = end = time_format = None
        for pair, fmt in ((dates, "date"), (epochs, "epoch")):
            if any(v is not None for v in pair):
                if None in pair:
                    raise ValueError(f"give both start_{fmt} and end_{fmt}, or neither")
                start, end = _text(pair[0], f"start_{fmt}"), _text(pair[1], f"end_{fmt}")
                time_format = fmt
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise TypeError("limit must be an int")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        if viewer_id is not None and viewer_ip is not None:
            raise ValueError("give viewer_id or viewer_ip, not both")
        if kind in _FILTERABLE and (viewer_id or viewer_ip or days is not None):
            raise ValueError("viewer_id, viewer_ip and days are for the viewer endpoints")
        if days is not None and time_format is not None:
            raise ValueError("use one time format per request: days, or a start and end")
        return cls(
            SESSIONS,
            kind,
            start=start,
            end=end,
            time_format=time_format,
            limit=limit,
            viewer_id=viewer_id,
            viewer_ip=viewer_ip,
            days=days,
        )

    # --- attributes -----------------------------------------------------------------------

    @property
    def api(self) -> str:
        """``conviva-flow`` or ``conviva-sessions``."""
        return self._api

    @property
    def kind(self) -> str:
        """``real-time``/``historical`` (Flow), ``content``/``ad``/``viewer``/``viewer-summary``
        (Sessions V3)."""
        return self._kind

    @property
    def flow_id(self) -> str | None:
        """The flow model's id (Flow API)."""
        return self._flow_id

    @property
    def interval(self) -> str | None:
        """The real-time window, ``PT1M`` to ``PT15M``."""
        return self._interval

    @property
    def granularity(self) -> str | None:
        """The real-time slice, such as ``PT1M``."""
        return self._granularity

    @property
    def start(self) -> str | None:
        """The start of the time range, as sent."""
        return self._start

    @property
    def end(self) -> str | None:
        """The end of the time range, as sent."""
        return self._end

    @property
    def time_format(self) -> str | None:
        """Sessions V3: ``date`` (``start_date``/``end_date``) or ``epoch``
        (``start_epoch``/``end_epoch``), or None for the API's default range."""
        return self._time_format

    @property
    def group_by(self) -> str | None:
        """The dimension the Flow API groups by."""
        return self._group_by

    @property
    def limit(self) -> int | None:
        """Sessions V3: how many sessions to return."""
        return self._limit

    @property
    def viewer_id(self) -> str | None:
        """Sessions V3 viewer endpoints: the viewer's id."""
        return self._viewer_id

    @property
    def viewer_ip(self) -> str | None:
        """Sessions V3 viewer endpoints: the viewer's IP address."""
        return self._viewer_ip

    @property
    def days(self) -> int | None:
        """Sessions V3 viewer endpoints: how many days back."""
        return self._days

    @property
    def path(self) -> str:
        """The URL path, each variable part percent-encoded."""
        if self._path is None:
            self._path = self._make_path()
        return self._path

    def _make_path(self) -> str:
        if self._api == SESSIONS:
            return _SESSIONS_PATHS[self._kind]
        assert self._flow_id is not None
        flow = percent_encode(self._flow_id)
        if self._kind == "real-time":
            assert self._interval is not None
            path = f"/flow-data/real-time-metrics/{flow}/{percent_encode(self._interval)}"
        else:
            assert self._start is not None
            assert self._end is not None
            span = f"{percent_encode(self._start)}_to_{percent_encode(self._end)}"
            path = f"/flow-data/metrics/{flow}/{span}"
        if self._group_by is not None:
            path += f"/group-by/{percent_encode(self._group_by)}"
        return path

    def query_string(self) -> str:
        """:meth:`params` encoded (no ``?``), the times as the Sessions guide writes them
        (``start_date=2022-01-01T04:00:00Z``: its colons kept, which a query may hold)."""
        return encode_query(self.params(), mark=False, safe=TIME_SAFE)

    def params(self) -> list[tuple[str, str]]:
        """The request's own query parameters (the filter aside), not yet encoded."""
        out: list[tuple[str, str]] = []
        if self._api == FLOW:
            if self._granularity is not None:
                out.append(("granularity", self._granularity))
            return out
        if self._viewer_id is not None:
            out.append(("viewer_id", self._viewer_id))
        if self._viewer_ip is not None:
            out.append(("viewer_ip", self._viewer_ip))
        if self._time_format is not None:
            assert self._start is not None
            assert self._end is not None
            out.append((f"start_{self._time_format}", self._start))
            out.append((f"end_{self._time_format}", self._end))
        if self._days is not None:
            out.append(("days", str(self._days)))
        if self._limit is not None:
            out.append(("limit", str(self._limit)))
        return out

    @property
    def takes_filter(self) -> bool:
        """Whether the request takes a dimension filter (every one but the viewer endpoints)."""
        return self._api == FLOW or self._kind in _FILTERABLE

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Endpoint):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        # Kept: flowql check looks an endpoint up for every query.
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self._FIELDS, self._key(), strict=True)
            if value is not None
        )
        return f"Endpoint({fields})"


flow_real_time = Endpoint.flow_real_time
"""Same as :meth:`Endpoint.flow_real_time`."""
flow_historical = Endpoint.flow_historical
"""Same as :meth:`Endpoint.flow_historical`."""
sessions = Endpoint.sessions
"""Same as :meth:`Endpoint.sessions`."""


# --- URLs --------------------------------------------------------------------------------------


def _filter_params(endpoint: Endpoint, expr: Expr | None) -> list[tuple[str, str]]:
    if expr is None:
        return []
    if endpoint.api == FLOW:
        from flowql.targets.conviva_flow import compile_filter

        return [("filter", compile_filter(expr)[0])]
    if not endpoint.takes_filter:
        raise UnsupportedError(
            Diagnostic(
                "FQ601",
                f"the Sessions V3 {endpoint.kind} endpoint takes no dimension filter",
                expr.span,
                hint="filter content sessions (Endpoint.sessions('content')) instead, or "
                "post-filter the sessions on the client with the python target",
            )
        )
    from flowql.targets.conviva_sessions import compile_params

    return compile_params(expr)


def request_url(
    endpoint: Endpoint,
    expr: Expr | None = None,
    *,
    filter_params: list[tuple[str, str]] | None = None,
) -> str:
    """The full request URL for ``endpoint`` filtered by ``expr``, every key and value
    percent-encoded (:func:`percent_encode`).

    For the Flow API the filter is compiled to the ``filter`` parameter
    (:func:`~flowql.targets.conviva_flow.compile_filter`, its warnings dropped); for Sessions V3
    to ``key=value`` parameters after the time and limit ones
    (:func:`~flowql.targets.conviva_sessions.compile_params`). Raises
    :class:`~flowql.errors.UnsupportedError` when the target cannot express the filter.
    ``filter_params``, when the caller already compiled ``expr``, are used as they are.
    """
    if filter_params is None:
        filter_params = _filter_params(endpoint, expr)
    params = endpoint.params() + filter_params
    url = BASE_URL + endpoint.path
    return url + encode_query(params)


def url_length(
    endpoint: Endpoint,
    expr: Expr | None = None,
    *,
    filter_params: list[tuple[str, str]] | None = None,
) -> int:
    """``len(request_url(endpoint, expr, filter_params=filter_params))``, counted without
    writing the URL (:func:`url_budget` asks it of every filter ``flowql check`` reads)."""
    if filter_params is None:
        filter_params = _filter_params(endpoint, expr)
    return len(BASE_URL) + len(endpoint.path) + query_length(endpoint.params() + filter_params)


def _clause_text(clause: Expr) -> str:
    from flowql.ast import In
    from flowql.formatter import format

    text = format(clause)
    if len(text) <= _SHOWN:
        return text
    if isinstance(clause, In):
        short = f"{clause.key.name} {'NOT IN' if clause.negated else 'IN'} (...)"
        if len(short) <= _SHOWN:
            return short
    return text[: _SHOWN - 3] + "..."


def _clause_cost(endpoint: Endpoint, clause: Expr) -> int:
    """What the clause adds to the URL: its encoded filter text (Flow), or its encoded
    parameters with their ``=`` and ``&`` (Sessions)."""
    try:
        params = _filter_params(endpoint, clause)
    except UnsupportedError:  # pragma: no cover - a clause of an accepted filter is accepted
        from flowql.formatter import format

        return len(percent_encode(format(clause)))
    if endpoint.api == FLOW:
        return len(percent_encode(params[0][1]))
    return sum(len(percent_encode(k)) + len(percent_encode(v)) + 2 for k, v in params)


def _costliest(endpoint: Endpoint, expr: Expr) -> str:
    from flowql.ast import And, Or

    clauses = list(expr.operands) if isinstance(expr, (And, Or)) else [expr]
    costs = sorted(
        ((_clause_cost(endpoint, c), i, c) for i, c in enumerate(clauses)),
        key=lambda item: (-item[0], item[1]),
    )
    shown = ", ".join(f"{_clause_text(c)} {cost:,} characters" for cost, _, c in costs[:_LISTED])
    more = ", ..." if len(costs) > _LISTED else ""
    if endpoint.api == FLOW:
        advice = "shorten them, match a common part with ~~, or split the query"
    else:
        advice = "shorten them, save a Conviva filter and pass its filter_id, or split the query"
    return f"costliest: {shown}{more}; {advice}"


def url_budget(
    endpoint: Endpoint,
    expr: Expr | None,
    *,
    limit: int = DEFAULT_URL_LIMIT,
    filter_params: list[tuple[str, str]] | None = None,
) -> list[Diagnostic]:
    """Check the length of the request URL against ``limit`` characters.

    FQ501 (error) when the URL is longer than ``limit``, FQ502 (warning) when it is longer than
    90% of it, with a hint naming the costliest clauses; nothing otherwise. A filter the target
    refuses gets no budget diagnostic: the refusal is reported on its own. ``filter_params``:
    see :func:`request_url`.
    """
    if limit < 1:
        raise ValueError("the URL limit must be at least 1")
    try:
        length = url_length(endpoint, expr, filter_params=filter_params)
    except UnsupportedError:
        return []
    if length * 100 <= limit * WARN_PERCENT:
        return []
    span = expr.span if expr is not None else None
    # Only now, when there is something to say: naming the costliest clauses compiles each one.
    hint = _costliest(endpoint, expr) if expr is not None else None
    if length > limit:
        return [
            Diagnostic(
                "FQ501",
                f"the request URL is {length:,} characters, {length - limit:,} over the limit "
                f"of {limit:,}",
                span,
                hint=hint,
            )
        ]
    if length * 100 > limit * WARN_PERCENT:
        share = length * 100 // limit
        return [
            Diagnostic(
                "FQ502",
                f"the request URL is {length:,} characters, {share}% of the limit of {limit:,}",
                span,
                hint=hint,
                severity=Severity.WARNING,
            )
        ]
    return []


def longest_flow_endpoint(flow_id: str | int, model: DataModel) -> Endpoint:
    """The longest request a filter on flow ``flow_id`` may be sent in, for budgeting when no
    exact request is named: historical, with ISO 8601 timestamps of the longest form
    (``2026-11-22T19:37:00.000Z``), grouped by the flow's longest dimension key (not grouped if
    the flow has no dimensions or the model does not have the flow)."""
    flow = model.flow(str(flow_id))
    group_by = None
    if flow is not None and flow.dimensions:
        group_by = max(flow.dimensions, key=lambda key: len(percent_encode(key)))
    start, end = _LONGEST_ISO
    return Endpoint.flow_historical(flow_id, start, end, group_by=group_by)
