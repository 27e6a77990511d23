"""Deep and large input: nothing recurses, and the limits hold at their exact boundaries.

Filters nested 10,000 deep either parse or fail with :class:`flowql.LimitError` (FQ017), never
with ``RecursionError``; malformed deep filters fail with an ordinary :class:`flowql.ParseError`.
``max_depth`` and ``max_length`` are exact. The tree utilities, :func:`flowql.format` included,
handle trees 10,000 levels deep.

Deep trees are compared with :func:`same` (iterative), never with ``==``: node equality and
hashing recurse, which is fine for the trees :func:`flowql.parse` returns by default.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from strategies import expr_depth

import flowql
from flowql.ast import (
    And,
    Boolean,
    Comparison,
    Expr,
    In,
    Key,
    Node,
    Not,
    Number,
    Op,
    Or,
    Span,
    String,
    dump,
    find,
    find_all,
    to_dict,
    transform,
    walk,
)

N = 10_000
UNLIMITED = 10**9


def attempt(text: str, **limits: int) -> Expr | flowql.FlowQLError:
    """The tree, or the FlowQLError; anything else (RecursionError...) propagates and fails."""
    try:
        return flowql.parse(text, **limits)
    except flowql.FlowQLError as err:
        return err


def check_error_position(text: str, err: flowql.FlowQLError) -> None:
    span = err.span
    assert span is not None
    assert 0 <= span.start <= span.end <= len(text)
    assert span == Span.from_offsets(text, span.start, span.end)
    assert f"error[{err.code}]" in err.render()


def own(node: Node) -> tuple[object, ...]:
    """A node's type and non-node fields."""
    if isinstance(node, Key):
        return (Key, node.name)
    if isinstance(node, Number):
        return (Number, type(node.value), node.value)
    if isinstance(node, (String, Boolean)):
        return (type(node), node.value)
    if isinstance(node, Comparison):
        return (Comparison, node.op)
    if isinstance(node, In):
        return (In, node.negated, len(node.values))
    return (type(node), len(node.children()))


def same(a: Node, b: Node) -> bool:
    """Structural equality without recursion."""
    left, right = list(walk(a)), list(walk(b))
    return len(left) == len(right) and all(
        own(x) == own(y) for x, y in zip(left, right, strict=True)
    )


def leaf(i: int = 0) -> Comparison:
    return Comparison(Key(f"k{i}"), Op.EQ, Number(i))


def not_chain(depth: int, inner: Expr | None = None) -> Expr:
    expr: Expr = inner if inner is not None else leaf()
    for _ in range(depth):
        expr = Not(expr)
    return expr


def alternating(depth: int) -> Expr:
    """OR(k0, AND(k1, OR(k2, ...))): ``depth`` boolean levels, alternating OR and AND."""
    expr: Expr = leaf(depth)
    for i in reversed(range(depth)):
        expr = (Or if i % 2 == 0 else And)(leaf(i), expr)
    return expr


def mixed(depth: int) -> Expr:
    """NOT, AND and OR in turn, ``depth`` levels."""
    expr: Expr = leaf(depth)
    for i in reversed(range(depth)):
        kind = i % 3
        expr = Not(expr) if kind == 0 else (And if kind == 1 else Or)(expr, leaf(i))
    return expr


# --- deep text ----------------------------------------------------------------------------------


def nested_parens(n: int) -> str:
    return "(" * n + "a == 1" + ")" * n


def not_text(n: int) -> str:
    return "not " * n + "a == 1"


def not_paren_text(n: int) -> str:
    return "NOT (" * n + "a == 1" + ")" * n


def alternating_text(n: int) -> str:
    opens = "".join(f"k{i} == {i} {'or' if i % 2 == 0 else 'and'} (" for i in range(n))
    return opens + f"k{n} == {n}" + ")" * n


DEEP_TEXTS: dict[str, tuple[str, int]] = {
    # name: (text, nesting depth of its tree)
    "parentheses": (nested_parens(N), 0),
    "parenthesized AND": ("(" * N + "a == 1 and b == 2" + ")" * N, 1),
    "NOT chain": (not_text(N), N),
    "NOT ( chain": (not_paren_text(N), N),
    "alternating AND/OR in parentheses": (alternating_text(N), N),
}


@pytest.mark.parametrize("name", DEEP_TEXTS)
def test_deep_text_parses_or_hits_the_limit(name: str) -> None:
    text, depth = DEEP_TEXTS[name]
    result = attempt(text)
    if depth <= flowql.MAX_DEPTH:
        assert isinstance(result, Expr)
        assert expr_depth(result) == depth
    else:
        assert isinstance(result, flowql.LimitError)
        assert result.code == "FQ017"
        check_error_position(text, result)


@pytest.mark.parametrize("name", DEEP_TEXTS)
def test_deep_text_parses_without_a_limit(name: str) -> None:
    text, depth = DEEP_TEXTS[name]
    tree = flowql.parse(text, max_depth=UNLIMITED)
    assert expr_depth(tree) == depth
    # The deepest node's span is still right.
    deepest = list(find_all(tree, Comparison))[-1]
    span = deepest.span
    assert span is not None
    assert text[span.start : span.end] in ("a == 1", "b == 2", f"k{N} == {N}")
    # And the tree prints back to the same tree.
    assert same(flowql.parse(flowql.format(tree), max_depth=UNLIMITED), tree)


def test_parenthesized_comparison_is_just_the_comparison() -> None:
    assert flowql.parse(nested_parens(N)) == Comparison(Key("a"), Op.EQ, Number(1))


def test_wide_in_list() -> None:
    text = "k IN (" + ", ".join(f"'v{i}'" for i in range(N)) + ")"
    tree = flowql.parse(text)
    assert isinstance(tree, In)
    assert [v.value for v in tree.values] == [f"v{i}" for i in range(N)]
    assert flowql.parse(flowql.format(tree)) == tree


@pytest.mark.parametrize("word", ["and", "OR"])
def test_long_chain(word: str) -> None:
    text = f" {word} ".join(f"k{i} == {i}" for i in range(N))
    tree = flowql.parse(text)
    assert isinstance(tree, And if word == "and" else Or)
    assert len(tree.operands) == N
    assert tree.operands[-1] == leaf(N - 1)
    assert flowql.parse(flowql.format(tree)) == tree


def test_long_mixed_chain() -> None:
    text = " or ".join(f"a{i} == 1 and b{i} != 2" for i in range(N // 2))
    tree = flowql.parse(text)
    assert isinstance(tree, Or)
    assert len(tree.operands) == N // 2
    assert all(isinstance(op, And) for op in tree.operands)


MALFORMED_DEEP = {
    "unclosed parentheses": "(" * N,
    "unclosed around a comparison": "(" * N + "a == 1",
    "too many closing": "a == 1" + ")" * N,
    "only closing": ")" * N,
    "empty nested parentheses": "(" * N + ")" * N,
    "NOT chain without operand": "not " * N,
    "dangling AND chain": "a == 1 and " * N,
    "NOT ( chain, one ) short": "not (" * N + "a == 1" + ")" * (N - 1),
    "IN list ending with a comma": "k in (" + "1, " * N + ")",
    "alternating, one ) short": alternating_text(N)[:-1],
}


@pytest.mark.parametrize("name", MALFORMED_DEEP)
def test_malformed_deep_text_is_a_parse_error(name: str) -> None:
    text = MALFORMED_DEEP[name]
    result = attempt(text, max_depth=UNLIMITED)
    assert isinstance(result, flowql.ParseError)
    assert not isinstance(result, flowql.LimitError)
    check_error_position(text, result)
    # With the default limit the answer is the same error or FQ017, never anything else.
    default = attempt(text)
    assert isinstance(default, flowql.ParseError)
    assert default.code in (result.code, "FQ017")


# --- max_depth at its boundary ------------------------------------------------------------------

SHAPES: dict[str, Callable[[int], Expr]] = {
    "NOT chain": not_chain,
    "alternating OR/AND": alternating,
    "NOT/AND/OR": mixed,
    "NOT chain around an OR": lambda d: not_chain(d - 1, Or(leaf(1), leaf(2))),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_default_max_depth_is_exact(shape: str) -> None:
    assert flowql.MAX_DEPTH == 100
    ok = SHAPES[shape](100)
    too_deep = SHAPES[shape](101)
    assert expr_depth(ok) == 100
    assert expr_depth(too_deep) == 101
    assert flowql.parse(flowql.format(ok)) == ok
    text = flowql.format(too_deep)
    result = attempt(text)
    assert isinstance(result, flowql.LimitError)
    assert result.code == "FQ017"
    assert "100" in result.message
    check_error_position(text, result)
    assert flowql.parse(text, max_depth=101) == too_deep


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50, 250])
def test_max_depth_parameter_is_exact(shape: str, limit: int) -> None:
    ok = SHAPES[shape](limit)
    too_deep = SHAPES[shape](limit + 1)
    assert same(flowql.parse(flowql.format(ok), max_depth=limit), ok)
    result = attempt(flowql.format(too_deep), max_depth=limit)
    assert isinstance(result, flowql.LimitError)
    assert result.code == "FQ017"


def test_max_depth_zero_allows_only_a_test() -> None:
    assert flowql.parse("a == 1", max_depth=0) == Comparison(Key("a"), Op.EQ, Number(1))
    assert flowql.parse("((a in (1, 2)))", max_depth=0) == In(Key("a"), [Number(1), Number(2)])
    for text in ("not a == 1", "a == 1 and b == 2", "(a == 1 or b == 2)"):
        result = attempt(text, max_depth=0)
        assert isinstance(result, flowql.LimitError)
        assert result.code == "FQ017"


def test_nesting_through_redundant_parentheses_and_nots_counts_the_tree() -> None:
    # Depth counts tree levels, not parentheses: 100 NOTs each in three pairs of parentheses.
    text = "(((NOT " * 100 + "a == 1" + ")))" * 100
    assert expr_depth(flowql.parse(text)) == 100
    result = attempt("(((NOT " * 101 + "a == 1" + ")))" * 101)
    assert isinstance(result, flowql.LimitError)


# --- max_length at its boundary -----------------------------------------------------------------


def _text_of_length(length: int, newlines: bool = False) -> str:
    head, tail = "a == '", "'"
    filler = ("x" * 99 + "\n") if newlines else "x" * 100
    body = (filler * (length // 100 + 1))[: length - len(head) - len(tail)]
    text = head + body + tail
    assert len(text) == length
    return text


@pytest.mark.parametrize("newlines", [False, True])
def test_default_max_length_is_exact(newlines: bool) -> None:
    limit = flowql.MAX_SOURCE_LENGTH
    assert limit == 1_000_000
    text = _text_of_length(limit, newlines)
    tree = flowql.parse(text)
    assert isinstance(tree, Comparison)
    assert isinstance(tree.value, String)
    assert len(tree.value.value) == limit - 7
    longer = _text_of_length(limit + 1, newlines)
    result = attempt(longer)
    assert isinstance(result, flowql.LimitError)
    assert result.code == "FQ016"
    check_error_position(longer, result)
    assert result.span is not None
    assert result.span.start == limit


@pytest.mark.parametrize(
    "text", ["", "a", "a == 1", "(a == 1", _text_of_length(100), _text_of_length(4096, True)]
)
def test_max_length_parameter_is_exact(text: str) -> None:
    at_limit = attempt(text, max_length=len(text))
    assert not (isinstance(at_limit, flowql.FlowQLError) and at_limit.code == "FQ016")
    over = text + " "
    result = attempt(over, max_length=len(text))
    assert isinstance(result, flowql.LimitError)
    assert result.code == "FQ016"
    check_error_position(over, result)


def test_length_is_checked_before_syntax() -> None:
    result = attempt("((((( garbage ===", max_length=5)
    assert isinstance(result, flowql.LimitError)
    assert result.code == "FQ016"


# --- tree utilities on 10,000-deep trees --------------------------------------------------------

TREES: dict[str, Callable[[], Expr]] = {
    "NOT chain": lambda: not_chain(N),
    "alternating OR/AND": lambda: alternating(N),
    "NOT/AND/OR": lambda: mixed(N),
}


def _node_count(name: str) -> int:
    # NOT chain: N Nots, a comparison, a key, a value. The others: per level a boolean node and
    # (except NOT levels) a comparison of three nodes, then the innermost comparison.
    if name == "NOT chain":
        return N + 3
    if name == "alternating OR/AND":
        return N + 3 * N + 3
    nots = len(range(0, N, 3))
    return N + 3 * (N - nots) + 3


@pytest.mark.parametrize("name", TREES)
def test_walk_and_find(name: str) -> None:
    tree = TREES[name]()
    nodes = list(walk(tree))
    assert len(nodes) == _node_count(name)
    assert nodes[0] is tree
    assert expr_depth(tree) == N
    comparisons = list(find_all(tree, Comparison))
    assert len(comparisons) == (len(nodes) - N) // 3
    assert find(tree, Boolean) is None
    first = find(tree, Key)
    assert first is not None
    assert first is comparisons[0].key


@pytest.mark.parametrize("name", TREES)
def test_transform(name: str) -> None:
    tree = TREES[name]()
    assert transform(tree, lambda node: node) is tree

    def shout(node: Node) -> Node:
        return Key(node.name.upper()) if isinstance(node, Key) else node

    loud = transform(tree, shout)
    assert loud is not tree
    assert expr_depth(loud) == N
    assert all(key.name.startswith("K") for key in find_all(loud, Key))
    assert all(key.name.startswith("k") for key in find_all(tree, Key))
    assert [own(n) for n in walk(loud) if not isinstance(n, Key)] == [
        own(n) for n in walk(tree) if not isinstance(n, Key)
    ]


def test_transform_removes_double_negation() -> None:
    def simplify(node: Node) -> Node:
        if isinstance(node, Not) and isinstance(node.operand, Not):
            return node.operand.operand
        return node

    assert transform(not_chain(N), simplify) == leaf()
    assert expr_depth(transform(not_chain(N + 1), simplify)) == 1


@pytest.mark.parametrize("name", TREES)
def test_to_dict(name: str) -> None:
    tree = TREES[name]()
    for spans in (False, True):
        data = to_dict(tree, spans=spans)
        depth = 0
        current: object = data
        while isinstance(current, dict) and current["type"] in ("and", "or", "not"):
            assert ("span" in current) == spans
            depth += 1
            if current["type"] == "not":
                current = current["operand"]
            else:
                operands = current["operands"]
                assert isinstance(operands, list)
                current = next((o for o in operands if o["type"] != "comparison"), operands[-1])
        assert depth == N
        assert isinstance(current, dict)
        assert current["type"] == "comparison"


@pytest.mark.parametrize("name", TREES)
def test_dump(name: str) -> None:
    # Indented output is quadratic in the depth (hundreds of MB here): no indentation, then.
    tree = TREES[name]()
    lines = dump(tree, spans=False, indent="").split("\n")
    assert len(lines) == _node_count(name)
    assert lines[0] == type(tree).__name__
    innermost = "k0" if name == "NOT chain" else f"k{N}"
    at = lines.index(f"Key {innermost}")
    assert lines[at - 1 : at + 2] == [
        "Comparison ==",
        f"Key {innermost}",
        f"Number {innermost[1:]}",
    ]


def test_dump_indents_every_level() -> None:
    lines = dump(not_chain(N), spans=False, indent=" ").split("\n")
    assert lines[:2] == ["Not", " Not"]
    assert lines[-3:] == [
        " " * N + "Comparison ==",
        " " * (N + 1) + "Key k0",
        " " * (N + 1) + "Number 0",
    ]


@pytest.mark.parametrize("name", TREES)
def test_format_and_reparse(name: str) -> None:
    tree = TREES[name]()
    text = flowql.format(tree)
    assert "\n" not in text
    if name == "NOT chain":
        assert text == "NOT " * N + "k0 == 0"
    assert text.count("(") == text.count(")")
    reparsed = flowql.parse(text, max_depth=UNLIMITED)
    assert same(reparsed, tree)
    assert flowql.format(reparsed) == text
    result = attempt(text)
    assert isinstance(result, flowql.LimitError)
