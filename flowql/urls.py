"""Percent-encoding for request URLs: the one query-string encoder of flowql.

:func:`percent_encode` writes every character but the RFC 3986 unreserved ones as UTF-8
``%XX``; :func:`encode_query` joins parameters with it. The URL budget counts this encoding, the
longest any client sends, and every request flowql plans is encoded by it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["encode_query", "encoded_length", "percent_encode", "query_length"]

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def percent_encode(text: str, safe: str = "") -> str:
    """``text`` with every character but the RFC 3986 unreserved ones (``A-Z a-z 0-9 - . _
    ~``) written as UTF-8 ``%XX``: a space is ``%20``, ``'`` is ``%27``, ``+`` is ``%2B``.
    The ASCII characters in ``safe`` are kept as they are too (``:`` in a time, where a query
    may hold it and a guide writes it).

    No client encodes more than this, so it is the length the URL budget counts.
    """
    if text.isascii():
        # The common case, in C: one table lookup per character.
        return text.translate(_escapes(safe) if safe else _ASCII_ESCAPES)
    kept = _UNRESERVED | frozenset(safe.encode("ascii"))
    data = text.encode("utf-8", "surrogatepass")
    return "".join(chr(byte) if byte in kept else f"%{byte:02X}" for byte in data)


def encoded_length(text: str, safe: str = "") -> int:
    """``len(percent_encode(text, safe))``, counted without writing it: each UTF-8 byte that
    is kept is one character, each other one three (``%XX``). The URL budget counts this for
    every filter ``flowql check`` reads; ``bytes.translate`` counts in C."""
    data = text.encode("utf-8", "surrogatepass")
    kept = _UNRESERVED_BYTES + safe.encode("ascii") if safe else _UNRESERVED_BYTES
    return len(data) + 2 * len(data.translate(None, kept))


def query_length(
    params: Sequence[tuple[str, str]], *, mark: bool = True, safe: Mapping[str, str] | None = None
) -> int:
    """``len(encode_query(params, mark=mark, safe=safe))``, counted without writing it."""
    if not params:
        return 0
    kept = safe or {}
    pairs = sum(encoded_length(k) + 1 + encoded_length(v, kept.get(k, "")) for k, v in params)
    return pairs + len(params) - 1 + (1 if mark else 0)


_UNRESERVED_BYTES = bytes(sorted(_UNRESERVED))
_ASCII_ESCAPES = {byte: f"%{byte:02X}" for byte in range(128) if byte not in _UNRESERVED}
_SAFE_ESCAPES: dict[str, dict[int, str]] = {}


def _escapes(safe: str) -> dict[int, str]:
    table = _SAFE_ESCAPES.get(safe)
    if table is None:
        kept = frozenset(safe.encode("ascii"))
        table = _SAFE_ESCAPES[safe] = {b: e for b, e in _ASCII_ESCAPES.items() if b not in kept}
    return table


def encode_query(
    params: Sequence[tuple[str, str]], *, mark: bool = True, safe: Mapping[str, str] | None = None
) -> str:
    """``params`` as a query string, every key and value :func:`percent_encode`-d: the one
    query-string encoder of flowql. ``?a=1&b=2`` (no ``?`` when ``mark`` is false); empty
    for no parameters. ``safe`` maps a key to the characters its values keep as they are."""
    if not params:
        return ""
    kept = safe or {}
    text = "&".join(f"{percent_encode(k)}={percent_encode(v, kept.get(k, ''))}" for k, v in params)
    return "?" + text if mark else text
