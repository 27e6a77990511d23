"""The hostile-input suite, concurrency: one client shared by many threads, many windows in
flight while the server drops connections and fails answers, and keep-alive connections the
server closes between requests. The promises: every answer a server gave with 200 is kept,
every failure is a flowql error recorded for its window, and concurrent callers get what a
lone caller gets. Counted in the tally as area ``concurrency``."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from hostile import failed, tried

from flowql.client import ClientError, ConvivaFlowClient, PartialResultError, RetryPolicy
from flowql.model import demo_model
from flowql.sandbox import Sandbox

AREA = "concurrency"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
END = NOW - dt.timedelta(hours=1)
MODEL = demo_model()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=0, now=NOW, rate_limits=False) as sandbox:
        yield sandbox


def client(sb: Sandbox, **options: object) -> ConvivaFlowClient:
    return ConvivaFlowClient(
        "hostile", "sandbox", base_url=sb.conviva_url, now=lambda: NOW, model=MODEL, **options
    )


def test_one_client_shared_by_many_threads_gives_each_what_a_lone_caller_gets(
    sb: Sandbox,
) -> None:
    start = END - dt.timedelta(hours=6)
    with client(sb) as shared:
        expected = shared.historical("825", start, END).to_records()
        got: list[object] = []
        errors: list[BaseException] = []

        def work() -> None:
            for _ in range(3):
                try:
                    got.append(shared.historical("825", start, END).to_records())
                except BaseException as exc:  # any is a finding: counted below
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    tried(AREA, 24)
    wrong = len(errors) + sum(records != expected for records in got) + (24 - len(got))
    if wrong:
        failed(AREA, wrong)
    assert not errors
    assert got == [expected] * 24


@pytest.mark.parametrize("fault", ["drop", "fail"])
def test_faults_among_many_windows_in_flight_lose_no_answered_window(
    sb: Sandbox, fault: str
) -> None:
    # 48 windows, 16 at a time, no retries: each fault costs its window and nothing else.
    start = END - dt.timedelta(hours=48)
    before = sb.logged
    if fault == "drop":
        sb.faults.drop_next(9, api="conviva")
    else:
        sb.faults.fail_next(9, status=500, api="conviva")
    with (
        client(sb, max_concurrency=16, retry=RetryPolicy(max_attempts=1)) as c,
        pytest.raises(PartialResultError) as caught,
    ):
        c.historical("825", start, END)
    error = caught.value
    log = sb.log[-(sb.logged - before) :]
    # By start: a request ends 1 s inside its window's last bucket (docs/client.md).
    answered = {int(r.path.rsplit("/", 1)[1].split("_to_")[0]) for r in log if r.status == 200}
    kept = {int(w.start.timestamp() * 1000) for w in error.result.windows}
    tried(AREA, 48)
    lost = len(answered - kept)
    strays = sum(not isinstance(e, ClientError) for _, e in error.missing)
    if lost or strays or len(error.missing) != 9:
        failed(AREA, max(1, lost + strays))
    assert answered <= kept  # every window answered 200 is in the result
    assert len(error.missing) == 9
    assert not strays
    assert len(kept) + len(error.missing) == 48


def test_kept_connections_the_server_closed_are_not_a_failure() -> None:
    # The sandbox drops idle keep-alive connections after read_timeout; requests between
    # and after such drops all succeed.
    with (
        Sandbox(seed=0, now=NOW, rate_limits=False, read_timeout=0.2) as quick,
        client(quick, max_concurrency=4, retry=RetryPolicy(max_attempts=1)) as c,
    ):
        for _ in range(4):
            tried(AREA)
            try:
                c.historical("825", END - dt.timedelta(hours=4), END)
            except ClientError:
                failed(AREA)
                raise
            threading.Event().wait(0.4)  # every kept connection is closed by the server
