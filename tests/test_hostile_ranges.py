"""The hostile-input suite, ranges: times out of range, ranges of centuries, timeouts that
bound nothing. The promises: a flowql error (FQ702, FQ703, a usage error), never a traceback,
and a range refused before it is split into windows. Counted in the tally as area
``ranges``."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hostile import failed, tried

import flowql.query.plan
from flowql.query import FlowQuery, QueryError, SessionsQuery, Window, split_windows
from flowql.query.plan import MAX_WINDOWS
from flowql.times import TimeError, parse_time

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@contextlib.contextmanager
def hostile() -> Iterator[None]:
    tried("ranges")
    try:
        yield
    except BaseException:
        failed("ranges")
        raise


FAR = ["-99999999999999d", "-9999999999h", "+99999999999999d", "-999999999d", "+9999999999h"]


@pytest.mark.parametrize("value", FAR)
def test_a_time_out_of_range_is_a_time_error(value: str) -> None:
    with hostile(), pytest.raises(TimeError):
        parse_time(value, now=NOW)


@pytest.mark.parametrize("value", FAR)
def test_a_query_with_a_time_out_of_range_is_fq702(value: str) -> None:
    for start, end in ((value, "now"), ("-1h", value)):
        with hostile():
            codes = [
                d.code
                for d in FlowQuery("825", "historical", start=start, end=end).validate(now=NOW)
            ]
            assert "FQ702" in codes or "FQ703" in codes, codes


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "now"), ("-1h", "9999-12-31"), ("0001-01-01", "9999-12-31T23:59:59Z")],
)
def test_a_range_of_centuries_is_refused_before_it_is_split(
    start: str, end: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: list[int] = []  # how many windows each split made

    def spy(begin: dt.datetime, stop: dt.datetime, size: dt.timedelta) -> list[Window]:
        windows = split_windows(begin, stop, size)  # counts first: a TimeError past the bound
        counts.append(len(windows))
        return windows

    monkeypatch.setattr(flowql.query.plan, "split_windows", spy)
    with hostile():
        query = FlowQuery("825", "historical", start=start, end=end)
        with pytest.raises(QueryError) as caught:
            query.plan(now=NOW)
        assert {d.code for d in caught.value.diagnostics} & {"FQ702", "FQ703"}
        # Refused with no list of windows made past the bound (old code split centuries
        # first: 39.5 s and 2.6 GB before the FQ703).
        assert all(n <= MAX_WINDOWS for n in counts), counts
    # Where "how far back" does not count (flowql check), the window bound does.
    for made in (
        query,
        SessionsQuery("content", start_date=start, end_date=end),
    ):
        with hostile():
            assert "FQ702" in [d.code for d in made.validate(now=NOW, timeless=True)]


def test_split_windows_counts_before_it_splits() -> None:
    start = dt.datetime(1, 1, 1, tzinfo=UTC)
    with hostile(), pytest.raises(TimeError, match=f"more than {MAX_WINDOWS} windows"):
        split_windows(start, NOW, dt.timedelta(hours=1))
    hour = dt.timedelta(hours=1)
    assert len(split_windows(NOW - hour * MAX_WINDOWS, NOW, hour)) == MAX_WINDOWS


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "x", ""])
def test_a_timeout_that_bounds_nothing_is_a_usage_error(value: str) -> None:
    with hostile():
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "flowql",
                "query",
                "flowxo",
                "insights",
                "--dry-run",
                f"--timeout={value}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "--timeout" in done.stderr
        assert "Traceback" not in done.stderr
