"""The hostile-input suite, servers: answers that lie about their types, nest without end,
hold integers too long to read, inflate from a small gzip body, or never finish (a server on
127.0.0.1 that drips, resets, answers nothing, lies about its length). The promises: every
malformed window is a recorded failure of that window (the rest kept), every request ends
within its timeout (+ 1 s), no answer is read past ``max_body``, and the rate limiter counts a
request once the server has it. Counted in the tally as area ``servers``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hostile import failed, tried

from flowql.client import (
    AsyncConvivaFlowClient,
    AsyncConvivaSessionsClient,
    AsyncFlowXOClient,
    AsyncKlaviyoClient,
    ClientError,
    InvalidResponse,
    PartialResultError,
    RetryPolicy,
    TransportError,
)
from flowql.client._core import RateLimiter
from flowql.query import FlowQuery, SessionsQuery
from flowql.results import TimeSeries

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BAD = "1795341600000"  # the window starting 10:00 of -3h..now


@contextlib.contextmanager
def hostile(what: str) -> Iterator[None]:
    """One hostile input tried; anything raised out of it is a broken promise."""
    tried("servers")
    try:
        yield
    except BaseException:
        failed("servers")
        raise


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def good_window(request: httpx.Request) -> httpx.Response:
    span = request.url.path.split("/")[4]
    start = int(span.split("_to_")[0])
    if "/group-by/" in request.url.path:
        row = {"dimension": {"key": "geo_country", "value": "Spain"}, "metric_data": {"m": 1}}
        body: dict[str, Any] = {"time_series": [{"dimensional_data": [row]}]}
    else:
        body = {"time_series": [{"timestamp": {"epoch_ms": start}, "metric_data": {"m": 1}}]}
    return httpx.Response(200, json=body)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (about 1000 times smaller)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


BOMB = gzip_bomb(100 << 20)  # 100 MiB decoded, over the 64 MiB default


# A window's 200 body, as raw bytes: each one must cost that window only.
MALFORMED: dict[str, bytes] = {
    "iso date not a date": (
        b'{"time_series":[{"timestamp":{"iso_date":"not a date"},"metric_data":{}}]}'
    ),
    "epoch NaN": b'{"time_series":[{"timestamp":{"epoch_ms":NaN},"metric_data":{}}]}',
    "epoch Infinity": b'{"time_series":[{"timestamp":{"epoch_ms":Infinity},"metric_data":{}}]}',
    "epoch -Infinity": b'{"time_series":[{"timestamp":{"epoch_ms":-Infinity},"metric_data":{}}]}',
    "epoch 1e300": b'{"time_series":[{"timestamp":{"epoch_ms":1e300},"metric_data":{}}]}',
    "epoch negative": b'{"time_series":[{"timestamp":{"epoch_ms":-5},"metric_data":{}}]}',
    "timestamp a number": b'{"time_series":[{"timestamp":5,"metric_data":{}}]}',
    "metric_data a list": b'{"time_series":[{"metric_data":[1]}]}',
    "time_series a string": b'{"time_series":"x"}',
    "aggregated a list": b'{"time_series":[],"aggregated_metric_data":[1]}',
    "a list": b"[]",
    "null": b"null",
    "not JSON": b"<html>hello</html>",
    "not UTF-8": b'{"time_series":"\xff\xfe"}',
    "empty": b"",
    "nested 100,000 deep": b"[" * 100_000,
    "nested 100,000 deep, closed": b"[" * 100_000 + b"]" * 100_000,
    "nested 500 objects": b'{"a":' * 500 + b"1" + b"}" * 500,
    "integer of 5,000 digits": b'{"time_series":[],"n":' + b"9" * 5000 + b"}",
    "truncated": b'{"time_series":[{"timestamp":',
}
GROUPED: dict[str, bytes] = {
    "dimensional_data 5": b'{"time_series":[{"dimensional_data":5}]}',
    "dimensional_data a string": b'{"time_series":[{"dimensional_data":"ab"}]}',
    "dimension a list": b'{"time_series":[{"dimensional_data":[{"dimension":[1]}]}]}',
}


def flow_client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    clock = FakeClock()
    return AsyncConvivaFlowClient(
        "id",
        "secret",
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        now=lambda: NOW,
        seed=1,
        model=None,
        **options,
    )


def one_bad_window(body: bytes, headers: dict[str, str] | None = None) -> Callable[..., Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/metadata/" in request.url.path:
            return httpx.Response(404)
        if BAD + "_to_" in request.url.path:
            return httpx.Response(200, content=body, headers=headers or {})
        return good_window(request)

    return handler


def assert_one_window_lost(
    handler: Callable[[httpx.Request], httpx.Response], group_by: str | None = None, **opts: Any
) -> None:
    query = FlowQuery("825", "historical", start="-3h", end="now", group_by=group_by)

    async def main() -> Any:
        async with flow_client(handler, **opts) as client:
            return await client.query(query)

    with pytest.raises(PartialResultError) as caught:
        asyncio.run(main())
    error = caught.value
    assert error.code == "FQ732"
    assert [str(w) for w, _ in error.missing] == ["2026-11-22T10:00:00Z/2026-11-22T11:00:00Z"]
    assert isinstance(error.missing[0][1], InvalidResponse)
    assert error.missing[0][1].code == "FQ731"
    assert len(error.result.windows) == 2  # every other window kept


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_window_is_a_recorded_failure_of_that_window(name: str) -> None:
    with hostile(name):
        assert_one_window_lost(one_bad_window(MALFORMED[name]))


@pytest.mark.parametrize("name", sorted(GROUPED))
def test_a_malformed_group_by_window_is_a_recorded_failure(name: str) -> None:
    with hostile(name):
        assert_one_window_lost(one_bad_window(GROUPED[name]), group_by="geo_country")


def test_a_gzip_bomb_is_refused_past_max_body() -> None:
    with hostile("gzip bomb, default cap"):
        assert_one_window_lost(one_bad_window(BOMB, {"Content-Encoding": "gzip"}))
    with hostile("gzip of a small answer under a small cap"):
        small = gzip.compress(b'{"time_series":[' + b" " * 5000 + b"]}")
        assert_one_window_lost(one_bad_window(small, {"Content-Encoding": "gzip"}), max_body=4096)
    with hostile("gzip that is not gzip"):
        assert_one_window_lost(one_bad_window(b"not gzip", {"Content-Encoding": "gzip"}))


def test_max_body_must_make_sense() -> None:
    with pytest.raises(ValueError, match="max_body"):
        AsyncFlowXOClient("k", max_body=0)


def test_any_other_failure_to_read_a_window_is_invalid_response_but_cancellation_is_not() -> None:
    client = flow_client(good_window)
    request = client.plan_of(FlowQuery("825", "historical", start="-1h", end="now")).requests[0]

    async def broken(_: Any) -> object:
        raise KeyError("surprise")

    async def cancelled(_: Any) -> object:
        raise asyncio.CancelledError

    with hostile("a parser bug"), pytest.raises(InvalidResponse, match="KeyError"):
        asyncio.run(client._fetch_window(broken, request))
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(client._fetch_window(cancelled, request))


# --- the other APIs' parsers ----------------------------------------------------------------


def mock(body: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(200, content=body))


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":[]}',
        b'{"data":5}',
        b'{"data":{"attributes":[]}}',
        b'{"data":{"attributes":{"results":[5]}}}',
        b'{"data":{"attributes":{"results":[],"date_times":5}}}',
        b"[" * 50_000,
    ],
)
def test_a_malformed_klaviyo_report_is_invalid_response(body: bytes) -> None:
    async def main() -> object:
        async with AsyncKlaviyoClient("pk_x", transport=mock(body)) as client:
            return await client.report(
                "form-values", statistics="viewed_form", timeframe="last_7_days"
            )

    with hostile("klaviyo report"), pytest.raises(InvalidResponse):
        asyncio.run(main())


@pytest.mark.parametrize(
    "body",
    [
        b'{"sessions":[{"timestamps":{"start":{"epoch_ms":Infinity}}}]}',
        b'{"sessions":[{"timestamps":{"start":{"epoch_ms":NaN}}}]}',
        b'{"sessions":[5]}',
        b'{"sessions":{}}',
    ],
)
def test_a_malformed_sessions_window_is_a_recorded_failure(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("start_epoch") == str(int(NOW.timestamp()) - 6 * 3600):
            return httpx.Response(200, content=body)
        return httpx.Response(200, json={"sessions": []})

    query = SessionsQuery("content", start_epoch="-9h", end_epoch="now")

    async def main() -> object:
        async with AsyncConvivaSessionsClient(
            "id", "secret", transport=httpx.MockTransport(handler), now=lambda: NOW
        ) as client:
            return await client.query(query)

    with hostile("sessions window"):
        with pytest.raises(PartialResultError) as caught:
            asyncio.run(main())
        assert len(caught.value.missing) == 1
        assert isinstance(caught.value.missing[0][1], InvalidResponse)
        assert len(caught.value.result.windows) == 2


@pytest.mark.parametrize(
    "body",
    [b'{"stats":5}', b'{"metrics":[{"_timestamp":"not a date"}]}', b"[]", b"{" * 10_000],
)
def test_a_malformed_flowxo_answer_is_invalid_response(body: bytes) -> None:
    async def main() -> object:
        async with AsyncFlowXOClient("k", transport=mock(body)) as client:
            return await client.insights()

    with hostile("flowxo insights"), pytest.raises(InvalidResponse):
        asyncio.run(main())


# --- a misbehaving server on this machine ---------------------------------------------------

Behaviour = Callable[[socket.socket, threading.Event], None]


def _headers(extra: str = "") -> bytes:
    return ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + "\r\n").encode()


def drip(sock: socket.socket, stop: threading.Event) -> None:
    """Headers, then one byte every 0.2 s, for as long as anyone listens."""
    sock.sendall(_headers("Content-Length: 100000\r\n"))
    while not stop.wait(0.2):
        sock.sendall(b" ")


def silent(sock: socket.socket, stop: threading.Event) -> None:
    """Reads the request and never answers."""
    stop.wait(30)


def reset(sock: socket.socket, stop: threading.Event) -> None:
    """Closes the connection at once, with a reset."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def short(sock: socket.socket, stop: threading.Event) -> None:
    """Promises 1000 bytes, sends 10, closes."""
    sock.sendall(_headers("Content-Length: 1000\r\n") + b'{"stats":[')


def long_body(sock: socket.socket, stop: threading.Event) -> None:
    """Promises 5 bytes, sends more: what is read is truncated JSON."""
    sock.sendall(_headers("Content-Length: 5\r\n") + b'{"stats":[], "metrics": []}')


def bomb(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(_headers(f"Content-Encoding: gzip\r\nContent-Length: {len(BOMB)}\r\n") + BOMB)


def garbage(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(b"\x00\xffnot http at all\r\n\r\n")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(10)
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.server.behaviour(sock, self.server.stop)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviour: Behaviour
    stop: threading.Event


@contextlib.contextmanager
def serving(behaviour: Behaviour) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def insights(base_url: str, timeout: float, retry: RetryPolicy) -> tuple[BaseException, float]:
    async def main() -> object:
        async with AsyncFlowXOClient("k", base_url=base_url, timeout=timeout, retry=retry) as c:
            return await c.insights()

    began = time.monotonic()
    try:
        asyncio.run(main())
    except ClientError as exc:
        return exc, time.monotonic() - began
    raise AssertionError("the answer was accepted")


ONCE = RetryPolicy(max_attempts=1)


def test_a_dripping_server_is_cut_off_at_the_timeout() -> None:
    with hostile("drip, one attempt"), serving(drip) as url:
        error, took = insights(url, 1.0, ONCE)
        assert isinstance(error, TransportError)
        assert error.code == "FQ730"
        assert "1 s timeout" in error.message
        assert took < 1.0 + 1.0


def test_a_dripping_server_is_retried_within_the_retry_budget() -> None:
    policy = RetryPolicy(max_attempts=3, max_retry_time=1.5, base_delay=0.05, max_delay=0.1)
    with hostile("drip, retried"), serving(drip) as url:
        error, took = insights(url, 0.5, policy)
        assert isinstance(error, TransportError)
        assert error.attempts == 3
        # No retry starts past the budget, and each attempt ends within its timeout.
        assert took < policy.max_retry_time + 0.5 + 1.0


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        (silent, TransportError),
        (reset, TransportError),
        (short, TransportError),
        (long_body, InvalidResponse),
        (bomb, InvalidResponse),
        (garbage, TransportError),
    ],
)
def test_a_misbehaving_server_gives_a_flowql_error_in_time(
    behaviour: Behaviour, kind: type[ClientError]
) -> None:
    with hostile(behaviour.__name__), serving(behaviour) as url:
        error, took = insights(url, 1.0, ONCE)
        assert isinstance(error, kind), error
        assert took < 1.0 + 1.0


# --- the rate limiter counts a request once the server has it -------------------------------


class SlowToArrive(httpx.AsyncBaseTransport):
    """Each request reaches the server ``delays[n]`` seconds (fake) after it is sent: the
    first one is slow (a connection being set up), the rest are not."""

    def __init__(self, clock: FakeClock, delays: list[float]) -> None:
        self.clock = clock
        self.delays = delays
        self.arrivals: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        n = len(self.arrivals)
        delay = self.delays[min(n, len(self.delays) - 1)]
        self.arrivals.append(-1.0)
        await self.clock.sleep(delay)
        self.arrivals[n] = self.clock()
        return httpx.Response(200, json={"stats": [], "metrics": []})


def test_a_request_is_counted_when_the_server_has_it() -> None:
    clock = FakeClock()
    transport = SlowToArrive(clock, [0.3] + [0.0] * 20)
    client = AsyncFlowXOClient(
        "k",
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
        rate_limits={"default": [(6, 2.0)]},
    )

    async def main() -> None:
        async with client:
            # One at a time, so each arrival is in order and the slow one is first.
            for _ in range(13):
                await client.insights()

    with hostile("a request slow to reach the server"):
        asyncio.run(main())
        times = sorted(transport.arrivals)
        assert all(times[i + 6] - times[i] >= 2.0 for i in range(len(times) - 6)), times


def test_a_pending_request_holds_its_place() -> None:
    clock = FakeClock()
    limiter = RateLimiter([(1, 1.0)], clock=clock, sleep=clock.sleep)

    async def main() -> list[float]:
        first = await limiter.reserve()
        assert first is not None
        second = asyncio.ensure_future(limiter.reserve())
        await asyncio.sleep(0)
        assert not second.done()  # the first has not reached the server yet
        clock.now = 5.0
        first.release(clock())
        slot = await second
        assert slot is not None
        return [clock()]

    assert asyncio.run(main()) == [pytest.approx(6.05)]


# --- the client refuses a timeout that bounds nothing ---------------------------------------


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), -0.0])
def test_a_timeout_must_be_positive_and_finite(timeout: float) -> None:
    with hostile(f"timeout {timeout}"), pytest.raises(ValueError, match="timeout"):
        AsyncFlowXOClient("k", timeout=timeout)


def test_a_partial_result_keeps_the_good_windows_data() -> None:
    async def main() -> Any:
        async with flow_client(one_bad_window(MALFORMED["iso date not a date"])) as client:
            return await client.historical("825", "-3h", "now")

    with hostile("not a date, data kept"):
        with pytest.raises(PartialResultError) as caught:
            asyncio.run(main())
        result = caught.value.result
        assert isinstance(result, TimeSeries)
        assert len(result.points) == 2
