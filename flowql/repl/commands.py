"""The REPL's commands (``:target``, ``:show``, ...), and what submitting a filter prints.

:func:`execute` runs one command line against a :class:`~flowql.repl.session.Session` and
returns its output as text; :func:`submit` checks and compiles a filter. Both are plain
Python, shared by the interactive application and by scripts (``flowql repl < script``).
Errors are :class:`~flowql.errors.FlowQLError` values: :class:`~flowql.repl.session.
CommandError` for the command itself, or the error of the part that refused (an unknown
target, a data model that cannot be read, a filter that does not parse).

A command is a :class:`Command` in :data:`COMMANDS`; adding one is one handler and one entry
there, and it appears in ``:help`` and in completion by itself. ``:run`` and ``:export`` run the
query and save its result through :mod:`flowql.repl.run`.
"""

from __future__ import annotations

import os
import re

from flowql.apis import Api
from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError
from flowql.repl.errors import command_error
from flowql.repl.session import CommandError, Session, api_of, compiled_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from flowql.model import Dimension, FlowModel
    from flowql.repl.session import Check

__all__ = [
    "COMMANDS",
    "Command",
    "Completions",
    "Outcome",
    "arguments",
    "execute",
    "help_text",
    "submit",
]


class Outcome:
    """What a command or a submitted filter printed (``text``; ``warnings`` to show as
    diagnostics, with positions in ``source``; ``notes``, messages about the session rather than
    output, such as where results come from, shown before the text and on standard error in a
    script), whether the REPL should end (``quit``), and whether the command failed although
    it printed something (``failed``: a run that got only some of its windows; a script stops
    there)."""

    __slots__ = ("failed", "notes", "quit", "source", "text", "warnings")

    def __init__(
        self,
        text: str = "",
        *,
        quit: bool = False,
        warnings: Sequence[Diagnostic] = (),
        source: str | None = None,
        notes: Sequence[str] = (),
        failed: bool = False,
    ) -> None:
        self.text = text
        self.quit = quit
        self.warnings = list(warnings)
        self.source = source
        self.notes = list(notes)
        self.failed = failed


class Command:
    """A REPL command: its name, how to call it, a one-line summary, more help, and the handler
    that runs it (``handler(session, args) -> Outcome``)."""

    __slots__ = ("aliases", "handler", "help", "name", "summary", "usage")

    def __init__(
        self,
        name: str,
        usage: str,
        summary: str,
        help: str,
        handler: Callable[[Session, str], Outcome],
        aliases: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.usage = usage
        self.summary = summary
        self.help = help
        self.handler = handler
        self.aliases = aliases


# --- handlers ---------------------------------------------------------------------------------


def _none(args: str) -> bool:
    return args.lower() in ("none", "-", "off")


def _target(session: Session, args: str) -> Outcome:
    from flowql.targets import targets

    if args:
        session.set_target(args)
        return Outcome(f"target {session.target} ({_model_line(session)})")
    width = max(len(t.name) for t in targets())
    lines = [
        f"{'*' if t.name == session.target else ' '} {t.name:<{width}}  {t.description}"
        for t in targets()
    ]
    return Outcome("\n".join(lines))


def _model_line(session: Session) -> str:
    model = session.model()
    return f"{model.name}, {len(model.dimensions())} keys"


def _model(session: Session, args: str) -> Outcome:
    if "\0" in args:
        raise command_error(
            "a file name cannot hold a NUL character", "type the path of a JSON data model file"
        )
    if args:
        loaded = session.load_model(None if args == "demo" else args)
        lines = [f"model {loaded.name} ({loaded.kind}, {len(loaded.dimensions())} keys)"]
        if loaded.kind != session.model().kind:
            lines.append(
                f"  it is for the {loaded.kind} API; the {session.target} target keeps "
                f"the {session.model().name}"
            )
        return Outcome("\n".join(lines))
    model = session.model()
    kind = "records" if session.over_results else model.kind
    lines = [f"model {model.name} ({kind}, {len(model.dimensions())} keys)"]
    lines.extend(f"  flow {f.id:>5}  {f.label}" for f in model.flows.values())
    return Outcome("\n".join(lines))


def _flow(session: Session, args: str) -> Outcome:
    if args:
        session.set_flow(None if _none(args) else args)
    flow = session.active_flow()
    model = session.model()
    if flow is None:
        listed = ", ".join(f"{f.id} ({f.label})" for f in model.flows.values())
        if session.flow is not None:
            return Outcome(f"flow {session.flow} (not used by the {session.target} target)")
        return Outcome("no flow: keys of every flow" + (f"; flows: {listed}" if listed else ""))
    found = model.flow(flow)
    assert found is not None
    import textwrap

    lines = [f"flow {flow} {found.label} ({len(found.dimensions)} keys)"]
    lines += textwrap.wrap(
        ", ".join(found.dimensions),
        94,
        initial_indent="  ",
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines.append(f"  :keys shows their labels, :metrics the flow's {len(found.metrics)} metrics")
    return Outcome("\n".join(lines))


def _flow_of(session: Session, args: str) -> FlowModel | None:
    """The flow ``args`` names (by id or a word of its label), else the session's, else None.
    Raises :class:`CommandError` (FQ103) for a flow the model lacks."""
    from flowql.model_view import ViewError, find_flow

    model = session.model()
    if not args:
        flow = session.active_flow()
        return model.flow(flow) if flow is not None else None
    if model.kind != Api.CONVIVA_FLOW or not model.flows:
        raise command_error(
            f"the {model.name} has no flows",
            "flows are for the conviva-flow target: :target conviva-flow",
            code="FQ103",
        )
    try:
        return find_flow(model, args)
    except ViewError as exc:
        raise CommandError(exc.diagnostics) from None


def _keys(session: Session, args: str) -> Outcome:
    from flowql.display import records_table
    from flowql.model_view import dimension_records

    model = session.model()
    flow = _flow_of(session, args)
    if flow is not None:
        columns, records = dimension_records(flow.dimensions)
        heading = f"flow {flow.id} {flow.label}: {_count(len(records), 'key')}"
    else:
        keys = session.keys()
        flows = None
        if model.kind == Api.CONVIVA_FLOW and model.flows:
            flows = {key: [f.id for f in model.flows_with(key)] for key in keys}
        columns, records = dimension_records(keys, flows)
        every = " of every flow" if flows is not None else ""
        heading = f"{model.name}: {_count(len(records), 'key')}{every}"
    lines = [heading, records_table(columns, records, width=session.width).rstrip("\n")]
    if model.custom_tag_prefix:
        lines.append(f"and any custom tag, as {model.custom_tag_prefix}<name>")
    return Outcome("\n".join(lines))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _metrics(session: Session, args: str) -> Outcome:
    from flowql.display import records_table
    from flowql.model_view import metric_records

    model = session.model()
    if model.kind != Api.CONVIVA_FLOW or not model.flows:
        report = _report(session)
        hint = (
            f"a {report} report's statistics are its numbers: :statistics and Tab lists them"
            if report is not None
            else "metrics are the Flow API's: :target conviva-flow"
        )
        raise command_error(f"the {model.name} has no metrics", hint)
    flow = _flow_of(session, args)
    if flow is not None:
        columns, records = metric_records([flow])
        heading = f"flow {flow.id} {flow.label}: {_count(len(records), 'metric')}"
    else:
        columns, records = metric_records(model.flows.values(), flow_column=True)
        heading = f"{model.name}: {_count(len(records), 'metric')} of every flow"
    table = records_table(columns, records, width=session.width).rstrip("\n")
    return Outcome(f"{heading}\n{table}")


def _range(session: Session, args: str) -> Outcome:
    if args:
        parts = args.split()
        if len(parts) != 2:
            raise CommandError(_usage("range"))
        session.set_range(parts[0], parts[1])
    return Outcome(f"time {session.time_range}")


def _load(session: Session, args: str) -> Outcome:
    import shlex

    try:
        parts = shlex.split(args)
    except ValueError:
        parts = []
    if not 1 <= len(parts) <= 2:
        raise CommandError(_usage("load"))
    name = session.load_query(parts[0], parts[1] if len(parts) == 2 else None)
    lines = [f"loaded {name}: target {session.target}, time {session.time_range}"]
    if session.filter:
        lines.append(f"filter {session.filter.strip()}")
        lines.append(":show prints its request, :run sends it")
    else:
        lines.append("it has no filter: type one, then :show prints its request and :run sends it")
    return Outcome("\n".join(lines))


def _tz(session: Session, args: str) -> Outcome:
    if args:
        session.set_tz(None if _none(args) else args)
    return Outcome(f"tz {session.tz or 'UTC'}")


def _bucket(session: Session, args: str) -> Outcome:
    if args:
        session.set_bucket(None if _none(args) else args)
    return Outcome(f"bucket {session.bucket}" if session.bucket else "no buckets: as fetched")


def _names(session: Session, args: str) -> Outcome:
    if args:
        session.set_names(args.strip().lower())
    return Outcome(f"names {session.names}")


def _last(session: Session, args: str) -> Outcome:
    if args:
        session.set_last(args)
    return Outcome(f"time {session.time_range}")


def _group_by(session: Session, args: str) -> Outcome:
    if args:
        session.set_group_by(None if _none(args) else args)
    if session.group_by is None:
        return Outcome("no grouping")
    note = "" if session.api == Api.CONVIVA_FLOW else " (used by the conviva-flow target only)"
    return Outcome(f"group by {session.group_by}{note}")


def _limit(session: Session, args: str) -> Outcome:
    if args:
        session.set_limit(None if _none(args) else args)
    return Outcome(f"limit {session.limit}" if session.limit is not None else "no limit")


def _show(session: Session, args: str) -> Outcome:
    query = session.current_query(args or None)
    lines = [f"target   {query.target}"]
    if query.flow is not None:
        found = query.model.flow(query.flow)
        lines.append(f"flow     {query.flow} {found.label if found else ''}".rstrip())
    lines.append(f"time     {query.time_range}")
    if query.windows > 1:
        size = "3 hours" if query.api == Api.CONVIVA_SESSIONS else "1 hour"
        lines.append(f"windows  {query.windows} requests of at most {size}; the first is shown")
    if query.group_by is not None and query.api == Api.CONVIVA_FLOW:
        lines.append(f"group by {query.group_by}")
    if query.limit is not None and query.api == Api.CONVIVA_SESSIONS:
        lines.append(f"limit    {query.limit}")
    output = "params" if query.compiled.params is not None else "filter"
    lines.append(f"{output:<8} {compiled_text(query.compiled)}")
    if query.endpoint is not None:
        lines.append(f"endpoint {query.api} {query.endpoint}")
    warnings = list(query.compiled.warnings)
    plan = query.plan
    if plan is not None:
        # Exactly the first request :run sends (the same plan), credentials redacted.
        api = str(plan.query.api)
        described = session.runner().describe(api, plan.requests[0])
        lines.append("request")
        lines.extend("  " + line if line else "" for line in described.splitlines())
        if api in (Api.CONVIVA_FLOW, Api.CONVIVA_SESSIONS):
            from flowql.apis import api_spec

            base = api_spec(api).base_url
            length = max(len(base + r.path) for r in plan.requests)
            share = length * 100 // session.url_limit
            lines.append(f"URL      {length:,} of {session.url_limit:,} characters ({share}%)")
    elif query.problem is not None:
        first = query.problem.diagnostics[0]
        hint = f" ({first.hint})" if first.hint else ""
        lines.append(f"not sendable yet: {first.code} {first.message}{hint}")
    return Outcome("\n".join(lines), warnings=warnings, source=query.text)


def _explain(session: Session, args: str) -> Outcome:
    from flowql.ast import dump
    from flowql.errors import FlowQLError
    from flowql.formatter import format
    from flowql.syntax import parse
    from flowql.targets import targets

    text = args or session.filter
    if not text:
        raise CommandError(_no_filter())
    expr = parse(text)
    lines = ["tree", *("  " + line for line in dump(expr).splitlines())]
    lines.append(f"canonical  {format(expr)}")
    width = max(len(t.name) for t in targets())
    for target in targets():
        try:
            shown = compiled_text(session.compile_for(target, expr))
        except FlowQLError as exc:
            first = exc.diagnostics[0]
            where = f" at {first.line}:{first.column}" if first.span else ""
            more = f" (+{len(exc.diagnostics) - 1} more)" if len(exc.diagnostics) > 1 else ""
            # The message up to its explanation: `:show` under that target tells the rest.
            shown = f"refused: {first.code}{where} {first.message.split(': ', 1)[0]}{more}"
        lines.append(f"{target.name:<{width}}  {shown}")
    return Outcome("\n".join(lines))


MAX_FIX_ROUNDS = 10
"""Rounds of :fix: each checks the text again, as flowql check --fix does."""


def _fix(session: Session, args: str) -> Outcome:
    from flowql.fixes import apply_fixes

    unsafe = args == "--unsafe" or args.startswith("--unsafe ")
    text = args.removeprefix("--unsafe").strip() if unsafe else args
    source = text or session.typed or session.filter
    if not source:
        raise CommandError(_no_filter())
    fixed, made = source, 0
    for _ in range(MAX_FIX_ROUNDS):
        found = session.check(fixed).diagnostics
        fixes = [d.fix for d in found if d.fix is not None and (unsafe or d.fix.safe)]
        if not fixes:
            break
        repaired, count = apply_fixes(fixed, fixes)
        if repaired == fixed:
            break
        fixed, made = repaired, made + count
    if not made:
        hidden = sum(1 for d in session.check(source).diagnostics if d.fix is not None)
        more = f" ({hidden} unsafe: :fix --unsafe)" if hidden and not unsafe else ""
        return Outcome(f"nothing to fix{more}")
    check, outcome = submit(session, fixed)
    note = f"{made} fix{'es' if made > 1 else ''} made: {fixed}"
    if outcome is None:  # errors no fix repairs: shown as the check shows them
        return Outcome(note, warnings=check.diagnostics, source=fixed, failed=True)
    return Outcome(outcome.text, warnings=outcome.warnings, source=fixed, notes=[note])


def _statistics_line(session: Session) -> str:
    return ", ".join(session.statistics) if session.statistics else "none set, see :statistics"


def _conversion_line(session: Session) -> str:
    metric = session.conversion
    if metric is None:
        return "none set, see :conversion"
    name = session.metrics.get(metric)
    return f"{metric} ({name})" if name else metric


def _run(session: Session, args: str) -> Outcome:
    from flowql.repl.run import render

    warnings: list[Diagnostic] = []
    if args:
        check = session.check(args)
        if not check.ok:
            raise FlowQLError(check.diagnostics, args)
        assert check.expr is not None
        session.filter = args
        session.remember_filter(check.expr)
        warnings = check.diagnostics
    run = session.runner().run(session)
    # What the fetch itself found (a range clamped at the retention edge, FQ716; values not
    # merged across windows or buckets, FQ719).
    if run.scanned is None:  # a python-target run filters rows fetched (and warned of) before
        warnings = [*warnings, *(w for w in run.result.warnings if w.code in ("FQ716", "FQ719"))]
    outcome = Outcome(render(run, session), notes=run.notes, warnings=warnings, source=args or None)
    if run.error is not None:
        outcome.warnings.extend(run.error.diagnostics)
        outcome.failed = True
    return outcome


def _export(session: Session, args: str) -> Outcome:
    import shlex

    from flowql.repl.run import FORMATS, export

    try:
        words = shlex.split(args)
    except ValueError:
        raise CommandError(_usage("export")) from None
    force = False
    fmt = None
    paths: list[str] = []
    for word in words:
        if word in ("--force", "-f"):
            force = True
        elif paths and word.lower() in FORMATS:
            fmt = word
        else:
            paths.append(word)
    if len(paths) != 1:
        raise CommandError(_usage("export"))
    if session.last_result is None:
        raise CommandError(
            Diagnostic("FQ804", "there is no result to export yet", None, hint="run one: :run")
        )
    return Outcome(export(session.last_result, paths[0], fmt, force=force))


def _plot(session: Session, args: str) -> Outcome:
    import shlex

    from flowql.diagnostics import closest
    from flowql.plot import KINDS, chart_of, save, text_chart
    from flowql.plot.chart import plot_error

    try:
        words = shlex.split(args)
    except ValueError:
        raise CommandError(_usage("plot")) from None
    result = session.last_result
    if result is None:
        raise CommandError(
            Diagnostic("FQ804", "there is no result to plot yet", None, hint="run one: :run")
        )
    columns = set(result.columns())
    force, kind, path = False, "auto", None
    metrics: list[str] = []
    for word in words:
        if word in ("--force", "-f"):
            force = True
        elif word.lower() in KINDS:
            kind = word.lower()
        elif word in columns:
            metrics.append(word)
        elif "/" in word or "." in os.path.basename(word):
            if path is not None:
                raise CommandError(_usage("plot"))
            path = word
        elif closest(word.lower(), KINDS) is not None:
            kind = word  # chart_of says it is not a kind, and which one it looks like
        else:
            metrics.append(word)
    chart = chart_of(result, kind=kind, metrics=metrics)
    if path is not None:
        return Outcome(save(chart, os.path.expanduser(path), force=force))
    if force:
        raise plot_error("--force replaces a file: it goes with :plot FILE")
    return Outcome(text_chart(chart, width=session.width or 80))


def _list(args: str) -> list[str]:
    return args.replace(",", " ").split()


def _statistics(session: Session, args: str) -> Outcome:
    if args:
        session.set_statistics(() if _none(args) else _list(args))
    note = "" if _report(session) else " (used by the Klaviyo report targets)"
    return Outcome(f"statistics {_statistics_line(session)}{note}")


def _conversion(session: Session, args: str) -> Outcome:
    if args:
        session.set_conversion(None if _none(args) else args)
    family = api_of(session.target)[1]
    note = (
        ""
        if family in ("flow-report", "campaign-report")
        else " (used by flow and campaign reports)"
    )
    return Outcome(f"conversion metric {_conversion_line(session)}{note}")


def _revision(session: Session, args: str) -> Outcome:
    from flowql.klaviyo_revisions import DEFAULT_REVISION

    if args:
        session.set_revision(None if _none(args) else args)
    chosen = session.klaviyo_revision()
    if chosen is None:
        shown = f"{DEFAULT_REVISION} (the default)"
    elif session.revision is None:
        shown = f"{chosen} (klaviyo-revision in the configuration)"
    else:
        shown = chosen
    note = "" if session.api == Api.KLAVIYO else " (used by the Klaviyo targets)"
    return Outcome(f"Klaviyo revision {shown}{note}")


def _columns(session: Session, args: str) -> Outcome:
    if args:
        wanted = () if args.lower() == "all" else _list(args)
        if wanted and session.last_result is not None:
            from flowql.display import column_problem

            # As flowql query --columns: a name the result does not have is FQ740.
            problem = column_problem(wanted, session.last_result.columns())
            if problem is not None:
                raise CommandError(problem)
        session.set_columns(wanted)
    if not session.columns:
        return Outcome("every column: the time first, then the keys the filter names")
    return Outcome("columns " + ", ".join(session.columns))


def _expanded(session: Session, args: str) -> Outcome:
    from flowql.display import EXPANDED

    if args:
        mode = args.strip().lower()
        if mode not in EXPANDED:
            raise CommandError(_usage("expanded"))
        session.expanded = mode
    return Outcome(f"expanded {session.expanded}")


def _pager(session: Session, args: str) -> Outcome:
    if args:
        mode = args.strip().lower()
        if mode not in ("on", "off"):
            raise CommandError(_usage("pager"))
        session.pager = mode == "on"
    return Outcome(f"pager {'on' if session.pager else 'off'}")


def _report(session: Session) -> str | None:
    """The Klaviyo values report the session's target runs (``flow-values``...), or None."""
    family = api_of(session.target)[1]
    if family is None or not family.endswith("-report"):
        return None
    return family.replace("-report", "") + "-values"


def _help(session: Session, args: str) -> Outcome:
    return Outcome(help_text(args.lstrip(":") or None))


def _quit(session: Session, args: str) -> Outcome:
    return Outcome(quit=True)


def _no_filter() -> Diagnostic:
    return Diagnostic(
        "FQ804", "there is no filter yet", None, hint="type a filter first, or give one here"
    )


def _usage(name: str) -> Diagnostic:
    command = COMMANDS[name]
    return Diagnostic(
        "FQ804", f"usage: :{command.name} {command.usage}".rstrip(), None, hint=command.summary
    )


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "target",
            "[NAME]",
            "show the targets, or compile for another one",
            "Without a name, lists every target (the current one marked *). With one, filters "
            "are checked and compiled for that target from now on: conviva-flow, "
            "conviva-sessions, klaviyo, klaviyo-flow-report, ... The keys completed and checked "
            "are those of the target's data model.",
            _target,
        ),
        Command(
            "model",
            "[FILE|demo]",
            "show the data model, or load one from a JSON file",
            "Loads a Conviva flow data model (the JSON of GET /flow-data/metadata/data-model) "
            "or a Sessions V3 dimension list; it is used for the targets of its API. 'demo' "
            "goes back to the built-in models. Klaviyo targets use the fields flowql knows for "
            "each endpoint family.",
            _model,
        ),
        Command(
            "flow",
            "[ID|none]",
            "show the flow, or check keys against one flow",
            "Names the flow model of a Conviva flow data model, by id or by a word of its "
            "label (:flow video). Keys are then completed and checked against that flow; "
            "'none' goes back to the keys of every flow. The Flow API needs a flow to query.",
            _flow,
        ),
        Command(
            "keys",
            "[FLOW]",
            "list the keys a filter may use, with labels and types",
            "Lists the dimensions of the current flow (or of the flow given, by id or a word of "
            "its label), with their labels and types, and the operators and values a key "
            "takes where the model restricts them (a Klaviyo report's fields). Without a flow, "
            "the keys of the target's model; for a Conviva flow model, each with the flows "
            "that have it. flowql model show prints the same on the command line.",
            _keys,
        ),
        Command(
            "metrics",
            "[FLOW]",
            "list a flow's metrics, with labels and units",
            "Lists the metrics of the current flow (or of the flow given) with their labels, "
            "units (count, sec...) and types; without a flow, every flow's. Metrics are the "
            "Flow API's: a Klaviyo report's numbers are its :statistics.",
            _metrics,
        ),
        Command(
            "range",
            "START END",
            "query a fixed time range",
            "START and END are ISO 8601 (2026-11-22T10:00:00Z; without an offset, in the :tz "
            "zone, UTC by default), epoch seconds or milliseconds, or relative (-2h). A longer "
            "range than one request covers (the Flow API: 1 hour, Sessions V3: 3 hours) is "
            "fetched in windows; Klaviyo reports cover a year at most.",
            _range,
        ),
        Command(
            "load",
            "FILE [NAME]",
            "take a query of a manifest",
            "Sets the target, flow, time range, grouping, limit, statistics and filter of the "
            "manifest's query NAME (the only one, when NAME is left out), as `flowql query "
            "--manifest FILE --name NAME` runs it. Queries the REPL cannot compose (Flow XO, a "
            "viewer's sessions...) are refused with the command that runs them.",
            _load,
        ),
        Command(
            "tz",
            "[ZONE|none]",
            "read naive times in a time zone",
            "Times without an offset given to :range are read in this zone (Europe/Madrid, "
            "+05:30; 'none' goes back to UTC), as flowql query --tz and a manifest's tz read "
            "them; results show their times there, and :bucket's days start at its midnight.",
            _tz,
        ),
        Command(
            "bucket",
            "[SIZE|none]",
            "put results in buckets (1h, 1d)",
            "Puts a Flow result's points (or grouped rows) in buckets of this size: 1m, 5m, "
            "10m, 15m, 30m, 1h, 3h, 6h, 12h or 1d, days starting at midnight in :tz; counts "
            "summed, shares recomputed, other values shown empty (FQ719). Real time asks the "
            "server (granularity) when it can. 'none' shows results as fetched. As flowql "
            "query --bucket.",
            _bucket,
        ),
        Command(
            "last",
            "DURATION",
            "query the last 15m, 1h, 7d, ...",
            "The time range ends now: 15m, 1h, 1h30m, 7d or ISO 8601 (PT15M). Up to 15 whole "
            "minutes, the Flow API is asked for real-time metrics; longer, for historical ones.",
            _last,
        ),
        Command(
            "group-by",
            "[KEY|none]",
            "group the Flow API's metrics by a dimension",
            "Adds /group-by/KEY to Flow API requests. KEY must be a key of the model (of the "
            "flow, when one is set).",
            _group_by,
        ),
        Command(
            "limit",
            "[N|none]",
            "how many sessions to fetch (1 to 500), and rows to show",
            "Sets Sessions V3's limit parameter: the number of sample sessions returned (per "
            "3-hour window). It is also how many rows the table of a :run shows (50 when unset; "
            ":export writes every row).",
            _limit,
        ),
        Command(
            "show",
            "[FILTER]",
            "the compiled filter and the request it goes in",
            "Shows the current query: the last filter submitted (or the one given) compiled "
            "for the target, and the full request: the Conviva URL with its length against the "
            "URL limit, or the Klaviyo request URL and body.",
            _show,
        ),
        Command(
            "fix",
            "[--unsafe] [FILTER]",
            "make the fixes of the last filter typed, and submit it",
            "Makes the fixes the check's findings carry (marked [*]) in the last filter typed, "
            "errors and all (or the one given), as flowql check --fix does: '=' for '==', "
            "'&&' for AND, a word value quoted, a repeat removed... With --unsafe, also the fixes "
            "that change what the filter matches (a misspelt key replaced by the one meant). "
            "The fixed filter is then submitted: it becomes the filter :show and :run use.",
            _fix,
        ),
        Command(
            "explain",
            "[FILTER]",
            "the syntax tree, and what each target makes of it",
            "Prints the tree of the last filter submitted (or the one given), its canonical "
            "form, and what every target compiles it to, or why it refuses.",
            _explain,
        ),
        Command(
            "run",
            "[FILTER]",
            "run the query and show the result as a table",
            "Runs the current query (the last filter submitted, or the one given, which becomes "
            "the filter) through the target's API: conviva-flow (real time or historical, as the "
            "time range says; grouped with :group-by), conviva-sessions (content sessions), "
            "klaviyo-*-report (a values report: set :statistics, and :conversion for flow and "
            "campaign reports), klaviyo-metrics. The python target sends nothing: it filters the "
            "rows of the last result an API returned, here. Credentials come from the "
            "environment (CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET, KLAVIYO_API_KEY); without "
            "them the query runs against the built-in sandbox, started on the first :run. A "
            "range longer than one request covers is fetched in windows. Ctrl-C cancels a run.",
            _run,
        ),
        Command(
            "export",
            "PATH [csv|json|ndjson|parquet] [--force]",
            "write the last result to a CSV, JSON, NDJSON or Parquet file",
            "Writes every row of the last result: CSV (the records, a header row first), JSON "
            "(the metadata and the records), NDJSON (a record a line) or Parquet (typed "
            "columns: pip install 'flowql[parquet]'), the format from PATH's extension (.jsonl "
            "is NDJSON) unless given. The "
            "file appears whole or not at all; an existing file is left as it is unless --force "
            "is given. Credentials are never written.",
            _export,
        ),
        Command(
            "plot",
            "[KIND] [METRIC...] [FILE]",
            "draw the last result, or write its picture to a file",
            "KIND is line or bar (auto by default). Draws the last result in the terminal: "
            "lines for a time series (one per metric: by default those of the first metric's "
            "unit) and for a grouped result fetched in several windows, bars for groups, with "
            "the metrics' labels and units. Name metrics to draw those. With FILE, writes the "
            "picture there instead: .png or .svg (drawn by matplotlib: pip install "
            "'flowql[plot]') or .html (a page that needs nothing else, not even a network). "
            "The file appears whole or not at all; an existing file is left as it is unless "
            "--force is given (:plot FILE --force).",
            _plot,
        ),
        Command(
            "statistics",
            "[NAME ...|none]",
            "the statistics Klaviyo reports are asked for",
            "Klaviyo's reports need at least one statistic (clicks, opens, open_rate...; Tab "
            "lists the report's). Several are separated by spaces or commas.",
            _statistics,
        ),
        Command(
            "conversion",
            "[METRIC_ID|none]",
            "the conversion metric of flow and campaign reports",
            "Klaviyo's flow and campaign reports need a conversion_metric_id: a metric's id. "
            "Tab lists the metrics known: from a klaviyo-metrics :run, or the sandbox's.",
            _conversion,
        ),
        Command(
            "revision",
            "[YYYY-MM-DD|none]",
            "the Klaviyo API revision queries are checked against and sent with",
            "Klaviyo's reports change between revisions (fields, statistics, channels): a query "
            "is checked against the chosen revision's rules and sent with its revision header. "
            "none goes back to the configuration's (klaviyo-revision) or the default, the newest "
            "revision flowql holds the spec of; Tab lists those.",
            _revision,
        ),
        Command(
            "columns",
            "[KEY ...|all]",
            "the columns a result's table shows",
            "Shows only these columns of a result, in this order ('all' goes back to every "
            "column, the time first, then the keys the filter names). :export writes every "
            "column.",
            _columns,
        ),
        Command(
            "names",
            "[labels|keys]",
            "head metric columns by label or key",
            "Heads a result's metric columns by their data model labels and units (Login "
            "Process Complete (count)), or by their keys (m_825_1). :columns takes keys either "
            "way. As flowql query --names.",
            _names,
        ),
        Command(
            "expanded",
            "[auto|on|off]",
            "show each row as a block of field | value lines",
            "auto (the default) shows a result's rows expanded, one field a line, when the "
            "table would not fit the terminal; on always does; off cuts the table to fit, "
            "leaving out the columns that do not.",
            _expanded,
        ),
        Command(
            "pager",
            "[on|off]",
            "long results through $PAGER",
            "on (the default): a result longer than the terminal goes through $PAGER (less "
            "-FRX when unset; PAGER= empty never pages); off prints it all.",
            _pager,
        ),
        Command(
            "help",
            "[COMMAND]",
            "list the commands, or explain one",
            "Lists the commands and the keys that matter, or explains one command.",
            _help,
        ),
        Command(
            "quit", "", "leave the REPL (Ctrl-D too)", "Ends the session.", _quit, ("q", "exit")
        ),
    )
}
"""Every command, by name."""

_ALIASES = {alias: c.name for c in COMMANDS.values() for alias in c.aliases}

_KEYS_HELP = """\
Type a filter and press Enter to check it and compile it for the target. Enter on an
unfinished filter (an open parenthesis or string) continues it on a new line; Alt-Enter always
starts a new line. An error moves the cursor to it instead of submitting.
Tab completes keys, operators and values; Ctrl-R searches the history; the right arrow takes
the grey suggestion from the history; Ctrl-C clears the line, or cancels a :run; Ctrl-D
quits."""


def help_text(name: str | None = None) -> str:
    """The text of ``:help`` (every command) or of ``:help NAME``."""
    if name is not None:
        command = _find(name)
        import textwrap

        body = textwrap.fill(
            command.help, 94, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
        )
        return f":{command.name} {command.usage}".rstrip() + "\n" + body
    width = max(len(f":{c.name} {c.usage}") for c in COMMANDS.values())
    lines = [f"  {f':{c.name} {c.usage}':<{width}}  {c.summary}" for c in COMMANDS.values()]
    return "Commands:\n" + "\n".join(lines) + "\n\n" + _KEYS_HELP


def _find(name: str) -> Command:
    name = name.lower()
    found = COMMANDS.get(_ALIASES.get(name, name))
    if found is not None:
        return found
    from flowql.diagnostics import closest

    close = closest(name, COMMANDS)
    hint = f"did you mean :{close}?" if close else ":help lists the commands"
    raise CommandError(Diagnostic("FQ804", f"unknown command ':{name}'", None, hint=hint))


def execute(session: Session, line: str) -> Outcome:
    """Run one command line (``:target klaviyo``). Raises :class:`~flowql.errors.FlowQLError`
    for an unknown command or one that cannot be carried out."""
    body = line.strip()
    if body.startswith(":"):
        body = body[1:]
    name, _, args = body.strip().partition(" ")
    if not name:
        raise CommandError(
            Diagnostic("FQ804", "a command name goes after ':'", None, hint=":help lists them")
        )
    try:
        return _find(name).handler(session, args.strip())
    except CommandError as exc:
        raise _placed(exc, line) from None


_QUOTED = re.compile(r"'([^']+)'")


def _placed(error: CommandError, line: str) -> CommandError:
    """``error`` with each diagnostic about an argument (the message quotes it: ``'yesterday'
    is not a time``) placed at that argument in the command line, as ``flowql query`` places a
    diagnostic at its option."""
    from flowql.ast import Span

    start = line.find(" ", line.find(":")) if ":" in line else -1
    if start < 0:
        return error
    placed = []
    moved = False
    for d in error.diagnostics:
        span = d.span
        if span is None:
            for quoted in _QUOTED.findall(d.message):
                at = line.find(quoted, start)
                if at >= 0:
                    span = Span.from_offsets(line, at, at + len(quoted))
                    moved = True
                    break
        placed.append(d.at(span))
    if not moved:
        return error
    found = CommandError(placed, line)
    found.in_line = True
    return found


def submit(session: Session, text: str) -> tuple[Check, Outcome | None]:
    """Check a filter and, when nothing of error severity is found, make it the session's
    filter and compile it for the target: the outcome's text is the compiled form, its warnings
    what the check found. With errors, the outcome is None (the check says what they are)."""
    session.typed = text
    check = session.check(text)
    if not check.ok:
        return check, None
    assert check.expr is not None
    assert check.compiled is not None
    session.filter = text
    session.remember_filter(check.expr)
    return check, Outcome(compiled_text(check.compiled), warnings=check.diagnostics, source=text)


# --- completion of commands ------------------------------------------------------------------


def arguments(session: Session, name: str, args: str) -> list[tuple[str, str]]:
    """Candidates for the last word of a command's arguments, each with a description."""
    name = _ALIASES.get(name, name)
    if name == "target":
        from flowql.targets import targets

        return [(t.name, t.description) for t in targets()]
    if name == "model":
        return [("demo", "the built-in models"), *_paths(args.split(" ")[-1])]
    if name == "flow":
        model = session.model()
        return [(f.id, f.label) for f in model.flows.values()] + [("none", "every flow")]
    if name in ("keys", "metrics"):
        return [(f.id, f.label) for f in session.model().flows.values()]
    if name == "group-by":
        return [(k, d.label) for k, d in sorted(session.keys().items())] + [("none", "no grouping")]
    if name == "last":
        return [(d, "") for d in ("5m", "15m", "30m", "1h", "3h", "7d", "30d")]
    if name == "statistics":
        return _statistic_choices(session, args)
    if name == "conversion":
        return [(i, n) for i, n in sorted(session.metrics.items())] + [("none", "unset")]
    if name == "revision":
        from flowql.klaviyo_revisions import DEFAULT_REVISION, REVISIONS

        today = session.clock().date()
        return [
            (
                r.name,
                "default"
                if r.name == DEFAULT_REVISION
                else ("retired" if r.retired(today) else "supported"),
            )
            for r in sorted(REVISIONS.values(), key=lambda r: r.date, reverse=True)
        ] + [("none", "the default")]
    if name == "columns":
        result = session.last_result
        columns = result.columns() if result is not None else []
        given = _given(args)
        return [(c, "column") for c in columns if c not in given] + [("all", "every column")]
    if name == "plot":
        from flowql.plot import KINDS

        result = session.last_result
        given = set(args.split())
        metrics = result.columns() if result is not None else []
        return [(k, "kind") for k in KINDS[1:] if k not in given] + [
            (c, "metric") for c in metrics if c not in given
        ]
    if name == "export":
        words = args.split(" ")
        if len(words) > 1 and words[0]:
            return [("csv", "the records"), ("json", "metadata and records"), ("--force", "")]
        return [(p, m) for p, m in _paths(words[-1]) if m == "directory"]
    if name == "help":
        return [(c.name, c.summary) for c in COMMANDS.values()]
    return []


def _statistic_choices(session: Session, args: str) -> list[tuple[str, str]]:
    from flowql.query import KLAVIYO_REPORTS

    report = _report(session)
    if report is not None:
        known = KLAVIYO_REPORTS[report].statistics
        meta = f"{report} report"
    else:
        known = tuple(sorted({s for r in KLAVIYO_REPORTS.values() for s in r.statistics}))
        meta = "statistic"
    return [(s, meta) for s in known if s not in _given(args)] + [("none", "unset")]


def _given(args: str) -> set[str]:
    """The words of a list argument before the one being typed."""
    words = _list(args)
    if args and not args[-1].isspace() and args[-1] != ",":
        words = words[:-1]
    return set(words)


def _paths(word: str) -> list[tuple[str, str]]:
    """Files and directories that complete ``word`` as a path (JSON files, directories)."""
    directory, _, _ = word.rpartition("/")
    base = directory + "/" if directory else ""
    try:
        names = sorted(os.listdir(os.path.expanduser(directory) if directory else "."))
    except OSError:
        return []
    out = []
    for entry in names:
        if entry.startswith(".") and not word.rpartition("/")[2].startswith("."):
            continue
        path = base + entry
        if os.path.isdir(os.path.expanduser(path)):
            out.append((path + "/", "directory"))
        elif entry.endswith(".json"):
            out.append((path, "data model?"))
    return out


class Completions:
    """The completion source for a session (:class:`flowql.repl.completion.Source`): the
    session's keys and values, and the commands of :data:`COMMANDS`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def keys(self) -> Mapping[str, Dimension]:
        """The keys a filter may use now."""
        return self.session.keys()

    def dimension(self, key: str) -> Dimension | None:
        """The dimension a key names, or None."""
        return self.session.dimension(key)

    def values(self, key: str) -> list[tuple[str, str]]:
        """Known values of a key, with where each is known from."""
        return self.session.values(key)

    def commands(self) -> list[tuple[str, str]]:
        """Command names and summaries."""
        return [(c.name, c.summary) for c in COMMANDS.values()]

    def arguments(self, command: str, args: str) -> list[tuple[str, str]]:
        """Candidates for a command's last argument."""
        return arguments(self.session, command, args)
