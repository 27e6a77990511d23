"""The sandbox server: life cycle, auth, the errors every API shares, rate limits, faults, the
request log, determinism and the ``flowql sandbox`` command. Everything over real HTTP on
loopback, with httpx."""

from __future__ import annotations

import base64
import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from flowql.sandbox import DEFAULT_LOG_SIZE, DEFAULT_RATE_LIMITS, LoggedRequest, Sandbox
from flowql.sandbox._control import Faults, RateLimiter

NOW = datetime(2025, 8, 5, 19, 30, 50, tzinfo=timezone.utc)
CONVIVA_AUTH = ("any-client-id", "sandbox")
KLAVIYO_HEADERS = {"Authorization": "Klaviyo-API-Key sandbox", "revision": "2024-10-15"}
FLOWXO_HEADERS = {"Authorization": "Bearer sandbox"}
DATA_MODEL = "/flow-data/metadata/data-model"
TOP = "/api/insights/top_messages?start=2025-08-04&end=2025-08-05"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    sb.faults.clear()
    with httpx.Client(base_url=sb.url, timeout=10) as c:
        yield c


def report_body() -> dict[str, object]:
    return {
        "data": {
            "type": "segment-values-report",
            "attributes": {"timeframe": {"key": "last_7_days"}, "statistics": ["total_members"]},
        }
    }


# --- life cycle ---------------------------------------------------------------------------------


def test_urls_and_life_cycle() -> None:
    sandbox = Sandbox(now=NOW)
    assert not sandbox.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.url
    sandbox.start()
    try:
        assert sandbox.running
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
        assert sandbox.port != 0
        assert sandbox.conviva_url == sandbox.url
        assert sandbox.klaviyo_url == sandbox.flowxo_url == sandbox.url + "/api/"
        with pytest.raises(RuntimeError, match="already running"):
            sandbox.start()
        response = httpx.get(sandbox.url + DATA_MODEL, auth=CONVIVA_AUTH)
        assert response.status_code == 200
        port = sandbox.port
    finally:
        sandbox.stop()
    assert not sandbox.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}{DATA_MODEL}", auth=CONVIVA_AUTH)
    sandbox.stop()  # stopping twice is harmless


def test_stop_closes_kept_alive_connections() -> None:
    with Sandbox(now=NOW) as sandbox, httpx.Client(base_url=sandbox.url) as c:
        assert c.get(DATA_MODEL, auth=CONVIVA_AUTH).status_code == 200
        sandbox.stop()
        with pytest.raises(httpx.TransportError):
            c.get(DATA_MODEL, auth=CONVIVA_AUTH)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Sandbox(now=datetime(2025, 1, 1))


def test_the_clock_can_be_set_while_running(sb: Sandbox, client: httpx.Client) -> None:
    later = datetime(2025, 8, 6, 19, 30, 50, tzinfo=timezone.utc)
    path = "/flow-data/real-time-metrics/825/PT1M"
    first = client.get(path, auth=CONVIVA_AUTH).json()
    sb.set_now(later)
    try:
        moved = client.get(path, auth=CONVIVA_AUTH).json()
    finally:
        sb.set_now(NOW)
    stamp = moved["time_series"][0]["timestamp"]["epoch_ms"]
    assert stamp - first["time_series"][0]["timestamp"]["epoch_ms"] == 86_400_000
    assert sb.now == NOW


# --- auth ---------------------------------------------------------------------------------------


def test_conviva_takes_any_client_id_with_the_secret(client: httpx.Client) -> None:
    for client_id in ("a", "another-id", "client 7"):
        assert client.get(DATA_MODEL, auth=(client_id, "sandbox")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"id:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b":sandbox").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Bearer sandbox"},
    ],
)
def test_conviva_401(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(DATA_MODEL, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    body = response.json()
    assert body["status"] == 401
    assert body["error"] == "Unauthorized"
    assert "sandbox" not in body["message"]


@pytest.mark.parametrize("scheme", ["Klaviyo-API-Key", "Bearer"])
def test_klaviyo_takes_its_key_and_an_oauth_token(client: httpx.Client, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} sandbox", "revision": "2024-10-15"}
    assert client.get("/api/metrics/", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "Klaviyo-API-Key wrong", "Basic c2FuZGJveA==", "sandbox"]
)
def test_klaviyo_401(client: httpx.Client, authorization: str | None) -> None:
    headers = {"revision": "2024-10-15"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.get("/api/metrics/", headers=headers)
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["code"] == "not_authenticated"
    assert set(error) >= {"id", "code", "title", "detail", "source"}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Klaviyo-API-Key sandbox"])
def test_flowxo_401(client: httpx.Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get(TOP, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert client.get(TOP, headers=FLOWXO_HEADERS).status_code == 200


def test_another_secret_can_be_set() -> None:
    with Sandbox(now=NOW, secret="s3cret") as sandbox:
        url = sandbox.url + DATA_MODEL
        assert httpx.get(url, auth=("id", "sandbox")).status_code == 401
        assert httpx.get(url, auth=("id", "s3cret")).status_code == 200
        assert "s3cret" not in repr(sandbox)


# --- errors shared by every API -----------------------------------------------------------------


def test_414_above_4096_characters_before_anything_else(client: httpx.Client) -> None:
    base = "/flow-data/real-time-metrics/825/PT5M?filter="
    fits = base + "x" * (4096 - len(base))
    # Unauthenticated on purpose: the length is checked first.
    assert client.get(fits).status_code == 401
    too_long = client.get(fits + "x")
    assert too_long.status_code == 414
    assert too_long.json()["status"] == 414
    assert "4097" in too_long.json()["message"]
    klaviyo = client.get("/api/metrics/?filter=" + "x" * 5000)
    assert klaviyo.status_code == 414
    assert klaviyo.json()["errors"][0]["code"] == "uri_too_long"


def test_unknown_paths_are_404_in_each_api_format(client: httpx.Client) -> None:
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["error"] == "Not Found"
    conviva = client.get("/flow-data/nothing", auth=CONVIVA_AUTH)
    assert conviva.status_code == 404
    assert set(conviva.json()) == {"status", "error", "message"}
    klaviyo = client.get("/api/campaigns/", headers=KLAVIYO_HEADERS)
    assert klaviyo.status_code == 404
    assert klaviyo.json()["errors"][0]["code"] == "not_found"
    flowxo = client.get("/api/insights/top_users", headers=FLOWXO_HEADERS)
    assert flowxo.status_code == 404
    assert flowxo.json()["status"] == 404


def test_wrong_methods_are_405(client: httpx.Client) -> None:
    response = client.post(DATA_MODEL, auth=CONVIVA_AUTH, json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    klaviyo = client.get("/api/flow-values-reports/", headers=KLAVIYO_HEADERS)
    assert klaviyo.status_code == 405
    assert klaviyo.headers["Allow"] == "POST"


# --- rate limits --------------------------------------------------------------------------------


def test_429_with_retry_after_under_a_tight_limit() -> None:
    with Sandbox(now=NOW, rate_limits={"conviva": (2, 60.0)}) as sandbox:
        statuses = []
        for _ in range(3):
            response = httpx.get(sandbox.url + DATA_MODEL, auth=CONVIVA_AUTH)
            statuses.append(response.status_code)
        assert statuses == [200, 200, 429]
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert response.json()["status"] == 429
        # Other APIs have their own buckets.
        assert httpx.get(sandbox.url + TOP, headers=FLOWXO_HEADERS).status_code == 200
        sandbox.set_rate_limit("conviva", None)
        assert httpx.get(sandbox.url + DATA_MODEL, auth=CONVIVA_AUTH).status_code == 200


def test_klaviyo_reports_default_limits_and_headers() -> None:
    with Sandbox(now=NOW) as sandbox, httpx.Client(base_url=sandbox.klaviyo_url) as c:
        assert sandbox.rate_limits["klaviyo-reports"] == ((1, 1.0), (2, 60.0))
        responses = [
            c.post("segment-values-reports/", headers=KLAVIYO_HEADERS, json=report_body())
            for _ in range(3)
        ]
        # Burst 1/s and steady 2/min: the third within a minute is refused, whatever the timing.
        assert responses[0].status_code == 200
        assert responses[2].status_code == 429
        refused = responses[2]
        assert int(refused.headers["Retry-After"]) >= 1
        # Klaviyo's docs: on a 429, Retry-After replaces the RateLimit-* headers.
        assert not {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} & set(
            refused.headers
        )
        assert refused.json()["errors"][0]["code"] == "throttled"
        ok = responses[0]
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(ok.headers)
        # The metrics endpoint has a bucket of its own.
        assert c.get("metrics/", headers=KLAVIYO_HEADERS).status_code == 200


def test_rate_limits_can_be_turned_off(client: httpx.Client, sb: Sandbox) -> None:
    assert all(limit is None for limit in sb.rate_limits.values())
    statuses = {client.get(DATA_MODEL, auth=CONVIVA_AUTH).status_code for _ in range(15)}
    assert statuses == {200}


def test_rate_limiter_sliding_windows() -> None:
    limiter = RateLimiter({"flowxo": [(2, 10.0)], "conviva": None})
    assert limiter.check("conviva", 0.0) is None
    first = limiter.check("flowxo", 100.0)
    assert first is not None
    assert (first.allowed, first.limit, first.remaining) == (True, 2, 1)
    second = limiter.check("flowxo", 103.0)
    assert second is not None
    assert second.allowed
    assert second.remaining == 0
    refused = limiter.check("flowxo", 104.5)
    assert refused is not None
    assert not refused.allowed
    assert refused.retry_after == 6  # the request at 100.0 leaves the window at 110.0
    # A refused request is not counted: a slot frees at 110.
    again = limiter.check("flowxo", 110.0)
    assert again is not None
    assert again.allowed
    burst = RateLimiter({"klaviyo-reports": True})
    assert burst.limits()["klaviyo-reports"] == DEFAULT_RATE_LIMITS["klaviyo-reports"]
    verdicts = [burst.check("klaviyo-reports", t) for t in (0.0, 0.5, 1.2, 2.5)]
    assert [v.allowed for v in verdicts if v is not None] == [True, False, True, False]
    last = verdicts[-1]
    assert last is not None
    assert last.retry_after == 58  # 2 per minute: the first request leaves at 60.0


def test_rate_limit_specs_are_checked() -> None:
    with pytest.raises(ValueError, match="bucket"):
        RateLimiter({"nope": (1, 1.0)})
    with pytest.raises(ValueError, match="requests"):
        RateLimiter({"conviva": (0, 1.0)})
    with pytest.raises(ValueError, match="period"):
        RateLimiter({"conviva": (1, 0)})


# --- faults -------------------------------------------------------------------------------------


def test_fail_next(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.fail_next(2, status=503, api="conviva", retry_after=7)
    # Another API is not affected.
    assert client.get(TOP, headers=FLOWXO_HEADERS).status_code == 200
    first = client.get(DATA_MODEL, auth=CONVIVA_AUTH)
    second = client.get(DATA_MODEL, auth=CONVIVA_AUTH)
    third = client.get(DATA_MODEL, auth=CONVIVA_AUTH)
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["Retry-After"] == "7"
    assert first.json() == {
        "status": 503,
        "error": "Service Unavailable",
        "message": "injected fault",
    }
    sb.faults.fail_next(1, status=500, api="klaviyo")
    klaviyo = client.get("/api/metrics/", headers=KLAVIYO_HEADERS)
    assert klaviyo.status_code == 500
    assert "Retry-After" not in klaviyo.headers
    assert klaviyo.json()["errors"][0]["detail"] == "injected fault"
    assert sb.faults.pending == 0


def test_fail_next_for_any_api_and_for_klaviyo_reports(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.fail_next(1, status=429, retry_after=3)
    assert client.get(TOP, headers=FLOWXO_HEADERS).status_code == 429
    sb.faults.fail_next(1, status=502, api="klaviyo-reports")
    assert client.get("/api/metrics/", headers=KLAVIYO_HEADERS).status_code == 200
    report = client.post(
        "/api/segment-values-reports/", headers=KLAVIYO_HEADERS, json=report_body()
    )
    assert report.status_code == 502


def test_drop_next(sb: Sandbox, client: httpx.Client) -> None:
    sb.clear_log()
    sb.faults.drop_next(1, api="flowxo")
    with pytest.raises(httpx.TransportError):
        client.get(TOP, headers=FLOWXO_HEADERS)
    assert client.get(TOP, headers=FLOWXO_HEADERS).status_code == 200
    statuses = [entry.status for entry in sb.log]
    assert statuses == [None, 200]


def test_fault_arguments_are_checked(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown API"):
        sb.faults.fail_next(1, api="twitter")
    with pytest.raises(ValueError, match="status"):
        sb.faults.fail_next(1, status=200)
    with pytest.raises(ValueError, match="at least 1"):
        sb.faults.drop_next(0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sb.faults.error_rate = 1.5


def test_latency_per_api(sb: Sandbox, client: httpx.Client) -> None:
    # No timing is measured: a client that waits less than the latency times out.
    client.get(TOP, headers=FLOWXO_HEADERS)  # made once, so the next answer is immediate
    sb.faults.set_latency(3.0, api="conviva")
    assert sb.faults.latency("conviva") == 3.0
    assert sb.faults.latency("flowxo") == 0.0
    with pytest.raises(httpx.ReadTimeout):
        client.get(DATA_MODEL, auth=CONVIVA_AUTH, timeout=0.3)
    assert client.get(TOP, headers=FLOWXO_HEADERS, timeout=5).status_code == 200
    sb.faults.clear()
    assert client.get(DATA_MODEL, auth=CONVIVA_AUTH, timeout=5).status_code == 200


def test_latency_for_every_api_from_the_constructor() -> None:
    with Sandbox(now=NOW, latency=3.0) as sandbox:
        assert sandbox.faults.latency("klaviyo") == 3.0
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(sandbox.url + TOP, headers=FLOWXO_HEADERS, timeout=0.3)


def test_random_faults_are_seeded() -> None:
    def statuses(seed: int) -> list[int | None]:
        with Sandbox(seed=seed, now=NOW, error_rate=0.3, drop_rate=0.2) as sandbox:
            for _ in range(30):
                with contextlib.suppress(httpx.TransportError):
                    httpx.get(sandbox.url + DATA_MODEL, auth=CONVIVA_AUTH)
            return [entry.status for entry in sandbox.log]

    first = statuses(1)
    assert first == statuses(1)
    assert {200, 503, None} <= set(first)


def test_faults_unit() -> None:
    faults = Faults(latency={"klaviyo": 1.0})
    assert faults.latency("klaviyo") == 1.0
    assert faults.latency("conviva") == 0.0
    faults.fail_next(1, api="klaviyo-reports")
    assert faults.take("klaviyo", "klaviyo") is None
    assert faults.take("klaviyo", "klaviyo-reports") == ("fail", 503, None)
    faults.drop_next(2)
    assert faults.pending == 2
    faults.clear()
    assert faults.pending == 0


# --- the request log ----------------------------------------------------------------------------


def test_the_log_records_every_request(sb: Sandbox, client: httpx.Client) -> None:
    sb.clear_log()
    client.get(DATA_MODEL + "?x=1", auth=CONVIVA_AUTH)
    client.post("/api/segment-values-reports/", headers=KLAVIYO_HEADERS, json=report_body())
    client.get("/elsewhere")
    log = sb.log
    assert [(e.method, e.path, e.query, e.status, e.api) for e in log] == [
        ("GET", DATA_MODEL, "x=1", 400, "conviva"),
        ("POST", "/api/segment-values-reports/", "", 200, "klaviyo"),
        ("GET", "/elsewhere", "", 404, None),
    ]
    assert all(isinstance(e, LoggedRequest) for e in log)
    assert log[0].time <= log[1].time <= log[2].time
    log.clear()  # a copy
    assert len(sb.log) == 3


def test_the_log_keeps_the_latest_requests() -> None:
    with Sandbox(now=NOW, log_size=4) as sandbox, httpx.Client(base_url=sandbox.url) as client:
        assert sandbox.log_size == 4
        for n in range(10):
            client.get(f"{DATA_MODEL}?n={n}", auth=CONVIVA_AUTH)
        assert [e.query for e in sandbox.log] == ["n=6", "n=7", "n=8", "n=9"]
        assert sandbox.logged == 10
        before = sandbox.logged
        client.get(f"{DATA_MODEL}?n=10", auth=CONVIVA_AUTH)
        assert [e.query for e in sandbox.log[before - sandbox.logged :]] == ["n=10"]
        sandbox.clear_log()
        assert (sandbox.log, sandbox.logged) == ([], 0)


def test_the_log_stays_bounded_after_many_requests() -> None:
    import tracemalloc

    headers = {"Host": "127.0.0.1", "Accept": "application/json", "User-Agent": "python-httpx"}
    sandbox = Sandbox(now=NOW)
    assert sandbox.log_size == DEFAULT_LOG_SIZE

    def record(n: int) -> None:
        # What the server logs for each request (a Flow window's path, query and headers).
        path = f"/flow-data/metrics/historical/825/{n:013d}_to_{n + 3_600_000:013d}"
        sandbox._record("GET", path, "granularity=PT1M", 200, float(n), "conviva", headers)

    # Only what this file and the sandbox allocate: another test's thread still winding down
    # may allocate meanwhile.
    mine = [
        tracemalloc.Filter(True, "*/flowql/sandbox/*"),
        tracemalloc.Filter(True, __file__),
    ]

    def held() -> int:
        traces = tracemalloc.take_snapshot().filter_traces(mine)
        return sum(stat.size for stat in traces.statistics("filename"))

    tracemalloc.start()
    try:
        for n in range(3 * DEFAULT_LOG_SIZE):  # the ring full, and turned over
            record(n)
        full = held()
        for n in range(3 * DEFAULT_LOG_SIZE, 3 * DEFAULT_LOG_SIZE + 10_000):
            record(n)
        after = held()
    finally:
        tracemalloc.stop()
    # 10,000 more entries (8 MB in an unbounded log) replace as many old ones; the whole ring
    # is under a megabyte.
    assert after - full < 20_000
    assert after < 1_000_000
    log = sandbox.log
    assert len(log) == DEFAULT_LOG_SIZE
    assert sandbox.logged == 3 * DEFAULT_LOG_SIZE + 10_000
    newest = range(2 * DEFAULT_LOG_SIZE + 10_000, 3 * DEFAULT_LOG_SIZE + 10_000)
    assert [e.time for e in log] == [float(n) for n in newest]


def test_the_log_can_keep_every_request() -> None:
    sandbox = Sandbox(now=NOW, log_size=None)
    for n in range(DEFAULT_LOG_SIZE + 1):
        sandbox._record("GET", "/elsewhere", "", 404, float(n), None)
    assert sandbox.log_size is None
    assert len(sandbox.log) == DEFAULT_LOG_SIZE + 1


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "10"])
def test_a_log_size_is_a_positive_int_or_none(size: object) -> None:
    with pytest.raises(ValueError, match="log_size"):
        Sandbox(log_size=size)  # type: ignore[arg-type]


# --- determinism --------------------------------------------------------------------------------

REQUESTS: list[tuple[str, str, dict[str, str], object]] = [
    ("GET", "/flow-data/metadata/data-model", {}, None),
    ("GET", "/flow-data/real-time-metrics/825/PT15M?granularity=PT5M", {}, None),
    ("GET", "/flow-data/metrics/142/1754418000000_to_1754421600000/group-by/cdn", {}, None),
    ("GET", "/insights/3.0/sessions/content?limit=5", {}, None),
    ("GET", "/insights/3.0/sessions/ad?limit=5", {}, None),
    ("GET", "/api/metrics/", KLAVIYO_HEADERS, None),
    ("POST", "/api/segment-values-reports/", KLAVIYO_HEADERS, report_body()),
    (
        "POST",
        "/api/flow-series-reports/",
        KLAVIYO_HEADERS,
        {
            "data": {
                "type": "flow-series-report",
                "attributes": {
                    "timeframe": {"key": "last_30_days"},
                    "interval": "weekly",
                    "conversion_metric_id": "REcTBe",
                    "statistics": ["opens", "open_rate"],
                },
            }
        },
    ),
    ("GET", "/api/insights?start=2025-07-01&unit=day", FLOWXO_HEADERS, None),
    ("GET", "/api/insights/top_flows", FLOWXO_HEADERS, None),
]


def _bodies(seed: int) -> list[bytes]:
    with Sandbox(seed=seed, now=NOW, rate_limits=False) as sandbox:
        out = []
        for method, path, headers, body in REQUESTS:
            auth = CONVIVA_AUTH if not headers else None
            response = httpx.request(
                method, sandbox.url + path, headers=headers, json=body, auth=auth, timeout=30
            )
            assert response.status_code == 200, (path, response.text)
            # Links hold the port, which differs between servers.
            out.append(response.content.replace(sandbox.url.encode(), b"URL"))
        return out


def test_same_seed_and_now_give_the_same_bytes() -> None:
    first = _bodies(7)
    assert first == _bodies(7)
    other = _bodies(8)
    assert first[0] == other[0]  # the data model is not synthetic
    assert all(a != b for a, b in zip(first[1:], other[1:], strict=True))


# --- the command --------------------------------------------------------------------------------


def test_cli_starts_prints_the_line_and_stops_cleanly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flowql", "sandbox", "--port", "0", "--now", "2025-08-05T19:30Z"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.fullmatch(
            r"flowql sandbox: serving Conviva, Klaviyo and Flow XO on (http://127\.0\.0\.1:\d+) "
            r"\(secret: sandbox; Ctrl-C to stop\)\n",
            line,
        )
        assert match is not None, line
        response = httpx.get(match.group(1) + TOP, headers=FLOWXO_HEADERS, timeout=10)
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert out == ""
    assert "GET /api/insights/top_messages?start=2025-08-04&end=2025-08-05 -> 200" in err


def test_cli_reports_a_port_in_use(sb: Sandbox) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "sandbox", "--port", str(sb.port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot listen on" in result.stderr


def test_cli_reads_now_as_every_time_is_read() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowql", "sandbox", "--port", "0", "--now", "yesterday"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "flowql: error: --now: 'yesterday' is not a time" in result.stderr
    assert "Traceback" not in result.stderr
