"""The errors the flowql clients raise.

Every one is a :class:`~flowql.errors.FlowQLError` carrying an FQ7xx diagnostic, so the CLI and
editors show them like any other finding:

- :class:`ClientError`: the base; raised as it is for a client set up wrong (a plain ``http``
  URL to another host, FQ720; no usable credentials, FQ721).
- :class:`APIError`: the server answered with an error status. ``status``, ``server_message``
  (the server's own words, secrets redacted) and ``request`` (method and URL; headers with the
  ``Authorization`` value replaced by ``********``). One subclass per status class:
  :class:`BadRequest` (400), :class:`Unauthorized` (401, 403), :class:`NotFound` (404),
  :class:`URITooLong` (414), :class:`Unprocessable` (422), :class:`RateLimited` (429, once the
  retries ran out) and :class:`ServerError` (5xx).
- :class:`TransportError`: no answer at all (a timeout, a dropped connection), after the retries.
- :class:`InvalidResponse`: an answer flowql cannot read (not JSON, or not the documented shape).
- :class:`PartialResultError`: a query split into time windows got some windows and not others.
  ``missing`` names each window it could not get with its error; ``result`` is what was fetched,
  merged: nothing fetched is thrown away.

:class:`~flowql.query.QueryError`, raised before any request for a query the server would reject,
lives in :mod:`flowql.query`.

This module imports nothing heavy: the CLI catches these errors without loading httpx.
"""

from __future__ import annotations

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError
from flowql.redact import REDACTED, redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from flowql.query import Window
    from flowql.results import Result

__all__ = [
    "APIError",
    "BadRequest",
    "ClientError",
    "InvalidResponse",
    "NotFound",
    "PartialResultError",
    "RateLimited",
    "RequestInfo",
    "ServerError",
    "TransportError",
    "URITooLong",
    "Unauthorized",
    "Unprocessable",
    "error_for_status",
]


class RequestInfo:
    """The request an error is about: method, URL and headers, secrets redacted.

    The URL carries no secret (every API here takes its credentials in a header); the
    ``Authorization`` header is always shown as ``********``. Immutable.
    """

    __slots__ = ("_headers", "_method", "_url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> None:
        self._method = method
        self._url = redact(url)
        self._headers = tuple(
            (name, REDACTED if name.lower() in _SECRET_HEADERS else value)
            for name, value in (headers or {}).items()
        )

    @property
    def method(self) -> str:
        """``GET`` or ``POST``."""
        return self._method

    @property
    def url(self) -> str:
        """The full URL, query included."""
        return self._url

    @property
    def headers(self) -> dict[str, str]:
        """The request headers, ``Authorization`` redacted."""
        return dict(self._headers)

    def __str__(self) -> str:
        return f"{self._method} {self._url}"

    def __repr__(self) -> str:
        return f"RequestInfo({self._method!r}, {self._url!r})"


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


class ClientError(FlowQLError):
    """Base class of every error a flowql client raises (codes FQ720 to FQ732)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "FQ729",
        hint: str | None = None,
        diagnostics: Sequence[Diagnostic] = (),
    ) -> None:
        # Every live secret redacted, whatever built the message (a parser quoting the data).
        hint = redact(hint) if hint is not None else None
        super().__init__([Diagnostic(code, redact(message), None, hint=hint), *diagnostics])


class APIError(ClientError):
    """The server answered with an error status (FQ729 for a status with no subclass)."""

    code_for_status = "FQ729"
    hint_for_status: str | None = None

    def __init__(
        self,
        status: int,
        server_message: str,
        request: RequestInfo,
        *,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.server_message = redact(server_message)
        self.request = request
        self.retry_after = retry_after
        self.attempts = attempts
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        said = f": {server_message}" if server_message else ""
        super().__init__(
            f"{request} answered {status}{tried}{said}",
            code=self.code_for_status,
            hint=self.hint_for_status,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.server_message!r}, {self.request!r})"


class BadRequest(APIError):  # noqa: N818 - the HTTP status's own name
    """400: the server found the request malformed (a filter it cannot parse...)."""

    code_for_status = "FQ722"
    hint_for_status = "check the filter with `flowql check --target ...` before sending it"


class Unauthorized(APIError):  # noqa: N818 - the HTTP status's own name
    """401 or 403: the credentials are wrong, or lack the scope the endpoint needs."""

    code_for_status = "FQ723"
    hint_for_status = (
        "check the credentials (CONVIVA_CLIENT_ID/CONVIVA_CLIENT_SECRET, KLAVIYO_API_KEY, "
        "FLOWXO_API_KEY) and the scopes of the key"
    )


class NotFound(APIError):  # noqa: N818 - the HTTP status's own name
    """404: no such path, flow id or metric id."""

    code_for_status = "FQ724"
    hint_for_status = "check the id; `flowql model pull` lists the flows of a Conviva account"


class URITooLong(APIError):  # noqa: N818 - the HTTP status's own name
    """414: the URL is longer than the server takes."""

    code_for_status = "FQ725"
    hint_for_status = "shorten the filter, or lower the URL limit flowql checks against"


class Unprocessable(APIError):  # noqa: N818 - the HTTP status's own name
    """422: a valid request with a wrong value (a time range the server refuses...)."""

    code_for_status = "FQ726"


class RateLimited(APIError):  # noqa: N818 - the HTTP status's own name
    """429, still, when the retries ran out (their number or their total time)."""

    code_for_status = "FQ727"
    hint_for_status = "wait and try again, or fetch fewer windows at once"


class ServerError(APIError):
    """5xx: the server failed (503 and 504 only after the retries)."""

    code_for_status = "FQ728"


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    414: URITooLong,
    422: Unprocessable,
    429: RateLimited,
}


def error_for_status(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


class TransportError(ClientError):
    """No answer: a timeout, a refused or dropped connection (after the retries, for requests
    that are retried). ``request`` is the request; ``reason`` what went wrong."""

    def __init__(self, reason: str, request: RequestInfo, *, attempts: int = 1) -> None:
        self.reason = redact(reason)
        self.request = request
        self.attempts = attempts
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(
            f"{request} failed{tried}: {reason}",
            code="FQ730",
            hint="check the network and the base URL, or raise the timeout",
        )


class InvalidResponse(ClientError):  # noqa: N818 - reads as what it is
    """A response flowql cannot read: not JSON, or not the shape the vendor documents."""

    def __init__(self, reason: str, request: RequestInfo) -> None:
        self.reason = redact(reason)
        self.request = request
        super().__init__(f"{request}: {reason}", code="FQ731")


class PartialResultError(ClientError):
    """A multi-window fetch got some windows and not others.

    ``missing`` lists ``(window, error)`` for each window it could not get, in time order;
    ``result`` is the merged result of the windows it got (its ``windows`` name them).
    """

    def __init__(self, missing: Sequence[tuple[Window, ClientError]], result: Result) -> None:
        self.missing = tuple(missing)
        self.result = result
        got = len(result.windows)
        total = got + len(self.missing)
        names = ", ".join(str(window) for window, _ in self.missing[:3])
        more = ", ..." if len(self.missing) > 3 else ""
        super().__init__(
            f"{len(self.missing)} of {total} windows could not be fetched ({names}{more}): "
            f"{self.missing[0][1].message}",
            code="FQ732",
            hint="the windows that were fetched are in .result; fetch the missing ones again",
            diagnostics=[err.diagnostic for _, err in self.missing],
        )
