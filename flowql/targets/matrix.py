"""The target matrix: what every registered target does with each FlowQL construct.

Each construct has a small FlowQL example; :func:`matrix` compiles every example with every
target :func:`flowql.targets.targets` returns when it runs (a target registered later appears
by itself) and records what happened:

- ``supported``: compiled, and the output reads back (with the target's reader) as the very
  same FlowQL filter; a target without a reader (``python``, ``polars``, ``pandas``) that
  compiles a filter supports it;
- ``lowered``: compiled, but the output means the filter in other terms (it reads back as a
  different FlowQL filter): ``a IN ('x', 'y')`` sent as ``a == 'x' OR a == 'y'``;
- ``warning``: compiled, with warnings (their codes are kept);
- ``refused``: :class:`~flowql.errors.UnsupportedError`, with its code and the first line of
  its first message.

:func:`render_markdown` writes the table that ``docs/targets/matrix.md`` holds, and
``python -m flowql.targets.matrix`` rewrites that file (``--check``: exit 1 when it is stale),
so the document is generated from the targets themselves and cannot drift.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from flowql.errors import UnsupportedError
from flowql.formatter import format
from flowql.syntax import parse
from flowql.targets import CompileResult, Target, targets
from flowql.urls import encode_query

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CONSTRUCTS",
    "Cell",
    "Construct",
    "Row",
    "main",
    "matrix",
    "render_markdown",
]

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "targets" / "matrix.md"
"""Where the generated document lives in the repository."""


@dataclass(frozen=True)
class Construct:
    """A FlowQL construct and a small filter that uses it."""

    name: str
    example: str


CONSTRUCTS: tuple[Construct, ...] = (
    Construct("`==` equals", "a == 'x'"),
    Construct("`!=` does not equal", "a != 'x'"),
    Construct("`~~` contains", "a ~~ 'x'"),
    Construct("`!~` does not contain", "a !~ 'x'"),
    Construct("`IN`", "a IN ('x', 'y')"),
    Construct("`NOT IN`", "a NOT IN ('x', 'y')"),
    Construct("`NOT` of a comparison", "NOT a == 'x'"),
    Construct("`NOT` of a group", "NOT (a == 'x' AND b == 'y')"),
    Construct("`AND`", "a == 'x' AND b == 'y'"),
    Construct("`OR` on one key", "a == 'x' OR a == 'y'"),
    Construct("`OR` across keys", "a == 'x' OR b == 'y'"),
    Construct("a number value", "a == 7"),
    Construct("a boolean value", "a == true"),
    Construct("a value holding a quote", "a == 'it\\'s'"),
)
"""The constructs of the matrix, in the order of its rows."""

SUPPORTED = "supported"
LOWERED = "lowered"
WARNING = "warning"
REFUSED = "refused"


@dataclass(frozen=True)
class Cell:
    """What one target did with one construct's example.

    ``status`` is ``supported``, ``lowered``, ``warning`` or ``refused``. ``output`` is what the
    target produced (filter text, the query string of parameters, or ``None`` for a predicate);
    ``reads_back`` the FlowQL the output reads back as, when the target has a reader. ``codes``
    are the warning codes, or the refusal's codes (one per problem); ``message`` the first line
    of a refusal's first message.
    """

    target: str
    status: str
    output: str | None = None
    reads_back: str | None = None
    codes: tuple[str, ...] = ()
    message: str | None = None

    @property
    def short(self) -> str:
        """The cell as the table shows it."""
        if self.status == REFUSED:
            return f"no ({self.codes[0]})"
        if self.status == WARNING:
            return f"yes, {', '.join(sorted(set(self.codes)))} warning"
        return {SUPPORTED: "yes", LOWERED: "lowered"}[self.status]


@dataclass(frozen=True)
class Row:
    """One construct and what each target did with it, in the order of the targets."""

    construct: Construct
    cells: tuple[Cell, ...]

    def cell(self, target: str) -> Cell:
        """The cell of the target of this name; ``KeyError`` if there is none."""
        for cell in self.cells:
            if cell.target == target:
                return cell
        raise KeyError(target)


def _output(result: CompileResult) -> str | None:
    if result.filter is not None:
        return result.filter
    if result.params is not None:
        return encode_query(result.params, mark=False)
    return None


def _own_keys(target: Target) -> dict[str, str]:
    """For a target that filters only on fields of its own (the Klaviyo report families), the
    fields that stand in for the examples' keys ``a`` and ``b``: its first two plain fields."""
    import importlib

    try:
        module = importlib.import_module("flowql.targets." + target.name.replace("-", "_"))
    except ImportError:
        return {}
    fields = getattr(module, "FIELDS", None)
    if not fields:
        return {}
    plain = [f.name for f in fields if f.kind != "list" and f.values is None]
    return dict(zip(("a", "b"), plain, strict=False))


def _cell(target: Target, example: str) -> Cell:
    expr = parse(example)
    keys = _own_keys(target)
    if keys:
        from flowql.ast import Key, Node, transform

        def rename(node: Node) -> Node:
            if isinstance(node, Key) and node.name in keys:
                return Key(keys[node.name], span=node.span)
            return node

        renamed = transform(expr, rename)
        assert isinstance(renamed, type(expr))
        expr = renamed
    try:
        result = target.compile(expr)
    except UnsupportedError as error:
        return Cell(
            target.name,
            REFUSED,
            codes=tuple(d.code for d in error.diagnostics),
            message=error.message.splitlines()[0],
        )
    output = _output(result)
    reads_back: str | None = None
    status = SUPPORTED
    if target.reads and output is not None:
        back = target.read(output)
        reads_back = format(back)
        if back != expr:
            status = LOWERED
    codes = tuple(w.code for w in result.warnings)
    if codes and status == SUPPORTED:
        status = WARNING
    return Cell(target.name, status, output, reads_back, codes)


def matrix(chosen: Sequence[Target] | None = None) -> list[Row]:
    """Every construct compiled with every target (by default, every registered target)."""
    chosen = targets() if chosen is None else list(chosen)
    return [Row(c, tuple(_cell(t, c.example) for t in chosen)) for c in CONSTRUCTS]


def _code(text: str) -> str:
    """``text`` as inline Markdown code, whatever backticks it holds, ``|`` escaped."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def render_markdown(rows: Sequence[Row] | None = None) -> str:
    """The Markdown document of the matrix (``docs/targets/matrix.md``)."""
    rows = matrix() if rows is None else list(rows)
    names = [cell.target for cell in rows[0].cells] if rows else [t.name for t in targets()]
    lines = [
        "# What each target supports",
        "",
        "<!-- Generated by `python -m flowql.targets.matrix` from the registered targets:",
        "     do not edit; a test fails when this file is stale. -->",
        "",
        "Each row is a FlowQL construct, with a small filter that uses it; each column a target",
        "(`flowql.targets.targets()`). Every cell is what the target did when it compiled that",
        "filter. The Klaviyo report targets filter only on fields of their own, so for them the",
        "examples use their first two plain fields in place of `a` and `b` (`flow_id` and",
        "`flow_name` for the flow report).",
        "",
        "| construct | example | " + " | ".join(f"`{n}`" for n in names) + " |",
        "| --- | --- |" + " --- |" * len(names),
    ]
    for row in rows:
        cells = " | ".join(cell.short for cell in row.cells)
        lines.append(f"| {row.construct.name} | {_code(row.construct.example)} | {cells} |")
    lines += [
        "",
        "- **yes**: compiled, and the output reads back (with the target's reader) as the same",
        "  filter. The `python`, `polars` and `pandas` targets have no text form: a filter they",
        "  compile, they support.",
        "- **lowered**: compiled into other terms that mean the same: the output reads back as a",
        "  different FlowQL filter (shown below).",
        "- **yes, FQnnn warning**: compiled, with a warning of that code.",
        "- **no (FQnnn)**: refused with `UnsupportedError`, that code; the message is below.",
        "",
        "## Outputs",
        "",
        "What each target made of each example: the text it sends (query parameters as their",
        "query string), what that reads back as when it is neither the example nor the output",
        "itself, the warnings, or the refusal's first message.",
    ]
    for row in rows:
        lines += ["", f"### {row.construct.name}: {_code(row.construct.example)}", ""]
        for cell in row.cells:
            lines.append(f"- `{cell.target}`: {_describe(cell, row.construct.example)}")
    return "\n".join(lines) + "\n"


_NO_TEXT = {"python": "a predicate", "polars": "a polars expression", "pandas": "a pandas mask"}
"""What the targets without a text form make."""


def _describe(cell: Cell, example: str) -> str:
    if cell.status == REFUSED:
        more = len(cell.codes) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"refused, {cell.codes[0]}: {cell.message}{extra}"
    text = _code(cell.output) if cell.output is not None else _NO_TEXT.get(cell.target, "?")
    back = cell.reads_back
    if cell.status == LOWERED and back is not None and back != cell.output:
        text += f", which reads back as {_code(back)}"
    if cell.codes:
        text += f"; warning {', '.join(cell.codes)}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flowql.targets.matrix [--check] [--output PATH]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m flowql.targets.matrix",
        description="Write docs/targets/matrix.md from the registered targets.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=DOC, help=f"default: {DOC}")
    args = parser.parse_args(argv)
    output: Path = args.output
    text = render_markdown()
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if args.check:
        if current != text:
            print(
                f"{output} is stale: run `python -m flowql.targets.matrix`",
                file=sys.stderr,
            )
            return 1
        print(f"{output} is up to date")
        return 0
    if current != text:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {output}")
    else:
        print(f"{output} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
