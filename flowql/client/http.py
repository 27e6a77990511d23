"""How a request reaches a server and its answer comes back: one interface, two senders.

- :class:`Pool` (the default): HTTP/1.1 over asyncio streams, with h11 speaking the protocol
  (framing, chunked bodies, keep-alive rules) and :mod:`ssl` the TLS. Connections are kept
  alive per origin and reused. It costs about a quarter of the CPU that httpx costs per
  request (``benchmarks/bench_client.py``), which is most of what a window costs the client.
- :class:`HttpxSender`: httpx, when a client is given an httpx transport
  (``httpx.MockTransport`` in tests, a user's own) or the environment names a proxy for the
  base URL (``HTTPS_PROXY``, ``ALL_PROXY``, not excluded by ``NO_PROXY``), which httpx speaks.

Both give an :class:`Answer` (the body decoded, never larger than ``max_body``) or raise
:class:`SendError` (nothing usable came back: refused, reset, a protocol error) or
:class:`BodyError` (an answer came, but its body cannot be read). Neither follows a redirect.
Timeouts are the caller's: it bounds each whole attempt, and a cancelled exchange closes its
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import urllib.request
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from flowql import __version__
from flowql.extras import MissingExtraError, missing_extra

try:
    import h11
except ImportError:  # a lint-only install: using a client says which extra to install
    raise MissingExtraError(missing_extra("h11", "client", "flowql's clients")) from None

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"flowql/{__version__}"
ACCEPT_ENCODING = "gzip, deflate"
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept for reuse (httpx's default)."""
MAX_IDLE = 32
"""Idle connections kept per origin; more are closed."""
_READ_SIZE = 65536
# What a request target may hold as it is: RFC 3986's reserved and unreserved characters and
# "%" (escapes already made). Anything else (a space, a non-ASCII letter) is percent-encoded.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


class SendError(Exception):
    """No usable answer: the connection was refused or reset, the server broke the protocol.
    ``str()`` is the reason, as ``Kind: detail``."""


class BodyError(Exception):
    """An answer came but its body cannot be read: larger than ``max_body`` decoded, or an
    encoding that does not decode."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A server's answer: ``status``, ``headers`` (lower-case names; repeated ones joined with
    ``", "``) and the decoded ``body``."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_success(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300

    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")


class Sender(Protocol):
    """What the client's :class:`~flowql.client._core.Core` sends through."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        max_body: int,
        on_answer: Callable[[], None],
    ) -> Answer:
        """One exchange; ``on_answer`` is called as the answer's status line arrives."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (as httpx reads it), or None."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def open_sender(
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
    trust_env: bool,
) -> Sender:
    """The sender for a client of ``base_url``: :class:`HttpxSender` with a given
    ``transport`` or a proxy from the environment (read only when ``trust_env``), else a
    :class:`Pool`."""
    if transport is not None or (trust_env and proxy_for(base_url) is not None):
        return HttpxSender(base_url, transport=transport, timeout=timeout, trust_env=trust_env)
    return Pool()


# --- bodies ----------------------------------------------------------------------------------


class _Inflater:
    """One ``Content-Encoding`` step undone: gzip, or deflate (zlib-wrapped, or raw as some
    servers send it)."""

    __slots__ = ("maybe_raw", "zobj")

    def __init__(self, gzip: bool) -> None:
        self.zobj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self.maybe_raw = not gzip

    def decompress(self, data: bytes, room: int) -> bytes:
        try:
            out = self.zobj.decompress(data, room)
        except zlib.error:
            if not self.maybe_raw:
                raise
            self.zobj = zlib.decompressobj(-zlib.MAX_WBITS)
            self.maybe_raw = False
            out = self.zobj.decompress(data, room)
        self.maybe_raw = False
        return out

    def flush(self) -> bytes:
        return self.zobj.flush()


class _Body:
    """Collects a body as it arrives, undoing its ``Content-Encoding`` and refusing it once it
    passes ``limit`` bytes decoded (so an inflating body never fills memory)."""

    __slots__ = ("chunks", "inflaters", "limit", "size")

    def __init__(self, encoding: str | None, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.inflaters: list[_Inflater] = []
        # "gzip, deflate" was gzipped, then deflated: undone in the reverse order.
        for name in reversed([e.strip().lower() for e in (encoding or "").split(",")]):
            if name in ("gzip", "x-gzip", "deflate"):
                self.inflaters.append(_Inflater(gzip=name != "deflate"))
            elif name not in ("", "identity"):
                raise BodyError(f"the answer cannot be decoded (Content-Encoding {name!r})")

    def add(self, data: bytes) -> None:
        """Take ``data`` as it came on the wire."""
        try:
            for inflater in self.inflaters:
                # At most one byte past the limit: enough to know that it passed.
                data = inflater.decompress(data, self.limit + 1 - self.size)
        except zlib.error as exc:
            raise BodyError(f"the answer cannot be decoded ({exc})") from None
        self.add_decoded(data)

    def add_decoded(self, data: bytes) -> None:
        """Take ``data`` already decoded."""
        self.size += len(data)
        if self.size > self.limit:
            raise BodyError(f"the answer is larger than {self.limit} bytes decoded (max_body)")
        self.chunks.append(data)

    def done(self) -> bytes:
        """The whole body, decoded."""
        if self.inflaters:
            tail = b""
            try:
                for inflater in self.inflaters:
                    room = self.limit + 1 - self.size
                    tail = (inflater.decompress(tail, room) if tail else b"") + inflater.flush()
            except zlib.error as exc:
                raise BodyError(f"the answer cannot be decoded ({exc})") from None
            if tail:
                self.add_decoded(tail)
        return b"".join(self.chunks)


# --- the pool --------------------------------------------------------------------------------


class _Connection:
    __slots__ = ("idle_since", "protocol", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        """Still open, nothing unasked-for waiting, not idle too long."""
        return (
            now - self.idle_since < KEEPALIVE_EXPIRY
            and not self.writer.transport.is_closing()
            and not self.reader.at_eof()
        )

    def close(self) -> None:
        self.writer.close()

    async def exchange(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        content: bytes | None,
        max_body: int,
        on_answer: Callable[[], None],
    ) -> tuple[Answer, bool]:
        """One request and its answer, and whether the connection may be kept."""
        protocol = self.protocol
        try:
            data = protocol.send(h11.Request(method=method, target=target, headers=headers))
            if content:
                data += protocol.send(h11.Data(data=content)) or b""
            data += protocol.send(h11.EndOfMessage()) or b""
            self.writer.write(data or b"")
            if len(data or b"") > _READ_SIZE:
                await self.writer.drain()
            status = 0
            answer_headers: dict[str, str] = {}
            body: _Body | None = None
            while True:
                event = protocol.next_event()
                if event is h11.NEED_DATA:
                    protocol.receive_data(await self.reader.read(_READ_SIZE))
                elif isinstance(event, h11.Response):
                    on_answer()
                    status = event.status_code
                    for name, value in event.headers:
                        key, text = name.decode("latin-1"), value.decode("latin-1")
                        answer_headers[key] = (
                            f"{answer_headers[key]}, {text}" if key in answer_headers else text
                        )
                    body = _Body(answer_headers.get("content-encoding"), max_body)
                elif isinstance(event, h11.Data):
                    assert body is not None
                    body.add(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise SendError("RemoteProtocolError: the server closed the connection")
                # h11.InformationalResponse (a 1xx): the answer follows.
        except h11.RemoteProtocolError as exc:
            raise SendError(f"RemoteProtocolError: {exc}") from None
        except h11.LocalProtocolError as exc:
            raise SendError(f"LocalProtocolError: {exc}") from None
        except OSError as exc:  # a reset, a broken pipe
            raise SendError(f"ReadError: {exc}") from None
        assert body is not None
        answer = Answer(status, answer_headers, body.done())
        keep = (
            protocol.our_state is h11.DONE
            and protocol.their_state is h11.DONE
            and not protocol.trailing_data[0]
        )
        if keep:
            protocol.start_next_cycle()
        return answer, keep


def _origin(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SendError(f"UnsupportedProtocol: {scheme!r}")
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise SendError(f"InvalidURL: {exc}") from None
    default = port == (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    return scheme, host, port, shown if default else f"{shown}:{port}"


class Pool:
    """HTTP/1.1 connections over asyncio streams, kept alive per origin (see the module);
    ``tls`` is the context for https (default :func:`tls_context`, made when first needed)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls = tls
        self._busy: set[_Connection] = set()

    def _tls_context(self) -> ssl.SSLContext:
        # Made on the first https connection only: loading CA certificates costs tens of ms.
        if self._tls is None:
            self._tls = tls_context()
        return self._tls

    async def _connect(self, scheme: str, host: str, port: int) -> _Connection:
        tls = self._tls_context() if scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=host if tls else None, limit=_READ_SIZE
            )
        except (OSError, ssl.SSLError) as exc:
            raise SendError(f"ConnectError: {exc}") from None
        return _Connection(reader, writer)

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        max_body: int,
        on_answer: Callable[[], None],
    ) -> Answer:
        """See :class:`Sender`."""
        scheme, host, port, authority = _origin(url)
        parts = urlsplit(url)
        target = quote(parts.path or "/", safe=_TARGET_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_TARGET_SAFE)
        given = {name.lower() for name in headers}
        lines = [("Host", authority)]
        if "accept-encoding" not in given:
            lines.append(("Accept-Encoding", ACCEPT_ENCODING))
        if "user-agent" not in given:
            lines.append(("User-Agent", USER_AGENT))
        lines += [(k, v) for k, v in headers.items() if k.lower() not in _OWN]
        if content is not None:
            lines.append(("Content-Length", str(len(content))))
        key = (scheme, host, port)
        connection = self._take(key) or await self._connect(scheme, host, port)
        self._busy.add(connection)
        keep = False
        try:
            answer, keep = await connection.exchange(
                method, target, lines, content, max_body, on_answer
            )
        finally:
            self._busy.discard(connection)
            if not keep:  # also when cancelled (the deadline): the answer may be half read
                connection.close()
        if keep:  # for the next request to this origin
            connection.idle_since = time.monotonic()
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(connection)
            else:
                connection.close()
        return answer

    async def aclose(self) -> None:
        """See :class:`Sender`."""
        closing = [c for idle in self._idle.values() for c in idle] + list(self._busy)
        self._idle.clear()
        self._busy.clear()
        for connection in closing:
            connection.close()
        for connection in closing:
            with contextlib.suppress(OSError, ssl.SSLError):
                await connection.writer.wait_closed()


# Headers the pool writes itself.
_OWN = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def tls_context() -> ssl.SSLContext:
    """A verifying TLS client context: certifi's CA bundle (as httpx uses), or the system's
    where ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` names one."""
    import os

    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


# --- httpx -----------------------------------------------------------------------------------


class HttpxSender:
    """Requests through httpx (see the module): an injected ``transport``, or the
    environment's proxy when ``trust_env``."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        trust_env: bool,
    ) -> None:
        import httpx

        verify: ssl.SSLContext | bool = True
        if transport is None and urlsplit(base_url).scheme == "http":
            # A plain-http base never speaks TLS: no loading of certifi's bundle (tens of ms
            # per client); this context trusts no one.
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            verify=verify,
            transport=transport,
            follow_redirects=False,
            trust_env=trust_env,
        )

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        max_body: int,
        on_answer: Callable[[], None],
    ) -> Answer:
        """See :class:`Sender`."""
        import httpx

        try:
            async with self.client.stream(
                method, url, content=content, headers=dict(headers)
            ) as response:
                on_answer()
                body = _Body(None, max_body)
                async for chunk in response.aiter_bytes():
                    body.add_decoded(chunk)
                kept = _joined(response.headers.multi_items())
                return Answer(response.status_code, kept, body.done())
        except httpx.DecodingError as exc:
            raise BodyError(f"the answer cannot be decoded ({exc})") from None
        except httpx.TransportError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None

    async def aclose(self) -> None:
        """See :class:`Sender`."""
        await self.client.aclose()


def _joined(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
