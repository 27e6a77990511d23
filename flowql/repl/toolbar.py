"""The text of the REPL's bottom toolbar: what the live check found, and the URL's length.

The first line says what the live check found in the text: the first finding, with its code,
position, message and hint (``error FQ101 1:1: 'geo_contry' is not a dimension of flow 825
(Login Process) (did you mean 'geo_country'?)``), worded as Enter's message (the validator's)
words it. Both are fitted to the terminal's width (:func:`fit`), so that a "did you mean" stays
in view.
"""

from __future__ import annotations

from prompt_toolkit.utils import get_cwidth

from flowql.diagnostics import Severity
from flowql.repl.completion import OPERATORS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

    from flowql.diagnostics import Diagnostic
    from flowql.repl.session import Check

__all__ = ["finding", "fit", "status_line", "url_part"]

_CUT = "..."  # as flowql.diagnostics.clip marks a cut
_NEAR = 12  # how far back a cut looks for the end of a word
_LEAST_ROOM = 36  # for less, the line is cut at its end: a third of it is " (compare...)"


def finding(
    d: Diagnostic, head: str = "", tail: str = "", width: int | None = None, *, hint: bool = True
) -> str:
    """A diagnostic on one line as the REPL says it, ``message (hint)``, between ``head`` and
    ``tail`` and fitted to ``width`` cells (:func:`fit`); ``hint=False`` leaves the hint out."""
    return fit(head, d.message, f" ({d.hint})" if hint and d.hint else "", tail, width)


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ``...`` marking a cut."""
    if get_cwidth(text) <= width:
        return text
    room = width - len(_CUT)
    if room <= 0:
        return _CUT[: max(width, 0)]
    out = []
    used = 0
    for char in text:
        cells = get_cwidth(char)
        if used + cells > room:
            break
        out.append(char)
        used += cells
    kept = "".join(out)
    # At a word's end when one is near: "flow 825..." rather than "flow 825 (Logi...".
    space = kept.rfind(" ")
    if text[len(kept)] != " " and space >= max(len(kept) - _NEAR, 1):
        kept = kept[:space]
    return kept.rstrip() + _CUT


def fit(head: str, message: str, hint: str, tail: str, width: int | None) -> str:
    """``head + message + hint + tail`` in ``width`` cells (None: no limit). The message and
    the hint share what the head (the code and position) and the tail leave: the shorter of
    the two stays whole when it takes at most two thirds of it (a "did you mean", or a short
    message before a long hint), and the longer is cut."""
    line = head + message + hint + tail
    if width is None or get_cwidth(line) <= width:
        return line
    room = width - get_cwidth(head) - get_cwidth(tail)
    if room < _LEAST_ROOM:
        return _cut(line, width)
    message_cells, hint_cells = get_cwidth(message), get_cwidth(hint)
    most = room * 2 // 3
    if message_cells <= hint_cells:
        message_room = min(message_cells, most)
    else:
        message_room = room - min(hint_cells, most)
    message = _cut(message, message_room)
    hint_room = room - get_cwidth(message)
    if hint_cells > hint_room:
        # A cut hint in parentheses keeps its closing one, so that the line still reads.
        closed = hint.startswith(" (") and hint.endswith(")")
        hint = _cut(hint[:-1], hint_room - 1) + ")" if closed else _cut(hint, hint_room)
    return head + message + hint + tail


def status_line(
    check: Check | None, fresh: bool, error: str | None, width: int | None = None
) -> StyleAndTextTuples:
    """The toolbar's first line for a filter: what the live check found, in ``width`` cells.
    ``fresh`` says the check is for the text as it is now (if not, `` ...`` says so); ``error``
    is the live check's own failure."""
    if error is not None and fresh:
        return [("class:toolbar.error", fit(" ", error, "", "", width))]
    if check is None:
        return [("class:toolbar.pending", " checking...")]
    stale = "" if fresh else " ..."
    diagnostics = check.diagnostics
    if not diagnostics:
        return (
            [("class:toolbar.ok", f" ok: compiles for {check.compiled.target}{stale}")]
            if (check.compiled is not None)
            else []
        )
    if check.half_typed is not None:
        ops = [
            f"{op} ({meaning})" for op, meaning in OPERATORS.items() if op[0] == check.half_typed
        ]
        return [("class:toolbar.pending", f" unfinished: {' or '.join(ops)}{stale}")]
    first = (check.errors or diagnostics)[0]  # sorted by position
    where = f" {first.line}:{first.column}" if first.span is not None else ""
    more = f" (+{len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
    if check.unfinished:
        style, word = "class:toolbar.pending", "unfinished"
    elif first.severity is Severity.ERROR:
        style, word = "class:toolbar.error", f"error {first.code}"
    else:
        style, word = "class:toolbar.warning", f"{first.severity.value} {first.code}"
    # No hint for an unfinished filter: what may come next is the completion menu's to offer.
    shown = finding(first, f" {word}{where}: ", more + stale, width, hint=not check.unfinished)
    return [(style, shown)]


def url_part(check: Check) -> StyleAndTextTuples:
    """The request URL's length against the limit, for the toolbar's second line."""
    if check.url_length is None:
        if check.request_note is not None:
            return [("class:toolbar.pending", f"| URL: {check.request_note} ")]
        return []
    share = check.url_length * 100 // check.url_limit
    style = "class:toolbar.error" if check.url_length > check.url_limit else ""
    if not style and share > 90:
        style = "class:toolbar.warning"
    return [(style, f"| URL {check.url_length:,}/{check.url_limit:,} ({share}%) ")]
