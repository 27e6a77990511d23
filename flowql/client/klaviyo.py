"""The Klaviyo client: metrics (every page, through ``links.next``), a metric's flow triggers,
and the reporting endpoints (flow, campaign, form and segment values and series reports).

Credentials: ``api_key`` or ``KLAVIYO_API_KEY``, sent as ``Authorization: Klaviyo-API-Key
...``; every call carries the ``revision`` header of its query (a query's own ``revision``, else
the client's, else :data:`~flowql.query.KLAVIYO_REVISION`) and the JSON:API media type
(``application/vnd.api+json``) the spec gives. Rate limits, per client: the reporting endpoints
1 per second and 2 per minute (Klaviyo's steady limit; its 225 per day is not tracked), the
others 10 per second and 150 per minute. Report queries are read-only POSTs, so they are retried
like GETs; as Klaviyo's official SDK does, 524 (a timeout at Klaviyo's edge) is retried with 429,
503 and 504, and so are dropped connections.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flowql.apis import APIS, Api
from flowql.client._core import (
    AsyncClientBase,
    RetryPolicy,
    SyncClientBase,
    only_piece,
    secret_from,
)
from flowql.client.errors import InvalidResponse, RequestInfo
from flowql.query import KlaviyoMetricsQuery, KlaviyoReportQuery
from flowql.results import ReportRow, ReportRows, Rows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from flowql.ast import Expr
    from flowql.client._core import Secret
    from flowql.query import Plan, Request, TimeValue

__all__ = ["RETRY_STATUSES", "AsyncKlaviyoClient", "KlaviyoClient"]

RETRY_STATUSES = frozenset({429, 503, 504, 524})
"""The statuses Klaviyo's official SDK retries (524: a timeout at Klaviyo's edge)."""


class AsyncKlaviyoClient(AsyncClientBase):
    """Async Klaviyo client. ``api_key`` defaults to ``KLAVIYO_API_KEY``; ``revision`` is the
    API revision of the queries that name none (default :data:`~flowql.query.KLAVIYO_REVISION`);
    ``max_pages`` bounds how many pages of metrics are followed. Other options: see
    :class:`~flowql.client._core.AsyncClientBase` (``rate_limits`` takes ``default`` and
    ``reports``)."""

    api = Api.KLAVIYO
    default_base_url = APIS[Api.KLAVIYO].base_url
    default_rate_limits: ClassVar[dict[str, tuple[tuple[int, float], ...]]] = dict(
        APIS[Api.KLAVIYO].rate_limits
    )

    def __init__(
        self,
        api_key: str | Secret | None = None,
        *,
        revision: str | None = None,
        max_pages: int = 1000,
        **options: Any,
    ) -> None:
        self._api_key = secret_from(api_key, "KLAVIYO_API_KEY", "Klaviyo API key")
        self.revision = revision
        self.max_pages = max_pages
        options.setdefault("retry", RetryPolicy(statuses=RETRY_STATUSES))
        super().__init__(secrets=[self._api_key], **options)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Klaviyo-API-Key {self._api_key.reveal()}"}

    def plan_of(self, query: Any) -> Plan:
        """As :meth:`AsyncClientBase.plan_of`; a query that names no revision gets the
        client's."""
        if (
            self.revision is not None
            and isinstance(query, (KlaviyoReportQuery, KlaviyoMetricsQuery))
            and query.revision is None
        ):
            import dataclasses

            query = dataclasses.replace(query, revision=self.revision)
        return super().plan_of(query)

    async def metrics(self, filter: str | Expr | None = None, post_filter: bool = False) -> Rows:
        """Every metric of the account (all pages), filtered on ``integration.name`` or
        ``integration.category`` (``==`` only)."""
        result = await self.query(KlaviyoMetricsQuery(filter=filter, post_filter=post_filter))
        assert isinstance(result, Rows)
        return result

    async def flow_triggers(self, metric_id: str) -> Rows:
        """The flows the metric triggers: rows of ``type`` (``flow``) and ``id``."""
        result = await self.query(KlaviyoMetricsQuery("flow-triggers", metric_id=metric_id))
        assert isinstance(result, Rows)
        return result

    async def report(
        self,
        report: str,
        *,
        statistics: Sequence[str] | str,
        timeframe: str | None = None,
        start: TimeValue | None = None,
        end: TimeValue | None = None,
        interval: str | None = None,
        conversion_metric_id: str | None = None,
        group_by: Sequence[str] | str = (),
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> ReportRows:
        """A report (``flow-values``, ``flow-series``, ``campaign-values``, ``form-values``,
        ``form-series``, ``segment-values``, ``segment-series``): see
        :class:`~flowql.query.KlaviyoReportQuery`."""
        result = await self.query(
            KlaviyoReportQuery(
                report,
                statistics=statistics,
                timeframe=timeframe,
                start=start,
                end=end,
                interval=interval,
                conversion_metric_id=conversion_metric_id,
                group_by=group_by,
                filter=filter,
                post_filter=post_filter,
            )
        )
        assert isinstance(result, ReportRows)
        return result

    async def query(
        self, query: KlaviyoReportQuery | KlaviyoMetricsQuery | Plan
    ) -> ReportRows | Rows:
        """Run a Klaviyo query: validated first, fetched (every page), post-filtered."""
        plan = self.plan_of(query)
        value = plan.query
        assert isinstance(value, (KlaviyoReportQuery, KlaviyoMetricsQuery))
        query = value
        if isinstance(query, KlaviyoReportQuery):
            report = query.report

            async def fetch_report(request: Request) -> ReportRows:
                return self._report(report, await self._get(request), self._info(request))

            result = await self._run(plan, fetch_report, only_piece)
        else:
            endpoint = query.endpoint

            async def fetch_rows(request: Request) -> Rows:
                return await self._rows(endpoint, request)

            result = await self._run(plan, fetch_rows, only_piece)
        assert isinstance(result, (ReportRows, Rows))
        return result

    def _report(self, report: str, data: object, info: RequestInfo) -> ReportRows:
        body = data.get("data") if isinstance(data, dict) else None
        attributes = body.get("attributes") if isinstance(body, dict) else None
        results = attributes.get("results") if isinstance(attributes, dict) else None
        if not isinstance(attributes, dict) or not isinstance(results, list):
            raise InvalidResponse("expected data.attributes.results, a list", info)
        rows = []
        for item in results:
            if not isinstance(item, dict):
                raise InvalidResponse("a report result is not an object", info)
            groupings = item.get("groupings") or {}
            statistics = item.get("statistics") or {}
            if not isinstance(groupings, dict) or not isinstance(statistics, dict):
                raise InvalidResponse("a report result has no groupings or statistics", info)
            rows.append(ReportRow(dict(groupings), dict(statistics)))
        date_times = attributes.get("date_times")
        if date_times is not None and not isinstance(date_times, list):
            raise InvalidResponse("data.attributes.date_times is not a list", info)
        return ReportRows(
            api=self.api,
            endpoint=report,
            rows=tuple(rows),
            date_times=tuple(str(d) for d in date_times) if date_times is not None else None,
        )

    async def _rows(self, endpoint: str, request: Request) -> Rows:
        rows: list[dict[str, Any]] = []
        path: str | None = request.path
        pages = 0
        while path is not None:
            pages += 1
            info = RequestInfo("GET", self._core.redact(self._core.url(path)))
            if pages > self.max_pages:
                raise InvalidResponse(
                    f"more than {self.max_pages} pages; raise max_pages to follow them", info
                )
            data = await self._core.request("GET", path, headers=request.headers)
            items = data.get("data") if isinstance(data, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise InvalidResponse("expected an object with a 'data' list", info)
            for item in items:
                row: dict[str, Any] = {"id": item.get("id"), "type": item.get("type")}
                attributes = item.get("attributes")
                if isinstance(attributes, dict):
                    row.update(attributes)
                rows.append(row)
            links = data.get("links") if isinstance(data, dict) else None
            following = links.get("next") if isinstance(links, dict) else None
            path = following if isinstance(following, str) and following else None
        return Rows(api=self.api, endpoint=endpoint, rows=tuple(rows))


class KlaviyoClient(SyncClientBase[AsyncKlaviyoClient]):
    """Sync Klaviyo client: :class:`AsyncKlaviyoClient`'s methods and arguments, without
    ``await``."""

    _async_class = AsyncKlaviyoClient

    def metrics(self, filter: str | Expr | None = None, post_filter: bool = False) -> Rows:
        """See :meth:`AsyncKlaviyoClient.metrics`."""
        return self._call(self._async.metrics(filter, post_filter))

    def flow_triggers(self, metric_id: str) -> Rows:
        """See :meth:`AsyncKlaviyoClient.flow_triggers`."""
        return self._call(self._async.flow_triggers(metric_id))

    def report(self, report: str, **fields: Any) -> ReportRows:
        """See :meth:`AsyncKlaviyoClient.report`."""
        return self._call(self._async.report(report, **fields))

    def query(self, query: KlaviyoReportQuery | KlaviyoMetricsQuery | Plan) -> ReportRows | Rows:
        """See :meth:`AsyncKlaviyoClient.query`."""
        return self._call(self._async.query(query))
