"""``flowql check --fix`` and ``--diff``: the fixes of every input, made or shown.

A file is rewritten through :func:`flowql.files.write_atomic` (whole or not at all, and not
over a file that changed since it was read); standard input and ``--expr`` have no file, so
their fixed text is printed. ``--diff`` writes nothing and prints a unified diff per input that
would change. Imported only when one of them is asked for.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import TextIO

    from flowql.checker.check import Checker, Input
    from flowql.cli import Source

__all__ = ["fix_inputs"]


def fix_inputs(
    checker: Checker,
    sources: Sequence[Source],
    inputs: Sequence[Input],
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    errors: list[str],
) -> tuple[list[Input], int]:
    """Fix each input (``sources[i]`` is where ``inputs[i]`` came from): the inputs as they are
    now, to be checked again, and how many findings were fixed (with ``args.diff``: would be).
    A file that cannot be written is added to ``errors`` and checked as it was."""
    from flowql.checker.check import Input

    unsafe = bool(args.unsafe_fixes)
    now: list[Input] = []
    total = 0
    files = 0
    for source, item in zip(sources, inputs, strict=True):
        text, made = checker.fix(item, unsafe=unsafe)
        if args.diff:
            if text != item.text:
                _write_diff(item.name, item.text, text, out)
                total += made
                files += 1
            now.append(item)
            continue
        if source.path is None:
            # No file to write: the fixed text is the output, as `fmt` prints such text.
            out.write(text if text.endswith("\n") or not text else text + "\n")
        elif text != item.text and not _write(source, text, errors):
            now.append(item)
            continue
        if text != item.text:
            total += made
            files += 1
        now.append(Input(item.name, text, path=item.path, manifest=item.manifest))
    if args.diff and total:
        err.write(f"Would fix {_count(total, 'finding')} in {_count(files, 'file')}.\n")
    return now, total


def _write(source: Source, text: str, errors: list[str]) -> bool:
    """Write the fixed text over the file, its byte order mark kept; False (and the reason in
    ``errors``) when it could not be written."""
    from flowql.files import write_atomic

    assert source.path is not None
    bom = "\ufeff" if source.text.startswith("\ufeff") else ""
    try:
        write_atomic(source.path, bom + text, replace=True, expect=source.text.encode("utf-8"))
    except OSError as exc:
        errors.append(f"{source.name}: not written ({exc.strerror})")
        return False
    return True


def _write_diff(name: str, before: str, after: str, out: TextIO) -> None:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    for line in lines:
        # A last line without a line break would run into the next one.
        out.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
