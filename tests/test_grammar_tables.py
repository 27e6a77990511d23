"""The generated parser tables: current, reproducible, and complete for the runtime.

``grammar/flowql.lark`` is the single source of truth; ``flowql/_tables.py`` is generated from it
by ``python -m flowql._generate``. These tests fail when the two disagree, when generation depends
on hash randomization, when a grammar rule has no AST builder, and when a grammar name could leak
into a user-facing message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark

import flowql
import flowql._generate as generate_module
from flowql import _tables
from flowql.codes import CODES
from flowql.syntax import _BUILDERS, _DESCRIPTIONS

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR_TEXT = generate_module.GRAMMAR_PATH.read_text(encoding="utf-8")
LARK = Lark(GRAMMAR_TEXT, parser="lalr", lexer="basic", maybe_placeholders=False)
REGENERATE = "flowql/_tables.py is stale: run `python -m flowql._generate` and commit the result"


def test_generate_reads_the_repository_grammar() -> None:
    assert generate_module.GRAMMAR_PATH == ROOT / "grammar" / "flowql.lark"
    assert generate_module.TABLES_PATH == ROOT / "flowql" / "_tables.py"


def test_committed_tables_are_current() -> None:
    committed = generate_module.TABLES_PATH.read_text(encoding="utf-8")
    # Not `assert a == b`: a diff of two 30 kB files helps nobody; the command does.
    if generate_module.generate() != committed:
        pytest.fail(REGENERATE, pytrace=False)


def test_check_mode_agrees() -> None:
    assert generate_module.main(["--check"]) == 0, REGENERATE


def test_check_mode_reports_stale_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "_tables.py"
    stale.write_text("# stale\n", encoding="utf-8")
    monkeypatch.setattr(generate_module, "TABLES_PATH", stale)
    assert generate_module.main(["--check"]) == 1
    assert "python -m flowql._generate" in capsys.readouterr().err
    assert stale.read_text(encoding="utf-8") == "# stale\n"


def test_generation_does_not_depend_on_hash_seed() -> None:
    code = "import sys, flowql._generate as g; sys.stdout.write(g.generate())"
    committed = generate_module.TABLES_PATH.read_text(encoding="utf-8")
    for seed in ("0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=ROOT,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        if result.stdout != committed:
            pytest.fail(f"PYTHONHASHSEED={seed}: {REGENERATE}", pytrace=False)


def test_tables_were_generated_from_this_grammar() -> None:
    # The same facts, read from Lark directly: a cheap cross-check of the generator itself.
    terminals = {t.name for t in LARK.terminals}
    assert {name for name, _ in _tables.TERMINALS} == terminals
    assert set(LARK.ignore_tokens) == set(_tables.IGNORE)
    assert len(_tables.RULES) == len(LARK.rules)
    assert [r[0] for r in _tables.RULES] == [str(r.origin.name) for r in LARK.rules]
    symbols = {s for row in _tables.STATES for s in row}
    assert symbols <= terminals | {"$END"} | {str(r.origin.name) for r in LARK.rules}


@pytest.mark.parametrize(
    "grammar",
    [
        'start: "a" b\n!b: "b"\n',  # keep_all_tokens
        'start: "a" b\nb: "b"?\n',  # an empty expansion
    ],
)
def test_unsupported_grammar_features_are_refused(grammar: str) -> None:
    with pytest.raises(SystemExit):
        generate_module.generate(grammar)


# --- builders and descriptions ------------------------------------------------------------------


def _tree_names() -> set[str]:
    """Every name a tree can have: for each rule that is not inlined (``_rule``) and does not
    always pass one child through (``?rule`` with a single kept child), its alias or its name."""
    names = set()
    for rule in LARK.rules:
        origin = str(rule.origin.name)
        if origin.startswith("_"):
            continue
        kept = [
            sym for sym in rule.expansion if not (sym.is_term and getattr(sym, "filter_out", False))
        ]
        passes_through = rule.options.expand1 and rule.alias is None and len(kept) == 1
        passes_through = passes_through and not kept[0].name.startswith("_")
        if not passes_through:
            names.add(str(rule.alias or origin))
    return names


def test_every_tree_has_an_ast_builder() -> None:
    names = _tree_names()
    assert names, "no rule names read from the grammar"
    assert names - set(_BUILDERS) == set(), "grammar rules without an AST builder"
    assert set(_BUILDERS) - names == set(), "AST builders for names the grammar does not have"


def test_every_alias_has_an_ast_builder() -> None:
    aliases = {str(rule.alias) for rule in LARK.rules if rule.alias}
    assert aliases
    assert aliases <= set(_BUILDERS)


def test_every_terminal_has_a_description() -> None:
    terminals = {t.name for t in LARK.terminals} | {"$END"}
    assert terminals - set(_DESCRIPTIONS) == set()
    for name, words in _DESCRIPTIONS.items():
        assert words, name
        assert words.strip() == words, name
        for other in terminals:
            assert other not in words, (name, words)


# --- no grammar name reaches the user -----------------------------------------------------------

# At least one input for every syntax error code; none contains a grammar name itself.
BAD_INPUTS = [
    "",
    "   ",
    "# only a comment",
    "a == 'x' @",
    "a == \u2018x\u2019",
    "a == 'x",
    'a == "x',
    "a == 'x\\'",
    "a == 'x\\q'",
    "a == 'x' and",
    "a ==",
    "a",
    "a 'x'",
    "a == 'x' b == 'y'",
    "a == 'x' (b == 'y')",
    "a = 'x'",
    "a <> 'x'",
    "a < 1",
    "a >= 1",
    "a == 1 && b == 2",
    "a == 1 || b == 2",
    "a == 1 & b == 2",
    "a ! 1",
    "a == x",
    "a == Spain",
    "a == 12abc",
    "a in (x, y)",
    "(a == 1",
    "((a == 1) or (b == 2)",
    "a == 1)",
    ")",
    "()",
    "a in ()",
    "a not in ()",
    "a in (1,)",
    "a in (1,,2)",
    "a in 1",
    "a not 1",
    "a not == 1",
    "and a == 1",
    "a == 1 and or b == 2",
    "a == 1 or and b == 2",
    "not",
    "not and a == 1",
    "(and a == 1)",
    "(a == 1 and)",
    "a == 1 not",
    "a == == 1",
    "== 1",
    "1 == a",
    "'a' == 1",
    "true",
    "a == 1 , b == 2",
    "a == 1e999",
    "a == " + "9" * 5000,
    "a.b. == 1",
    "a == -",
    "a ~ 'x'",
    "a == 'x' # fine\n and",
    "a == 'x'\n\n  or\n",
    "not " * 150 + "a == 1",
    "(a == 1 or (b == 2 and " * 60 + "c == 3" + "))" * 60,
]


def _errors() -> list[tuple[str, flowql.FlowQLError]]:
    found = []
    for text in BAD_INPUTS:
        with pytest.raises(flowql.FlowQLError) as info:
            flowql.parse(text)
        found.append((text, info.value))
    with pytest.raises(flowql.LimitError) as info:
        flowql.parse("a == 'x'", max_length=5)
    found.append(("a == 'x'", info.value))
    return found


def test_bad_inputs_cover_every_syntax_code() -> None:
    codes = {err.code for _, err in _errors()}
    # FQ020 is raised by the AST's constructors for trees built in code, never by text.
    syntax = {code for code in CODES if code.startswith("FQ0")} - {"FQ020"}
    assert syntax - codes == set()


@pytest.mark.parametrize("name", sorted({t.name for t in LARK.terminals} | {"$END"}))
def test_no_grammar_name_in_messages(name: str) -> None:
    for text, err in _errors():
        assert name not in text
        for words in (err.message, err.hint or "", err.render(), str(err), repr(err)):
            assert name not in words, (text, words)


def test_no_rule_name_or_internal_object_in_messages() -> None:
    rules = {str(r.origin.name) for r in LARK.rules if "_" in str(r.origin.name)}
    rules |= {str(r.alias) for r in LARK.rules if r.alias and "_" in str(r.alias)}
    for text, err in _errors():
        words = f"{err.message}\n{err.hint or ''}"
        for name in (*rules, "re.Match", "Token(", "Tree(", "None", "Traceback"):
            assert name not in words, (text, words)
