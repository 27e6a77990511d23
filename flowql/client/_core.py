"""The machinery every flowql client shares: one async implementation, used by the sync
clients through an event loop of their own.

- :class:`Secret` keeps a credential out of every repr, str, log line, exception and pickle.
- :func:`check_url` allows ``https`` anywhere and plain ``http`` only to this machine (the
  sandbox): 127.0.0.0/8, ``::1``, ``localhost``.
- :class:`RetryPolicy`: 429, 503, 504 and transport errors are retried with exponential backoff
  and full jitter, ``Retry-After`` honoured as the least wait, bounded in attempts and in total
  time.
- :class:`RateLimiter`: sliding windows (``(count, seconds)`` pairs), shared by every request
  of one client; every request waits for room in all of its limiter's windows.
- :class:`Core` sends one request through all of that and maps error statuses to the typed
  errors of :mod:`flowql.client.errors`; :class:`AsyncClientBase` runs a query's plan (several
  windows at once, within a concurrency limit), merges and post-filters;
  :class:`SyncClientBase` runs the same coroutines on a private loop in a background thread, so
  a sync client works inside a running loop (Jupyter) too.

The clock, the sleep and the random source are injectable, so tests run retries and rate
limits in no time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import ipaddress
import json
import logging
import os
import random
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from flowql.client.errors import (
    ClientError,
    InvalidResponse,
    PartialResultError,
    RequestInfo,
    TransportError,
    error_for_status,
)
from flowql.client.http import Answer, BodyError, Sender, SendError, open_sender
from flowql.redact import REDACTED, Redactor, Secret, credential_problem, redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
    from types import TracebackType

    import httpx

    from flowql.diagnostics import Diagnostic
    from flowql.query import Plan, Request, Window
    from flowql.results import Result

    Clock = Callable[[], float]
    Sleep = Callable[[float], Awaitable[None]]
    Progress = Callable[[int, int], None]

__all__ = [
    "LOGGER",
    "AsyncClientBase",
    "Core",
    "RateLimiter",
    "RetryPolicy",
    "Secret",
    "SyncClientBase",
    "check_url",
    "is_loopback",
    "only_piece",
    "retry_after_seconds",
    "secret_from",
]

LOGGER = logging.getLogger("flowql.client")
"""Where the clients log: each request at DEBUG, retries at INFO, giving up at WARNING.
Credentials never appear in a record."""


class _Redacting(logging.Filter):
    """The last line of defence: a record's final text, every live secret redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


LOGGER.addFilter(_Redacting())

T = TypeVar("T")
R = TypeVar("R", bound="Result")


# --- secrets ---------------------------------------------------------------------------------


def secret_from(value: str | Secret | None, env: str, what: str) -> Secret:
    """The credential given, else the environment variable ``env``; a :class:`ClientError`
    (FQ721) naming both when neither is set."""
    if value is None or (isinstance(value, str) and not value):
        value = os.environ.get(env) or None
    if value is None:
        raise ClientError(
            f"no {what}: pass it to the client or set {env}",
            code="FQ721",
            hint="without credentials, `flowql query` uses the built-in sandbox",
        )
    secret = value if isinstance(value, Secret) else Secret(value)
    # Checked here, once: a CR or a non-ASCII character would otherwise fail in h11, after
    # the retries, with the header value (the key) in its message.
    problem = credential_problem(secret.reveal(), what)
    if problem is not None:
        raise ClientError(
            problem,
            code="FQ721",
            hint=f"the {what} comes from the client's argument or from {env}",
        )
    return secret


# --- URLs ------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: a loopback address (127.0.0.0/8, ``::1``) or the exact
    name ``localhost`` (resolved by the system, from /etc/hosts). Not ``*.localhost``: such a
    name goes wherever DNS sends it."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str = "base URL") -> str:
    """``url`` if it is ``https``, or plain ``http`` to this machine; otherwise a
    :class:`ClientError` (FQ720), before any request is sent."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here, not at the first request
    except ValueError:
        raise ClientError(
            f"the {what} is not a URL",
            code="FQ720",
            hint="give a URL such as https://api.conviva.com",
        ) from None
    if "@" in parts.netloc:
        # Refused, not redacted: the URL is shown in messages and logs, and credentials go in
        # the environment (a password here would also be sent as Basic auth by httpx).
        raise ClientError(
            f"the {what} holds a user name or password (before an '@'): it was not used",
            code="FQ720",
            hint="give the URL without them; credentials come from the environment "
            "(CONVIVA_CLIENT_ID/CONVIVA_CLIENT_SECRET, KLAVIYO_API_KEY, FLOWXO_API_KEY)",
        )
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    if parts.scheme == "http":
        raise ClientError(
            f"the {what} {url} is plain http: credentials would cross the network unencrypted",
            code="FQ720",
            hint="use https (plain http is allowed only to this machine, for the sandbox)",
        )
    raise ClientError(
        f"the {what} {url!r} is not an https URL",
        code="FQ720",
        hint="give a URL such as https://api.conviva.com",
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


# --- retries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    A request that fails with one of ``statuses`` or a transport error is tried again, up to
    ``max_attempts`` tries in all, waiting a random time between 0 and ``min(max_delay,
    base_delay * 2**(attempt - 1))`` (full jitter), or ``Retry-After`` if longer. No retry
    starts if it would end more than ``max_retry_time`` seconds after the first try began.
    """

    max_attempts: int = 5
    max_retry_time: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    statuses: frozenset[int] = field(default=frozenset({429, 503, 504}))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_retry_time < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry times must not be negative")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The jittered wait after failed try number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 60))
        return rng.uniform(0, ceiling)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: delay-seconds, or an HTTP date (``now`` is the
    current epoch time, for tests). None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        current = time.time() if now is None else now
        return max(0.0, moment.timestamp() - current)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


# --- rate limits -----------------------------------------------------------------------------


_MARGIN = 0.01  # of each window's length
_MIN_MARGIN = 0.05  # seconds


class _Slot:
    """One request's place in a :class:`RateLimiter`: pending (``at`` is None) until the
    request has reached the server, then the moment it was counted."""

    __slots__ = ("at", "done")

    def __init__(self) -> None:
        self.at: float | None = None
        self.done = asyncio.Event()

    def release(self, now: float) -> None:
        """Count the request at ``now`` (only the first call counts)."""
        if self.at is None:
            self.at = now
            self.done.set()


class RateLimiter:
    """Sliding-window rate limits: ``limits`` is ``[(count, seconds), ...]`` and no window of
    ``seconds`` ever holds more than ``count`` requests of this limiter (with a margin of 1% of
    the window, at least 50 ms, for the network's jitter). A request the client sends is
    counted when its answer begins (:meth:`reserve`), which is after the server received it,
    however long it took to get there. Waiters are served in order; the clock and sleep are
    the client's."""

    def __init__(self, limits: Sequence[tuple[int, float]], *, clock: Clock, sleep: Sleep) -> None:
        for count, seconds in limits:
            if count < 1 or seconds <= 0:
                raise ValueError(
                    f"a rate limit is (count >= 1, seconds > 0), not {(count, seconds)}"
                )
        self.limits = tuple((int(c), float(s)) for c, s in limits)
        self._clock = clock
        self._sleep = sleep
        self._keep = max((c for c, _ in self.limits), default=1)
        self._history: list[_Slot] = []
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> None:
        """Wait until a request fits every window, then count it at once."""
        slot = await self.reserve()
        if slot is not None:
            slot.release(self._clock())

    async def reserve(self) -> _Slot | None:
        """Wait until a request fits every window, and hold its place: the caller releases
        the slot once the server has the request (when the answer begins, or the attempt
        ends), and it counts from then. Until then it counts as the most recent of all, so a
        request slow to reach the server is never counted before it arrived. None when there
        are no limits."""
        if not self.limits:
            return None
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                pending = [s for s in self._history if s.at is None]
                times = sorted((s.at for s in self._history if s.at is not None), reverse=True)
                wait = 0.0
                blocker: _Slot | None = None
                for count, seconds in self.limits:
                    if len(self._history) < count:
                        continue
                    if len(pending) >= count:
                        blocker = pending[0]
                        break
                    # A margin: the server counts arrivals, by its own clock.
                    margin = max(_MIN_MARGIN, seconds * _MARGIN)
                    wait = max(wait, times[count - 1 - len(pending)] + seconds + margin - now)
                if blocker is not None:
                    await blocker.done.wait()
                    continue
                if wait <= 0:
                    slot = _Slot()
                    self._history.append(slot)
                    if len(self._history) > self._keep:
                        # Only the most recent moments matter; a pending slot is never dropped.
                        oldest = min(
                            (s for s in self._history if s.at is not None), key=lambda s: s.at or 0
                        )
                        self._history.remove(oldest)
                    return slot
                await self._sleep(wait)

    def __repr__(self) -> str:
        shown = ", ".join(f"{c} per {s:g} s" for c, s in self.limits)
        return f"RateLimiter({shown})"


# --- one request -----------------------------------------------------------------------------


def _nothing() -> None:
    pass


def _release(slot: _Slot, clock: Clock) -> None:
    slot.release(clock())


def _server_message(answer: Answer, redact: Callable[[str], str]) -> str:
    """The server's own words about an error: Klaviyo's JSON:API ``errors[]`` details, a
    ``message`` or ``error`` field, or the start of the body; ``redact``-ed before it is cut,
    so a cut never leaves the start of a secret."""
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        return redact(" ".join(answer.text().split()))[:300]
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors:
                if isinstance(item, dict):
                    text = item.get("detail") or item.get("title") or item.get("code")
                    if text:
                        parts.append(str(text))
            if parts:
                return redact("; ".join(parts))[:500]
        for key in ("message", "detail", "error", "title"):
            if isinstance(data.get(key), str) and data[key]:
                return redact(str(data[key]))[:500]
    return redact(" ".join(str(data).split()))[:300]


MAX_BODY = 64 * 1024 * 1024
"""The largest decoded answer a client reads by default (``max_body``), in bytes."""

MAX_DEPTH = 200
"""How deeply an answer's JSON may nest: far deeper than any API's documented shape, and
shallow enough for every recursive walk of the result (flattening, export) to finish."""


def decode_json(body: bytes, info: RequestInfo, content_type: str | None = None) -> object:
    """``body`` as JSON, or :class:`InvalidResponse`: not JSON, an integer too long for
    Python to convert, nesting deeper than :data:`MAX_DEPTH`."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise InvalidResponse(f"the answer nests deeper than {MAX_DEPTH} levels", info) from None
    except ValueError as exc:  # also int() over 4,300 digits, and a body that is not UTF-8
        if "digits" in str(exc):
            raise InvalidResponse("the answer holds an integer too long to read", info) from None
        raise InvalidResponse(f"the answer is not JSON ({content_type})", info) from None
    # The depth of every container, without recursion (type() is: subclasses cannot occur).
    stack: list[tuple[Any, int]] = [(data, 1)] if type(data) in (dict, list) else []
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidResponse(f"the answer nests deeper than {MAX_DEPTH} levels", info)
        for item in value.values() if type(value) is dict else value:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
    return data


@dataclass(frozen=True)
class SentRequest:
    """A request as it goes on the wire: ``method``, absolute ``url``, ``headers`` (credentials
    redacted) and the JSON ``body`` (None for a GET)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, object] | None = None

    def render(self) -> str:
        """As an HTTP client shows it: the request line, the headers, a blank line and the
        body as indented JSON."""
        import json

        lines = [f"{self.method} {self.url}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines += ["", json.dumps(self.body, indent=2, ensure_ascii=False)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """``{"method", "url", "headers", "body"}``, for JSON output."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": self.body,
        }


class Core:
    """Sends requests for one client: base URL, auth headers, timeout, rate limits, retries,
    error mapping and logging, every secret redacted from what it reports."""

    def __init__(
        self,
        *,
        api: str,
        base_url: str,
        headers: Callable[[], dict[str, str]],
        secrets: Sequence[Secret],
        timeout: float,
        retry: RetryPolicy,
        limiters: Mapping[str, RateLimiter],
        transport: httpx.AsyncBaseTransport | None,
        clock: Clock,
        sleep: Sleep,
        rng: random.Random,
        max_body: int = MAX_BODY,
    ) -> None:
        self.api = api
        self.max_body = max_body
        self.base_url = check_url(base_url)
        self._headers = headers
        self._secrets = tuple(secrets)
        self._timeout = timeout
        self.retry = retry
        self.limiters = dict(limiters)
        self._transport = transport
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._sender: Sender | None = None
        self._redactor: Redactor | None = None

    def headers(self) -> dict[str, str]:
        """The headers every request carries (credentials included: never show them)."""
        return self._headers()

    @property
    def redactor(self) -> Redactor:
        """The one redaction of this client's secrets, the whole ``Authorization`` value and
        its credential part (a Basic token), each in every spelling (:mod:`flowql.redact`)."""
        if self._redactor is None:
            values = [secret.reveal() for secret in self._secrets]
            for name, value in self._headers().items():
                if name.lower() == "authorization":
                    values += [value, value.partition(" ")[2]]
            self._redactor = Redactor(values)
        return self._redactor

    def redact(self, text: str) -> str:
        """``text`` with every secret of this client (and its header forms) replaced, in every
        spelling, and every other live secret of the process (:func:`flowql.redact.redact`)."""
        return redact(self.redactor(text))

    def url(self, path: str) -> str:
        """The absolute URL of ``path``: relative to the base URL, or an absolute link the
        server gave (which must point where the base URL does: a next-page link to another
        host would get the credentials)."""
        if path.startswith(("http://", "https://")):
            if _origin(path) != _origin(self.base_url):
                raise InvalidResponse(
                    f"the server links to {self.redact(path)}, outside {self.base_url}; "
                    "flowql does not send credentials there",
                    RequestInfo("GET", self.redact(path)),
                )
            return check_url(path, "link")
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def _http(self) -> Sender:
        if self._sender is None:
            self._sender = open_sender(
                self.base_url,
                transport=self._transport,
                timeout=self._timeout,
                # A proxy from the environment must not see sandbox traffic on this machine.
                trust_env=self._transport is None
                and not is_loopback(urlsplit(self.base_url).hostname or ""),
            )
        return self._sender

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        limiter: str = "default",
        headers: Sequence[tuple[str, str]] = (),
    ) -> object:
        """Send one request (retrying as the policy says) and return its decoded JSON.
        ``headers`` are the request's own (a Klaviyo ``revision``, a media type), over the
        client's; a body is sent as JSON, with the ``Content-Type`` they give."""
        url = self.url(path)
        sending = {**self._headers(), **dict(headers)}
        content: bytes | None = None
        if body is not None:
            content = json.dumps(
                body, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode()
            sending.setdefault("Content-Type", "application/json")
        info = RequestInfo(method, self.redact(url), sending)
        gate = self.limiters.get(limiter) or self.limiters.get("default")
        policy = self.retry
        http = self._http()
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            slot = await gate.reserve() if gate is not None else None
            sent = self._clock()
            error: ClientError
            retry_after: float | None = None
            try:
                try:
                    # One deadline for the whole attempt (a timeout per read would let a server
                    # dripping its body keep a request alive unbounded). The rate limiter's
                    # slot counts from the answer's start: the server has the request then.
                    response = await asyncio.wait_for(
                        http.send(
                            method,
                            url,
                            sending,
                            content,
                            self.max_body,
                            _nothing
                            if slot is None
                            else functools.partial(_release, slot, self._clock),
                        ),
                        self._timeout,
                    )
                finally:
                    if slot is not None:  # also when the attempt ended before it began
                        slot.release(self._clock())
            except BodyError as exc:
                raise InvalidResponse(str(exc), info) from None
            except (SendError, asyncio.TimeoutError) as exc:
                if isinstance(exc, SendError):
                    reason = self.redact(str(exc))
                else:
                    reason = f"no complete answer within the {self._timeout:g} s timeout"
                LOGGER.debug("%s %s failed: %s", method, info.url, reason)
                error = TransportError(reason, info, attempts=attempt)
                retryable = True
            else:
                took = (self._clock() - sent) * 1000
                LOGGER.debug("%s %s -> %d in %.0f ms", method, info.url, response.status, took)
                if response.is_success:
                    decoded = decode_json(response.body, info, response.headers.get("content-type"))
                    # Redacted once here, so no result, export or model file holds a
                    # credential a server echoed into its data (the walk only when the body
                    # can hold one: it costs more than decoding).
                    if self.redactor.may_hold(response.body):
                        return self.redactor.data(decoded)
                    return decoded
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
                status = response.status
                error = error_for_status(status)(
                    status,
                    _server_message(response, self.redact),
                    info,
                    retry_after=retry_after,
                    attempts=attempt,
                )
                retryable = status in policy.statuses
            if not retryable or attempt >= policy.max_attempts:
                if retryable:
                    LOGGER.warning("%s %s: giving up after %d attempts", method, info.url, attempt)
                raise error
            delay = max(retry_after or 0.0, policy.backoff(attempt, self._rng))
            if self._clock() - started + delay > policy.max_retry_time:
                LOGGER.warning(
                    "%s %s: giving up, a retry in %.2f s would pass the %g s retry budget",
                    method,
                    info.url,
                    delay,
                    policy.max_retry_time,
                )
                raise error
            LOGGER.info(
                "%s %s: %s; retry %d of %d in %.2f s",
                method,
                info.url,
                error.code if not isinstance(error, TransportError) else error.reason,
                attempt + 1,
                policy.max_attempts,
                delay,
            )
            await self._sleep(delay)

    async def close(self) -> None:
        """Close the connection pool."""
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None


# --- clients ---------------------------------------------------------------------------------


async def _real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class AsyncClientBase:
    """What every async client shares: options, the :class:`Core`, running a plan.

    Options (every client takes them as keywords): ``base_url``; ``timeout`` in seconds for
    each attempt of a request, as a whole (default 30; a ValueError unless positive and
    finite); ``retry`` (a :class:`RetryPolicy`); ``rate_limits``, a mapping
    from limiter name (``default``, and ``reports`` for Klaviyo's reporting endpoints) to
    ``[(count, seconds), ...]`` replacing the client's defaults; ``max_concurrency``, how many
    windows are fetched at once (default 8); ``transport`` (an httpx transport, such as
    ``httpx.MockTransport`` in tests); ``clock``, ``sleep`` and ``seed`` (monotonic time, async
    sleep and the jitter's random seed); ``now`` (a function giving the current wall time, for
    "how far back" rules); ``progress``, called with ``(done, total)`` as windows arrive;
    ``max_body``, the largest decoded answer read, in bytes (64 MiB; a larger one is an
    :class:`InvalidResponse`).
    """

    api: ClassVar[str] = ""  # an Api (a str) in each client
    default_base_url: ClassVar[str] = ""
    default_rate_limits: ClassVar[dict[str, tuple[tuple[int, float], ...]]] = {}

    def __init__(
        self,
        *,
        secrets: Sequence[Secret],
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limits: Mapping[str, Sequence[tuple[int, float]]] | None = None,
        max_concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        seed: int | None = None,
        now: Callable[[], dt.datetime] | None = None,
        progress: Progress | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if max_body < 1:
            raise ValueError("max_body must be at least 1")
        clock = clock or time.monotonic
        sleep = sleep or _real_sleep
        limits = dict(self.default_rate_limits)
        limits.update({k: tuple(v) for k, v in (rate_limits or {}).items()})
        self._core = Core(
            api=self.api,
            base_url=base_url or self.default_base_url,
            headers=self._auth_headers,
            secrets=secrets,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            limiters={
                name: RateLimiter(spec, clock=clock, sleep=sleep) for name, spec in limits.items()
            },
            transport=transport,
            clock=clock,
            sleep=sleep,
            rng=random.Random(seed),
            max_body=max_body,
        )
        self._max_concurrency = max_concurrency
        self._now = now
        self.progress = progress

    def _auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """Where the requests go."""
        return self._core.base_url

    def now(self) -> dt.datetime:
        """The current wall time, as the client sees it (aware UTC)."""
        return self._now() if self._now is not None else dt.datetime.now(dt.timezone.utc)

    async def close(self) -> None:
        """Close the connections."""
        await self._core.close()

    aclose = close

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def _get(self, request: Request) -> object:
        return await self._core.request(
            request.method,
            request.path,
            body=request.body,
            limiter=request.limiter,
            headers=request.headers,
        )

    def plan_of(self, query: Any) -> Plan:
        """``query`` planned as of this client's ``now`` (a :class:`~flowql.query.Plan` is
        taken as it is: what ``--dry-run`` and ``:show`` printed is what is sent)."""
        from flowql.query import Plan

        if isinstance(query, Plan):
            return query
        return query.plan(now=self.now(), **self._plan_options())  # type: ignore[no-any-return]

    def _plan_options(self) -> dict[str, Any]:
        return {}

    def describe(self, request: Request) -> SentRequest:
        """``request`` exactly as this client sends it (method, absolute URL, headers, JSON
        body), the credentials in the headers redacted: what ``--dry-run`` and ``:show``
        print."""
        headers = {
            name: (REDACTED if name.lower() == "authorization" else self._core.redact(value))
            for name, value in {**self._core.headers(), **dict(request.headers)}.items()
        }
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
        return SentRequest(
            request.method,
            self._core.redact(self._core.url(request.path)),
            headers,
            request.body,
        )

    def _info(self, request: Request) -> RequestInfo:
        """What an :class:`InvalidResponse` about ``request``'s answer names (URL redacted)."""
        return RequestInfo(request.method, self._core.redact(self._core.url(request.path)))

    async def _fetch_window(self, fetch: Callable[[Request], Awaitable[T]], request: Request) -> T:
        """``fetch(request)``, any failure to read its answer an :class:`InvalidResponse` of
        that window (so it is recorded, and the other windows kept). A ``BaseException`` that
        is not an ``Exception`` (cancellation, Ctrl-C) goes through as it is."""
        try:
            return await fetch(request)
        except ClientError:
            raise
        except Exception as exc:
            # Only the exception's type: its text may quote the server's data.
            raise InvalidResponse(
                f"the answer does not have the documented shape ({type(exc).__name__})",
                self._info(request),
            ) from None

    async def _run(
        self,
        plan: Plan,
        fetch: Callable[[Request], Awaitable[T]],
        merge: Callable[[list[tuple[Request, T]]], Result],
    ) -> Result:
        """Fetch every request of ``plan`` (windows at once, within the concurrency limit),
        merge what arrived in time order, apply the post-filter and the plan's metadata.

        A failed window does not stop the others; if any failed, :class:`PartialResultError`
        names them and carries the merged result of the rest.
        """
        requests = plan.requests
        notes: list[Diagnostic] = []
        skipped = object()

        async def send(request: Request) -> tuple[Request, object]:
            # Clamped as it is sent: a range at an API's retention edge stays servable.
            fresh, note = plan.refresh(request, self.now())
            if note is not None:
                notes.append(note)
            if fresh is None:
                return request, skipped
            return fresh, await self._fetch_window(fetch, fresh)

        if len(requests) == 1:
            sent, piece = await send(requests[0])
            pieces = [] if piece is skipped else [(sent, piece)]
            return self._finish(plan, merge(pieces), notes)  # type: ignore[arg-type]
        gate = asyncio.Semaphore(self._max_concurrency)
        done = 0

        async def one(request: Request) -> tuple[Request, object]:
            nonlocal done
            async with gate:
                try:
                    return await send(request)
                finally:
                    done += 1
                    if self.progress is not None:
                        self.progress(done, len(requests))

        outcomes = await asyncio.gather(*(one(r) for r in requests), return_exceptions=True)
        got: list[tuple[Request, T]] = []
        missing: list[tuple[Window, ClientError]] = []
        for request, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, ClientError):
                assert request.window is not None
                missing.append((request.window, outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
            elif outcome[1] is not skipped:
                got.append(outcome)  # type: ignore[arg-type]
        result = self._finish(plan, merge(got), notes)
        if missing:
            raise PartialResultError(missing, result)
        return result

    def _finish(self, plan: Plan, result: Result, notes: Sequence[Diagnostic] = ()) -> Result:
        import dataclasses

        local = plan.filter.local
        if local is not None:
            from flowql.targets.python import compile_predicate

            result = result.filtered(compile_predicate(local))
        return dataclasses.replace(
            result,
            sent_filter=plan.filter.sent_text,
            post_filter=plan.filter.local_text,
            warnings=(*plan.warnings, *notes, *result.warnings),
        )


def only_piece(pieces: list[tuple[Request, R]]) -> R:
    """The merge of a plan of one request: what that request gave."""
    return pieces[0][1]


class _LoopThread:
    """An event loop running in a daemon thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="flowql-client", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if not self.thread.is_alive():
            coro.close()
            raise RuntimeError("the client is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
        if not self.loop.is_closed():
            self.loop.close()


def _stop(loop: _LoopThread) -> None:
    loop.close()


A = TypeVar("A", bound=AsyncClientBase)


class SyncClientBase(Generic[A]):
    """A sync client: the async client ``A`` run on a private event loop in a background thread
    owned by this object (so it also works where a loop is already running). Takes the async
    client's arguments."""

    _async_class: ClassVar[type[AsyncClientBase]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._async: A = self._async_class(*args, **kwargs)  # type: ignore[assignment]
        self._loop = _LoopThread()
        self._finalizer = weakref.finalize(self, _stop, self._loop)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    @property
    def base_url(self) -> str:
        """Where the requests go."""
        return self._async.base_url

    @property
    def async_client(self) -> A:
        """The async client this one runs."""
        return self._async

    def plan_of(self, query: Any) -> Plan:
        """See :meth:`AsyncClientBase.plan_of`."""
        return self._async.plan_of(query)

    def describe(self, request: Request) -> SentRequest:
        """See :meth:`AsyncClientBase.describe`."""
        return self._async.describe(request)

    def close(self) -> None:
        """Close the connections and stop the background loop."""
        if self._loop.thread.is_alive():
            self._loop.run(self._async.close())
        self._finalizer()

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"
