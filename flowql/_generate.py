"""Generate flowql's parser tables from ``grammar/flowql.lark``.

The grammar is the single source of truth for FlowQL's syntax. This module asks Lark to compile it
(LALR(1), basic lexer) and writes what the runtime needs as plain data to ``flowql/_tables.py``:
the lexer's terminals in Lark's own matching order, the parse table, and one record per rule that
says how Lark would build the tree for it. The runtime (``flowql.syntax``) then parses without
importing Lark, which keeps ``flowql`` quick to start.

Run ``python -m flowql._generate`` after editing the grammar; ``--check`` exits 1 when the tables
file is out of date (a test does the same). Lark is needed here only, as a development dependency.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR_PATH = ROOT / "grammar" / "flowql.lark"
TABLES_PATH = Path(__file__).resolve().parent / "_tables.py"

HEADER = '''\
"""FlowQL parser tables, generated from grammar/flowql.lark. Do not edit.

Regenerate with ``python -m flowql._generate``; a test fails when this file is stale.
"""

# ruff: noqa: E501
'''


def _terminal_order(terminals: list[Any]) -> list[Any]:
    # The order of Lark's BasicLexer, so that the first alternative that matches is the one Lark
    # would pick: higher priority first, then longer patterns, then by name.
    return sorted(
        terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )


def generate(grammar_text: str | None = None) -> str:
    """Return the text of ``_tables.py`` for the grammar (by default the repository's grammar)."""
    from lark import Lark
    from lark.grammar import NonTerminal
    from lark.parsers.lalr_analysis import Shift

    if grammar_text is None:
        grammar_text = GRAMMAR_PATH.read_text(encoding="utf-8")
    lark = Lark(grammar_text, parser="lalr", lexer="basic", maybe_placeholders=False)
    table = lark.parser.parser.parser.parse_table

    rules = list(lark.rules)
    rule_index = {id(rule): i for i, rule in enumerate(rules)}
    rule_records = []
    for rule in rules:
        if rule.options.keep_all_tokens or rule.options.empty_indices or not rule.expansion:
            raise SystemExit(
                f"grammar rule {rule.origin.name!r} uses a feature flowql's parser does not "
                "support (keep_all_tokens, [optional] placeholders or an empty expansion)"
            )
        keep = tuple(
            (i, isinstance(sym, NonTerminal) and sym.name.startswith("_"))
            for i, sym in enumerate(rule.expansion)
            if not (sym.is_term and getattr(sym, "filter_out", False))
        )
        origin = str(rule.origin.name)
        inline = origin.startswith("_")
        expand1 = bool(rule.options.expand1) and rule.alias is None
        name = None if inline else str(rule.alias or origin)
        rule_records.append((origin, len(rule.expansion), keep, name, expand1, inline))

    # Lark numbers states in an order that may depend on hashing; renumber them breadth-first from
    # the start state over sorted symbols so that the generated file is the same on every run.
    start = table.start_states["start"]
    order = {start: 0}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            if action is Shift and arg not in order:
                order[arg] = len(order)
                queue.append(arg)
    states = []
    for state in sorted(order, key=order.__getitem__):
        row = {}
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            row[str(symbol)] = order[arg] if action is Shift else -(rule_index[id(arg)] + 1)
        states.append(row)

    terminals = _terminal_order(list(lark.terminals))
    lines = [HEADER]
    lines.append("# (name, regular expression) in the order the lexer tries them.")
    lines.append("TERMINALS: tuple[tuple[str, str], ...] = (")
    for t in terminals:
        lines.append(f"    ({str(t.name)!r}, {t.pattern.to_regexp()!r}),")
    lines.append(")")
    lines.append(f"IGNORE: frozenset[str] = frozenset({sorted(lark.ignore_tokens)!r})")
    lines.append("")
    lines.append("# Per rule: (result symbol, length, kept children as (index, is an inlined")
    lines.append("# rule), tree name or None, expand a single child, inline into the parent).")
    rule_type = "tuple[str, int, tuple[tuple[int, bool], ...], str | None, bool, bool]"
    lines.append(f"RULES: tuple[{rule_type}, ...] = (")
    for record in rule_records:
        lines.append(f"    {record!r},")
    lines.append(")")
    lines.append("")
    lines.append("# Per state: symbol -> action; n >= 0 shifts (or goes) to state n, n < 0 reduces")
    lines.append("# by rule -n - 1.")
    lines.append("STATES: tuple[dict[str, int], ...] = (")
    for row in states:
        lines.append(f"    {row!r},")
    lines.append(")")
    lines.append("START_STATE = 0")
    lines.append(f"END_STATE = {order[table.end_states['start']]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) ``flowql/_tables.py``."""
    parser = argparse.ArgumentParser(prog="python -m flowql._generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the tables are stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = TABLES_PATH.read_text(encoding="utf-8") if TABLES_PATH.exists() else ""
        if current != text:
            print(f"{TABLES_PATH} is stale: run python -m flowql._generate", file=sys.stderr)
            return 1
        return 0
    TABLES_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {TABLES_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
