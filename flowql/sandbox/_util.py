"""What the sandbox's API modules share: the error a handler raises, the response it returns,
time parsing and formatting, and query-string decoding."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from urllib.parse import unquote_plus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = [
    "EPOCH",
    "UTC",
    "RequestError",
    "Request",
    "Response",
    "epoch_ms",
    "from_ms",
    "iso_ms",
    "iso_offset",
    "parse_int",
    "parse_iso",
    "parse_query",
    "reason",
    "single_params",
]


def reason(status: int) -> str:
    """The reason phrase of an HTTP status ("Unprocessable Entity")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class RequestError(Exception):
    """An error answer: the status, a message for people, and, for Klaviyo's JSON:API errors,
    where in the request the problem is (``pointer`` into the body or ``parameter``) and a
    ``code``. The server renders it in the format of the API that was called."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.pointer = pointer
        self.parameter = parameter
        self.code = code
        self.headers = dict(headers or {})


class Request:
    """One request as the API modules see it: method, decoded path segments, decoded query
    pairs in order, the body, the headers, and the absolute URL the client used."""

    __slots__ = ("base", "body", "headers", "method", "path", "query", "raw_query", "segments")

    def __init__(
        self,
        method: str,
        path: str,
        segments: list[str],
        raw_query: str,
        query: list[tuple[str, str]],
        body: bytes,
        headers: Mapping[str, str],
        base: str,
    ) -> None:
        self.method = method
        self.path = path
        self.segments = segments
        self.raw_query = raw_query
        self.query = query
        self.body = body
        self.headers = headers
        self.base = base

    @property
    def url(self) -> str:
        """The absolute URL of this request."""
        return self.base + self.path + ("?" + self.raw_query if self.raw_query else "")


class Response:
    """A JSON answer: status, body (any JSON value) and extra headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, body: object, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = dict(headers or {})


# --- times ----------------------------------------------------------------------------------

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_iso(text: str, *, tz: timezone = UTC, date_only_end: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime, or None if ``text`` is not one.

    A time without an offset is in ``tz`` (UTC unless told). A date alone is midnight, or the
    end of that day (the next midnight) with ``date_only_end``.
    """
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        stamp = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return None
    zone = tz
    if offset is not None and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        if minutes >= 24 * 60:
            return None
        zone = timezone(sign * timedelta(minutes=minutes))
    elif offset is not None:
        zone = UTC
    aware = stamp.replace(tzinfo=zone)
    if hour is None and date_only_end:
        aware += timedelta(days=1)
    return aware


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The UTC datetime of epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=ms)


def iso_ms(moment: datetime | int) -> str:
    """``2025-08-05T19:25:50.000Z``: UTC with milliseconds, as Conviva writes times."""
    if isinstance(moment, int):
        moment = from_ms(moment)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_offset(moment: datetime) -> str:
    """``2024-01-05T00:00:00+00:00``: seconds and a numeric offset, as Klaviyo writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# --- query strings --------------------------------------------------------------------------


def parse_query(raw: str) -> list[tuple[str, str]]:
    """The ``key=value`` pairs of a query string, form-decoded (``+`` a space, ``%XX`` UTF-8
    bytes), in order; empty pairs skipped. Raises :class:`RequestError` (400) for bytes that are
    not UTF-8 or a pair with no key."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        try:
            pair = (unquote_plus(key, errors="strict"), unquote_plus(value, errors="strict"))
        except UnicodeDecodeError:
            raise RequestError(
                400, f"the query parameter {key[:40]!r} is not UTF-8 text once decoded"
            ) from None
        if not pair[0]:
            raise RequestError(400, "a query parameter with an empty name")
        pairs.append(pair)
    return pairs


def single_params(
    pairs: list[tuple[str, str]], allowed: tuple[str, ...], *, sep: str = ", "
) -> dict[str, str]:
    """The query pairs as a dict, each key one of ``allowed`` and given once; raises
    :class:`RequestError` (400) otherwise, naming what the endpoint takes (joined by ``sep``)."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise RequestError(
                400,
                f"unknown query parameter {key[:60]!r}; this endpoint takes " + sep.join(allowed),
            )
        if key in out:
            raise RequestError(400, f"the query parameter {key!r} is given more than once")
        out[key] = value
    return out


def parse_int(
    text: str, name: str, *, parameter: str | None = None, pointer: str | None = None
) -> int:
    """A decimal integer (optionally signed), or a 400 naming the parameter."""
    if re.fullmatch(r"[+-]?\d{1,18}", text) is None:
        raise RequestError(
            400,
            f"{name} must be a whole number, not {text[:40]!r}",
            parameter=parameter,
            pointer=pointer,
        )
    return int(text)
