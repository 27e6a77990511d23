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

Time values are read by :mod:`flowql.times`: a :class:`~datetime.datetime`, ISO 8601 text
(``2026-11-22T10:00:00Z``, or a date; a naive one in the query's ``tz``, UTC by default), epoch
seconds or milliseconds (told apart by size: below 10**11 seconds, else milliseconds; or by an
``s``/``ms`` suffix), ``now``, or a time relative to now such as ``-2h30m``, resolved when the
query is planned. Every query is also built from named fields by :func:`build_query`, as the
command line, the REPL and manifests build theirs.

Ranges longer than one request allows are split into :class:`Window` values (Flow historical:
1 hour; Sessions content and ad: 3 hours), one request each. The filter is compiled for the
endpoint's target; with ``post_filter=True``, the parts the target refuses are left out of the
request and applied to the returned records with the ``python`` target
(:class:`FilterPlan`).
"""

from __future__ import annotations

from flowql.query.conviva_flow import FLOW_HISTORY, FLOW_WINDOW, FlowQuery
from flowql.query.conviva_sessions import (
    SESSIONS_ENDPOINTS,
    SESSIONS_HISTORY,
    SESSIONS_MAX_LIMIT,
    SESSIONS_WINDOW,
    SessionsQuery,
)
from flowql.query.fields import FIELDS, build_query
from flowql.query.flowxo import FLOWXO_ENDPOINTS, FLOWXO_UNITS, FlowXOQuery
from flowql.query.klaviyo import (
    KLAVIYO_INTERVALS,
    KLAVIYO_METRICS_ENDPOINTS,
    KLAVIYO_REPORTS,
    KLAVIYO_REVISION,
    KLAVIYO_TIMEFRAMES,
    KlaviyoMetricsQuery,
    KlaviyoReportQuery,
    timeframe_range,
)
from flowql.query.plan import (
    FilterPlan,
    Plan,
    QueryError,
    Request,
    Window,
    format_time,
    parse_time,
    split_windows,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.query.plan import AnyQuery as AnyQuery
    from flowql.query.plan import TimeValue as TimeValue

__all__ = [
    "FIELDS",
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
    "build_query",
    "format_time",
    "parse_time",
    "split_windows",
    "timeframe_range",
]
