"""Every example in README.md and docs/**/*.md runs as written, and shows what it does.

The test reads every fenced code block of the pages and makes one test per example, named by
the page and its line (``docs/check.md:97``: the opening fence of a Python block, the ``$`` line
of a command), so that a failure says where to look.

Python: ```python blocks
    The blocks of a page run in page order, in one namespace per page, in the page's working
    directory (below), with no API credentials in the environment. A block whose first line
    starts with ``>>>`` is a doctest (with ELLIPSIS). In any other block, comments that show a
    result are compared with it:

    - ``EXPR  # REPR`` on the last line of a top-level expression statement, or comment lines
      right after it at its indentation: ``repr(EXPR)`` must be REPR. Such comment lines are
      joined with single spaces, so a long repr may wrap after a comma.
    - ``print(...)  # TEXT``, a print call on one line: each time it runs, it prints TEXT.
    - comment lines right after any other statement, at its indentation (after a ``for`` loop
      that prints, say): what the print calls inside it printed, line by line.

    A comment after a blank line, or at another indentation, is just a comment. In the
    expected text ``...`` matches any text, and a remark in parentheses after two or more
    spaces is left out: ``# ['FQ101']   (device_os is not a dimension ...)``.

Commands: ```sh, ```console and untagged blocks
    A line ``$ flowql ARGS`` in a console or untagged block, or a line ``flowql ARGS`` in an sh
    block, runs ``flowql ARGS`` (split by :func:`shlex.split`; a line that ends in ``\\`` goes
    on on the next) in the page's working directory, with every ``CONVIVA_*``, ``KLAVIYO_*``
    and ``FLOWXO_*`` variable removed from the environment, so that ``flowql query`` answers
    from its built-in sandbox. ``< FILE`` and ``> FILE`` redirect its standard input and output
    as a shell would. Each command runs ``flowql.cli.main(ARGS)`` in a fresh process, forked
    from a Python that has imported flowql already (on Linux; elsewhere ``python -m flowql
    ARGS``). The commands of a page run in page order; the pages run side by side.

    The lines after a ``$`` line, up to the next one, are its output: they must match stdout
    and stderr as a terminal shows them (interleaved in the order they were written), with
    trailing white space and trailing blank lines left out. A command shown without output
    must exit 0. In expected output ``...`` matches any text, a line that is only ``...`` any
    number of lines, and two things that vary from run to run match by their shape: the port
    in ``127.0.0.1:PORT`` (a sandbox listens on a free one), and a date-time that the command
    line does not hold (one flowql worked out from the clock, such as ``start at
    2026-11-15T12:00:00Z or later``).

    Besides ``flowql``, two shell lines do what a shell would: ``mkdir -p DIR...``, and
    ``export NAME=VALUE...`` (for the rest of its block). ``http://127.0.0.1:8787``, where
    ``flowql sandbox`` listens, stands in a command for a sandbox the test serves, for the
    examples that use one started "in another terminal".

The working directory of a page
    A fresh directory with the files the page shows, written before its examples run: a
    block whose info string has ``title="NAME"`` (```flowql title="premium.flowql"), a ```toml
    block whose first line is ``# NAME`` (``# queries.toml``) and the lines shown after
    ``$ cat NAME`` are the file NAME; and copies of the repository's files and directories that
    its commands name (``examples/filters/``).

What does not run, by rule
    - blocks in other languages: ```toml, ```yaml and the like (configuration, CI files);
    - untagged and console blocks without a ``$`` line: filters, grammar, synopses, output;
    - sh blocks that do not run flowql (``curl``, ``pygmentize``: other programs), and those
      that start with ``pip install`` (installing; tests/test_project.py runs the flowql half
      of the quick start);
    - ``flowql repl`` without ``< FILE`` (an interactive session) and ``flowql sandbox`` (a
      server that runs until Ctrl-C): what the pages show of them is captured from a terminal.

    Any other block that cannot run as written says so with an HTML comment on the line
    before it, ``<!-- docs-test: skip (REASON) -->``; without one, a line the test cannot run
    fails. ``test_skip_markers`` counts the markers (``SKIPS``), so that a new one is a
    decision, not an accident. Nothing here calls ``pytest.skip``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import difflib
import doctest
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tokenize
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flowql.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    path.relative_to(ROOT).as_posix()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
]

SKIPS = 1
"""How many blocks carry a ``docs-test: skip`` marker (see ``test_skip_markers``)."""

SHELLS = {"sh", "shell", "bash", "console", ""}
SECRETS = ("CONVIVA_", "KLAVIYO_", "FLOWXO_")
SANDBOX_ADDRESS = "127.0.0.1:8787"
TIMEOUT = 120.0
FORK = sys.platform.startswith("linux")  # fork without exec is safe there, with httpx loaded

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)(?P<info>[^`]*)$")
_TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<what>.*?)\s*-->\s*$")
_SKIP = re.compile(r"^skip \((?P<reason>.+)\)$")
_REMARK = re.compile(r"\s{2,}\(.*\)\s*$")
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})"
_PORT = r"127\.0\.0\.1:\d+"


# --- the blocks of a page -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Block:
    """A fenced code block: its page, the line of its opening fence, its language, its lines
    (without the fence's indentation) and the reason of a skip marker before it."""

    page: str
    line: int
    lang: str
    lines: tuple[str, ...]
    skip: str | None
    title: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced code blocks of a page, in order."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body = tuple(_dedent(line, indent) for line in lines[i + 1 : j])
        before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = _MARKER.match(before)
        what = marker["what"] if marker else None
        skip = _SKIP.match(what) if what else None
        title = _TITLE.search(opening["info"])
        found.append(
            Block(
                page,
                i + 1,
                opening["lang"],
                body,
                skip["reason"] if skip else None,
                title["title"] if title else None,
            )
        )
        i = j + 1
    return found


def _dedent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def markers(page: str) -> list[tuple[int, str]]:
    """Every ``docs-test`` marker of a page: its line and what it says."""
    text = (ROOT / page).read_text(encoding="utf-8").splitlines()
    return [(n, m["what"]) for n, line in enumerate(text, 1) if (m := _MARKER.match(line))]


# --- examples -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PythonExample:
    """A ```python block: the ``index``-th of its page."""

    block: Block
    index: int

    @property
    def id(self) -> str:
        return self.block.id


@dataclasses.dataclass(frozen=True)
class Command:
    """A ``flowql`` command as a page shows it, or a line that cannot run (``problem``)."""

    page: str
    line: int
    text: str
    argv: tuple[str, ...] = ()
    expected: tuple[str, ...] | None = None
    stdin: str | None = None
    stdout: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    problem: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


@dataclasses.dataclass(frozen=True)
class MakeDirs:
    """``mkdir -p PATH...``: a step of a page's commands that is no example of its own."""

    paths: tuple[str, ...]


Step = Command | MakeDirs


@dataclasses.dataclass
class Page:
    """What a page holds: its Python blocks, its command steps, and the files it shows."""

    name: str
    python: list[PythonExample] = dataclasses.field(default_factory=list)
    steps: list[Step] = dataclasses.field(default_factory=list)
    files: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def commands(self) -> list[Command]:
        return [step for step in self.steps if isinstance(step, Command)]


def _sh_lines(block: Block) -> list[tuple[int, str]]:
    """The commands of an sh block, each with its page line: ``\\`` continuations joined,
    blank lines and comments left out."""
    found: list[tuple[int, str]] = []
    going_on = False
    for number, line in enumerate(block.lines, block.line + 1):
        if going_on:
            found[-1] = (found[-1][0], found[-1][1][:-1].rstrip() + " " + line.strip())
        elif line.strip() and not line.lstrip().startswith("#"):
            found.append((number, line.strip()))
        going_on = bool(found) and found[-1][1].endswith("\\")
    return found


def _console(block: Block) -> list[tuple[int, str, list[str]]]:
    """The ``$`` lines of a console block, each with its page line and the output after it."""
    found: list[tuple[int, str, list[str]]] = []
    going_on = False
    for number, line in enumerate(block.lines, block.line + 1):
        if going_on:
            found[-1] = (found[-1][0], found[-1][1][:-1].rstrip() + " " + line.strip(), [])
        elif line.startswith("$ "):
            found.append((number, line[2:].strip(), []))
        elif found:
            found[-1][2].append(line.rstrip())
        going_on = bool(found) and not found[-1][2] and found[-1][1].endswith("\\")
    return found


_SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">>", "2>", "2>&1", "<<"}


def _step(page: str, number: int, text: str, env: dict[str, str]) -> Step | None:
    """What one shell line of a page does: a command to run, a step, or None for a line that
    runs nothing here (``export``, which updates ``env``, and the commands that run until
    stopped)."""
    try:
        argv = shlex.split(text, comments=True)
    except ValueError as exc:
        return Command(page, number, text, problem=f"cannot split the line: {exc}")
    if not argv:
        return None
    if argv[0] == "export":
        env.update(assignment.partition("=")[::2] for assignment in argv[1:])
        return None
    if argv[:2] == ["mkdir", "-p"]:
        return MakeDirs(tuple(argv[2:]))
    mark = "mark the block with <!-- docs-test: skip (REASON) -->"
    if argv[0] != "flowql":
        return Command(page, number, text, problem=f"`{argv[0]}` does not run here: {mark}")
    if operators := _SHELL_OPERATORS.intersection(argv):
        return Command(page, number, text, problem=f"{sorted(operators)} needs a shell: {mark}")
    args = argv[1:]
    files: dict[str, str] = {}
    for symbol in ("<", ">"):
        if symbol in args:
            at = args.index(symbol)
            if at + 1 >= len(args):
                return Command(page, number, text, problem=f"`{symbol}` names no file")
            files[symbol] = args[at + 1]
            del args[at : at + 2]
    if args[:1] == ["sandbox"] or (args[:1] == ["repl"] and "<" not in files):
        return None  # a server, or an interactive session: what the page shows is a capture
    return Command(
        page,
        number,
        text,
        tuple(args),
        stdin=files.get("<"),
        stdout=files.get(">"),
        env=tuple(env.items()),
    )


def read_page(name: str, *, skips: bool = True) -> Page:
    """The examples of a page (see the module's docstring for what runs); with ``skips``
    False, also those of the blocks a marker skips."""
    page = Page(name)
    for block in blocks(name):
        if block.skip is not None and skips:
            continue
        if block.title is not None:
            page.files[block.title] = "\n".join(block.lines) + "\n"
        elif block.lang == "python":
            page.python.append(PythonExample(block, len(page.python)))
        elif block.lang == "toml" and block.lines and re.fullmatch(r"# \S+", block.lines[0]):
            page.files[block.lines[0][2:]] = "\n".join(block.lines) + "\n"
        elif block.lang in SHELLS and any(line.startswith("$ ") for line in block.lines):
            env: dict[str, str] = {}
            for number, text, output in _console(block):
                while output and not output[-1]:
                    output.pop()
                words = text.split()
                if len(words) == 2 and words[0] == "cat":
                    page.files[words[1]] = "".join(line + "\n" for line in output)
                    continue
                step = _step(name, number, text, env)
                if isinstance(step, Command) and step.problem is None and output:
                    step = dataclasses.replace(step, expected=tuple(output))
                if step is not None:
                    page.steps.append(step)
        elif block.lang in ("sh", "shell", "bash"):
            lines = _sh_lines(block)
            if not lines or lines[0][1].startswith("pip install"):
                continue  # installing
            if not any(text.split()[0] == "flowql" for _, text in lines):
                continue  # other programs
            env = {}
            for number, text in lines:
                step = _step(name, number, text, env)
                if step is not None:
                    page.steps.append(step)
    return page


READ = {name: read_page(name) for name in PAGES}
PYTHON = [example for page in READ.values() for example in page.python]
COMMANDS = [command for page in READ.values() for command in page.commands]


# --- comparing what was shown with what happened --------------------------------------------------


def _line_pattern(expected: str, command: str = "") -> re.Pattern[str]:
    """A line of expected text as a pattern: ``...`` matches anything; with a ``command``,
    ports of 127.0.0.1 and date-times the command does not contain match by their shape."""
    parts: list[str] = []
    special = rf"\.\.\.|{_DATETIME}|{_PORT}" if command else r"\.\.\."
    at = 0
    for found in re.finditer(special, expected):
        parts.append(re.escape(expected[at : found.start()]))
        text = found.group()
        if text == "...":
            parts.append(".*")
        elif re.fullmatch(_PORT, text):
            parts.append(_PORT)
        elif text in command:
            parts.append(re.escape(text))
        else:
            parts.append(_DATETIME)
        at = found.end()
    parts.append(re.escape(expected[at:]))
    return re.compile("".join(parts))


def matches(expected: list[str], actual: list[str], command: str = "") -> bool:
    """Whether ``actual`` lines are what ``expected`` shows (a line ``...``: any lines)."""
    patterns = [None if e.strip() == "..." else _line_pattern(e, command) for e in expected]
    # reach[j]: the first i expected lines can match the first j actual lines.
    reach = [True] + [False] * len(actual)
    for pattern in patterns:
        new = [False] * (len(actual) + 1)
        for j in range(len(actual) + 1):
            if pattern is None:
                new[j] = reach[j] or (j > 0 and new[j - 1])
            else:
                new[j] = j > 0 and reach[j - 1] and pattern.fullmatch(actual[j - 1]) is not None
        reach = new
    return reach[len(actual)]


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _diff(expected: list[str], actual: list[str]) -> str:
    return "\n".join(
        difflib.unified_diff(expected, actual, "shown in the page", "what it printed", lineterm="")
    )


# --- the working directory of a page --------------------------------------------------------------


class Workdirs:
    """One fresh directory per page, made on first use (from any thread)."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._made: dict[str, Path] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Path:
        with self._lock:
            if name not in self._made:
                self._made[name] = self._make(READ[name])
            return self._made[name]

    def _make(self, page: Page) -> Path:
        directory = self._base / re.sub(r"[^\w.-]", "_", page.name)
        directory.mkdir(parents=True)
        for command in page.commands:
            for token in command.argv:
                self._copy(token.split("=", 1)[-1] if token.startswith("-") else token, directory)
        for path, text in page.files.items():
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return directory

    @staticmethod
    def _copy(token: str, directory: Path) -> None:
        if not token or token == "." or token.startswith(("/", "-")) or ".." in token:
            return
        source = ROOT / token
        try:
            exists = source.exists()
        except (OSError, ValueError):
            return
        if not exists:
            return
        target = directory / token
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


# --- Python blocks --------------------------------------------------------------------------------


class PythonPages:
    """Runs the Python blocks of each page in order, once each, in one namespace per page."""

    def __init__(self, workdirs: Workdirs) -> None:
        self._workdirs = workdirs
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._done: dict[str, int] = {}
        self._failed: dict[str, tuple[PythonExample, str]] = {}  # by page: a block, its error

    def run(self, example: PythonExample, monkeypatch: pytest.MonkeyPatch) -> None:
        """Run ``example``, and first the blocks before it that have not run, in the page's
        working directory; raise if it, or a block before it, failed."""
        page = example.block.page
        monkeypatch.chdir(self._workdirs(page))
        for name in list(os.environ):
            if name.startswith(SECRETS):
                monkeypatch.delenv(name)
        namespace = self._namespaces.setdefault(page, {"__name__": "__docs__"})
        while self._done.get(page, 0) <= example.index and page not in self._failed:
            block = READ[page].python[self._done.get(page, 0)]
            self._done[page] = block.index + 1
            try:
                run_block(block.block, namespace)
            except BaseException as exc:
                self._failed[page] = (block, f"{type(exc).__name__}: {exc}")
                if block is example:
                    raise
        if page in self._failed:
            failed, error = self._failed[page]
            if failed is example:
                raise AssertionError(f"{example.id} failed when a later block ran it: {error}")
            if failed.index < example.index:
                raise AssertionError(f"{failed.id}, an earlier block of the page, failed: {error}")


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    """Run a Python block in ``namespace``, checking the results its comments show."""
    text = "\n".join(block.lines) + "\n"
    filename = str(ROOT / block.page)
    if text.lstrip().startswith(">>>"):
        _run_doctest(block, text, namespace)
        return
    # Padded so that line numbers are the page's, in tracebacks as in the checks.
    source = "\n" * block.line + text
    tree = ast.parse(source, filename)
    comments = _comments(source)
    printed: list[tuple[int, str]] = []
    namespace["print"] = _recorder(filename, printed)
    problems: list[str] = []
    for statement in tree.body:
        before = len(printed)
        if isinstance(statement, ast.Expr) and not _is_print(statement.value):
            code = compile(ast.Expression(statement.value), filename, "eval")
            value = eval(code, namespace)
            end = statement.end_lineno or statement.lineno
            inline = comments.get(end)
            for shown in (
                _shown_after(comments, statement),
                [inline[2]] if inline and inline[1] else None,
            ):
                if shown is not None:
                    _check(problems, end, " ".join(shown), repr(value))
        else:
            exec(compile(ast.Module([statement], []), filename, "exec"), namespace)
        run = printed[before:]
        for node in ast.walk(statement):
            if isinstance(node, ast.stmt):
                _check_printed(problems, node, statement, comments, run)
    if problems:
        raise AssertionError("\n".join(problems))


def _check_printed(
    problems: list[str],
    node: ast.stmt,
    top: ast.stmt,
    comments: dict[int, tuple[int, bool, str]],
    printed: list[tuple[int, str]],
) -> None:
    """Check what ``node`` (a statement in the top-level ``top``) printed against its comments:
    a print call's own comment, or the comment lines right after the statement."""
    first, last = node.lineno, node.end_lineno or node.lineno
    inline = comments.get(last)
    is_print = isinstance(node, ast.Expr) and _is_print(node.value)
    if is_print and first == last and inline is not None and inline[1]:
        outputs = [text for line, text in printed if line == first]
        if not outputs:
            problems.append(f"line {first}: the print never ran")
        for output in outputs:
            _check(problems, first, inline[2], output.removesuffix("\n"))
    shown = _shown_after(comments, node)
    if shown is None or (node is top and isinstance(node, ast.Expr) and not is_print):
        return
    if isinstance(node, ast.Expr) and not is_print:
        problems.append(f"line {last}: a comment after a nested expression is not checked")
        return
    output = "".join(text for line, text in printed if first <= line <= last)
    _check(problems, last, "\n".join(shown), output.rstrip("\n"))


def _check(problems: list[str], line: int, expected: str, actual: str) -> None:
    expected = _REMARK.sub("", expected)
    if not matches(expected.splitlines(), actual.splitlines()):
        problems.append(f"line {line}: the page shows\n  {expected}\nbut it is\n  {actual}")


def _comments(source: str) -> dict[int, tuple[int, bool, str]]:
    """The comments of a source by line: their column, whether code comes before them on the
    line, and their text."""
    found: dict[int, tuple[int, bool, str]] = {}
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            inline = bool(lines[row - 1][:column].strip())
            found[row] = (column, inline, token.string[1:].strip())
    return found


def _shown_after(comments: dict[int, tuple[int, bool, str]], node: ast.stmt) -> list[str] | None:
    """The comment lines right after a statement, at its indentation: what it shows."""
    shown: list[str] = []
    row = (node.end_lineno or node.lineno) + 1
    while row in comments and comments[row][:2] == (node.col_offset, False):
        shown.append(comments[row][2])
        row += 1
    return shown or None


def _is_print(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )


def _recorder(filename: str, printed: list[tuple[int, str]]) -> Callable[..., None]:
    """A ``print`` that also keeps what it printed, by the line of the block that called it."""

    def record(*values: object, sep: str | None = " ", end: str | None = "\n", **kw: Any) -> None:
        frame = sys._getframe(1)
        if frame.f_code.co_filename == filename and kw.get("file") in (None, sys.stdout):
            text = (" " if sep is None else sep).join(str(v) for v in values)
            printed.append((frame.f_lineno, text + ("\n" if end is None else end)))
        print(*values, sep=sep, end=end, **kw)

    return record


def _run_doctest(block: Block, text: str, namespace: dict[str, Any]) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, namespace, block.id, str(ROOT / block.page), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    runner.run(test, out=report.write, clear_globs=False)
    if runner.failures:
        raise AssertionError(report.getvalue())


# --- commands -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a command did: its exit code and what it printed, as a terminal shows it."""

    code: int
    output: str


# A Python that has imported flowql and what its commands load, and runs each command it is sent
# in a child of its own: ``flowql.cli.main(ARGS)`` in a fresh process, as ``python -m flowql
# ARGS`` would run it, without paying for the interpreter and the imports every time.
_FORKSERVER = r"""
import importlib, json, os, signal, sys, traceback
from flowql.cli import main
for name in ("flowql.client", "flowql.client.conviva_flow", "flowql.client.conviva_sessions",
             "flowql.client.klaviyo", "flowql.client.flowxo", "flowql.sandbox", "flowql.query"):
    importlib.import_module(name)
requests = os.fdopen(os.dup(0), "rb", buffering=0)
replies = os.dup(1)
while line := requests.readline():
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(int(request["timeout"]))
            requests.close()
            os.close(replies)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            os.dup2(os.open(request["stdin"] or os.devnull, os.O_RDONLY), 0)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            output = os.open(request["output"], flags, 0o644)
            os.dup2(output, 2)
            os.dup2(os.open(request["stdout"], flags, 0o644) if request["stdout"] else output, 1)
            sys.argv = ["flowql", *request["argv"]]
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    os.write(replies, (json.dumps(os.waitstatus_to_exitcode(status)) + "\n").encode())
"""


class ForkServer:
    """A :data:`_FORKSERVER` process: one per thread that runs commands."""

    def __init__(self, env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-u", "-c", _FORKSERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def run(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        stdin: Path | None,
        stdout: Path | None,
        output: Path,
    ) -> int:
        """Run ``flowql ARGV``: its standard output goes to ``stdout`` (when given) or with
        its standard error to ``output``; return its exit code."""
        request = {
            "argv": argv,
            "cwd": str(cwd),
            "env": env,
            "stdin": str(stdin) if stdin else None,
            "stdout": str(stdout) if stdout else None,
            "output": str(output),
            "timeout": TIMEOUT,
        }
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write((json.dumps(request) + "\n").encode())
        self._process.stdin.flush()
        reply = self._process.stdout.readline()
        assert reply, "the fork server stopped"
        code: int = json.loads(reply)
        return code

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=TIMEOUT)


class CommandRunner:
    """Runs the commands of each page in order, the pages at once, each page once."""

    def __init__(self, workdirs: Workdirs, outputs: Path) -> None:
        self._workdirs = workdirs
        self._outputs = outputs
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="docs-commands")
        self._futures: dict[str, Future[Outcome]] = {}
        self._lock = threading.Lock()
        self._sandbox: Sandbox | None = None
        self._local = threading.local()
        self._servers: list[ForkServer] = []

    def start(self, pages: list[str]) -> None:
        with self._lock:
            for name in pages:
                if READ[name].commands and READ[name].commands[0].id not in self._futures:
                    futures = {c.id: Future[Outcome]() for c in READ[name].commands}
                    self._futures.update(futures)
                    self._pool.submit(self._run_page, READ[name], futures)

    def outcome(self, command: Command) -> Outcome:
        self.start([command.page])
        return self._futures[command.id].result(timeout=TIMEOUT)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for server in self._servers:
            server.close()
        if self._sandbox is not None:
            self._sandbox.stop()

    def _run_page(self, page: Page, futures: dict[str, Future[Outcome]]) -> None:
        for step in page.steps:
            if isinstance(step, MakeDirs):
                for path in step.paths:
                    (self._workdirs(page.name) / path).mkdir(parents=True, exist_ok=True)
                continue
            future = futures[step.id]
            try:
                future.set_result(self._run(step) if step.problem is None else Outcome(-1, ""))
            except BaseException as exc:
                future.set_exception(exc)

    def _sandbox_url(self) -> str:
        with self._lock:
            if self._sandbox is None:
                from flowql.sandbox import Sandbox

                self._sandbox = Sandbox(seed=0).start()
            return self._sandbox.url

    @staticmethod
    def _environment() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(SECRETS)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr in the order they are written
        return env

    def _server(self) -> ForkServer:
        server: ForkServer | None = getattr(self._local, "server", None)
        if server is None:
            server = self._local.server = ForkServer(self._environment())
            with self._lock:
                self._servers.append(server)
        return server

    def _run(self, command: Command) -> Outcome:
        directory = self._workdirs(command.page)
        argv = list(command.argv)
        if any(SANDBOX_ADDRESS in arg for arg in argv):
            url = self._sandbox_url()
            argv = [arg.replace(f"http://{SANDBOX_ADDRESS}", url) for arg in argv]
        env = self._environment()
        env.update(command.env)
        env["FLOWQL_HISTORY"] = str(directory / ".flowql-history")
        stdin = directory / command.stdin if command.stdin is not None else None
        output = self._outputs / (re.sub(r"[^\w.-]", "_", command.id) + ".txt")
        if not FORK:
            return self._run_python(argv, directory, env, stdin, command.stdout)
        stdout = directory / command.stdout if command.stdout is not None else None
        code = self._server().run(argv, directory, env, stdin, stdout, output)
        return Outcome(code, output.read_text(encoding="utf-8", errors="replace"))

    @staticmethod
    def _run_python(
        argv: list[str], directory: Path, env: dict[str, str], stdin: Path | None, to: str | None
    ) -> Outcome:
        """``python -m flowql ARGS``, in a process of its own."""
        with contextlib.ExitStack() as files:
            source: Any = files.enter_context(open(stdin, "rb")) if stdin else subprocess.DEVNULL
            sink: Any = files.enter_context(open(directory / to, "wb")) if to else subprocess.PIPE
            result = subprocess.run(
                [sys.executable, "-m", "flowql", *argv],
                stdin=source,
                stdout=sink,
                stderr=subprocess.STDOUT if to is None else subprocess.PIPE,
                cwd=directory,
                env=env,
                timeout=TIMEOUT,
                check=False,
            )
        shown = result.stdout if to is None else result.stderr
        return Outcome(result.returncode, shown.decode("utf-8", "replace"))


# --- the tests ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> Workdirs:
    return Workdirs(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="session")
def python_pages(workdirs: Workdirs) -> PythonPages:
    return PythonPages(workdirs)


@pytest.fixture(scope="session")
def commands(
    request: pytest.FixtureRequest, workdirs: Workdirs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CommandRunner]:
    runner = CommandRunner(workdirs, tmp_path_factory.mktemp("docs-output"))
    # Start every page that has a selected test now, so that they run side by side.
    selected = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("command") if callspec is not None else None
        if isinstance(param, Command):
            selected.add(param.page)
    runner.start(sorted(selected))
    yield runner
    runner.close()


@pytest.mark.parametrize("example", [pytest.param(e, id=e.id) for e in PYTHON])
def test_python_block(
    example: PythonExample,
    python_pages: PythonPages,
    commands: CommandRunner,  # started now, so that the commands run while the blocks do
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    python_pages.run(example, monkeypatch)


@pytest.mark.parametrize("command", [pytest.param(c, id=c.id) for c in COMMANDS])
def test_command(command: Command, commands: CommandRunner) -> None:
    assert command.problem is None, f"{command.id}: {command.text}: {command.problem}"
    outcome = commands.outcome(command)
    actual = _lines(outcome.output)
    where = f"{command.id}: $ flowql {shlex.join(command.argv)} (exit {outcome.code})"
    if command.expected is None:
        assert outcome.code == 0, f"{where}\n{outcome.output}"
        return
    expected = list(command.expected)
    assert matches(expected, actual, command.text), f"{where}\n{_diff(expected, actual)}"


def test_skip_markers() -> None:
    found: list[str] = []
    problems: list[str] = []
    for name in PAGES:
        fences = {block.line: block for block in blocks(name)}
        text = (ROOT / name).read_text(encoding="utf-8").splitlines()
        for line, what in markers(name):
            where = f"{name}:{line}"
            following = next(
                (n for n in range(line + 1, len(text) + 1) if text[n - 1].strip()), None
            )
            if not _SKIP.match(what):
                problems.append(f"{where}: write <!-- docs-test: skip (REASON) -->, not {what!r}")
            elif following not in fences:
                problems.append(f"{where}: a skip marker must come right before a code block")
            elif not _runs(name, fences[following]):
                problems.append(f"{where}: the block would not run anyway: drop the marker")
            else:
                found.append(f"{where}: {what}")
    assert problems == []
    assert len(found) == SKIPS, "\n".join(found)


def _runs(name: str, block: Block) -> bool:
    """Whether ``block`` has examples that would run without its marker."""
    page = read_page(name, skips=False)
    last = block.line + len(block.lines)
    return any(e.block.line == block.line for e in page.python) or any(
        block.line < c.line <= last for c in page.commands
    )


def test_every_page_has_its_examples_collected() -> None:
    # The conventions above find examples on the pages that have them: a page's examples
    # going missing (a fence the reader no longer understands) fails here, not silently.
    assert len(PYTHON) >= 20
    assert len(COMMANDS) >= 40
    assert {c.page for c in COMMANDS} >= {"README.md", "docs/check.md", "docs/rules/queries.md"}


# --- the conventions themselves -------------------------------------------------------------------


def test_expected_output_matches_by_its_conventions() -> None:
    assert matches(["a ... c"], ["a b b c"])
    assert matches(["x", "...", "z"], ["x", "z"])
    assert matches(["x", "  ...", "z"], ["x", "1", "2", "z"])
    assert not matches(["x", "z"], ["x", "y", "z"])
    assert not matches(["x"], ["x", "y"])
    command = "flowql query --start 2026-11-14T00:00:00Z"
    shown = "from 2026-11-14T00:00:00Z: start at 2026-11-15T12:00:00Z, at http://127.0.0.1:8787"
    actual = "from 2026-11-14T00:00:00Z: start at 2026-11-24T23:25:00Z, at http://127.0.0.1:40467"
    assert matches([shown], [actual], command)
    assert not matches([shown], [actual.replace("11-14", "11-13")], command)  # the input's own
    assert not matches([shown], [actual])  # Python blocks: no date-times or ports by shape


def _block(code: str) -> Block:
    return Block("synthetic.md", 1, "python", tuple(code.splitlines()), None, None)


def test_results_a_python_block_shows_rightly_pass() -> None:
    run_block(
        _block(
            "x = 1\n"
            "x + 1\n"
            "# 2\n"
            "[x, 'a']  # [1, 'a']   (a remark)\n"
            "print(x, 'a')  # 1 a\n"
            "for i in range(2):\n"
            "    print(i, end='!\\n')\n"
            "# 0!\n"
            "# 1!\n"
            "if x:\n"
            "    for i in range(2):\n"
            "        print(i)\n"
            "    # 0\n"
            "    # 1\n"
            "\n"
            "# a comment after a blank line is no result\n"
        ),
        {},
    )


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("x = 1\nx + 1\n# 3\n", "line 3: the page shows\n  3\nbut it is\n  2"),
        ("x = 1\nx  # 2\n", "line 3: the page shows"),
        ("print('a')  # b\n", "line 2: the page shows"),
        ("for i in range(2):\n    print(i)\n# 0\n# 2\n", "line 3: the page shows"),
        ("if False:\n    print(1)  # 1\n", "line 3: the print never ran"),
        ("x = 1\n# x is one\n", "line 2: the page shows"),
    ],
)
def test_results_a_python_block_shows_wrongly_fail(code: str, problem: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(problem)):
        run_block(_block(code), {})


def test_shell_lines_run_as_a_shell_would_or_need_a_marker() -> None:
    env: dict[str, str] = {}
    assert _step("p.md", 1, "export A=1 B=x=y", env) is None
    assert env == {"A": "1", "B": "x=y"}
    assert _step("p.md", 1, "mkdir -p a/b c", env) == MakeDirs(("a/b", "c"))
    command = _step("p.md", 1, "flowql repl < in.txt > out.txt  # a comment", env)
    assert isinstance(command, Command)
    assert (command.argv, command.stdin, command.stdout) == (("repl",), "in.txt", "out.txt")
    assert command.env == (("A", "1"), ("B", "x=y"))
    assert _step("p.md", 1, "flowql sandbox --port 0", env) is None
    assert _step("p.md", 1, "flowql repl", env) is None
    for line in ("curl http://127.0.0.1:8787/", "flowql rules | head", "flowql 'rules"):
        refused = _step("p.md", 1, line, env)
        assert isinstance(refused, Command)
        assert refused.problem is not None
