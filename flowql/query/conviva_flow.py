"""Conviva DPI Flow API queries: real-time and historical, optionally grouped."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flowql import times
from flowql.apis import APIS, URL_LIMIT, Api
from flowql.diagnostics import did_you_mean
from flowql.query.plan import (
    Checks,
    Plan,
    QueryBase,
    Window,
    conviva_plan,
    is_int,
    parse_filter,
    plan_filter,
    required_id,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.endpoints import Endpoint
    from flowql.model import DataModel
    from flowql.query.plan import TimeValue

__all__ = ["BUCKET", "FLOW_HISTORY", "FLOW_WINDOW", "WINDOW_EDGE", "FlowQuery"]

_SPEC = APIS[Api.CONVIVA_FLOW]
assert _SPEC.window is not None
assert _SPEC.retention is not None
FLOW_WINDOW: dt.timedelta = _SPEC.window
"""The longest range one Flow API historical request covers."""
FLOW_HISTORY: dt.timedelta = _SPEC.retention
"""How far back the Flow API keeps historical data."""
WINDOW_EDGE = dt.timedelta(seconds=1)
"""How long before the next window's start a window that is not the last ends. The guide's
historical example answers with a bucket stamped at the range's end, counted whole; its
real-time example steps its buckets from the request's start. So an end a second before the
next window's start lies inside the window's last bucket: a server that includes the end bucket
and one that does not return the same buckets, and no two windows share one."""
BUCKET = dt.timedelta(minutes=1)
"""The smallest bucket the Flow API documents (``PT1M``): a window's start moves by whole ones
when it is clamped, so its buckets still meet the next window's."""
_INTERVAL = re.compile(r"PT([1-9]|1[0-5])M")


def _minutes(duration: str) -> int:
    """The minutes of a ``PT{n}M`` already checked against ``_INTERVAL``."""
    return int(duration[2:-1])


@dataclass(frozen=True)
class FlowQuery(QueryBase):
    """A Conviva DPI Flow API query.

    ``endpoint`` ``real-time`` takes ``interval`` (``PT1M`` to ``PT15M``, default ``PT15M``) and
    ``granularity`` (the same range); ``historical`` takes ``start`` and ``end`` (start before
    end, at most 7 days back), split into 1-hour windows. ``group_by`` is a dimension key;
    ``filter`` is FlowQL (compiled for the ``conviva-flow`` target); ``url_limit`` the URL
    budget (default :data:`~flowql.apis.URL_LIMIT`, as Conviva answers 414 above 4K characters).
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
    url_limit: int = URL_LIMIT
    tz: str | None = None

    api = Api.CONVIVA_FLOW

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        from flowql.endpoints import Endpoint

        flow_id = required_id(
            checks,
            "flow_id",
            self.flow_id,
            hint="name the flow, such as 825 (--flow 825): `flowql model pull` lists the flows",
            field="flow",
        )
        if self.endpoint not in ("real-time", "historical"):
            checks.add(
                "FQ701",
                f"unknown Flow API endpoint '{self.endpoint}'",
                "use real-time or historical",
            )
            return None
        if self.group_by is not None and (not isinstance(self.group_by, str) or not self.group_by):
            checks.add("FQ701", "group_by must be a dimension key")
        if flow_id is not None and model is not None and model.kind == Api.CONVIVA_FLOW:
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
                    did_you_mean(self.group_by, flow.dimensions),
                    field="group_by",
                )
        windows: list[Window] = []
        if self.endpoint == "real-time":
            interval = self.interval if self.interval is not None else "PT15M"
            readable = True
            for name, value in (("interval", interval), ("granularity", self.granularity)):
                if value is not None and not (
                    isinstance(value, str) and _INTERVAL.fullmatch(value)
                ):
                    readable = False
                    checks.add(
                        "FQ704",
                        f"the real-time {name} must be PT1M to PT15M, not {value!r}",
                        "the Flow API's real-time data reaches back 15 minutes; use the "
                        "historical endpoint for longer ranges",
                        field=name,
                    )
            # The guide slices the interval by the granularity (PT5M by PT1M): a slice longer
            # than the range is refused (422).
            if (
                readable
                and isinstance(self.granularity, str)
                and _minutes(self.granularity) > _minutes(interval)
            ):
                checks.add(
                    "FQ704",
                    f"the granularity {self.granularity} is longer than the interval "
                    f"{interval}: each slice must fit in the range",
                    f"use a granularity of at most {interval}, or a longer interval",
                    field="granularity",
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
                    field="granularity",
                )
            start = checks.time("start", self.start, now, self.tz)
            end = checks.time("end", self.end, now, self.tz)
            if self.start is None or self.end is None:
                checks.add("FQ702", "the historical endpoint needs both start and end")
            if checks.range(start, end, "the historical range"):
                assert start is not None
                assert end is not None
                checks.retention(start, now, FLOW_HISTORY, "the Flow API")
                windows = checks.windows(start, end, FLOW_WINDOW) or []
        records = frozenset({self.group_by}) if isinstance(self.group_by, str) else frozenset()
        source, expr = parse_filter(checks, self.filter)
        plan = plan_filter(
            checks,
            source,
            expr,
            target="conviva-flow",
            what="Flow API",
            post_filter=self.post_filter,
            record_keys=records,
            record_hint="group by that key to post-filter on it, or leave that part out",
        )
        if not is_int(self.url_limit) or self.url_limit < 1:
            checks.add("FQ701", "url_limit must be a positive number of characters")
        if checks.failed or flow_id is None:
            return None
        group_by = self.group_by
        last = windows[-1].end if windows else None

        def endpoint_of(window: Window | None) -> Endpoint:
            if window is None:
                return Endpoint.flow_real_time(
                    flow_id,
                    self.interval or "PT15M",
                    group_by=group_by,
                    granularity=self.granularity,
                )
            # The last window ends where the range does, so the whole fetch returns what one
            # request over the range would, however the server treats the end.
            stop = window.end if last is None or window.end >= last else window.end - WINDOW_EDGE
            return Endpoint.flow_historical(
                flow_id,
                str(times.to_epoch_ms(window.start)),
                str(times.to_epoch_ms(stop)),
                group_by=group_by,
            )

        params = (
            [("filter", plan.compiled.filter)] if plan.compiled and plan.compiled.filter else []
        )
        if self.endpoint == "real-time":
            return conviva_plan(self, checks, [None], endpoint_of, plan, params)
        return conviva_plan(
            self, checks, windows, endpoint_of, plan, params, retention=FLOW_HISTORY, align=BUCKET
        )
