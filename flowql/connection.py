"""Where a face's requests go: the real API with the environment's credentials, or the
built-in sandbox without them.

``flowql query``, ``flowql model pull`` and the REPL's ``:run`` share these helpers, so every
face decides the same way: :func:`has_credentials` reads the variables each API's description
(:mod:`flowql.apis`) names; :func:`connection` yields the client options for an API (credentials
and ``base_url``), starting a sandbox for the command when there are no credentials;
:func:`make_client` builds that API's sync client.

This sits above both the client and the sandbox (it starts one for the other) and below the
command line and the REPL. httpx and the sandbox load only when used.
"""

from __future__ import annotations

import contextlib
import os

from flowql.apis import Api, api_spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TextIO

    from flowql.sandbox import Sandbox

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_SECRET",
    "connection",
    "describing_client",
    "has_credentials",
    "make_client",
    "sandbox_notice",
    "sandbox_options",
]

SANDBOX_CLIENT_ID = "flowql-sandbox"
SANDBOX_SECRET = "sandbox"
"""The credentials the built-in sandbox accepts (they are not secrets)."""


def has_credentials(api: str | Api) -> bool:
    """Whether every environment variable of ``api``'s credentials is set."""
    return all(os.environ.get(name) for name in api_spec(api).credentials)


@contextlib.contextmanager
def connection(
    api: str | Api,
    base_url: str | None,
    err: TextIO,
    sandbox: Callable[[], Sandbox] | None = None,
) -> Iterator[dict[str, Any]]:
    """The client arguments for ``api``: the environment's credentials (and ``base_url`` when
    given), or a sandbox, said on ``err``: the one ``sandbox`` gives (a command that queries
    several APIs shares one), else one started for the command and stopped after it."""
    if base_url is not None or has_credentials(api):
        yield {"base_url": base_url} if base_url else {}
        return
    with contextlib.ExitStack() as stack:
        if sandbox is None:
            from flowql.sandbox import Sandbox

            running = stack.enter_context(Sandbox(seed=0))
        else:
            running = sandbox()
        options = sandbox_options(api, running)
        err.write(sandbox_notice(api, options["base_url"]) + "\n")
        yield options


def sandbox_options(api: str | Api, sandbox: Sandbox) -> dict[str, Any]:
    """The client arguments that send ``api``'s requests to a running sandbox: its URL for that
    API and the credentials the sandbox accepts."""
    name = api_spec(api).api
    url = {
        Api.KLAVIYO: sandbox.klaviyo_url,
        Api.FLOWXO: sandbox.flowxo_url,
    }.get(name, sandbox.conviva_url)
    return {"base_url": url, **_sandbox_credentials(name)}


def _sandbox_credentials(api: Api) -> dict[str, Any]:
    """The client arguments of the credentials the sandbox accepts."""
    if api.is_conviva:
        return {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_SECRET}
    return {"api_key": SANDBOX_SECRET}


def sandbox_notice(api: str | Api, url: str) -> str:
    """What to say when ``api`` is queried on the sandbox at ``url`` for want of credentials."""
    names = " and ".join(api_spec(api).credentials)
    return f"flowql: {names} not set: querying the built-in sandbox at {url}"


def make_client(api: str | Api, options: dict[str, Any]) -> Any:
    """The sync client for ``api``, made with ``options`` (credentials, ``base_url``,
    ``timeout``...)."""
    from flowql import client

    classes: dict[Api, Callable[..., Any]] = {
        Api.CONVIVA_FLOW: client.ConvivaFlowClient,
        Api.CONVIVA_SESSIONS: client.ConvivaSessionsClient,
        Api.KLAVIYO: client.KlaviyoClient,
        Api.FLOWXO: client.FlowXOClient,
    }
    return classes[api_spec(api).api](**options)


def describing_client(api: str | Api, base_url: str | None = None) -> Any:
    """A client to describe ``api``'s requests with (``describe``), sending nothing: the
    environment's credentials when set, so the headers are the ones a run sends (redacted),
    else the sandbox's (a run without credentials goes to the built-in sandbox)."""
    options: dict[str, Any] = {"base_url": base_url} if base_url else {}
    if not has_credentials(api):
        options.update(_sandbox_credentials(api_spec(api).api))
    return make_client(api, options)
