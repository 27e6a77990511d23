"""The Conviva Sessions V3 client: content and ad sample sessions, a viewer's sessions and
summary, and the account's dimension list.

Credentials as for the Flow API (``CONVIVA_CLIENT_ID``, ``CONVIVA_CLIENT_SECRET``; HTTP Basic),
and the same rate limit (3000 requests per 5 minutes). A content or ad range longer than 3 hours
is fetched as 3-hour windows and merged in session start order. ``limit`` bounds the whole
result: the windows are then fetched one after another, in time order, each asked for ``limit``
sessions, until ``limit`` are in; the earliest ``limit`` (by start) are kept, and the windows
after are not requested.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flowql.apis import Api
from flowql.client._core import SyncClientBase
from flowql.client.conviva_flow import AsyncConvivaBase
from flowql.client.errors import ClientError, InvalidResponse, PartialResultError, RequestInfo
from flowql.query import SessionsQuery
from flowql.results import Sessions, ViewerSummary, session_record, session_start

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from flowql.ast import Expr
    from flowql.diagnostics import Diagnostic
    from flowql.model import DataModel
    from flowql.query import Plan, Request, Window

__all__ = ["AsyncConvivaSessionsClient", "ConvivaSessionsClient"]

DIMENSIONS_PATH = "/insights/3.0/sessions/_meta/references/dimensions"
"""The account's Sessions V3 filter dimensions."""


class AsyncConvivaSessionsClient(AsyncConvivaBase):
    """Async client of Conviva Sessions V3. ``client_id`` and ``client_secret`` default to
    ``CONVIVA_CLIENT_ID`` and ``CONVIVA_CLIENT_SECRET``; other options: see
    :class:`~flowql.client._core.AsyncClientBase`."""

    api = Api.CONVIVA_SESSIONS

    async def dimensions_json(self) -> dict[str, Any]:
        """The dimension list as the API returns it (``{"dimensions": [...]}``)."""
        data = await self._core.request("GET", DIMENSIONS_PATH)
        if not isinstance(data, dict) or not isinstance(data.get("dimensions"), list):
            raise InvalidResponse(
                "expected an object with a 'dimensions' list",
                RequestInfo("GET", self._core.url(DIMENSIONS_PATH)),
            )
        return data

    async def dimensions(self) -> DataModel:
        """The account's filter dimensions as a Sessions V3
        :class:`~flowql.model.DataModel`."""
        from flowql.model import ModelError, model_from_data

        data = await self.dimensions_json()
        try:
            return model_from_data(data, name=f"{self.base_url} Sessions V3 dimensions")
        except ModelError as exc:
            raise InvalidResponse(
                exc.message, RequestInfo("GET", self._core.url(DIMENSIONS_PATH))
            ) from None

    async def content(self, **fields: Any) -> Sessions:
        """Sample content sessions; ``fields`` are :class:`~flowql.query.SessionsQuery`'s
        (``start_date``, ``end_date``, ``limit``, ``filter``, ``post_filter``...)."""
        result = await self.query(SessionsQuery("content", **fields))
        assert isinstance(result, Sessions)
        return result

    async def ad(self, **fields: Any) -> Sessions:
        """Sample ad sessions; ``fields`` as for :meth:`content`."""
        result = await self.query(SessionsQuery("ad", **fields))
        assert isinstance(result, Sessions)
        return result

    async def viewer(
        self,
        *,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
        limit: int | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> Sessions:
        """A viewer's content sessions, by ``viewer_id`` or ``viewer_ip`` (exactly one). The
        endpoint takes no dimension filter: a ``filter`` needs ``post_filter=True``."""
        result = await self.query(
            SessionsQuery(
                "viewer",
                viewer_id=viewer_id,
                viewer_ip=viewer_ip,
                days=days,
                limit=limit,
                filter=filter,
                post_filter=post_filter,
            )
        )
        assert isinstance(result, Sessions)
        return result

    async def viewer_summary(
        self,
        *,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
    ) -> ViewerSummary:
        """A viewer's summary metrics, by ``viewer_id`` or ``viewer_ip`` (exactly one)."""
        result = await self.query(
            SessionsQuery("viewer-summary", viewer_id=viewer_id, viewer_ip=viewer_ip, days=days)
        )
        assert isinstance(result, ViewerSummary)
        return result

    async def query(self, query: SessionsQuery | Plan) -> Sessions | ViewerSummary:
        """Run a :class:`~flowql.query.SessionsQuery`: validated first, split into 3-hour
        windows where needed, fetched, merged in start order, post-filtered."""
        plan = self.plan_of(query)
        value = plan.query
        assert isinstance(value, SessionsQuery)
        query = value

        async def fetch(request: Request) -> Mapping[str, Any]:
            data = await self._get(request)
            info = self._info(request)
            if query.endpoint == "viewer-summary":
                if not isinstance(data, dict) or not isinstance(data.get("total"), dict):
                    raise InvalidResponse("expected an object with a 'total' object", info)
            elif (
                not isinstance(data, dict)
                or not isinstance(data.get("sessions"), list)
                or not all(isinstance(s, dict) for s in data["sessions"])
            ):
                raise InvalidResponse("expected an object with a 'sessions' list", info)
            else:
                for session in data["sessions"]:
                    try:
                        session_start(session)
                    except (ValueError, OverflowError):  # NaN or Infinity
                        raise InvalidResponse("a session's start is not a time", info) from None
            return data

        def merge(pieces: list[tuple[Request, Mapping[str, Any]]]) -> Sessions | ViewerSummary:
            windows = tuple(r.window for r, _ in pieces if r.window is not None)
            if query.endpoint == "viewer-summary":
                data = pieces[0][1] if pieces else {}
                return ViewerSummary(
                    api=self.api,
                    endpoint=query.endpoint,
                    total=data.get("total", {}),
                    info=data.get("_meta", {}) if isinstance(data.get("_meta"), dict) else {},
                )
            sessions = _unique(s for _, piece in pieces for s in piece["sessions"])
            sessions.sort(key=session_start)
            return Sessions(
                api=self.api, endpoint=query.endpoint, windows=windows, sessions=tuple(sessions)
            )

        if query.limit is not None and len(plan.requests) > 1:
            return await self._run_limited(plan, query.limit, fetch, merge)
        result = await self._run(plan, fetch, merge)
        assert isinstance(result, (Sessions, ViewerSummary))
        return result

    async def _run_limited(
        self,
        plan: Plan,
        limit: int,
        fetch: Callable[[Request], Awaitable[Mapping[str, Any]]],
        merge: Callable[[list[tuple[Request, Mapping[str, Any]]]], Sessions | ViewerSummary],
    ) -> Sessions:
        """The windows one after another, in time order, until ``limit`` sessions (that pass
        the post-filter, if any) are in; the earliest ``limit`` by start are kept. A failed
        window does not stop the others, as in a concurrent fetch."""
        keep = None
        if plan.filter.local is not None:
            from flowql.targets.python import compile_predicate

            keep = compile_predicate(plan.filter.local)
        notes: list[Diagnostic] = []
        got: list[tuple[Request, Mapping[str, Any]]] = []
        missing: list[tuple[Window, ClientError]] = []
        seen: set[object] = set()
        total = len(plan.requests)
        for done, request in enumerate(plan.requests, 1):
            fresh, note = plan.refresh(request, self.now())
            if note is not None:
                notes.append(note)
            if fresh is not None:
                try:
                    piece = await self._fetch_window(fetch, fresh)
                except ClientError as exc:
                    assert request.window is not None
                    missing.append((request.window, exc))
                else:
                    got.append((fresh, piece))
                    for session in piece["sessions"]:
                        if keep is None or keep(session_record(session)):
                            seen.add(_identity(session))
            if len(seen) >= limit:
                done = total  # the windows left need not be fetched: nothing is left to do
            if self.progress is not None:
                self.progress(done, total)
            if done == total:
                break
        merged = self._finish(plan, merge(got), notes)
        assert isinstance(merged, Sessions)
        result = dataclasses.replace(merged, sessions=merged.sessions[:limit])
        if missing:
            raise PartialResultError(missing, result)
        return result


def _identity(session: Mapping[str, Any]) -> object:
    """What tells two answers' sessions apart: the id, or the whole session without one."""
    key = session.get("conviva_session_id")
    return key if isinstance(key, str) else repr(sorted(session.items()))


def _unique(sessions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Each session once: a server that includes a range's end returns a session that starts
    on a window edge in both windows."""
    seen: set[object] = set()
    out = []
    for session in sessions:
        key = _identity(session)
        if key not in seen:
            seen.add(key)
            out.append(session)
    return out


class ConvivaSessionsClient(SyncClientBase[AsyncConvivaSessionsClient]):
    """Sync client of Conviva Sessions V3: :class:`AsyncConvivaSessionsClient`'s methods and
    arguments, without ``await``."""

    _async_class = AsyncConvivaSessionsClient

    def dimensions_json(self) -> dict[str, Any]:
        """See :meth:`AsyncConvivaSessionsClient.dimensions_json`."""
        return self._call(self._async.dimensions_json())

    def dimensions(self) -> DataModel:
        """See :meth:`AsyncConvivaSessionsClient.dimensions`."""
        return self._call(self._async.dimensions())

    def content(self, **fields: Any) -> Sessions:
        """See :meth:`AsyncConvivaSessionsClient.content`."""
        return self._call(self._async.content(**fields))

    def ad(self, **fields: Any) -> Sessions:
        """See :meth:`AsyncConvivaSessionsClient.ad`."""
        return self._call(self._async.ad(**fields))

    def viewer(
        self,
        *,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
        limit: int | None = None,
        filter: str | Expr | None = None,
        post_filter: bool = False,
    ) -> Sessions:
        """See :meth:`AsyncConvivaSessionsClient.viewer`."""
        return self._call(
            self._async.viewer(
                viewer_id=viewer_id,
                viewer_ip=viewer_ip,
                days=days,
                limit=limit,
                filter=filter,
                post_filter=post_filter,
            )
        )

    def viewer_summary(
        self,
        *,
        viewer_id: str | None = None,
        viewer_ip: str | None = None,
        days: int | None = None,
    ) -> ViewerSummary:
        """See :meth:`AsyncConvivaSessionsClient.viewer_summary`."""
        return self._call(
            self._async.viewer_summary(viewer_id=viewer_id, viewer_ip=viewer_ip, days=days)
        )

    def query(self, query: SessionsQuery | Plan) -> Sessions | ViewerSummary:
        """See :meth:`AsyncConvivaSessionsClient.query`."""
        return self._call(self._async.query(query))
