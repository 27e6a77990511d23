"""The four APIs flowql speaks, described once.

Each :class:`ApiSpec` holds what every face needs to know about one API: its typed name
(:class:`Api`), title, base URL, the environment variables its credentials come from, its limits
(URL length, how far back it keeps data, how long one request may cover, rate limits), its
targets, and its endpoints (:class:`EndpointSpec`: the query fields each takes). The command
line, the REPL, query manifests, ``flowql check`` and the library all read these tables; the
query values of :mod:`flowql.query` enforce them.

This module is data only: it imports nothing but the standard library and
:mod:`flowql.diagnostics`, so every layer above the language may read it.
"""

from __future__ import annotations

import enum

from flowql.diagnostics import did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

__all__ = [
    "APIS",
    "FIELDS",
    "URL_LIMIT",
    "Api",
    "ApiSpec",
    "EndpointSpec",
    "UnknownApiError",
    "api_of_target",
    "api_spec",
    "parse_api",
    "target_api",
]

URL_LIMIT = 4096
"""The longest request URL Conviva accepts ("4K characters"); longer ones get a 414. The one
place this number is written."""


class Api(str, enum.Enum):
    """An API's name. A ``str`` too (``Api.KLAVIYO == "klaviyo"``), so it prints, sorts and
    serialises as the name users type."""

    CONVIVA_FLOW = "conviva-flow"
    CONVIVA_SESSIONS = "conviva-sessions"
    KLAVIYO = "klaviyo"
    FLOWXO = "flowxo"

    def __str__(self) -> str:
        return self.value

    @property
    def is_conviva(self) -> bool:
        """Whether this is one of Conviva's APIs (HTTP Basic credentials, the URL limit)."""
        return self in (Api.CONVIVA_FLOW, Api.CONVIVA_SESSIONS)


class UnknownApiError(ValueError):
    """A name that is not one of :class:`Api`; ``hint`` says which was meant."""

    def __init__(self, name: str) -> None:
        names = ", ".join(a.value for a in Api)
        self.hint = did_you_mean(name, [a.value for a in Api]) or f"use one of {names}"
        super().__init__(f"unknown API '{name}'")


def parse_api(name: str | Api) -> Api:
    """``name`` as an :class:`Api`. Raises :class:`UnknownApiError`."""
    if isinstance(name, Api):
        return name
    try:
        return Api(name)
    except ValueError:
        raise UnknownApiError(str(name)) from None


# The query fields, as manifests and the library name them (the command line writes them in
# kebab-case: --group-by). Each endpoint lists the ones it takes.
FIELDS: dict[str, str] = {
    "flow": "Conviva flow id",
    "start": "start of the time range (ISO 8601, epoch seconds or milliseconds, now, -2h30m)",
    "end": "end of the time range (as start)",
    "tz": "the time zone naive times are read in (UTC, Europe/Madrid, +05:30; default UTC)",
    "interval": "Flow real time: PT1M to PT15M; Klaviyo series: hourly, daily, weekly, monthly",
    "granularity": "Flow real time: the slice, PT1M to PT15M",
    "group_by": "dimension (Flow) or fields (Klaviyo reports) to group by",
    "limit": "how many sessions (Sessions V3) or rows (Flow XO top lists)",
    "max_limit": "raise the Sessions V3 limit cap (500)",
    "viewer_id": "Sessions viewer endpoints: the viewer",
    "viewer_ip": "Sessions viewer endpoints: the viewer's IP",
    "days": "Sessions viewer endpoints: days back",
    "filter_id": "Sessions V3: a saved Conviva filter",
    "statistics": "Klaviyo report statistics",
    "timeframe": "Klaviyo timeframe key, such as last_30_days",
    "conversion_metric_id": "Klaviyo flow and campaign reports: the conversion metric",
    "metric_id": "Klaviyo flow-triggers: the metric",
    "revision": "Klaviyo API revision (YYYY-MM-DD; default: the newest flowql holds the spec of)",
    "unit": "Flow XO insights: hour, day or month",
    "offset": "Flow XO insights: UTC offset in minutes",
    "url_limit": f"Conviva request URL limit (default {URL_LIMIT})",
    "filter": "a FlowQL filter",
    "post_filter": "send the part of the filter the API takes and apply the rest here",
}
"""Every query field, with what it is for (the command line's help and the docs say the same)."""

_TIME = ("start", "end", "tz")
_FILTER = ("filter", "post_filter")


class EndpointSpec:
    """One endpoint of an API: its ``name`` (as ``flowql query API ENDPOINT`` and manifests
    write it), what it returns (``summary``), the query ``fields`` it takes (which of them are
    required, and every other rule, the endpoint's query value checks, each with its own code),
    and ``pull`` for the endpoints that fetch a data model rather than run a query."""

    # A plain class, not a dataclass: this module is on `flowql check`'s start-up path, and
    # dataclasses costs an import of inspect.
    __slots__ = ("fields", "name", "pull", "summary")

    def __init__(
        self, name: str, summary: str, fields: tuple[str, ...] = (), *, pull: bool = False
    ) -> None:
        self.name = name
        self.summary = summary
        self.fields = fields
        self.pull = pull

    def __repr__(self) -> str:
        return f"EndpointSpec({self.name!r})"


class ApiSpec:
    """Everything flowql knows about one API; see the module docstring."""

    __slots__ = (
        "api",
        "base_url",
        "credentials",
        "endpoints",
        "rate_limits",
        "retention_days",
        "secrets",
        "targets",
        "title",
        "url_limit",
        "window_hours",
    )

    def __init__(
        self,
        api: Api,
        title: str,
        base_url: str,
        credentials: tuple[str, ...],
        secrets: tuple[str, ...],
        endpoints: tuple[EndpointSpec, ...],
        targets: tuple[str, ...],
        rate_limits: Mapping[str, tuple[tuple[int, float], ...]] | None = None,
        *,
        url_limit: int | None = None,
        retention_days: int | None = None,
        window_hours: int | None = None,
    ) -> None:
        self.api = api
        self.title = title
        self.base_url = base_url
        self.credentials = credentials
        self.secrets = secrets
        self.endpoints = endpoints
        self.targets = targets
        self.rate_limits = dict(rate_limits or {})
        self.url_limit = url_limit
        self.retention_days = retention_days
        self.window_hours = window_hours

    # Whole days and hours, kept as numbers: datetime is not imported on `flowql check`'s
    # start-up path, which reads this module.
    @property
    def retention(self) -> dt.timedelta | None:
        """How far back the API keeps data, or None (no limit flowql knows of)."""
        import datetime

        days = self.retention_days
        return datetime.timedelta(days=days) if days is not None else None

    @property
    def window(self) -> dt.timedelta | None:
        """The longest range one request covers, or None (the request is not split)."""
        import datetime

        hours = self.window_hours
        return datetime.timedelta(hours=hours) if hours is not None else None

    def __repr__(self) -> str:
        return f"ApiSpec({self.api.value!r})"

    @property
    def name(self) -> str:
        """The API's name as users type it."""
        return self.api.value

    @property
    def endpoint_names(self) -> tuple[str, ...]:
        """The endpoints' names, in the order the docs list them."""
        return tuple(e.name for e in self.endpoints)

    @property
    def query_endpoints(self) -> tuple[str, ...]:
        """The endpoints that run queries (not the data-model pulls)."""
        return tuple(e.name for e in self.endpoints if not e.pull)

    def endpoint(self, name: str) -> EndpointSpec | None:
        """The endpoint called ``name``, or None."""
        return next((e for e in self.endpoints if e.name == name), None)


_CONVIVA_LIMITS = {"default": ((3000, 300.0),)}
_CONVIVA_CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET")
_REPORT = ("statistics", "timeframe", "start", "end", "tz", "group_by", *_FILTER, "revision")
_CONVERSION = ("conversion_metric_id",)

APIS: dict[Api, ApiSpec] = {
    Api.CONVIVA_FLOW: ApiSpec(
        Api.CONVIVA_FLOW,
        "Conviva DPI Flow API",
        "https://api.conviva.com",
        _CONVIVA_CREDENTIALS,
        ("CONVIVA_CLIENT_SECRET",),
        (
            EndpointSpec(
                "real-time",
                "the last 1 to 15 minutes of a flow's metrics",
                ("flow", "interval", "granularity", "group_by", *_FILTER, "url_limit"),
            ),
            EndpointSpec(
                "historical",
                "a flow's metrics over a time range (up to 7 days back)",
                ("flow", *_TIME, "group_by", *_FILTER, "url_limit"),
            ),
            EndpointSpec("data-model", "the account's flows, dimensions and metrics", pull=True),
        ),
        ("conviva-flow",),
        _CONVIVA_LIMITS,
        url_limit=URL_LIMIT,
        retention_days=7,
        window_hours=1,
    ),
    Api.CONVIVA_SESSIONS: ApiSpec(
        Api.CONVIVA_SESSIONS,
        "Conviva Sessions V3",
        "https://api.conviva.com",
        _CONVIVA_CREDENTIALS,
        ("CONVIVA_CLIENT_SECRET",),
        (
            EndpointSpec(
                "content",
                "sample content sessions (up to 31 days back)",
                (*_TIME, "limit", "max_limit", "filter_id", *_FILTER, "url_limit"),
            ),
            EndpointSpec(
                "ad",
                "sample ad sessions (up to 31 days back)",
                (*_TIME, "limit", "max_limit", "filter_id", *_FILTER, "url_limit"),
            ),
            EndpointSpec(
                "viewer",
                "one viewer's sessions",
                ("viewer_id", "viewer_ip", "days", *_TIME, "limit", "max_limit", "url_limit"),
            ),
            EndpointSpec(
                "viewer-summary",
                "one viewer's summary metrics",
                ("viewer_id", "viewer_ip", "days", *_TIME, "url_limit"),
            ),
            EndpointSpec("dimensions", "the account's filter dimensions", pull=True),
        ),
        ("conviva-sessions",),
        _CONVIVA_LIMITS,
        url_limit=URL_LIMIT,
        retention_days=31,
        window_hours=3,
    ),
    Api.KLAVIYO: ApiSpec(
        Api.KLAVIYO,
        "Klaviyo",
        "https://a.klaviyo.com/api/",
        ("KLAVIYO_API_KEY",),
        ("KLAVIYO_API_KEY",),
        (
            EndpointSpec("metrics", "the account's metrics", (*_FILTER, "revision")),
            EndpointSpec(
                "flow-triggers",
                "the flows a metric triggers",
                ("metric_id", *_FILTER, "revision"),
            ),
            EndpointSpec(
                "flow-values",
                "flow statistics over a timeframe",
                (*_REPORT, *_CONVERSION),
            ),
            EndpointSpec(
                "flow-series",
                "flow statistics per interval",
                (*_REPORT, "interval", *_CONVERSION),
            ),
            EndpointSpec(
                "campaign-values",
                "campaign statistics over a timeframe",
                (*_REPORT, *_CONVERSION),
            ),
            EndpointSpec("form-values", "form statistics over a timeframe", _REPORT),
            EndpointSpec(
                "form-series",
                "form statistics per interval",
                (*_REPORT, "interval"),
            ),
            EndpointSpec("segment-values", "segment statistics over a timeframe", _REPORT),
            EndpointSpec(
                "segment-series",
                "segment statistics per interval",
                (*_REPORT, "interval"),
            ),
        ),
        (
            "klaviyo",
            "klaviyo-flow-report",
            "klaviyo-campaign-report",
            "klaviyo-form-report",
            "klaviyo-segment-report",
            "klaviyo-metrics",
        ),
        {"default": ((10, 1.0), (150, 60.0)), "reports": ((1, 1.0), (2, 60.0))},
    ),
    Api.FLOWXO: ApiSpec(
        Api.FLOWXO,
        "Flow XO",
        "https://flowxo.com/api/",
        ("FLOWXO_API_KEY",),
        ("FLOWXO_API_KEY",),
        (
            EndpointSpec(
                "insights",
                "bot activity per hour, day or month",
                (*_TIME, "unit", "offset", "filter"),
            ),
            # Flow XO takes no filter parameter: flowql applies the filter to the records.
            EndpointSpec("top-messages", "the most received messages", (*_TIME, "limit", "filter")),
            EndpointSpec("top-flows", "the most triggered flows", (*_TIME, "limit", "filter")),
        ),
        (),
        {"default": ((5, 1.0), (60, 60.0))},
    ),
}
"""Every API flowql speaks, by name."""


def api_spec(name: str | Api) -> ApiSpec:
    """The description of the API called ``name``. Raises :class:`UnknownApiError`."""
    return APIS[parse_api(name)]


def api_of_target(target: str) -> Api | None:
    """The API a target compiles for (``klaviyo-flow-report`` is Klaviyo's), or None (the
    ``python`` target sends nothing)."""
    for spec in APIS.values():
        if target in spec.targets:
            return spec.api
    return None


def target_api(target: str) -> tuple[str, str | None]:
    """The API a target sends to (``conviva-flow``, ``conviva-sessions``, ``klaviyo``, or the
    target's own name, ``python``, for one that sends nothing) and, for a Klaviyo endpoint
    target, its family (``flow-report``...)."""
    api = api_of_target(target)
    if api is None:
        return target, None
    family = target[len("klaviyo-") :] if target.startswith("klaviyo-") else None
    return api.value, family
