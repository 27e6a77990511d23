"""The sandbox is a second reading of the vendors' documents: it shares no parsing, evaluation
or validation code with flowql's client, parser, targets or validator.

Every import of every module of ``flowql/sandbox/`` is read from the source: at module level,
inside functions (the lazy ones), under ``if TYPE_CHECKING:`` too (a type borrowed from the
client is a reading borrowed), and ``importlib.import_module`` / ``__import__`` calls with a
literal or f-string name. None may reach the forbidden packages, except the few shared lists
named in :data:`SHARED_LISTS` (docs/sandbox.md says which, and why).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "flowql" / "sandbox"

FORBIDDEN = (
    "flowql.syntax",
    "flowql.targets",
    "flowql.validate",
    "flowql.client",
    "flowql.query",
    "flowql._tables",
)
"""flowql's parser and its tables, its targets, its validator, its query layer and its client."""

# Nothing crosses: the Klaviyo sandbox keeps its own tables per revision
# (flowql/sandbox/_klaviyo_revisions.py), checked against Klaviyo's spec.
SHARED_LISTS: set[tuple[str, str, str]] = set()
"""(sandbox module, module imported, name imported) that may cross: data, not code. Shrink it,
never grow it for parsing, evaluation or validation."""


def imports(source: str, module: str) -> set[tuple[str, str]]:
    """Every ``(module imported, name imported)`` of ``source`` (the module ``module``): ``*``
    for a whole module, ``*`` for the formatted parts of an f-string name."""
    package = module.rpartition(".")[0]
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update((alias.name, "*") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            for alias in node.names:
                # `from flowql import targets` imports a module, not a name.
                whole = f"{name}.{alias.name}"
                found.add((whole, "*") if _is_module(whole) else (name, alias.name))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            literal = _literal(node.args[0])
            if literal is not None:
                found.add((literal, "*"))
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("import_module", "__import__")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _literal(node: ast.expr) -> str | None:
    """The text of a string literal, an f-string with ``*`` for its formatted parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "*" for part in node.values
        )
    return None


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def _modules() -> dict[str, Path]:
    return {f"flowql.sandbox.{path.stem}": path for path in sorted(SANDBOX.glob("*.py"))}


def _crossings() -> set[tuple[str, str, str]]:
    found = set()
    for module, path in _modules().items():
        if path.stem == "__init__":
            module = "flowql.sandbox.__init__"
        for name, what in imports(path.read_text("utf-8"), module):
            if _forbidden(name):
                found.add((module, name, what))
    return found


def test_the_sandbox_imports_no_reading_of_flowql() -> None:
    crossings = _crossings()
    assert crossings - SHARED_LISTS == set(), "the sandbox must read the vendors' documents itself"


def test_every_shared_list_is_still_used() -> None:
    # An allowance nothing uses any more is removed, so the list only shrinks.
    assert SHARED_LISTS - _crossings() == set()


@pytest.mark.parametrize("module", ["conviva_filter", "klaviyo_filter"])
def test_the_filter_readers_import_nothing_outside_the_sandbox(module: str) -> None:
    source = (SANDBOX / f"{module}.py").read_text("utf-8")
    outside = {
        name
        for name, _ in imports(source, f"flowql.sandbox.{module}")
        if name.split(".")[0] == "flowql" and not name.startswith("flowql.sandbox")
    }
    assert outside == set()


def test_the_conviva_sandbox_reads_filters_with_its_own_reader() -> None:
    source = (SANDBOX / "_conviva.py").read_text("utf-8")
    found = imports(source, "flowql.sandbox._conviva")
    assert ("flowql.sandbox.conviva_filter", "*") in found
    outside = {
        n for n, _ in found if n.startswith("flowql.") and not n.startswith("flowql.sandbox")
    }
    assert outside == {"flowql.model"}  # the demo data model it serves


# --- the reading of imports itself ---------------------------------------------------------------

_EVERY_KIND = """
import flowql.syntax
from flowql.targets.python import compile_predicate
from flowql import validate
from . import _util
from .._tables import TERMINALS
from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.client import Client

def later(family: str) -> None:
    from flowql.query import KLAVIYO_REPORTS
    import_module(f"flowql.targets.klaviyo_{family}_report")
    __import__("flowql.client._core")
"""


def test_every_kind_of_import_is_read() -> None:
    found = imports(_EVERY_KIND, "flowql.sandbox._example")
    assert {
        ("flowql.syntax", "*"),
        ("flowql.targets.python", "compile_predicate"),
        ("flowql.validate", "*"),
        ("flowql.sandbox._util", "*"),
        ("flowql._tables", "TERMINALS"),
        ("flowql.client", "Client"),
        ("flowql.query", "KLAVIYO_REPORTS"),
        ("flowql.targets.klaviyo_*_report", "*"),
        ("flowql.client._core", "*"),
    } <= found
    assert {name for name, _ in found if _forbidden(name)} == {
        "flowql.syntax",
        "flowql.targets.python",
        "flowql.validate",
        "flowql._tables",
        "flowql.client",
        "flowql.client._core",
        "flowql.query",
        "flowql.targets.klaviyo_*_report",
    }
