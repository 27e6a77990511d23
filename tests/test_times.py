"""flowql.times: the one set of time and duration rules every face of flowql uses."""

from __future__ import annotations

import ast
import itertools
import os
import pickle
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import flowql.times
from flowql.times import (
    UTC,
    TimeError,
    floor_time,
    format_duration,
    format_time,
    parse_duration,
    parse_time,
    parse_tz,
    split_range,
    to_epoch_ms,
    to_epoch_s,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEC_1 = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)  # 1764590400 s


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def anything(value: object) -> Any:
    """``value`` typed as Any, to pass what the signatures forbid."""
    return value


def error(call: Any, *args: Any, **kwargs: Any) -> TimeError:
    with pytest.raises(TimeError) as info:
        call(*args, **kwargs)
    return info.value


# --- the error type ------------------------------------------------------------------------------


def test_time_error_is_a_value_error_with_message_and_hint() -> None:
    exc = error(parse_time, "yesterday")
    assert isinstance(exc, ValueError)
    assert str(exc) == exc.message == "'yesterday' is not a time"
    assert exc.hint is not None
    assert "ISO 8601" in exc.hint
    assert "-2h30m" in exc.hint


def test_time_error_pickles_with_its_hint() -> None:
    exc = pickle.loads(pickle.dumps(TimeError("bad", "write good")))
    assert (exc.message, exc.hint, str(exc)) == ("bad", "write good", "bad")


# --- now and relative times ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["now", "NOW", " Now ", "now-0s", "-0s"])
def test_now(text: str) -> None:
    assert parse_time(text, now=NOW) == NOW


def test_now_defaults_to_the_current_time_in_utc() -> None:
    before = datetime.now(UTC)
    moment = parse_time("now")
    assert before <= moment <= datetime.now(UTC)
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("-7d", -timedelta(days=7)),
        ("-2h30m", -timedelta(hours=2, minutes=30)),
        ("-1w", -timedelta(weeks=1)),
        ("-1w2d", -timedelta(days=9)),
        ("-90s", -timedelta(seconds=90)),
        ("+15m", timedelta(minutes=15)),
        ("-1w2d3h4m5s", -timedelta(days=9, hours=3, minutes=4, seconds=5)),
        ("-0.25s", -timedelta(milliseconds=250)),
        ("- 2h30m", -timedelta(hours=2, minutes=30)),
        ("-2 h 30 m", -timedelta(hours=2, minutes=30)),
        ("-2H30M", -timedelta(hours=2, minutes=30)),
        ("now-7d", -timedelta(days=7)),
        ("now - 2h30m", -timedelta(hours=2, minutes=30)),
        ("now+1h", timedelta(hours=1)),
        ("NOW-1W", -timedelta(weeks=1)),
    ],
)
def test_relative(text: str, delta: timedelta) -> None:
    assert parse_time(text, now=NOW) == NOW + delta


def test_relative_is_exact() -> None:
    now = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    assert parse_time("-1s", now=now) == datetime(2026, 11, 22, 9, 59, 59, 123456, tzinfo=UTC)


def test_a_day_is_24_hours_even_across_a_dst_change() -> None:
    # 2026-03-29 is 23 hours long in Madrid; relative times count UTC hours.
    now = parse_time("2026-03-29T12:00", tz="Europe/Madrid")
    assert now - parse_time("-1d", now=now) == timedelta(hours=24)


def test_a_naive_now_is_read_in_tz() -> None:
    naive = datetime(2026, 11, 22, 10, 0)
    assert parse_time("now", now=naive, tz="+05:00") == utc(2026, 11, 22, 5)
    assert parse_time("-1h", now=naive) == utc(2026, 11, 22, 9)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("-30m2h", "write -2h30m"),
        ("-1h1h", "write -2h"),
        ("-2d1w", "write -1w2d"),
        ("now+30s1m", "write +1m30s"),
        ("-1.5h", "write -1h30m"),
    ],
)
def test_relative_units_out_of_order_or_repeated_say_the_fix(text: str, fix: str) -> None:
    exc = error(parse_time, text, now=NOW)
    assert repr(text) in exc.message
    assert exc.hint == fix


@pytest.mark.parametrize(
    ("text", "in_hint"),
    [
        ("2h30m", "-2h30m"),
        ("-5", "-5m"),
        ("+5", "+5h"),
        ("-5y", "units are w"),
        ("-", "2h30m"),
        ("now-", "2h30m"),
        ("now 5m", "now-7d"),
        ("nowish", "now-7d"),
        ("-2h30", "2h30m"),
    ],
)
def test_bad_relative_times(text: str, in_hint: str) -> None:
    exc = error(parse_time, text, now=NOW)
    assert repr(text) in exc.message
    assert exc.hint is not None
    assert in_hint in exc.hint


def test_relative_out_of_range() -> None:
    assert "out of range" in error(parse_time, "-99999999w", now=NOW).message
    assert "too long" in error(parse_time, "-" + "9" * 30 + "d", now=NOW).message


# --- epochs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        1764590400,
        "1764590400",
        1764590400000,
        "1764590400000",
        "1764590400s",
        "1764590400000ms",
        "1764590400000MS",
        "1764590400 s",
        1764590400.0,
        " 1764590400 ",
    ],
)
def test_epoch_seconds_and_milliseconds(value: str | int | float) -> None:
    assert parse_time(value) == DEC_1


def test_epoch_rule_is_by_magnitude() -> None:
    # The largest number read as seconds, and the smallest read as milliseconds.
    assert parse_time(99_999_999_999) == EPOCH + timedelta(seconds=99_999_999_999)
    assert parse_time(100_000_000_000) == EPOCH + timedelta(milliseconds=100_000_000_000)
    assert parse_time("000000000005") == EPOCH + timedelta(seconds=5)
    assert parse_time(0) == EPOCH


def test_a_suffix_overrides_the_rule() -> None:
    assert parse_time("5ms") == EPOCH + timedelta(milliseconds=5)
    assert parse_time("100000000000s") == EPOCH + timedelta(seconds=100_000_000_000)


def test_epoch_fractions() -> None:
    assert parse_time("1764590400.25") == DEC_1 + timedelta(milliseconds=250)
    assert parse_time("1764590400000.5") == DEC_1 + timedelta(microseconds=500)
    assert parse_time("1764590400.1234567") == DEC_1 + timedelta(microseconds=123456)
    # A float is read as its repr (what was written), not its binary expansion.
    assert parse_time(1764590400.1) == DEC_1 + timedelta(milliseconds=100)
    assert parse_time(1764590400000.5) == DEC_1 + timedelta(microseconds=500)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "cannot be negative"),
        (-1.5, "cannot be negative"),
        ("-1764590400", "epochs cannot be negative"),
        (True, "boolean"),
        (False, "boolean"),
        (float("nan"), "not a time"),
        (float("inf"), "not a time"),
        (float("-inf"), "not a time"),
        (10**20, "out of range"),
        pytest.param(10**5000, "out of range", id="a-5001-digit-int"),
        (1e300, "out of range"),
        ("9" * 30, "out of range"),
        ("9" * 5000, "out of range"),
        ("253402300800s", "out of range"),
        ("253402300800000ms", "out of range"),
        ("1e9", "not a time"),
        ("1_000", "not a time"),
        ("\u0663", "not a time"),  # an Arabic-Indic digit: int() would take it
    ],
)
def test_bad_epochs(value: object, words: str) -> None:
    assert words in error(parse_time, anything(value)).message


def test_the_largest_epochs() -> None:
    assert parse_time("253402300799s") == utc(9999, 12, 31, 23, 59, 59)
    assert parse_time("253402300799999ms") == datetime.max.replace(tzinfo=UTC, microsecond=999000)


@given(st.integers(min_value=0, max_value=300_000_000_000_000))
@example(99_999_999_999)
@example(100_000_000_000)
@example(253402300799)
@example(253402300800)
@example(253402300799999)
@example(253402300800000)
def test_an_int_epoch_reads_as_its_text_does(value: int) -> None:
    # An int takes a short path (every point of an answer is one); its text takes the long one.
    try:
        expected: object = parse_time(str(value))
    except TimeError as exc:
        expected = exc.message.replace(f"'{value}'", str(value))
    try:
        got: object = parse_time(value)
    except TimeError as exc:
        got = exc.message
    assert got == expected
    # A zone, when given, is still checked.
    with pytest.raises(TimeError):
        parse_time(value, tz="Not/AZone")


# --- ISO 8601 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", utc(2026, 12, 1)),
        ("2026-12-01T10:00", utc(2026, 12, 1, 10)),
        ("2026-12-01t10:00", utc(2026, 12, 1, 10)),
        ("2026-12-01 10:00", utc(2026, 12, 1, 10)),
        ("2026-12-01T10:00:30", utc(2026, 12, 1, 10, 0, 30)),
        ("2026-12-01T10:00:30Z", utc(2026, 12, 1, 10, 0, 30)),
        ("2026-12-01T10:00:30z", utc(2026, 12, 1, 10, 0, 30)),
        ("2026-12-01T10:00Z", utc(2026, 12, 1, 10)),
        ("2026-11-01T00:00-05:00", utc(2026, 11, 1, 5)),
        ("2026-12-01T10:00+05:30", utc(2026, 12, 1, 4, 30)),
        ("2026-12-01T10:00-0500", utc(2026, 12, 1, 15)),
        ("2026-12-01T10:00+05", utc(2026, 12, 1, 5)),
        ("2026-12-01T10:00:00+00:00", utc(2026, 12, 1, 10)),
        ("2026-12-01T10:00:00-00:00", utc(2026, 12, 1, 10)),
        # Forms Python 3.10's fromisoformat refuses: one, two, four or nine fraction digits,
        # a comma, Z, an offset without a colon or without minutes.
        ("2026-12-01T10:00:00.5Z", utc(2026, 12, 1, 10, 0, 0, 500000)),
        ("2026-12-01T10:00:00.25", utc(2026, 12, 1, 10, 0, 0, 250000)),
        ("2026-12-01T10:00:00.1234+01:00", utc(2026, 12, 1, 9, 0, 0, 123400)),
        ("2026-12-01T10:00:00.123456789Z", utc(2026, 12, 1, 10, 0, 0, 123456)),
        ("2026-12-01T10:00:00,5Z", utc(2026, 12, 1, 10, 0, 0, 500000)),
        ("  2026-12-01T10:00Z\n", utc(2026, 12, 1, 10)),
        ("0001-01-01T00:00Z", datetime.min.replace(tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_iso(text: str, expected: datetime) -> None:
    moment = parse_time(text)
    assert moment == expected
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-12-01T10:00", "Europe/Madrid", utc(2026, 12, 1, 9)),  # CET, +01:00
        ("2026-07-01T10:00", "Europe/Madrid", utc(2026, 7, 1, 8)),  # CEST, +02:00
        ("2026-12-01", "Europe/Madrid", utc(2026, 11, 30, 23)),
        ("2026-12-01T10:00", "+05:30", utc(2026, 12, 1, 4, 30)),
        ("2026-12-01T10:00", "-0500", utc(2026, 12, 1, 15)),
        ("2026-12-01T10:00", "UTC", utc(2026, 12, 1, 10)),
        ("2026-12-01T10:00", timezone(timedelta(hours=-3)), utc(2026, 12, 1, 13)),
        # An offset in the text wins over tz.
        ("2026-12-01T10:00Z", "Europe/Madrid", utc(2026, 12, 1, 10)),
        ("2026-12-01T10:00+01:00", "-0500", utc(2026, 12, 1, 9)),
    ],
)
def test_naive_text_is_read_in_tz(text: str, tz: str | tzinfo, expected: datetime) -> None:
    assert parse_time(text, tz=tz) == expected


def test_dst_uses_fold_0() -> None:
    # 02:30 happens twice on 2026-10-25 in Madrid: the first one, still in summer time.
    assert parse_time("2026-10-25T02:30", tz="Europe/Madrid") == utc(2026, 10, 25, 0, 30)
    # 02:30 never happens on 2026-03-29: read with the offset before the change (+01:00).
    assert parse_time("2026-03-29T02:30", tz="Europe/Madrid") == utc(2026, 3, 29, 1, 30)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-02-30", "day is out of range"),
        ("2026-13-01", "month must be in 1..12"),
        ("0000-01-01", "year 0 is out of range"),
        ("2026-12-01T24:00", "hours run from 00 to 23"),
        ("2026-12-01T10:60", "minute must be in 0..59"),
        ("2026-12-01T23:59:60Z", "second must be in 0..59"),
        ("2026-12-01T10:00+24:00", "out of range"),
        ("2026-12-01T10:00+05:60", "out of range"),
        ("0001-01-01T00:00+05:00", "out of range in UTC"),
        ("9999-12-31T23:00-05:00", "out of range in UTC"),
        ("2026-12-01T10", "not a time"),
        ("2026-12-01Z", "not a time"),
        ("2026-12-01T10:00:00.Z", "not a time"),
        ("2026-12-01T10:00 +05:00", "not a time"),
        ("2026-12-01T10:00+5", "not a time"),
        ("20261201T1000", "not a time"),
        ("10:00", "not a time"),
        ("12/01/2026", "not a time"),
        ("2026-12-01\u0663", "not a time"),
    ],
)
def test_bad_iso(text: str, words: str) -> None:
    exc = error(parse_time, text)
    assert repr(text) in exc.message
    assert words in exc.message
    assert exc.hint


# --- datetimes and dates -------------------------------------------------------------------------


def test_datetimes() -> None:
    madrid = parse_tz("Europe/Madrid")
    assert parse_time(datetime(2026, 12, 1, 10)) == utc(2026, 12, 1, 10)
    assert parse_time(datetime(2026, 12, 1, 10), tz="Europe/Madrid") == utc(2026, 12, 1, 9)
    assert parse_time(datetime(2026, 12, 1, 10), tz="+02:00") == utc(2026, 12, 1, 8)
    aware = datetime(2026, 12, 1, 10, tzinfo=madrid)
    assert parse_time(aware) == utc(2026, 12, 1, 9)
    assert parse_time(aware, tz="-0500") == utc(2026, 12, 1, 9)  # aware: tz does not apply
    assert parse_time(aware).tzinfo is UTC


def test_dates_are_midnight_in_tz() -> None:
    assert parse_time(date(2026, 12, 1)) == utc(2026, 12, 1)
    assert parse_time(date(2026, 12, 1), tz="Europe/Madrid") == utc(2026, 11, 30, 23)


def test_a_tzinfo_without_an_offset_is_refused() -> None:
    class Nowhere(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return None

        def dst(self, dt: datetime | None) -> timedelta | None:
            return None

        def tzname(self, dt: datetime | None) -> str | None:
            return None

    assert "without an offset" in error(parse_time, datetime(2026, 1, 1, tzinfo=Nowhere())).message
    assert "without an offset" in error(parse_time, "2026-01-01", tz=Nowhere()).message
    assert "without an offset" in error(to_epoch_ms, datetime(2026, 1, 1, tzinfo=Nowhere())).message
    assert "without an offset" in error(format_time, datetime(2026, 1, 1, tzinfo=Nowhere())).message


def test_wrong_argument_types_are_time_errors() -> None:
    assert "now must be a datetime" in error(parse_time, "-1h", now=anything("2026")).message
    for call in (format_time, to_epoch_ms, to_epoch_s):
        assert "pass a datetime" in str(error(call, anything(1764590400)).hint)
    error(format_duration, anything(60))
    error(split_range, anything("2026-11-22"), NOW, timedelta(hours=1))
    error(split_range, NOW, NOW + timedelta(hours=1), anything(3600))
    error(split_range, NOW, NOW + timedelta(hours=1), timedelta(hours=1), align=anything(1))


def test_datetimes_out_of_range_in_utc() -> None:
    early = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))
    assert "out of range" in error(parse_time, early).message
    assert "out of range" in error(parse_time, datetime.min, tz="+05:00").message


@pytest.mark.parametrize("value", [None, "", "   ", [1], b"2026-12-01", {"t": 1}, object()])
def test_other_values_are_refused(value: object) -> None:
    exc = error(parse_time, anything(value))
    assert exc.hint is not None
    assert "ISO 8601" in exc.hint


# --- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, "UTC", "utc", "Z", "z", " UTC ", "+00:00", "-0000"])
def test_utc_names(name: str | None) -> None:
    assert parse_tz(name) is UTC


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("+05:30", timedelta(hours=5, minutes=30)),
        ("-0500", timedelta(hours=-5)),
        ("+05", timedelta(hours=5)),
        ("-23:59", -timedelta(hours=23, minutes=59)),
    ],
)
def test_fixed_offsets(name: str, offset: timedelta) -> None:
    assert parse_tz(name).utcoffset(None) == offset


def test_iana_names_and_tzinfos() -> None:
    madrid = parse_tz("Europe/Madrid")
    assert madrid.utcoffset(datetime(2026, 7, 1)) == timedelta(hours=2)
    assert parse_tz(madrid) is madrid
    assert parse_tz(UTC) is UTC


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Europe/Madird", "did you mean Europe/Madrid?"),
        ("europe/madrid", "did you mean Europe/Madrid?"),
        ("Bogus/Nowhere", "Europe/Madrid"),
        ("Europe", "did you mean Europe/"),
        ("zone.tab", "Europe/Madrid"),
        ("../etc/passwd", "Europe/Madrid"),
        ("/etc/localtime", "Europe/Madrid"),
        ("", "Europe/Madrid"),
        ("+25:00", "-23:59 to +23:59"),
        ("+5", "+05:30"),
        ("Europe/Madrid\x00", "Europe/Madrid"),
    ],
)
def test_bad_time_zones(name: str, hint: str) -> None:
    exc = error(parse_tz, name)
    assert repr(name) in exc.message
    assert exc.hint is not None
    assert hint in exc.hint


def test_a_bad_tz_fails_even_when_unused() -> None:
    assert "unknown time zone" in error(parse_time, "2026-12-01T10:00Z", tz="Mars/Olympus").message
    assert "must be a name" in error(parse_tz, anything(5)).message


def test_zoneinfo_is_imported_only_for_a_zone_name() -> None:
    code = (
        "import sys\n"
        "from flowql.times import parse_time, parse_tz\n"
        "parse_time('2026-12-01T10:00', tz='+05:30'); parse_time('now'); parse_tz('UTC')\n"
        "assert 'zoneinfo' not in sys.modules, 'imported early'\n"
        "parse_tz('Europe/Madrid')\n"
        "assert 'zoneinfo' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr


def test_the_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(flowql.times.__file__).read_text(encoding="utf-8"))
    modules = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    outside = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}
    assert outside <= {"flowql.errors"}
    assert "zoneinfo" in modules  # imported, lazily: checked above


# --- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
        ("1w2d3h4m5s", timedelta(days=9, hours=3, minutes=4, seconds=5)),
        ("0.5s", timedelta(milliseconds=500)),
        ("1H30M", timedelta(hours=1, minutes=30)),
        (" 1h 30m ", timedelta(hours=1, minutes=30)),
        ("PT15M", timedelta(minutes=15)),
        ("pt15m", timedelta(minutes=15)),
        ("P7D", timedelta(days=7)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,5S", timedelta(seconds=1.5)),
        ("P1W2DT3H4M5S", timedelta(days=9, hours=3, minutes=4, seconds=5)),
        ("PT90M", timedelta(minutes=90)),
        (timedelta(minutes=5), timedelta(minutes=5)),
    ],
)
def test_durations(text: str | timedelta, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "words", "hint"),
    [
        ("0s", "longer than zero", "15m"),
        ("PT0S", "longer than zero", "15m"),
        ("0.0000001s", "longer than zero", "15m"),
        ("-15m", "positive", "write 15m"),
        ("15", "no unit", "15m"),
        ("", "empty", "PT15M"),
        ("30m2h", "largest to smallest", "write 2h30m"),
        ("1m1m", "largest to smallest", "write 2m"),
        ("1.5h", "only seconds", "write 1h30m"),
        ("P1M", "months", "P30D"),
        ("P1Y2D", "years", "P30D"),
        ("PT", "not a duration", "PT15M"),
        ("P", "not a duration", "PT15M"),
        ("P1DT", "not a duration", "PT15M"),
        ("PT1.5H", "not a duration", "PT15M"),
        ("15 minutes", "not a unit", "units are w"),
        ("1000000000d", "too long", "999999999 days"),
        ("P" + "9" * 40 + "D", "too long", "999999999 days"),
    ],
)
def test_bad_durations(text: str, words: str, hint: str) -> None:
    exc = error(parse_duration, text)
    assert words in exc.message
    assert exc.hint is not None
    assert hint in exc.hint


@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-1), None, 15, 1.5])
def test_bad_duration_values(value: object) -> None:
    error(parse_duration, anything(value))


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=7), "1w"),
        (timedelta(days=9), "1w2d"),
        (timedelta(days=14, seconds=1), "2w1s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(0), "0s"),
        (timedelta(milliseconds=500), "0.5s"),
        (timedelta(seconds=1, microseconds=1), "1.000001s"),
        (timedelta(hours=1, milliseconds=250), "1h0.25s"),
        (-timedelta(hours=2, minutes=30), "-2h30m"),
        (timedelta.min, "-142857142w5d"),
    ],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(st.timedeltas(min_value=timedelta(microseconds=1)))
@example(timedelta.max)
def test_durations_round_trip(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


@given(st.timedeltas())
def test_relative_times_round_trip(duration: timedelta) -> None:
    text = format_duration(duration)
    shift = text if text.startswith("-") else "+" + text
    try:
        expected = NOW + duration
    except OverflowError:
        assert "out of range" in error(parse_time, shift, now=NOW).message
    else:
        assert parse_time(shift, now=NOW) == expected


# --- formatting and epoch arithmetic -------------------------------------------------------------


def test_format_time() -> None:
    assert format_time(utc(2026, 11, 22, 10)) == "2026-11-22T10:00:00Z"
    assert format_time(utc(2026, 11, 22, 10, 0, 0, 250000)) == "2026-11-22T10:00:00.250Z"
    assert format_time(utc(2026, 11, 22, 10, 0, 0, 999)) == "2026-11-22T10:00:00Z"
    assert format_time(utc(2026, 11, 22, 10, 0, 0, 1999)) == "2026-11-22T10:00:00.001Z"
    assert format_time(datetime(2026, 11, 22, 10)) == "2026-11-22T10:00:00Z"  # naive is UTC
    assert format_time(parse_time("2026-11-22T11:00+01:00")) == "2026-11-22T10:00:00Z"
    assert format_time(datetime(2026, 11, 22, 11, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-11-22T10:00:00Z"
    )
    assert format_time(datetime.min) == "0001-01-01T00:00:00Z"  # padded, unlike some strftime


def test_format_time_refuses_other_values() -> None:
    error(format_time, anything("2026-11-22"))
    error(format_time, datetime.min.replace(tzinfo=timezone(timedelta(hours=1))))


aware_times = st.datetimes(timezones=st.just(UTC))


@given(aware_times)
def test_times_round_trip_to_the_millisecond(moment: datetime) -> None:
    floored = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_time(format_time(moment)) == floored


def test_epoch_conversions() -> None:
    assert to_epoch_s(DEC_1) == 1764590400
    assert to_epoch_ms(DEC_1) == 1764590400000
    assert to_epoch_ms(datetime(2025, 12, 1, 12)) == 1764590400000  # naive is UTC
    # float arithmetic would give ...001 here, and 0 for the second.
    assert to_epoch_ms(utc(2262, 11, 22, 10, 0, 0, 999)) == 9242762400000
    assert to_epoch_ms(EPOCH - timedelta(microseconds=500)) == -1
    assert to_epoch_s(EPOCH - timedelta(microseconds=1)) == -1
    assert to_epoch_ms(parse_time("2026-11-01T00:00-05:00")) == to_epoch_ms(utc(2026, 11, 1, 5))


@given(st.datetimes(), st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]))
def test_epoch_conversions_are_exact(naive: datetime, zone: tzinfo) -> None:
    moment = naive.replace(tzinfo=zone)
    delta = moment - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    assert to_epoch_ms(moment) == micros // 1000
    assert to_epoch_s(moment) == micros // 1_000_000
    if micros >= 0:
        ms = timedelta(milliseconds=1)
        assert parse_time(f"{to_epoch_ms(moment)}ms") == floor_time(moment, ms)


def test_floor_time() -> None:
    moment = utc(2026, 11, 22, 10, 17, 42, 123456)
    assert floor_time(moment, timedelta(seconds=1)) == utc(2026, 11, 22, 10, 17, 42)
    assert floor_time(moment, timedelta(hours=1)) == utc(2026, 11, 22, 10)
    assert floor_time(moment, timedelta(minutes=15)) == utc(2026, 11, 22, 10, 15)
    assert floor_time(moment, timedelta(days=1)) == utc(2026, 11, 22)
    assert floor_time(moment, timedelta(weeks=1)) == utc(2026, 11, 19)  # a Thursday
    assert floor_time(datetime(2026, 11, 22, 10, 30), timedelta(hours=1)) == utc(2026, 11, 22, 10)
    madrid = datetime(2026, 11, 22, 10, 30, tzinfo=parse_tz("Europe/Madrid"))
    floored = floor_time(madrid, timedelta(hours=1))
    assert floored == utc(2026, 11, 22, 9)
    assert floored.tzinfo is UTC
    assert floor_time(EPOCH - timedelta(microseconds=1), timedelta(seconds=1)) == utc(
        1969, 12, 31, 23, 59, 59
    )


def test_floor_time_refuses_bad_steps() -> None:
    assert "longer than zero" in error(floor_time, NOW, timedelta(0)).message
    assert "longer than zero" in error(floor_time, NOW, timedelta(seconds=-1)).message
    error(floor_time, NOW, anything(60))
    error(floor_time, anything("now"), timedelta(seconds=1))
    assert "out of range" in error(floor_time, datetime.min, timedelta(days=7)).message


# --- split_range ---------------------------------------------------------------------------------


def test_split_range() -> None:
    start = utc(2026, 11, 22, 10)
    assert split_range(start, start + timedelta(hours=2, minutes=30), timedelta(hours=1)) == [
        (utc(2026, 11, 22, 10), utc(2026, 11, 22, 11)),
        (utc(2026, 11, 22, 11), utc(2026, 11, 22, 12)),
        (utc(2026, 11, 22, 12), utc(2026, 11, 22, 12, 30)),
    ]


def test_split_range_never_makes_a_zero_or_stray_window() -> None:
    start = utc(2026, 11, 22, 10)
    end = start + timedelta(hours=1, microseconds=500)
    assert split_range(start, end, timedelta(hours=1)) == [(start, utc(2026, 11, 22, 11))]
    # Without alignment the half millisecond is a window of its own.
    assert split_range(start, end, timedelta(hours=1), align=None) == [
        (start, utc(2026, 11, 22, 11)),
        (utc(2026, 11, 22, 11), end),
    ]


def test_split_range_aligns_and_converts() -> None:
    start = datetime(2026, 11, 22, 11, 0, 0, 700000, tzinfo=parse_tz("Europe/Madrid"))
    end = datetime(2026, 11, 22, 10, 30, 0, 100000)  # naive: UTC
    windows = split_range(start, end, timedelta(hours=1), align=timedelta(minutes=1))
    assert windows == [(utc(2026, 11, 22, 10), utc(2026, 11, 22, 10, 30))]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in windows)


def test_split_range_refuses_empty_ranges() -> None:
    start = utc(2026, 11, 22, 10)
    exc = error(split_range, start, start + timedelta(milliseconds=400), timedelta(hours=1))
    assert exc.message == (
        "the range 2026-11-22T10:00:00Z to 2026-11-22T10:00:00.400000Z is shorter than one "
        "second: aligned to 1s it is empty"
    )
    assert exc.hint == "widen the range so that it crosses a whole second"
    # Crossing a second boundary is enough, however short.
    end = start + timedelta(microseconds=1)
    assert split_range(start - timedelta(microseconds=1), end, timedelta(hours=1)) == [
        (start - timedelta(seconds=1), start)
    ]
    assert "is empty" in error(split_range, start, start, timedelta(hours=1)).message
    exc = error(split_range, start, start - timedelta(hours=1), timedelta(hours=1), align=None)
    assert "must end after it starts" in exc.message
    hour = timedelta(hours=1)
    exc = error(split_range, start, start + timedelta(minutes=30), hour, align=hour)
    assert "shorter than 1h" in exc.message
    assert exc.hint == "widen the range so that it crosses a multiple of 1h"


def test_split_range_refuses_bad_sizes() -> None:
    start = utc(2026, 11, 22, 10)
    assert "longer than zero" in error(split_range, start, NOW, timedelta(0)).message
    assert "longer than zero" in error(split_range, start, NOW, -timedelta(hours=1)).message
    exc = error(split_range, start, NOW, timedelta(hours=1), align=timedelta(0))
    assert "alignment" in exc.message


def test_split_range_near_the_end_of_time() -> None:
    end = datetime.max.replace(tzinfo=UTC)
    windows = split_range(end - timedelta(hours=1), end, timedelta(hours=2), align=None)
    assert windows == [(end - timedelta(hours=1), end)]


@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    size=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3)),
    align=st.sampled_from([None, timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)]),
)
def test_split_range_covers_the_range_exactly(
    start: datetime, length: timedelta, size: timedelta, align: timedelta | None
) -> None:
    # At least length/1000 per window keeps the property fast.
    size = max(size, length / 1000, timedelta(microseconds=1))
    first, last = start.replace(tzinfo=UTC), (start + length).replace(tzinfo=UTC)
    if align is not None:
        first, last = floor_time(first, align), floor_time(last, align)
    if first >= last:
        error(split_range, start, start + length, size, align=align)
        return
    windows = split_range(start, start + length, size, align=align)
    assert windows[0][0] == first
    assert windows[-1][1] == last
    for (_, a_end), (b_start, _) in itertools.pairwise(windows):
        assert a_end == b_start  # no gap, no overlap
    assert all(timedelta(0) < b - a <= size for a, b in windows)
    assert all(b - a == size for a, b in windows[:-1])


# --- nothing but TimeError -----------------------------------------------------------------------

# Fragments of the grammar, so random text reaches past the first check.
pieces = st.sampled_from(
    [*"0123456789+-:.,TtZzPpWwDdHhMmSs /", "now", "ms", "2026-12-01", "T10:00", "\u0663", "\x00"]
)
texts = st.one_of(st.text(), st.lists(pieces, max_size=12).map("".join))


def outcome(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, TimeError | None]:
    """What ``call`` returns, or the TimeError it raises (anything else propagates)."""
    try:
        return call(*args, **kwargs), None
    except TimeError as exc:
        return None, exc


@given(texts, st.sampled_from([None, "UTC", "+05:30", "Europe/Madrid"]))
@example("9" * 5000, None)
@example("-" + "9" * 5000 + "s", None)
@example("P" + "9" * 5000 + "W", None)
def test_text_parses_or_raises_time_error(text: str, tz: str | None) -> None:
    moment, exc = outcome(parse_time, text, now=NOW, tz=tz)
    assert moment.tzinfo is UTC if exc is None else bool(exc.message and exc.hint)
    duration, exc = outcome(parse_duration, text)
    assert duration > timedelta(0) if exc is None else bool(exc.message and exc.hint)
    zone, exc = outcome(parse_tz, text)
    assert isinstance(zone, tzinfo) if exc is None else bool(exc.message and exc.hint)


@given(st.one_of(st.integers(), st.floats(), st.integers(min_value=-(10**400), max_value=10**400)))
def test_numbers_parse_or_raise_time_error(number: int | float) -> None:
    moment, exc = outcome(parse_time, number)
    if exc is not None:
        assert exc.message
        assert exc.hint
        assert not 0 <= number < 253402300800000
    else:
        assert moment.tzinfo is UTC
        assert number >= 0
        if number < 100_000_000_000:
            assert abs(moment.timestamp() - number) < 1e-3 * max(1.0, number / 1e9)


# --- the documentation ---------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "times.md"


def test_every_example_in_docs_times_md_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 5
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})


def test_durations_in_days_when_weeks_are_not_wanted() -> None:
    assert format_duration(timedelta(days=30), weeks=False) == "30d"
    assert format_duration(timedelta(days=30)) == "4w2d"
    assert format_duration(timedelta(days=7, hours=2), weeks=False) == "7d2h"
    assert parse_duration(format_duration(timedelta(days=30), weeks=False)) == timedelta(days=30)


def test_is_epoch_says_what_parse_time_reads_as_an_epoch() -> None:
    from flowql.times import is_epoch

    epochs: tuple[object, ...] = (1764590400, 1764590400.5, "1764590400", " 1764590400000ms ")
    for value in (*epochs, "90s", "1.5"):
        assert is_epoch(value), value
    others: tuple[object, ...] = (True, "-2h", "now", "2026-12-01", "", None, "12a")
    for other in others:
        assert not is_epoch(other), other
