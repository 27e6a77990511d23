"""The house: layers flow one way, and no module imports itself round a circle.

Every import in flowql/ is read from the source (module level and inside functions, the lazy
ones too; imports under ``if TYPE_CHECKING:`` run only for the type checker and are left out),
and each module is given its layer, lowest first:

0. language: the AST, the parser and its tables (and what they let come next), the formatter,
   diagnostics, errors, codes and their documentation, highlighting, times, files;
1. the data model and validation, completion of a filter, the API descriptions (Klaviyo's
   revisions among them);
2. targets;
3. the query layer: Conviva endpoints and URL budgets, query values and plans, results, their
   text tables, the tables of what a data model holds, and pictures of results;
4. the client, the sandbox and the checker (check, manifest, config, report);
5. where requests go (credentials or a sandbox: ``flowql.connection``);
6. the faces: the command line, the REPL and the language server.

A module may import its own layer or lower ones, never a higher one; the package ``flowql``
itself (the public API) sits on top. docs/architecture.md explains the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "flowql"

LAYERS: list[tuple[str, ...]] = [
    (
        "flowql._generate",
        "flowql._generate_klaviyo",
        "flowql._generate_textmate",
        "flowql._klaviyo_tables",
        "flowql._lazy",
        "flowql._generate_rule_docs",
        "flowql._rule_texts",
        "flowql._tables",
        "flowql.ast",
        "flowql.codes",
        "flowql.diagnostics",
        "flowql.errors",
        "flowql.extras",
        "flowql.files",
        "flowql.fixes",
        "flowql.formatter",
        "flowql.highlight",
        "flowql.lookahead",
        "flowql.redact",
        "flowql.rule_docs",
        "flowql.syntax",
        "flowql.times",
        "flowql.urls",
    ),
    (
        "flowql.apis",
        "flowql.candidates",
        "flowql.klaviyo_revisions",
        "flowql.model",
        "flowql.validate",
    ),
    ("flowql.targets",),
    (
        "flowql.display",
        "flowql.merging",
        "flowql.endpoints",
        "flowql.exports",
        "flowql.cells",
        "flowql.frames",
        "flowql.model_view",
        "flowql.plot",
        "flowql.query",
        "flowql.results",
        "flowql.scans",
    ),
    (
        "flowql.check",
        "flowql.checker",
        "flowql.client",
        "flowql.config",
        "flowql.manifest",
        "flowql.report",
        "flowql.sandbox",
    ),
    ("flowql.connection",),
    ("flowql.__main__", "flowql.cli", "flowql.repl", "flowql.server", "flowql.terminal"),
]
"""Each layer's modules (a package stands for all its modules)."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str) -> set[str]:
    """The flowql modules ``name`` imports when it runs (TYPE_CHECKING blocks left out)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                visit(other)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES]
            found.update(subs)
            # `from flowql import __version__` reads the package's metadata, not its API.
            names = {a.name for a in node.names} - {"__version__"}
            if module in MODULES and len(subs) < len(names):
                found.add(module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8")))
    found.discard(name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def layer_of(name: str) -> int:
    """The layer of a module: that of the longest listed prefix (the package ``flowql`` is the
    top)."""
    if name == "flowql":
        return len(LAYERS)
    best: tuple[int, int] | None = None
    for number, members in enumerate(LAYERS):
        for member in members:
            if (name == member or name.startswith(member + ".")) and (
                best is None or len(member) > best[0]
            ):
                best = (len(member), number)
    if best is None:
        raise AssertionError(f"{name} is in no layer: add it to LAYERS (and docs/architecture.md)")
    return best[1]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer(name: str) -> None:
    assert 0 <= layer_of(name) <= len(LAYERS)


def test_no_import_runs_up_the_layers() -> None:
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in sorted(GRAPH.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_there_are_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_the_checks_find_what_they_look_for() -> None:
    # The detectors themselves: a made-up circle and a made-up upward import are caught.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("flowql.cli.query") > layer_of("flowql.client.conviva_flow")
    assert layer_of("flowql.query.plan") > layer_of("flowql.targets.python")
    assert "flowql.query.plan" in GRAPH["flowql.query.conviva_flow"]


def _is_face(name: str) -> bool:
    return any(
        name == f or name.startswith(f + ".")
        for f in ("flowql.cli", "flowql.repl", "flowql.server")
    ) or (name == "flowql.__main__")


def test_the_library_never_imports_the_faces() -> None:
    below = [name for name in GRAPH if not _is_face(name) and name != "flowql"]
    leaks = [
        f"{name} imports {target}"
        for name in sorted(below)
        for target in sorted(GRAPH[name])
        if _is_face(target)
    ]
    assert leaks == []
