"""The ``flowql query`` and ``flowql model pull`` commands (``flowql model show`` is in
:mod:`flowql.cli.model`).

Both run against the real APIs when credentials are in the environment, and against an
in-process sandbox (:mod:`flowql.sandbox`) otherwise, saying so on stderr. Results go to stdout
(``--format table|json|csv``); diagnostics, warnings and progress (only when stderr is a
terminal) go to stderr. Exit codes: 0 ok, 1 a query or API error (shown like ``flowql check``
shows findings), 2 a usage error.

This module is imported whenever the ``flowql`` parser is built, so it imports nothing heavy
at the top: the clients (and h11) load only when a query runs.
"""

from __future__ import annotations

import argparse
import math
import os

from flowql.connection import connection, make_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import tzinfo
    from typing import Any, TextIO

    from flowql.ast import Span
    from flowql.checker.manifest import Query as ManifestQuery
    from flowql.diagnostics import Diagnostic
    from flowql.results import Result

__all__ = ["add_commands"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Query fields whose command-line option takes a number.
_INTEGERS = ("limit", "max_limit", "days", "offset", "url_limit")
# Fields the command line spells its own way.
_SPECIAL = ("filter", "post_filter", "group_by", "statistics")


def _endpoints_text() -> str:
    from flowql.apis import APIS

    return "; ".join(f"{spec.name}: {', '.join(spec.endpoint_names)}" for spec in APIS.values())


def add_commands(commands: Any, help_texts: dict[str, str]) -> None:
    """Add ``query`` and ``model`` to the ``flowql`` subcommands."""
    from flowql.apis import APIS
    from flowql.query import FIELDS

    credentials = sorted({name for spec in APIS.values() for name in spec.credentials})
    q = commands.add_parser(
        "query",
        help=help_texts["query"],
        description="Run a query: API is "
        + ", ".join(spec.name for spec in APIS.values())
        + "; ENDPOINT one of its endpoints ("
        + _endpoints_text()
        + "). Or run the queries of a manifest: --manifest FILE [--name NAME ...]. The query "
        "is checked before any request; --dry-run prints the requests instead of sending "
        "them. Credentials come from the environment ("
        + ", ".join(credentials)
        + "); without them the query runs against the built-in sandbox. Times are ISO 8601, "
        "epoch seconds or milliseconds, 'now' or relative such as -2h30m; naive times are "
        "read in --tz (default UTC).",
        epilog="Exit codes: 0 ok, 1 query or API error, 2 usage error.",
    )
    q.add_argument("api", metavar="API", nargs="?", help="the API (not with --manifest)")
    q.add_argument("endpoint", metavar="ENDPOINT", nargs="?", help="the API's endpoint")
    q.add_argument("--manifest", metavar="FILE", help="run the queries of this query manifest")
    q.add_argument(
        "--name",
        action="append",
        metavar="NAME",
        help="with --manifest: run this query (repeatable; default: all)",
    )
    q.add_argument("--filter", metavar="TEXT", help=FIELDS["filter"])
    q.add_argument("--post-filter", action="store_true", default=None, help=FIELDS["post_filter"])
    q.add_argument("--group-by", action="append", metavar="KEY", help=FIELDS["group_by"])
    q.add_argument(
        "--statistic",
        "--statistics",
        dest="statistics",
        action="append",
        metavar="NAME",
        help="Klaviyo report statistic (repeatable, or comma-separated)",
    )
    for field, text in FIELDS.items():
        if field in _SPECIAL:
            continue
        flag = "--" + field.replace("_", "-")
        if field in _INTEGERS:
            q.add_argument(flag, type=int, metavar="N", help=text)
        else:
            q.add_argument(flag, metavar=field.split("_")[0].upper(), help=text)
    _add_connection(q)
    q.add_argument(
        "--format",
        metavar="FORMAT",
        help="table (default), json (metadata and records), csv (records), ndjson (a JSON "
        "record a line) or parquet (typed columns; needs -o FILE or a pipe, and pip install "
        "'flowql[parquet]'); with -o, the default is FILE's extension's",
    )
    _add_output(q)
    q.add_argument(
        "--dry-run",
        action="store_true",
        help="check and plan the query, print the requests it would send, send nothing",
    )
    _add_results(q)
    _add_plot(q)
    _add_table(q)
    q.set_defaults(handler=_cmd_query)

    m = commands.add_parser(
        "model",
        help=help_texts["model"],
        description="Data model commands. `flowql model pull` fetches the Conviva flow data "
        "model (or, with --sessions, the Sessions V3 dimension list) and saves it as the JSON "
        "that `flowql check --model` reads; `flowql model show` lists what a model holds.",
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
    from flowql.cli.model import add_show

    add_show(verbs, _add_connection)
    m.set_defaults(handler=_cmd_model_help, model_parser=m)


def _add_plot(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "pictures",
        "Lines for a time series (one per metric), bars for a grouped result, with the "
        "metrics' labels and units.",
    )
    group.add_argument(
        "--plot",
        action="store_true",
        help="draw the result in the terminal, in place of the table",
    )
    group.add_argument(
        "--plot-file",
        metavar="FILE",
        help="write the picture to FILE: .png or .svg (needs matplotlib: pip install "
        "'flowql[plot]') or .html (a self-contained page); never over an existing file "
        "unless --force",
    )
    group.add_argument(
        "--plot-kind",
        default="auto",
        metavar="KIND",
        help="auto (default: lines for a series over time, bars for groups), line or bar",
    )
    group.add_argument(
        "--plot-metric",
        action="append",
        metavar="NAME",
        help="the metric to draw (repeatable, or comma-separated; default: those of the "
        "first metric's unit)",
    )
    group.add_argument(
        "--force", action="store_true", help="with --plot-file or -o: replace the existing FILE"
    )


def _add_table(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "tables",
        "How --format table shows a result. On a terminal, a row too wide for it is shown "
        "expanded (one field a line) and long output goes through $PAGER (default less -FRX).",
    )
    group.add_argument(
        "--columns",
        metavar="A,B,...",
        help="show these columns, in this order (comma-separated, or repeated)",
        action="append",
    )
    group.add_argument(
        "--expanded",
        choices=EXPANDED_CHOICES,
        help="auto (the default on a terminal: expanded when the table does not fit), on "
        "(each record as a block of field | value lines) or off (cut to fit, columns left out)",
    )
    group.add_argument(
        "--no-pager", action="store_true", help="never page (PAGER= empty does the same)"
    )


EXPANDED_CHOICES = ("auto", "on", "off")


def _table_columns(args: argparse.Namespace | None) -> list[str]:
    given = getattr(args, "columns", None) or ()
    return list(dict.fromkeys(c.strip() for v in given for c in v.split(",") if c.strip()))


def _column_problem(args: argparse.Namespace, results: list[tuple[str, Result]]) -> str | None:
    """FQ740 (rendered) for a --columns name a result does not have, or None."""
    wanted = _table_columns(args)
    if not wanted:
        return None
    from flowql.diagnostics import render
    from flowql.display import column_problem

    for _, result in results:
        problem = column_problem(wanted, result.columns())
        if problem is not None:
            return render(problem, None, "<command line>")
    return None


def _table_text(out: TextIO, result: Result, args: argparse.Namespace | None) -> str:
    """The result as ``--format table`` shows it: the chosen columns, headed by --names and
    timed in --tz, fitted or expanded to the terminal's width when stdout is one (or when
    --expanded is given)."""
    from flowql.display import table
    from flowql.terminal import size

    expanded = getattr(args, "expanded", None)
    tty = bool(getattr(out, "isatty", None) and out.isatty())
    width = size()[0] if tty or expanded is not None else None
    mode = expanded or ("auto" if tty else "off")
    return table(
        result,
        width=width,
        expanded=mode,
        columns=_table_columns(args) or None,
        names=getattr(args, "names", None) or "labels",
        zone=_zone(args),
    )


def _plot_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the picture options (the text to show), found before anything is
    fetched, or None."""
    if args.plot and args.format != "table" and getattr(args, "output", None) is None:
        return (
            "flowql: error: --plot draws in place of the table: leave out --format, or "
            "write the picture with --plot-file"
        )
    if args.dry_run and (args.plot or args.plot_file):
        return "flowql: error: a picture is of a result, and --dry-run fetches none"
    if not (args.plot or args.plot_file):
        for flag, given in (
            ("--plot-kind", args.plot_kind != "auto"),
            ("--plot-metric", bool(args.plot_metric)),
            ("--force", args.force and getattr(args, "output", None) is None),
        ):
            if given:
                return f"flowql: error: {flag} goes with --plot or --plot-file"
        return None
    from flowql.diagnostics import render
    from flowql.plot import KINDS, PlotError
    from flowql.plot.chart import plot_error
    from flowql.plot.save import file_type

    try:
        if args.plot_kind not in KINDS:
            from flowql.diagnostics import did_you_mean

            raise plot_error(
                f"'{args.plot_kind}' is not a kind of plot",
                did_you_mean(args.plot_kind, KINDS) or "the kinds are " + ", ".join(KINDS),
            )
        if args.plot_file is not None:
            file_type(args.plot_file)
            if os.path.lexists(os.path.expanduser(args.plot_file)) and not args.force:
                raise plot_error(
                    f"'{args.plot_file}' exists: it was left as it is",
                    "give another name, or replace it with --force",
                )
    except PlotError as exc:
        return render(exc.diagnostic, None, "<command line>")
    return None


def _add_results(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "results", "How results are merged and shown (times in --tz, default UTC)."
    )
    group.add_argument(
        "--bucket",
        metavar="SIZE",
        help="put the result in buckets of SIZE (1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d; days "
        "start at midnight in --tz): Flow real time asks the server (granularity) when it can",
    )
    group.add_argument(
        "--names",
        choices=("labels", "keys"),
        help="head metric columns by their data model labels and units, or by their keys "
        "(default: labels in tables, keys in csv)",
    )


def _bucket_problem(args: argparse.Namespace) -> str | None:
    """The FQ717 diagnostic for a --bucket that does not exist, rendered, or None."""
    if args.bucket is None:
        return None
    from flowql.diagnostics import render
    from flowql.merging import BucketError, bucket_size

    try:
        bucket_size(args.bucket)
    except BucketError as exc:
        return render(exc.diagnostic, None, "<command line>")
    return None


def _tz_problem(args: argparse.Namespace) -> str | None:
    """The FQ702 diagnostic for a --tz flowql cannot read, rendered, or None (a finding on the
    query, as the queries that read times in it give)."""
    if args.tz is None:
        return None
    from flowql.diagnostics import Diagnostic, render
    from flowql.times import TimeError, parse_tz

    try:
        parse_tz(args.tz)
    except TimeError as exc:
        return render(Diagnostic("FQ702", exc.message, None, hint=exc.hint), None, "<command line>")
    return None


def _plot_metrics(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(m.strip() for v in args.plot_metric or () for m in v.split(",") if m.strip())


def _plot(out: TextIO, err: TextIO, result: Result, args: argparse.Namespace) -> bool:
    """Draw ``result`` in the terminal (``--plot``) and write its picture (``--plot-file``);
    False, after saying why on ``err``, when it cannot be drawn as asked."""
    import shutil

    from flowql.diagnostics import render
    from flowql.plot import PlotError, chart_of, save, text_chart

    try:
        chart = chart_of(result, kind=args.plot_kind, metrics=_plot_metrics(args))
        if args.plot:
            size = shutil.get_terminal_size((80, 24))
            out.write(text_chart(chart, width=size.columns, height=min(16, size.lines - 10)))
        if args.plot_file is not None:
            err.write("flowql: " + save(chart, args.plot_file, force=args.force) + "\n")
    except PlotError as exc:
        err.write(render(exc.diagnostic, None, "<plot>") + "\n")
        return False
    return True


def _add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the API's base URL (credentials must then be in the environment)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="seconds each request may take, in all (30)",
    )


def _seconds(value: str) -> float:
    """An argparse type: a finite number of seconds above 0."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < math.inf:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {value!r}")
    return seconds


def _cmd_model_help(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    args.model_parser.print_help(err)
    return EXIT_USAGE


# --- running -------------------------------------------------------------------------------------


def _progress(
    err: TextIO, clock: Callable[[], float] | None = None
) -> Callable[[int, int], None] | None:
    """What shows the windows of a long fetch arriving, on ``err`` when it is a terminal (else
    None: nothing is written into a pipe or a file): how many of how many, and once one has
    arrived, about how long the rest will take (at the pace so far); the last line says how
    long the whole took. ``clock`` is the time in seconds (``time.monotonic``)."""
    isatty = getattr(err, "isatty", None)
    if not (isatty and isatty()):
        return None
    if clock is None:
        import time

        clock = time.monotonic
    now = clock
    started = now()

    def show(done: int, total: int) -> None:
        elapsed = max(now() - started, 0.0)
        line = f"flowql: fetched {done} of {total} windows"
        if done == total:
            line += f" in {_seconds_text(elapsed)}"
        elif done > 0:
            line += f", about {_seconds_text(elapsed / done * (total - done))} left"
        # \x1b[K clears what a longer line before left on the terminal's line.
        err.write(f"\r{line}\x1b[K")
        if done == total:
            err.write("\n")
        err.flush()

    return show


def _seconds_text(seconds: float) -> str:
    """A duration for a person: ``0.4s``, ``12s``, ``3m05s``, ``1h02m``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def query_fields(args: argparse.Namespace) -> dict[str, object]:
    """The query fields the command line gave (only those given), named as
    :data:`flowql.query.FIELDS` names them."""
    from flowql.query import FIELDS

    fields: dict[str, object] = {}
    for field in FIELDS:
        value = getattr(args, field, None)
        if value is None or value is False:
            continue
        if field == "statistics":
            value = tuple(s.strip() for v in value for s in v.split(",") if s.strip())
        elif field == "group_by":
            value = tuple(value)
        fields[field] = value
    return fields


def _usage(args: argparse.Namespace) -> str | None:
    """What is wrong with how the command line names the queries, if anything."""
    if args.manifest is not None:
        if args.api is not None:
            return "give API ENDPOINT or --manifest FILE, not both"
        given = [f for f in query_fields(args) if f != "tz"]
        if given:
            flags = ", ".join("--" + f.replace("_", "-") for f in given)
            return f"{flags}: with --manifest, the query fields come from the manifest"
        return None
    if args.name:
        return "--name picks queries of a manifest: give --manifest FILE too"
    if args.api is None or args.endpoint is None:
        return (
            "give an API and an endpoint (flowql query conviva-flow historical ...), or "
            "--manifest FILE"
        )
    return None


class Origin:
    """Where a query was written, to show its diagnostics there: on the command line (each
    option's value marked, ``<command line>:1:40``), or in a manifest (at the field's value;
    the filter's own diagnostics at their place in the filter string)."""

    def __init__(
        self,
        name: str,
        text: str | None,
        spans: Mapping[str, Span],
        filter_text: str | None,
        entry: ManifestQuery | None = None,
    ) -> None:
        self.name = name
        self.text = text
        self.spans = dict(spans)
        self.filter_text = filter_text
        self.entry = entry

    def render(self, diagnostic: Diagnostic) -> str:
        from flowql.diagnostics import render

        if self.entry is not None:  # a manifest's query: placed in the manifest's text
            return render(self.entry.place(diagnostic, self.spans), self.text, self.name)
        span = diagnostic.span
        if span is not None and any(span == s for s in self.spans.values()):
            return render(diagnostic, self.text, self.name)
        if span is not None:
            return render(diagnostic, self.filter_text, "<filter>")
        return render(diagnostic, None, "<query>")

    def render_all(self, diagnostics: Iterable[Diagnostic]) -> str:
        return "\n\n".join(self.render(d) for d in diagnostics)


# Options whose flag is not the field's name in kebab-case.
_FLAGS = {"--statistic": "statistics", "--statistics": "statistics"}


def command_line(argv: Sequence[str]) -> tuple[str, dict[str, Span]]:
    """The command line as a user would have typed it (``flowql query ...``, shell-quoted),
    and the span of each query field's option in it (``--start=-7d``, or ``--flow 825``)."""
    import shlex

    from flowql.ast import Span
    from flowql.query import FIELDS

    words = ["flowql", *argv]
    text = shlex.join(words)
    offsets = []
    at = 0
    for word in words:
        quoted = shlex.quote(word)
        offsets.append((at, at + len(quoted)))
        at += len(quoted) + 1
    spans: dict[str, Span] = {}
    # The API and the endpoint: the first two words after `query` that are not options (no
    # option of `flowql query` is given as two words before them but those of query fields).
    positional = [
        i
        for i, w in enumerate(words)
        if i > 1 and not w.startswith("-") and not words[i - 1].startswith("--")
    ]
    for name, index in zip(("api", "endpoint"), positional, strict=False):
        spans[name] = Span.from_offsets(text, *offsets[index])
    for index, word in enumerate(words):
        if not word.startswith("--"):
            continue
        flag, _, value = word.partition("=")
        field = _FLAGS.get(flag, flag[2:].replace("-", "_"))
        if field not in FIELDS:
            continue
        start, end = offsets[index]
        if not value and index + 1 < len(words) and field != "post_filter":
            end = offsets[index + 1][1]
        spans[field] = Span.from_offsets(text, start, end)
    return text, spans


def _planned(args: argparse.Namespace, err: TextIO) -> tuple[list[tuple[str, Any, Origin]], int]:
    """The queries to run, each as (label, query value, where it was written), or the exit
    code of what stopped them (after saying why on ``err``)."""
    from flowql.query import QueryError, build_query

    if args.manifest is None:
        from flowql.apis import api_spec

        fields = query_fields(args)
        found = api_spec(args.api).endpoint(args.endpoint)
        if "tz" in fields and found is not None and "tz" not in found.fields:
            del fields["tz"]  # no times to read: --tz is only the zone results are shown in
        argv = getattr(args, "argv", None)
        text, spans = command_line(argv) if argv is not None else (None, {})
        origin = Origin("<command line>", text, spans, args.filter)
        if args.api == "klaviyo" and "revision" not in fields:
            from flowql.checker.config import resolve_config

            # The configuration's revision ([tool.flowql] klaviyo-revision), as for manifests.
            revision = resolve_config(getattr(args, "config", None), os.getcwd()).klaviyo_revision
            if revision is not None:
                fields["revision"] = revision
        try:
            query = build_query(args.api, args.endpoint, fields, spans=spans)
        except QueryError as exc:
            err.write(origin.render_all(exc.diagnostics) + "\n")
            return [], EXIT_USAGE
        return [("<query>", query, origin)], EXIT_OK
    from flowql.checker.manifest import ManifestError, load_manifest

    try:
        entries = load_manifest(args.manifest)
    except ManifestError as exc:
        err.write(exc.render(args.manifest) + "\n")
        return [], EXIT_USAGE
    wanted = list(args.name or [])
    known = [e.name for e in entries]
    for name in wanted:
        if name not in known:
            from flowql.diagnostics import did_you_mean

            hint = did_you_mean(name, known) or "its queries are " + ", ".join(known)
            err.write(f"flowql: error: {args.manifest} has no query '{name}' ({hint})\n")
            return [], EXIT_USAGE
    # A table without an endpoint is a filter kept for checking, not a query to run.
    runnable = [e for e in entries if e.endpoint is not None]
    for name in wanted:
        if name not in {e.name for e in runnable}:
            err.write(
                f"flowql: error: {args.manifest}: query '{name}' names no endpoint: it is a "
                "filter kept for `flowql check`, not a query to run (add endpoint = ...)\n"
            )
            return [], EXIT_USAGE
    chosen = [e for e in runnable if not wanted or e.name in wanted]
    if not chosen:
        err.write(
            f"flowql: error: {args.manifest} has no query to run: a [[query]] table runs when it "
            "names an endpoint\n"
        )
        return [], EXIT_USAGE
    from flowql.checker.config import resolve_config

    config = resolve_config(getattr(args, "config", None), os.getcwd())
    out: list[tuple[str, Any, Origin]] = []
    failed = False
    for entry in chosen:
        label = f"{args.manifest}:{entry.name}"
        origin = Origin(args.manifest, entry.source, entry.field_spans(), entry.filter, entry)
        if entry.diagnostics:
            err.write(origin.render_all(entry.diagnostics) + "\n\n")
            failed = True
            continue
        try:
            # The configuration's defaults, as `flowql check` reads the manifest.
            query = entry.to_query(
                tz=args.tz,
                default_target=config.target,
                default_flow=config.flow,
                default_revision=config.klaviyo_revision,
            )
        except QueryError as exc:
            err.write(origin.render_all(exc.diagnostics) + "\n\n")
            failed = True
            continue
        out.append((label, query, origin))
    return out, EXIT_FAILED if failed else EXIT_OK


def _cmd_query(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.extras import require_extra

    require_extra("client", "Queries")
    from flowql.apis import api_spec
    from flowql.client.errors import ClientError, PartialResultError
    from flowql.errors import FlowQLError

    problem = _usage(args)
    if problem is not None:
        err.write(f"flowql: error: {problem}\n")
        return EXIT_USAGE
    if args.manifest is None:
        from flowql.apis import UnknownApiError

        try:
            spec = api_spec(args.api)
        except UnknownApiError as exc:
            err.write(f"flowql: error: {exc} ({exc.hint})\n")
            return EXIT_USAGE
        found = spec.endpoint(args.endpoint)
        if found is not None and found.pull:
            if query_fields(args):
                err.write(f"flowql: error: {args.endpoint} takes no query fields\n")
                return EXIT_USAGE
            if args.output is not None:
                # As every -o of flowql query: never over a file unless --force (FQ807).
                from flowql.diagnostics import render
                from flowql.exports import OutputError, check_output

                try:
                    check_output(args.output, force=args.force)
                except OutputError as exc:
                    err.write(render(exc.diagnostic, None, "<command line>") + "\n")
                    return EXIT_USAGE
            return _pull(args.endpoint == "dimensions", args.output, args, out, err)
    problem = _output_problem(args)
    if problem is not None:
        err.write(problem + "\n")
        return EXIT_USAGE
    problem = _plot_problem(args) or _bucket_problem(args)
    if problem is not None:
        err.write(problem + "\n")
        return EXIT_USAGE
    problem = _tz_problem(args)
    if problem is not None:
        err.write(problem + "\n")
        return EXIT_FAILED
    queries, status = _planned(args, err)
    if status == EXIT_USAGE:
        return status
    if args.plot_file is not None and len(queries) > 1:
        err.write(
            "flowql: error: --plot-file writes one picture, and the manifest runs "
            f"{len(queries)} queries: pick one with --name\n"
        )
        return EXIT_USAGE
    import contextlib

    results: list[tuple[str, Result]] = []
    clients: dict[str, Any] = {}
    sandboxes: list[Any] = []
    with contextlib.ExitStack() as stack:

        def sandbox() -> Any:
            # At most one sandbox for the whole command, whatever APIs it queries.
            if not sandboxes:
                from flowql.sandbox import Sandbox

                sandboxes.append(stack.enter_context(Sandbox(seed=0)))
            return sandboxes[0]

        def client_for(api: str) -> Any:
            # One connection per API for the whole command.
            if api not in clients:
                options = stack.enter_context(connection(api, args.base_url, err, sandbox))
                options.update(timeout=args.timeout, progress=_progress(err))
                clients[api] = stack.enter_context(make_client(api, options))
            return clients[api]

        for label, query, origin in queries:
            server = False
            if args.bucket is not None:
                from flowql.merging import bucket_query, bucket_result

                query, server = bucket_query(query, args.bucket)
            try:
                # Planned once, before anything starts (a sandbox, a connection): no request
                # for a bad query, and what --dry-run prints is what is sent.
                plan = query.plan(spans=origin.spans)
                for warning in plan.warnings:
                    err.write(origin.render(warning) + "\n")
                api = str(query.api)
                if args.dry_run:
                    from flowql.connection import describing_client

                    with describing_client(api, args.base_url) as describer:
                        _write_requests(out, describer, plan, args.format, label, api)
                    continue
                result = client_for(api).query(plan)
                if args.bucket is not None:
                    result = bucket_result(result, args.bucket, tz=args.tz, server=server)
            except PartialResultError as exc:
                results.append((label, exc.result))
                err.write(exc.render(label) + "\n")
                status = EXIT_FAILED
                continue
            except ClientError as exc:
                err.write(exc.render(label) + "\n")
                status = EXIT_FAILED
                continue
            except FlowQLError as exc:
                err.write(origin.render_all(exc.diagnostics) + "\n")
                if args.manifest is not None:
                    err.write("\n")
                status = EXIT_FAILED
                continue
            results.append((label, result))
            for warning in result.warnings[len(plan.warnings) :]:
                err.write(origin.render(warning) + "\n")
            if result.post_filter is not None:
                err.write(f"flowql: applied here, not by the API: {result.post_filter}\n")
            if args.bucket is not None:
                from flowql.merging import partial_note

                note = partial_note(result, _zone(args))
                if note is not None:
                    err.write(f"flowql: {note}\n")
    problem = _column_problem(args, results) if args.format == "table" else None
    if problem is not None:
        err.write(problem + "\n")
        return EXIT_USAGE
    exporting = args.output is not None or args.format in ("ndjson", "parquet")
    if exporting and not _export(out, err, results, args):
        status = EXIT_FAILED
    if args.plot:
        for label, result in results:
            if args.manifest is not None:
                out.write(f"# {label}\n")
            if not _plot(out, err, result, args):
                status = EXIT_FAILED
        return status
    if exporting:
        pass  # written above, to -o FILE or stdout
    elif args.manifest is None:
        for _, result in results:
            _write(out, result, args.format, args)
    else:
        _write_many(out, results, args.format, args)
    if args.plot_file is not None and results and not _plot(out, err, results[0][1], args):
        status = EXIT_FAILED
    return status


# --- output: --format and -o ---------------------------------------------------------------------


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the result to FILE instead of stdout (atomically; never over an existing "
        "file unless --force)",
    )


def _output_problem(args: argparse.Namespace) -> str | None:
    """Resolve ``--format`` (from ``-o FILE``'s extension when not given) and say what is wrong
    with the output options before anything is fetched (FQ807, FQ806), or None."""
    from flowql.diagnostics import Diagnostic, render
    from flowql.errors import FlowQLError
    from flowql.exports import check_output, format_of, parse_format, require_format

    output = args.output
    try:
        if args.format is None:
            args.format = (format_of(output) if output is not None else None) or "table"
        args.format = parse_format(args.format)
        if args.dry_run:
            if output is not None or args.format not in ("table", "json"):
                return (
                    "flowql: error: --dry-run prints the requests, as text or --format json; "
                    "it writes no file and no " + str(args.format)
                )
            return None
        if output is not None:
            check_output(output, force=args.force)
        elif args.format == "parquet":
            isatty = getattr(args, "stdout_isatty", None)
            if isatty is None:
                import sys

                isatty = sys.stdout.isatty()
            if isatty:
                from flowql.exports import OutputError

                raise OutputError(
                    Diagnostic(
                        "FQ807",
                        "Parquet is binary and is not written to a terminal",
                        None,
                        hint="write it to a file with -o FILE.parquet, or pipe it",
                    )
                )
        require_format(args.format)
    except FlowQLError as exc:
        return render(exc.diagnostic, None, "<command line>")
    return None


def _export(out: TextIO, err: TextIO, results: list[tuple[str, Result]], args: Any) -> bool:
    """Write the results in ``--format`` to ``-o FILE`` or stdout; False, after saying why on
    ``err``, when that fails."""
    from flowql.diagnostics import render
    from flowql.errors import FlowQLError
    from flowql.exports import render as render_one
    from flowql.exports import render_many, to_stream, write_file

    try:
        if args.format in ("table", "csv", "json"):
            import io

            # What stdout would show, with --names and --tz, into the file.
            buffer = io.StringIO()
            if args.manifest is None:
                for _, result in results:
                    _write(buffer, result, args.format, args)
            else:
                _write_many(buffer, results, args.format, args)
            data: str | bytes = buffer.getvalue()
        elif args.manifest is None:
            if not results:
                return True
            data = render_one(results[0][1], args.format)
        else:
            data = render_many([(label.rsplit(":", 1)[-1], r) for label, r in results], args.format)
        if args.output is None:
            to_stream(out, data)
            return True
        size = write_file(args.output, data, force=args.force)
    except FlowQLError as exc:
        err.write(render(exc.diagnostic, None, "<output>") + "\n")
        return False
    rows = sum(len(r) for _, r in results)
    err.write(
        f"flowql: wrote {rows} row{'' if rows == 1 else 's'} to {args.output} "
        f"({args.format}, {size} bytes)\n"
    )
    return True


def _zone(args: argparse.Namespace | None) -> tzinfo | None:
    """The zone results show their times in: --tz (checked before anything is fetched), else
    None (UTC)."""
    tz = getattr(args, "tz", None)
    if not tz:
        return None
    from flowql.times import parse_tz

    return parse_tz(tz)


def _write_many(
    out: TextIO, results: list[tuple[str, Result]], fmt: str, args: argparse.Namespace | None
) -> None:
    """The results of a manifest's queries as one document: a JSON list of each query's result
    (with its ``query`` name), one CSV whose first column names the query, or a table each."""
    import json

    def name_of(label: str) -> str:
        return label.rsplit(":", 1)[-1]

    if fmt == "json":
        documents = [{"query": name_of(label), **json.loads(r.to_json())} for label, r in results]
        out.write(json.dumps(documents, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        from flowql.results import records_csv

        rows = [
            {"query": name_of(label), **record} for label, r in results for record in r.to_records()
        ]
        headings: dict[str, str] = {}
        for _, r in results:
            headings.update(r.headings(getattr(args, "names", None) or "keys"))
        text = records_csv(rows, headings=headings, zone=_zone(args))
        out.write(text if rows else "query\n")
    else:
        # One text, paged once: a table each, under its query's name, as wide as `out` allows.
        text = "".join(
            f"# {label}\n{_table_text(out, result, args)}\n" for label, result in results
        )
        from flowql.terminal import page

        page(text, out, enabled=args is not None and not getattr(args, "no_pager", False))


def _write_requests(out: TextIO, client: Any, plan: Any, fmt: str, label: str, api: str) -> None:
    from flowql.connection import has_credentials

    described = [client.describe(r) for r in plan.requests]
    if fmt == "json":
        import json

        out.write(json.dumps([d.to_dict() for d in described], indent=2, ensure_ascii=False))
        out.write("\n")
        return
    if not has_credentials(api):
        out.write(f"# {label}: no credentials: a run sends these to the built-in sandbox\n")
    for number, request in enumerate(described, 1):
        if len(described) > 1:
            out.write(f"# request {number} of {len(described)}\n")
        out.write(request.render() + "\n\n")


def _write(out: TextIO, result: Result, fmt: str, args: argparse.Namespace | None) -> None:
    if fmt == "json":
        out.write(result.to_json() + "\n")
    elif fmt == "csv":
        out.write(result.to_csv(names=getattr(args, "names", None) or "keys", zone=_zone(args)))
    else:
        from flowql.terminal import page

        text = _table_text(out, result, args)
        page(text, out, enabled=not getattr(args, "no_pager", False))


# --- model pull ----------------------------------------------------------------------------------


def _cmd_model_pull(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.extras import require_extra

    require_extra("client", "Pulling a data model")
    return _pull(args.sessions, args.output, args, out, err)


def _pull(
    sessions: bool, output: str | None, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    import json

    from flowql.client.errors import ClientError

    api = "conviva-sessions" if sessions else "conviva-flow"
    if output is not None:
        import os

        directory = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(directory):
            # Said before anything is fetched, with the fix.
            err.write(
                f"flowql: error: cannot write {output}: the directory "
                f"{os.path.dirname(output) or '.'} does not exist "
                f"(create it first: mkdir -p {os.path.dirname(output)})\n"
            )
            return EXIT_USAGE
    try:
        with connection(api, args.base_url, err) as options:
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
    from flowql.files import write_atomic

    try:
        write_atomic(output, text, replace=True)
    except OSError as exc:
        err.write(f"flowql: error: cannot write {output} ({exc.strerror})\n")
        return EXIT_USAGE
    what = "dimension list" if sessions else "data model"
    err.write(f"flowql: saved the {what} to {output}\n")
    return EXIT_OK
