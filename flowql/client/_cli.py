"""The ``flowql query`` and ``flowql model pull`` commands.

Both run against the real APIs when credentials are in the environment, and against an
in-process sandbox (:mod:`flowql.sandbox`) otherwise, saying so on stderr. Results go to stdout
(``--format table|json|csv``); diagnostics, warnings and progress (only when stderr is a
terminal) go to stderr. Exit codes: 0 ok, 1 a query or API error (shown like ``flowql check``
shows findings), 2 a usage error.

This module is imported whenever the ``flowql`` parser is built, so it imports nothing heavy
at the top: httpx and the clients load only when a query runs.
"""

from __future__ import annotations

import contextlib
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator
    from typing import Any, TextIO

    from flowql.results import Result
    from flowql.sandbox import Sandbox

__all__ = ["add_commands"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

APIS = ("conviva-flow", "conviva-sessions", "klaviyo", "flowxo")
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "conviva-flow": ("real-time", "historical", "data-model"),
    "conviva-sessions": ("content", "ad", "viewer", "viewer-summary", "dimensions"),
    "klaviyo": (
        "metrics",
        "flow-triggers",
        "flow-values",
        "flow-series",
        "campaign-values",
        "form-values",
        "form-series",
        "segment-values",
        "segment-series",
    ),
    "flowxo": ("insights", "top-messages", "top-flows"),
}
"""The endpoints of each API, as ``flowql query API ENDPOINT`` names them."""

CREDENTIALS = {
    "conviva-flow": ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"),
    "conviva-sessions": ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET"),
    "klaviyo": ("KLAVIYO_API_KEY",),
    "flowxo": ("FLOWXO_API_KEY",),
}
"""The environment variables each API's credentials come from."""

# Which query options each API takes (the endpoint's own rules are checked by the query).
_OPTIONS = {
    "flow": ("conviva-flow",),
    "interval": ("conviva-flow", "klaviyo"),
    "granularity": ("conviva-flow",),
    "group_by": ("conviva-flow", "klaviyo"),
    "limit": ("conviva-sessions", "flowxo"),
    "max_limit": ("conviva-sessions",),
    "viewer_id": ("conviva-sessions",),
    "viewer_ip": ("conviva-sessions",),
    "days": ("conviva-sessions",),
    "filter_id": ("conviva-sessions",),
    "statistic": ("klaviyo",),
    "timeframe": ("klaviyo",),
    "conversion_metric_id": ("klaviyo",),
    "metric_id": ("klaviyo",),
    "unit": ("flowxo",),
    "offset": ("flowxo",),
    "url_limit": ("conviva-flow", "conviva-sessions"),
    "start": ("conviva-flow", "conviva-sessions", "klaviyo", "flowxo"),
    "end": ("conviva-flow", "conviva-sessions", "klaviyo", "flowxo"),
}


class UsageError(Exception):
    """A command line that does not make sense: exit 2."""


def add_commands(commands: Any) -> None:
    """Add ``query`` and ``model`` to the ``flowql`` subcommands."""
    from flowql.cli import COMMAND_HELP

    q = commands.add_parser(
        "query",
        help=COMMAND_HELP["query"],
        description="Run a query: API is conviva-flow, conviva-sessions, klaviyo or flowxo; "
        "ENDPOINT one of its endpoints (conviva-flow: real-time, historical, data-model; "
        "conviva-sessions: content, ad, viewer, viewer-summary, dimensions; klaviyo: metrics, "
        "flow-triggers, flow-values, flow-series, campaign-values, form-values, form-series, "
        "segment-values, segment-series; flowxo: insights, top-messages, top-flows). The query "
        "is checked before any request. Credentials come from the environment "
        "(CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET, KLAVIYO_API_KEY, FLOWXO_API_KEY); "
        "without them the query runs against the built-in sandbox. Times are ISO 8601, epoch "
        "numbers, 'now' or relative such as -2h.",
        epilog="Exit codes: 0 ok, 1 query or API error, 2 usage error.",
    )
    q.add_argument("api", metavar="API", help="conviva-flow, conviva-sessions, klaviyo, flowxo")
    q.add_argument("endpoint", metavar="ENDPOINT", help="the API's endpoint")
    q.add_argument("--filter", metavar="TEXT", help="a FlowQL filter")
    q.add_argument(
        "--post-filter",
        action="store_true",
        help="send the part of the filter the API takes and apply the rest to the results here",
    )
    q.add_argument("--flow", metavar="ID", help="Conviva flow id")
    q.add_argument("--start", metavar="TIME", help="start of the time range")
    q.add_argument("--end", metavar="TIME", help="end of the time range")
    q.add_argument(
        "--interval", metavar="I", help="Flow real-time PT1M..PT15M; Klaviyo series hourly..."
    )
    q.add_argument("--granularity", metavar="PTnM", help="Flow real-time slice, such as PT1M")
    q.add_argument(
        "--group-by",
        action="append",
        metavar="KEY",
        help="dimension (Flow) or field (Klaviyo, repeatable) to group by",
    )
    q.add_argument("--limit", type=int, metavar="N", help="how many sessions or rows")
    q.add_argument("--max-limit", type=int, metavar="N", help="raise the Sessions limit cap (500)")
    q.add_argument("--viewer-id", metavar="ID", help="Sessions viewer endpoints: the viewer")
    q.add_argument("--viewer-ip", metavar="IP", help="Sessions viewer endpoints: the viewer's IP")
    q.add_argument("--days", type=int, metavar="N", help="Sessions viewer endpoints: days back")
    q.add_argument("--filter-id", metavar="ID", help="Sessions: a saved Conviva filter")
    q.add_argument(
        "--statistic",
        action="append",
        metavar="NAME",
        help="Klaviyo report statistic (repeatable, or comma-separated)",
    )
    q.add_argument("--timeframe", metavar="KEY", help="Klaviyo timeframe key, such as last_30_days")
    q.add_argument("--conversion-metric-id", metavar="ID", help="Klaviyo flow/campaign reports")
    q.add_argument("--metric-id", metavar="ID", help="Klaviyo flow-triggers: the metric")
    q.add_argument("--unit", metavar="UNIT", help="Flow XO insights: hour, day or month")
    q.add_argument("--offset", type=int, metavar="MIN", help="Flow XO insights: UTC offset")
    q.add_argument("--url-limit", type=int, metavar="N", help="Conviva URL limit (default 4096)")
    _add_connection(q)
    q.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json (metadata and records) or csv (records)",
    )
    q.set_defaults(handler=_cmd_query)

    m = commands.add_parser(
        "model",
        help=COMMAND_HELP["model"],
        description="Data model commands. `flowql model pull` fetches the Conviva flow data "
        "model (or, with --sessions, the Sessions V3 dimension list) and saves it as the JSON "
        "that `flowql check --model` reads.",
    )
    verbs = m.add_subparsers(dest="model_command", metavar="COMMAND")
    p = verbs.add_parser(
        "pull",
        help="save the account's data model as JSON",
        description="Fetch the Conviva flow data model (or, with --sessions, the Sessions V3 "
        "dimension list) and write it to FILE (atomically) or to stdout. Credentials come "
        "from CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET; without them, from the sandbox.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--sessions", action="store_true", help="the Sessions V3 dimension list instead")
    _add_connection(p)
    p.set_defaults(handler=_cmd_model_pull)
    m.set_defaults(handler=_cmd_model_help, model_parser=m)


def _add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the API's base URL (credentials must then be in the environment)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per request (30)"
    )


def _cmd_model_help(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    args.model_parser.print_help(err)
    return EXIT_USAGE


# --- running -------------------------------------------------------------------------------------


def has_credentials(api: str) -> bool:
    """Whether every environment variable of ``api``'s credentials is set."""
    return all(os.environ.get(name) for name in CREDENTIALS[api])


@contextlib.contextmanager
def _connection(api: str, base_url: str | None, err: TextIO) -> Iterator[dict[str, Any]]:
    """The client arguments for ``api``: the environment's credentials, or a sandbox started
    for the command (and stopped after it)."""
    if base_url is not None or has_credentials(api):
        yield {"base_url": base_url} if base_url else {}
        return
    from flowql.sandbox import Sandbox

    with Sandbox(seed=0) as sandbox:
        options = sandbox_options(api, sandbox)
        err.write(sandbox_notice(api, options["base_url"]) + "\n")
        yield options


def sandbox_options(api: str, sandbox: Sandbox) -> dict[str, Any]:
    """The client arguments that send ``api``'s requests to a running sandbox: its URL for that
    API and the credentials the sandbox accepts."""
    url = {
        "klaviyo": sandbox.klaviyo_url,
        "flowxo": sandbox.flowxo_url,
    }.get(api, sandbox.conviva_url)
    secrets: dict[str, Any] = (
        {"client_id": "flowql-sandbox", "client_secret": "sandbox"}
        if api.startswith("conviva")
        else {"api_key": "sandbox"}
    )
    return {"base_url": url, **secrets}


def sandbox_notice(api: str, url: str) -> str:
    """What to say when ``api`` is queried on the sandbox at ``url`` for want of credentials."""
    names = " and ".join(CREDENTIALS[api])
    return f"flowql: {names} not set: querying the built-in sandbox at {url}"


def make_client(api: str, options: dict[str, Any]) -> Any:
    """The sync client for ``api`` (conviva-flow, conviva-sessions, klaviyo, flowxo), made
    with ``options`` (credentials, ``base_url``, ``timeout``...)."""
    from flowql import client

    classes: dict[str, Callable[..., Any]] = {
        "conviva-flow": client.ConvivaFlowClient,
        "conviva-sessions": client.ConvivaSessionsClient,
        "klaviyo": client.KlaviyoClient,
        "flowxo": client.FlowXOClient,
    }
    return classes[api](**options)


def _progress(err: TextIO) -> Callable[[int, int], None] | None:
    isatty = getattr(err, "isatty", None)
    if not (isatty and isatty()):
        return None

    def show(done: int, total: int) -> None:
        err.write(f"\rflowql: fetched {done} of {total} windows")
        if done == total:
            err.write("\n")
        err.flush()

    return show


def _statistics(values: list[str] | None) -> tuple[str, ...]:
    return tuple(s.strip() for v in values or () for s in v.split(",") if s.strip())


def _check_options(args: argparse.Namespace) -> None:
    if args.api not in APIS:
        raise UsageError(f"unknown API '{args.api}'; use one of {', '.join(APIS)}")
    if args.endpoint not in ENDPOINTS[args.api]:
        raise UsageError(
            f"{args.api} has no endpoint '{args.endpoint}'; use one of "
            + ", ".join(ENDPOINTS[args.api])
        )
    for option, apis in _OPTIONS.items():
        if getattr(args, option) not in (None, False) and args.api not in apis:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} does not apply to {args.api}")
    if args.group_by and len(args.group_by) > 1 and args.api != "klaviyo":
        raise UsageError("--group-by takes one dimension for the Flow API")


def _build_query(args: argparse.Namespace) -> Any:
    from flowql import query as q

    api, endpoint = args.api, args.endpoint
    if api == "conviva-flow":
        if args.flow is None:
            raise UsageError(f"conviva-flow {endpoint} needs --flow ID")
        return q.FlowQuery(
            args.flow,
            endpoint,
            start=args.start,
            end=args.end,
            interval=args.interval,
            granularity=args.granularity,
            group_by=args.group_by[0] if args.group_by else None,
            filter=args.filter,
            post_filter=args.post_filter,
            url_limit=args.url_limit or 4096,
        )
    if api == "conviva-sessions":
        epochs = all(v is None or v.strip().isdigit() for v in (args.start, args.end))
        times = (
            {"start_epoch": args.start, "end_epoch": args.end}
            if epochs
            else {"start_date": args.start, "end_date": args.end}
        )
        return q.SessionsQuery(
            endpoint,
            limit=args.limit,
            viewer_id=args.viewer_id,
            viewer_ip=args.viewer_ip,
            days=args.days,
            filter_id=args.filter_id,
            filter=args.filter,
            post_filter=args.post_filter,
            max_limit=args.max_limit or q.SESSIONS_MAX_LIMIT,
            url_limit=args.url_limit or 4096,
            **times,
        )
    if api == "klaviyo":
        if endpoint in ("metrics", "flow-triggers"):
            for option in ("statistic", "timeframe", "interval", "conversion_metric_id", "start"):
                if getattr(args, option) is not None:
                    raise UsageError(f"--{option.replace('_', '-')} is for Klaviyo reports")
            return q.KlaviyoMetricsQuery(
                endpoint, metric_id=args.metric_id, filter=args.filter, post_filter=args.post_filter
            )
        if args.metric_id is not None:
            raise UsageError("--metric-id is for klaviyo flow-triggers")
        return q.KlaviyoReportQuery(
            endpoint,
            statistics=_statistics(args.statistic),
            timeframe=args.timeframe,
            start=args.start,
            end=args.end,
            interval=args.interval,
            conversion_metric_id=args.conversion_metric_id,
            group_by=tuple(args.group_by or ()),
            filter=args.filter,
            post_filter=args.post_filter,
        )
    return q.FlowXOQuery(
        endpoint,
        args.start,
        args.end,
        unit=args.unit,
        offset=args.offset,
        limit=args.limit,
        filter=args.filter,
    )


def _cmd_query(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.client.errors import ClientError, PartialResultError
    from flowql.errors import FlowQLError

    try:
        _check_options(args)
        if args.endpoint in ("data-model", "dimensions"):
            if args.filter is not None:
                raise UsageError(f"{args.endpoint} takes no --filter")
            return _pull(args.endpoint == "dimensions", None, args, out, err)
        query = _build_query(args)
    except UsageError as exc:
        err.write(f"flowql: error: {exc}\n")
        return EXIT_USAGE
    source = args.filter
    try:
        # Check before anything starts (a sandbox, a connection): no request for a bad query.
        plan = query.plan()
        for warning in plan.warnings:
            _render(err, warning, source)
        with _connection(args.api, args.base_url, err) as options:
            options.update(timeout=args.timeout, progress=_progress(err))
            with make_client(args.api, options) as client:
                result = client.query(query)
    except PartialResultError as exc:
        _write(out, exc.result, args.format)
        err.write(exc.render("<query>") + "\n")
        return EXIT_FAILED
    except ClientError as exc:
        err.write(exc.render("<query>") + "\n")
        return EXIT_FAILED
    except FlowQLError as exc:
        err.write(render_query_error(exc, source) + "\n")
        return EXIT_FAILED
    _write(out, result, args.format)
    if result.post_filter is not None:
        err.write(f"flowql: applied here, not by the API: {result.post_filter}\n")
    return EXIT_OK


def _render(err: TextIO, diagnostic: Any, source: str | None) -> None:
    from flowql.diagnostics import render

    err.write(render(diagnostic, source, _where(diagnostic)) + "\n")


def _where(diagnostic: Any) -> str:
    return "<filter>" if diagnostic.span is not None else "<query>"


def render_query_error(error: Any, source: str | None) -> str:
    """A query's diagnostics as ``flowql check`` shows findings: those about the filter with a
    code frame of it (``<filter>:line:column``), the others as about ``<query>``."""
    from flowql.diagnostics import render

    return "\n\n".join(render(d, source, _where(d)) for d in error.diagnostics)


def _write(out: TextIO, result: Result, fmt: str) -> None:
    if fmt == "json":
        out.write(result.to_json() + "\n")
    elif fmt == "csv":
        out.write(result.to_csv())
    else:
        out.write(table(result))


def table(result: Result, *, max_width: int = 40, width: int | None = None) -> str:
    """The records as an aligned text table (cells cut at ``max_width`` characters, floats to 6
    significant digits: the JSON and CSV formats keep every digit), or a line saying there are
    none. With ``width``, lines fit in that many columns (see :func:`records_table`)."""
    from flowql.results import _columns

    records = [
        {k: short_number(v) if isinstance(v, float) else v for k, v in r.items()}
        for r in result.to_records()
    ]
    return records_table(_columns(records), records, max_width=max_width, width=width)


def short_number(value: float) -> str:
    """A float as a table shows it: to 6 significant digits (exports keep every digit)."""
    text = f"{value:.6g}"
    return text if "e" not in text else repr(value)


def records_table(
    columns: list[str],
    records: list[dict[str, object]],
    *,
    max_width: int = 40,
    width: int | None = None,
) -> str:
    """:func:`table` of these records and columns. With ``width``, when the lines are longer,
    cells are cut to 26 characters, and the columns that still do not fit are left out, a last
    column ``…`` saying so."""
    from flowql.results import _cell

    if not records:
        return "(no rows)\n"
    cells = [[_cut(_cell(r.get(c)), max_width) for c in columns] for r in records]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]
    if width is not None:
        columns, cells, widths = _fit(columns, cells, widths, width)
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _fit(
    columns: list[str], cells: list[list[str]], widths: list[int], width: int
) -> tuple[list[str], list[list[str]], list[int]]:
    """Columns, cells and widths cut to fit lines of ``width`` characters (see
    :func:`records_table`): columns are cut to 26 characters, then those that still do not fit
    are left out, a last column ``…`` saying so."""

    def total(ws: list[int]) -> int:
        return sum(ws) + 2 * (len(ws) - 1)

    if total(widths) > width:
        widths = [min(w, 26) for w in widths]
    keep = len(widths)
    if total(widths) > width:  # keep the columns that fit whole, and say there are more
        keep = 0
        while keep < len(widths) and total(widths[: keep + 1]) + 3 <= width:
            keep += 1
        if keep == 0:
            keep, widths = 1, [max(width - 3, 1)]
    fitted = [[_cut(c, w) for c, w in zip(row[:keep], widths, strict=False)] for row in cells]
    heads = [_cut(c, w) for c, w in zip(columns[:keep], widths, strict=False)]
    widths = widths[:keep]
    if keep < len(columns):
        heads.append("\u2026")
        fitted = [[*row, "\u2026"] for row in fitted]
        widths.append(1)
    return heads, fitted, widths


# --- model pull ----------------------------------------------------------------------------------


def _cmd_model_pull(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _pull(args.sessions, args.output, args, out, err)


def _pull(
    sessions: bool, output: str | None, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    import json

    from flowql.client.errors import ClientError

    api = "conviva-sessions" if sessions else "conviva-flow"
    try:
        with _connection(api, args.base_url, err) as options:
            options.update(timeout=args.timeout)
            with make_client(api, options) as client:
                data = client.dimensions_json() if sessions else client.data_model_json()
    except ClientError as exc:
        err.write(exc.render("<model pull>") + "\n")
        return EXIT_FAILED
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        out.write(text)
        return EXIT_OK
    from flowql.cli import _write_file

    try:
        _write_file(output, text)
    except OSError as exc:
        err.write(f"flowql: error: cannot write {output} ({exc.strerror})\n")
        return EXIT_USAGE
    what = "dimension list" if sessions else "data model"
    err.write(f"flowql: saved the {what} to {output}\n")
    return EXIT_OK
