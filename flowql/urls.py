"""Percent-encoding for request URLs: the one query-string encoder of flowql.

:func:`percent_encode` writes every character but the RFC 3986 unreserved ones as UTF-8
``%XX``; :func:`encode_query` joins parameters with it. The URL budget counts this encoding, the
longest any client sends, and every request flowql plans is encoded by it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["encode_query", "percent_encode"]

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def percent_encode(text: str) -> str:
    """``text`` with every character but the RFC 3986 unreserved ones (``A-Z a-z 0-9 - . _
    ~``) written as UTF-8 ``%XX``: a space is ``%20``, ``'`` is ``%27``, ``+`` is ``%2B``.

    No client encodes more than this, so it is the length the URL budget counts.
    """
    if text.isascii():
        # The common case, in C: one table lookup per character.
        return text.translate(_ASCII_ESCAPES)
    data = text.encode("utf-8", "surrogatepass")
    return "".join(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in data)


_ASCII_ESCAPES = {byte: f"%{byte:02X}" for byte in range(128) if byte not in _UNRESERVED}


def encode_query(params: Sequence[tuple[str, str]], *, mark: bool = True) -> str:
    """``params`` as a query string, every key and value :func:`percent_encode`-d: the one
    query-string encoder of flowql. ``?a=1&b=2`` (no ``?`` when ``mark`` is false); empty
    for no parameters."""
    if not params:
        return ""
    text = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params)
    return "?" + text if mark else text
