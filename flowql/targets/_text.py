"""What every text target refuses in a value: text that is not Unicode scalar values.

A lone surrogate (``'\\ud800'``) is a Python ``str`` but not text: it has no UTF-8 form, so a
target that sends it would send percent-escapes no server (and not flowql's own readers) can
decode. The text targets refuse it (FQ601), with the value's span.
"""

from __future__ import annotations

from flowql.ast import String, walk
from flowql.diagnostics import Diagnostic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["unencodable"]


def unencodable(expr: Expr, target: str) -> list[Diagnostic]:
    """One FQ601 per string value of ``expr`` that has no UTF-8 form, in source order."""
    found: list[Diagnostic] = []
    for node in walk(expr):
        if isinstance(node, String) and not node.value.isascii():
            try:
                node.value.encode("utf-8")
            except UnicodeEncodeError as exc:
                at = exc.start
                found.append(
                    Diagnostic(
                        "FQ601",
                        f"the {target} target cannot send this value: it holds a lone surrogate "
                        f"(U+{ord(node.value[at]):04X} at character {at + 1}), which is not "
                        "text and has no UTF-8 form",
                        node.span,
                        hint="remove the surrogate, or join the pair it was cut from",
                    )
                )
    return found
