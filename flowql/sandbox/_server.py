"""The sandbox server: one HTTP/1.1 server (standard library only) for the four APIs, and the
:class:`Sandbox` that runs it in a background thread or in the foreground (:func:`serve`)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hmac
import io
import json
import math
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from flowql.sandbox._control import Faults, LoggedRequest, RateLimiter
from flowql.sandbox._data import SyntheticData
from flowql.sandbox._util import Request, RequestError, Response, parse_query, reason

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

    from flowql.sandbox._control import LimitSpec

__all__ = [
    "DEFAULT_LOG_SIZE",
    "DEFAULT_PORT",
    "MAX_BODY",
    "MAX_URL_LENGTH",
    "MAX_WAITING",
    "MAX_WORKERS",
    "READ_TIMEOUT",
    "SECRET",
    "Sandbox",
    "serve",
]

SECRET = "sandbox"
"""The secret every API accepts by default: any Conviva client id with this client secret, and
this Klaviyo and Flow XO API key."""

DEFAULT_PORT = 8787
"""The port ``flowql sandbox`` listens on unless told otherwise."""

MAX_URL_LENGTH = 4096
"""Requests whose URL (path and query) is longer get a 414, as Conviva's do."""

DEFAULT_LOG_SIZE = 1000
"""How many of the latest requests :attr:`Sandbox.log` keeps unless told otherwise (an entry
is about 0.8 KB: the default holds the log under a megabyte however long the sandbox runs)."""

MAX_BODY = 1_048_576
"""Request bodies longer than this (1 MiB) get a 413."""

MAX_WORKERS = 64
"""How many connections are served at once; more wait for a free worker."""

MAX_WAITING = 256
"""How many accepted connections may wait for a worker; past that, a connection is answered
503 (with ``Retry-After: 1``) and closed, so slow clients cannot pin threads without limit."""

READ_TIMEOUT = 30.0
"""Seconds a connection may stay silent (idle between requests, or in the middle of one)
before the sandbox closes it, unless :class:`Sandbox` is told otherwise."""

# Accept errors that mean "no file descriptor (or memory) free now": wait before the next try,
# or the accept loop spins, since the listening socket stays readable.
_ACCEPT_BACKOFF = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 92\r\n\r\n"
    b'{"status":503,"error":"Service Unavailable","message":"the sandbox is busy; retry shortly"}'
)

_KLAVIYO_CODES = {
    400: ("invalid", "Invalid input."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    409: ("conflict", "Conflict."),
    410: ("gone", "Gone."),
    411: ("length_required", "Length required."),
    415: ("unsupported_media_type", "Unsupported media type."),
    413: ("request_too_large", "Request too large."),
    414: ("uri_too_long", "Request URI too long."),
    429: ("throttled", "Request was throttled."),
    500: ("error", "A server error occurred."),
    503: ("service_unavailable", "Service unavailable."),
}


def _classify(path: str, method: str) -> tuple[str | None, str | None]:
    """The API a path belongs to, and its rate-limit bucket."""
    if path.startswith(("/flow-data/", "/insights/")) or path in ("/flow-data", "/insights"):
        return "conviva", "conviva"
    if path == "/api/insights" or path.startswith("/api/insights/"):
        return "flowxo", "flowxo"
    if path == "/api" or path.startswith("/api/"):
        reports = method == "POST" and path.rstrip("/").endswith("-reports")
        return "klaviyo", "klaviyo-reports" if reports else "klaviyo"
    return None, None


class _Outcome:
    """What to send back: a status, headers and a body, or nothing (a dropped connection)."""

    __slots__ = ("body", "drop", "headers", "status")

    def __init__(
        self, status: int, headers: dict[str, str], body: bytes, drop: bool = False
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.drop = drop


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 drops connections when a client opens more at once
    # (flowql fetches windows over 8), and the client then waits for a SYN retransmission.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        # A bounded pool: at most MAX_WORKERS threads, each serving connections until none wait.
        self.active = 0
        self.waiting: deque[tuple[Any, Any]] = deque()
        self.accept_failures = 0
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            accepted = super().get_request()
        except OSError as exc:
            if exc.errno in _ACCEPT_BACKOFF:
                # Back off (10 ms doubling to 0.5 s) instead of spinning on a socket that stays
                # readable; socketserver ignores the error and the loop comes back here.
                self.accept_failures += 1
                time.sleep(min(0.5, 0.01 * 2 ** min(self.accept_failures, 6)))
            raise
        self.accept_failures = 0
        return accepted

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            start = self.active < MAX_WORKERS
            if start:
                self.active += 1
            elif len(self.waiting) < MAX_WAITING:
                self.waiting.append((request, client_address))
                return
        if not start:
            self._busy(request)
            return
        worker = threading.Thread(
            target=self._work, args=(request, client_address), name="flowql-sandbox-worker"
        )
        worker.daemon = True
        worker.start()

    def _busy(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(_BUSY)
        self.shutdown_request(request)

    def _work(self, request: Any, client_address: Any) -> None:
        while True:
            self.process_request_thread(request, client_address)
            with self.connections_lock:
                if not self.waiting:
                    self.active -= 1
                    return
                request, client_address = self.waiting.popleft()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that went away (a timed-out client, a stopped server)."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
            waiting = list(self.waiting)
            self.waiting.clear()
        for request, _ in waiting:
            self.shutdown_request(request)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _DeadlineReader(io.RawIOBase):
    """A connection's reading side: each read waits at most ``per_read`` seconds, and once a
    request's first byte has come, the whole request (line, headers, body) must come within
    ``whole`` seconds, so a client dripping a byte now and then cannot keep a worker."""

    def __init__(self, sock: socket.socket, per_read: float, whole: float) -> None:
        super().__init__()
        self.sock = sock
        self.per_read = per_read
        self.whole = whole
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is None:
            self.sock.settimeout(self.per_read)
            got = self.sock.recv_into(buffer)
            if got:
                self.deadline = time.monotonic() + self.whole
            return got
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the request did not arrive whole within {self.whole:g} s")
        self.sock.settimeout(min(self.per_read, left))
        return self.sock.recv_into(buffer)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flowql-sandbox"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Every read waits at most this long: an idle keep-alive connection, or a client that
        # stops halfway through a request, is closed.
        timeout = self.server.sandbox.read_timeout
        self.connection.settimeout(timeout)
        self.reader = _DeadlineReader(self.connection, timeout, timeout)
        self.rfile.close()  # the socketserver's own, replaced
        self.rfile = io.BufferedReader(self.reader, 65536)
        # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
        # for the client's delayed ACK (40 ms on Linux) on every keep-alive response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def handle_one_request(self) -> None:
        """One request, read within its deadline (see :class:`_DeadlineReader`)."""
        self.reader.deadline = None
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log: the sandbox keeps its own."""

    def do_GET(self) -> None:
        """Answer a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Answer a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Answer a PUT (405 on the API paths)."""
        self._serve()

    def do_PATCH(self) -> None:
        """Answer a PATCH (405 on the API paths)."""
        self._serve()

    def do_DELETE(self) -> None:
        """Answer a DELETE (405 on the API paths)."""
        self._serve()

    def _serve(self) -> None:
        arrival = time.monotonic()
        sandbox = self.server.sandbox
        target = self.path
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = target.partition("?")
        body = b""
        length_text = self.headers.get("Content-Length")
        outcome: _Outcome | None = None
        api, _ = _classify(path, self.command)
        if self.headers.get("Transfer-Encoding"):
            outcome = sandbox._error(api, 411, "send the body with a Content-Length", self)
            self.close_connection = True
        elif length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                outcome = sandbox._error(api, 413, f"the body is limited to {MAX_BODY} bytes", self)
                self.close_connection = True
            else:
                body = self.rfile.read(length)
        if outcome is None:
            outcome = sandbox._respond(self.command, target, path, query, body, self, arrival)
        if outcome.drop:
            sandbox._record(self.command, path, query, None, arrival, api, self.headers, body)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        # Logged before the latency, so that a request whose client gave up is logged at once.
        sandbox._record(self.command, path, query, outcome.status, arrival, api, self.headers, body)
        delay = sandbox.faults.latency(api)
        if delay:
            time.sleep(delay)
        # Reading may have left a short timeout: the answer gets a whole read_timeout to go.
        self.connection.settimeout(sandbox.read_timeout)
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(outcome.body)


class Sandbox:
    """A local server that behaves like the Conviva DPI Flow and Sessions V3 APIs, Klaviyo's
    metrics and reporting API and Flow XO's insights API, each at its real paths, answering from
    deterministic synthetic data.

    >>> from datetime import datetime, timezone
    >>> import httpx
    >>> now = datetime(2025, 8, 5, 19, 30, tzinfo=timezone.utc)
    >>> with Sandbox(seed=0, now=now) as sb:
    ...     model = httpx.get(sb.conviva_url + "/flow-data/metadata/data-model",
    ...                       auth=("any-client-id", "sandbox")).json()
    >>> [flow["id"] for flow in model["flow_models"]]
    ['825', '142']

    ``seed`` picks the data; ``now`` (an aware datetime) fixes the clock the data and the time
    rules are relative to (default: the real clock). ``latency`` adds seconds to every response
    (a number, or a mapping of API name to seconds). ``rate_limits`` overrides the limits of
    :data:`~flowql.sandbox.DEFAULT_RATE_LIMITS` per bucket (``{"conviva": (10, 1.0)}``; None or
    False for a bucket: unlimited); ``rate_limits=False`` turns them all off. ``error_rate`` and
    ``drop_rate`` make that share of requests fail with a 503 or lose their connection (seeded).
    ``secret`` is what every API accepts as its credential (and Klaviyo, ``secret + "-no-scopes"``
    as a key without scopes: 403). ``access_log``, a text stream, gets one line per request.
    ``log_size`` is how many of the latest requests :attr:`log` keeps (:data:`DEFAULT_LOG_SIZE`;
    None keeps every one, for a run that needs them all). ``inclusive_end`` makes the Flow API's
    historical answers include the bucket stamped at the range's end, as the guide's example
    does (default: half-open ranges). ``klaviyo_retired`` is what a retired Klaviyo revision
    gets: ``serve`` (by its own rules), ``gone`` (410) or ``forward`` (the oldest supported
    revision's rules).

    Use it as a context manager, or :meth:`start` and :meth:`stop`. Port 0 (the default) picks
    a free port; :attr:`url` says which.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        now: datetime | None = None,
        latency: float | Mapping[str, float] = 0.0,
        rate_limits: Mapping[str, LimitSpec] | bool | None = None,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        secret: str = SECRET,
        access_log: TextIO | None = None,
        log_size: int | None = DEFAULT_LOG_SIZE,
        inclusive_end: bool = False,
        klaviyo_retired: str = "serve",
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        if not secret:
            raise ValueError("the sandbox needs a non-empty secret")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int from 0 to 65535, not {port!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int, not {seed!r}")
        if (
            isinstance(read_timeout, bool)
            or not isinstance(read_timeout, (int, float))
            or not (math.isfinite(read_timeout) and read_timeout > 0)
        ):
            raise ValueError(
                f"read_timeout must be a positive number of seconds, not {read_timeout!r}"
            )
        self.read_timeout = float(read_timeout)
        if log_size is not None and (
            isinstance(log_size, bool) or not isinstance(log_size, int) or log_size < 1
        ):
            raise ValueError(f"log_size must be a positive int or None, not {log_size!r}")
        from flowql.sandbox._klaviyo_revisions import RETIRED_MODES

        if klaviyo_retired not in RETIRED_MODES:
            raise ValueError(
                f"klaviyo_retired must be one of {RETIRED_MODES}, not {klaviyo_retired!r}"
            )
        self.klaviyo_retired = klaviyo_retired
        self.host = host
        self._port = port
        self.seed = seed
        self._secret = secret
        self._now: datetime | None = None
        self.set_now(now)
        self.data = SyntheticData(seed)
        self.faults = Faults(seed, latency, error_rate, drop_rate)
        self._limiter = RateLimiter(rate_limits)
        # A ring: the oldest entries go once it is full, so a long run's memory stays bounded.
        self._log: deque[LoggedRequest] = deque(maxlen=log_size)
        self._logged = 0
        self._log_lock = threading.Lock()
        self._access_log = access_log
        self.inclusive_end = inclusive_end
        """Whether historical Flow answers include the bucket stamped at the end (settable)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._apis: dict[str, Any] = {}
        self._apis_lock = threading.Lock()

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return f"<Sandbox seed={self.seed} {state}>"

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Listen and serve in a background (daemon) thread; returns the sandbox."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        server = _Server((self.host, self._port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"flowql-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every open connection, and free the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port the server listens on (the one port 0 picked, once started)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, the root of every API."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def conviva_url(self) -> str:
        """The base URL of the Conviva APIs (the root: their paths start /flow-data/ and
        /insights/)."""
        return self.url

    @property
    def klaviyo_url(self) -> str:
        """The base URL of the Klaviyo API (``.../api/``)."""
        return self.url + "/api/"

    @property
    def flowxo_url(self) -> str:
        """The base URL of the Flow XO API (``.../api/``)."""
        return self.url + "/api/"

    # --- knobs ---------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The sandbox's clock: the fixed ``now``, or the real time."""
        fixed = self._now
        return fixed if fixed is not None else datetime.now(timezone.utc)

    def set_now(self, now: datetime | None) -> None:
        """Fix the clock at ``now`` (an aware datetime), or follow the real clock (None)."""
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be an aware datetime (with a tzinfo), such as UTC")
        self._now = now.astimezone(timezone.utc) if now is not None else None

    @property
    def rate_limits(self) -> dict[str, tuple[tuple[int, float], ...] | None]:
        """Each rate-limit bucket's windows, as (requests, seconds); None: unlimited."""
        return self._limiter.limits()

    def set_rate_limit(self, bucket: str, limit: LimitSpec) -> None:
        """Set one bucket's limit (``conviva``, ``klaviyo-reports``, ``klaviyo``, ``flowxo``):
        ``(requests, seconds)``, a list of such windows, True for the default, None or False
        for none. Its count starts afresh."""
        self._limiter.configure(bucket, limit)

    def disable_rate_limits(self) -> None:
        """Turn every rate limit off."""
        self._limiter.disable()

    @property
    def log(self) -> list[LoggedRequest]:
        """The requests received so far, in arrival order (a copy): the latest
        :attr:`log_size` of them."""
        with self._log_lock:
            return list(self._log)

    @property
    def log_size(self) -> int | None:
        """How many requests :attr:`log` keeps (None: all of them)."""
        return self._log.maxlen

    @property
    def logged(self) -> int:
        """How many requests were logged since the start (or :meth:`clear_log`), those the log
        no longer keeps included."""
        with self._log_lock:
            return self._logged

    def clear_log(self) -> None:
        """Forget the requests logged so far."""
        with self._log_lock:
            self._log.clear()
            self._logged = 0

    # --- answering -----------------------------------------------------------------------

    def _record(
        self,
        method: str,
        path: str,
        query: str,
        status: int | None,
        arrival: float,
        api: str | None,
        headers: Any = None,
        body: bytes = b"",
    ) -> None:
        # Credentials are not kept: the log is for tests and the access log, not for replay.
        kept = tuple(
            (name, value)
            for name, value in (headers or {}).items()
            if name.lower() != "authorization"
        )
        entry = LoggedRequest(
            method, path, query, status, arrival, api, kept, body.decode("utf-8", "replace")
        )
        with self._log_lock:
            self._log.append(entry)
            self._logged += 1
        stream = self._access_log
        if stream is not None:
            shown = path + ("?" + query if query else "")
            if len(shown) > 200:
                shown = shown[:197] + "..."
            answer = "dropped" if status is None else str(status)
            try:
                stream.write(f"{method} {shown} -> {answer}\n")
                stream.flush()
            except (OSError, ValueError):
                pass

    def _api(self, name: str) -> Any:
        with self._apis_lock:
            if name not in self._apis:
                clock = lambda: self.now  # noqa: E731 - the clock can be changed later
                if name == "conviva":
                    from flowql.sandbox._conviva import ConvivaAPI

                    self._apis[name] = ConvivaAPI(
                        self.data.conviva, clock, lambda: self.inclusive_end
                    )
                elif name == "klaviyo":
                    from flowql.sandbox._klaviyo import KlaviyoAPI

                    self._apis[name] = KlaviyoAPI(
                        self.data.klaviyo,
                        clock,
                        no_scopes_key=self._secret + "-no-scopes",
                        retired=lambda: self.klaviyo_retired,
                    )
                else:
                    from flowql.sandbox._flowxo import FlowXOAPI

                    self._apis[name] = FlowXOAPI(self.data.flowxo, clock)
            return self._apis[name]

    def _authorized(self, api: str, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credential = header.strip().partition(" ")
        scheme = scheme.lower()
        credential = credential.strip()
        secret = self._secret.encode("utf-8")
        if api == "conviva":
            if scheme != "basic":
                return False
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, colon, given = decoded.partition(":")
            return bool(colon and client_id) and hmac.compare_digest(given.encode("utf-8"), secret)
        if api == "klaviyo":
            # The key without scopes authenticates; the Klaviyo API answers it 403.
            no_scopes = secret + b"-no-scopes"
            key = credential.encode("utf-8")
            return scheme in ("klaviyo-api-key", "bearer") and (
                hmac.compare_digest(key, secret) or hmac.compare_digest(key, no_scopes)
            )
        return scheme == "bearer" and hmac.compare_digest(credential.encode("utf-8"), secret)

    def _error(
        self,
        api: str | None,
        status: int,
        message: str,
        handler: BaseHTTPRequestHandler,
        problem: RequestError | None = None,
    ) -> _Outcome:
        headers = {"Content-Type": "application/json"}
        if problem is not None:
            headers.update(problem.headers)
        if api == "klaviyo":
            code, title = _KLAVIYO_CODES.get(status, ("error", reason(status) + "."))
            if problem is not None and problem.code:
                code = problem.code
            source: dict[str, str] = {"pointer": "/data/"}
            if problem is not None and problem.parameter is not None:
                source = {"parameter": problem.parameter}
            elif problem is not None and problem.pointer is not None:
                source = {"pointer": problem.pointer}
            name = f"{handler.command} {handler.path} {status} {message}"
            document: object = {
                "errors": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                        "code": code,
                        "title": title,
                        "detail": message,
                        "source": source,
                    }
                ]
            }
            headers["Content-Type"] = "application/vnd.api+json"
        else:
            document = {"status": status, "error": reason(status), "message": message}
        return _Outcome(status, headers, _dump(document))

    def _respond(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        body: bytes,
        handler: BaseHTTPRequestHandler,
        arrival: float,
    ) -> _Outcome:
        api, bucket = _classify(path, method)
        if len(target) > MAX_URL_LENGTH:
            return self._error(
                api,
                414,
                f"the request URL is {len(target)} characters long; the limit is {MAX_URL_LENGTH}",
                handler,
            )
        fault = self.faults.take(api, bucket)
        if fault is not None:
            kind, status, retry_after = fault
            if kind == "drop":
                return _Outcome(0, {}, b"", drop=True)
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return self._error(
                api, status, "injected fault", handler, RequestError(status, "", headers=headers)
            )
        verdict = self._limiter.check(bucket, arrival) if bucket is not None else None
        limit_headers: dict[str, str] = {}
        if verdict is not None and api == "klaviyo":
            limit_headers = {
                "RateLimit-Limit": str(verdict.limit),
                "RateLimit-Remaining": str(verdict.remaining),
                "RateLimit-Reset": str(verdict.reset),
            }
        if verdict is not None and not verdict.allowed:
            # Klaviyo's docs: a 429 carries Retry-After instead of the RateLimit-* headers.
            headers = {"Retry-After": str(verdict.retry_after)}
            message = (
                f"rate limit exceeded; retry in {verdict.retry_after} "
                f"second{'s' if verdict.retry_after != 1 else ''}"
            )
            return self._error(api, 429, message, handler, RequestError(429, "", headers=headers))
        if api is None:
            return self._error(
                None,
                404,
                f"no such path: {path[:200]}; the sandbox serves /flow-data/..., "
                "/insights/3.0/sessions/... and /api/...",
                handler,
            )
        outcome = self._answer(api, method, path, query, body, handler)
        outcome.headers.update(limit_headers)
        return outcome

    def _answer(
        self,
        api: str,
        method: str,
        path: str,
        query: str,
        body: bytes,
        handler: BaseHTTPRequestHandler,
    ) -> _Outcome:
        headers = handler.headers
        if not self._authorized(api, headers.get("Authorization")):
            if api == "conviva":
                message = (
                    "unrecognized credentials: use HTTP Basic auth with a client id and secret"
                )
                extra = {"WWW-Authenticate": 'Basic realm="conviva"'}
            elif api == "klaviyo":
                message = "Missing or invalid API key: send Authorization: Klaviyo-API-Key <key>"
                extra = {}
            else:
                message = "invalid API key: send Authorization: Bearer <API key>"
                extra = {"WWW-Authenticate": 'Bearer realm="flowxo"'}
            return self._error(api, 401, message, handler, RequestError(401, "", headers=extra))
        try:
            try:
                segments = [unquote(s, errors="strict") for s in path.split("/")[1:]]
            except UnicodeDecodeError:
                raise RequestError(400, "the path is not UTF-8 text once decoded") from None
            if segments and segments[-1] == "":
                segments.pop()
            request = Request(
                method,
                path,
                segments,
                query,
                parse_query(query),
                body,
                {k.lower(): v for k, v in headers.items()},
                self._base(handler),
            )
            response: Response = self._api(api).handle(request)
        except RequestError as problem:
            return self._error(api, problem.status, problem.message, handler, problem)
        except Exception:  # a bug in the sandbox: say so, in the API's format
            traceback.print_exc(file=sys.stderr)
            return self._error(api, 500, "internal error in the sandbox", handler)
        content_type = "application/vnd.api+json" if api == "klaviyo" else "application/json"
        out_headers = {"Content-Type": content_type, **response.headers}
        return _Outcome(response.status, out_headers, _dump(response.body))

    def _base(self, handler: BaseHTTPRequestHandler) -> str:
        """The root URL for links in answers: the sandbox's own address, never the request's
        Host header (which a client chooses); on a wildcard address, the one the client
        reached."""
        if self.host not in ("", "0.0.0.0", "::"):
            return self.url
        try:
            host = str(handler.connection.getsockname()[0])
        except OSError:
            return self.url
        shown = host if ":" not in host else f"[{host}]"
        return f"http://{shown}:{self.port}"


def _dump(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    seed: int = 0,
    now: datetime | None = None,
    latency: float | Mapping[str, float] = 0.0,
    rate_limits: Mapping[str, LimitSpec] | bool | None = None,
    error_rate: float = 0.0,
    drop_rate: float = 0.0,
    secret: str = SECRET,
    quiet: bool = False,
    out: TextIO | None = None,
    inclusive_end: bool = False,
) -> int:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM); returns 0.

    Prints one start-up line on ``out`` (stderr by default), then one line per request unless
    ``quiet``. Raises :class:`OSError` when the address cannot be listened on.
    """
    import signal

    stream = out if out is not None else sys.stderr
    sandbox = Sandbox(
        host,
        port,
        seed=seed,
        now=now,
        latency=latency,
        rate_limits=rate_limits,
        error_rate=error_rate,
        drop_rate=drop_rate,
        secret=secret,
        access_log=None if quiet else stream,
        inclusive_end=inclusive_end,
    )
    sandbox.start()
    shown = "sandbox" if secret == SECRET else "the one you set"
    stream.write(
        f"flowql sandbox: serving Conviva, Klaviyo and Flow XO on {sandbox.url} "
        f"(secret: {shown}; Ctrl-C to stop)\n"
    )
    stream.flush()
    stopped = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
    return 0
