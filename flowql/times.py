"""Times and durations: one set of rules for every face of flowql (CLI, REPL, manifests, library).

A time (:func:`parse_time`) is one of:

- a :class:`~datetime.datetime`: an aware one is converted to UTC; a naive one is read in the
  time zone ``tz`` (UTC unless given);
- a :class:`~datetime.date`: its midnight in ``tz``;
- ``now`` (any case), or a time relative to now: a sign and amounts with units from largest to
  smallest, each unit at most once (``w d h m s``, only seconds take a fraction): ``-7d``,
  ``-2h30m``, ``-1w2d``, ``+15m``, ``now-7d``, ``now - 2h30m``. A day is 24 hours and a week 7
  days, exactly;
- an epoch number (int, float or digits with an optional fraction), read by magnitude: below
  100,000,000,000 (fewer than 12 integer digits) it counts seconds, from there on milliseconds.
  ``1764590400`` and ``1764590400000`` are both 2025-12-01T12:00:00Z. A suffix overrides the
  rule: ``1764590400s``, ``1764590400000ms``. Epochs cannot be negative;
- ISO 8601 text: a date (``2026-12-01``, midnight) or a date and time joined by ``T``, ``t`` or a
  space, with optional seconds and fraction (``.`` or ``,``) and an optional ``Z`` or offset
  (``+05:30``, ``-0500``, ``+05``). Without an offset the text is read in ``tz``. The parser is
  flowql's own, so Python 3.10 and later read the same text the same way.

A local time that happens twice (clocks go back) reads as the first occurrence; one that never
happens (clocks go forward) reads with the offset in force before the change, so it lands that
much later on the wall clock (``fold=0``). Results are aware UTC datetimes; digits beyond the
microsecond are dropped.

A duration (:func:`parse_duration`) is positive: ``15m``, ``1h30m``, ``7d``, ``1w2d``, ``90s``,
``0.5s``, or ISO 8601 ``PT15M``, ``P7D``, ``P1W``, ``P1DT2H``, ``PT0.5S`` (any case). Months and
years have no fixed length, so they are refused.

Every bad input raises :class:`TimeError` (a ValueError) whose message quotes the input and whose
``hint`` says what to write instead.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime, timedelta, timezone, tzinfo

__all__ = [
    "UTC",
    "TimeError",
    "floor_time",
    "format_duration",
    "format_time",
    "format_wall_clock",
    "is_epoch",
    "parse_duration",
    "parse_time",
    "parse_tz",
    "split_range",
    "to_epoch_ms",
    "to_epoch_s",
    "written_zone",
]

UTC = timezone.utc
"""The time zone of every datetime this module returns."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# The last microsecond a datetime can hold, counted from the epoch: epochs past it are refused
# before any arithmetic, so nothing overflows.
_MAX_EPOCH_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _US
_MAX_TIMEDELTA_US = timedelta.max // _US
# Epoch numbers at or above this count milliseconds (12 or more integer digits).
_MS_FROM = 100_000_000_000
# Longer digit runs are out of range anyway; refusing them early keeps int() (limited to 4300
# digits since Python 3.10.7) from ever seeing them.
_MAX_DIGITS = 20

_TIME_HINT = (
    "write ISO 8601 (2026-11-22T10:00:00Z), epoch seconds or milliseconds, 'now', "
    "or a relative time such as -2h30m"
)
_DURATION_HINT = "write 15m, 1h30m, 7d, 1w, 90s, or ISO 8601 such as PT15M or P1DT2H"
_TZ_HINT = "use an IANA name such as Europe/Madrid, UTC, or an offset such as +05:30"

_UNIT_US = {
    "w": 7 * 86_400_000_000,
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
}
_UNIT_ORDER = "wdhms"

# [0-9] rather than \d everywhere: \d also matches other scripts' digits, which int() accepts.
_EPOCH_TEXT = re.compile(r"([0-9]+)(?:\.([0-9]+))?\s*(ms|s)?", re.IGNORECASE)
_PART = re.compile(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([A-Za-z]+)")
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_OFFSET = re.compile(r"([+-])([0-9]{2})(?::?([0-9]{2}))?")
_ISO_DURATION = re.compile(
    r"P(?:([0-9]+)W)?(?:([0-9]+)D)?"
    r"(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:[.,]([0-9]+))?S)?)?",
    re.IGNORECASE,
)
# What zoneinfo is asked about: a relative path of plain names, never a file outside its tree.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")


class TimeError(ValueError):
    """A time, duration or time zone flowql cannot read. ``str(exc)`` is ``message``; ``hint``
    says what to write instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"TimeError({self.message!r}, hint={self.hint!r})"

    def __reduce__(self) -> tuple[type[TimeError], tuple[str, str | None]]:
        # Keep the hint through pickling (multiprocessing, pytest-xdist).
        return (TimeError, (self.message, self.hint))


def _show(value: object) -> str:
    """``value`` quoted for a message, short enough to read."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**60:
        # str() of a huge int is slow, and refused past 4300 digits.
        return "a very large integer"
    return repr(value)


# --- time zones ----------------------------------------------------------------------------------


def is_epoch(value: object) -> bool:
    """Whether :func:`parse_time` reads ``value`` as an epoch number: an int or a float (not a
    bool), or digits with an optional fraction and ``s``/``ms`` suffix."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()) is not None


def parse_tz(name: str | tzinfo | None) -> tzinfo:
    """A time zone: None, ``UTC``, ``Z`` (any case) give :data:`UTC`; ``+05:30``, ``-0500`` or
    ``+05`` a fixed offset; anything else is looked up as an IANA name (``Europe/Madrid``).
    A tzinfo is returned as it is."""
    if name is None:
        return UTC
    if isinstance(name, tzinfo):
        return name
    if not isinstance(name, str):
        raise TimeError(f"a time zone must be a name, not {type(name).__name__}", _TZ_HINT)
    text = name.strip()
    if text.upper() in ("UTC", "Z"):
        return UTC
    if text[:1] in ("+", "-"):
        offset = _OFFSET.fullmatch(text)
        if offset is None:
            raise TimeError(f"{_show(name)} is not a UTC offset", "write it as +05:30 or -0500")
        return _fixed_offset(offset, name)
    if not _ZONE_NAME.fullmatch(text) or len(text) > 255:
        raise TimeError(f"{_show(name)} is not a time zone", _TZ_HINT)
    # Imported here: only a zone name needs the tz database.
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(text)
    except (KeyError, ValueError, OSError):
        # KeyError is ZoneInfoNotFoundError; ValueError and OSError come from odd files in the
        # tz tree (zone.tab, a directory).
        raise TimeError(f"unknown time zone {_show(name)}", _zone_hint(text)) from None


@functools.lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    # Walking the tz tree takes tens of milliseconds: once per process is enough.
    import zoneinfo

    try:
        return tuple(sorted(zoneinfo.available_timezones()))
    except (OSError, ValueError):
        return ()


def _zone_hint(text: str) -> str:
    import difflib

    names = _zone_names()
    if not names:
        return _TZ_HINT + " (is the tz database installed? pip install tzdata)"
    by_case = {n.lower(): n for n in names}
    close = [by_case[text.lower()]] if text.lower() in by_case else []
    close = close or difflib.get_close_matches(text, names, n=1)
    return f"did you mean {close[0]}?" if close else _TZ_HINT


def _fixed_offset(offset: re.Match[str], shown: object) -> timezone:
    sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
    if hours > 23 or minutes > 59:
        raise TimeError(
            f"{_show(shown)} is not a UTC offset: {offset.group(0)} is out of range",
            "offsets run from -23:59 to +23:59",
        )
    delta = timedelta(hours=hours, minutes=minutes)
    return UTC if not delta else timezone(-delta if sign == "-" else delta)


# --- parsing times -------------------------------------------------------------------------------


def parse_time(
    value: datetime | date | str | int | float,
    *,
    now: datetime | None = None,
    tz: tzinfo | str | None = None,
) -> datetime:
    """``value`` as an aware datetime in UTC, by the rules in this module's docstring.

    ``now`` is the moment ``now`` and relative times count from (default: the current time; a
    naive one is read in ``tz``). ``tz`` is the zone naive datetimes, dates and ISO text
    without an offset are read in: a tzinfo or a name for :func:`parse_tz`; UTC by default.
    Raises :class:`TimeError`.
    """
    if tz is None and type(value) is int and value >= 0:
        # The common case, every point of an answer: an int epoch, as _from_epoch reads it.
        micros = value * (1_000_000 if value < _MS_FROM else 1000)
        if micros <= _MAX_EPOCH_US:
            return _EPOCH + timedelta(microseconds=micros)
    zone = parse_tz(tz)
    if isinstance(value, datetime):
        return _to_utc(value, zone, value)
    if isinstance(value, date):
        return _to_utc(datetime(value.year, value.month, value.day), zone, value)
    if isinstance(value, bool):
        raise TimeError(f"{value} is not a time: a time cannot be a boolean", _TIME_HINT)
    if isinstance(value, int):
        if value < 0:
            raise TimeError(f"{_show(value)} is not a time: epochs cannot be negative", _TIME_HINT)
        return _from_epoch(value, "", None, value)
    if isinstance(value, float):
        return _from_float(value)
    if value is None:
        raise TimeError("a time is required", _TIME_HINT)
    if not isinstance(value, str):
        raise TimeError(f"{type(value).__name__} {_show(value)} is not a time", _TIME_HINT)
    return _from_text(value, now, zone)


def _to_utc(moment: datetime, zone: tzinfo, shown: object) -> datetime:
    if moment.tzinfo is None:
        # fold=0 (the default) picks the first of two repeated local times, and the offset
        # before the change for a skipped one.
        moment = moment.replace(tzinfo=zone)
    try:
        offset = moment.utcoffset()
        if offset is None:
            raise TimeError(
                f"{_show(shown)} has a time zone without an offset",
                "give a time zone such as UTC or Europe/Madrid",
            )
        return moment.astimezone(UTC)
    except OverflowError:
        raise TimeError(
            f"{_show(shown)} is out of range in UTC", "write a time between 0001 and 9999"
        ) from None


def _from_float(value: float) -> datetime:
    if not math.isfinite(value):
        raise TimeError(f"{value} is not a time", _TIME_HINT)
    if value < 0:
        raise TimeError(f"{_show(value)} is not a time: epochs cannot be negative", _TIME_HINT)
    # The shortest repr is what the caller wrote (1764590400.1, not 1764590400.0999999),
    # read exactly. Decimal only when a float comes, as few do.
    from decimal import Decimal

    whole, _, fraction = format(Decimal(repr(abs(value))), "f").partition(".")
    if len(whole) > _MAX_DIGITS:
        raise _out_of_range(value)
    return _from_epoch(int(whole), fraction, None, value)


def _from_epoch(whole: int, fraction: str, unit: str | None, shown: object) -> datetime:
    """The moment ``whole.fraction`` seconds or milliseconds after the epoch (by magnitude
    when ``unit`` is None), truncated to the microsecond."""
    if unit is None:
        unit = "s" if whole < _MS_FROM else "ms"
    places = 6 if unit == "s" else 3
    micros = whole * 10**places + int(fraction[:places].ljust(places, "0"))
    if micros > _MAX_EPOCH_US:
        raise _out_of_range(shown)
    return _EPOCH + timedelta(microseconds=micros)


def _out_of_range(shown: object) -> TimeError:
    return TimeError(
        f"{_show(shown)} is out of range as an epoch time",
        "epochs run from 0 (1970-01-01) to 253402300799 seconds (9999-12-31)",
    )


def _from_text(value: str, now: datetime | None, zone: tzinfo) -> datetime:
    text = value.strip()
    if not text:
        raise TimeError("an empty text is not a time", _TIME_HINT)
    if text[:3].lower() == "now":
        rest = text[3:].strip()
        current = _current(now, zone)
        if not rest:
            return current
        if rest[0] in "+-":
            return _relative(value, current, rest[0], rest[1:])
        raise TimeError(f"{_show(value)} is not a time", "write now, now-7d or now+1h")
    if text[0] in "+-":
        current = _current(now, zone)
        return _relative(value, current, text[0], text[1:])
    epoch = _EPOCH_TEXT.fullmatch(text)
    if epoch is not None:
        whole, fraction, unit = epoch.groups()
        if len(whole) > _MAX_DIGITS:
            raise _out_of_range(value)
        return _from_epoch(int(whole), fraction or "", unit and unit.lower(), value)
    iso = _ISO.fullmatch(text)
    if iso is not None:
        return _from_iso(value, iso, zone)
    try:
        _compact(text, value, "", "time")
    except TimeError:
        raise TimeError(f"{_show(value)} is not a time", _TIME_HINT) from None
    # 2h30m without a sign: say which way.
    raise TimeError(
        f"{_show(value)} is not a time: a time relative to now needs a sign",
        f"write -{text} (ago) or +{text} (from now)",
    )


def _current(now: datetime | None, zone: tzinfo) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime):
        raise TimeError(
            f"now must be a datetime, not {type(now).__name__}", "pass a datetime or None"
        )
    return _to_utc(now, zone, now)


def _relative(value: str, current: datetime, sign: str, body: str) -> datetime:
    body = body.strip()
    if body.isdigit():
        n = body if len(body) <= _MAX_DIGITS else "2"
        raise TimeError(
            f"{_show(value)} is not a time: a relative time needs a unit"
            + (" and epochs cannot be negative" if sign == "-" else ""),
            f"add a unit: {sign}{n}s, {sign}{n}m, {sign}{n}h, {sign}{n}d or {sign}{n}w",
        )
    delta = _compact(body, value, sign, "time")
    try:
        return current - delta if sign == "-" else current + delta
    except OverflowError:
        raise TimeError(
            f"{_show(value)} is out of range", "write a time between 0001 and 9999"
        ) from None


def _from_iso(value: str, iso: re.Match[str], zone: tzinfo) -> datetime:
    year, month, day, hour, minute, second, fraction, offset = iso.groups()
    if hour == "24":
        raise TimeError(
            f"{_show(value)} is not a time: hours run from 00 to 23",
            "write 00:00 of the next day",
        )
    try:
        naive = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "")[:6].ljust(6, "0")),
        )
    except ValueError as exc:
        raise TimeError(
            f"{_show(value)} is not a time: {exc}", "check the date and the time of day"
        ) from None
    if offset is None:
        return _to_utc(naive, zone, value)
    if offset in ("Z", "z"):
        return naive.replace(tzinfo=UTC)
    match = _OFFSET.fullmatch(offset)
    assert match is not None  # _ISO only matches offsets _OFFSET reads
    return _to_utc(naive.replace(tzinfo=_fixed_offset(match, value)), zone, value)


# --- durations -----------------------------------------------------------------------------------


def _compact(body: str, shown: str, sign: str, what: str) -> timedelta:
    """``1w2d3h4m5.5s`` as a timedelta (zero allowed): units from largest to smallest, each at
    most once, only seconds with a fraction."""
    hint = "write amounts with units from largest to smallest (w d h m s), such as "
    hint += f"{sign}2h30m" if what == "time" else "1h30m"
    parts: list[tuple[str, str, str]] = []
    pos = 0
    while pos < len(body):
        part = _PART.match(body, pos)
        if part is None:
            raise TimeError(f"{_show(shown)} is not a {what}", hint)
        parts.append((part.group(1), part.group(2) or "", part.group(3).lower()))
        pos = part.end()
    if not parts:
        raise TimeError(f"{_show(shown)} is not a {what}", hint)
    for _, fraction, unit in parts:
        if unit not in _UNIT_US:
            raise TimeError(
                f"{_show(shown)} is not a {what}: {unit!r} is not a unit",
                "units are w (weeks), d (days), h (hours), m (minutes) and s (seconds)",
            )
        if fraction and unit != "s":
            raise TimeError(
                f"{_show(shown)} is not a {what}: only seconds take a fraction",
                _fraction_hint(parts, sign if what == "time" else ""),
            )
    total = _total_us([(a, f, _UNIT_US[u]) for a, f, u in parts], shown, what)
    ranks = [_UNIT_ORDER.index(u) for _, _, u in parts]
    if ranks != sorted(set(ranks)):
        # The same amount written in order is the fix to offer.
        raise TimeError(
            f"{_show(shown)} is not a {what}: units must go from largest to smallest "
            "(w d h m s), each once",
            f"write {sign if what == 'time' else ''}{format_duration(total)}",
        )
    return total


def _fraction_hint(parts: list[tuple[str, str, str]], sign: str) -> str:
    """``write -1h30m`` for ``-1.5h``: the same amount in whole units, when there is one."""
    if all(len(a) <= _MAX_DIGITS and len(f) <= _MAX_DIGITS for a, f, _ in parts):
        total = 0
        for amount, fraction, unit in parts:
            size = _UNIT_US.get(unit, 0)
            total += int(amount) * size + int(fraction or "0") * size // 10 ** len(fraction)
        if 0 < total <= _MAX_TIMEDELTA_US:
            return f"write {sign}{format_duration(timedelta(microseconds=total))}"
    return "write 1h30m rather than 1.5h"


def _total_us(parts: list[tuple[str, str, int]], shown: str, what: str) -> timedelta:
    """The sum of ``amount.fraction`` times each unit (in microseconds), checked for range."""
    total = 0
    for amount, fraction, unit_us in parts:
        if len(amount) > _MAX_DIGITS:
            total = _MAX_TIMEDELTA_US + 1
            break
        # Only seconds carry a fraction, so six places are whole microseconds.
        total += int(amount) * unit_us + (int(fraction[:6].ljust(6, "0")) if fraction else 0)
    if total > _MAX_TIMEDELTA_US:
        raise TimeError(f"{_show(shown)} is too long a {what}", "write at most 999999999 days")
    return timedelta(microseconds=total)


def parse_duration(text: str | timedelta) -> timedelta:
    """A positive duration: ``15m``, ``1h30m``, ``7d``, ``1w2d``, ``90s``, ``0.5s`` or ISO 8601
    (``PT15M``, ``P7D``, ``P1W``, ``P1DT2H``, ``PT0.5S``), any case. A timedelta is checked and
    returned. Raises :class:`TimeError` for anything else, zero and negative durations included.
    """
    if isinstance(text, timedelta):
        duration = text
        shown = f"{format_duration(text)}"
    elif isinstance(text, str):
        stripped = text.strip()
        shown = text
        if not stripped:
            raise TimeError("an empty text is not a duration", _DURATION_HINT)
        if stripped[0] in "Pp":
            duration = _iso_duration(stripped, text)
        elif stripped[0] == "-":
            rest = stripped[1:].strip()
            raise TimeError(
                f"{_show(text)} is not a duration: durations are positive",
                f"write {rest}" if 0 < len(rest) <= 40 else "for example 15m",
            )
        elif stripped.isdigit():
            n = stripped if len(stripped) <= _MAX_DIGITS else "15"
            raise TimeError(
                f"{_show(text)} is not a duration: it has no unit",
                f"add a unit: {n}s, {n}m or {n}h",
            )
        else:
            duration = _compact(stripped, text, "", "duration")
    else:
        raise TimeError(f"{type(text).__name__} {_show(text)} is not a duration", _DURATION_HINT)
    if duration <= timedelta(0):
        raise TimeError(
            f"{_show(shown)} is not a duration: it must be longer than zero", "for example 15m"
        )
    return duration


def _iso_duration(text: str, shown: str) -> timedelta:
    match = _ISO_DURATION.fullmatch(text)
    if match is None or not any(match.groups()) or text.upper().endswith("T"):
        head = text.upper().partition("T")[0]
        if "Y" in head or "M" in head:
            raise TimeError(
                f"{_show(shown)} is not a duration: years and months have no fixed length",
                "write weeks or days, such as P4W or P30D",
            )
        raise TimeError(f"{_show(shown)} is not a duration", _DURATION_HINT)
    weeks, days, hours, minutes, seconds, fraction = match.groups()
    parts = [
        (amount, "", _UNIT_US[unit])
        for amount, unit in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m"))
        if amount
    ]
    if seconds:
        parts.append((seconds, fraction or "", _UNIT_US["s"]))
    return _total_us(parts, shown, "duration")


# --- formatting and arithmetic -------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """``moment`` with a naive one taken as UTC (never as the machine's local time)."""
    if not isinstance(moment, datetime):
        raise TimeError(
            f"{type(moment).__name__} {_show(moment)} is not a datetime",
            "pass a datetime: parse_time reads text and numbers",
        )
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    if moment.utcoffset() is None:
        raise TimeError(
            f"{_show(moment)} has a time zone without an offset",
            "give a time zone such as UTC or Europe/Madrid",
        )
    return moment


def format_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """ISO 8601 in UTC with a ``Z``, milliseconds only when there are some
    (``2026-11-22T10:00:00Z``, ``2026-11-22T10:00:00.250Z``); a naive datetime is UTC.
    Sub-millisecond parts are truncated. With a ``zone`` other than UTC, the wall-clock time
    there with its offset (``2026-11-22T11:00:00+01:00``)."""
    if zone is not None and _aware(moment).astimezone(zone).utcoffset():
        local = _aware(moment).astimezone(zone)
        text = format_wall_clock(local, zone)
        if local.microsecond >= 1000:
            text = f"{text[:19]}.{local.microsecond // 1000:03d}{text[19:]}"
        return text
    m = _to_utc(_aware(moment), UTC, moment)
    # By hand rather than strftime, which does not pad years below 1000 everywhere.
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    if m.microsecond >= 1000:
        text += f".{m.microsecond // 1000:03d}"
    return text + "Z"


def written_zone(value: object, tz: tzinfo | str | None = None) -> tzinfo:
    """The zone ``value`` was written in: its own offset for ISO text that carries one (``Z``
    is UTC) or an aware datetime's tzinfo, else ``tz`` (the zone naive and relative times are
    read in; UTC by default). For an API that reads the wall clock and ignores the offset
    (Klaviyo's custom timeframes), the time is shown in this zone, as it was written."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.tzinfo
    if isinstance(value, str):
        iso = _ISO.fullmatch(value.strip())
        if iso is not None and iso.group(8) is not None:
            offset = iso.group(8)
            if offset in ("Z", "z"):
                return UTC
            match = _OFFSET.fullmatch(offset)
            assert match is not None
            return _fixed_offset(match, value)
    return parse_tz(tz)


def format_wall_clock(moment: datetime, zone: tzinfo) -> str:
    """``moment`` as the wall-clock time in ``zone`` with that offset, to the second, the form
    of Klaviyo's examples: ``2026-11-01T00:00:00-05:00`` (UTC as ``+00:00``)."""
    local = _aware(moment).astimezone(zone).replace(microsecond=0)
    offset = local.utcoffset()
    assert offset is not None
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}T"
    text += f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return text + f"{sign}{hours:02d}:{minutes:02d}"


def format_duration(d: timedelta, *, weeks: bool = True) -> str:
    """``d`` written compactly, the way :func:`parse_duration` reads it: ``1h30m``, ``7d`` as
    ``1w``, ``9d`` as ``1w2d``, ``90s`` as ``1m30s``, ``0.5s``; zero is ``0s``, and a negative
    duration gets a ``-``. ``weeks=False`` counts in days (``30d``, not ``4w2d``), as people
    write ranges."""
    if not isinstance(d, timedelta):
        raise TimeError(f"{type(d).__name__} {_show(d)} is not a timedelta")
    # Integer microseconds throughout: -timedelta.min overflows, floats round.
    micros = d // _US
    sign = "-" if micros < 0 else ""
    seconds, micros = divmod(abs(micros), 1_000_000)
    parts = []
    units = (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60))
    for unit, size in units if weeks else units[1:]:
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    if seconds or micros or not parts:
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        parts.append(f"{seconds}{fraction}s")
    return sign + "".join(parts)


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, floored (a naive datetime is UTC)."""
    return (_aware(moment) - _EPOCH) // timedelta(milliseconds=1)


def to_epoch_s(moment: datetime) -> int:
    """Seconds since the Unix epoch, floored (a naive datetime is UTC)."""
    return (_aware(moment) - _EPOCH) // timedelta(seconds=1)


def _positive(step: timedelta, what: str) -> timedelta:
    if not isinstance(step, timedelta):
        raise TimeError(f"the {what} must be a timedelta, not {type(step).__name__}")
    if step <= timedelta(0):
        raise TimeError(
            f"the {what} must be longer than zero, not {format_duration(step)}",
            "for example timedelta(hours=1)",
        )
    return step


def floor_time(moment: datetime, step: timedelta) -> datetime:
    """``moment`` (naive is UTC) floored to a whole multiple of ``step`` since the Unix epoch,
    in UTC: 1 s strips sub-seconds, 1 h aligns to hours, 1 d to UTC midnight (and 1 w to a
    Thursday, as 1970-01-01 was)."""
    step = _positive(step, "step")
    try:
        return _EPOCH + ((_aware(moment) - _EPOCH) // step) * step
    except OverflowError:
        raise TimeError(
            f"{_show(moment)} floored to {format_duration(step)} is out of range",
            "use a smaller step",
        ) from None


def _show_moment(moment: datetime) -> str:
    # Every digit, unlike format_time: a message about a sub-millisecond range must show it.
    return _to_utc(_aware(moment), UTC, moment).isoformat().replace("+00:00", "Z")


def split_range(
    start: datetime,
    end: datetime,
    size: timedelta,
    *,
    align: timedelta | None = timedelta(seconds=1),
) -> list[tuple[datetime, datetime]]:
    """``start`` to ``end`` (naive is UTC) cut into consecutive ``(start, end)`` windows in UTC
    of at most ``size``, in time order; the last may be shorter. With ``align``, both ends are
    first floored to it (:func:`floor_time`), so no window is ever shorter than ``align``
    because of a stray fraction. Raises :class:`TimeError` when the range is empty."""
    size = _positive(size, "window size")
    first, last = _to_utc(_aware(start), UTC, start), _to_utc(_aware(end), UTC, end)
    if align is not None:
        step = _positive(align, "alignment")
        if first < last:
            first, last = floor_time(first, step), floor_time(last, step)
            if first >= last:
                # Both ends fell into the same step: the range is shorter than one.
                unit = "one second" if step == timedelta(seconds=1) else format_duration(step)
                raise TimeError(
                    f"the range {_show_moment(start)} to {_show_moment(end)} is shorter than "
                    f"{unit}: aligned to {format_duration(step)} it is empty",
                    "widen the range so that it crosses a whole second"
                    if unit == "one second"
                    else f"widen the range so that it crosses a multiple of {unit}",
                )
    if first >= last:
        raise TimeError(
            f"the range {_show_moment(first)} to {_show_moment(last)} is empty: it must end "
            "after it starts",
            "swap start and end, or widen the range",
        )
    windows = []
    while first < last:
        # Compared as a difference, so a window near datetime.max never overflows.
        stop = last if last - first <= size else first + size
        windows.append((first, stop))
        first = stop
    return windows
