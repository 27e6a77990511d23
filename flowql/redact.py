"""The one redaction of secrets, in every spelling a secret travels in.

A server, a proxy or a library can give a credential back in another spelling than the one
flowql sent: percent-encoded (``quote`` or ``quote_plus``, upper- or lower-case hex), inside the
HTTP Basic token (base64 of ``id:secret``), as the whole ``Authorization`` value, escaped as JSON
or as a Python repr. :class:`Redactor` finds every one of them (:func:`spellings`) and replaces
it with ``********``; it runs before any message is cut, so a cut never leaves a secret's start.

- :class:`Secret` holds a credential: ``repr``/``str`` show ``'********'``, it refuses to be
  pickled, and every live one of 8 characters or more is known to :func:`redact`, the last
  line of defence of what flowql writes (CLI errors, log records, the REPL's history).
- :func:`credential_problem` says what makes a credential unusable (a control character, a
  trailing CR, a non-ASCII character) without showing it.

Imports nothing heavy: the CLI and the REPL use it without loading the HTTP client.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import re
import weakref
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "KNOWN_MIN",
    "REDACTED",
    "Redactor",
    "Secret",
    "credential_problem",
    "known_values",
    "redact",
    "spellings",
]

REDACTED = "********"
"""What a secret is shown as."""

KNOWN_MIN = 8
"""The shortest secret :func:`redact` knows process-wide: a shorter value cannot be told from
ordinary text (the client that holds it still redacts it from its own messages)."""


def spellings(value: str) -> set[str]:
    """The spellings ``value`` may come back in: raw, percent-encoded (``quote`` with and
    without ``/`` safe, ``quote_plus``), base64, JSON- and repr-escaped. Percent-encoded ones
    are matched whatever the case of their hex digits (see :class:`Redactor`)."""
    from urllib.parse import quote, quote_plus

    forms = {value}
    forms.add(json.dumps(value, ensure_ascii=True)[1:-1])
    forms.add(repr(value)[1:-1])
    forms.add(base64.b64encode(value.encode()).decode("ascii").rstrip("="))
    for encoded in (
        quote(value, safe=""),
        quote(value),
        quote_plus(value, safe=""),
        quote_plus(value),
    ):
        forms.add(encoded)
    return {form for form in forms if form}


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def _pattern(form: str) -> str:
    # A percent escape matches in either case (%2B, %2b); the rest exactly.
    out: list[str] = []
    at = 0
    for match in _PERCENT.finditer(form):
        out.append(re.escape(form[at : match.start()]))
        out.append("(?i:" + re.escape(match.group()) + ")")
        at = match.end()
    out.append(re.escape(form[at:]))
    return "".join(out)


@functools.lru_cache(maxsize=64)
def _compile(values: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = {form for value in values for form in spellings(value)}
    if not forms:
        return None
    # Longest first, so a whole header value goes before the token inside it.
    return re.compile("|".join(_pattern(f) for f in sorted(forms, key=lambda f: (-len(f), f))))


class Redactor:
    """Replaces every spelling of the ``values`` given (empty ones ignored) with
    ``********``."""

    __slots__ = ("_regex",)

    def __init__(self, values: Iterable[str]) -> None:
        self._regex = _compile(tuple(sorted({v for v in values if v})))

    def __call__(self, text: str) -> str:
        """``text`` with every spelling of every value replaced."""
        if self._regex is None:
            return text
        return self._regex.sub(REDACTED, text)

    def found(self, text: str) -> bool:
        """Whether ``text`` holds any spelling of any value."""
        return self._regex is not None and self._regex.search(text) is not None

    def may_hold(self, raw: bytes) -> bool:
        """Whether JSON ``raw`` can decode to a string holding a spelling: False only when
        it is UTF-8 with no backslash (so every decoded string is a slice of it, as written)
        and no spelling is in it. One scan of the bytes, instead of a walk of the decoded
        value for the common answer that holds no secret."""
        if self._regex is None:
            return False
        if b"\\" in raw or b"\x00" in raw:
            return True
        try:
            return self._regex.search(raw.decode("utf-8")) is not None
        except UnicodeDecodeError:
            return True

    def data(self, value: Any) -> Any:
        """Decoded JSON with every string (keys too) redacted; other values as they are. The
        same objects where nothing is found, so a clean answer is not copied."""
        if self._regex is None:
            return value
        return self._data(value, self._regex)

    def _data(self, value: Any, regex: re.Pattern[str]) -> Any:
        if isinstance(value, str):
            return regex.sub(REDACTED, value) if regex.search(value) else value
        if isinstance(value, dict):
            pairs = [(self._data(k, regex), self._data(v, regex)) for k, v in value.items()]
            if all(
                k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)
            ):
                return value
            return dict(pairs)
        if isinstance(value, list):
            items = [self._data(item, regex) for item in value]
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value
            return items
        return value

    def __repr__(self) -> str:
        return "Redactor(...)"


# --- secrets -----------------------------------------------------------------------------------

_LIVE: weakref.WeakSet[Secret] = weakref.WeakSet()


class Secret:
    """A credential. ``repr`` and ``str`` show ``'********'``; :meth:`reveal` gives the value
    to the code that sends it. It refuses to be pickled, so it never reaches a file by accident.
    """

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a secret is a str")
        self._value = value
        if len(value) >= KNOWN_MIN:
            _LIVE.add(self)

    def reveal(self) -> str:
        """The value itself: only for putting it in a request header."""
        return self._value

    def __repr__(self) -> str:
        return f"'{REDACTED}'"

    def __str__(self) -> str:
        return REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a Secret cannot be pickled")


def known_values() -> list[str]:
    """The values of every live :class:`Secret` of :data:`KNOWN_MIN` characters or more."""
    return [secret.reveal() for secret in list(_LIVE)]


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every live secret (and every value of ``extra``, such as the credentials in
    the environment) redacted, in every spelling."""
    return Redactor([*known_values(), *extra])(text)


# --- validation --------------------------------------------------------------------------------

_NAMES = {"\r": "a carriage return", "\n": "a line feed", "\t": "a tab", " ": "a space"}


def credential_problem(value: str, what: str = "key") -> str | None:
    """What makes ``value`` unusable as a credential, in words that never show it; None when it
    is fine. Refused, never stripped: a credential is sent exactly as given, so a changed one
    would fail later, far from its cause (or, if stripped silently, hide a broken file)."""
    for index, char in enumerate(value):
        if char.isascii() and char.isprintable():
            continue
        if not char.isascii():
            return (
                f"the {what} holds a non-ASCII character (at position {index + 1} of "
                f"{len(value)}): an HTTP header cannot carry it; a key copied from a web page "
                "or a document may hold a typographic dash or space; copy it again"
            )
        name = _NAMES.get(char, f"a control character (U+{ord(char):04X})")
        if index == len(value) - 1 or value[index:].strip() == "":
            where = "ends in"
            if char == "\r" or "\r" in value[index:]:
                name = "a carriage return"
                why = "a key read from a Windows file keeps it"
            else:
                why = "a key read from a file or pasted with its line end keeps it"
            return f"the {what} {where} {name}: {why}; strip it"
        return (
            f"the {what} holds {name} (at position {index + 1} of {len(value)}): an HTTP header "
            "cannot carry it; check how the key was read"
        )
    if value != value.strip():
        return f"the {what} starts or ends with a space: strip it"
    return None
