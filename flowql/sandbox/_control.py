"""The sandbox's behaviour knobs: rate limits, injected faults and latency, and the request log.
All are safe to change from any thread while the server runs."""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import TypeAlias

    Window: TypeAlias = "tuple[int, float]"
    LimitSpec: TypeAlias = "tuple[int, float] | Iterable[tuple[int, float]] | bool | None"

__all__ = [
    "APIS",
    "DEFAULT_RATE_LIMITS",
    "RATE_LIMITED",
    "Faults",
    "LoggedRequest",
    "RateLimiter",
    "Verdict",
]

APIS = ("conviva", "klaviyo", "flowxo")
"""The APIs the sandbox serves, as faults, latency and the log name them."""

RATE_LIMITED = ("conviva", "klaviyo-reports", "klaviyo", "flowxo")
"""The rate-limit buckets: Klaviyo's reporting endpoints have a bucket of their own."""

DEFAULT_RATE_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "conviva": ((3000, 300.0),),
    "klaviyo-reports": ((1, 1.0), (2, 60.0)),
    "klaviyo": ((10, 1.0),),
    "flowxo": ((60, 60.0),),
}
"""Per bucket, its sliding windows as (requests, period in seconds): Conviva's documented 3000
per 5 minutes, Klaviyo's reporting burst (1/s) and steady (2/min) limits, 10/s for Klaviyo's
other endpoints, and 60/min for Flow XO (whose limits are not documented)."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request the sandbox received: ``method``, ``path`` (as sent, still
    percent-encoded), ``query`` (the raw query string, without ``?``), the ``status`` answered
    (None for a dropped connection), ``time`` (:func:`time.monotonic` at arrival) and ``api``
    (``conviva``, ``klaviyo``, ``flowxo``, or None for a path of none of them), the ``headers``
    as sent but ``Authorization`` (name and value pairs, in order), and the ``body`` as text."""

    method: str
    path: str
    query: str
    status: int | None
    time: float
    api: str | None
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


def _windows(bucket: str, spec: LimitSpec) -> tuple[tuple[int, float], ...] | None:
    if spec is None or spec is False:
        return None
    if spec is True:
        return DEFAULT_RATE_LIMITS[bucket]
    items: list[tuple[int, float]]
    if isinstance(spec, tuple) and len(spec) == 2 and not isinstance(spec[0], tuple):
        items = [spec]
    else:
        items = list(spec)
    out = []
    for item in items:
        count, period = item
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"a rate limit needs a whole number of requests >= 1, not {count!r}")
        if isinstance(period, bool) or not isinstance(period, (int, float)) or period <= 0:
            raise ValueError(f"a rate limit needs a period in seconds > 0, not {period!r}")
        out.append((count, float(period)))
    if not out:
        raise ValueError("a rate limit needs at least one (requests, period) window")
    return tuple(out)


class Verdict:
    """A rate limiter's answer for one request: whether it may go on, and the numbers for the
    ``Retry-After`` and ``RateLimit-Limit/Remaining/Reset`` headers (whole seconds)."""

    __slots__ = ("allowed", "limit", "remaining", "reset", "retry_after")

    def __init__(
        self, allowed: bool, limit: int, remaining: int, reset: int, retry_after: int
    ) -> None:
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retry_after = retry_after


class RateLimiter:
    """Sliding-window rate limits per bucket. A request is let through when every window of its
    bucket has room, and only then counted."""

    def __init__(self, limits: Mapping[str, LimitSpec] | bool | None = None) -> None:
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[tuple[int, float], ...] | None] = dict(DEFAULT_RATE_LIMITS)
        self._seen: dict[str, list[deque[float]]] = {}
        if limits is False:
            self.disable()
        elif limits is not None and limits is not True:
            for bucket, spec in limits.items():
                self.configure(bucket, spec)

    def configure(self, bucket: str, spec: LimitSpec) -> None:
        """Set one bucket's limit: ``(requests, seconds)``, a list of such windows, True for
        the default, or None/False for no limit. Clears the bucket's history."""
        if bucket not in RATE_LIMITED:
            raise ValueError(
                f"unknown rate-limit bucket {bucket!r}; expected one of {RATE_LIMITED}"
            )
        windows = _windows(bucket, spec)
        with self._lock:
            self._limits[bucket] = windows
            self._seen.pop(bucket, None)

    def disable(self) -> None:
        """No limits at all."""
        with self._lock:
            for bucket in RATE_LIMITED:
                self._limits[bucket] = None
            self._seen.clear()

    def limits(self) -> dict[str, tuple[tuple[int, float], ...] | None]:
        """Each bucket's windows (None: unlimited)."""
        with self._lock:
            return dict(self._limits)

    def check(self, bucket: str, at: float) -> Verdict | None:
        """Count a request arriving at ``at`` (monotonic seconds) if every window has room.
        None when the bucket is unlimited."""
        with self._lock:
            windows = self._limits.get(bucket)
            if windows is None:
                return None
            seen = self._seen.setdefault(bucket, [deque() for _ in windows])
            waits: list[tuple[float, int]] = []
            for (count, period), times in zip(windows, seen, strict=True):
                while times and times[0] <= at - period:
                    times.popleft()
                if len(times) >= count:
                    # Full: a slot frees when the oldest of the last `count` leaves the window.
                    waits.append((times[-count] + period - at, count))
            if waits:
                wait, count = max(waits)
                retry = max(1, math.ceil(wait))
                return Verdict(False, count, 0, retry, retry)
            for times in seen:
                times.append(at)
            limit, remaining, reset = self._tightest(windows, seen, at)
            return Verdict(True, limit, remaining, reset, 0)

    @staticmethod
    def _tightest(
        windows: tuple[tuple[int, float], ...], seen: list[deque[float]], at: float
    ) -> tuple[int, int, int]:
        """(limit, remaining, reset) of the window with the least room (the longest on ties)."""
        best: tuple[int, float, int, int, int] | None = None
        for (count, period), times in zip(windows, seen, strict=True):
            remaining = max(0, count - len(times))
            reset = max(1, math.ceil(times[0] + period - at)) if times else 0
            key = (remaining, -period, count, remaining, reset)
            if best is None or key < best:
                best = key
        assert best is not None
        return best[2], best[3], best[4]


class _Fault:
    __slots__ = ("api", "kind", "left", "retry_after", "status")

    def __init__(
        self, kind: str, left: int, api: str | None, status: int, retry_after: int | None
    ) -> None:
        self.kind = kind
        self.left = left
        self.api = api
        self.status = status
        self.retry_after = retry_after


def _applies(fault_api: str | None, api: str | None, bucket: str | None) -> bool:
    if fault_api is None:
        return True
    if fault_api == "klaviyo-reports":
        return bucket == "klaviyo-reports"
    return fault_api == api


MAX_LATENCY = 3600.0
"""The most latency (seconds) a response can be given: an hour."""


class Faults:
    """Injected trouble: latency (seconds added to every response, per API or for all),
    one-shot failures and dropped connections for the next requests, and seeded random ones
    (``error_rate``: a 503; ``drop_rate``: the connection closed without an answer).

    ``api`` is ``conviva``, ``klaviyo`` (every Klaviyo endpoint), ``klaviyo-reports`` (its
    reporting endpoints only), ``flowxo``, or None for any request.
    """

    def __init__(
        self,
        seed: int = 0,
        latency: float | Mapping[str, float] = 0.0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Fault] = []
        self._latency: dict[str | None, float] = {None: 0.0}
        self._random = random.Random(f"{seed}/faults")
        self._error_rate = 0.0
        self._drop_rate = 0.0
        if isinstance(latency, (int, float)):
            self.set_latency(latency)
        else:
            for api, seconds in latency.items():
                self.set_latency(seconds, api)
        self.error_rate = error_rate
        self.drop_rate = drop_rate

    @staticmethod
    def _check_api(api: str | None) -> None:
        if api is not None and api not in (*APIS, "klaviyo-reports"):
            raise ValueError(
                f"unknown API {api!r}; expected one of {(*APIS, 'klaviyo-reports')} or None"
            )

    def fail_next(
        self, n: int = 1, status: int = 503, api: str | None = None, retry_after: int | None = None
    ) -> None:
        """Answer the next ``n`` requests (to ``api``, or any) with ``status`` and a JSON error
        body in that API's format, with ``Retry-After: retry_after`` when given."""
        self._check_api(api)
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status (400 to 599), not {status}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, not {retry_after}")
        with self._lock:
            self._queue.append(_Fault("fail", n, api, status, retry_after))

    def drop_next(self, n: int = 1, api: str | None = None) -> None:
        """Close the connection of the next ``n`` requests (to ``api``, or any) without
        answering."""
        self._check_api(api)
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        with self._lock:
            self._queue.append(_Fault("drop", n, api, 0, None))

    @property
    def pending(self) -> int:
        """How many one-shot faults are still to happen."""
        with self._lock:
            return sum(f.left for f in self._queue)

    def set_latency(self, seconds: float, api: str | None = None) -> None:
        """Add ``seconds`` to every response (of ``api``; None sets the default for all)."""
        self._check_api(api)
        # NaN passes `< 0` and inf makes every sleep fail: refuse both here, at the start.
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 <= seconds <= MAX_LATENCY
        ):
            raise ValueError(
                f"latency must be a number of seconds from 0 to {MAX_LATENCY}, not {seconds!r}"
            )
        with self._lock:
            self._latency[api] = float(seconds)

    def latency(self, api: str | None = None) -> float:
        """The latency added to responses of ``api`` (its own, or the default)."""
        with self._lock:
            return self._latency.get(api, self._latency[None])

    def _rate(self, value: float, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, not {value}")
        return float(value)

    @property
    def error_rate(self) -> float:
        """The probability that a request is answered 503 (seeded, so runs repeat)."""
        return self._error_rate

    @error_rate.setter
    def error_rate(self, value: float) -> None:
        rate = self._rate(value, "error_rate")
        with self._lock:
            self._error_rate = rate

    @property
    def drop_rate(self) -> float:
        """The probability that a request's connection is closed without an answer."""
        return self._drop_rate

    @drop_rate.setter
    def drop_rate(self, value: float) -> None:
        rate = self._rate(value, "drop_rate")
        with self._lock:
            self._drop_rate = rate

    def clear(self) -> None:
        """Forget queued faults, and set latency and the random rates back to 0."""
        with self._lock:
            self._queue.clear()
            self._latency = {None: 0.0}
            self._error_rate = self._drop_rate = 0.0

    def take(self, api: str | None, bucket: str | None) -> tuple[str, int, int | None] | None:
        """The fault for a request to ``api`` (``("drop", 0, None)`` or ``("fail", status,
        retry_after)``), consuming it, or None."""
        with self._lock:
            for fault in self._queue:
                if _applies(fault.api, api, bucket):
                    fault.left -= 1
                    if fault.left == 0:
                        self._queue.remove(fault)
                    return fault.kind, fault.status, fault.retry_after
            if self._drop_rate or self._error_rate:
                draw = self._random.random()
                if draw < self._drop_rate:
                    return "drop", 0, None
                if draw < self._drop_rate + self._error_rate:
                    return "fail", 503, None
        return None
