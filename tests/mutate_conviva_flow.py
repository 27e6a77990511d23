"""A pytest plugin that changes the meaning of one operator in flowql, for the mutation check
in tests/test_conviva_mutation.py.

``FLOWQL_MUTATE_CONVIVA_FLOW`` says what to change:

- ``"target != =="``: the conviva-flow target sends every ``!=`` comparison as ``==`` (any two
  of ``==`` ``!=`` ``~~`` ``!~``; ``AND OR`` or ``OR AND`` for the connectives);
- ``"parser == !="``: flowql's parser reads each of the two operators as the other. A server
  reading filters with flowql's parser misreads what it is sent the same way, so the mistake
  cancels out on every comparison the user wrote (the sandbox did, before it had its own
  reader: of the ten cases only the one with ``IN``, which the target lowers to ``==`` itself,
  failed); an independent reading sees it at once.

Without the variable the plugin changes nothing, so the same command is the control run. At the
end it prints how many nodes it changed, so that a failure can be told from a mutation that
never ran.
"""

from __future__ import annotations

import os

import pytest

from flowql.ast import And, Comparison, Expr, Op, Or

VARIABLE = "FLOWQL_MUTATE_CONVIVA_FLOW"
_OPS = {op.value: op for op in Op}
_changed = 0


def mutate(expr: Expr, source: str, target: str) -> Expr:
    """``expr`` (a lowered tree: comparisons, AND, OR) with ``source`` written as ``target``."""
    global _changed
    if isinstance(expr, Comparison):
        if expr.op.value != source:
            return expr
        _changed += 1
        return Comparison(expr.key, _OPS[target], expr.value, span=expr.span)
    if isinstance(expr, (And, Or)):
        operands = [mutate(e, source, target) for e in expr.operands]
        kind = "AND" if isinstance(expr, And) else "OR"
        if kind == source:
            _changed += 1
            kind = target
        return (And if kind == "AND" else Or)(*operands, span=expr.span)
    return expr


class _Swapped(dict[str, Op]):
    """The parser's table of operators with two of them swapped, counting each use."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(_OPS)
        self[first], self[second] = _OPS[second], _OPS[first]
        self.swapped = {first, second}

    def __getitem__(self, key: str) -> Op:
        global _changed
        _changed += key in self.swapped
        return super().__getitem__(key)


def pytest_configure(config: pytest.Config) -> None:
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    where, source, target = [*spec.split(" "), "", "", ""][:3]
    known = {*_OPS, "AND", "OR"} if where == "target" else set(_OPS)
    if where not in ("target", "parser") or source not in known or target not in known:
        raise pytest.UsageError(f"{VARIABLE}: {spec!r} is not 'target|parser OP OP'")
    patch = pytest.MonkeyPatch()
    if where == "parser":
        from flowql import syntax

        patch.setattr(syntax, "_OPS", _Swapped(source, target))
        return
    from flowql.formatter import format as real_format
    from flowql.targets import conviva_flow

    # compile_filter lowers the tree (IN expanded, NOT pushed down) and prints it with
    # `format`: the mutation sits between the two, so it changes what is sent and nothing else.
    def mutated_format(expr: Expr) -> str:
        return real_format(mutate(expr, source, target))

    patch.setattr(conviva_flow, "format", mutated_format)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get(VARIABLE):
        terminalreporter.write_line(f"conviva-flow mutation: {_changed} nodes changed")
