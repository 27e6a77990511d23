"""The Flow XO insights API of the sandbox: ``GET /api/insights``,
``/api/insights/top_messages`` and ``/api/insights/top_flows``, in the shapes of Flow XO's
guide.

``start`` and ``end`` are ISO 8601 dates or date-times; without an offset they are in the
``offset`` timezone (UTC by default); a date alone as ``end`` means the end of that day.
``end`` defaults to now and ``start`` to 30 days before ``end``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flowql.sandbox._flowxo_data import FLOWS
from flowql.sandbox._util import (
    RequestError,
    Response,
    epoch_ms,
    iso_ms,
    parse_int,
    parse_iso,
    single_params,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flowql.sandbox._flowxo_data import FlowXOData
    from flowql.sandbox._util import Request

__all__ = ["FlowXOAPI"]

DEFAULT_SPAN = timedelta(days=30)
MAX_BUCKETS = 2000
DEFAULT_LIMIT = 10
UNITS = ("hour", "day", "month")


class FlowXOAPI:
    """Answers the Flow XO requests, from :class:`~flowql.sandbox._flowxo_data.FlowXOData`."""

    def __init__(self, data: FlowXOData, now: Callable[[], datetime]) -> None:
        self.data = data
        self.now = now

    def handle(self, request: Request) -> Response:
        """The answer to one authenticated Flow XO request."""
        if request.method != "GET":
            raise RequestError(
                405, "the Flow XO insights API takes only GET", headers={"Allow": "GET"}
            )
        rest = request.segments[1:]
        if rest == ["insights"]:
            return Response(self.insights(request))
        if rest == ["insights", "top_messages"]:
            return Response(self.top(request, messages=True))
        if rest == ["insights", "top_flows"]:
            return Response(self.top(request, messages=False))
        raise RequestError(404, f"no such path: {request.path}")

    def _range(self, params: dict[str, str], zone: timezone) -> tuple[datetime, datetime]:
        now = self.now()
        if "end" in params:
            end = parse_iso(params["end"], tz=zone, date_only_end=True)
            if end is None:
                raise RequestError(
                    400, f"end must be an ISO 8601 date or date-time, not {params['end'][:40]!r}"
                )
        else:
            end = now
        if "start" in params:
            start = parse_iso(params["start"], tz=zone)
            if start is None:
                raise RequestError(
                    400,
                    f"start must be an ISO 8601 date or date-time, not {params['start'][:40]!r}",
                )
        else:
            start = end - DEFAULT_SPAN
        if start >= end:
            raise RequestError(422, "start must be before end")
        return start, end

    def insights(self, request: Request) -> dict[str, Any]:
        """Overall stats and a time series for the range."""
        params = single_params(request.query, ("offset", "start", "end", "unit"))
        offset = 0
        if "offset" in params:
            offset = parse_int(params["offset"], "offset")
            if offset % 15 or not -720 <= offset <= 840:
                raise RequestError(
                    422,
                    "offset must be a UTC offset in minutes, a multiple of 15 from -720 to 840, "
                    f"not {offset}",
                )
        unit = params.get("unit", "day")
        if unit not in UNITS:
            raise RequestError(400, f"unit must be hour, day or month, not {unit[:40]!r}")
        zone = timezone(timedelta(minutes=offset))
        start, end = self._range(params, zone)
        edges = _edges(start.astimezone(zone), end.astimezone(zone), unit)
        if len(edges) > MAX_BUCKETS:
            raise RequestError(
                422,
                f"the range has {len(edges)} {unit}s; the sandbox returns at most {MAX_BUCKETS} "
                "data points",
            )
        now_ms = epoch_ms(self.now())
        start_ms, end_ms = epoch_ms(start), epoch_ms(end)
        metrics = []
        bounds = [*edges[1:], None]
        for edge, following in zip(edges, bounds, strict=True):
            a = max(epoch_ms(edge), start_ms)
            b = min(epoch_ms(following), end_ms) if following is not None else end_ms
            totals = self.data.totals(a, b, now_ms)
            metrics.append(
                {
                    "_id": _bucket_id(edge, unit),
                    "_timestamp": iso_ms(edge),
                    **_counts(totals.active, totals),
                }
            )
        overall = self.data.totals(start_ms, end_ms, now_ms)
        return {"stats": [{"_id": None, **_counts(overall.active, overall)}], "metrics": metrics}

    def top(self, request: Request, *, messages: bool) -> list[dict[str, Any]]:
        """The most frequent messages, or the most triggered flows, in the range."""
        params = single_params(request.query, ("start", "end", "limit"))
        limit = DEFAULT_LIMIT
        if "limit" in params:
            limit = parse_int(params["limit"], "limit")
            if limit < 1:
                raise RequestError(422, f"limit must be at least 1, not {limit}")
        start, end = self._range(params, timezone.utc)
        totals = self.data.totals(epoch_ms(start), epoch_ms(end), epoch_ms(self.now()))
        if messages:
            ranked = sorted(totals.texts.items(), key=lambda kv: (-kv[1], kv[0]))
            return [{"_id": text, "count": count} for text, count in ranked[:limit]]
        flows = sorted(totals.flows.items(), key=lambda kv: (-kv[1], FLOWS[kv[0]][1]))
        return [
            {"_id": {"id": FLOWS[index][0], "name": FLOWS[index][1]}, "count": count}
            for index, count in flows[:limit]
        ]


def _counts(active: set[int], totals: Any) -> dict[str, int]:
    return {
        "active_users": len(active),
        "total_users": totals.total_users,
        "new_users": totals.new_users,
        "triggers": totals.triggers,
        "received_messages": totals.received,
        "sent_messages": totals.sent,
    }


def _floor(moment: datetime, unit: str) -> datetime:
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1) if unit == "month" else day


def _next(moment: datetime, unit: str) -> datetime:
    if unit == "hour":
        return moment + timedelta(hours=1)
    if unit == "day":
        return moment + timedelta(days=1)
    if moment.month == 12:
        return moment.replace(year=moment.year + 1, month=1)
    return moment.replace(month=moment.month + 1)


def _edges(start: datetime, end: datetime, unit: str) -> list[datetime]:
    """The starts of the buckets that overlap ``[start, end)``, in the offset's local time."""
    out: list[datetime] = []
    at = _floor(start, unit)
    while at < end and len(out) <= MAX_BUCKETS:
        out.append(at)
        at = _next(at, unit)
    return out


def _bucket_id(moment: datetime, unit: str) -> str:
    if unit == "month":
        return moment.strftime("%Y-%m")
    if unit == "day":
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H")
