"""The Conviva DPI Flow API client: data model, real-time and historical metrics, group-by.

>>> from flowql.client import ConvivaFlowClient
>>> with ConvivaFlowClient() as flow:  # doctest: +SKIP
...     series = flow.historical("825", "-3h", "now", filter="geo_country == 'Spain'")
...     print(series.to_csv())

Credentials: ``client_id`` and ``client_secret`` (HTTP Basic), or ``CONVIVA_CLIENT_ID`` and
``CONVIVA_CLIENT_SECRET``. Rate limit: 3000 requests per 5 minutes (Conviva's, per IP across
its APIs), shared by every request of the client. A historical range longer than 1 hour is
fetched as 1-hour windows, at most ``max_concurrency`` (8) at once, and merged.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from flowql.apis import APIS, Api
from flowql.client._core import AsyncClientBase, SyncClientBase, secret_from
from flowql.client.errors import ClientError, InvalidResponse, NotFound, RequestInfo
from flowql.merging import merge_rows, merge_values, metric_info, not_merged_warning
from flowql.query import FlowQuery
from flowql.results import DimensionalRow, DimensionalRows, Point, TimeSeries
from flowql.times import parse_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr
    from flowql.client._core import Secret
    from flowql.diagnostics import Diagnostic
    from flowql.model import DataModel
    from flowql.query import Plan, Request, TimeValue, Window
    from flowql.results import MetricInfo

__all__ = ["AsyncConvivaFlowClient", "ConvivaFlowClient"]

DATA_MODEL_PATHS = ("/flow-data/metadata/data-model", "/flow-data/metadata/flow-models")
"""Where the data model is: the guide's path, then the newer documented one."""


class _Piece:
    """One response, parsed."""

    __slots__ = ("points", "rows", "totals")

    def __init__(
        self,
        points: list[Point],
        rows: list[DimensionalRow],
        totals: dict[str, object],
    ) -> None:
        self.points = points
        self.rows = rows
        self.totals = totals


def _timestamp(entry: dict[str, Any], info: RequestInfo) -> Any:
    stamp = entry.get("timestamp")
    if stamp is None:
        return None
    if not isinstance(stamp, dict):
        raise InvalidResponse("a point's 'timestamp' is not an object", info)
    value = stamp.get("epoch_ms")
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        value = stamp.get("iso_date")
        if not isinstance(value, str):
            return None
    try:
        return parse_time(value)
    except (ValueError, OverflowError):  # NaN, Infinity, out of range, not a date
        raise InvalidResponse(f"unreadable timestamp {str(value)[:40]!r}", info) from None


def _parse(data: object, request: Request, info: RequestInfo, group_by: str | None) -> _Piece:
    if not isinstance(data, dict) or not isinstance(data.get("time_series", []), list):
        raise InvalidResponse("expected an object with a 'time_series' list", info)
    totals = data.get("aggregated_metric_data") or {}
    if not isinstance(totals, dict):
        raise InvalidResponse("'aggregated_metric_data' is not an object", info)
    points: list[Point] = []
    rows: list[DimensionalRow] = []
    for entry in data.get("time_series", []):
        if not isinstance(entry, dict):
            raise InvalidResponse("a 'time_series' entry is not an object", info)
        moment = _timestamp(entry, info)
        if group_by is None:
            metrics = entry.get("metric_data")
            if not isinstance(metrics, dict):
                raise InvalidResponse("a point has no 'metric_data' object", info)
            points.append(Point(moment, dict(metrics)))
            continue
        items = entry.get("dimensional_data", [])
        if not isinstance(items, list):
            raise InvalidResponse("a point's 'dimensional_data' is not a list", info)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("dimension"), dict):
                raise InvalidResponse("a 'dimensional_data' entry has no 'dimension'", info)
            dimension = dict(item["dimension"])
            dimension.pop("key", None)
            value = dimension.pop("value", None)
            metrics = item.get("metric_data")
            rows.append(
                DimensionalRow(
                    value,
                    dict(metrics) if isinstance(metrics, dict) else {},
                    dimension,
                    request.window,
                    moment,
                )
            )
    return _Piece(points, rows, dict(totals))


class AsyncConvivaBase(AsyncClientBase):
    """What both Conviva clients (Flow API, Sessions V3) share: the base URL, the rate limit
    and HTTP Basic credentials, ``client_id`` and ``client_secret`` defaulting to
    ``CONVIVA_CLIENT_ID`` and ``CONVIVA_CLIENT_SECRET``."""

    default_base_url = APIS[Api.CONVIVA_FLOW].base_url
    default_rate_limits: ClassVar[dict[str, tuple[tuple[int, float], ...]]] = dict(
        APIS[Api.CONVIVA_FLOW].rate_limits
    )

    def __init__(
        self,
        client_id: str | Secret | None = None,
        client_secret: str | Secret | None = None,
        **options: Any,
    ) -> None:
        self._client_id = secret_from(client_id, "CONVIVA_CLIENT_ID", "Conviva client id")
        self._client_secret = secret_from(
            client_secret, "CONVIVA_CLIENT_SECRET", "Conviva client secret"
        )
        super().__init__(secrets=[self._client_secret], **options)

    def _auth_headers(self) -> dict[str, str]:
        pair = f"{self._client_id.reveal()}:{self._client_secret.reveal()}".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Accept": "application/json",
        }


class AsyncConvivaFlowClient(AsyncConvivaBase):
    """Async client of the Conviva DPI Flow API.

    ``client_id`` and ``client_secret`` default to ``CONVIVA_CLIENT_ID`` and
    ``CONVIVA_CLIENT_SECRET``; ``model`` is a data model to check queries against (flow ids,
    group-by keys), to label results' metrics (label and unit: ``metric_info``) and to merge
    windows (counts summed, shares recomputed: :mod:`flowql.merging`). Without one, the client
    fetches the account's when it first needs it: for every query with ``labels`` (the
    default), else only to merge several windows. Other options: see
    :class:`~flowql.client._core.AsyncClientBase`.
    """

    api = Api.CONVIVA_FLOW

    def __init__(
        self,
        client_id: str | Secret | None = None,
        client_secret: str | Secret | None = None,
        *,
        model: DataModel | None = None,
        labels: bool = True,
        **options: Any,
    ) -> None:
        self.model = model
        self.labels = labels
        self._units: DataModel | None = None
        super().__init__(client_id, client_secret, **options)

    async def data_model_json(self) -> dict[str, Any]:
        """The account's data model as the API returns it (``{"flow_models": [...]}``)."""
        last: ClientError | None = None
        for path in DATA_MODEL_PATHS:
            try:
                data = await self._core.request("GET", path)
            except NotFound as exc:
                last = exc
                continue
            if not isinstance(data, dict) or not isinstance(data.get("flow_models"), list):
                raise InvalidResponse(
                    "expected an object with a 'flow_models' list",
                    RequestInfo("GET", self._core.url(path)),
                )
            return data
        assert last is not None
        raise last

    async def data_model(self) -> DataModel:
        """The account's flows, their metrics and dimensions, as a
        :class:`~flowql.model.DataModel` (what ``flowql check --model`` reads)."""
        from flowql.model import ModelError, model_from_data

        data = await self.data_model_json()
        try:
            return model_from_data(data, name=f"{self.base_url} data model")
        except ModelError as exc:
            raise InvalidResponse(
                exc.message, RequestInfo("GET", self._core.url(DATA_MODEL_PATHS[0]))
            ) from None

    async def real_time(
        self,
        flow_id: str | int,
        interval: str = "PT15M",
        *,
        granularity: str | None = None,
        group_by: str | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> TimeSeries | DimensionalRows:
        """The last ``interval`` (``PT1M`` to ``PT15M``) of a flow's metrics, sliced by
        ``granularity``, grouped by ``group_by`` when given."""
        return await self.query(
            FlowQuery(
                flow_id,
                "real-time",
                interval=interval,
                granularity=granularity,
                group_by=group_by,
                filter=filter,
                post_filter=post_filter,
            )
        )

    async def historical(
        self,
        flow_id: str | int,
        start: TimeValue,
        end: TimeValue,
        *,
        group_by: str | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> TimeSeries | DimensionalRows:
        """A flow's metrics from ``start`` to ``end`` (at most 7 days back; split into 1-hour
        windows), grouped by ``group_by`` when given."""
        return await self.query(
            FlowQuery(
                flow_id,
                "historical",
                start=start,
                end=end,
                group_by=group_by,
                filter=filter,
                post_filter=post_filter,
            )
        )

    def _plan_options(self) -> dict[str, Any]:
        return {"model": self.model}

    async def query(self, query: FlowQuery | Plan) -> TimeSeries | DimensionalRows:
        """Run a :class:`~flowql.query.FlowQuery`: validated first (no request for a query the
        server would reject), split, fetched, merged, post-filtered."""
        plan = self.plan_of(query)
        value = plan.query
        assert isinstance(value, FlowQuery)
        query = value
        info: dict[str, MetricInfo] = {}
        several = len(plan.requests) > 1
        if self.labels or several:
            info = await self._metric_info(str(query.flow_id))
        group_by = query.group_by

        async def fetch(request: Request) -> _Piece:
            return _parse(await self._get(request), request, self._info(request), group_by)

        def merge(pieces: list[tuple[Request, _Piece]]) -> TimeSeries | DimensionalRows:
            windows = tuple(r.window for r, _ in pieces if r.window is not None)
            all_totals = [p.totals for _, p in pieces]
            recomputed: tuple[str, ...] = ()
            not_recomputed: tuple[str, ...] = ()
            if not several:
                totals: dict[str, object] = dict(all_totals[0]) if all_totals else {}
            else:
                totals, unmerged = merge_values(all_totals, info)
                recomputed = tuple(k for k in totals if k not in unmerged)
                not_recomputed = tuple(k for k in totals if k in unmerged)
            common: dict[str, Any] = {
                "api": self.api,
                "endpoint": query.endpoint,
                "windows": windows,
                "totals": totals,
                "recomputed": recomputed,
                "not_recomputed": not_recomputed,
                "window_totals": tuple(all_totals) if several else (),
                "metric_info": info,
            }
            if group_by is None:
                points = [p for _, piece in pieces for p in piece.points]
                points.sort(key=lambda p: (p.timestamp is None, p.timestamp or 0))
                return TimeSeries(points=tuple(points), **common)
            rows = [r for _, piece in pieces for r in piece.rows]
            rows.sort(key=_row_order)
            if not several:
                return DimensionalRows(dimension=group_by, rows=tuple(rows), **common)
            merged, not_merged = merge_rows(rows, info)
            warnings: tuple[Diagnostic, ...] = ()
            if not_merged and merged:
                warnings = (not_merged_warning(not_merged, info, f"{len(windows)} windows"),)
            return DimensionalRows(
                dimension=group_by,
                rows=merged,
                window_rows=tuple(rows),
                not_merged=not_merged,
                warnings=warnings,
                **common,
            )

        result = await self._run(plan, fetch, merge)
        assert isinstance(result, (TimeSeries, DimensionalRows))
        return result

    async def _metric_info(self, flow_id: str) -> dict[str, MetricInfo]:
        """What the data model says of the flow's metrics (see :func:`flowql.merging.metric_info`);
        nothing when the model cannot be had (then nothing merges but what one window holds)."""
        model = self.model if self.model is not None else self._units
        if model is None:
            try:
                model = self._units = await self.data_model()
            except ClientError:
                return {}
        flow = model.flow(flow_id)
        return metric_info(flow) if flow is not None else {}


def _row_order(row: DimensionalRow) -> tuple[object, ...]:
    window: Window | None = row.window
    start = window.start.timestamp() if window is not None else 0.0
    moment = row.timestamp.timestamp() if row.timestamp is not None else 0.0
    return (start, moment)


class ConvivaFlowClient(SyncClientBase[AsyncConvivaFlowClient]):
    """Sync client of the Conviva DPI Flow API: :class:`AsyncConvivaFlowClient`'s methods and
    arguments, without ``await``."""

    _async_class = AsyncConvivaFlowClient

    @property
    def model(self) -> DataModel | None:
        """The data model queries are checked against."""
        return self._async.model

    def data_model_json(self) -> dict[str, Any]:
        """See :meth:`AsyncConvivaFlowClient.data_model_json`."""
        return self._call(self._async.data_model_json())

    def data_model(self) -> DataModel:
        """See :meth:`AsyncConvivaFlowClient.data_model`."""
        return self._call(self._async.data_model())

    def real_time(
        self,
        flow_id: str | int,
        interval: str = "PT15M",
        *,
        granularity: str | None = None,
        group_by: str | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> TimeSeries | DimensionalRows:
        """See :meth:`AsyncConvivaFlowClient.real_time`."""
        return self._call(
            self._async.real_time(
                flow_id,
                interval,
                granularity=granularity,
                group_by=group_by,
                filter=filter,
                post_filter=post_filter,
            )
        )

    def historical(
        self,
        flow_id: str | int,
        start: TimeValue,
        end: TimeValue,
        *,
        group_by: str | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> TimeSeries | DimensionalRows:
        """See :meth:`AsyncConvivaFlowClient.historical`."""
        return self._call(
            self._async.historical(
                flow_id, start, end, group_by=group_by, filter=filter, post_filter=post_filter
            )
        )

    def query(self, query: FlowQuery | Plan) -> TimeSeries | DimensionalRows:
        """See :meth:`AsyncConvivaFlowClient.query`."""
        return self._call(self._async.query(query))
