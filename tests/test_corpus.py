"""The conformance corpus: every case in ``grammar/corpus/*.txt`` run through :func:`flowql.parse`.

The file format is documented in ``grammar/corpus/README.md``. In short::

    ==================
    case name
    :attribute          (optional: :escapes, :repeat)
    ==================
    input text
    ---
    expected tree (flowql.ast.dump without spans), or [spans] and the tree with spans,
    or: error FQ006 1:13-1:14  (then optional "message: ..." and "hint: ..." lines)

Each case is two tests: ``test_case`` checks flowql's answer against the expectation, and
``test_lark_agrees`` checks the answer against Lark running ``grammar/flowql.lark`` directly.
The remaining tests check that the corpus covers the language (every error code, operator,
keyword spelling and grammar terminal), that the corpus reader itself works, and that the
example tables in ``docs/language.md`` say what flowql does.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from lark.exceptions import LarkError
from lark_reference import BEYOND_GRAMMAR, lark_expr, lark_parser

import flowql
from flowql.ast import (
    And,
    Comparison,
    Expr,
    In,
    Node,
    Not,
    Number,
    Op,
    Or,
    dump,
    walk,
)
from flowql.codes import CODES

# The corpus covers the grammar, so its codes are the syntax family (FQ0xx); the other families
# are checks of the validator, tested in tests/test_validate.py.
SYNTAX_CODES = sorted(code for code in CODES if code.startswith("FQ0"))

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "grammar" / "corpus"

# The topics the corpus must have, one file each.
TOPICS = (
    "operators",
    "keywords",
    "keys",
    "strings",
    "numbers-and-booleans",
    "membership",
    "precedence",
    "comments-and-whitespace",
    "positions",
    "errors",
    "limits",
)

KEYWORDS = ("AND", "OR", "NOT", "IN", "TRUE", "FALSE")

# --- the corpus format ----------------------------------------------------------------------

_HEADER = re.compile(r"={3,}")
_SEPARATOR = re.compile(r"-{3,}")
_ATTRIBUTE = re.compile(r":([a-z][a-z-]*)")
_ATTRIBUTES = frozenset({"escapes", "repeat"})
_ERROR = re.compile(r"error (FQ\d{3}) (\d+):(\d+)-(\d+):(\d+)")
_REPEAT = re.compile(r'\{\{\s*("(?:[^"\\]|\\.)*")\s*\*\s*(\d+)\s*\}\}')
_NAMED_CHARS = {
    "TAB": "\t",
    "LF": "\n",
    "CR": "\r",
    "FF": "\f",
    "VT": "\v",
    "SP": " ",
    "NBSP": "\u00a0",
    "NUL": "\x00",
}
_ESCAPE = re.compile(r"<(TAB|LF|CR|FF|VT|SP|NBSP|NUL|U\+[0-9A-F]{4,6})>")


class CorpusFormatError(Exception):
    """A corpus file that does not follow the format."""


@dataclass(frozen=True)
class ErrorExpectation:
    """The input must fail with this code and span (``line:column-end_line:end_column``)."""

    code: str
    span: str
    message: str | None
    hint: str | None


@dataclass(frozen=True)
class TreeExpectation:
    """The input must parse, to this ``dump`` (with spans when ``spans``) when ``tree`` is given,
    and print as ``canonical`` when that is given. At least one of the two is."""

    tree: str | None
    spans: bool
    canonical: str | None


@dataclass(frozen=True)
class Case:
    """One corpus case: where it is, its input, and what flowql must make of it."""

    file: str
    name: str
    line: int
    source: str
    expected: ErrorExpectation | TreeExpectation

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"

    @property
    def where(self) -> str:
        return f"grammar/corpus/{self.file}:{self.line}"


def _repeat(text: str, where: str) -> str:
    def repeat(m: re.Match[str]) -> str:
        unit = json.loads(m.group(1))
        assert isinstance(unit, str)
        return unit * int(m.group(2))

    text = _REPEAT.sub(repeat, text)
    if "{{" in text:
        raise CorpusFormatError(f"{where}: a '{{{{' that is not a repetition")
    return text


def _expand(source: str, attributes: set[str], where: str) -> str:
    if "repeat" in attributes:
        source = _repeat(source, where)
    if "escapes" in attributes:

        def named(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("U+"):
                return chr(int(name[2:], 16))
            return _NAMED_CHARS[name]

        source = _ESCAPE.sub(named, source)
    return source


def _expectation(lines: list[str], where: str) -> ErrorExpectation | TreeExpectation:
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise CorpusFormatError(f"{where}: the case has no expectation after '---'")
    error = _ERROR.fullmatch(lines[0])
    if error:
        code, line, column, end_line, end_column = error.groups()
        message = hint = None
        for extra in lines[1:]:
            label, sep, text = extra.partition(": ")
            if sep and label == "message" and message is None:
                message = text
            elif sep and label == "hint" and hint is None:
                hint = text
            else:
                raise CorpusFormatError(
                    f"{where}: after the error line, only one 'message: ' and one 'hint: ' line "
                    f"may follow, not {extra!r}"
                )
        return ErrorExpectation(code, f"{line}:{column}-{end_line}:{end_column}", message, hint)
    if lines[0].startswith("error"):
        raise CorpusFormatError(f"{where}: write errors as 'error FQ000 1:1-1:2', not {lines[0]!r}")
    spans = lines[0] == "[spans]"
    if spans:
        lines = lines[1:]
    canonical = None
    if lines and lines[-1].startswith("format: "):
        canonical = lines.pop()[len("format: ") :]
    if not lines and (spans or canonical is None):
        raise CorpusFormatError(f"{where}: the case has no tree")
    return TreeExpectation("\n".join(lines) if lines else None, spans, canonical)


def parse_corpus(path: Path) -> list[Case]:
    """Read one corpus file into its cases."""
    raw = path.read_bytes().decode("utf-8")
    if "\r" in raw:
        raise CorpusFormatError(f"{path.name}: carriage return in the file; write <CR> instead")
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cases: list[Case] = []
    names: set[str] = set()
    i = 0
    # Free text before the first header describes the file.
    while i < len(lines) and not _HEADER.fullmatch(lines[i]):
        i += 1
    while i < len(lines):
        start = i + 1
        where = f"grammar/corpus/{path.name}:{start}"
        if i + 1 >= len(lines) or not lines[i + 1].strip():
            raise CorpusFormatError(f"{where}: a header without a case name")
        name = lines[i + 1].strip()
        if name in names:
            raise CorpusFormatError(f"{where}: a second case named {name!r}")
        names.add(name)
        i += 2
        attributes: set[str] = set()
        while i < len(lines) and (m := _ATTRIBUTE.fullmatch(lines[i])):
            if m.group(1) not in _ATTRIBUTES:
                raise CorpusFormatError(f"{where}: unknown attribute {lines[i]!r}")
            attributes.add(m.group(1))
            i += 1
        if i >= len(lines) or not _HEADER.fullmatch(lines[i]):
            raise CorpusFormatError(f"{where}: the header of {name!r} is not closed by '==='")
        i += 1
        body_start = i
        while i < len(lines) and not _SEPARATOR.fullmatch(lines[i]):
            i += 1
        if i >= len(lines):
            raise CorpusFormatError(f"{where}: {name!r} has no '---' line")
        source = _expand("\n".join(lines[body_start:i]), attributes, where)
        i += 1
        expected_start = i
        while i < len(lines) and not _HEADER.fullmatch(lines[i]):
            i += 1
        expected_lines = lines[expected_start:i]
        if "repeat" in attributes:
            expected_lines = _repeat("\n".join(expected_lines), where).split("\n")
        expected = _expectation(expected_lines, where)
        cases.append(Case(path.name, name, start, source, expected))
    if not cases:
        raise CorpusFormatError(f"{path.name}: no cases")
    return cases


@functools.lru_cache(maxsize=1)
def load_corpus() -> tuple[Case, ...]:
    cases: list[Case] = []
    for path in sorted(CORPUS.glob("*.txt")):
        cases.extend(parse_corpus(path))
    return tuple(cases)


CASES = load_corpus()

# --- running a case -----------------------------------------------------------------------


def _clip(text: str, limit: int = 300) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(text):,} characters)"


def _describe_error(err: flowql.ParseError) -> str:
    lines = [f"error {err.code} {err.line}:{err.column}-{err.end_line}:{err.end_column}"]
    lines.append(f"message: {err.message}")
    if err.hint is not None:
        lines.append(f"hint: {err.hint}")
    return "\n".join(lines)


def _describe_expected(expected: ErrorExpectation | TreeExpectation) -> str:
    if isinstance(expected, TreeExpectation):
        lines = ["[spans]"] if expected.spans else []
        if expected.tree is not None:
            lines.append(expected.tree)
        if expected.canonical is not None:
            lines.append(f"format: {expected.canonical}")
        return "\n".join(lines)
    lines = [f"error {expected.code} {expected.span}"]
    if expected.message is not None:
        lines.append(f"message: (contains) {expected.message}")
    if expected.hint is not None:
        lines.append(f"hint: (contains) {expected.hint}")
    return "\n".join(lines)


def _fail(case: Case, problem: str, actual: str | None = None) -> None:
    """Fail with the case's name and place, its input, and expected versus actual."""
    lines = [f"{case.id} ({case.where}): {problem}", f"input: {_clip(case.source)}"]
    if actual is not None:
        lines += [
            "--- expected",
            _describe_expected(case.expected),
            "--- actual",
            _clip_lines(actual),
        ]
    pytest.fail("\n".join(lines), pytrace=False)


def _clip_lines(text: str, limit: int = 60) -> str:
    lines = text.split("\n")
    if len(lines) <= limit:
        return text
    return "\n".join([*lines[:limit], f"... ({len(lines) - limit} more lines)"])


def _error_matches(expected: ErrorExpectation, err: flowql.ParseError) -> bool:
    span = f"{err.line}:{err.column}-{err.end_line}:{err.end_column}"
    if (err.code, span) != (expected.code, expected.span):
        return False
    if expected.message is not None and expected.message not in err.message:
        return False
    return expected.hint is None or (err.hint is not None and expected.hint in err.hint)


def _parse(source: str) -> Expr | flowql.ParseError:
    try:
        return flowql.parse(source)
    except flowql.ParseError as err:
        return err


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    """flowql's answer for the case is the corpus's: the same error and span, or the same tree
    and canonical form; and every tree prints to text that parses back to it."""
    expected = case.expected
    result = _parse(case.source)
    if isinstance(result, flowql.ParseError):
        actual = _describe_error(result)
        if isinstance(expected, TreeExpectation):
            _fail(case, "expected a tree, flowql raised an error", actual)
        elif not _error_matches(expected, result):
            _fail(case, "flowql raised a different error", actual)
        return
    spans = isinstance(expected, TreeExpectation) and expected.spans
    if isinstance(expected, ErrorExpectation):
        _fail(case, "expected an error, flowql accepted the input", dump(result, spans=spans))
        return
    if expected.tree is not None:
        actual_tree = dump(result, spans=spans)
        if actual_tree != expected.tree:
            _fail(case, "flowql built a different tree", actual_tree)
    canonical = flowql.format(result)
    if expected.canonical is not None and canonical != expected.canonical:
        _fail(case, "flowql.format printed a different canonical form", f"format: {canonical}")
    again = _parse(canonical)
    if again != result:
        _fail(case, f"the canonical form does not parse back to the same tree: {_clip(canonical)}")


# --- Lark, the reference --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_lark_agrees(case: Case) -> None:
    """Lark, running grammar/flowql.lark itself, accepts what flowql accepts, with the same tree,
    and rejects what flowql rejects, except for the checks flowql makes beyond the grammar."""
    result = _parse(case.source)
    if isinstance(result, flowql.ParseError) and result.code in BEYOND_GRAMMAR:
        return
    try:
        tree = lark_parser().parse(case.source)
    except LarkError as err:
        if not isinstance(result, flowql.ParseError):
            _fail(case, f"flowql accepts the input, Lark rejects it:\n{err}")
        return
    if isinstance(result, flowql.ParseError):
        _fail(case, f"flowql raises {result.code}, Lark accepts the input:\n{tree.pretty()}")
        return
    lark_tree = lark_expr(tree)
    if lark_tree != result:
        _fail(
            case,
            "Lark's tree differs from flowql's\n"
            f"--- Lark\n{_clip_lines(dump(lark_tree, spans=False))}\n"
            f"--- flowql\n{_clip_lines(dump(result, spans=False))}",
        )


# --- coverage -------------------------------------------------------------------------------


def _accepted_sources() -> list[str]:
    return [case.source for case in CASES if isinstance(case.expected, TreeExpectation)]


def _accepted_trees() -> list[Node]:
    # A case that fails to parse is test_case's to report.
    results = (_parse(source) for source in _accepted_sources())
    return [result for result in results if not isinstance(result, flowql.ParseError)]


def test_every_topic_has_a_file() -> None:
    files = {case.file for case in CASES}
    missing = [topic for topic in TOPICS if f"{topic}.txt" not in files]
    assert not missing, f"no corpus file for: {', '.join(missing)}"


def test_the_format_is_documented() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for word in ("[spans]", ":escapes", ":repeat", "error FQ", "message: ", "hint: ", "format: "):
        assert word in readme, f"grammar/corpus/README.md does not explain {word!r}"


def test_every_code_has_an_error_case() -> None:
    covered = {case.expected.code for case in CASES if isinstance(case.expected, ErrorExpectation)}
    # FQ020 is raised by the AST's constructors for trees built in code, never by text.
    missing = sorted(set(SYNTAX_CODES) - covered - {"FQ020"})
    assert not missing, f"no corpus case raises {', '.join(missing)}"
    unknown = sorted(covered - set(SYNTAX_CODES))
    assert not unknown, f"the corpus expects codes that flowql.codes does not list: {unknown}"


def _form(node: Node) -> str:
    """What a node shows of the language: its operator, or its kind of value."""
    if isinstance(node, Comparison):
        return node.op.value
    if isinstance(node, In):
        return "NOT IN" if node.negated else "IN"
    if isinstance(node, (And, Or, Not)):
        return type(node).__name__.upper()
    if isinstance(node, Number):
        return type(node.value).__name__
    return type(node).__name__


def test_every_operator_and_value_type_has_a_case() -> None:
    forms = {_form(node) for tree in _accepted_trees() for node in walk(tree)}
    wanted = [op.value for op in Op] + ["IN", "NOT IN", "NOT", "AND", "OR"]
    wanted += ["Key", "String", "int", "float", "Boolean"]
    missing = [form for form in wanted if form not in forms]
    assert not missing, f"no accepted corpus case has {missing}"


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_keyword_in_every_case(keyword: str) -> None:
    """Each keyword appears in an accepted case in lower, upper and mixed case."""
    spellings = {
        token.text
        for source in _accepted_sources()
        for token in flowql.tokenize(source)
        if token.kind == keyword
    }
    assert keyword.lower() in spellings, f"{keyword.lower()!r} is not in an accepted case"
    assert keyword in spellings, f"{keyword!r} is not in an accepted case"
    mixed = spellings - {keyword.lower(), keyword}
    assert mixed, f"no accepted case spells {keyword} in mixed case (as {keyword.title()!r})"


def test_every_terminal_appears_in_an_accepted_case() -> None:
    terminals = {terminal.name.lstrip("_") for terminal in lark_parser().terminals}
    seen = {token.kind for source in _accepted_sources() for token in flowql.tokenize(source)}
    missing = sorted(terminals - seen)
    assert not missing, f"no accepted corpus case has a {', '.join(missing)} token"


def test_parser_for_the_corpus_rejects_malformed_files(tmp_path: Path) -> None:
    bad = {
        "no-separator.txt": "===\nname\n===\na == 'x'\n",
        "no-name.txt": "===\n\n===\na == 'x'\n---\nComparison ==\n",
        "unknown-attribute.txt": "===\nname\n:fast\n===\na\n---\nerror FQ005 1:2-1:2\n",
        "bad-error-line.txt": "===\nname\n===\na\n---\nerror FQ5 at 1:2\n",
        "duplicate.txt": "===\nx\n===\na\n---\nerror FQ005 1:2-1:2\n" * 2,
        "stray-line.txt": "===\nx\n===\na\n---\nerror FQ005 1:2-1:2\nmessage; x\n",
        "crlf.txt": "===\nx\n===\na\r\n---\nerror FQ005 1:2-1:2\n",
    }
    for name, text in bad.items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        with pytest.raises(CorpusFormatError):
            parse_corpus(path)


def test_parser_for_the_corpus_expands_inputs(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_text(
        "Preamble text.\n"
        "===\nrepeat and escapes\n:repeat\n:escapes\n===\n"
        "{{\"NOT \" * 2}}a<TAB>==<SP>'<U+00E9>'\n---\n"
        "[spans]\nNot 1:1-1:13\nformat: NOT NOT a == 'é'\n\n"
        "===\ntrailing newline kept\n===\na\n\n---\nerror FQ005 1:2-1:2\nhint: use ==\n",
        encoding="utf-8",
    )
    first, second = parse_corpus(path)
    assert first.source == "NOT NOT a\t== '\u00e9'"
    assert first.expected == TreeExpectation("Not 1:1-1:13", True, "NOT NOT a == 'é'")
    assert second.source == "a\n"
    assert second.expected == ErrorExpectation("FQ005", "1:2-1:2", None, "use ==")
    assert (first.line, second.line) == (2, 13)


# --- the language reference's examples ----------------------------------------------------------

LANGUAGE_DOC = ROOT / "docs" / "language.md"


def _markdown_table(header: str) -> list[list[str]]:
    """The rows of the table in docs/language.md whose header row starts with ``header``."""
    lines = LANGUAGE_DOC.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([cell.strip() for cell in cells])
    return rows


def _code(cell: str) -> str | None:
    """The text of a cell that is one code span, or None."""
    m = re.fullmatch(r"`([^`]+)`", cell)
    return m.group(1).replace("\\|", "|") if m else None


def test_language_reference_error_table() -> None:
    """Each row of the error table in docs/language.md is what flowql says for its example."""
    rows = _markdown_table("| Code | Name | Example |")
    # FQ020 is raised by the AST's constructors for trees built in code: no text has it.
    assert [row[0] for row in rows] == [c for c in SYNTAX_CODES if c != "FQ020"]
    checked = 0
    for code, name, example, position, message, hint in rows:
        assert name == CODES[code].name, f"{code}: the name is {CODES[code].name}"
        source = _code(example)
        if source is None or "..." in source:
            continue  # the long inputs of FQ016 and FQ017, described in words
        result = _parse(source)
        assert isinstance(result, flowql.ParseError), f"{code}: {source!r} parses"
        actual = (
            result.code,
            f"{result.line}:{result.column}-{result.end_line}:{result.end_column}",
            result.message,
            result.hint,
        )
        assert actual == (code, position, _code(message), _code(hint)), f"{code}: {source!r}"
        checked += 1
    assert checked == len(SYNTAX_CODES) - 3  # FQ016, FQ017 in words; FQ020 has no text


def test_language_reference_canonical_forms() -> None:
    """The canonical form table in docs/language.md is what flowql.format prints."""
    rows = _markdown_table("| Input | Canonical form |")
    assert rows
    for source, canonical in rows:
        text, expected = _code(source), _code(canonical)
        assert text is not None
        assert expected is not None
        assert flowql.format(flowql.parse(text)) == expected, text


def test_language_reference_precedence_examples() -> None:
    """Each 'You write' example in docs/language.md means its 'It means' counterpart."""
    rows = _markdown_table("| You write | It means |")
    pairs = [(_code(a), _code(b)) for a, b in rows]
    checked = 0
    for text, meaning in pairs:
        if text is not None and meaning is not None:
            assert flowql.parse(text) == flowql.parse(meaning), text
            checked += 1
    assert checked >= 4


def test_language_reference_common_mistakes() -> None:
    """Each example in the common mistakes table of docs/language.md raises the code it names."""
    rows = _markdown_table("| Mistake | Example | Code |")
    checked = 0
    for _, examples, code in rows:
        # Code spans before any remark in parentheses are inputs.
        for example in re.findall(r"`((?:[^`\\]|\\.)+)`", examples.split(" (")[0]):
            result = _parse(example.replace("\\|", "|"))
            assert isinstance(result, flowql.ParseError), f"{example!r} parses"
            assert result.code == code, f"{example!r} raises {result.code}, not {code}"
            checked += 1
    assert checked >= len(rows)
