"""Flow XO queries: insights, top messages and top flows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flowql.apis import Api
from flowql.endpoints import encode_query
from flowql.query.plan import (
    Checks,
    Plan,
    QueryBase,
    Request,
    format_time,
    is_int,
    parse_filter,
    plan_filter,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.model import DataModel
    from flowql.query.plan import TimeValue

__all__ = ["FLOWXO_ENDPOINTS", "FLOWXO_UNITS", "FlowXOQuery"]

_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
class FlowXOQuery(QueryBase):
    """A Flow XO analytics query: ``insights`` (``start``, ``end``, ``unit`` hour/day/month,
    ``offset`` the UTC offset in minutes), ``top-messages`` or ``top-flows`` (``start``,
    ``end``, ``limit``).

    Flow XO takes no filter parameter: a ``filter`` is always applied to the returned records
    with the python target (``post_filter`` is implied), on the record keys of
    :data:`FLOWXO_ENDPOINTS`. A bare date (``2026-11-01``) is sent as written (Flow XO takes bare
    dates); other times as the UTC instant they name, ``2026-11-01T08:00:00Z``.
    """

    endpoint: str = "insights"
    start: TimeValue | None = None
    end: TimeValue | None = None
    unit: str | None = None
    offset: int | None = None
    limit: int | None = None
    filter: str | Expr | None = None
    post_filter: bool = True
    tz: str | None = None

    api = Api.FLOWXO

    def _build(self, checks: Checks, now: dt.datetime, model: DataModel | None) -> Plan | None:
        spec = FLOWXO_ENDPOINTS.get(self.endpoint)
        if spec is None:
            checks.add(
                "FQ701",
                f"unknown Flow XO endpoint '{self.endpoint}'",
                "use " + ", ".join(FLOWXO_ENDPOINTS),
            )
            return None
        path, keys = spec
        start = checks.time("start", self.start, now, self.tz)
        end = checks.time("end", self.end, now, self.tz)
        checks.range(start, end, "the range")
        params: list[tuple[str, str]] = []
        if self.endpoint == "insights":
            if self.offset is not None:
                if not is_int(self.offset) or not -720 <= self.offset <= 840:
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
            if self.limit is not None and (not is_int(self.limit) or self.limit < 1):
                checks.add("FQ706", f"limit must be a whole number, at least 1, not {self.limit}")
        for name, value, parsed in (("start", self.start, start), ("end", self.end, end)):
            if parsed is not None:
                shown = value.strip() if isinstance(value, str) else None
                # A bare date goes as written (Flow XO reads it in the bot's time zone); any
                # other time as the UTC instant it names (a naive one read in ``tz``).
                if shown is None or not _BARE_DATE.fullmatch(shown):
                    shown = format_time(parsed)
                params.append((name, shown))
        if self.endpoint == "insights" and self.unit is not None:
            params.append(("unit", self.unit))
        if self.endpoint != "insights" and self.limit is not None:
            params.append(("limit", str(self.limit)))
        source, expr = parse_filter(checks, self.filter)
        plan = plan_filter(
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
        return Plan(self, (Request("GET", path + encode_query(params)),), plan)
