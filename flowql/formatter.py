"""Printing the AST as canonical FlowQL text.

:func:`format` prints an expression on one line, canonically:

- keywords upper case (``AND``, ``OR``, ``NOT``, ``IN``), booleans ``true``/``false``;
- one space around every operator, ``, `` between list items, nothing inside parentheses;
- strings in single quotes, with only ``'`` and ``\\`` escaped;
- parentheses around every AND/OR group whose operator differs from its parent's, and nowhere
  else, so that neither a reader nor a server ever depends on precedence.

``parse(format(e)) == e`` for every expression ``e`` (spans aside).

:func:`format_source` formats the text of a ``.flowql`` file in the same style, laying long
filters out over several lines and keeping every comment (``flowql fmt`` runs it).
"""

from __future__ import annotations

from bisect import bisect_left

from flowql.ast import And, Boolean, Comparison, In, Key, Node, Not, Number, Op, Or, String, walk
from flowql.diagnostics import clip
from flowql.syntax import parse, tokenize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

    from flowql.ast import Expr, Value
    from flowql.syntax import Token

    # A line of output: indentation, text, the first and last leaf on it, and the first leaf of
    # the AND/OR operand that starts on it (-1 for none).
    _Line: TypeAlias = "tuple[int, str, int, int, int]"
    # Where a node's one-line text is in its filter's (start, end) and its first and last leaf.
    _Place: TypeAlias = "tuple[int, int, int, int]"

__all__ = ["excerpt", "format", "format_file", "format_source", "format_value", "quote"]


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


def excerpt(node: Node, limit: int = 40) -> str:
    """A node's FlowQL text for a message, cut to ``limit`` characters."""
    return clip(format(node), limit)


def format(expr: Node) -> str:
    """Print an expression (or a key or value node) as canonical one-line FlowQL text."""
    if type(expr) is Comparison or type(expr) is In:
        return _leaf_text(expr)
    if type(expr) is Key:
        return expr.name
    if type(expr) is not Not and type(expr) is not And and type(expr) is not Or:
        return format_value(expr)  # type: ignore[arg-type]
    return _one_line(expr, None)


def _one_line(expr: Expr, places: dict[int, _Place] | None) -> str:
    """``expr`` on one line, as :func:`format` prints it. Given ``places``, it records for every
    expression node (by ``id``) where its own one-line text is in the whole (start and end
    offsets) and its first and last leaf: a node's text is the same inside its parent's."""
    out: list[str] = []
    append = out.append
    at = 0  # the length of the text so far
    leaf = 0
    # An explicit stack of pending work, so trees of any depth print without recursion: literal
    # text, a node to expand, or (with places) a NOT or group to close once its operands are out.
    stack: list[str | Expr | tuple[Expr, int, int]] = [expr]
    push = stack.append
    pop = stack.pop
    while stack:
        item = pop()
        if type(item) is str:
            append(item)
            at += len(item)
        elif type(item) is Comparison or type(item) is In:
            text = _leaf_text(item)
            append(text)
            if places is not None:
                places[id(item)] = (at, at + len(text), leaf, leaf)
                leaf += 1
            at += len(text)
        elif type(item) is tuple:
            node, start, first = item
            assert places is not None
            places[id(node)] = (start, at, first, leaf - 1)
        elif type(item) is Not:
            if places is not None:
                push((item, at, leaf))
            operand = item._operand
            if type(operand) is And or type(operand) is Or:
                push(")")
                push(operand)
                push("(")
            else:
                push(operand)
            append("NOT ")
            at += 4
        elif type(item) is And or type(item) is Or:
            separator = _SEPARATORS[item.keyword]
            operands = item._operands
            if places is not None:
                push((item, at, leaf))
            # Last first, groups in parentheses.
            for i in range(len(operands) - 1, -1, -1):
                operand = operands[i]
                if type(operand) is And or type(operand) is Or:
                    push(")")
                    push(operand)
                    push("(")
                else:
                    push(operand)
                if i:
                    push(separator)
        else:
            raise TypeError(f"not a FlowQL expression: {item!r}")
    return "".join(out)


_SEPARATORS = {"AND": " AND ", "OR": " OR "}
_OPS: dict[Op, str] = {op: op.value for op in Op}


def _leaf_text(leaf: Comparison | In) -> str:
    # The fields, not the properties: this runs for every comparison of every file formatted or
    # checked, and a property costs several times an attribute.
    if type(leaf) is Comparison:
        return f"{leaf._key._name} {_OPS[leaf._op]} {format_value(leaf._value)}"
    assert type(leaf) is In
    values = ", ".join(format_value(v) for v in leaf._values_)
    keyword = " NOT IN (" if leaf._negated else " IN ("
    return f"{leaf._key._name}{keyword}{values})"


# --- whole files: layout over several lines, comments kept -------------------------------------

_INDENT = 4
# After one of these on the same line, a comment is about what follows, not what came before.
_OPENERS = frozenset({"LPAR", "NOT"})


def format_source(text: str, *, line_length: int = 88, parsed: Expr | None = None) -> str:
    """Format the text of a ``.flowql`` file: one filter and its ``#`` comments.

    The filter is printed as :func:`format` prints it when that fits in ``line_length``
    characters and no comment needs a line break; otherwise each AND/OR group that does not fit
    is broken one operand per line, operators leading, nested groups indented by four spaces
    inside ``(`` and ``)``. Every comment is kept: comments above and below the filter stay there,
    a comment on a line of its own stays right before the comparison that follows it, and a
    comment after code stays at the end of that comparison's line. The result ends with one
    newline and is a fixed point: ``format_source(format_source(t)) == format_source(t)``.

    Raises :class:`~flowql.errors.ParseError` for text that does not parse, before producing
    anything. White space inside string values is part of the value and is kept as is.
    ``parsed`` is the tree of ``text`` when the caller has it already (``flowql check``), so
    that the text is not parsed again.
    """
    expr = parse(text) if parsed is None else parsed
    places: dict[int, _Place] = {}
    one_line = _one_line(expr, places)
    # Without a '#' there is no comment to place: no need to tokenize the text.
    if "#" in text:
        leaves = [node for node in walk(expr) if isinstance(node, (Comparison, In))]
        comments = _attach_comments(text, leaves)
        if comments.count:
            forced = _forced(expr, places, comments)
            return _render(_lay_out(expr, line_length, forced, one_line, places), comments)
    lines = _lay_out(expr, line_length, _NOTHING_FORCED, one_line, places)
    return "\n".join([" " * line[0] + line[1] for line in lines]) + "\n"


def format_file(text: str, *, line_length: int = 88, parsed: Expr | None = None) -> str:
    """What ``flowql fmt`` writes for a file holding ``text``: :func:`format_source`'s output,
    with the file's byte order mark kept and, when it has any CRLF line break, every line break
    as CRLF. A line break inside a quoted value is data: it is neither looked at nor changed.
    ``flowql check`` compares with this too (FQ402), so the two never disagree about a file.
    Raises :class:`~flowql.errors.ParseError` like :func:`format_source`; ``parsed`` is the
    tree of ``text`` (without a byte order mark), as for :func:`format_source`."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    formatted = format_source(
        text[len(bom) :], line_length=line_length, parsed=None if bom else parsed
    )
    # Strings stand in as a bare quote, so that only line breaks between tokens count.
    if "\r\n" in text and "\r\n" in "".join(
        "'" if t.kind == "STRING" else t.text for t in tokenize(text)
    ):
        formatted = "".join(
            t.text.replace("\n", "\r\n") if t.kind == "WHITESPACE" else t.text
            for t in tokenize(formatted)
        )
    return bom + formatted


class _Comments:
    """The comments of a source, attached to where they are printed."""

    __slots__ = ("count", "footer", "header", "header_gap", "inner", "outer", "trailing")

    def __init__(self, leaf_count: int) -> None:
        # Header and footer entries are (text, blank line before it in the source).
        self.header: list[tuple[str, bool]] = []
        self.footer: list[tuple[str, bool]] = []
        self.header_gap = False
        # Per leaf, in source order. Comments before it: `outer` ones before the AND/OR that joins
        # it to the leaf before, printed above that operand's first line; `inner` ones after that
        # AND/OR, printed above the leaf's own line. `trailing`: comments after it or inside it.
        self.outer: list[list[str]] = [[] for _ in range(leaf_count)]
        self.inner: list[list[str]] = [[] for _ in range(leaf_count)]
        self.trailing: list[list[str]] = [[] for _ in range(leaf_count)]
        self.count = 0


def _attach_comments(text: str, leaves: list[Comparison | In]) -> _Comments:
    """Give each comment of ``text`` its place: the header, the footer, or before or after a leaf
    (a comparison or an IN test), ``leaves`` being the filter's leaves in source order."""
    starts: list[int] = []
    ends: list[int] = []
    for leaf in leaves:
        span = leaf.span
        assert span is not None
        starts.append(span.start)
        ends.append(span.end)
    comments = _Comments(len(leaves))
    previous: Token | None = None  # the last token that is neither a comment nor white space
    connective = -1  # where the last AND/OR token ends
    gap = False  # the white space just read holds a blank line
    for token in tokenize(text):
        kind = token.kind
        if kind == "WHITESPACE":
            gap = token.text.count("\n") >= 2
            continue
        if kind != "COMMENT":
            if previous is None and comments.header:
                comments.header_gap = gap
            if kind in ("AND", "OR"):
                connective = token.end
            previous = token
            gap = False
            continue
        comment = token.text.rstrip()
        comments.count += 1
        at = token.start
        if previous is None:
            comments.header.append((comment, gap))
            gap = False
            continue
        # Leaves before the comment; a comment never starts where a leaf does.
        index = bisect_left(starts, at)
        same_line = "\n" not in text[previous.end : at]
        inside = index > 0 and at < ends[index - 1]
        if index > 0 and (inside or (same_line and previous.kind not in _OPENERS)):
            comments.trailing[index - 1].append(comment)
        elif index < len(leaves):
            # Between two leaves there is exactly one AND or OR: is the comment before it?
            before_connective = index > 0 and connective < ends[index - 1]
            (comments.outer if before_connective else comments.inner)[index].append(comment)
        else:
            comments.footer.append((comment, gap))
        gap = False
    return comments


_NOTHING_FORCED: frozenset[int] = frozenset()


def _forced(expr: Expr, places: dict[int, _Place], comments: _Comments) -> set[int]:
    """The ids of the AND/OR groups (and NOTs around them) that comments force to break: a
    post-order walk with an explicit stack."""
    forced: set[int] = set()
    outer, inner, trailing = comments.outer, comments.inner, comments.trailing
    stack: list[tuple[Node, bool]] = [(expr, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, (Comparison, In)):
            continue
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children()))
        elif isinstance(node, Not):
            if id(node.operand) in forced:
                forced.add(id(node))
        else:
            assert isinstance(node, (And, Or))
            operands = node.operands
            for i, operand in enumerate(operands):
                if id(operand) in forced:
                    forced.add(id(node))
                    break
                if i:
                    # A comment after the previous operand's last leaf, or before this one's
                    # first leaf, needs a line break between the two.
                    end = places[id(operands[i - 1])][3]
                    start = places[id(operand)][2]
                    if trailing[end] or outer[start] or inner[start]:
                        forced.add(id(node))
                        break
    return forced


def _lay_out(
    expr: Expr,
    line_length: int,
    forced: set[int] | frozenset[int],
    one_line: str,
    places: dict[int, _Place],
) -> list[_Line]:
    """Break the tree into lines, top-down with an explicit stack: a group stays on one line
    when it fits and no comment forces it apart, else it takes one line per operand."""
    lines: list[_Line] = []
    append = lines.append
    # Pending work, last first: (node, indent, prefix, parenthesised, operand), where `operand`
    # is the first leaf of the AND/OR operand that starts on this line (-1 if none starts here);
    # a None node is a closing ")" line.
    stack: list[tuple[Expr | None, int, str, bool, int]] = [(expr, 0, "", False, -1)]
    push = stack.append
    while stack:
        node, indent, prefix, parens, operand = stack.pop()
        if node is None:
            append((indent, prefix, -1, -1, -1))
        elif type(node) is Not:
            push((node._operand, indent, prefix + "NOT ", True, operand))
        elif type(node) is And or type(node) is Or:
            start, end, first, last = places[id(node)]
            if parens:
                # Its one-line text in parentheses, as it is in its parent's.
                start -= 1
                end += 1
            if indent + len(prefix) + end - start <= line_length and id(node) not in forced:
                append((indent, prefix + one_line[start:end], first, last, operand))
                continue
            inner = indent + _INDENT if parens else indent
            if parens:
                push((None, indent, ")", False, -1))
            keyword = f"{node.keyword} "
            operands = node._operands
            for i in range(len(operands) - 1, 0, -1):
                child = operands[i]
                push((child, inner, keyword, True, places[id(child)][2]))
            if parens:
                push((operands[0], inner, "", True, -1))
                append((indent, prefix + "(", -1, -1, operand))
            else:
                push((operands[0], inner, prefix, True, operand))
        else:
            start, end, first, last = places[id(node)]
            append((indent, prefix + one_line[start:end], first, last, operand))
    return lines


def _render(lines: list[_Line], comments: _Comments) -> str:
    out: list[str] = []
    placed = 0

    def above(indent: int, texts: list[str]) -> None:
        nonlocal placed
        out.extend(" " * indent + text for text in texts)
        placed += len(texts)

    for i, (comment, blank) in enumerate(comments.header):
        if blank and i:
            out.append("")
        out.append(comment)
    placed += len(comments.header)
    if comments.header_gap:
        out.append("")
    for indent, body, first, last, operand in lines:
        if operand >= 0:
            above(indent, comments.outer[operand])
        if first >= 0:
            above(indent, comments.inner[first])
        if last >= 0 and comments.trailing[last]:
            # One comment fits at the end of the line: any before it go on their own lines
            # above, where they still read in source order.
            *before, end = comments.trailing[last]
            above(indent, before)
            body = f"{body}  {end}"
            placed += 1
        out.append(" " * indent + body)
    for comment, blank in comments.footer:
        if blank:
            out.append("")
        out.append(comment)
    placed += len(comments.footer)
    if placed != comments.count:
        # Never hand back a file with a comment missing: fail loudly instead.
        raise AssertionError(f"internal error: {comments.count - placed} comment(s) not placed")
    return "\n".join(out) + "\n"
