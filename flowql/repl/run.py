"""Running the session's query (``:run``) and saving its result (``:export``).

:class:`Runner` turns :meth:`Session.current_query <flowql.repl.session.Session.current_query>`
into the query value of :mod:`flowql.query` for the target's API and runs it through that API's
client (:mod:`flowql.client`), as ``flowql query`` does and with its helpers: the environment's
credentials when they are set (``CONVIVA_CLIENT_ID``/``CONVIVA_CLIENT_SECRET``,
``KLAVIYO_API_KEY``), else one in-process sandbox (:mod:`flowql.sandbox`) started on the first
run that needs it and stopped by :meth:`Runner.close`. The query is checked before anything
starts or is sent. The ``python`` target sends nothing: it filters the rows of the last result
an API returned, here.

The sync clients fetch in a background thread of their own; the calling thread only waits, so
a ``KeyboardInterrupt`` there (Ctrl-C in the REPL) cancels the fetch.

:func:`render` prints a :class:`Run` as a table with a short footer; :func:`export` writes a
result as CSV or JSON, atomically, never over an existing file unless told to. When the sandbox
answers, :class:`SandboxValues` gives completion the values its synthetic data has for each key.

Nothing here imports prompt_toolkit, the clients load only when one is made, and the sandbox
only when a run or the values need it (not before the REPL's first prompt).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from flowql.apis import Api
from flowql.apis import target_api as api_of
from flowql.diagnostics import Diagnostic
from flowql.repl.errors import CommandError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from flowql.client.errors import PartialResultError
    from flowql.model import DataModel
    from flowql.query import Plan, Request
    from flowql.repl.session import Query, Session
    from flowql.results import Result
    from flowql.sandbox import Sandbox

__all__ = [
    "DEFAULT_ROWS",
    "FORMATS",
    "Run",
    "Runner",
    "SandboxValues",
    "export",
    "format_of",
    "render",
]

DEFAULT_ROWS = 50
"""How many rows a table shows when ``:limit`` is not set."""

FORMATS = ("csv", "json", "ndjson", "parquet")
"""What ``:export`` writes."""

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
_MAX_VALUES = 200  # values per key from the sandbox, the most frequent first
_STATISTICS_EXAMPLE = {
    "flow": "clicks opens",
    "campaign": "clicks opens",
    "form": "viewed_form submits",
    "segment": "total_members",
}


def _error(message: str, hint: str | None = None, code: str = "FQ804") -> CommandError:
    return CommandError(Diagnostic(code, message, None, hint=hint))


class Run:
    """What one ``:run`` gave: the ``result``, the ``seconds`` it took, whether it came from the
    ``sandbox``, for a result filtered here the number of rows it was filtered from
    (``scanned``), messages to show once (``notes``), and ``error``: a
    :class:`~flowql.client.errors.PartialResultError` when some windows could not be fetched
    (``result`` then holds those that were)."""

    __slots__ = ("error", "notes", "result", "sandbox", "scanned", "seconds")

    def __init__(
        self,
        result: Result,
        seconds: float,
        *,
        sandbox: bool = False,
        scanned: int | None = None,
        notes: list[str] | None = None,
        error: PartialResultError | None = None,
    ) -> None:
        self.result = result
        self.seconds = seconds
        self.sandbox = sandbox
        self.scanned = scanned
        self.notes = notes or []
        self.error = error


class Runner:
    """Runs a session's queries, and holds what they need between runs: a client per API (so
    connections and rate limits carry over) and the sandbox.

    ``sandbox`` is a sandbox to use for the APIs without credentials (by default one is made,
    with seed 0, on the first run that needs it); a sandbox the runner starts, it stops in
    :meth:`close`. ``base_urls`` sends an API's requests elsewhere (``{"klaviyo": URL}``), with
    the environment's credentials, as ``flowql query --base-url`` does. ``timeout`` is seconds
    per request. ``progress`` is called with ``(done, total)`` as the windows of a long range
    arrive, from the clients' thread.
    """

    def __init__(
        self,
        *,
        sandbox: Sandbox | None = None,
        base_urls: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.timeout = timeout
        self.progress: Callable[[int, int], None] | None = None
        self._sandbox = sandbox
        self._started = False
        self._base_urls = dict(base_urls or {})
        self._clients: dict[str, tuple[DataModel | None, Any]] = {}
        self._sandboxed: set[str] = set()
        self._values: SandboxValues | None = None
        self._demo: DataModel | None = None
        self._lock = threading.Lock()  # the sandbox is made once, by whichever thread asks first

    # --- where requests go -----------------------------------------------------------------

    def uses_sandbox(self, api: str) -> bool:
        """Whether ``api``'s queries go to the sandbox: its credentials are not all set, and
        no base URL was given for it."""
        from flowql.connection import has_credentials

        if api in self._sandboxed:
            return True
        return api not in self._base_urls and not has_credentials(api)

    def offer_sandbox_values(self, session: Session) -> None:
        """Give completion the sandbox's values now, before any ``:run``, for every API whose
        queries will go to the sandbox (no credentials set). Nothing is started, nor even
        imported: the sandbox is made and its values read from its synthetic data in the
        background, on the first ask (or :meth:`SandboxValues.prefetch`)."""
        for api in (Api.CONVIVA_FLOW, Api.CONVIVA_SESSIONS, Api.KLAVIYO):
            if not self.uses_sandbox(api):
                continue
            if self._values is None:
                self._values = SandboxValues(self._sandbox_object, session)
                session.add_value_source("sandbox", self._values)
            self._values.serve(api)

    @property
    def sandbox(self) -> Sandbox | None:
        """The sandbox, once a run has started it (or the one given)."""
        return self._sandbox if self._sandbox is not None and self._sandbox.running else None

    @property
    def values(self) -> SandboxValues | None:
        """The completion source of the sandbox's values, once the sandbox answers."""
        return self._values

    def close(self) -> None:
        """Close the clients and stop the sandbox this runner started."""
        clients, self._clients = self._clients, {}
        for _, client in clients.values():
            with contextlib.suppress(Exception):
                client.close()
        if self._started and self._sandbox is not None:
            self._sandbox.stop()
            self._started = False

    def describe(self, api: str, request: Request) -> str:
        """``request`` as :meth:`run` would send it to ``api`` (credentials redacted): through
        the client a run made, else one that only describes, pointed where a run would go."""
        held = self._clients.get(api)
        if held is not None:
            return str(held[1].describe(request).render())
        from flowql.connection import describing_client, sandbox_options

        note = ""
        options_url = self._base_urls.get(api)
        if self.uses_sandbox(api):
            if self._sandbox is not None and self._sandbox.running:
                options_url = sandbox_options(api, self._sandbox)["base_url"]
            else:
                note = "\n(with no credentials, :run sends it to the built-in sandbox)"
        with describing_client(api, options_url) as client:
            return str(client.describe(request).render()) + note

    # --- running ---------------------------------------------------------------------------

    def run(self, session: Session, text: str | None = None) -> Run:
        """Run the session's current query (``text``, or the last filter submitted) and keep
        its result in the session (:meth:`~flowql.repl.session.Session.set_result`).

        Raises :class:`~flowql.repl.session.CommandError` for settings that make no query
        (with what to set), :class:`~flowql.query.QueryError` for a query the API would
        reject (before anything is sent), and :class:`~flowql.client.errors.ClientError` for a
        failed request. A fetch that got only some of its windows returns them, with
        :attr:`Run.error` set.
        """
        query = session.current_query(text)
        if query.api == "python":
            return self._filter_here(session, query)
        plan = self._plan(session, query)
        api = str(plan.query.api)
        model = self._flow_model(session) if api == Api.CONVIVA_FLOW else None
        notes: list[str] = []
        client = self._client(api, model, session, notes)
        from flowql.client.errors import PartialResultError

        started = time.perf_counter()
        error = None
        try:
            # The plan :show printed, sent as it is (clamped at a retention edge as it goes).
            result = client.query(plan)
        except PartialResultError as exc:
            result, error = exc.result, exc
        if session.bucket is not None:
            from flowql.merging import BucketError, bucket_result

            try:
                result = bucket_result(
                    result, session.bucket, tz=session.tz, server=query.server_bucket
                )
            except BucketError as exc:
                raise CommandError(exc.diagnostic) from None
        seconds = time.perf_counter() - started
        session.set_result(result)
        return Run(result, seconds, sandbox=api in self._sandboxed, notes=notes, error=error)

    def _plan(self, session: Session, query: Query) -> Plan:
        """The query's plan, or its problem raised with what to type in the REPL."""
        if query.plan is not None:
            return query.plan
        problem = query.problem
        if problem is None:
            session.query_fields(query.text)  # raises: the settings name no endpoint
            raise _error("the settings make no request")  # pragma: no cover - unreachable
        codes = {d.code for d in problem.diagnostics}
        report = query.endpoint or ""
        if "FQ712" in codes and not session.statistics:
            from flowql.query import KLAVIYO_REPORTS

            spec = KLAVIYO_REPORTS[report]
            example = _STATISTICS_EXAMPLE[spec.family]
            raise _error(
                f"the {report} report needs at least one statistic",
                f"set them with :statistics, for example :statistics {example} (Tab after "
                ":statistics lists the report's)",
                code="FQ712",
            )
        if "FQ711" in codes:
            raise _error(
                f"the {report} report needs a conversion metric",
                self._conversion_hint(session),
                code="FQ711",
            )
        raise problem

    def _filter_here(self, session: Session, query: Query) -> Run:
        import dataclasses

        from flowql.formatter import format
        from flowql.syntax import parse
        from flowql.targets.python import compile_predicate

        base = session.fetched_result
        if base is None:
            raise _error(
                "there are no results to filter yet",
                "the python target filters the rows of the last query run, here: run one "
                "under an API's target first (:target conviva-flow, :run), then :target python "
                "and :run FILTER",
            )
        started = time.perf_counter()
        result = base.filtered(compile_predicate(query.expr))
        applied = format(query.expr)
        if base.post_filter:
            applied = format(parse(f"({base.post_filter}) AND ({applied})"))
        result = dataclasses.replace(result, post_filter=applied)
        seconds = time.perf_counter() - started
        session.set_result(result, fetched=False)
        return Run(result, seconds, sandbox=base.api in self._sandboxed, scanned=len(base))

    def _flow_model(self, session: Session) -> DataModel | None:
        """The model the Flow client checks flows and group-by keys with, and tells count
        metrics by: the sandbox's (the demo model), or one the session loaded; else the client
        fetches the account's when it needs it."""
        if self.uses_sandbox("conviva-flow"):
            if self._demo is None:
                from flowql.model import demo_model

                self._demo = demo_model()  # the sandbox's account
            return self._demo
        loaded = session.loaded
        return loaded if loaded is not None and loaded.kind == Api.CONVIVA_FLOW else None

    def _conversion_hint(self, session: Session) -> str:
        if not self.uses_sandbox("klaviyo"):
            return (
                "set it with :conversion METRIC_ID; :target klaviyo-metrics and :run list the "
                "account's metrics, whose ids Tab then offers after :conversion"
            )
        metrics = self._sandbox_metrics(session)
        chosen = next((m for m in metrics if m["name"] == "Placed Order"), metrics[0])
        return (
            f"set it with :conversion METRIC_ID, for example :conversion {chosen['id']} (the "
            f"sandbox's {chosen['name']} metric); Tab after :conversion lists the metrics"
        )

    # --- clients and the sandbox -----------------------------------------------------------

    def _sandbox_metrics(self, session: Session) -> list[dict[str, Any]]:
        """The sandbox's Klaviyo metrics, also kept in the session for ``:conversion``."""
        metrics: list[dict[str, Any]] = self._sandbox_object().data.klaviyo.metrics
        for metric in metrics:
            session.metrics.setdefault(str(metric["id"]), str(metric["name"]))
        return metrics

    def _sandbox_object(self) -> Sandbox:
        """The sandbox, made (not started) on first use; :class:`SandboxValues` may ask for it
        from its thread while a run does from the REPL's."""
        with self._lock:
            if self._sandbox is None:
                from flowql.sandbox import Sandbox

                self._sandbox = Sandbox(seed=0)
            return self._sandbox

    def _client(self, api: str, model: DataModel | None, session: Session, notes: list[str]) -> Any:
        from flowql.connection import make_client, sandbox_notice, sandbox_options

        held = self._clients.get(api)
        if held is not None:
            if held[0] is model:
                return held[1]
            del self._clients[api]
            with contextlib.suppress(Exception):
                held[1].close()
        options: dict[str, Any] = {"timeout": self.timeout, "progress": self._progress}
        if self.uses_sandbox(api):
            sandbox = self._sandbox_object()
            if not sandbox.running:
                sandbox.start()
                self._started = True
            options.update(sandbox_options(api, sandbox))
            if api not in self._sandboxed:
                self._sandboxed.add(api)
                notes.append(sandbox_notice(api, options["base_url"]))
                if self._values is None:
                    self._values = SandboxValues(sandbox, session)
                    session.add_value_source("sandbox", self._values)
                self._values.serve(api)
                if api == Api.KLAVIYO:
                    self._sandbox_metrics(session)
        elif api in self._base_urls:
            options["base_url"] = self._base_urls[api]
        if model is not None:
            options["model"] = model
        client = make_client(api, options)
        self._clients[api] = (model, client)
        return client

    def _progress(self, done: int, total: int) -> None:
        progress = self.progress
        if progress is not None:
            progress(done, total)


# --- the sandbox's values, for completion ------------------------------------------------------


class SandboxValues:
    """A source of values for completion (:meth:`Session.add_value_source
    <flowql.repl.session.Session.add_value_source>`): what the sandbox's synthetic data has for
    each key of the session's target, the most frequent first, for the APIs the sandbox answers
    (:meth:`serve`).

    Read from the data the sandbox answers from (:attr:`Sandbox.data
    <flowql.sandbox.Sandbox.data>`): the Flow API's events of the last hour, the sessions of the
    last 3 hours, the Klaviyo account's flows, campaigns, forms, segments and metrics. Each
    target's values are made in a background thread on the first ask (or :meth:`prefetch`) and
    kept; until then there are none, so typing never waits.

    ``sandbox`` is the sandbox, or a function that gives it: then it is asked for (and
    :mod:`flowql.sandbox` imported) only in that thread, the first time values are made.
    """

    def __init__(self, sandbox: Sandbox | Callable[[], Sandbox], session: Session) -> None:
        self._sandbox: Callable[[], Sandbox] = sandbox if callable(sandbox) else lambda: sandbox
        self._session = session
        self._apis: set[str] = set()
        self._tables: dict[str, dict[str, list[str]]] = {}
        self._pending: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def serve(self, api: str) -> None:
        """Give values for the targets of ``api`` (``conviva-flow``, ``klaviyo``...)."""
        self._apis.add(api)

    def __call__(self, key: str) -> list[str]:
        """The values of ``key`` for the session's target; none until they are made."""
        target = self._session.target
        if api_of(target)[0] not in self._apis:
            return []
        with self._lock:
            table = self._tables.get(target)
            if table is None:
                self._start(target)
                return []
        return table.get(key, [])

    def prefetch(self) -> None:
        """Start making the values of the session's target now, in the background, if the
        sandbox answers its API and they are not made yet: the REPL calls this once its first
        prompt is shown, so that the first ask finds them."""
        target = self._session.target
        if api_of(target)[0] not in self._apis:
            return
        with self._lock:
            if target not in self._tables:
                self._start(target)

    def _start(self, target: str) -> None:
        # Called with the lock held.
        if target not in self._pending:
            self._pending[target] = threading.Event()
            threading.Thread(
                target=self._make, args=(target,), name="flowql-sandbox-values", daemon=True
            ).start()

    def wait(self, target: str, timeout: float = 10.0) -> bool:
        """Wait until ``target``'s values are made (for tests); False on timeout or when
        they were never asked for."""
        with self._lock:
            event = self._pending.get(target)
        return event.wait(timeout) if event is not None else False

    def _make(self, target: str) -> None:
        try:
            table = self._read(target)
        except Exception:  # a source of values must never break typing: none, then
            table = {}
        with self._lock:
            self._tables[target] = table
            event = self._pending[target]
        event.set()

    def _read(self, target: str) -> dict[str, list[str]]:
        from collections import Counter

        from flowql.results import flatten

        sandbox = self._sandbox()
        data = sandbox.data
        now = int(sandbox.now.timestamp() * 1000)
        rows: list[Mapping[str, object]] = []
        if target == Api.CONVIVA_FLOW:
            from flowql.model import demo_model

            for flow in demo_model().flows:
                rows.extend(e.dimensions for e in data.flow_events(flow, now - _HOUR_MS, now))
        elif target == Api.CONVIVA_SESSIONS:
            rows = [s.record for s in data.sessions(now - 3 * _HOUR_MS, now)]
        elif target == "klaviyo-flow-report":
            rows = [r.values for r in data.klaviyo.flow_rows]
        elif target == "klaviyo-campaign-report":
            rows = [r.values for r, *_ in data.klaviyo.campaign_rows(now - 90 * _DAY_MS, now)]
        elif target == "klaviyo-form-report":
            rows = [r.values for r in data.klaviyo.form_rows]
        elif target == "klaviyo-segment-report":
            rows = [r.values for r in data.klaviyo.segment_rows]
        elif target == "klaviyo-metrics":
            rows = [flatten(m) for m in data.klaviyo.metrics]
        counts: dict[str, Counter[str]] = {}
        for row in rows:
            for key, value in row.items():
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if isinstance(item, str) and item:
                        counts.setdefault(key, Counter())[item] += 1
        return {k: [v for v, _ in c.most_common(_MAX_VALUES)] for k, c in counts.items()}


# --- showing a run ----------------------------------------------------------------------------


def render(run: Run, session: Session) -> str:
    """A run as text: its rows as a table (at most ``:limit`` rows, :data:`DEFAULT_ROWS` when
    unset; the columns of :meth:`Session.shown_columns
    <flowql.repl.session.Session.shown_columns>`; floats to 6 significant digits; as wide as the
    session's ``width``), then a
    footer: how many rows, how long it took and where from, then the windows fetched, what was
    filtered here, and the totals and whether they were recomputed across windows."""
    from flowql.display import records_table, shown_records
    from flowql.times import parse_tz

    result = run.result
    records = result.to_records()
    headings = result.headings(session.names)
    zone = parse_tz(session.tz) if session.tz else None
    shown = shown_records(records[: session.limit or DEFAULT_ROWS], headings, zone)
    out = ""
    if records:
        columns = [headings.get(c, c) for c in session.shown_columns(result) or result.columns()]
        out = records_table(columns, shown, width=session.width, expanded=session.expanded)
    footer = [part for line in _footer(run, len(shown)) for part in _wrap(line, session.width)]
    return out + "\n".join(footer)


def _footer(run: Run, shown: int) -> list[str]:
    result = run.result
    count = len(result)
    rows = f"{count} row{'' if count == 1 else 's'}"
    if run.scanned is not None:
        rows = f"{count} of {run.scanned} rows match"
    if shown < count:
        rows += f" (the first {shown} shown: :limit shows more, :export writes every row)"
    seconds = f"{run.seconds:.2f}" if run.seconds < 10 else f"{run.seconds:.1f}"
    parts = [f"{rows} in {seconds} s" + (", from the sandbox" if run.sandbox else "")]
    if len(result.windows) > 1:
        parts.append(f"{len(result.windows)} windows fetched")
    bucket: str | None = getattr(result, "bucket", None)
    if bucket is not None:
        by = "by the server" if getattr(result, "bucketed_by", None) == "server" else "here"
        parts.append(f"in buckets of {bucket}, made {by}")
        from flowql.merging import partial_note

        note = partial_note(result)
        if note is not None:
            parts.append(note)
    if result.post_filter is not None:
        parts.append(f"filtered here: {result.post_filter}")
    lines = ["; ".join(parts)]
    totals: Mapping[str, object] = getattr(result, "totals", None) or {}
    known = ", ".join(f"{k} {_number(v)}" for k, v in totals.items() if v is not None)
    stale: tuple[str, ...] = getattr(result, "not_recomputed", ())
    if getattr(result, "totals_recomputed", None) is not None and known:
        known += " (merged across the windows)"
    if known and stale:
        lines.append(f"totals: {known}; not recomputed: " + ", ".join(stale))
    elif known:
        lines.append(f"totals: {known}")
    elif stale:
        lines.append("totals not recomputed: " + ", ".join(stale))
    return lines


def _number(value: object) -> str:
    """A number as a table shows it: a float to 6 significant digits (the export keeps every
    digit)."""
    from flowql.display import short_number

    return short_number(value) if isinstance(value, float) else str(value)


def _wrap(line: str, width: int | None) -> list[str]:
    """A footer line in lines of ``width`` characters (the footer says things once: it is
    wrapped, never cut)."""
    if width is None or len(line) <= width:
        return [line]
    import textwrap

    return textwrap.wrap(
        line, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    )


# --- export -----------------------------------------------------------------------------------


def format_of(path: str, given: str | None = None) -> str:
    """The format to write ``path`` in: ``given`` (``csv`` or ``json``), else its extension's.
    Raises :class:`~flowql.repl.session.CommandError` when neither says."""
    if given is not None:
        if given.lower() not in FORMATS:
            raise _error(
                f"'{given}' is not a format :export writes", "use csv, json, ndjson or parquet"
            )
        return given.lower()
    from flowql.exports import format_of as extension_format

    extension = extension_format(path)
    if extension in FORMATS:
        return extension
    raise _error(
        f"cannot tell the format of '{path}' from its name",
        f"name the file .csv, .json, .ndjson or .parquet, or add the format: :export {path} csv",
    )


def export(result: Result, path: str, fmt: str | None = None, *, force: bool = False) -> str:
    """Write ``result`` to ``path`` as CSV (:meth:`~flowql.results.Result.to_csv`: the records)
    or JSON (:meth:`~flowql.results.Result.to_json`: the metadata and the records), the format
    from ``fmt`` or the extension; return what was done, as a line to show.

    The file appears whole or not at all (written beside it, then moved into place). An
    existing file is never replaced unless ``force``. Refuses to write text that holds the value
    of a secret from the environment (``CONVIVA_CLIENT_SECRET``, ``KLAVIYO_API_KEY``,
    ``FLOWXO_API_KEY``). Raises :class:`~flowql.repl.session.CommandError`.
    """
    chosen = format_of(path, fmt)
    from flowql.errors import FlowQLError
    from flowql.exports import ndjson, render

    try:
        data = render(result, chosen)
    except FlowQLError as exc:  # a missing extra (FQ806)
        raise CommandError(exc.diagnostics) from None
    # A binary file is checked for secrets in its records' text.
    text = data if isinstance(data, str) else ndjson(result.to_records())
    from flowql.repl.secrets import secret_in

    name = secret_in(text)
    if name is not None:
        raise _error(
            f"the result holds the value of {name}: it was not written",
            "a server echoed a credential into the data; export it with that part removed",
        )
    target = os.path.expanduser(path)
    if os.path.isdir(target):
        raise _error(f"'{path}' is a directory", "give a file name: :export DIR/results.csv")
    if os.path.lexists(target) and not force:
        raise _error(
            f"'{path}' exists: it was left as it is",
            f"give another name, or replace it: :export {path} --force",
        )
    try:
        from flowql.files import write_atomic

        payload = data.encode("utf-8") if isinstance(data, str) else data
        write_atomic(target, payload, replace=force)
    except FileExistsError:
        raise _error(
            f"'{path}' exists: it was left as it is",
            f"give another name, or replace it: :export {path} --force",
        ) from None
    except OSError as exc:
        raise _error(f"cannot write '{path}': {exc.strerror or exc}") from None
    count = len(result)
    size = len(payload)
    return f"wrote {count} row{'' if count == 1 else 's'} to {path} ({chosen}, {_size(size)})"


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"
