"""``flowql model show``: what a data model holds, as tables (or JSON).

``flowql model show [API [ENDPOINT]]`` names what to show with the words ``flowql query API
ENDPOINT`` runs it with, so that what a user reads here is what they type there:

- ``conviva-flow`` (the default): the flows (id, label, counts); ``--flow ID`` one flow's
  dimensions and metrics;
- ``conviva-sessions`` (or ``--sessions``, as ``flowql model pull --sessions``): the Sessions V3
  dimensions;
- ``klaviyo``: the endpoints that take a filter at the revision (``--revision``); ``klaviyo
  ENDPOINT`` one endpoint's filter fields, group-by fields, statistics and intervals.

The Conviva models are the account's when its credentials are set (fetched as ``flowql model
pull`` fetches them), else the built-in demo ones, said on stderr; ``--model FILE`` shows a saved
one, as ``flowql check --model`` reads it (without it, the configuration's ``model`` when it is
of that API). Klaviyo's fields come from the revision's tables.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any, TextIO

    from flowql.diagnostics import Diagnostic
    from flowql.model import DataModel
    from flowql.model_view import View

__all__ = ["add_show"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_show(verbs: Any, add_connection: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``show`` to the ``flowql model`` verbs."""
    s = verbs.add_parser(
        "show",
        help="list a data model's flows, dimensions, metrics and fields",
        description="Show what a data model holds. API is conviva-flow (the default: the "
        "flows; --flow ID: a flow's dimensions and metrics), conviva-sessions (or --sessions: "
        "the Sessions V3 dimensions) or klaviyo (the endpoints that take a filter; klaviyo "
        "ENDPOINT: an endpoint's filter fields, group-by fields, statistics and intervals). The "
        "Conviva models are the account's when CONVIVA_CLIENT_ID and CONVIVA_CLIENT_SECRET are "
        "set, else the built-in demo ones (said on stderr); --model FILE shows a saved one.",
    )
    s.add_argument("api", metavar="API", nargs="?", help="conviva-flow (default), ... or klaviyo")
    s.add_argument("endpoint", metavar="ENDPOINT", nargs="?", help="klaviyo: the endpoint")
    s.add_argument("--flow", metavar="ID", help="conviva-flow: this flow's dimensions and metrics")
    s.add_argument("--sessions", action="store_true", help="the Sessions V3 dimensions")
    s.add_argument(
        "--model", metavar="PATH", help="a data model JSON file (as flowql check --model reads)"
    )
    s.add_argument(
        "--revision", metavar="YYYY-MM-DD", help="klaviyo: the revision (default: the newest held)"
    )
    s.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json",
    )
    add_connection(s)
    s.set_defaults(handler=_cmd_model_show)


class _UsageError(Exception):
    """A usage error: the diagnostic, and the command-line word it is about (or None)."""

    def __init__(self, diagnostic: Diagnostic, word: str | None = None) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic
        self.word = word


def _usage(message: str, hint: str | None = None, word: str | None = None) -> _UsageError:
    from flowql.diagnostics import Diagnostic

    return _UsageError(Diagnostic("FQ701", message, None, hint=hint), word)


def _render(diagnostic: Diagnostic, argv: list[str] | None, word: str | None) -> str:
    """The diagnostic, placed at ``word`` in the command line when it is there."""
    import shlex

    from flowql.ast import Span
    from flowql.diagnostics import render

    if argv is None or word is None:
        return render(diagnostic, None, "<command line>")
    text = shlex.join(["flowql", *argv])
    quoted = shlex.quote(word)
    after = text.find(" show ")
    at = text.find(" " + quoted, max(after, 0) + 1) if after >= 0 else -1
    if at < 0:
        return render(diagnostic, None, "<command line>")
    span = Span.from_offsets(text, at + 1, at + 1 + len(quoted))
    return render(diagnostic.at(span), text, "<command line>")


def _cmd_model_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.errors import FlowQLError
    from flowql.klaviyo_revisions import RevisionError

    argv = getattr(args, "argv", None)
    try:
        view, extra = _view(args, err)
    except _UsageError as exc:
        err.write(_render(exc.diagnostic, argv, exc.word) + "\n")
        return EXIT_USAGE
    except RevisionError as exc:
        from flowql.diagnostics import Diagnostic

        found = Diagnostic("FQ718", str(exc), None, hint=exc.hint)
        err.write(_render(found, argv, args.revision) + "\n")
        return EXIT_USAGE
    except _FetchError as exc:
        err.write(exc.text + "\n")
        return EXIT_FAILED
    except FlowQLError as exc:  # an unknown flow (FQ103), a model file (FQ801)
        word = args.flow if exc.code == "FQ103" else None
        if exc.code == "FQ801":
            err.write(exc.render(args.model) + "\n")
        else:
            err.write(_render(exc.diagnostic, argv, word) + "\n")
        return EXIT_USAGE
    if args.format == "json":
        import json

        out.write(json.dumps(view.to_dict(**extra), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(view.text())
    return EXIT_OK


class _FetchError(Exception):
    """The account's model could not be fetched: ``text`` says why."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _api(args: argparse.Namespace) -> str:
    """The API to show, from API, --sessions and --model."""
    from flowql.apis import UnknownApiError, parse_api

    if args.api is None:
        return "conviva-sessions" if args.sessions else "conviva-flow"
    try:
        api = str(parse_api(args.api).value)
    except UnknownApiError as exc:
        raise _usage(str(exc), exc.hint, args.api) from None
    if args.sessions and api != "conviva-sessions":
        raise _usage(
            f"--sessions shows the conviva-sessions dimensions, not {api}'s",
            "give one of them",
            "--sessions",
        )
    return api


def _view(args: argparse.Namespace, err: TextIO) -> tuple[View, dict[str, object]]:
    from flowql import model_view

    api = _api(args)
    if api == "flowxo":
        raise _usage(
            "flowxo has no data model: its queries take no filter",
            "the APIs with one are conviva-flow, conviva-sessions and klaviyo",
            args.api,
        )
    if api != "conviva-flow" and args.flow is not None:
        raise _usage(f"--flow is for conviva-flow flows, not {api}", None, "--flow")
    if api != "klaviyo" and args.revision is not None:
        raise _usage(f"--revision is for klaviyo, not {api}", None, "--revision")
    if api == "klaviyo":
        if args.model is not None:
            raise _usage(
                "klaviyo's fields come from flowql's tables of each revision, not a model file",
                "leave out --model; --revision picks the revision",
                "--model",
            )
        from flowql.klaviyo_revisions import resolve_revision

        revision = resolve_revision(args.revision).name
        extra: dict[str, object] = {"api": api, "revision": revision}
        if args.endpoint is None:
            return model_view.klaviyo_view(revision), extra
        try:
            view = model_view.klaviyo_endpoint_view(args.endpoint, revision)
        except model_view.ViewError as exc:
            raise _UsageError(exc.diagnostic, args.endpoint) from None
        return view, {**extra, "endpoint": args.endpoint}
    if args.endpoint is not None:
        hint = "--flow ID shows a flow" if api == "conviva-flow" else None
        raise _usage(f"{api} takes no ENDPOINT here: its model is one", hint, args.endpoint)
    model, source = _model(api, args, err)
    extra = {"api": api, "model": model.name, "source": source}
    if api == "conviva-sessions":
        return model_view.sessions_view(model), extra
    if args.flow is None:
        view = model_view.flows_view(model)
        view.note = "--flow ID shows a flow's dimensions and metrics"
        return view, extra
    return model_view.flow_view(model, args.flow), extra


def _model(api: str, args: argparse.Namespace, err: TextIO) -> tuple[DataModel, str]:
    """The model to show and where it is from (``file``, ``config``, ``account`` or
    ``built-in``)."""
    from flowql.apis import api_spec
    from flowql.connection import has_credentials
    from flowql.model import demo_model, demo_sessions_model, load_model, model_from_data

    sessions = api == "conviva-sessions"
    if args.model is None:
        import os

        from flowql.checker.config import resolve_config

        # The configuration's model, as `flowql check` reads it, when it is of this API.
        configured = resolve_config(getattr(args, "config", None), os.getcwd()).model
        if configured is not None:
            model = load_model(configured)
            if model.kind == api:
                err.write(f"flowql: showing {configured} (the configuration's model)\n")
                return model, "config"
    if args.model is not None:
        model = load_model(args.model)
        if model.kind != api:
            other = "--sessions" if model.kind == "conviva-sessions" else "no --sessions"
            raise _usage(
                f"{args.model} is a {model.kind} model, not {api}'s",
                f"show it with {other}",
                args.model,
            )
        return model, "file"
    if args.base_url is None and not has_credentials(api):
        names = " and ".join(api_spec(api).credentials)
        model = demo_sessions_model() if sessions else demo_model()
        err.write(f"flowql: {names} not set: showing the {model.name}\n")
        return model, "built-in"
    from flowql.client.errors import ClientError
    from flowql.connection import connection, make_client

    try:
        with connection(api, args.base_url, err) as options:
            options.update(timeout=args.timeout)
            with make_client(api, options) as client:
                data = client.dimensions_json() if sessions else client.data_model_json()
    except ClientError as exc:
        raise _FetchError(exc.render("<model show>")) from None
    name = "account's Sessions V3 dimensions" if sessions else "account's data model"
    err.write(f"flowql: showing the {name}\n")
    return model_from_data(data, name=name), "account"
