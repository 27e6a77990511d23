"""The AST: immutability, structural equality, hashing, flattening, spans and tree utilities."""

from __future__ import annotations

import copy
import pickle

import pytest

import flowql
from flowql.ast import (
    And,
    Boolean,
    Comparison,
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
    value_of,
    walk,
)


def eq(key: str, value: str) -> Comparison:
    return Comparison(Key(key), Op.EQ, String(value))


A, B, C, D = eq("a", "1"), eq("b", "2"), eq("c", "3"), eq("d", "4")


def test_nodes_are_immutable() -> None:
    node = eq("geo_country", "Spain")
    with pytest.raises(AttributeError):
        node.key = Key("other")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        node.extra = 1  # type: ignore[attr-defined]
    conj = And(A, B)
    with pytest.raises(AttributeError):
        conj.operands = (A,)  # type: ignore[misc]


def test_equality_is_structural_and_ignores_spans() -> None:
    parsed = flowql.parse("a == '1'")
    assert parsed == A
    assert parsed.span is not None
    assert A.span is None
    assert flowql.parse("a   ==\n'1'") == parsed
    assert hash(parsed) == hash(A)
    assert eq("a", "1") != eq("a", "2")
    assert Comparison(Key("a"), Op.NE, String("1")) != A


def test_distinct_node_types_and_value_types_never_compare_equal() -> None:
    assert String("1") != Number(1)
    assert Number(1) != Boolean(True)
    assert Number(1) != Number(1.0)
    assert hash(Number(1)) != hash(Number(1.0))
    assert Number(1.5) == Number(1.5)
    assert And(A, B) != Or(A, B)
    assert In(Key("a"), [String("x")]) != In(Key("a"), [String("x")], negated=True)
    assert A != "a == '1'"


def test_nodes_work_as_dict_keys_and_in_sets() -> None:
    seen = {flowql.parse("a == '1' AND b == '2'"), And(A, B), Or(A, B)}
    assert len(seen) == 2


def test_and_or_flatten_operands_of_their_own_kind() -> None:
    assert And(A, And(B, C)) == And(A, B, C)
    assert And(And(A, B), C).operands == (A, B, C)
    assert Or(A, And(B, C)).operands == (A, And(B, C))
    assert flowql.parse("a == '1' AND (b == '2' AND c == '3')") == And(A, B, C)
    assert flowql.parse("(a == '1' OR b == '2') OR c == '3'") == Or(A, B, C)


def test_constructors_reject_invalid_trees() -> None:
    with pytest.raises(ValueError, match="at least two"):
        And(A)
    with pytest.raises(TypeError):
        And(A, "b == '2'")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        In(Key("a"), [])
    with pytest.raises(TypeError):
        Comparison(Key("a"), Op.EQ, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Number(float("nan"))
    with pytest.raises(TypeError):
        Number(True)
    with pytest.raises(ValueError, match="non-empty"):
        Key("")
    with pytest.raises(TypeError):
        Not(Key("a"))  # type: ignore[arg-type]


def test_comparison_accepts_operator_text() -> None:
    assert Comparison(Key("a"), "~~", String("x")).op is Op.CONTAINS  # type: ignore[arg-type]


def test_op_negated_swaps_each_pair() -> None:
    assert Op.EQ.negated is Op.NE
    assert Op.NE.negated is Op.EQ
    assert Op.CONTAINS.negated is Op.NOT_CONTAINS
    assert Op.NOT_CONTAINS.negated is Op.CONTAINS
    assert str(Op.CONTAINS) == "~~"


def test_value_of_wraps_python_values() -> None:
    assert value_of("x") == String("x")
    assert value_of(True) == Boolean(True)
    assert value_of(3) == Number(3)
    assert value_of(2.5) == Number(2.5)
    with pytest.raises(TypeError):
        value_of(None)  # type: ignore[arg-type]


def test_spans_locate_every_node() -> None:
    text = "a == 'x'\n  AND NOT (b IN (1, true)\n OR c !~ \"y\")"
    tree = flowql.parse(text)
    for node in walk(tree):
        span = node.span
        assert span is not None
        assert span == Span.from_offsets(text, span.start, span.end)
    b_key = find(tree, In)
    assert b_key is not None
    assert b_key.key.span == Span(20, 21, 2, 12, 2, 13)
    assert text[b_key.span.start : b_key.span.end] == "b IN (1, true)"  # type: ignore[union-attr]
    assert str(tree.span) == "1:1-3:14"


def test_walk_is_preorder_in_source_order() -> None:
    tree = flowql.parse("a == '1' AND NOT (b IN ('2', '3') OR c != '4')")
    kinds = [type(n).__name__ for n in walk(tree)]
    assert kinds == [
        "And",
        "Comparison",
        "Key",
        "String",
        "Not",
        "Or",
        "In",
        "Key",
        "String",
        "String",
        "Comparison",
        "Key",
        "String",
    ]


def test_find_and_find_all() -> None:
    tree = flowql.parse("a == '1' AND (b == '2' OR c IN ('3'))")
    assert [k.name for k in find_all(tree, Key)] == ["a", "b", "c"]
    found = find(tree, In)
    assert found is not None
    assert found.key.name == "c"
    assert find(tree, Not) is None


def test_transform_rebuilds_bottom_up_and_shares_untouched_subtrees() -> None:
    tree = flowql.parse("a == '1' AND (b == '2' OR c == '3')")

    def rename(node: Node) -> Node:
        if isinstance(node, Key) and node.name == "c":
            return Key("city", span=node.span)
        return node

    result = transform(tree, rename)
    assert result == flowql.parse("a == '1' AND (b == '2' OR city == '3')")
    assert isinstance(result, And)
    assert isinstance(tree, And)
    assert result.operands[0] is tree.operands[0]
    assert result.span == tree.span
    unchanged = transform(tree, lambda n: n)
    assert unchanged is tree


def test_transform_can_replace_whole_expressions() -> None:
    tree = flowql.parse("NOT a == '1' AND b == '2'")

    def push_not(node: Node) -> Node:
        if isinstance(node, Not) and isinstance(node.operand, Comparison):
            inner = node.operand
            return Comparison(inner.key, inner.op.negated, inner.value)
        return node

    assert transform(tree, push_not) == flowql.parse("a != '1' AND b == '2'")


def test_replace_changes_fields_and_keeps_the_span() -> None:
    node = flowql.parse("a == '1'")
    assert isinstance(node, Comparison)
    changed = node.replace(op=Op.NE)
    assert changed == Comparison(Key("a"), Op.NE, String("1"))
    assert changed.span == node.span
    with pytest.raises(TypeError, match="no field"):
        node.replace(colour="red")
    conj = And(A, B).replace(operands=(A, C))
    assert conj == And(A, C)


def test_copy_and_pickle() -> None:
    tree = flowql.parse("a == '1' AND NOT b IN (2, 2.5, false) OR c ~~ 'x'")
    assert copy.copy(tree) is tree
    assert copy.deepcopy(tree) is tree
    restored = pickle.loads(pickle.dumps(tree))
    assert restored == tree
    assert restored.span == tree.span
    assert pickle.loads(pickle.dumps(Number(1.0))) == Number(1.0)


def test_repr_reads_like_constructor_calls() -> None:
    assert repr(A) == "Comparison(Key('a'), <Op.EQ: '=='>, String('1'))"
    assert repr(And(A, B)).startswith("And(Comparison(")
    assert repr(Number(2.0)) == "Number(2.0)"


def test_to_dict_and_dump() -> None:
    tree = flowql.parse("a == '1' AND NOT b NOT IN (2, true)")
    data = to_dict(tree, spans=False)
    assert data == {
        "type": "and",
        "operands": [
            {
                "type": "comparison",
                "key": {"type": "key", "name": "a"},
                "op": "==",
                "value": {"type": "string", "value": "1"},
            },
            {
                "type": "not",
                "operand": {
                    "type": "in",
                    "key": {"type": "key", "name": "b"},
                    "values": [{"type": "number", "value": 2}, {"type": "boolean", "value": True}],
                    "negated": True,
                },
            },
        ],
    }
    with_spans = to_dict(tree)
    assert with_spans["span"] == {
        "start": 0,
        "end": 35,
        "line": 1,
        "column": 1,
        "end_line": 1,
        "end_column": 36,
    }
    assert dump(tree, spans=False).splitlines() == [
        "And",
        "  Comparison ==",
        "    Key a",
        "    String '1'",
        "  Not",
        "    In NOT",
        "      Key b",
        "      Number 2",
        "      Boolean true",
    ]


def test_node_children() -> None:
    node = In(Key("k"), [String("a"), Number(1)])
    assert node.children() == (Key("k"), String("a"), Number(1))
    assert Key("k").children() == ()
    assert Not(A).children() == (A,)
