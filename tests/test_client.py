"""Tests for the client core (flowql.client._core, flowql.client.errors): secrets and their
redaction, https only, retries, rate limits, error mapping, windows fetched at once and merged,
partial failures, and sync clients equal to async ones. Every server is an httpx.MockTransport;
every wait is on a fake clock, so nothing here sleeps."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import pickle
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowql.client import (
    APIError,
    AsyncConvivaFlowClient,
    AsyncConvivaSessionsClient,
    AsyncFlowXOClient,
    AsyncKlaviyoClient,
    BadRequest,
    ClientError,
    ConvivaFlowClient,
    NotFound,
    PartialResultError,
    RateLimited,
    RetryPolicy,
    Secret,
    ServerError,
    TransportError,
    Unauthorized,
    Unprocessable,
    URITooLong,
)
from flowql.client._core import RateLimiter, check_url, is_loopback, retry_after_seconds
from flowql.client.http import HttpxSender, Pool, tls_context
from flowql.query import FlowQuery, QueryError
from flowql.results import DimensionalRows, TimeSeries

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-Do-Not-Leak-42"
BASIC = base64.b64encode(f"client-7:{SECRET}".encode()).decode()

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Server:
    """A mock server: records every request, answers with ``respond``."""

    def __init__(self, respond: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request, len(self.requests))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def point(epoch_ms: int, value: int) -> dict[str, Any]:
    return {
        "timestamp": {"epoch_ms": epoch_ms},
        "metric_data": {"m_825_1": value, "m_825_2": 0.5, "m_825_1_percentage": 50},
    }


def series_answer(request: httpx.Request, _: int) -> httpx.Response:
    if "data-model" in request.url.path:
        return httpx.Response(200, json=DATA_MODEL)
    span = request.url.path.split("/")[4]
    start = int(span.split("_to_")[0]) if "_to_" in span else int(NOW.timestamp() * 1000) - 600_000
    if "/group-by/" in request.url.path:
        row = {
            "dimension": {"key": "geo_country", "value": "Spain", "country_code": "ES"},
            "metric_data": {"m_825_1": 3},
        }
        return httpx.Response(
            200,
            json={"time_series": [{"dimensional_data": [row]}], "aggregated_metric_data": {}},
        )
    return httpx.Response(
        200,
        json={
            "time_series": [point(start, 1), point(start + 1_800_000, 2)],
            "aggregated_metric_data": {"m_825_1": 3, "m_825_2": 0.5, "m_825_1_percentage": 50},
        },
    )


DATA_MODEL = {
    "flow_models": [
        {
            "id": "825",
            "label": "Login Process",
            "metrics": [
                {"key": "m_825_1", "label": "Complete", "unit": "count"},
                {"key": "m_825_2", "label": "Duration", "unit": "sec"},
            ],
            "dimensions": [{"key": "geo_country", "label": "Countries"}],
        }
    ]
}


def flow_client(
    server: Server, clock: FakeClock | None = None, **options: Any
) -> AsyncConvivaFlowClient:
    clock = clock or FakeClock()
    options.setdefault("seed", 1)
    options.setdefault("labels", False)  # these tests count requests: no data model fetch
    return AsyncConvivaFlowClient(
        "client-7",
        SECRET,
        transport=server.transport,
        clock=clock,
        sleep=clock.sleep,
        now=lambda: NOW,
        **options,
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def fetch_series(client: AsyncConvivaFlowClient, query: FlowQuery) -> Any:
    async with client:
        return await client.query(query)


# --- secrets and credentials ----------------------------------------------------------------


def test_a_secret_never_shows_itself() -> None:
    secret = Secret(SECRET)
    assert repr(secret) == "'********'"
    assert str(secret) == "********"
    assert f"{secret}" == "********"
    assert SECRET not in repr([secret, {"key": secret}])
    assert secret.reveal() == SECRET
    assert secret == Secret(SECRET)
    assert secret != Secret("other")
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(secret)


def test_credentials_come_from_arguments_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KLAVIYO_API_KEY", "pk_from_env")
    server = Server(lambda r, n: httpx.Response(200, json={"data": [], "links": {"next": None}}))
    client = AsyncKlaviyoClient(transport=server.transport)
    run(client.metrics())
    assert server.requests[0].headers["authorization"] == "Klaviyo-API-Key pk_from_env"
    monkeypatch.delenv("KLAVIYO_API_KEY")
    with pytest.raises(ClientError) as caught:
        AsyncKlaviyoClient()
    assert caught.value.code == "FQ721"
    assert "KLAVIYO_API_KEY" in caught.value.message
    monkeypatch.delenv("FLOWXO_API_KEY", raising=False)
    with pytest.raises(ClientError, match="FLOWXO_API_KEY"):
        AsyncFlowXOClient()


# --- https only ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.5.6.7/", "http://localhost:1234/api/", "http://[::1]:80"],
)
def test_plain_http_is_allowed_to_this_machine(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url", ["http://api.conviva.com", "http://10.0.0.1", "ftp://api.conviva.com", "api.conviva.com"]
)
def test_plain_http_elsewhere_is_refused_before_any_request(url: str) -> None:
    server = Server(series_answer)
    with pytest.raises(ClientError) as caught:
        flow_client(server, base_url=url)
    assert caught.value.code == "FQ720"
    assert server.requests == []


def test_loopback_hosts() -> None:
    assert is_loopback("localhost")
    assert is_loopback("127.0.0.1")
    assert is_loopback("[::1]")
    assert not is_loopback("localhost.example.com")
    assert not is_loopback("128.0.0.1")


# --- auth -----------------------------------------------------------------------------------


def test_each_vendor_gets_its_documented_auth() -> None:
    server = Server(series_answer)
    run(fetch_series(flow_client(server), FlowQuery("825", "real-time")))
    assert server.requests[0].headers["authorization"] == f"Basic {BASIC}"
    assert server.requests[0].url.scheme == "https"

    klaviyo = Server(lambda r, n: httpx.Response(200, json={"data": []}))
    run(AsyncKlaviyoClient("pk_test", transport=klaviyo.transport).metrics())
    headers = klaviyo.requests[0].headers
    assert headers["authorization"] == "Klaviyo-API-Key pk_test"
    assert headers["revision"] == "2026-07-15"
    assert str(klaviyo.requests[0].url) == "https://a.klaviyo.com/api/metrics"

    flowxo = Server(lambda r, n: httpx.Response(200, json=[]))
    run(AsyncFlowXOClient("fx_key", transport=flowxo.transport).top_flows(limit=3))
    assert flowxo.requests[0].headers["authorization"] == "Bearer fx_key"
    assert str(flowxo.requests[0].url) == "https://flowxo.com/api/insights/top_flows?limit=3"


# --- retries ------------------------------------------------------------------------------


def test_a_429_storm_succeeds_within_the_bounds() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(429) if n <= 3 else series_answer(request, n)

    server, clock = Server(answer), FakeClock()
    result = run(fetch_series(flow_client(server, clock), FlowQuery("825", "real-time")))
    assert isinstance(result, TimeSeries)
    assert len(server.requests) == 4
    policy = RetryPolicy()
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps, 1):
        assert 0 <= slept <= min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))


def test_retry_after_is_honoured_as_the_least_wait() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return series_answer(request, n)

    server, clock = Server(answer), FakeClock()
    run(fetch_series(flow_client(server, clock), FlowQuery("825", "real-time")))
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] >= 7


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds("Sun, 22 Nov 2026 12:00:30 GMT", now=NOW.timestamp()) == 30
    assert retry_after_seconds("Sun, 22 Nov 2026 11:00:00 GMT", now=NOW.timestamp()) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_attempts_are_bounded() -> None:
    server, clock = Server(lambda r, n: httpx.Response(503)), FakeClock()
    with pytest.raises(ServerError) as caught:
        run(fetch_series(flow_client(server, clock), FlowQuery("825", "real-time")))
    assert len(server.requests) == 5
    assert caught.value.attempts == 5
    assert caught.value.code == "FQ728"
    assert "after 5 attempts" in caught.value.message


def test_total_retry_time_is_bounded() -> None:
    server = Server(lambda r, n: httpx.Response(429, headers={"Retry-After": "25"}))
    clock = FakeClock()
    with pytest.raises(RateLimited) as caught:
        run(fetch_series(flow_client(server, clock), FlowQuery("825", "real-time")))
    # 25 s + 25 s fit in the 60 s budget; a third wait would not.
    assert clock.sleeps == [25, 25]
    assert len(server.requests) == 3
    assert caught.value.retry_after == 25
    assert caught.value.code == "FQ727"


def test_retries_can_be_turned_down() -> None:
    server = Server(lambda r, n: httpx.Response(504))
    with pytest.raises(ServerError):
        run(
            fetch_series(
                flow_client(server, retry=RetryPolicy(max_attempts=1)),
                FlowQuery("825", "real-time"),
            )
        )
    assert len(server.requests) == 1


def test_transport_errors_are_retried_then_reported() -> None:
    def flaky(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if n == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return series_answer(request, n)

    result = run(fetch_series(flow_client(Server(flaky)), FlowQuery("825", "real-time")))
    assert isinstance(result, TimeSeries)

    def dead(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransportError) as caught:
        run(fetch_series(flow_client(Server(dead)), FlowQuery("825", "real-time")))
    assert caught.value.code == "FQ730"
    assert caught.value.attempts == 5
    assert "ReadTimeout" in caught.value.reason


def test_every_request_has_a_timeout() -> None:
    # Through httpx (an injected transport), its own timeouts are the client's too; the whole
    # attempt's deadline, for both senders, is in test_hostile_servers.py.
    client = flow_client(Server(series_answer), timeout=4.5)
    http = client._core._http()
    assert isinstance(http, HttpxSender)
    assert http.client.timeout.read == 4.5
    assert http.client.timeout.connect == 4.5
    run(client.close())


def test_the_default_sender_is_the_pool_and_a_proxy_goes_through_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = AsyncConvivaFlowClient("id", "secret")
    assert isinstance(client._core._http(), Pool)
    run(client.close())
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = AsyncConvivaFlowClient("id", "secret")
    assert isinstance(client._core._http(), HttpxSender)
    run(client.close())
    monkeypatch.setenv("NO_PROXY", "api.conviva.com")
    client = AsyncConvivaFlowClient("id", "secret")
    assert isinstance(client._core._http(), Pool)
    run(client.close())


def test_only_https_loads_the_certificates() -> None:
    # A plain-http base (the sandbox) never speaks TLS: the pool makes no context for it, and
    # httpx's (with a proxy) loads no CA bundle (tens of ms per client) and trusts no one.
    client = AsyncConvivaFlowClient("id", "secret", base_url="http://127.0.0.1:9")
    pool = client._core._http()
    assert isinstance(pool, Pool)
    assert pool._tls is None
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0
    for base_url, loaded in [("http://127.0.0.1:9", False), ("https://api.conviva.com", True)]:
        sender = HttpxSender(base_url, transport=None, timeout=1.0, trust_env=False)
        httpx_context = sender.client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert httpx_context.verify_mode == ssl.CERT_REQUIRED
        assert (httpx_context.cert_store_stats()["x509_ca"] > 0) is loaded
        run(sender.aclose())


# --- error mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, BadRequest, "FQ722"),
        (401, Unauthorized, "FQ723"),
        (403, Unauthorized, "FQ723"),
        (404, NotFound, "FQ724"),
        (414, URITooLong, "FQ725"),
        (422, Unprocessable, "FQ726"),
        (500, ServerError, "FQ728"),
        (418, APIError, "FQ729"),
    ],
)
def test_error_statuses_map_to_typed_errors(status: int, kind: type[APIError], code: str) -> None:
    body: dict[str, object] = {
        "status": status,
        "error": "Reason",
        "message": "the end is before the start",
    }
    server = Server(lambda r, n: httpx.Response(status, json=body))
    with pytest.raises(kind) as caught:
        run(fetch_series(flow_client(server), FlowQuery("825", "real-time")))
    error = caught.value
    assert type(error) is kind
    assert (error.status, error.code) == (status, code)
    assert error.server_message == "the end is before the start"
    assert error.request.method == "GET"
    assert error.request.url == "https://api.conviva.com/flow-data/real-time-metrics/825/PT15M"
    assert error.request.headers["Authorization"] == "********"
    assert len(server.requests) == 1  # none of these is retried


def test_klaviyo_json_api_errors_give_the_server_message() -> None:
    body = {
        "errors": [
            {
                "id": "1",
                "code": "invalid",
                "title": "Invalid input.",
                "detail": "'timeframe' is required",
                "source": {"pointer": "/data/attributes/timeframe"},
            }
        ]
    }
    server = Server(lambda r, n: httpx.Response(400, json=body))
    client = AsyncKlaviyoClient("pk_test", transport=server.transport)
    with pytest.raises(BadRequest) as caught:
        run(client.metrics())
    assert caught.value.server_message == "'timeframe' is required"


def test_an_answer_that_is_not_json_is_an_invalid_response() -> None:
    server = Server(lambda r, n: httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(ClientError) as caught:
        run(fetch_series(flow_client(server), FlowQuery("825", "real-time")))
    assert caught.value.code == "FQ731"


def test_errors_are_flowql_errors_with_diagnostics() -> None:
    from flowql.errors import FlowQLError

    server = Server(lambda r, n: httpx.Response(404, text="no such flow"))
    with pytest.raises(FlowQLError) as caught:
        run(fetch_series(flow_client(server), FlowQuery("999", "real-time")))
    rendered = caught.value.render("<query>")
    assert rendered.startswith("error[FQ724]: GET https://api.conviva.com/flow-data/")
    assert "no such flow" in rendered


# --- rate limits ---------------------------------------------------------------------------


def windows_hold(times: list[float], count: int, seconds: float) -> bool:
    """No half-open window of ``seconds`` holds more than ``count`` of ``times``."""
    times = sorted(times)
    return all(times[i + count] - times[i] >= seconds - 1e-9 for i in range(len(times) - count))


@pytest.mark.parametrize(
    "limits", [[(1, 1.0), (2, 60.0)], [(10, 1.0), (150, 60.0)], [(3, 0.5), (7, 5.0), (20, 60.0)]]
)
def test_the_rate_limiter_never_exceeds_its_limits_under_concurrency(
    limits: list[tuple[int, float]],
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(clock())

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(60)))

    run(main())
    assert len(times) == 60
    for count, seconds in limits:
        assert windows_hold(times, count, seconds)
    # And it is not slower than it must be: the first `count` go at once.
    assert times[: limits[0][0]] == [0.0] * limits[0][0]


def test_a_rate_limit_is_shared_by_all_windows_of_a_client() -> None:
    server, clock = Server(series_answer), FakeClock()
    client = flow_client(server, clock, rate_limits={"default": [(2, 10.0)]}, model=None)
    stamps: list[float] = []
    original = server.respond

    def stamped(request: httpx.Request, n: int) -> httpx.Response:
        stamps.append(clock())
        return original(request, n)

    server.respond = stamped
    query = FlowQuery("825", "historical", start="-6h", end="now")
    run(fetch_series(client, query))
    assert len(stamps) == 7  # the data model and six windows
    assert windows_hold(stamps, 2, 10.0)


def test_klaviyo_reports_keep_to_one_per_second_and_two_per_minute() -> None:
    body: dict[str, Any] = {"data": {"attributes": {"results": []}}}
    server, clock = Server(lambda r, n: httpx.Response(200, json=body)), FakeClock()
    stamps: list[float] = []
    respond = server.respond

    def stamped(request: httpx.Request, n: int) -> httpx.Response:
        stamps.append(clock())
        return respond(request, n)

    server.respond = stamped
    client = AsyncKlaviyoClient("pk", transport=server.transport, clock=clock, sleep=clock.sleep)

    async def three() -> None:
        await asyncio.gather(
            *(
                client.report("form-values", statistics="viewed_form", timeframe="last_7_days")
                for _ in range(3)
            )
        )

    run(three())
    # One second apart, then a minute after the first, each with the 50 ms (or 1%) margin.
    assert stamps[:2] == [0.0, pytest.approx(1.05)]
    assert stamps[2] >= 60.6


def test_rate_limits_must_make_sense() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="rate limit"):
        RateLimiter([(0, 1.0)], clock=clock, sleep=clock.sleep)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


# --- windows ---------------------------------------------------------------------------------


def test_windows_are_fetched_concurrently_and_merged_in_time_order() -> None:
    in_flight = 0
    most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        if "data-model" in request.url.path:
            return httpx.Response(200, json=DATA_MODEL)
        in_flight += 1
        most = max(most, in_flight)
        start = int(request.url.path.split("/")[4].split("_to_")[0])
        # Later windows answer first.
        await asyncio.sleep((NOW.timestamp() * 1000 - start) / 3_600_000 * 0.002)
        in_flight -= 1
        return series_answer(request, 0)

    client = AsyncConvivaFlowClient(
        "client-7",
        SECRET,
        transport=httpx.MockTransport(answer),
        now=lambda: NOW,
        max_concurrency=3,
    )
    progress: list[tuple[int, int]] = []
    client.progress = lambda done, total: progress.append((done, total))
    query = FlowQuery("825", "historical", start="-5h", end="now")
    result = run(fetch_series(client, query))
    stamps = [p.timestamp for p in result.points]
    assert stamps == sorted(stamps)
    assert len(stamps) == 10
    assert [str(w) for w in result.windows] == [str(w) for w in query.plan(now=NOW).windows]
    assert 1 < most <= 3
    assert progress[-1] == (5, 5)
    assert [done for done, _ in progress] == [1, 2, 3, 4, 5]


def test_merged_totals_sum_counts_and_mark_the_rest_not_recomputed() -> None:
    result = run(
        fetch_series(
            flow_client(Server(series_answer)),
            FlowQuery("825", "historical", start="-3h", end="now"),
        )
    )
    assert result.totals == {"m_825_1": 9, "m_825_2": None, "m_825_1_percentage": None}
    assert result.recomputed == ("m_825_1",)
    assert result.not_recomputed == ("m_825_2", "m_825_1_percentage")
    assert result.totals_recomputed is False
    assert len(result.window_totals) == 3
    one = run(fetch_series(flow_client(Server(series_answer)), FlowQuery("825", "real-time")))
    assert one.totals_recomputed is None
    assert one.totals["m_825_2"] == 0.5


def test_a_failed_window_keeps_the_others() -> None:
    bad = "1795341600000"  # the window starting 10:00

    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if bad + "_to_" in request.url.path:
            return httpx.Response(404, json={"message": "gone"})
        return series_answer(request, n)

    query = FlowQuery("825", "historical", start="-3h", end="now")
    with pytest.raises(PartialResultError) as caught:
        run(fetch_series(flow_client(Server(answer)), query))
    error = caught.value
    assert error.code == "FQ732"
    assert [str(w) for w, _ in error.missing] == ["2026-11-22T10:00:00Z/2026-11-22T11:00:00Z"]
    assert isinstance(error.missing[0][1], NotFound)
    assert "2026-11-22T10:00:00Z/2026-11-22T11:00:00Z" in error.message
    result = error.result
    assert isinstance(result, TimeSeries)
    assert [str(w) for w in result.windows] == [
        "2026-11-22T09:00:00Z/2026-11-22T10:00:00Z",
        "2026-11-22T11:00:00Z/2026-11-22T12:00:00Z",
    ]
    assert len(result.points) == 4
    assert [d.code for d in error.diagnostics] == ["FQ732", "FQ724"]


# --- no request for a bad query -------------------------------------------------------------


def test_an_invalid_query_sends_no_request() -> None:
    server = Server(series_answer)
    with pytest.raises(QueryError) as caught:
        run(
            fetch_series(
                flow_client(server), FlowQuery("825", "historical", start="-9d", end="now")
            )
        )
    assert caught.value.code == "FQ703"
    assert server.requests == []


# --- secrets never leak -----------------------------------------------------------------------


def test_no_secret_leaks_into_reprs_errors_logs_or_files(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="flowql.client")

    def answer(request: httpx.Request, n: int) -> httpx.Response:
        auth = request.headers["authorization"]
        if n == 1:
            return httpx.Response(429, json={"message": f"slow down, {auth}"})
        if n == 2:
            raise httpx.ConnectError(f"refused for {SECRET}", request=request)
        if n == 3:
            return series_answer(request, n)
        return httpx.Response(401, json={"message": f"bad credentials {SECRET} ({auth})"})

    client = flow_client(Server(answer))
    texts = [repr(client), str(client), repr(client._core.limiters)]

    async def main() -> None:
        result = await client.query(FlowQuery("825", "real-time", group_by="geo_country"))
        assert isinstance(result, DimensionalRows)
        (tmp_path / "out.json").write_text(result.to_json())
        (tmp_path / "out.csv").write_text(result.to_csv())
        texts.append(repr(result))
        try:
            await client.query(FlowQuery("825", "real-time"))
        except Unauthorized as exc:
            texts.extend([str(exc), repr(exc), exc.render(), exc.server_message])
            texts.extend([str(exc.request), repr(exc.request), json.dumps(exc.request.headers)])
        else:  # pragma: no cover - the server refuses
            raise AssertionError("expected Unauthorized")
        await client.close()

    run(main())
    texts.extend(record.getMessage() for record in caplog.records)
    texts.extend(path.read_text() for path in tmp_path.iterdir())
    assert any("retry" in t for t in texts)  # the log did see the retries
    everything = "\n".join(texts)
    assert "bad credentials ********" in everything
    for leaked in (SECRET, BASIC):
        assert leaked not in everything


# --- sync and async ---------------------------------------------------------------------------


def test_sync_and_async_clients_give_equal_results() -> None:
    query = FlowQuery("825", "historical", start="-3h", end="now", group_by="geo_country")

    def grouped(request: httpx.Request, n: int) -> httpx.Response:
        if "data-model" in request.url.path:
            return httpx.Response(200, json=DATA_MODEL)
        row = {
            "dimension": {"key": "geo_country", "value": "Spain", "country_code": "ES"},
            "metric_data": {"m_825_1": 4},
        }
        return httpx.Response(
            200,
            json={
                "time_series": [{"dimensional_data": [row]}],
                "aggregated_metric_data": {"m_825_1": 4},
            },
        )

    async_result = run(fetch_series(flow_client(Server(grouped)), query))
    clock = FakeClock()
    with ConvivaFlowClient(
        "client-7",
        SECRET,
        transport=Server(grouped).transport,
        clock=clock,
        sleep=clock.sleep,
        now=lambda: NOW,
    ) as client:
        sync_result = client.query(query)
    assert sync_result == async_result
    assert sync_result.to_records() == async_result.to_records()
    assert sync_result.totals == {"m_825_1": 12}


def test_a_sync_client_works_inside_a_running_event_loop() -> None:
    server = Server(series_answer)

    async def notebook_cell() -> TimeSeries:
        with ConvivaFlowClient(
            "client-7", SECRET, transport=server.transport, now=lambda: NOW
        ) as client:
            result = client.real_time("825", "PT5M")
        assert isinstance(result, TimeSeries)
        return result

    result = run(notebook_cell())
    assert len(result.points) == 2


def test_a_closed_sync_client_refuses_work() -> None:
    client = ConvivaFlowClient("client-7", SECRET, transport=Server(series_answer).transport)
    client.close()
    client.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        client.real_time("825")


def _rules() -> list[tuple[str, object, str]]:
    from flowql.query import FlowXOQuery, KlaviyoMetricsQuery, KlaviyoReportQuery, SessionsQuery

    flow, sessions, klaviyo, flowxo = "flow", "sessions", "klaviyo", "flowxo"

    def report(**fields: Any) -> KlaviyoReportQuery:
        base: dict[str, Any] = {
            "statistics": "clicks",
            "timeframe": "last_30_days",
            "conversion_metric_id": "R",
        }
        base.update(fields)
        return KlaviyoReportQuery(base.pop("report", "flow-values"), **base)

    return [
        (flow, FlowQuery("825", "real-time", interval="PT16M"), "FQ704"),
        (flow, FlowQuery("825", "historical", start="now", end="-1h"), "FQ702"),
        (flow, FlowQuery("825", "historical", start="-8d", end="-7d"), "FQ703"),
        (flow, FlowQuery("825", "real-time", filter="geo_country = 'x'"), "FQ006"),
        (flow, FlowQuery("825", "real-time", filter="asn == 1", post_filter=True), "FQ715"),
        (sessions, SessionsQuery(start_date="-1h", end_date="now", start_epoch="-1h"), "FQ705"),
        (sessions, SessionsQuery(limit=501), "FQ706"),
        (sessions, SessionsQuery("viewer"), "FQ707"),
        (sessions, SessionsQuery(filter_id=1, filter="device_os == 'iOS'"), "FQ708"),
        (sessions, SessionsQuery(filter="device_os != 'iOS'"), "FQ714"),
        (klaviyo, report(timeframe="last_2_days"), "FQ709"),
        (klaviyo, report(timeframe=None, start="2024-01-01", end="2025-06-01"), "FQ710"),
        (klaviyo, report(report="flow-series", interval="hourly"), "FQ710"),
        (klaviyo, report(conversion_metric_id=None), "FQ711"),
        (klaviyo, report(statistics="clickz"), "FQ712"),
        (klaviyo, report(group_by="campaign_id"), "FQ713"),
        (klaviyo, KlaviyoMetricsQuery(filter="integration.name != 'x'"), "FQ714"),
        (flowxo, FlowXOQuery("insights", unit="week"), "FQ704"),
        (flowxo, FlowXOQuery("top-flows", limit=0), "FQ706"),
    ]


@pytest.mark.parametrize(("api", "query", "code"), _rules())
def test_every_rule_fails_before_any_request(api: str, query: object, code: str) -> None:
    server = Server(series_answer)
    clients: dict[str, Callable[[], Any]] = {
        "flow": lambda: flow_client(server),
        "sessions": lambda: AsyncConvivaSessionsClient(
            "id", SECRET, transport=server.transport, now=lambda: NOW
        ),
        "klaviyo": lambda: AsyncKlaviyoClient("pk", transport=server.transport, now=lambda: NOW),
        "flowxo": lambda: AsyncFlowXOClient("fx", transport=server.transport, now=lambda: NOW),
    }
    client = clients[api]()
    with pytest.raises(QueryError) as caught:
        run(client.query(query))
    assert code in [d.code for d in caught.value.diagnostics]
    assert server.requests == []


@pytest.mark.parametrize(
    "module",
    ["flowql.query", "flowql.results", "flowql.client", "flowql.client.errors"],
)
def test_every_public_name_is_documented(module: str) -> None:
    import importlib
    import inspect

    mod = importlib.import_module(module)
    undocumented = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if isinstance(obj, (str, int, tuple, dict, frozenset)) or not callable(obj):
            continue
        if not inspect.getdoc(obj):
            undocumented.append(name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                public = not attr.startswith("_")
                member = callable(value) or isinstance(value, property)
                if public and member and not inspect.getdoc(value):
                    undocumented.append(f"{name}.{attr}")
    assert undocumented == []
