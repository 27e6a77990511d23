"""The Flow XO client: insights (overall stats and a time series), top messages, top flows.

Credentials: ``api_key`` or ``FLOWXO_API_KEY``, sent as ``Authorization: Bearer ...``. Flow XO
documents no rate limit; flowql keeps to 5 requests per second and 60 per minute per client
(change it with ``rate_limits``). Flow XO takes no filter parameter: a filter is applied to the
returned records on this machine (the python target), and the result says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flowql.apis import APIS, Api
from flowql.client._core import AsyncClientBase, SyncClientBase, only_piece, secret_from
from flowql.client.errors import InvalidResponse, RequestInfo
from flowql.query import FlowXOQuery
from flowql.results import Point, Rows, TimeSeries
from flowql.times import parse_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.client._core import Secret
    from flowql.query import Plan, Request, TimeValue
    from flowql.results import Result

__all__ = ["AsyncFlowXOClient", "FlowXOClient"]


def _insights(data: object, info: RequestInfo) -> TimeSeries:
    if not isinstance(data, dict):
        raise InvalidResponse("expected an object with 'stats' and 'metrics'", info)
    stats = data.get("stats") or []
    metrics = data.get("metrics") or []
    if not isinstance(stats, list) or not isinstance(metrics, list):
        raise InvalidResponse("'stats' and 'metrics' must be lists", info)
    totals: dict[str, object] = {}
    if stats and isinstance(stats[0], dict):
        totals = {k: v for k, v in stats[0].items() if k != "_id"}
    points = []
    for entry in metrics:
        if not isinstance(entry, dict):
            raise InvalidResponse("a 'metrics' entry is not an object", info)
        moment = None
        if isinstance(entry.get("_timestamp"), str):
            try:
                moment = parse_time(entry["_timestamp"])
            except ValueError:
                raise InvalidResponse(
                    f"unreadable _timestamp {entry['_timestamp']!r}", info
                ) from None
        values: dict[str, object] = {"period": entry.get("_id")}
        values.update((k, v) for k, v in entry.items() if k not in ("_id", "_timestamp"))
        points.append(Point(moment, values))
    points.sort(key=lambda p: (p.timestamp is None, p.timestamp or 0))
    return TimeSeries(api="flowxo", endpoint="insights", points=tuple(points), totals=totals)


def _top(endpoint: str, data: object, info: RequestInfo) -> Rows:
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise InvalidResponse("expected a list of objects", info)
    rows: list[dict[str, object]] = []
    for item in data:
        key = item.get("_id")
        if endpoint == "top-flows":
            ident = key if isinstance(key, dict) else {}
            rows.append(
                {
                    "flow_id": ident.get("id"),
                    "flow_name": ident.get("name"),
                    "count": item.get("count"),
                }
            )
        else:
            rows.append({"message": key, "count": item.get("count")})
    return Rows(api="flowxo", endpoint=endpoint, rows=tuple(rows))


class AsyncFlowXOClient(AsyncClientBase):
    """Async Flow XO client. ``api_key`` defaults to ``FLOWXO_API_KEY``; other options: see
    :class:`~flowql.client._core.AsyncClientBase`."""

    api = Api.FLOWXO
    default_base_url = APIS[Api.FLOWXO].base_url
    default_rate_limits: ClassVar[dict[str, tuple[tuple[int, float], ...]]] = dict(
        APIS[Api.FLOWXO].rate_limits
    )

    def __init__(self, api_key: str | Secret | None = None, **options: Any) -> None:
        self._api_key = secret_from(api_key, "FLOWXO_API_KEY", "Flow XO API key")
        super().__init__(secrets=[self._api_key], **options)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key.reveal()}", "Accept": "application/json"}

    async def insights(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        unit: str | None = None,
        offset: int | None = None,
        filter: str | Expr | None = None,
    ) -> TimeSeries:
        """Overall stats (``totals``) and one point per ``unit`` (hour, day, month)."""
        result = await self.query(
            FlowXOQuery("insights", start, end, unit=unit, offset=offset, filter=filter)
        )
        assert isinstance(result, TimeSeries)
        return result

    async def top_messages(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        limit: int | None = None,
        filter: str | Expr | None = None,
    ) -> Rows:
        """The most frequent messages: rows of ``message`` and ``count``."""
        result = await self.query(
            FlowXOQuery("top-messages", start, end, limit=limit, filter=filter)
        )
        assert isinstance(result, Rows)
        return result

    async def top_flows(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        limit: int | None = None,
        filter: str | Expr | None = None,
    ) -> Rows:
        """The most triggered flows: rows of ``flow_id``, ``flow_name`` and ``count``."""
        result = await self.query(FlowXOQuery("top-flows", start, end, limit=limit, filter=filter))
        assert isinstance(result, Rows)
        return result

    async def query(self, query: FlowXOQuery | Plan) -> TimeSeries | Rows:
        """Run a :class:`~flowql.query.FlowXOQuery`: validated, fetched, filtered locally."""
        plan = self.plan_of(query)
        value = plan.query
        assert isinstance(value, FlowXOQuery)
        query = value
        endpoint = query.endpoint

        async def fetch(request: Request) -> Result:
            data = await self._get(request)
            info = self._info(request)
            if endpoint == "insights":
                return _insights(data, info)
            return _top(endpoint, data, info)

        result = await self._run(plan, fetch, only_piece)
        assert isinstance(result, (TimeSeries, Rows))
        return result


class FlowXOClient(SyncClientBase[AsyncFlowXOClient]):
    """Sync Flow XO client: :class:`AsyncFlowXOClient`'s methods and arguments, without
    ``await``."""

    _async_class = AsyncFlowXOClient

    def insights(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        unit: str | None = None,
        offset: int | None = None,
        filter: str | Expr | None = None,
    ) -> TimeSeries:
        """See :meth:`AsyncFlowXOClient.insights`."""
        return self._call(self._async.insights(start, end, unit=unit, offset=offset, filter=filter))

    def top_messages(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        limit: int | None = None,
        filter: str | Expr | None = None,
    ) -> Rows:
        """See :meth:`AsyncFlowXOClient.top_messages`."""
        return self._call(self._async.top_messages(start, end, limit=limit, filter=filter))

    def top_flows(
        self,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        *,
        limit: int | None = None,
        filter: str | Expr | None = None,
    ) -> Rows:
        """See :meth:`AsyncFlowXOClient.top_flows`."""
        return self._call(self._async.top_flows(start, end, limit=limit, filter=filter))

    def query(self, query: FlowXOQuery | Plan) -> TimeSeries | Rows:
        """See :meth:`AsyncFlowXOClient.query`."""
        return self._call(self._async.query(query))
