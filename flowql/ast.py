"""The FlowQL abstract syntax tree.

Every node is immutable and hashable, and compares structurally: two nodes are equal when they
have the same type and equal fields. The source span is carried along but is not part of equality,
so ``parse("a == 'x'") == parse("a   ==   'x'")``.

The tree is small:

- boolean structure: :class:`And`, :class:`Or` (n-ary, at least two operands) and :class:`Not`;
- tests: :class:`Comparison` (``key OP value``) and :class:`In` (``key [NOT] IN (v, ...)``);
- leaves: :class:`Key` and the typed values :class:`String`, :class:`Number` and
  :class:`Boolean`.

``And`` and ``Or`` flatten operands of their own kind when they are built, so
``a AND (b AND c)`` and ``(a AND b) AND c`` are both ``And(a, b, c)``: AND and OR are associative,
and a tree in this shape prints back without any parentheses a reader does not need.

Tree utilities :func:`walk`, :func:`find`, :func:`find_all` and :func:`transform` never recurse,
so they work on trees of any depth.
"""

from __future__ import annotations

import enum
from bisect import bisect_right

# `typing` costs milliseconds at start-up, and `flowql check` must start fast: annotations are
# strings, and these names exist for the type checker only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from re import Pattern
    from typing import Any, ClassVar, TypeVar

    from flowql.errors import NodeError

    N = TypeVar("N", bound="Node")
    T = TypeVar("T", bound="Node")

__all__ = [
    "And",
    "Boolean",
    "Comparison",
    "Expr",
    "In",
    "Key",
    "Node",
    "Not",
    "Number",
    "Op",
    "Or",
    "Span",
    "String",
    "Value",
    "dump",
    "find",
    "find_all",
    "transform",
    "value_of",
    "to_dict",
    "walk",
]


_line_index: tuple[str, list[int]] | None = None


class Span:
    """A range of source text: offsets and 1-based line and column, end exclusive.

    ``start``/``end`` are character offsets into the text that was parsed (``end`` is one past the
    last character). ``line``/``column`` locate ``start``; ``end_line``/``end_column`` locate
    ``end``. Columns count characters (code points), starting at 1.
    """

    __slots__ = ("_column", "_end", "_end_column", "_end_line", "_line", "_start")

    def __init__(
        self, start: int, end: int, line: int, column: int, end_line: int, end_column: int
    ) -> None:
        self._start = start
        self._end = end
        self._line = line
        self._column = column
        self._end_line = end_line
        self._end_column = end_column

    @property
    def start(self) -> int:
        """Offset of the first character."""
        return self._start

    @property
    def end(self) -> int:
        """Offset one past the last character."""
        return self._end

    @property
    def line(self) -> int:
        """1-based line of ``start``."""
        return self._line

    @property
    def column(self) -> int:
        """1-based column of ``start``."""
        return self._column

    @property
    def end_line(self) -> int:
        """1-based line of ``end``."""
        return self._end_line

    @property
    def end_column(self) -> int:
        """1-based column of ``end`` (one past the last character)."""
        return self._end_column

    @classmethod
    def from_offsets(cls, text: str, start: int, end: int) -> Span:
        """Build the span of ``text[start:end]``, computing lines and columns."""
        global _line_index
        cached = _line_index
        if cached is not None and cached[0] is text:
            starts = cached[1]
        else:
            # Callers make many spans in one text (a manifest of thousands of filters): index
            # its lines once, so each span costs a binary search, not a scan from the start.
            # One entry, replaced whole, so threads at worst index a text twice.
            starts = [0]
            found = text.find("\n")
            while found >= 0:
                starts.append(found + 1)
                found = text.find("\n", found + 1)
            _line_index = (text, starts)
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end)
        return cls(
            start, end, line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1
        )

    def _key(self) -> tuple[int, int, int, int, int, int]:
        return (
            self._start,
            self._end,
            self._line,
            self._column,
            self._end_line,
            self._end_column,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Span({self._start}, {self._end}, {self._line}, {self._column}, "
            f"{self._end_line}, {self._end_column})"
        )

    def __str__(self) -> str:
        return f"{self._line}:{self._column}-{self._end_line}:{self._end_column}"


class Op(str, enum.Enum):
    """A comparison operator."""

    EQ = "=="
    """Equals (exact, case-sensitive)."""
    NE = "!="
    """Does not equal."""
    CONTAINS = "~~"
    """Contains the value as a substring."""
    NOT_CONTAINS = "!~"
    """Does not contain the value as a substring."""

    @property
    def negated(self) -> Op:
        """The operator that matches exactly the records this one does not."""
        return _NEGATED[self]

    def __str__(self) -> str:
        return self.value


_NEGATED = {
    Op.EQ: Op.NE,
    Op.NE: Op.EQ,
    Op.CONTAINS: Op.NOT_CONTAINS,
    Op.NOT_CONTAINS: Op.CONTAINS,
}


class Node:
    """Base class of every AST node.

    Subclasses list their structural fields in ``_fields``; equality, hashing and ``repr`` are
    defined over those fields only, never over the span.
    """

    __slots__ = ("_hash", "_span")
    _fields: ClassVar[tuple[str, ...]] = ()
    _hash: int
    _span: Span | tuple[int, int, Any] | None

    @property
    def span(self) -> Span | None:
        """Where the node was in the parsed text, or None for a node built in code."""
        span = self._span
        if type(span) is tuple:
            # The parser stores (start, end, positions) and the Span is made on first use:
            # most nodes' spans are never read, and making them all costs a third of a parse.
            start, end, positions = span
            span = positions.span(start, end)
            self._span = span
        return span  # type: ignore[return-value]

    def children(self) -> tuple[Node, ...]:
        """The node's direct child nodes, in source order."""
        return ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def _scalars(self) -> tuple[Any, ...]:
        """The fields that are not nodes: what, with the children, makes the node's identity."""
        return ()

    # Equality, hashing and repr never recurse, so they work on trees of any depth, like the
    # other tree utilities.

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Node)
        pairs: list[tuple[Node, Node]] = [(self, other)]
        while pairs:
            a, b = pairs.pop()
            if a is b:
                continue
            if type(a) is not type(b) or hash(a) != hash(b) or a._scalars() != b._scalars():
                return False
            left, right = a.children(), b.children()
            if len(left) != len(right):
                return False
            pairs.extend(zip(left, right, strict=True))
        return True

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            pass
        # Post-order over the nodes whose hash is not cached yet, so that each hash is built from
        # its children's cached ones.
        stack: list[tuple[Node, bool]] = [(self, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                children = tuple(child._hash for child in node.children())
                node._hash = hash((type(node).__name__, node._scalars(), children))
            elif not hasattr(node, "_hash"):
                stack.append((node, True))
                stack.extend((c, False) for c in node.children() if not hasattr(c, "_hash"))
        return self._hash

    def __repr__(self) -> str:
        result: str = _fold(self, lambda node, kids: node._repr(kids))
        return result

    def _repr(self, kids: list[str]) -> str:
        args = ", ".join(repr(v) for v in self._values())
        return f"{type(self).__name__}({args})"

    def __copy__(self) -> Node:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Node:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values(), self.span))

    def replace(self: N, **changes: Any) -> N:
        """Return a copy with some fields changed; the span is kept unless given."""
        values = {name: getattr(self, name) for name in self._fields}
        span = changes.pop("span", self.span)
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return _construct(type(self), values, span)


# The grammar's KEY token (grammar/flowql.lark), and the words it reserves in any case: a key
# built in code must be one a writer can print and the parser reads back as that key, or a tool
# that builds keys from user input could inject filter syntax (`x) OR (y`).
_KEY: Pattern[str] | None = None
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
_KEY_HINT = (
    "a key is ASCII letters, digits, '_' and '-', in dotted parts, each not starting with a "
    "digit or '-', and not one of the words AND, OR, NOT, IN, true, false (in any case)"
)


def _invalid(message: str, hint: str | None = None) -> NodeError:
    from flowql.diagnostics import Diagnostic
    from flowql.errors import NodeError

    return NodeError(Diagnostic("FQ020", message, None, hint=hint))


def _check_key(name: object) -> str:
    global _KEY
    if not isinstance(name, str):
        raise _invalid(f"a Key name must be a str, not {type(name).__name__}", _KEY_HINT)
    if _KEY is None:
        import re

        _KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
    if not name:
        raise _invalid("a Key needs a non-empty name", _KEY_HINT)
    if _KEY.fullmatch(name) is None:
        from flowql.diagnostics import clip

        raise _invalid(f"{clip(name)!r} is not a FlowQL key", _KEY_HINT)
    if name.lower() in _KEYWORDS:
        raise _invalid(f"{name!r} is a FlowQL keyword, not a key", _KEY_HINT)
    return name


def _construct(cls: type[N], values: dict[str, Any], span: Span | None) -> N:
    if cls is And or cls is Or:
        return cls(*values["operands"], span=span)  # type: ignore[call-arg]
    return cls(**values, span=span)  # type: ignore[call-arg]


def _rebuild(cls: type[Node], values: tuple[Any, ...], span: Span | None) -> Node:
    return _construct(cls, dict(zip(cls._fields, values, strict=False)), span)


class Key(Node):
    """A dimension key such as ``geo_country`` or ``integration.name``."""

    __slots__ = ("_name",)
    _fields = ("name",)
    __match_args__ = ("name",)

    def __init__(self, name: str, *, span: Span | None = None) -> None:
        self._name = _check_key(name)
        self._span = span

    @property
    def name(self) -> str:
        """The key as written, dots included."""
        return self._name

    def _scalars(self) -> tuple[Any, ...]:
        return (self._name,)


class String(Node):
    """A string value (the text between the quotes, escapes decoded)."""

    __slots__ = ("_value",)
    _fields = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: str, *, span: Span | None = None) -> None:
        if not isinstance(value, str):
            raise _invalid(f"String value must be a str, not {type(value).__name__}")
        self._value = value
        self._span = span

    @property
    def value(self) -> str:
        """The decoded string."""
        return self._value

    def _scalars(self) -> tuple[Any, ...]:
        return (self._value,)


# Python refuses to turn ints of more than 4,300 digits into text; stay well inside that.
_MAX_INT_BITS = 14_000


class Number(Node):
    """A number value: an ``int``, or a finite ``float``."""

    __slots__ = ("_value",)
    _fields = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: int | float, *, span: Span | None = None) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(f"Number value must be an int or a float, not {type(value).__name__}")
        if value != value or value in (float("inf"), float("-inf")):
            raise _invalid("Number value must be finite")
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise _invalid("Number value is too large to print")
        self._value = value
        self._span = span

    @property
    def value(self) -> int | float:
        """The number."""
        return self._value

    def _scalars(self) -> tuple[Any, ...]:
        # 1 and 1.0 are distinct values in FlowQL (they print differently), so the type is part
        # of the identity as well as the value.
        return (type(self._value).__name__, self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (Number, (self._value,), self.span))


class Boolean(Node):
    """A boolean value, written ``true`` or ``false``."""

    __slots__ = ("_value",)
    _fields = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: bool, *, span: Span | None = None) -> None:
        if not isinstance(value, bool):
            raise _invalid(f"Boolean value must be a bool, not {type(value).__name__}")
        self._value = value
        self._span = span

    @property
    def value(self) -> bool:
        """The boolean."""
        return self._value

    def _scalars(self) -> tuple[Any, ...]:
        return (self._value,)


Value = String | Number | Boolean
"""A typed value: :class:`String`, :class:`Number` or :class:`Boolean`."""

_VALUE_TYPES = (String, Number, Boolean)


class Expr(Node):
    """Base class of boolean expressions: what a filter is."""

    __slots__ = ()


class Comparison(Expr):
    """``key OP value``, for example ``geo_country == 'Spain'``."""

    __slots__ = ("_key", "_op", "_value")
    _fields = ("key", "op", "value")
    __match_args__ = ("key", "op", "value")

    def __init__(self, key: Key, op: Op, value: Value, *, span: Span | None = None) -> None:
        if not isinstance(key, Key):
            raise _invalid("Comparison key must be a Key")
        if not isinstance(value, _VALUE_TYPES):
            raise _invalid("Comparison value must be a String, Number or Boolean")
        if op.__class__ is not Op:
            try:
                op = Op(op)
            except (ValueError, TypeError):
                raise _invalid(
                    f"{op!r} is not a FlowQL operator", "use an Op: ==, !=, ~~ or !~"
                ) from None
        self._key = key
        self._op = op
        self._value = value
        self._span = span

    @property
    def key(self) -> Key:
        """The dimension key."""
        return self._key

    @property
    def op(self) -> Op:
        """The operator."""
        return self._op

    @property
    def value(self) -> Value:
        """The value compared against."""
        return self._value

    def children(self) -> tuple[Node, ...]:
        """The key and the value."""
        return (self._key, self._value)

    def _scalars(self) -> tuple[Any, ...]:
        return (self._op,)

    def _repr(self, kids: list[str]) -> str:
        return f"Comparison({kids[0]}, {self._op!r}, {kids[1]})"


class In(Expr):
    """``key IN (v1, v2, ...)``, or ``key NOT IN (...)`` when ``negated``."""

    __slots__ = ("_key", "_negated", "_values_")
    _fields = ("key", "values", "negated")
    __match_args__ = ("key", "values", "negated")

    def __init__(
        self,
        key: Key,
        values: Iterable[Value],
        negated: bool = False,
        *,
        span: Span | None = None,
    ) -> None:
        if isinstance(values, (str, bytes, Node)) or not hasattr(values, "__iter__"):
            raise _invalid("In values must be an iterable of String, Number or Boolean nodes")
        values = tuple(values)
        if not isinstance(key, Key):
            raise _invalid("In key must be a Key")
        if not values:
            raise _invalid("In needs at least one value")
        if not all(isinstance(v, _VALUE_TYPES) for v in values):
            raise _invalid("In values must be String, Number or Boolean nodes")
        if not isinstance(negated, bool):
            raise _invalid(f"In negated must be a bool, not {type(negated).__name__}")
        self._key = key
        self._values_ = values
        self._negated = negated
        self._span = span

    @property
    def key(self) -> Key:
        """The dimension key."""
        return self._key

    @property
    def values(self) -> tuple[Value, ...]:
        """The listed values, in source order (at least one)."""
        return self._values_

    @property
    def negated(self) -> bool:
        """True for ``NOT IN``."""
        return self._negated

    def children(self) -> tuple[Node, ...]:
        """The key, then the values."""
        return (self._key, *self._values_)

    def _scalars(self) -> tuple[Any, ...]:
        return (self._negated,)

    def _repr(self, kids: list[str]) -> str:
        values = ", ".join(kids[1:]) + ("," if len(kids) == 2 else "")
        return f"In({kids[0]}, ({values}), {self._negated})"


class Not(Expr):
    """``NOT operand``."""

    __slots__ = ("_operand",)
    _fields = ("operand",)
    __match_args__ = ("operand",)

    def __init__(self, operand: Expr, *, span: Span | None = None) -> None:
        if not isinstance(operand, Expr):
            raise _invalid("Not operand must be an Expr")
        self._operand = operand
        self._span = span

    @property
    def operand(self) -> Expr:
        """The negated expression."""
        return self._operand

    def children(self) -> tuple[Node, ...]:
        """The operand."""
        return (self._operand,)

    def _repr(self, kids: list[str]) -> str:
        return f"Not({kids[0]})"


class _Connective(Expr):
    __slots__ = ("_operands",)
    _operands: tuple[Expr, ...]
    _fields = ("operands",)
    __match_args__ = ("operands",)
    keyword: ClassVar[str] = ""

    def __init__(self, *operands: Expr, span: Span | None = None) -> None:
        flat: list[Expr] = []
        cls = type(self)
        for operand in operands:
            if type(operand) is cls:
                assert isinstance(operand, _Connective)
                flat.extend(operand._operands)
            elif isinstance(operand, Expr):
                flat.append(operand)
            else:
                raise _invalid(f"{cls.__name__} operands must be Expr nodes")
        if len(flat) < 2:
            raise _invalid(f"{cls.__name__} needs at least two operands")
        self._operands = tuple(flat)
        self._span = span

    @property
    def operands(self) -> tuple[Expr, ...]:
        """The operands, in source order (at least two, none of this node's own kind)."""
        return self._operands

    def children(self) -> tuple[Node, ...]:
        """The operands."""
        return self._operands

    def _repr(self, kids: list[str]) -> str:
        return f"{type(self).__name__}({', '.join(kids)})"


class And(_Connective):
    """``a AND b AND ...``: true when every operand is."""

    __slots__ = ()
    keyword = "AND"


class Or(_Connective):
    """``a OR b OR ...``: true when any operand is."""

    __slots__ = ()
    keyword = "OR"


def value_of(value: str | int | float | bool, *, span: Span | None = None) -> Value:
    """Wrap a Python ``str``, ``int``, ``float`` or ``bool`` in the matching value node."""
    if isinstance(value, bool):
        return Boolean(value, span=span)
    if isinstance(value, (int, float)):
        return Number(value, span=span)
    if isinstance(value, str):
        return String(value, span=span)
    raise TypeError(f"no FlowQL value for {type(value).__name__}")


def walk(node: Node) -> Iterator[Node]:
    """Yield ``node`` and every node below it, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = current.children()
        if children:
            stack.extend(reversed(children))


def find_all(node: Node, kind: type[T]) -> Iterator[T]:
    """Yield every node of type ``kind`` in :func:`walk` order, ``node`` itself included.

    For any other test, filter :func:`walk`: ``(n for n in walk(tree) if test(n))``.
    """
    for current in walk(node):
        if isinstance(current, kind):
            yield current


def find(node: Node, kind: type[T]) -> T | None:
    """The first node of type ``kind`` in :func:`walk` order, or None."""
    return next(find_all(node, kind), None)


def transform(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Rebuild the tree bottom-up, replacing each node with ``fn(node)``.

    ``fn`` sees each node after its children have been transformed, and returns the node to use
    in its place (the node itself to keep it). Subtrees that ``fn`` leaves alone are shared, not
    copied. The result must still be a valid tree: an expression where an expression was, a value
    where a value was, or the node constructors raise ``TypeError``.
    """

    def rebuild(current: Node, new_children: list[Node]) -> Node:
        if any(a is not b for a, b in zip(new_children, current.children(), strict=False)):
            current = _with_children(current, new_children)
        return fn(current)

    result: Node = _fold(node, rebuild)
    return result


def _with_children(node: Node, children: list[Node]) -> Node:
    span = node._span
    if isinstance(node, Comparison):
        key, value = children
        assert isinstance(key, Key)
        return Comparison(key, node.op, value, span=span)  # type: ignore[arg-type]
    if isinstance(node, In):
        key = children[0]
        assert isinstance(key, Key)
        return In(key, children[1:], node.negated, span=span)  # type: ignore[arg-type]
    if isinstance(node, Not):
        return Not(children[0], span=span)  # type: ignore[arg-type]
    if isinstance(node, (And, Or)):
        return type(node)(*children, span=span)  # type: ignore[arg-type]
    raise TypeError(f"{type(node).__name__} has no children")  # pragma: no cover


def _span_dict(span: Span | None) -> dict[str, int] | None:
    if span is None:
        return None
    return {
        "start": span.start,
        "end": span.end,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def _own_fields(node: Node) -> dict[str, object]:
    """The node's type name and its non-node fields."""
    kind = type(node).__name__.lower()
    if isinstance(node, Key):
        return {"type": kind, "name": node.name}
    if isinstance(node, (String, Number, Boolean)):
        return {"type": kind, "value": node.value}
    if isinstance(node, Comparison):
        return {"type": kind, "op": node.op.value}
    if isinstance(node, In):
        return {"type": kind, "negated": node.negated}
    return {"type": kind}


def to_dict(node: Node, *, spans: bool = True) -> dict[str, object]:
    """The tree as JSON-ready dicts: ``{"type": "and", "operands": [...], "span": {...}}``.

    Types are ``and``, ``or``, ``not`` (``operand``), ``comparison`` (``key``, ``op``,
    ``value``), ``in`` (``key``, ``values``, ``negated``), ``key`` (``name``), and the values
    ``string``, ``number`` and ``boolean`` (``value``). With ``spans`` each dict has a ``span``
    with ``start``, ``end``, ``line``, ``column``, ``end_line`` and ``end_column``.
    """

    def convert(current: Node, children: list[dict[str, object]]) -> dict[str, object]:
        out = _own_fields(current)
        if isinstance(current, Comparison):
            out = {"type": out["type"], "key": children[0], "op": out["op"], "value": children[1]}
        elif isinstance(current, In):
            out = {
                "type": out["type"],
                "key": children[0],
                "values": children[1:],
                "negated": out["negated"],
            }
        elif isinstance(current, Not):
            out["operand"] = children[0]
        elif isinstance(current, (And, Or)):
            out["operands"] = children
        if spans:
            out["span"] = _span_dict(current.span)
        return out

    result: dict[str, object] = _fold(node, convert)
    return result


def _fold(node: Node, fn: Callable[[Node, list[Any]], Any]) -> Any:
    """Post-order fold without recursion: ``fn(node, [results of its children])``."""
    stack: list[tuple[Node, bool]] = [(node, False)]
    results: list[Any] = []
    while stack:
        current, visited = stack.pop()
        children = current.children()
        if not visited:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        count = len(children)
        child_results = results[len(results) - count :] if count else []
        if count:
            del results[len(results) - count :]
        results.append(fn(current, child_results))
    return results[0]


def dump(node: Node, *, spans: bool = True, indent: str = "  ") -> str:
    """An indented, one-node-per-line view of the tree, for reading and debugging.

    ::

        And 1:1-1:45
          Comparison 1:1-1:23
            Key geo_country 1:1-1:12
            String 'Spain' 1:16-1:23
          ...
    """
    lines: list[str] = []
    stack: list[tuple[Node, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        parts = [type(current).__name__]
        if isinstance(current, Key):
            parts.append(current.name)
        elif isinstance(current, (String, Number, Boolean)):
            value = current.value
            parts.append(("true" if value else "false") if isinstance(value, bool) else repr(value))
        elif isinstance(current, Comparison):
            parts.append(current.op.value)
        elif isinstance(current, In) and current.negated:
            parts.append("NOT")
        if spans and current.span is not None:
            parts.append(str(current.span))
        lines.append(indent * depth + " ".join(parts))
        stack.extend((child, depth + 1) for child in reversed(current.children()))
    return "\n".join(lines)
