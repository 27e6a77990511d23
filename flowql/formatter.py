"""Printing the AST as canonical FlowQL text.

:func:`format` prints an expression on one line, canonically:

- keywords upper case (``AND``, ``OR``, ``NOT``, ``IN``), booleans ``true``/``false``;
- one space around every operator, ``, `` between list items, nothing inside parentheses;
- strings in single quotes, with only ``'`` and ``\\`` escaped;
- parentheses around every AND/OR group whose operator differs from its parent's, and nowhere
  else, so that neither a reader nor a server ever depends on precedence.

``parse(format(e)) == e`` for every expression ``e`` (spans aside).
"""

from __future__ import annotations

from flowql.ast import And, Boolean, Comparison, In, Node, Not, Number, Or, String

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Value

__all__ = ["format", "format_value", "quote"]


def quote(text: str) -> str:
    """``text`` as a single-quoted FlowQL string: ``\\`` and ``'`` escaped, nothing else."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "'" in text:
        text = text.replace("'", "\\'")
    return f"'{text}'"


def format_value(value: Value) -> str:
    """One value as FlowQL text: a quoted string, a number, ``true`` or ``false``."""
    if isinstance(value, String):
        return quote(value.value)
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    if isinstance(value, Number):
        return repr(value.value)
    raise TypeError(f"not a FlowQL value: {value!r}")


def format(expr: Node) -> str:
    """Print an expression (or a key or value node) as canonical one-line FlowQL text."""
    out: list[str] = []
    # An explicit stack of pending work, so trees of any depth print without recursion: each
    # entry is either literal text or a node to expand.
    stack: list[str | Node] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Comparison):
            out.append(f"{item.key.name} {item.op.value} {format_value(item.value)}")
        elif isinstance(item, In):
            keyword = " NOT IN (" if item.negated else " IN ("
            values = ", ".join(format_value(v) for v in item.values)
            out.append(f"{item.key.name}{keyword}{values})")
        elif isinstance(item, Not):
            operand = item.operand
            if isinstance(operand, (And, Or)):
                stack.extend((")", operand, "NOT ("))
            else:
                stack.extend((operand, "NOT "))
        elif isinstance(item, (And, Or)):
            separator = f" {item.keyword} "
            parts: list[str | Node] = []
            for i, operand in enumerate(item.operands):
                if i:
                    parts.append(separator)
                if isinstance(operand, (And, Or)):
                    parts.extend(("(", operand, ")"))
                else:
                    parts.append(operand)
            stack.extend(reversed(parts))
        elif isinstance(item, (String, Number, Boolean)):
            out.append(format_value(item))
        else:
            # Key, the only other node.
            out.append(item.name)  # type: ignore[attr-defined]
    return "".join(out)
