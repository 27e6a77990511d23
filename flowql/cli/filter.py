"""The ``flowql filter`` command: a FlowQL filter evaluated over data files.

``flowql filter FILE... --filter TEXT`` reads CSV, JSON, NDJSON or Parquet files (globs
allowed, one format at a time) with an engine (:mod:`flowql.scans`: DuckDB by default, polars
or the python target) and shows the rows the filter selects as ``flowql query`` shows a result
(the same table, ``--columns``, ``--expanded``, pager, ``--format``, ``-o FILE``, ``--force``).
A test the files' column types contradict (FQ606, ``count ~~ 'x'`` on integers) is a warning
on stderr. Exit codes: 0 ok, 1 a filter that does not parse or that the files' schema refuses
(shown with its span, as ``flowql compile`` shows it) or files that cannot be read, 2 a usage error
(an unknown engine, an output that cannot be written, a missing extra).
"""

from __future__ import annotations

import argparse
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

    from flowql.results import Result

__all__ = ["add_command"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

HELP = "filter CSV, JSON, NDJSON or Parquet files with a FlowQL filter"


def add_command(commands: Any) -> None:
    """Add ``filter`` to the ``flowql`` subcommands."""
    from flowql.cli.query import _add_output, _add_table

    f = commands.add_parser(
        "filter",
        help=HELP,
        description="Evaluate a FlowQL filter over CSV, JSON, NDJSON or Parquet files (by "
        "extension; globs allowed, one format at a time) and print the rows it selects. The "
        "duckdb engine (the default) reads the files with DuckDB and runs the sql target's "
        "clause in the scan, typed by the files' schema; polars runs the polars target's "
        "expression; python the python target, row by row. All three select the same rows.",
    )
    f.add_argument("files", nargs="+", metavar="FILE", help="data files or globs ('data/*.csv')")
    f.add_argument("--filter", required=True, metavar="TEXT", help="the FlowQL filter")
    f.add_argument(
        "--engine",
        default="duckdb",
        metavar="ENGINE",
        help="duckdb (the default; pip install 'flowql[duckdb]'), polars (pip install "
        "'flowql[polars]') or python",
    )
    f.add_argument(
        "--format",
        metavar="FORMAT",
        help="table (default), json (metadata and records), csv, ndjson or parquet (needs -o "
        "FILE or a pipe); with -o, the default is FILE's extension's",
    )
    _add_output(f)
    f.add_argument("--force", action="store_true", help="with -o: replace the existing FILE")
    _add_table(f)
    f.set_defaults(handler=run, dry_run=False, manifest=None, names=None, tz=None)


def _same_file(output: str, inputs: Sequence[str]) -> str | None:
    """The input that ``output`` names (the same path, a link to it, a hard link), or None."""
    target = os.path.expanduser(output)
    real = os.path.realpath(target)
    for path in inputs:
        if os.path.realpath(path) == real:
            return path
        try:
            if os.path.exists(target) and os.path.samefile(target, path):
                return path
        except OSError:
            continue
    return None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``flowql filter``."""
    from flowql.cli.query import _column_problem, _export, _output_problem
    from flowql.diagnostics import Diagnostic, render
    from flowql.errors import FlowQLError
    from flowql.extras import MissingExtraError
    from flowql.scans import ScanError, expand_paths, filter_files, parse_engine, result_of
    from flowql.syntax import parse

    try:
        engine = parse_engine(args.engine)
    except ValueError as exc:
        err.write(f"flowql: error: --engine: {exc}\n")
        return EXIT_USAGE
    try:
        files, fmt = expand_paths(args.files)
    except ScanError as exc:
        err.write(f"flowql: error: {exc}\n")
        return EXIT_FAILED
    if args.output is not None and _same_file(args.output, files) is not None:
        problem = Diagnostic(
            "FQ807",
            f"'{args.output}' is an input file: it was left as it is",
            None,
            hint="write the rows to another file",
        )
        err.write(render(problem, None, "<command line>") + "\n")
        return EXIT_USAGE
    problem_text = _output_problem(args)
    if problem_text is not None:
        err.write(problem_text + "\n")
        return EXIT_USAGE
    text = args.filter
    warnings: list[Diagnostic] = []
    try:
        expr = parse(text)
        columns, rows = filter_files(expr, files, fmt, engine, warnings)
    except MissingExtraError as exc:
        err.write(render(exc.diagnostic, None, "<command line>") + "\n")
        return EXIT_USAGE
    except ScanError as exc:
        err.write(f"flowql: error: {exc}\n")
        return EXIT_FAILED
    except FlowQLError as exc:
        # As flowql compile shows a filter's errors: each with its span in the text.
        err.write(FlowQLError(exc.diagnostics, text).render("<filter>") + "\n")
        return EXIT_FAILED
    for warning in warnings:  # a test the files' types contradict: the rows are still shown
        err.write(render(warning, text, "<filter>") + "\n")
    results: list[tuple[str, Result]] = [("<filter>", result_of(columns, rows, engine, text))]
    if args.format == "table":
        # Of the files' columns: a filter that selects no rows does not make a column unknown.
        problem_text = _column_problem(args, results)
        if problem_text is not None:
            err.write(problem_text + "\n")
            return EXIT_USAGE
    if not _export(out, err, results, args):
        return EXIT_USAGE
    return EXIT_OK
