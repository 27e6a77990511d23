"""The Conviva APIs of the sandbox: the DPI Flow API (data model, real-time and historical
metrics, group-by, ``filter``) and Sessions V3 (discovery, content, ad, viewer, viewer summary,
dimension list).

Status codes follow the guides: 400 for a malformed request, 404 for an unknown path or flow,
422 for a well-formed request with a bad value. Where the guides are silent the same rule
decides: a value that cannot be read as its type (a limit that is not a number, a date that is
not ISO 8601, two time formats at once) is 400; a value of the right type out of range (a limit
of 0, a range over 3 hours, an unknown saved filter) is 422.
"""

from __future__ import annotations

import ipaddress
import re

from flowql.sandbox import conviva_filter
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
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from typing import Any

    from flowql.model import FlowModel
    from flowql.sandbox._conviva_data import ConvivaData, FlowEvent, Session
    from flowql.sandbox._util import Request
    from flowql.sandbox.conviva_filter import Predicate

__all__ = ["SAVED_FILTERS", "ConvivaAPI"]

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
FLOW_HISTORY_MS = 7 * DAY_MS
FLOW_MAX_SPAN_MS = HOUR_MS
SESSIONS_HISTORY_MS = 31 * DAY_MS
SESSIONS_MAX_SPAN_MS = 3 * HOUR_MS
MAX_LIMIT = 500

SAVED_FILTERS = {
    "9876543210": "device_os == 'Android' AND geo_country_name != 'United States'",
    "1001": "is_video_start_failure == 'true' OR is_video_playback_failure == 'true'",
    "1002": (
        "content_category == 'Live' AND (geo_continent == 'Europe' OR geo_continent == 'Africa')"
    ),
    "1003": "tag_subscription == 'premium' AND device_os_family != 'Android'",
}
"""The account's saved filters (``filter_id``), written in the Flow API's filter syntax over
the session's filter values (the same keys as the dimension parameters; a status is ``'true'``
or ``'false'``), and read by the sandbox's own reader (:mod:`flowql.sandbox.conviva_filter`)."""

_INTERVAL = re.compile(r"PT(\d+)M")
_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?")
_TIME_PARAMETERS = ("start_date", "end_date", "start_epoch", "end_epoch", "days")


def _number(value: float) -> float | int:
    """A metric value as JSON shows it: whole numbers without ``.0``."""
    return int(value) if value == int(value) else value


class _Totals:
    """The flow metrics of a set of events: runs begun, completed, succeeded, time taken."""

    __slots__ = ("complete", "duration", "init", "success")

    def __init__(self) -> None:
        self.init = 0
        self.complete = 0
        self.success = 0
        self.duration = 0.0

    def add(self, event: FlowEvent) -> None:
        self.init += 1
        if event.completed:
            self.complete += 1
            self.duration += event.duration or 0.0
        if event.succeeded:
            self.success += 1

    def metric_data(self, flow: FlowModel) -> dict[str, float | int]:
        out: dict[str, float | int] = {}
        for metric in flow.metrics.values():
            if metric.type == "init":
                out[metric.key] = self.init
            elif metric.type in ("complete", "success"):
                count = self.complete if metric.type == "complete" else self.success
                out[metric.key] = count
                share = 100 * count / self.init if self.init else 0
                out[f"{metric.key}_percentage"] = _number(share)
            elif metric.type == "duration":
                out[metric.key] = _number(self.duration / self.complete if self.complete else 0)
            else:  # a metric kind the sandbox does not model
                out[metric.key] = 0
        return out


class ConvivaAPI:
    """Answers the Conviva requests, from :class:`~flowql.sandbox._conviva_data.ConvivaData`."""

    def __init__(
        self,
        data: ConvivaData,
        now: Callable[[], datetime],
        inclusive_end: Callable[[], bool] = lambda: False,
    ) -> None:
        self.data = data
        self.now = now
        self.inclusive_end = inclusive_end
        from flowql.model import demo_sessions_model

        sessions_model = demo_sessions_model()
        self.session_dimensions = {
            key: d for key, d in sessions_model.dimensions().items() if d.type != "boolean"
        }
        self.status_filters = {
            key for key, d in sessions_model.dimensions().items() if d.type == "boolean"
        }
        self._saved: dict[str, Predicate] = {}

    # --- routing -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """The answer to one authenticated Conviva request."""
        segments = request.segments
        if request.method != "GET":
            raise RequestError(405, "the Conviva APIs take only GET", headers={"Allow": "GET"})
        if segments[:1] == ["flow-data"]:
            return self._flow(request, segments[1:])
        if segments[:3] == ["insights", "3.0", "sessions"]:
            return self._sessions(request, segments[3:])
        raise RequestError(404, f"no such path: {request.path}")

    def _flow(self, request: Request, rest: list[str]) -> Response:
        if rest in (["metadata", "data-model"], ["metadata", "flow-models"]):
            _no_parameters(request)
            return Response(self.data_model())
        if len(rest) in (3, 5) and rest[0] in ("real-time-metrics", "metrics"):
            group_by = None
            if len(rest) == 5:
                if rest[3] != "group-by":
                    raise RequestError(404, f"no such path: {request.path}")
                group_by = rest[4]
            return self._metrics(request, rest[0] == "metrics", rest[1], rest[2], group_by)
        raise RequestError(404, f"no such path: {request.path}")

    def _sessions(self, request: Request, rest: list[str]) -> Response:
        if rest == []:
            _no_parameters(request)
            return Response(self.discovery())
        if rest == ["_meta", "references", "dimensions"]:
            _no_parameters(request)
            return Response(self.dimension_list())
        if rest in (["content"], ["ad"]):
            return Response(self.sample_sessions(request, rest[0]))
        if rest == ["content", "viewer"]:
            return Response(self.viewer_sessions(request))
        if rest == ["content", "viewer", "summary"]:
            return Response(self.viewer_summary(request))
        raise RequestError(404, f"no such path: {request.path}")

    # --- the DPI Flow API ----------------------------------------------------------------

    def data_model(self) -> dict[str, Any]:
        """The demo model in the guide's ``flow_models`` shape."""
        models = []
        for flow in self.data.model.flows.values():
            metrics = []
            for metric in flow.metrics.values():
                item: dict[str, Any] = {
                    "key": metric.key,
                    "label": metric.label,
                    "unit": metric.unit,
                    "type": metric.type,
                }
                if metric.type in ("complete", "success"):
                    item["percentage_metric"] = {"key": f"{metric.key}_percentage"}
                metrics.append(item)
            dimensions = [{"key": d.key, "label": d.label} for d in flow.dimensions.values()]
            models.append(
                {"id": flow.id, "label": flow.label, "metrics": metrics, "dimensions": dimensions}
            )
        return {"flow_models": models}

    def _metrics(
        self, request: Request, historical: bool, flow_id: str, span: str, group_by: str | None
    ) -> Response:
        flow = self.data.model.flow(flow_id)
        if flow is None:
            raise RequestError(404, f"no such flow: {flow_id!r}")
        now_ms = epoch_ms(self.now())
        if historical:
            start_ms, end_ms = self._historical_range(span, now_ms)
        else:
            match = _INTERVAL.fullmatch(span)
            if match is None:
                raise RequestError(
                    400, f"the relative time interval must be PT1M to PT15M, not {span[:40]!r}"
                )
            minutes = int(match.group(1))
            if not 1 <= minutes <= 15:
                raise RequestError(
                    422, f"the relative time interval must be PT1M to PT15M, not {span!r}"
                )
            # Whole seconds, as the guide's real-time example stamps its points (19:25:50.000Z).
            end_ms = now_ms - now_ms % 1000
            start_ms = end_ms - minutes * MINUTE_MS
        if group_by is not None and group_by not in flow.dimensions:
            raise RequestError(
                422, f"flow {flow.id} ({flow.label}) has no dimension {group_by[:60]!r} to group by"
            )
        granularity: int | None = None
        predicate: Predicate | None = None
        for key, value in single_params(
            request.query, ("granularity", "filter"), sep=" and "
        ).items():
            if key == "granularity":
                granularity = _granularity(value, end_ms - start_ms)
            else:
                predicate = self._flow_filter(value, flow)
        # Buckets step from the start; the guide's historical example stamps one at the end and
        # counts it whole, which the inclusive-end option copies (its real-time example does not).
        step = granularity or MINUTE_MS
        if historical and self.inclusive_end():
            count = (end_ms - start_ms) // step + 1
        else:
            count = -(-(end_ms - start_ms) // step)
        covered_ms = start_ms + count * step
        # Nothing has happened after now: a range reaching into the future has empty buckets.
        events = self.data.flow_events(flow.id, start_ms, min(covered_ms, now_ms))
        if predicate is not None:
            events = [e for e in events if predicate(e.dimensions)]
        return Response(_flow_result(flow, events, start_ms, count, granularity, group_by, request))

    def _historical_range(self, span: str, now_ms: int) -> tuple[int, int]:
        start_text, separator, end_text = span.partition("_to_")
        if not separator:
            raise RequestError(
                400, f"the time range must be {{start}}_to_{{end}}, not {span[:60]!r}"
            )
        start_ms = _timestamp(start_text, "start")
        end_ms = _timestamp(end_text, "end")
        if start_ms >= end_ms:
            raise RequestError(422, "the start of the time range must be before its end")
        if end_ms - start_ms > FLOW_MAX_SPAN_MS:
            raise RequestError(
                422, "the time range is longer than 1 hour, the most one request takes"
            )
        if start_ms < now_ms - FLOW_HISTORY_MS:
            raise RequestError(
                422, "the time range starts more than 7 days ago: data goes back 7 days"
            )
        return start_ms, end_ms

    def _flow_filter(self, text: str, flow: FlowModel) -> Predicate:
        if not text.strip():
            raise RequestError(400, "the filter is empty")
        try:
            tree = conviva_filter.parse(text)
        except conviva_filter.FilterSyntaxError as exc:
            raise RequestError(400, f"invalid filter at {exc.where}: {exc.message}") from None
        for key in conviva_filter.keys(tree):
            if key not in flow.dimensions:
                raise RequestError(
                    422, f"flow {flow.id} ({flow.label}) has no dimension {key[:60]!r}"
                )
        return conviva_filter.predicate(tree)

    # --- Sessions V3 ---------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The endpoints this account has (all of them)."""
        base = "/insights/3.0/sessions"
        return {
            "endpoints": [
                {
                    "path": f"{base}/content",
                    "description": "Samples of Video Content Sessions",
                },
                {"path": f"{base}/ad", "description": "Samples of Ad Sessions"},
                {
                    "path": f"{base}/content/viewer",
                    "description": "A Viewer's Video Content Sessions (Viewer Experience)",
                },
                {
                    "path": f"{base}/content/viewer/summary",
                    "description": "A Viewer's Summary Metrics",
                },
                {
                    "path": f"{base}/_meta/references/dimensions",
                    "description": "The Dimensions Available for Filtering",
                },
            ]
        }

    def dimension_list(self) -> dict[str, Any]:
        """The demo Sessions V3 dimensions in the documented shape."""
        return {
            "dimensions": [
                {"name": d.label, "query_filter": f"?{key}", "is_custom": False}
                for key, d in self.session_dimensions.items()
            ]
        }

    def _session_filter(
        self, params: list[tuple[str, str]], allowed: tuple[str, ...]
    ) -> tuple[dict[str, list[str]], dict[str, str], Callable[[Session], bool]]:
        """Split the parameters into request parameters (each at most once) and dimension
        filters, and build the filter; raises 400 for an unknown parameter."""
        request: dict[str, str] = {}
        dimensions: dict[str, list[str]] = {}
        filterable = "filter_id" in allowed
        for key, value in params:
            is_dimension = (
                key in self.session_dimensions
                or key in self.status_filters
                or (key.startswith("tag_") and len(key) > len("tag_"))
            )
            if key in allowed:
                if key in request:
                    raise RequestError(400, f"the query parameter {key!r} is given more than once")
                request[key] = value
            elif filterable and is_dimension:
                dimensions.setdefault(key, []).append(value)
            else:
                hint = " (the viewer endpoints take no dimension filters)" if is_dimension else ""
                raise RequestError(400, f"unknown query parameter {key[:60]!r}{hint}")
        if "filter_id" in request:
            if dimensions:
                raise RequestError(
                    400,
                    "filter_id (a saved filter) cannot be combined with dimension filters: "
                    f"got {', '.join(sorted(dimensions))}",
                )
            saved = self._saved_filter(request["filter_id"])
            return dimensions, request, lambda s: saved(s.record)
        tests: list[tuple[str, frozenset[object]]] = []
        for key, values in dimensions.items():
            if key in self.status_filters:
                flags = set()
                for value in values:
                    if value not in ("true", "false"):
                        raise RequestError(400, f"{key} must be true or false, not {value[:40]!r}")
                    flags.add(value == "true")
                tests.append((key, frozenset(flags)))
            else:
                tests.append((key, frozenset(values)))

        def matches(session: Session) -> bool:
            record = session.record
            for key, accepted in tests:
                got = record.get(key)
                if isinstance(got, list):
                    if not any(item in accepted for item in got):
                        return False
                elif got is None or got not in accepted:
                    return False
            return True

        return dimensions, request, matches

    def _saved_filter(self, text: str) -> Predicate:
        if not text.isdigit():
            raise RequestError(400, f"filter_id must be a number, not {text[:40]!r}")
        source = SAVED_FILTERS.get(text)
        if source is None:
            raise RequestError(422, f"no saved filter with id {text}")
        if text not in self._saved:
            self._saved[text] = conviva_filter.predicate(conviva_filter.parse(source))
        return self._saved[text]

    def sample_sessions(self, request: Request, kind: str) -> dict[str, Any]:
        """Up to ``limit`` ended sessions of ``kind`` in the range, newest first."""
        allowed = (*_TIME_PARAMETERS, "limit", "filter_id")
        _, params, matches = self._session_filter(request.query, allowed)
        now_ms = epoch_ms(self.now())
        start_ms, end_ms = _session_range(
            params, now_ms, default_ms=SESSIONS_MAX_SPAN_MS, max_span_ms=SESSIONS_MAX_SPAN_MS
        )
        limit = _limit(params, default=50)
        found = [
            s
            for s in self.data.sessions(start_ms, end_ms, kind)
            if s.is_ended(now_ms) and matches(s)
        ]
        found.sort(key=lambda s: (-s.start_ms, s.viewer_id))
        return {"sessions": [s.to_json(now_ms) for s in found[:limit]]}

    def _viewer(
        self, request: Request, allowed: tuple[str, ...]
    ) -> tuple[dict[str, str], list[Session], int, int]:
        _, params, _ = self._session_filter(request.query, allowed)
        viewer_id = params.get("viewer_id")
        viewer_ip = params.get("viewer_ip")
        if viewer_id is not None and viewer_ip is not None:
            raise RequestError(400, "give viewer_id or viewer_ip, not both")
        if viewer_id is None and viewer_ip is None:
            raise RequestError(400, "the viewer endpoints need viewer_id or viewer_ip")
        if viewer_id is not None and not viewer_id:
            raise RequestError(422, "viewer_id is empty")
        if viewer_ip is not None:
            try:
                viewer_ip = str(ipaddress.ip_address(viewer_ip))
            except ValueError:
                raise RequestError(
                    422, f"viewer_ip must be an IPv4 or IPv6 address, not {viewer_ip[:60]!r}"
                ) from None
        now_ms = epoch_ms(self.now())
        start_ms, end_ms = _session_range(params, now_ms, default_ms=DAY_MS, max_span_ms=None)
        sessions = [
            s
            for s in self.data.viewer_sessions(start_ms, end_ms, viewer_id=viewer_id, ip=viewer_ip)
            if s.start_ms < now_ms
        ]
        return params, sessions, start_ms, end_ms

    def viewer_sessions(self, request: Request) -> dict[str, Any]:
        """A viewer's content sessions, ended and on-going, newest first."""
        allowed = (*_TIME_PARAMETERS, "limit", "viewer_id", "viewer_ip")
        params, sessions, _, _ = self._viewer(request, allowed)
        limit = _limit(params, default=MAX_LIMIT)
        now_ms = epoch_ms(self.now())
        sessions.sort(key=lambda s: -s.start_ms)
        return {"sessions": [s.to_json(now_ms) for s in sessions[:limit]]}

    def viewer_summary(self, request: Request) -> dict[str, Any]:
        """A viewer's summary metrics over the range, in the guide's shape."""
        allowed = (*_TIME_PARAMETERS, "viewer_id", "viewer_ip")
        params, sessions, start_ms, end_ms = self._viewer(request, allowed)
        who = "viewer_id" if "viewer_id" in params else "viewer_ip"
        queries = {who: params[who], "start_epoch_ms": start_ms, "end_epoch_ms": end_ms}
        return {
            "total": _summary(sessions, epoch_ms(self.now())),
            "_meta": {
                "queries": queries,
                "query_string": "&".join(f"{k}={v}" for k, v in queries.items()),
                "ratio_info": {
                    "connection_induced_rebuffering_ratio": {"max": 100},
                    "rebuffering_ratio": {"max": 100},
                },
                "annotations": [],
            },
        }


# --- helpers ----------------------------------------------------------------------------------


def _no_parameters(request: Request) -> None:
    if request.query:
        raise RequestError(400, f"unknown query parameter {request.query[0][0][:60]!r}")


def _timestamp(text: str, what: str) -> int:
    if text.isdigit() and len(text) <= 15:
        return int(text)
    moment = parse_iso(text)
    if moment is None:
        raise RequestError(
            400, f"the {what} time must be epoch milliseconds or ISO 8601, not {text[:40]!r}"
        )
    return epoch_ms(moment)


def _granularity(text: str, span_ms: int) -> int:
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()):
        raise RequestError(
            400, f"granularity must be an ISO 8601 duration such as PT1M, not {text[:40]!r}"
        )
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = (hours * 3600 + minutes * 60 + seconds) * 1000
    if total < MINUTE_MS or total % MINUTE_MS:
        raise RequestError(
            422, f"granularity must be a whole number of minutes, at least PT1M: {text}"
        )
    if total > span_ms:
        raise RequestError(422, f"granularity {text} is longer than the time range")
    return total


def _flow_result(
    flow: FlowModel,
    events: list[FlowEvent],
    start_ms: int,
    count: int,
    granularity: int | None,
    group_by: str | None,
    request: Request,
) -> dict[str, Any]:
    """``count`` buckets of ``granularity`` (a minute by default) from ``start_ms``, each holding
    its whole step of ``events``."""
    total = _Totals()
    for event in events:
        total.add(event)
    if group_by is not None and granularity is None:
        # The guide's shape: one entry, no timestamp, a row per dimension value.
        series = [{"dimensional_data": _groups(flow, events, group_by)}]
        return {"time_series": series, "aggregated_metric_data": total.metric_data(flow)}
    step = granularity or MINUTE_MS
    buckets: list[list[FlowEvent]] = [[] for _ in range(count)]
    for event in events:
        buckets[(event.time_ms - start_ms) // step].append(event)
    series = []
    for index, bucket in enumerate(buckets):
        at = start_ms + index * step
        entry: dict[str, Any] = {"timestamp": {"epoch_ms": at, "iso_date": iso_ms(at)}}
        if group_by is not None:
            entry["dimensional_data"] = _groups(flow, bucket, group_by)
        else:
            part = _Totals()
            for event in bucket:
                part.add(event)
            entry["metric_data"] = part.metric_data(flow)
        series.append(entry)
    return {"time_series": series, "aggregated_metric_data": total.metric_data(flow)}


def _groups(flow: FlowModel, events: Iterable[FlowEvent], key: str) -> list[dict[str, Any]]:
    from flowql.sandbox._catalog import GEOS

    groups: dict[str, _Totals] = {}
    for event in events:
        groups.setdefault(event.dimensions[key], _Totals()).add(event)
    codes = {g.country: g.country_code for g in GEOS}
    rows = []
    for value, totals in sorted(groups.items(), key=lambda kv: (-kv[1].init, kv[0])):
        dimension = {"key": key, "value": value}
        if key == "geo_country":
            dimension["country_code"] = codes.get(value, "")
        rows.append({"dimension": dimension, "metric_data": totals.metric_data(flow)})
    return rows


def _session_range(
    params: dict[str, str], now_ms: int, *, default_ms: int, max_span_ms: int | None
) -> tuple[int, int]:
    formats = [
        name
        for name, keys in (
            ("start_date/end_date", ("start_date", "end_date")),
            ("start_epoch/end_epoch", ("start_epoch", "end_epoch")),
            ("days", ("days",)),
        )
        if any(k in params for k in keys)
    ]
    if len(formats) > 1:
        raise RequestError(400, "use one time format per request, not " + " and ".join(formats))
    if not formats:
        return now_ms - default_ms, now_ms
    if formats[0] == "days":
        days = parse_int(params["days"], "days")
        if not 1 <= days <= 31:
            raise RequestError(422, f"days must be 1 to 31, not {days}")
        start_ms, end_ms = now_ms - days * DAY_MS, now_ms
    else:
        iso = formats[0].startswith("start_date")
        start_key, end_key = ("start_date", "end_date") if iso else ("start_epoch", "end_epoch")
        for key in (start_key, end_key):
            if key not in params:
                other = end_key if key == start_key else start_key
                raise RequestError(400, f"{other} needs {key}")
        if iso:
            moments = [parse_iso(params[k]) for k in (start_key, end_key)]
            for key, moment in zip((start_key, end_key), moments, strict=True):
                if moment is None:
                    raise RequestError(
                        400, f"{key} must be an ISO 8601 date-time, not {params[key][:40]!r}"
                    )
            start_ms, end_ms = (epoch_ms(m) for m in moments if m is not None)
        else:
            start_ms = parse_int(params[start_key], start_key) * 1000
            end_ms = parse_int(params[end_key], end_key) * 1000
    if start_ms >= end_ms:
        raise RequestError(422, "the start of the time range must be before its end")
    if max_span_ms is not None and end_ms - start_ms > max_span_ms:
        raise RequestError(
            422, f"the time range is longer than {max_span_ms // HOUR_MS} hours, the most allowed"
        )
    if start_ms < now_ms - SESSIONS_HISTORY_MS:
        raise RequestError(422, "the time range starts more than 31 days ago")
    return start_ms, end_ms


def _limit(params: dict[str, str], default: int) -> int:
    if "limit" not in params:
        return default
    limit = parse_int(params["limit"], "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise RequestError(422, f"limit must be 1 to {MAX_LIMIT}, not {limit}")
    return limit


def _share(part: int, whole: int) -> float | int:
    return _number(round(100 * part / whole, 4)) if whole else 0


def _summary(sessions: list[Session], now_ms: int) -> dict[str, Any]:
    attempts = len(sessions)
    infos = [(s.record, s.to_json(now_ms)["lifetime_metrics"], s) for s in sessions]
    ebvs = sum(1 for r, _, _ in infos if r["is_exit_before_video_start"])
    vsf = sum(1 for r, _, _ in infos if r["is_video_start_failure"])
    vsf_b = sum(1 for r, _, _ in infos if r["is_video_start_failure_business"])
    vsf_t = sum(1 for r, _, _ in infos if r["is_video_start_failure_tech"])
    plays = [(r, m, s) for r, m, s in infos if m["playing_time_ms"] > 0]
    vpf = sum(1 for r, _, _ in plays if r["is_video_playback_failure"])
    vpf_b = sum(1 for r, _, _ in plays if r["is_video_playback_failure_business"])
    vpf_t = sum(1 for r, _, _ in plays if r["is_video_playback_failure_tech"])
    playing = sum(m["playing_time_ms"] for _, m, _ in plays)
    rebuffering = sum(m["rebuffering_time_ms"] for _, m, _ in plays)
    induced = sum(m["connection_induced_rebuffering_time_ms"] for _, m, _ in plays)
    ended = [(r, m, s) for r, m, s in plays if s.is_ended(now_ms)]
    ended_mins = sum(m["playing_time_ms"] for _, m, _ in ended) / 60_000
    devices = {(r["device_name"], r["device_os_version"]) for r, _, _ in infos}
    good: list[dict[str, Any]] = []
    impacted: list[dict[str, Any]] = []
    for r, m, _ in plays:
        is_good = not r["is_video_playback_failure"] and m["rebuffering_ratio_percent"] < 1
        (good if is_good else impacted).append(m)
    restarts = [m["video_restart_time_ms"] for _, m, _ in plays if m["video_restart_time_ms"]]

    def mean(values: list[float]) -> float | int:
        return _number(round(sum(values) / len(values), 4)) if values else 0

    def mins(group: list[dict[str, Any]]) -> float | int:
        return mean([m["playing_time_ms"] / 60_000 for m in group])

    return {
        "bitrate": {"bps": round(mean([m["average_peak_bitrate_bps"] for _, m, _ in plays]))},
        "connection_induced_rebuffering_ratio": {"ratio": _share(induced, playing + rebuffering)},
        "ended_plays_duration": {
            "mins": _number(round(ended_mins, 4)),
            "per_ended_play": _number(round(ended_mins / len(ended), 4)) if ended else 0,
            "per_unique_device": _number(round(ended_mins / len(devices), 4)) if devices else 0,
        },
        "exit_before_video_starts": {"count": ebvs, "percentage": _share(ebvs, attempts)},
        "good_streams": {"count": len(good)},
        "good_streams_average_play_time": {"mins": mins(good)},
        "impacted_streams": {"count": len(impacted)},
        "impacted_streams_average_play_time": {"mins": mins(impacted)},
        "plays": {"count": len(plays)},
        "rebuffering_ratio": {"ratio": _share(rebuffering, playing + rebuffering)},
        "spi_streams": {"count": attempts},
        "streaming_performance_index": {"value": _share(len(good), attempts)},
        "unique_devices": {"count": len(devices)},
        "video_playback_failures": {"count": vpf, "percentage": _share(vpf, len(plays))},
        "video_playback_failures_business": {
            "count": vpf_b,
            "percentage": _share(vpf_b, len(plays)),
        },
        "video_playback_failures_tech": {"count": vpf_t, "percentage": _share(vpf_t, len(plays))},
        "video_restart_time": {"value": mean(restarts)},
        "video_start_failures": {"count": vsf, "percentage": _share(vsf, attempts)},
        "video_start_failures_business": {"count": vsf_b, "percentage": _share(vsf_b, attempts)},
        "video_start_failures_tech": {"count": vsf_t, "percentage": _share(vsf_t, attempts)},
        "video_start_time": {"value": mean([m["video_start_time_ms"] for _, m, _ in plays])},
    }
