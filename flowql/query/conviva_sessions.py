"""Conviva Sessions V3 queries: content and ad sessions, a viewer's sessions or summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flowql import times
from flowql.apis import APIS, URL_LIMIT, Api
from flowql.query.plan import (
    Checks,
    Plan,
    QueryBase,
    Window,
    conviva_plan,
    format_time,
    is_int,
    parse_filter,
    plan_filter,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.endpoints import Endpoint
    from flowql.model import DataModel
    from flowql.query.plan import TimeValue

__all__ = [
    "SESSIONS_ENDPOINTS",
    "SESSIONS_HISTORY",
    "SESSIONS_MAX_LIMIT",
    "SESSIONS_WINDOW",
    "SessionsQuery",
]

_SPEC = APIS[Api.CONVIVA_SESSIONS]
assert _SPEC.window is not None
assert _SPEC.retention is not None
SESSIONS_WINDOW: dt.timedelta = _SPEC.window
"""The longest range one Sessions V3 content or ad request covers."""
SESSIONS_HISTORY: dt.timedelta = _SPEC.retention
"""How far back a Sessions V3 content or ad request may start."""
SESSIONS_MAX_LIMIT = 500
"""The largest ``limit`` the Sessions V3 guide allows (a newer page says 1500: raise
``max_limit`` on the query to use it)."""


SESSIONS_ENDPOINTS = ("content", "ad", "viewer", "viewer-summary")
_SPLIT_SESSIONS = ("content", "ad")


@dataclass(frozen=True)
class SessionsQuery(QueryBase):
    """A Conviva Sessions V3 query.

    ``endpoint`` is ``content`` or ``ad`` (sample sessions; dimension filters, ``filter_id``,
    split into 3-hour windows) or ``viewer`` / ``viewer-summary`` (a viewer's sessions: exactly
    one of ``viewer_id`` and ``viewer_ip``, and ``days``). One time format per request:
    ``start_date``/``end_date`` (ISO 8601) or ``start_epoch``/``end_epoch`` (seconds), or, on
    the viewer endpoints, ``days``; or none (the API's default range). ``limit`` is 1 to
    ``max_limit`` (500, the guide's), and bounds the whole result, not each window: every
    window's request asks for ``limit``, the client fetches the windows in time order and stops
    once it has ``limit`` sessions (after the post-filter, if any), keeping the earliest
    ``limit`` by start. Without a ``limit`` each
    window returns the API's default sample (50) and all are kept. ``filter_id`` is a saved
    Conviva filter, which excludes dimension filters.
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
    url_limit: int = URL_LIMIT
    tz: str | None = None

    api = Api.CONVIVA_SESSIONS

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
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
            start = checks.time(names[0], pair[0], now, self.tz)
            end = checks.time(names[1], pair[1], now, self.tz)
            if (
                checks.range(start, end, "the sessions range")
                and kind in _SPLIT_SESSIONS
                and start is not None
            ):
                checks.retention(start, now, SESSIONS_HISTORY, "Sessions V3 (content and ad)")
        if self.limit is not None:
            if not is_int(self.limit):
                checks.add("FQ701", "limit must be a whole number")
            elif not 1 <= self.limit <= self.max_limit:
                checks.add(
                    "FQ706",
                    f"limit must be 1 to {self.max_limit}, not {self.limit}",
                    "Sessions V3 returns at most 500 sessions per request; split the range to "
                    "get more",
                    field="limit",
                )
        viewer = kind not in _SPLIT_SESSIONS
        if viewer:
            if (self.viewer_id is None) == (self.viewer_ip is None):
                checks.add(
                    "FQ707",
                    f"the {kind} endpoint takes exactly one of viewer_id and viewer_ip"
                    + (", not both" if self.viewer_id is not None else ""),
                )
            if self.days is not None and (not is_int(self.days) or self.days < 1):
                checks.add("FQ701", "days must be a whole number of days, at least 1")
            elif self.days is not None and time_format is not None:
                checks.add(
                    "FQ705",
                    f"a Sessions V3 {kind} request takes one time format: days, or "
                    f"start_{time_format}/end_{time_format}, not both",
                    "give days alone, or the start and end alone",
                    field="days",
                )
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
        if not is_int(self.url_limit) or self.url_limit < 1:
            checks.add("FQ701", "url_limit must be a positive number of characters")
        source, expr = parse_filter(checks, self.filter)
        if self.filter_id is not None and expr is not None:
            checks.add(
                "FQ708",
                "a saved filter (filter_id) excludes dimension filters: the API takes one or "
                "the other",
                "put every condition in the saved filter, or drop filter_id",
                span=expr.span,
            )
        plan = plan_filter(
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
            split_up = checks.windows(start, end, SESSIONS_WINDOW)
            if split_up is None:
                return None
            windows: list[Window | None] = list(split_up)
        else:
            windows = [None]

        def endpoint_of(window: Window | None) -> Endpoint:
            lo, hi = (window.start, window.end) if window else (start, end)
            edges: dict[str, str | None] = {}
            if time_format == "date" and lo is not None and hi is not None:
                edges = {"start_date": format_time(lo), "end_date": format_time(hi)}
            elif time_format == "epoch" and lo is not None and hi is not None:
                edges = {
                    "start_epoch": str(times.to_epoch_s(lo)),
                    "end_epoch": str(times.to_epoch_s(hi)),
                }
            return Endpoint.sessions(
                kind,
                limit=self.limit,
                viewer_id=self.viewer_id,
                viewer_ip=self.viewer_ip,
                days=self.days,
                **edges,
            )

        split = windows != [None]
        return conviva_plan(
            self,
            checks,
            windows,
            endpoint_of,
            plan,
            params,
            retention=SESSIONS_HISTORY if split else None,
        )
