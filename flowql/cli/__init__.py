"""The ``flowql`` command line.

Every verb takes its input the same way: ``--expr TEXT`` (repeatable), file or directory paths
(directories are searched for ``*.flowql`` files), or ``-`` for standard input. Exit codes: 0 when
all is well, 1 when there are findings (a parse error, a file that would be reformatted), 2 for a
usage or input error (a missing file, text that is not UTF-8). Machine output goes to stdout and
nothing else does; messages for people go to stderr.

This module is on the start-up path of every ``flowql`` run, so it imports only what the verb at
hand needs, and only when it needs it.
"""

from __future__ import annotations

import argparse
import os
import sys

from flowql import __version__
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TextIO

    from flowql.ast import Expr
    from flowql.checker.config import Config
    from flowql.targets import Target

__all__ = ["main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

_BOM = "\ufeff"


class InputError(Exception):
    """An input that cannot be read: reported on stderr, exit code 2."""


class Source:
    """One input: where it came from and its text."""

    __slots__ = ("name", "path", "text")

    def __init__(self, name: str, text: str, path: str | None = None) -> None:
        self.name = name
        self.text = text
        self.path = path


def _read_file(path: str) -> str:
    from flowql.files import read_regular

    try:
        data = read_regular(path)
    except ValueError:
        raise InputError(f"{path!r}: not a valid path (it holds a NUL character)") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return _decode(data, path)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


# Configuration files are never query manifests, whatever they hold.
_CONFIG_NAMES = frozenset({"pyproject.toml", "flowql.toml"})


def _unreadable(error: OSError) -> str:
    """What an input error says about a path that cannot be read."""
    return f"{error.filename}: cannot read ({error.strerror})"


def _raise_input_error(error: OSError) -> None:
    raise InputError(_unreadable(error))


def _find_files(
    directory: str,
    suffixes: tuple[str, ...],
    excluded: Callable[[str], bool] | None,
    onerror: Callable[[OSError], None] = _raise_input_error,
) -> list[str]:
    found: list[str] = []
    # A directory that cannot be listed is an input error, never a silent skip.
    for root, dirs, files in os.walk(directory, onerror=onerror):
        # Hidden directories (.git, .venv, ...) never hold filters worth checking.
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and not (excluded and excluded(os.path.join(root, d)))
        )
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(suffixes) or name in _CONFIG_NAMES:
                continue
            if excluded and excluded(path):
                continue
            found.append(os.path.normpath(path))
    return sorted(found)


def read_sources(
    exprs: Sequence[str] | None,
    paths: Sequence[str],
    *,
    stdin: TextIO | None = None,
    stdin_filename: str | None = None,
    suffixes: tuple[str, ...] = (".flowql",),
    excluded: Callable[[str], bool] | None = None,
    errors: list[str] | None = None,
    unread: list[str] | None = None,
) -> list[Source]:
    """Collect the inputs of a verb: inline expressions, then paths in the order given.

    Directories are searched for files with one of ``suffixes``, skipping what ``excluded``
    says; files named explicitly are always read. A path that cannot be read raises
    :class:`InputError`, or, given ``errors``, is added to it and the others are read. Given
    ``unread``, the ``.flowql`` paths (directories walked already) are not read but added to
    it, for the caller to read (check reads them in its worker processes).
    """

    def read(path: str) -> None:
        try:
            sources.append(Source(path, _read_file(path), path))
        except InputError as exc:
            if errors is None:
                raise
            errors.append(str(exc))

    def listing_failed(error: OSError) -> None:
        if errors is None:
            _raise_input_error(error)
        else:
            errors.append(_unreadable(error))

    sources = [
        Source("<expr>" if len(exprs or ()) == 1 else f"<expr {i}>", text)
        for i, text in enumerate(exprs or (), 1)
    ]
    seen_stdin = False
    for path in paths:
        if path == "-":
            if seen_stdin:
                raise InputError("standard input ('-') can be read only once")
            seen_stdin = True
            stream = stdin if stdin is not None else sys.stdin
            buffer = getattr(stream, "buffer", None)
            text = _decode(buffer.read(), "<stdin>") if buffer else stream.read()
            sources.append(Source(stdin_filename or "<stdin>", text))
        elif unread is not None and path.endswith(".flowql"):
            # Its reader says so if it is a directory after all: check walks them first.
            unread.append(path)
        elif os.path.isdir(path):
            for found in _find_files(path, suffixes, excluded, listing_failed):
                read(found)
        else:
            read(path)
    if not sources and not errors and not unread:
        raise InputError("nothing to read: give --expr TEXT, a file or directory, or - for stdin")
    return sources


def read_filter_file(path: str) -> str:
    """The text of a ``.flowql`` file that ``flowql check`` left unread, without a byte order
    mark; :class:`~flowql.checker.check.UnreadableError` saying why it cannot be read."""
    from flowql.checker.check import UnreadableError

    try:
        return _strip_bom(_read_file(path))[1]
    except InputError as exc:
        raise UnreadableError(str(exc)) from None


def _strip_bom(text: str) -> tuple[str, str]:
    if text.startswith(_BOM):
        return _BOM, text[1:]
    return "", text


# --- parse ---------------------------------------------------------------------------------


def _cmd_parse(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.ast import dump, to_dict
    from flowql.syntax import parse

    sources = read_sources(args.expr, args.paths, stdin_filename=args.stdin_filename)
    results: list[tuple[Source, Expr]] = []
    errors: list[tuple[Source, FlowQLError]] = []
    for source in sources:
        try:
            results.append((source, parse(_strip_bom(source.text)[1])))
        except FlowQLError as exc:
            errors.append((source, exc))
    if args.format == "json":
        import json

        def tree(expr: Expr) -> object:
            return to_dict(expr, spans=not args.no_spans)

        if len(sources) == 1 and results:
            document: object = tree(results[0][1])
        else:
            document = [{"file": s.name, "ast": tree(e)} for s, e in results]
        if results:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
        if errors:
            json.dump(_error_dicts(errors), err, indent=2, ensure_ascii=False)
            err.write("\n")
    else:
        for i, (source, expr) in enumerate(results):
            if len(sources) > 1:
                out.write(("\n" if i else "") + f"{source.name}:\n")
            out.write(dump(expr, spans=not args.no_spans) + "\n")
        for source, error in errors:
            err.write(error.render(source.name) + "\n")
    return EXIT_FINDINGS if errors else EXIT_OK


def _error_dicts(errors: list[tuple[Source, FlowQLError]]) -> list[dict[str, object]]:
    out = []
    for source, exc in errors:
        for diagnostic in exc.diagnostics:
            entry: dict[str, object] = {"file": source.name}
            entry.update(diagnostic.to_dict())
            out.append(entry)
    return out


# --- fmt -----------------------------------------------------------------------------------


def _cmd_fmt(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.checker.config import resolve_config
    from flowql.formatter import format_file

    # The settings of `flowql check`, so that what fmt writes is what check accepts (FQ402).
    config = resolve_config(args.config, os.getcwd()).merged(line_length=args.line_length)
    unreadable: list[str] = []
    if "-" in args.paths and _stdin_excluded(args, config):
        # An editor formats its buffer through standard input: an excluded one comes back as
        # it was, never empty.
        (passed,) = read_sources(None, ["-"], stdin_filename=args.stdin_filename)
        out.write(passed.text)
    sources = _read_inputs(args, config, manifests=False, errors=unreadable)
    failed = changed = unchanged = 0
    for source in sources:
        try:
            formatted = format_file(source.text, line_length=config.line_length)
        except FlowQLError as exc:
            err.write(exc.render(source.name) + "\n")
            failed += 1
            continue
        if source.path is None and source.text.endswith(("\n", "\r\n")) is False:
            # Inline and stdin text need not end with a newline to be formatted.
            is_same = formatted.rstrip("\r\n") == source.text
        else:
            is_same = formatted == source.text
        if source.path is None and not args.check and not args.diff:
            out.write(formatted)
            continue
        if is_same:
            unchanged += 1
            continue
        changed += 1
        if args.diff:
            _write_diff(source, formatted, out)
        elif args.check:
            out.write(f"Would reformat: {source.name}\n")
        else:
            assert source.path is not None
            from flowql.files import write_atomic

            try:
                expect = source.text.encode("utf-8")
                write_atomic(source.path, formatted, replace=True, expect=expect)
            except OSError as exc:
                # Say which file was left as it was, and go on with the others.
                changed -= 1
                unreadable.append(f"{source.name}: not written ({exc.strerror})")
    if source_files := [s for s in sources if s.path is not None]:
        if not args.check and not args.diff:
            _summary(err, changed, "reformatted", unchanged, failed, len(source_files))
        elif args.check:
            _summary(err, changed, "would be reformatted", unchanged, failed, len(source_files))
    for message in unreadable:
        err.write(f"flowql: error: {message}\n")
    if unreadable:
        return EXIT_USAGE
    if failed:
        return EXIT_FINDINGS
    if (args.check or args.diff) and changed:
        return EXIT_FINDINGS
    return EXIT_OK


def _walk_paths(
    paths: Sequence[str], config: Config, *, manifests: bool, errors: list[str]
) -> list[str]:
    """``paths`` with each directory replaced by the files the configuration takes from it
    (``include``, ``exclude``): fmt and check walk directories the same way. A directory that
    cannot be listed is added to ``errors``."""

    def listing_failed(error: OSError) -> None:
        errors.append(_unreadable(error))

    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            out.extend(config.files_under(path, manifests=manifests, onerror=listing_failed))
        else:
            out.append(path)
    return out


def _positive(value: str) -> int:
    """An argparse type: a whole number above 0, as the configuration requires."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {value!r}")
    return number


def _summary(err: TextIO, changed: int, verb: str, unchanged: int, failed: int, total: int) -> None:
    parts = []
    if changed:
        parts.append(f"{_plural(changed, 'file')} {verb}")
    if unchanged:
        parts.append(f"{_plural(unchanged, 'file')} already formatted")
    if failed:
        parts.append(f"{_plural(failed, 'file')} with errors")
    if parts:
        err.write(", ".join(parts) + "\n")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _write_diff(source: Source, formatted: str, out: TextIO) -> None:
    import difflib

    out.writelines(
        difflib.unified_diff(
            source.text.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            fromfile=source.name,
            tofile=source.name,
        )
    )


# --- check ---------------------------------------------------------------------------------


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(code.strip().upper() for code in value.split(",") if code.strip())


def _check_config(args: argparse.Namespace) -> Config:
    """The configuration in force for ``flowql check``: the file's, the flags winning."""
    from flowql.checker.config import resolve_config

    return resolve_config(args.config, os.getcwd()).merged(
        model=args.model,
        flow=args.flow,
        target=args.target,
        endpoint=args.endpoint,
        url_limit=args.url_limit,
        select=_codes(args.select),
        ignore=_codes(args.ignore),
        line_length=args.line_length,
        strict=True if args.strict else None,
    )


def _cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.show_settings:
        from flowql.checker.config import describe

        out.write(describe(_check_config(args), start=os.getcwd()))
        return EXIT_OK
    if args.watch:
        from flowql.cli.watch import watch

        if not args.paths or "-" in args.paths:
            raise InputError("--watch needs files or directories to watch (not standard input)")
        return watch(lambda: _check_watched(args, out, err), args.paths, out, err)
    return _check_once(args, out, err)


def _check_watched(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """One run of a watch: an input or configuration error is reported, and the watch goes on
    (the next save may fix it)."""
    try:
        return _check_once(args, out, err)
    except InputError as exc:
        err.write(f"flowql: error: {exc}\n")
    except FlowQLError as exc:
        err.write(exc.render(getattr(exc, "path", None) or "<config>") + "\n")
    return EXIT_USAGE


def _check_once(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """One run of ``flowql check``: read the inputs, check them, report."""
    from flowql.checker.check import Checker, Input
    from flowql.checker.report import render_findings, render_statistics

    config = _check_config(args)
    unreadable: list[str] = []
    # Filter files are read as they are checked (in the workers), unless they are to be fixed.
    unread: list[str] | None = None if args.fix or args.diff else []
    sources = _read_inputs(args, config, manifests=True, errors=unreadable, unread=unread)
    # Directories hold other TOML files too; only those with queries are manifests.
    sources = [s for s in sources if not (s.name.endswith(".toml") and "[[query]]" not in s.text)]
    inputs = [
        Input(s.name, _strip_bom(s.text)[1], path=s.path, manifest=s.name.endswith(".toml"))
        for s in sources
    ]
    inputs.extend(Input(path, None, path=path) for path in unread or ())
    jobs = args.jobs if args.jobs is not None else min(os.cpu_count() or 1, 8)
    if args.read:
        _target(args.read, reading=True)
    checker = Checker(config, read=args.read)
    fixed = 0
    report = out
    if args.fix or args.diff:
        from flowql.cli.fix import fix_inputs

        inputs, fixed = fix_inputs(checker, sources, inputs, args, out, err, unreadable)
        if args.diff:
            for message in unreadable:
                err.write(f"flowql: error: {message}\n")
            return EXIT_USAGE if unreadable else (EXIT_FINDINGS if fixed else EXIT_OK)
        if any(s.path is None for s in sources):
            report = err  # stdout holds the fixed text of standard input and --expr
    result = checker.run(inputs, jobs=max(1, jobs), read=read_filter_file)
    unreadable.extend(result.unreadable)
    if result.input_errors:
        err.write(
            render_findings(
                result.input_errors,
                "text",
                files_checked=0,
                tool_version="",
                summary=False,
                color=_color(args, err),
            )
        )
    # Every path that could not be read is an error: CI must not pass with files unchecked.
    for message in unreadable:
        err.write(f"flowql: error: {message}\n")
    failed_inputs = len({f.path for f in result.input_errors})
    # A file is no terminal: coloured only with --color always.
    color = _color(args, report if args.output_file is None else None)
    if args.statistics:
        fmt = "json" if args.format == "json" else "text"
        text = render_statistics(result.findings, fmt, color=color)
    else:
        text = render_findings(
            result.findings,
            args.format,
            files_checked=result.inputs_checked - failed_inputs,
            tool_version=__version__,
            # "All checks passed" would be untrue when a file could not even be read.
            summary=not ((failed_inputs or unreadable) and not result.findings),
            color=color,
            unsafe_fixes=args.unsafe_fixes,
            fixed=fixed,
        )
    if args.output_file is not None:
        _write_report(args.output_file, text)
    else:
        report.write(text)
    if unreadable:
        return EXIT_USAGE
    return result.exit_code(strict=config.strict, exit_zero=args.exit_zero)


def _color(args: argparse.Namespace, stream: TextIO | None) -> bool:
    """Whether to colour what goes to ``stream``: ``--color always`` or ``never``, else when it
    is a terminal and ``NO_COLOR`` is not set."""
    from flowql.terminal import wants_color

    return wants_color(stream, args.color)


def _write_report(path: str, report: str) -> None:
    """``--output-file``: the report replaces the file's text (a missing directory, or one that
    cannot be written, is an input error)."""
    from flowql.files import write_atomic

    try:
        write_atomic(path, report, replace=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def _read_inputs(
    args: argparse.Namespace,
    config: Config,
    *,
    manifests: bool,
    errors: list[str],
    unread: list[str] | None = None,
) -> list[Source]:
    """The inputs of check and fmt: directories walked as the configuration says; with
    ``--force-exclude``, paths named on the command line are left out when ``exclude`` matches
    them too (pre-commit names every staged file, those in vendor/ among them)."""
    paths = list(args.paths)
    stdin_filename = args.stdin_filename
    if args.force_exclude:
        paths = [
            p
            for p in paths
            if not (_stdin_excluded(args, config) if p == "-" else config.is_excluded(p))
        ]
        if not paths and not args.expr and args.paths:
            return []  # every path named is excluded: nothing to do, and nothing wrong
    return read_sources(
        args.expr,
        _walk_paths(paths, config, manifests=manifests, errors=errors),
        stdin_filename=stdin_filename,
        errors=errors,
        unread=unread,
    )


def _stdin_excluded(args: argparse.Namespace, config: Config) -> bool:
    """Whether ``--force-exclude`` leaves standard input out: the name given to it is one that
    ``exclude`` matches."""
    name = args.stdin_filename
    return bool(args.force_exclude and name is not None and config.is_excluded(name))


def _target(name: str, *, reading: bool = False) -> Target:
    """The target of that name, or a usage error with "did you mean"; with ``reading``, one
    whose text form can be read."""
    from flowql.targets import TargetError, get_target

    try:
        found = get_target(name)
    except TargetError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise InputError(f"{exc.message}{hint}") from None
    if reading and not found.reads:
        raise InputError(f"the {found.name} target has no text form to read")
    return found


def _cmd_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.syntax import parse
    from flowql.targets import TargetError

    target = _target(args.target)
    reader = _target(args.read, reading=True) if args.read else None
    if target.output == "predicate":
        raise InputError(
            "the python target compiles to a predicate for Python code "
            "(flowql.compile(text, target='python').predicate); it has no text to print"
        )
    if target.output == "expression":
        raise InputError(
            "the polars target compiles to an expression for Python code "
            "(flowql.compile(text, target='polars', schema=df.schema).expression); it has no "
            "text to print"
        )
    if target.output == "mask":
        raise InputError(
            "the pandas target compiles to a mask for Python code "
            "(flowql.compile(text, target='pandas', schema=df).mask(df)); it has no text to print"
        )
    options = _target_options(target, args)
    sources = read_sources(args.expr, args.paths, stdin_filename=args.stdin_filename)
    results: list[tuple[Source, object]] = []
    errors: list[tuple[Source, FlowQLError]] = []
    for source in sources:
        text = _strip_bom(source.text)[1]
        try:
            expr = reader.read(text) if reader is not None else parse(text)
            compiled = target.compile(expr, **options)
        except TargetError as exc:  # an option the target refuses: a usage error
            hint = f" ({exc.hint})" if exc.hint else ""
            raise InputError(f"{exc.message}{hint}") from None
        except FlowQLError as exc:
            # Keep the text with the error, for the code frame.
            errors.append((source, FlowQLError(exc.diagnostics, text)))
            continue
        results.append((source, compiled.to_dict()))
        for warning in compiled.warnings:
            if args.format == "text":
                from flowql.diagnostics import render

                err.write(render(warning, text, source.name) + "\n")
    if args.format == "json":
        import json

        if results:
            document: object = (
                results[0][1] if len(sources) == 1 else [{"file": s.name, **r} for s, r in results]  # type: ignore[dict-item]
            )
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
        if errors:
            json.dump(_error_dicts(errors), err, indent=2, ensure_ascii=False)
            err.write("\n")
    else:
        for _, result in results:
            out.write(_compiled_text(result) + "\n")
        for source, error in errors:
            err.write(error.render(source.name) + "\n")
    return EXIT_FINDINGS if errors else EXIT_OK


def _target_options(target: Target, args: argparse.Namespace) -> dict[str, object]:
    """``--dialect`` and ``--schema COLUMN=TYPE`` as the options of a target that takes them."""
    options: dict[str, object] = {}
    if args.dialect is not None:
        options["dialect"] = args.dialect
    if args.schema:
        schema: dict[str, str] = {}
        tables: list[str] = []
        for item in args.schema:
            column, equals, kind = item.partition("=")
            if not equals and item.lower().endswith((".parquet", ".pq")):
                tables.append(item)  # the file's own schema
                continue
            if not equals or not column:
                raise InputError(f"--schema takes COLUMN=TYPE or FILE.parquet, not {item!r}")
            schema[column] = kind
        if len(tables) > 1:
            raise InputError("--schema takes one Parquet file")
        # A file alone is passed as it is, so that its columns of other types are refused by
        # name (FQ601); COLUMN=TYPE given with it overrides the file's kinds.
        options["schema"] = tables[0] if tables and not schema else schema
        if tables and schema:
            from flowql.targets.table_schemas import table_schema

            try:
                options["schema"] = {**table_schema(tables[0]), **schema}
            except FlowQLError as exc:
                raise InputError(exc.message) from None
    for name in options:
        if name not in target.options:
            raise InputError(f"the {target.name} target takes no --{name} (the sql target does)")
    return options


def _compiled_text(result: object) -> str:
    assert isinstance(result, dict)
    if "params" in result:
        from flowql.urls import encode_query

        return encode_query(result["params"], mark=False)
    return str(result["filter"])


def _cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.code is None:
        from flowql.checker.report import render_rules

        out.write(render_rules(args.format))
        return EXIT_OK
    from flowql.checker.report import UnknownRuleError, render_rule

    try:
        out.write(render_rule(args.code, args.format))
    except UnknownRuleError as exc:
        raise InputError(str(exc)) from None
    return EXIT_OK


def _cmd_completion(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.cli.completion import script

    out.write(script(args.shell, build_parser()))  # every command built, not only this one
    return EXIT_OK


def _cmd_repl(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.extras import require_extra

    require_extra("repl", "The REPL and its scripts")
    from flowql.repl import main as repl

    return repl(target=args.target, model=args.model, flow=args.flow, stdout=out, stderr=err)


def _cmd_server(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.extras import require_extra

    require_extra("server", "The language server")
    from flowql.server import main as server

    return server()


def _cmd_sandbox(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flowql.sandbox import serve

    now = None
    if args.now is not None:
        from flowql import times

        # Read as every other time is (a naive one as UTC; epochs and -2h work too).
        try:
            now = times.parse_time(args.now)
        except times.TimeError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            raise InputError(f"--now: {exc.message}{hint}") from None
    try:
        return serve(
            args.host,
            args.port,
            seed=args.seed,
            now=now,
            latency=args.latency,
            rate_limits=False if args.no_rate_limits else None,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            quiet=args.quiet,
            out=err,
            inclusive_end=args.inclusive_end,
        )
    except (ValueError, OverflowError) as exc:  # a bad rate, latency or port number
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})"
        ) from None


# --- the parser ----------------------------------------------------------------------------


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories (searched for *.flowql files); - reads standard input",
    )
    parser.add_argument(
        "-e",
        "--expr",
        action="append",
        metavar="TEXT",
        help="a filter given inline (repeatable)",
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the name to show for standard input in messages",
    )


def _add_force_exclude(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force-exclude",
        action="store_true",
        help="leave out the paths that exclude matches even when named on the command line "
        "(as pre-commit names them)",
    )


# The one-line help of the commands whose options live with the client, the REPL, the sandbox
# and the server (their modules give it to their parsers).
COMMAND_HELP = {
    "query": "run a query against an API (or the built-in sandbox)",
    "model": "show or fetch a data model",
    "repl": "write filters interactively, with completion and live checks",
    "sandbox": "serve the four APIs locally, from synthetic data",
    "server": "the language server for editors (LSP over standard input and output)",
    "filter": "filter CSV, JSON, NDJSON or Parquet files with a FlowQL filter",
}


COMMANDS = (
    "parse",
    "fmt",
    "check",
    "compile",
    "query",
    "model",
    "filter",
    "completion",
    "rules",
    "repl",
    "sandbox",
    "server",
)
"""Every command of ``flowql``, in the order ``flowql --help`` lists them."""


def _command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when its first word is one (``flowql``'s own options, --help
    and --version, take no value, and with one of them first the whole parser is wanted)."""
    first = next(iter(argv), None)
    return first if first in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``flowql`` command; given the ``command`` about to run, only
    that command's parser is built: each parser costs start-up time (argparse looks for
    translations of its texts), and ``flowql check`` runs on every commit."""
    if command not in COMMANDS:
        command = None

    def builds(name: str) -> bool:
        return command is None or command == name

    parser = argparse.ArgumentParser(
        prog="flowql",
        description="Write, check, translate and run FlowQL filters.",
        epilog="Exit codes: 0 all is well, 1 findings, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"flowql {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    if builds("parse"):
        p = commands.add_parser(
            "parse",
            help="print the syntax tree of filters",
            description="Parse filters and print their syntax tree, or the errors in them.",
        )
        _add_inputs(p)
        p.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text (an indented tree) or json (one document on stdout; errors as JSON on "
            "stderr)",
        )
        p.add_argument("--no-spans", action="store_true", help="leave source positions out")
        p.set_defaults(handler=_cmd_parse)

    if builds("fmt"):
        f = commands.add_parser(
            "fmt",
            help="format filters canonically",
            description="Format filters canonically. Files are rewritten in place (comments "
            "are kept); inline and standard-input filters are printed to stdout. Settings "
            "(line-length, include, exclude) come from the configuration flowql check reads; "
            "flags win.",
        )
        _add_inputs(f)
        f.add_argument(
            "--check",
            action="store_true",
            help="write nothing; list the files that would change and exit 1 if any would",
        )
        f.add_argument(
            "--diff",
            action="store_true",
            help="write nothing; print a unified diff of the changes and exit 1 if any",
        )
        f.add_argument(
            "--line-length",
            type=_positive,
            metavar="N",
            help="break filters longer than N characters over several lines (default: line-length "
            "in the configuration, else 88)",
        )
        f.add_argument(
            "--config", metavar="PATH", help="read settings from this file only (as check does)"
        )
        _add_force_exclude(f)
        f.set_defaults(handler=_cmd_fmt)

    if builds("check"):
        c = commands.add_parser(
            "check",
            help="check filters and query manifests against a data model",
            description="Check .flowql files, query manifests (TOML) and inline filters: "
            "syntax, keys against the data model, values, logic, style and the request URL "
            "budget. Settings come from [tool.flowql] in the nearest pyproject.toml (or "
            "flowql.toml); flags win.",
        )
        _add_inputs(c)
        c.add_argument(
            "--format",
            choices=("text", "concise", "json", "github", "sarif"),
            default="text",
            help="how to show findings (default text)",
        )
        c.add_argument(
            "--model", metavar="PATH", help="a data model JSON file (default: built-in demo)"
        )
        c.add_argument("--flow", metavar="ID", help="check keys against this flow of the model")
        c.add_argument("--target", metavar="TARGET", help="the target API (default conviva-flow)")
        c.add_argument(
            "--endpoint",
            metavar="ENDPOINT",
            help="real-time, historical, sessions/content, sessions/ad, ...",
        )
        from flowql.apis import URL_LIMIT

        c.add_argument(
            "--url-limit", type=int, metavar="N", help=f"request URL limit (default {URL_LIMIT})"
        )
        c.add_argument("--select", metavar="CODES", help="only these codes or prefixes (FQ1,FQ301)")
        c.add_argument("--ignore", metavar="CODES", help="never these codes or prefixes")
        c.add_argument(
            "--line-length",
            type=_positive,
            metavar="N",
            help="the line length of the format check, FQ402 (default: line-length in the "
            "configuration, else 88; as flowql fmt)",
        )
        c.add_argument("--strict", action="store_true", help="warnings fail the check too (exit 1)")
        c.add_argument(
            "--exit-zero",
            action="store_true",
            help="exit 0 even when errors are found (report only)",
        )
        c.add_argument("--config", metavar="PATH", help="read settings from this file only")
        c.add_argument(
            "--show-settings",
            action="store_true",
            help="print the configuration file used and every setting in force, then exit",
        )
        c.add_argument(
            "--read",
            metavar="TARGET",
            help="the filters are written in this target's syntax (klaviyo, conviva-flow, "
            "conviva-sessions), not FlowQL",
        )
        c.add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="check files, and the queries of a large manifest, in N processes (default: "
            "one per CPU, up to 8; 1 to stay in one)",
        )
        c.add_argument(
            "--statistics",
            action="store_true",
            help="print how many findings there are of each code, instead of the findings",
        )
        c.add_argument(
            "--output-file",
            "-o",
            metavar="PATH",
            help="write the report to this file, not stdout (in the --format chosen)",
        )
        c.add_argument(
            "--color",
            choices=("auto", "always", "never"),
            default="auto",
            help="colour text and concise output: auto (on a terminal, unless NO_COLOR is set)",
        )
        c.add_argument(
            "--watch",
            action="store_true",
            help="check again whenever a file changes, until Ctrl-C",
        )
        _add_force_exclude(c)
        c.add_argument(
            "--fix",
            action="store_true",
            help="make the safe fixes in place (standard input and --expr: print the fixed text), "
            "then report what is left",
        )
        c.add_argument(
            "--unsafe-fixes",
            action="store_true",
            help="make (with --fix, --diff) and count the fixes that may change what a filter "
            "matches too",
        )
        c.add_argument(
            "--diff",
            action="store_true",
            help="write nothing; print a unified diff of the fixes and exit 1 if there are any",
        )
        c.set_defaults(handler=_cmd_check)

    if builds("compile"):
        k = commands.add_parser(
            "compile",
            help="compile filters for a target API",
            description="Compile FlowQL filters (or, with --read, another target's filter text) "
            "for a target API. A target that cannot express part of a filter refuses it, pointing "
            "at that part; it never emits a filter that means something else.",
        )
        _add_inputs(k)
        k.add_argument(
            "--target",
            required=True,
            metavar="TARGET",
            help="conviva-flow, conviva-sessions, klaviyo, a Klaviyo endpoint family, or sql",
        )
        k.add_argument("--read", metavar="TARGET", help="read the input as this target's text")
        k.add_argument(
            "--dialect",
            metavar="DIALECT",
            help="for --target sql: duckdb (the default), sqlite, postgres, spark, databricks, "
            "bigquery, snowflake, trino, clickhouse or mysql",
        )
        k.add_argument(
            "--schema",
            action="append",
            metavar="COLUMN=TYPE|FILE",
            help="for --target sql: a column's type (string, integer, float, boolean, list[...]); "
            "repeat for each column; or a Parquet FILE, whose schema gives the columns' types",
        )
        k.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help='text, or json: {"target": T, "filter": ...} or {"target": T, "params": [...]}',
        )
        k.set_defaults(handler=_cmd_compile)

    # `query` and `model pull` are in flowql/cli/query.py.
    if builds("query") or builds("model"):
        from flowql.cli.query import add_commands

        add_commands(commands, COMMAND_HELP)

    # `filter` is in flowql/cli/filter.py (it reuses query's output options).
    if builds("filter"):
        from flowql.cli.filter import add_command

        add_command(commands)

    if builds("completion"):
        sh = commands.add_parser(
            "completion",
            help="print the shell completion script for bash, zsh or fish",
            description="Print a completion script for SHELL, made from these very options. Load "
            'it once: eval "$(flowql completion bash)" in ~/.bashrc (zsh: ~/.zshrc), or flowql '
            "completion fish > ~/.config/fish/completions/flowql.fish. Completing never runs "
            "flowql.",
        )
        sh.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
        sh.set_defaults(handler=_cmd_completion)

    if builds("rules"):
        r = commands.add_parser(
            "rules",
            help="list every diagnostic code, or explain one",
            description="List every diagnostic code, or, given one (FQ301, or its name), print its "
            "documentation: what docs/rules says of it.",
        )
        r.add_argument("code", nargs="?", metavar="CODE", help="the code to explain (FQ301)")
        r.add_argument("--format", choices=("text", "json"), default="text")
        r.set_defaults(handler=_cmd_rules)

    if builds("repl"):
        i = commands.add_parser(
            "repl",
            help=COMMAND_HELP["repl"],
            description="An interactive prompt that highlights, completes and checks filters as "
            "they are typed. With standard input not a terminal, runs its lines as a script "
            "(commands and filters) and exits 1 at the first error.",
        )
        i.add_argument("--target", metavar="TARGET", help="the target to start with (conviva-flow)")
        i.add_argument("--model", metavar="PATH", help="a data model JSON file (default: built-in)")
        i.add_argument("--flow", metavar="ID", help="the flow to start with")
        i.set_defaults(handler=_cmd_repl)
    if builds("sandbox"):
        s = commands.add_parser(
            "sandbox",
            help=COMMAND_HELP["sandbox"],
            description="Run a local server that behaves like the Conviva DPI Flow and Sessions "
            "V3, Klaviyo and Flow XO APIs, each at its real paths, answering from deterministic "
            "synthetic data. Every API accepts the secret 'sandbox'. Runs until Ctrl-C.",
        )
        s.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
        s.add_argument(
            "--port",
            type=int,
            default=8787,
            metavar="N",
            help="the port (8787; 0 picks a free one)",
        )
        s.add_argument("--seed", type=int, default=0, metavar="N", help="which synthetic data (0)")
        s.add_argument(
            "--now",
            metavar="TIME",
            help="fix the clock at this time (ISO 8601, epoch, -2h; default: real time)",
        )
        s.add_argument(
            "--latency", type=float, default=0.0, metavar="SECONDS", help="add to every response"
        )
        s.add_argument(
            "--error-rate", type=float, default=0.0, metavar="P", help="answer this share with 503"
        )
        s.add_argument(
            "--drop-rate",
            type=float,
            default=0.0,
            metavar="P",
            help="drop this share of connections",
        )
        s.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
        s.add_argument("--quiet", action="store_true", help="no line on stderr per request")
        s.add_argument(
            "--inclusive-end",
            action="store_true",
            help="historical Flow answers include the bucket at the range's end, as the guide's "
            "example does",
        )
        s.set_defaults(handler=_cmd_sandbox)
    if builds("server"):
        v = commands.add_parser(
            "server",
            help=COMMAND_HELP["server"],
            description="Run the FlowQL language server over standard input and output, for "
            "an editor to start: diagnostics as you type in .flowql files, query manifests and "
            "flowql's configuration (as flowql check finds them), completion, hover, formatting "
            "and quick fixes. Needs the server extra: pip install 'flowql[server]'.",
        )
        v.add_argument(
            "--stdio",
            action="store_true",
            help="talk over standard input and output (the default and only way; editors "
            "that pass it are understood)",
        )
        v.set_defaults(handler=_cmd_server)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowql`` command; return its exit code."""
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits 2 on usage errors and 0 for --help/--version.
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # The words as given, for diagnostics that point into the command line.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from flowql.terminal import safe_streams

    safe_streams()  # a character the terminal cannot show is replaced, never a traceback
    try:
        code: int = args.handler(args, sys.stdout, sys.stderr)
        sys.stdout.flush()
    except InputError as exc:
        sys.stderr.write(f"flowql: error: {exc}\n")
        return EXIT_USAGE
    except FlowQLError as exc:
        from flowql.extras import MissingExtraError

        # A configuration or data model that cannot be read: nothing was checked. A missing
        # extra is about no file.
        where = None if isinstance(exc, MissingExtraError) else "<config>"
        sys.stderr.write(exc.render(getattr(exc, "path", None) or where) + "\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (flowql parse ... | head): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    return code
