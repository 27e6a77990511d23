"""Clients for the Conviva DPI Flow API, Conviva Sessions V3, Klaviyo and Flow XO.

One implementation, async at the core (HTTP/1.1 over asyncio, :mod:`flowql.client.http`);
each API has an async client and a sync one that runs the same coroutines on an event loop of
its own::

    from flowql.client import ConvivaFlowClient

    with ConvivaFlowClient() as flow:  # CONVIVA_CLIENT_ID, CONVIVA_CLIENT_SECRET
        rows = flow.historical("825", "-3h", "now", group_by="geo_country",
                               filter="device_operating_system == 'Android'")
        print(rows.to_csv())

======================================= ===============================================
Async                                   Sync
======================================= ===============================================
:class:`AsyncConvivaFlowClient`         :class:`ConvivaFlowClient`
:class:`AsyncConvivaSessionsClient`     :class:`ConvivaSessionsClient`
:class:`AsyncKlaviyoClient`             :class:`KlaviyoClient`
:class:`AsyncFlowXOClient`              :class:`FlowXOClient`
======================================= ===============================================

Queries are validated before any request (:mod:`flowql.query`); results are typed
(:mod:`flowql.results`); errors are :mod:`flowql.client.errors`. This package imports the
clients (and h11) only when one is first used, so importing it is cheap.
"""

from __future__ import annotations

from flowql._lazy import lazy_exports
from flowql.client.errors import (
    APIError,
    BadRequest,
    ClientError,
    InvalidResponse,
    NotFound,
    PartialResultError,
    RateLimited,
    RequestInfo,
    ServerError,
    TransportError,
    Unauthorized,
    Unprocessable,
    URITooLong,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.client._core import RateLimiter, RetryPolicy, Secret
    from flowql.client.conviva_flow import AsyncConvivaFlowClient, ConvivaFlowClient
    from flowql.client.conviva_sessions import (
        AsyncConvivaSessionsClient,
        ConvivaSessionsClient,
    )
    from flowql.client.flowxo import AsyncFlowXOClient, FlowXOClient
    from flowql.client.klaviyo import AsyncKlaviyoClient, KlaviyoClient

__all__ = [
    "APIError",
    "AsyncConvivaFlowClient",
    "AsyncConvivaSessionsClient",
    "AsyncFlowXOClient",
    "AsyncKlaviyoClient",
    "BadRequest",
    "ClientError",
    "ConvivaFlowClient",
    "ConvivaSessionsClient",
    "FlowXOClient",
    "InvalidResponse",
    "KlaviyoClient",
    "NotFound",
    "PartialResultError",
    "RateLimited",
    "RateLimiter",
    "RequestInfo",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "TransportError",
    "URITooLong",
    "Unauthorized",
    "Unprocessable",
]

_LAZY = {
    "RateLimiter": "flowql.client._core",
    "RetryPolicy": "flowql.client._core",
    "Secret": "flowql.client._core",
    "AsyncConvivaFlowClient": "flowql.client.conviva_flow",
    "ConvivaFlowClient": "flowql.client.conviva_flow",
    "AsyncConvivaSessionsClient": "flowql.client.conviva_sessions",
    "ConvivaSessionsClient": "flowql.client.conviva_sessions",
    "AsyncKlaviyoClient": "flowql.client.klaviyo",
    "KlaviyoClient": "flowql.client.klaviyo",
    "AsyncFlowXOClient": "flowql.client.flowxo",
    "FlowXOClient": "flowql.client.flowxo",
}


# The clients, imported (with h11) on first use.
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
