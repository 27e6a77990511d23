"""The runner behind ``flowql check``: what to check, against which model, and what was found.

Inputs are inline filters, ``.flowql`` files (one filter each) and query manifests (TOML files
with ``[[query]]`` tables). Each filter is validated (:func:`flowql.validate.validate`) against
the data model of the API it is for, budgeted against the request it will be sent in when the
query names an endpoint or a flow, and compiled for its target when the query names one. Every
diagnostic is placed in the file the user wrote (its fix too), then ``# noqa`` comments are
applied. :meth:`Checker.fix` makes the fixes the findings carry (``flowql check --fix``).
"""

from __future__ import annotations

from flowql.apis import APIS, Api
from flowql.codes import CODES
from flowql.diagnostics import Diagnostic, Severity
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import TypeAlias

    # A diagnostic as a worker process sends it back: code, message, span fields, hint, severity
    # and its fix (message, applicability, edits as (start, end, replacement)).
    _Fields: TypeAlias = (
        "tuple[str, str, tuple[int, int, int, int, int, int] | None, str | None, str, "
        "tuple[str, str, tuple[tuple[int, int, str], ...]] | None]"
    )

    from flowql.ast import Expr
    from flowql.checker.config import Config
    from flowql.checker.manifest import ManifestMemo, Query
    from flowql.checker.noqa import Noqa
    from flowql.checker.report import Finding
    from flowql.endpoints import Endpoint
    from flowql.fixes import Fix
    from flowql.model import DataModel

__all__ = ["MAX_FIX_ROUNDS", "CheckResult", "Checker", "Input", "UnreadableError"]

MAX_FIX_ROUNDS = 100
"""How many times :meth:`Checker.fix` checks and fixes an input at most (as ruff does): a fix
can let the parser reach the next error, which may have a fix of its own."""

_FLOW_ENDPOINTS = ("real-time", "historical")
_MEMO_SIZE = 20_000  # filters remembered by a memo checker before it starts again
_SESSIONS_PREFIX = "sessions/"


class Input:
    """One thing to check: a name to show, its text, and whether it is a manifest. A filter
    file's text may be left unread (None): :meth:`Checker.run` reads it with its ``read``, in
    the worker process that checks it, so that reading many small files is shared out too."""

    __slots__ = ("_text", "manifest", "name", "path")

    def __init__(
        self, name: str, text: str | None, *, path: str | None = None, manifest: bool = False
    ):
        if text is None and (path is None or manifest):
            raise ValueError("only a filter file's text may be left unread, and it needs a path")
        self.name = name
        self._text = text
        self.path = path
        self.manifest = manifest

    @property
    def loaded(self) -> bool:
        """Whether the text is here (not left for :meth:`Checker.run` to read)."""
        return self._text is not None

    @property
    def text(self) -> str:
        """The text; ValueError for an input left unread."""
        if self._text is None:
            raise ValueError(f"{self.name}: left unread")
        return self._text


class UnreadableError(Exception):
    """Raised by the ``read`` given to :meth:`Checker.run` for a file that cannot be read; its
    text says why, as the command line reports it."""


class CheckResult:
    """What a check run found: findings in report order, the inputs checked, input errors
    (files that could not be read as manifests), which make the command exit 2, and the
    messages of the unread inputs that could not be read (exit 2 too), in input order."""

    __slots__ = ("findings", "input_errors", "inputs_checked", "unreadable")

    def __init__(
        self,
        findings: list[Finding],
        inputs_checked: int,
        input_errors: list[Finding],
        unreadable: list[str] | None = None,
    ) -> None:
        self.findings = findings
        self.inputs_checked = inputs_checked
        self.input_errors = input_errors
        self.unreadable = unreadable or []

    def count(self, severity: Severity) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.diagnostic.severity is severity)

    def exit_code(self, *, strict: bool = False, exit_zero: bool = False) -> int:
        """0 when nothing needs fixing, 1 for errors (warnings too with ``strict``), 2 when an
        input could not be read; ``exit_zero`` reports without failing (except for 2)."""
        if self.input_errors:
            return 2
        if exit_zero:
            return 0
        failing = self.count(Severity.ERROR) + (self.count(Severity.WARNING) if strict else 0)
        return 1 if failing else 0


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(code.startswith(p.upper()) for p in prefixes)


class Checker:
    """Checks inputs with one configuration. Models are loaded once and shared."""

    def __init__(self, config: Config, *, read: str | None = None, memo: bool = False) -> None:
        """``read`` names a target whose text the filters are written in (``klaviyo``,
        ``conviva-flow``, ``conviva-sessions``) instead of FlowQL. ``memo`` keeps what each
        filter was found to hold, for a caller that checks the same texts again and again (the
        language server, after every keystroke in a manifest of hundreds of queries)."""
        self.config = config
        self.read = read
        self._models: dict[str, DataModel] = {}
        self._longest: dict[tuple[str, int], Endpoint] = {}
        self._unfiltered: dict[Endpoint, int] = {}  # URL lengths with an empty filter
        self._memo: dict[tuple[object, ...], list[Diagnostic]] | None = {} if memo else None
        self.manifest_memo: ManifestMemo | None = None
        """What the memo knows of manifests' tables (with ``memo``), or None."""
        if memo:
            from flowql.checker.manifest import ManifestMemo

            self.manifest_memo = ManifestMemo()

    # --- models ---------------------------------------------------------------------------

    def model_for(self, api: str, klaviyo_endpoint: str | None = None) -> DataModel:
        """The data model for an API: the configured one when it is of that kind, else the
        built-in one (the demo flow model, the Sessions V3 demo dimensions, Klaviyo's fields)."""
        key = f"{api}:{klaviyo_endpoint or ''}"
        if key in self._models:
            return self._models[key]
        from flowql import model as models

        configured = self._configured_model()
        if configured is not None and configured.kind == api:
            found = configured
        elif api == Api.CONVIVA_SESSIONS:
            found = models.demo_sessions_model()
        elif api == Api.KLAVIYO:
            found = models.klaviyo_model(klaviyo_endpoint or "flow-report")
        else:
            found = models.demo_model()
        self._models[key] = found
        return found

    def model_for_target(self, target: str | None, endpoint: str | None = None) -> DataModel:
        """The data model a filter for ``target`` and ``endpoint`` (the configuration's when
        None) is checked against."""
        api, klaviyo = _api_of(target or self.config.target, endpoint or self.config.endpoint)
        return self.model_for(api, klaviyo)

    def _configured_model(self) -> DataModel | None:
        if "configured" not in self._models and self.config.model:
            from flowql.model import load_model

            self._models["configured"] = load_model(self.config.model)
        return self._models.get("configured")

    # --- running --------------------------------------------------------------------------

    def run(
        self,
        inputs: Sequence[Input],
        *,
        jobs: int = 1,
        read: Callable[[str], str] | None = None,
    ) -> CheckResult:
        """Check every input; collect every finding. With ``jobs`` > 1, inputs are checked in
        that many worker processes (on Linux, when there is enough to check to pay for it): runs
        of whole inputs, and runs of the queries of a large manifest. ``read`` gives the text
        of an input left unread (from its path), or raises :class:`UnreadableError`."""
        large = any(item.manifest and len(item.text) >= _SPLIT_CHARS for item in inputs)
        if jobs > 1 and (len(inputs) >= 2 * jobs or large) and _can_fork():
            units = _units(inputs, jobs * 4)
            if len(units) >= 2 * jobs:
                return self._run_parallel(inputs, units, jobs, read)
        from flowql.checker.report import Finding

        findings: list[Finding] = []
        errors: list[Finding] = []
        unreadable: list[str] = []
        for item in inputs:
            text = _text_of(item, read)
            if isinstance(text, UnreadableError):
                unreadable.append(str(text))
                continue
            for is_error, diagnostic in self._check_input(item, text):
                (errors if is_error else findings).append(Finding(item.name, diagnostic, text))
        findings.sort(key=_finding_order)
        errors.sort(key=_finding_order)
        return CheckResult(findings, len(inputs) - len(unreadable), errors, unreadable)

    def _check_input(self, item: Input, text: str | None = None) -> list[tuple[bool, Diagnostic]]:
        """(is an input error, diagnostic) for one input (``text``: its text, read)."""
        if not item.loaded:
            assert text is not None
            item = Input(item.name, text, path=item.path)
        try:
            found = self.check_manifest(item) if item.manifest else self.check_filter(item)
        except FlowQLError as exc:
            return [(True, d) for d in exc.diagnostics]
        return [(False, d) for d in found]

    def _run_parallel(
        self,
        inputs: Sequence[Input],
        units: list[_Unit],
        jobs: int,
        read: Callable[[str], str] | None,
    ) -> CheckResult:
        import multiprocessing

        from flowql.checker.report import Finding

        global _shared
        # Workers are forked: they inherit the checker and the inputs, and send back plain
        # tuples, so nothing but findings crosses between processes. The default model is
        # loaded first, so that each worker need not load it again.
        self.model_for(*_api_of(self.config.target, self.config.endpoint))
        _shared = (self, inputs, read)
        done: list[_Done] = [None] * len(units)
        try:
            with multiprocessing.get_context("fork").Pool(jobs, _ignore_interrupts) as pool:
                for number, part in pool.imap_unordered(_check_unit, enumerate(units)):
                    done[number] = part
        finally:
            _shared = None
        findings: list[Finding] = []
        errors: list[Finding] = []
        unreadable: list[str] = []
        runs: list[tuple[tuple[int, int, int], _RunDone]] = []
        for (first, _last, run), part in zip(units, done, strict=True):
            if run is not None:
                assert part is None or len(part) == 3
                runs.append((run, part))
                item = inputs[first]
                if run[1] < len(item.text):
                    continue  # the manifest's last run is yet to come
                for is_error, diagnostic in self._merge_runs(item, runs):
                    (errors if is_error else findings).append(
                        Finding(item.name, diagnostic, item.text)
                    )
                runs = []
                continue
            assert isinstance(part, tuple)
            assert len(part) == 2
            rows, texts = part
            for index, is_error, fields in rows:
                if isinstance(fields, str):
                    unreadable.append(fields)
                    continue
                item = inputs[index]
                text = item.text if item.loaded else texts[index]
                finding = Finding(item.name, _diagnostic(fields), text)
                (errors if is_error else findings).append(finding)
        findings.sort(key=_finding_order)
        errors.sort(key=_finding_order)
        return CheckResult(findings, len(inputs) - len(unreadable), errors, unreadable)

    def _merge_runs(
        self, item: Input, runs: list[tuple[tuple[int, int, int], _RunDone]]
    ) -> list[tuple[bool, Diagnostic]]:
        """The diagnostics of a manifest checked in runs of tables, as one process finds them:
        a query named like one of an earlier run is checked again knowing that name, and a
        manifest that is not plain after all is checked whole, here."""
        from flowql.checker.manifest import table_bounds

        if any(part is None for _, part in runs):
            try:
                found = self._manifest_found(item, by_table=False)
            except FlowQLError as exc:
                return [(True, d) for d in exc.diagnostics]
            return [(False, d) for d in self._suppress(item, self._select(found))]
        names: dict[str, int] = {}
        found = []
        for run, part in runs:
            assert part is not None
            rows, firsts, repeats = part
            by_query = {index: [_diagnostic(f) for f in fields] for index, fields in rows}
            for name, first in firsts.items():
                if name not in names:
                    names[name] = first
                    continue
                for index in (first, *repeats.get(name, ())):
                    # Its table, found again, checked with the name of the earlier query.
                    bounds = list(table_bounds(item.text, run[0], run[1]))[index - run[2]]
                    again = self._manifest_run(item, (*bounds, index), {name: names[name]})
                    by_query[index] = again[0][1] if again else []
            for index in sorted(by_query):
                found.extend(by_query[index])
        return [(False, d) for d in self._suppress(item, self._select(found))]

    def check_filter(self, item: Input) -> list[Diagnostic]:
        """Diagnostics for one filter text (a ``.flowql`` file, stdin or ``--expr``)."""
        config = self.config
        api, klaviyo = _api_of(config.target, config.endpoint)
        model = self.model_for(api, klaviyo)
        # Inline filters are not files: how `flowql fmt` would lay them out is not a finding.
        inline = item.name.startswith("<expr")
        found = self._check_one(
            item.text,
            api,
            config.target,
            config.endpoint,
            config.flow,
            model,
            None,
            not inline,
            # fmt ends a file it writes with a line break; stdin's text need not have one.
            final_newline=item.path is not None,
        )
        return self._suppress(item, self._select(found))

    def check_manifest(self, item: Input) -> list[Diagnostic]:
        """Diagnostics for every query of a manifest, placed in the manifest's text. A TOML
        file without ``[[query]]`` tables (a Cargo.toml handed over by pre-commit) has none."""
        if "[[query]]" not in item.text and "[[ query ]]" not in item.text:
            return []
        return self._suppress(item, self._select(self._manifest_found(item)))

    def _manifest_found(self, item: Input, *, by_table: bool | None = None) -> list[Diagnostic]:
        """Every diagnostic of a manifest, before ``--select`` and ``# noqa``: read table by
        table when it is a plain series of ``[[query]]`` tables (and ``by_table``; by default
        when it is large), else whole. Whole is faster (one tomllib call), table by table keeps
        memory to one query."""
        from flowql.checker.manifest import NotPlainError, load_manifest_text, table_runs

        if by_table is None:
            # With a memo (the same texts checked again and again), it reads them whole.
            by_table = len(item.text) >= _SPLIT_CHARS and self.manifest_memo is None
        runs = table_runs(item.text, 1) if by_table else None
        if runs is not None:
            try:
                return [d for _, found in self._manifest_run(item, runs[0], {}) for d in found]
            except NotPlainError:
                pass
        found: list[Diagnostic] = []
        for query in load_manifest_text(item.text, item.name, memo=self.manifest_memo):
            found.extend(self._check_query(query))
        return found

    def _manifest_run(
        self,
        item: Input,
        run: tuple[int, int, int],
        names: dict[str, int],
        repeats: dict[str, list[int]] | None = None,
    ) -> list[tuple[int, list[Diagnostic]]]:
        """(index, diagnostics) for each query of a run of tables (``table_runs``) that has any,
        one query in memory at a time; ``names`` as for ``read_tables``, and ``repeats`` given
        the index of every query whose name an earlier one of the run has. Raises
        ``NotPlainError`` as ``read_tables`` does."""
        from flowql.checker.manifest import read_tables

        out: list[tuple[int, list[Diagnostic]]] = []
        for query in read_tables(item.text, item.name, run, names):
            found = self._check_query(query)
            if found:
                out.append((query.index, found))
            if repeats is not None and query.name and names.get(query.name) != query.index:
                repeats.setdefault(query.name, []).append(query.index)
        return out

    def _check_query(self, query: Query) -> list[Diagnostic]:
        """The diagnostics of one query of a manifest, placed in the manifest."""
        found: list[Diagnostic] = list(query.diagnostics)
        # A table that names an endpoint is a query `flowql query --manifest` runs: its
        # query rules hold with or without a filter.
        runs = not query.diagnostics and query.endpoint is not None
        post_filter = query.fields.get("post_filter") is True
        if runs:
            found.extend(self._query_rules(query, with_filter=post_filter))
        if not query.has_filter:
            return found
        query_api = query.query_api(self.config.target)
        # A table that names its api but no target: the filter is checked for the API's
        # own target (its first; Flow XO has none).
        target = query.target or self.config.target
        if query.api and not query.target:
            targets = APIS[Api(query_api)].targets
            target = targets[0] if targets else None
        endpoint = query.endpoint or self.config.endpoint
        flow = query.flow or self.config.flow
        api, klaviyo = _api_of(target, endpoint)
        if query_api == Api.CONVIVA_SESSIONS:
            api = "conviva-sessions"
            if endpoint in ("content", "ad"):
                endpoint = _SESSIONS_PREFIX + endpoint
        model = self.model_for(api, klaviyo)
        try:
            here = self._check_one(query.filter, api, target, endpoint, flow, model, query, False)
        except ValueError as exc:
            # The query's request is not one the API takes (checked field by field in
            # the manifest already; this is the last word of the endpoint itself).
            found.append(Diagnostic("FQ802", str(exc), query.span))
            return found
        if post_filter and runs:
            # What the target refuses is applied here, after the fetch: the query rules
            # (FQ714, FQ715) said what cannot be.
            here = [d for d in here if not d.code.startswith("FQ6")]
        found.extend(_placed(query, d) if d.span else d for d in here)
        return found

    def fix(self, item: Input, *, unsafe: bool = False) -> tuple[str, int]:
        """The input's text with its fixes made (the unsafe ones too with ``unsafe``), and how
        many were made. Fixes that overlap wait for the next round; each round checks the text
        again, until no fix is left (or :data:`MAX_FIX_ROUNDS`)."""
        from flowql.fixes import apply_fixes

        text, made = item.text, 0
        for _ in range(MAX_FIX_ROUNDS):
            current = Input(item.name, text, path=item.path, manifest=item.manifest)
            fixes = [
                d.fix
                for is_error, d in self._check_input(current)
                if not is_error and d.fix is not None and (unsafe or d.fix.safe)
            ]
            if not fixes:
                break
            fixed, count = apply_fixes(text, fixes)
            if item.manifest and count > 1 and not _is_toml(fixed):
                # Each fix reads back on its own; together they may not (quotes side by side).
                fixed, count = apply_fixes(text, fixes[:1])
            if fixed == text or (item.manifest and not _is_toml(fixed)):
                break
            text, made = fixed, made + count
        return text, made

    def _query_rules(self, query: Query, *, with_filter: bool = False) -> list[Diagnostic]:
        """The rules ``flowql query --manifest`` plans the query by (FQ7xx), but for those
        that depend on when it runs (how far back the API keeps data): what ``check`` accepts
        in a manifest, ``query`` runs. Placed at the field in the manifest (a filter's part at
        its place in the filter), or at the query's header."""
        from flowql.query import QueryError

        spans = query.field_spans()
        try:
            value = query.to_query(
                default_target=self.config.target,
                default_flow=self.config.flow,
                with_filter=with_filter,
                default_revision=self.config.klaviyo_revision,
            )
            found = value.validate(timeless=True, spans=spans)
        except QueryError as exc:
            found = list(exc.diagnostics)
        return [query.place(d, spans) for d in found if d.code.startswith("FQ7")]

    def _check_one(
        self,
        text: str,
        api: str,
        target: str | None,
        endpoint: str | None,
        flow: str | None,
        model: DataModel,
        query: Query | None,
        check_format: bool,
        *,
        final_newline: bool = False,
    ) -> list[Diagnostic]:
        """Validate one filter, then compile it and budget its request: parsed once."""
        memo = self._memo
        if memo is None:
            return self._check_text(
                text, api, target, endpoint, flow, model, query, check_format, final_newline
            )
        # What the request is made of, of the query's fields (see _endpoint).
        request: tuple[object, ...] | None = None
        if query is not None:
            request = (query.interval, query.group_by, query.granularity)
            request += (query.start, query.end, query.limit)
        key = (text, api, target, endpoint, flow, id(model), request, check_format, final_newline)
        found = memo.get(key)
        if found is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            found = memo[key] = self._check_text(
                text, api, target, endpoint, flow, model, query, check_format, final_newline
            )
        return list(found)

    def _check_text(
        self,
        text: str,
        api: str,
        target: str | None,
        endpoint: str | None,
        flow: str | None,
        model: DataModel,
        query: Query | None,
        check_format: bool,
        final_newline: bool,
    ) -> list[Diagnostic]:
        from flowql.syntax import parse
        from flowql.validate import validate

        try:
            if self.read is not None:
                from flowql.targets import get_target

                expr = get_target(self.read).read(text)
            else:
                expr = parse(text)
        except FlowQLError as exc:
            return list(exc.diagnostics)
        found = validate(
            # Another target's text gets the checks of the tree only: FlowQL's style rules
            # (FQ401, FQ402) are about FlowQL text.
            text if self.read is None else expr,
            model=model,
            flow=flow,
            select=self.config.select or None,
            ignore=self.config.ignore or None,
            check_format=check_format,
            line_length=self.config.line_length,
            parsed=expr if self.read is None else None,
            final_newline=final_newline,
        )
        found.extend(self._request_checks(expr, api, target, endpoint, flow, model, query))
        return found

    def _request_checks(
        self,
        expr: Expr,
        api: str,
        target: str | None,
        endpoint: str | None,
        flow: str | None,
        model: DataModel,
        query: Query | None,
    ) -> list[Diagnostic]:
        """Compile for the target and budget the request URL, when the query says enough."""
        from flowql.errors import UnsupportedError

        found: list[Diagnostic] = []
        params: list[tuple[str, str]] | None = None
        try:
            if api == Api.CONVIVA_FLOW and (target or endpoint or flow):
                from flowql.targets.conviva_flow import compile_filter, encoded_length_bound

                request = self._endpoint(api, endpoint, flow, model, query)
                # A filter the target takes as it is, and that fits in the budget however long
                # lowering makes it, is not compiled: nothing could be said about it.
                bound = encoded_length_bound(expr)
                if bound is not None and (request is None or self._fits(request, bound)):
                    return found
                text, warnings = compile_filter(expr)
                found.extend(warnings)
                params = [("filter", text)]
            else:
                if api == Api.CONVIVA_SESSIONS:
                    from flowql.targets.conviva_sessions import compile_params

                    params = compile_params(expr)
                request = self._endpoint(api, endpoint, flow, model, query)
        except UnsupportedError as exc:
            # The refusal is the finding; a request that cannot be made has no URL to budget.
            return list(exc.diagnostics)
        if request is not None:
            from flowql.endpoints import url_budget

            found.extend(
                url_budget(request, expr, limit=self.config.url_limit, filter_params=params)
            )
        return found

    def _fits(self, request: Endpoint, filter_length: int) -> bool:
        """Whether a request with a filter of that many characters (encoded) is within the
        share of the URL limit past which url_budget warns."""
        from flowql.endpoints import WARN_PERCENT, url_length

        unfiltered = self._unfiltered.get(request)
        if unfiltered is None:
            if len(self._unfiltered) >= _MEMO_SIZE:
                self._unfiltered.clear()
            unfiltered = url_length(request, filter_params=[("filter", "")])
            self._unfiltered[request] = unfiltered
        return (unfiltered + filter_length) * 100 <= self.config.url_limit * WARN_PERCENT

    def _endpoint(
        self,
        api: str,
        endpoint: str | None,
        flow: str | None,
        model: DataModel,
        query: Query | None,
    ) -> Endpoint | None:
        if api == Api.CONVIVA_FLOW and flow and endpoint not in _FLOW_ENDPOINTS:
            # The same for every filter on this flow: worked out once.
            key = (flow, id(model))
            if key not in self._longest:
                from flowql.endpoints import longest_flow_endpoint

                self._longest[key] = longest_flow_endpoint(flow, model)
            return self._longest[key]
        return _endpoint(api, endpoint, flow, model, query)

    def _select(self, found: list[Diagnostic]) -> list[Diagnostic]:
        found = without_echoes(found)
        select, ignore = self.config.select, self.config.ignore
        return [
            d
            for d in found
            if (not select or _matches(d.code, select))
            and not (ignore and _matches(d.code, ignore))
        ]

    def _suppress(self, item: Input, found: list[Diagnostic]) -> list[Diagnostic]:
        """Apply the input's ``# noqa`` comments, and report those that suppress nothing."""
        import re

        # Not text.lower(): on non-ASCII text that makes a copy of four bytes a character.
        if re.search("noqa", item.text, re.IGNORECASE) is None:
            return found
        from flowql.checker.noqa import noqa_comments

        comments = noqa_comments(item.text, manifest=item.manifest)
        if not comments:
            return found
        by_line: dict[int, list[Noqa]] = {}
        for comment in comments:
            by_line.setdefault(comment.line, []).append(comment)
        used: dict[int, set[str]] = {}  # by id() of the comment: the codes it suppressed
        kept = []
        for diagnostic in found:
            here = by_line.get(diagnostic.line or 0, [])
            match = next((c for c in here if c.suppresses(diagnostic.code)), None)
            if match is None:
                kept.append(diagnostic)
            else:
                used.setdefault(id(match), set()).add(diagnostic.code)
        for comment in comments:
            codes = used.get(id(comment), set())
            if comment.codes is None:
                unused = [] if codes else ["noqa"]
            else:
                # A code that is not checked at all (--select, --ignore) is not "unused".
                unused = [
                    c
                    for c in sorted(comment.codes)
                    if not any(x.startswith(c) for x in codes) and self._checked(c)
                ]
            if unused:
                fix = _noqa_fix(item.text, comment, unused, codes)
                kept.extend(self._select([_unused_noqa(comment, unused, bool(codes), fix)]))
        return kept

    def _checked(self, prefix: str) -> bool:
        select, ignore = self.config.select, self.config.ignore
        codes = [c for c in CODES if c.startswith(prefix)] or [prefix]
        return any(
            (not select or _matches(c, select)) and not (ignore and _matches(c, ignore))
            for c in codes
        )


_shared: tuple[Checker, Sequence[Input], Callable[[str], str] | None] | None = None

if TYPE_CHECKING:
    # Work for a worker: inputs[first:last] whole, or the run (start, stop, index of its first
    # query) of the tables of the manifest inputs[first].
    _Unit: TypeAlias = "tuple[int, int, tuple[int, int, int] | None]"
    # What a worker sends back for a run: (index, diagnostics) of the queries that have any,
    # the first query of each name, the later queries of each name; None: not plain.
    _RunDone: TypeAlias = (
        "tuple[list[tuple[int, list[_Fields]]], dict[str, int], dict[str, list[int]]] | None"
    )
    # For whole inputs: (index, is an input error, diagnostic) rows, an unread input that could
    # not be read as its message in place of the diagnostic, and the texts read of the
    # inputs with a row.
    _WholeDone: TypeAlias = "tuple[list[tuple[int, bool, _Fields | str]], dict[int, str]]"
    _Done: TypeAlias = "_WholeDone | _RunDone"

# A manifest is checked in runs of its tables when it is at least this large (about 1,000
# queries): below, one process checks it faster than work can be handed out.
_SPLIT_CHARS = 200_000
_UNREAD_SIZE = 200


def _can_fork() -> bool:
    import sys

    return sys.platform == "linux"


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it ends the pool), so that no worker
    prints a traceback of its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _chunks(sizes: list[int], count: int) -> list[tuple[int, int]]:
    """Split indices into about ``count`` contiguous ranges of similar total size."""
    total = sum(sizes) or 1
    target = total / count
    bounds: list[tuple[int, int]] = []
    start = 0
    running = 0
    for index, size in enumerate(sizes):
        running += size
        if running >= target * (len(bounds) + 1) and index + 1 > start:
            bounds.append((start, index + 1))
            start = index + 1
    if start < len(sizes):
        bounds.append((start, len(sizes)))
    return bounds


def _units(inputs: Sequence[Input], count: int) -> list[_Unit]:
    """About ``count`` units of similar size, in input order: runs of whole inputs, and a
    manifest of at least ``_SPLIT_CHARS`` that is a plain series of tables cut into runs of
    them."""
    # An unread filter file counts as a typical one (a few lines).
    sizes = [len(item.text) if item.loaded else _UNREAD_SIZE for item in inputs]
    share = max(sum(sizes) / count, 1)
    units: list[_Unit] = []
    start = 0
    for index, item in enumerate(inputs):
        size = sizes[index]
        runs = None
        if item.manifest and size >= max(share, _SPLIT_CHARS) and "[[query]]" in item.text:
            from flowql.checker.manifest import table_runs

            runs = table_runs(item.text, round(size / share))
        if runs is None or len(runs) < 2:
            continue
        units.extend(_whole(sizes, start, index, share))
        units.extend((index, index + 1, run) for run in runs)
        start = index + 1
    units.extend(_whole(sizes, start, len(inputs), share))
    return units


def _whole(sizes: list[int], start: int, stop: int, share: float) -> list[_Unit]:
    """Units of whole inputs for ``inputs[start:stop]``, of about ``share`` characters each."""
    if start >= stop:
        return []
    part = sizes[start:stop]
    count = max(1, round(sum(part) / share))
    return [(start + first, start + last, None) for first, last in _chunks(part, count)]


def _fields(d: Diagnostic) -> _Fields:
    span = d.span
    where = (
        (span.start, span.end, span.line, span.column, span.end_line, span.end_column)
        if span is not None
        else None
    )
    fix = d.fix
    made = None
    if fix is not None:
        edits = tuple((e.start, e.end, e.replacement) for e in fix.edits)
        made = (fix.message, fix.applicability.value, edits)
    return (d.code, d.message, where, d.hint, d.severity.value, made)


def _check_unit(job: tuple[int, _Unit]) -> tuple[int, _Done]:
    from flowql.checker.manifest import NotPlainError

    assert _shared is not None
    checker, inputs, read = _shared
    number, (first, last, run) = job
    if run is not None:
        names: dict[str, int] = {}
        repeats: dict[str, list[int]] = {}
        try:
            rows = checker._manifest_run(inputs[first], run, names, repeats)
        except NotPlainError:
            return number, None
        return number, ([(i, [_fields(d) for d in found]) for i, found in rows], names, repeats)
    out: list[tuple[int, bool, _Fields | str]] = []
    texts: dict[int, str] = {}
    for index in range(first, last):
        item = inputs[index]
        text = _text_of(item, read)
        if isinstance(text, UnreadableError):
            out.append((index, True, str(text)))
            continue
        found = checker._check_input(item, text)
        for is_error, d in found:
            out.append((index, is_error, _fields(d)))
        if found and not item.loaded:
            texts[index] = text
    return number, (out, texts)


def _text_of(item: Input, read: Callable[[str], str] | None) -> str | UnreadableError:
    """The text of an input, read now if it was left unread; the error if it cannot be."""
    if item.loaded:
        return item.text
    if read is None or item.path is None:
        raise ValueError(f"{item.name}: left unread, and no way to read it was given")
    try:
        return read(item.path)
    except UnreadableError as exc:
        return exc


def _diagnostic(fields: _Fields) -> Diagnostic:
    from flowql.ast import Span

    code, message, where, hint, severity, made = fields
    span = Span(*where) if where is not None else None
    fix = None
    if made is not None:
        from flowql.fixes import Applicability, Edit, Fix

        fix = Fix([Edit(*e) for e in made[2]], made[0], Applicability(made[1]))
    return Diagnostic(code, message, span, hint=hint, severity=Severity(severity), fix=fix)


def _placed(query: Query, diagnostic: Diagnostic) -> Diagnostic:
    """A diagnostic of a query's filter placed in the manifest, its fix too (when the fix can
    be written in the filter's TOML string)."""
    assert diagnostic.span is not None
    fix = diagnostic.fix
    return diagnostic.at(
        query.to_file(diagnostic.span), fix=query.to_file_fix(fix) if fix is not None else None
    )


def _is_toml(text: str) -> bool:
    from flowql.checker.manifest import TomlSyntaxError, toml_loads

    try:
        toml_loads(text)
    except TomlSyntaxError:
        return False
    return True


# What the data model check reports about a key or value: a target's refusal at the same spot
# is the same problem, with the same fix.
_MODEL_CODES = frozenset({"FQ101", "FQ102", "FQ201", "FQ204"})


def without_echoes(found: list[Diagnostic]) -> list[Diagnostic]:
    """Drop a target's refusal (FQ601) of a key or value that the model check already reports at
    the same spot: `asn == 701` against a text dimension (FQ201), an unknown key (FQ101, FQ102)
    or a value the field does not take (FQ204) is one problem, with one fix."""
    reported = {
        (d.line, d.column, d.end_line, d.end_column) for d in found if d.code in _MODEL_CODES
    }
    if not reported:
        return found
    return [
        d
        for d in found
        if not (d.code == "FQ601" and (d.line, d.column, d.end_line, d.end_column) in reported)
    ]


def _finding_order(finding: Finding) -> tuple[str, int, int, str]:
    d = finding.diagnostic
    return (finding.path, d.line or 0, d.column or 0, d.code)


def _has_errors_from_parse(found: list[Diagnostic]) -> bool:
    return any(d.code.startswith("FQ0") for d in found)


def _api_of(target: str | None, endpoint: str | None) -> tuple[str, str | None]:
    """The API a query is for, from its target and endpoint (Conviva Flow unless said)."""
    if target and target.startswith("klaviyo"):
        family = target[len("klaviyo-") :] if target.startswith("klaviyo-") else None
        return "klaviyo", family
    if target == Api.CONVIVA_SESSIONS or (endpoint or "").startswith(_SESSIONS_PREFIX):
        return "conviva-sessions", None
    return "conviva-flow", None


def _absolute(start: str | None, end: str | None) -> tuple[str, str] | None:
    """Start and end as epoch milliseconds when both are absolute times (a relative one is
    budgeted as the longest request instead: its digits are not known yet)."""
    from flowql import times

    if not start or not end:
        return None
    if any(v.strip().lower().startswith(("-", "+", "now")) for v in (start, end)):
        return None
    try:
        return (
            str(times.to_epoch_ms(times.parse_time(start))),
            str(times.to_epoch_ms(times.parse_time(end))),
        )
    except times.TimeError:
        return None


def _endpoint(
    api: str, endpoint: str | None, flow: str | None, model: DataModel, query: Query | None
) -> Endpoint | None:
    from flowql import endpoints

    if api == Api.CONVIVA_FLOW and flow:
        if endpoint == "real-time":
            interval = (query.interval if query else None) or "PT15M"
            group_by = query.group_by if query else None
            granularity = query.granularity if query else None
            return endpoints.flow_real_time(
                flow, interval, group_by=group_by, granularity=granularity
            )
        edges = _absolute(query.start, query.end) if query is not None else None
        if endpoint == "historical" and query is not None and edges is not None:
            return endpoints.flow_historical(flow, *edges, group_by=query.group_by)
        return endpoints.longest_flow_endpoint(flow, model)
    if api == Api.CONVIVA_SESSIONS and endpoint and endpoint.startswith(_SESSIONS_PREFIX):
        kind = endpoint[len(_SESSIONS_PREFIX) :]
        start = query.start if query else None
        end = query.end if query else None
        limit = query.limit if query else None
        if start and end and start.isdigit() and end.isdigit():
            return endpoints.sessions(kind, start_epoch=start, end_epoch=end, limit=limit)
        return endpoints.sessions(kind, start_date=start, end_date=end, limit=limit)
    return None


def _noqa_fix(text: str, comment: Noqa, unused: list[str], used: set[str]) -> Fix | None:
    """Remove what suppresses nothing: the codes, or the whole ``# noqa`` with the white space
    before it (when nothing but white space follows it on its line, which would otherwise leave
    the comment's own text)."""
    from flowql.fixes import Edit, Fix

    start, end = comment.start, comment.end
    if comment.codes is not None and len(unused) < len(comment.codes):
        kept = sorted(c for c in comment.codes if c not in unused)
        return Fix([Edit(start, end, "# noqa: " + ", ".join(kept))], "remove the unused codes")
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end < 0 else line_end]
    if rest.strip(" \t\r"):
        return None
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return Fix([Edit(start, end, "")], "remove the comment")


def _unused_noqa(
    comment: Noqa, unused: list[str], partly: bool, fix: Fix | None = None
) -> Diagnostic:
    if unused == ["noqa"]:
        what = "this noqa comment suppresses nothing"
    elif len(unused) == 1:
        what = f"{unused[0]} in this noqa comment suppresses nothing"
    else:
        what = f"{', '.join(unused)} in this noqa comment suppress nothing"
    return Diagnostic(
        "FQ901",
        what,
        comment.span,
        hint="remove the codes that suppress nothing" if partly else "remove the comment",
        severity=Severity(CODES["FQ901"].severity),
        fix=fix,
    )
