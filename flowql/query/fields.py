"""One query from named fields, whichever face wrote them.

The command line (``--group-by``), the REPL (``:group-by``), a manifest's ``[[query]]`` table
(``group_by = ...``) and the library all name a query's parts with the same fields
(:data:`FIELDS`); :func:`build_query` turns an API, an endpoint and those fields into the one
query value of that endpoint, so that the same query plans to the same requests wherever it is
written. Which endpoint takes which field is in :mod:`flowql.apis`.
"""

from __future__ import annotations

from flowql.apis import FIELDS, Api, UnknownApiError, api_spec
from flowql.diagnostics import Diagnostic, did_you_mean
from flowql.query.conviva_flow import FlowQuery
from flowql.query.conviva_sessions import SESSIONS_MAX_LIMIT, SessionsQuery
from flowql.query.flowxo import FlowXOQuery
from flowql.query.klaviyo import KLAVIYO_METRICS_ENDPOINTS, KlaviyoMetricsQuery, KlaviyoReportQuery
from flowql.query.plan import QueryError
from flowql.times import is_epoch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from flowql.ast import Span
    from flowql.query.plan import AnyQuery

__all__ = ["FIELDS", "build_query"]


def _problem(code: str, message: str, hint: str | None, span: Span | None) -> Diagnostic:
    return Diagnostic(code, message, span, hint=hint)


def build_query(
    api: str | Api,
    endpoint: str,
    fields: Mapping[str, object],
    *,
    spans: Mapping[str, Span] | None = None,
) -> AnyQuery:
    """The query value of ``api``'s ``endpoint`` with ``fields`` (names of :data:`FIELDS`;
    values as the user gave them: times are resolved when the query is planned).

    Raises :class:`~flowql.query.QueryError` (FQ701) for an unknown API, endpoint or field, and
    for a field the endpoint does not take; ``spans`` places each diagnostic at its field (a
    manifest's TOML value, say). The query's own rules are checked by its ``plan()``.
    """
    spans = spans or {}
    try:
        spec = api_spec(api)
    except UnknownApiError as exc:
        raise QueryError(_problem("FQ701", str(exc), exc.hint, spans.get("api"))) from None
    found = spec.endpoint(endpoint)
    if found is None or found.pull:
        names = spec.query_endpoints
        hint = did_you_mean(endpoint, names) or f"use one of {', '.join(names)}"
        what = (
            f"{spec.name} {endpoint} fetches a data model, not a query"
            if found is not None
            else f"{spec.name} has no endpoint '{endpoint}'"
        )
        if found is not None:
            hint = "use `flowql model pull`" + (" --sessions" if spec.api.is_conviva else "")
            hint += " to fetch it"
        raise QueryError(_problem("FQ701", what, hint, spans.get("endpoint")))
    problems = []
    for name in fields:
        if name not in FIELDS:
            problems.append(
                _problem(
                    "FQ701",
                    f"unknown query field '{name}'",
                    did_you_mean(name, FIELDS) or "the fields are " + ", ".join(FIELDS),
                    spans.get(name),
                )
            )
        elif name not in found.fields:
            problems.append(
                _problem(
                    "FQ701",
                    f"the {spec.name} {endpoint} endpoint takes no {name}",
                    "it takes " + (", ".join(found.fields) or "no fields"),
                    spans.get(name),
                )
            )
    if problems:
        raise QueryError(problems)
    given = dict(fields)
    return _construct(spec.api, endpoint, given)


def _construct(api: Api, endpoint: str, f: dict[str, object]) -> AnyQuery:
    get = f.get
    filter_: object = get("filter")
    post = bool(get("post_filter", False))
    tz = get("tz")
    if api is Api.CONVIVA_FLOW:
        group_by = get("group_by")
        if isinstance(group_by, (list, tuple)) and len(group_by) == 1:
            group_by = group_by[0]
        return FlowQuery(
            get("flow"),  # type: ignore[arg-type]  # checked by plan()
            endpoint,
            start=get("start"),  # type: ignore[arg-type]
            end=get("end"),  # type: ignore[arg-type]
            interval=get("interval"),  # type: ignore[arg-type]
            granularity=get("granularity"),  # type: ignore[arg-type]
            group_by=group_by,  # type: ignore[arg-type]
            filter=filter_,  # type: ignore[arg-type]
            post_filter=post,
            url_limit=get("url_limit") or FlowQuery.url_limit,  # type: ignore[arg-type]
            tz=tz,  # type: ignore[arg-type]
        )
    if api is Api.CONVIVA_SESSIONS:
        start, end = get("start"), get("end")
        epochs = all(v is None or is_epoch(v) for v in (start, end))
        times = (
            {"start_epoch": start, "end_epoch": end}
            if epochs
            else {"start_date": start, "end_date": end}
        )
        return SessionsQuery(
            endpoint,
            limit=get("limit"),  # type: ignore[arg-type]
            viewer_id=get("viewer_id"),  # type: ignore[arg-type]
            viewer_ip=get("viewer_ip"),  # type: ignore[arg-type]
            days=get("days"),  # type: ignore[arg-type]
            filter_id=get("filter_id"),  # type: ignore[arg-type]
            filter=filter_,  # type: ignore[arg-type]
            post_filter=post,
            max_limit=get("max_limit") or SESSIONS_MAX_LIMIT,  # type: ignore[arg-type]
            url_limit=get("url_limit") or SessionsQuery.url_limit,  # type: ignore[arg-type]
            tz=tz,  # type: ignore[arg-type]
            **times,  # type: ignore[arg-type]
        )
    if api is Api.KLAVIYO:
        if endpoint in KLAVIYO_METRICS_ENDPOINTS:
            return KlaviyoMetricsQuery(
                endpoint,
                metric_id=get("metric_id"),  # type: ignore[arg-type]
                filter=filter_,  # type: ignore[arg-type]
                post_filter=post,
                revision=get("revision"),  # type: ignore[arg-type]
            )
        return KlaviyoReportQuery(
            endpoint,
            statistics=get("statistics") or (),  # type: ignore[arg-type]
            timeframe=get("timeframe"),  # type: ignore[arg-type]
            start=get("start"),  # type: ignore[arg-type]
            end=get("end"),  # type: ignore[arg-type]
            interval=get("interval"),  # type: ignore[arg-type]
            conversion_metric_id=get("conversion_metric_id"),  # type: ignore[arg-type]
            group_by=get("group_by") or (),  # type: ignore[arg-type]
            filter=filter_,  # type: ignore[arg-type]
            post_filter=post,
            tz=tz,  # type: ignore[arg-type]
            revision=get("revision"),  # type: ignore[arg-type]
        )
    return FlowXOQuery(
        endpoint,
        get("start"),  # type: ignore[arg-type]
        get("end"),  # type: ignore[arg-type]
        unit=get("unit"),  # type: ignore[arg-type]
        offset=get("offset"),  # type: ignore[arg-type]
        limit=get("limit"),  # type: ignore[arg-type]
        filter=filter_,  # type: ignore[arg-type]
        tz=tz,  # type: ignore[arg-type]
    )
