"""A local server that behaves like the four APIs flowql speaks, for running and testing with no
account and no network.

One server answers, each at its real paths:

- the Conviva DPI Flow API (``/flow-data/metadata/data-model``,
  ``/flow-data/real-time-metrics/...``, ``/flow-data/metrics/...``) and Sessions V3
  (``/insights/3.0/sessions/...``), authenticated with HTTP Basic (any client id, secret
  ``sandbox``);
- Klaviyo's metrics and reporting endpoints (``/api/metrics/``, ``/api/*-reports/``), with
  ``Authorization: Klaviyo-API-Key sandbox`` and a ``revision`` header;
- Flow XO's insights (``/api/insights...``), with ``Authorization: Bearer sandbox``.

The data is synthetic and deterministic: the same ``seed`` and ``now`` give byte-identical
answers. Rate limits, latency, failures and dropped connections can be set, and every request is
logged. See ``docs/sandbox.md``.

>>> from flowql.sandbox import Sandbox
>>> with Sandbox(seed=0) as sb:  # doctest: +SKIP
...     sb.url, sb.klaviyo_url
('http://127.0.0.1:54321', 'http://127.0.0.1:54321/api/')

The server uses the standard library only (:mod:`http.server`).
"""

from __future__ import annotations

from flowql.sandbox._control import (
    APIS,
    DEFAULT_RATE_LIMITS,
    RATE_LIMITED,
    Faults,
    LoggedRequest,
)
from flowql.sandbox._conviva import SAVED_FILTERS
from flowql.sandbox._data import SyntheticData
from flowql.sandbox._server import (
    DEFAULT_LOG_SIZE,
    DEFAULT_PORT,
    MAX_URL_LENGTH,
    SECRET,
    Sandbox,
    serve,
)

__all__ = [
    "APIS",
    "DEFAULT_LOG_SIZE",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMITS",
    "MAX_URL_LENGTH",
    "RATE_LIMITED",
    "SAVED_FILTERS",
    "SECRET",
    "Faults",
    "LoggedRequest",
    "Sandbox",
    "SyntheticData",
    "serve",
]
