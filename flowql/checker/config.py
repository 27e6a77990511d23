"""Configuration: ``[tool.flowql]`` in ``pyproject.toml``, or a ``flowql.toml``.

:func:`find_config` looks from a directory upward for the first ``flowql.toml`` (settings at its
top level) or ``pyproject.toml`` with a ``[tool.flowql]`` table (a ``pyproject.toml`` without one
is passed over); with neither, it returns the defaults. Keys are written in kebab-case
(``url-limit``); snake_case (``url_limit``) works too. Command-line flags win over the file:
:meth:`Config.merged`.

Finding no configuration costs a few ``stat`` calls and no TOML parsing: ``tomllib`` is imported
only to read a file that exists.
"""

from __future__ import annotations

import os

from flowql.apis import URL_LIMIT
from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from re import Pattern
    from typing import Any

    from flowql.ast import Span
    from flowql.checker.manifest import _Scanner

__all__ = [
    "CONFIG_FILES",
    "DEFAULT_INCLUDE",
    "Config",
    "ConfigError",
    "describe",
    "find_config",
    "load_config",
    "read_config_text",
    "resolve_config",
]

CONFIG_FILES = ("flowql.toml", "pyproject.toml")
"""The files :func:`find_config` looks for in each directory, in this order."""

DEFAULT_INCLUDE = ("*.flowql", "*.toml")
"""The files taken from a directory unless ``include`` says otherwise: filters and manifests."""

# What `flowql fmt` rewrites: a TOML file is a manifest, whose filters fmt leaves alone.
_MANIFEST_SUFFIX = ".toml"

_FIELDS = (
    "model",
    "target",
    "flow",
    "endpoint",
    "klaviyo_revision",
    "url_limit",
    "select",
    "ignore",
    "include",
    "exclude",
    "line_length",
    "strict",
)


class ConfigError(FlowQLError):
    """A configuration flowql cannot read (code FQ803). ``path`` is the file; the diagnostics'
    spans are in its text (``source``)."""

    def __init__(
        self,
        diagnostics: Diagnostic | Iterable[Diagnostic],
        source: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(diagnostics, source)
        self.path = path


class Config:
    """Settings for ``flowql check`` and ``flowql fmt``. Immutable.

    ``model``: a data model JSON file (resolved against the configuration file's directory), or
    None for the built-in demo model. ``target``, ``flow``, ``endpoint``: defaults for filters and
    queries that do not name their own. ``klaviyo_revision``: the Klaviyo API revision of the
    Klaviyo queries that name none (None: flowql's default, the newest it holds the spec of).
    ``url_limit``: the longest request URL the API takes.
    ``select``/``ignore``: code prefixes to report / never report (an empty ``select`` reports
    every code). ``include``: glob patterns of the files to take when searching a directory.
    ``exclude``: glob patterns of paths to skip there. Both are relative to the configuration
    file's directory. ``line_length``: of ``flowql fmt`` and of the format check (FQ402).
    ``strict``: warnings fail the check too. ``path``: the file the settings came from, or None
    for the defaults.
    """

    __slots__ = (*_FIELDS, "_included", "_patterns", "path")

    model: str | None
    target: str | None
    flow: str | None
    endpoint: str | None
    klaviyo_revision: str | None
    url_limit: int
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    line_length: int
    strict: bool
    path: str | None
    _patterns: list[tuple[Pattern[str], bool, bool]] | None
    _included: list[tuple[Pattern[str], bool, bool]] | None

    def __init__(
        self,
        *,
        model: str | None = None,
        target: str | None = None,
        flow: str | None = None,
        endpoint: str | None = None,
        klaviyo_revision: str | None = None,
        url_limit: int = URL_LIMIT,
        select: Iterable[str] = (),
        ignore: Iterable[str] = (),
        include: Iterable[str] = DEFAULT_INCLUDE,
        exclude: Iterable[str] = (),
        line_length: int = 88,
        strict: bool = False,
        path: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "model": model,
            "target": target,
            "flow": flow,
            "endpoint": endpoint,
            "klaviyo_revision": klaviyo_revision,
            "url_limit": url_limit,
            "select": tuple(c.upper() for c in select),
            "ignore": tuple(c.upper() for c in ignore),
            "include": tuple(include),
            "exclude": tuple(exclude),
            "line_length": line_length,
            "strict": strict,
            "path": path,
            "_patterns": None,
            "_included": None,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Config is immutable: cannot delete {name!r}")

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_FIELDS, "path")}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(self._values().values()))

    def __repr__(self) -> str:
        defaults = Config()._values()
        changed = [f"{k}={v!r}" for k, v in self._values().items() if v != defaults[k]]
        return f"Config({', '.join(changed)})"

    def merged(self, **overrides: object) -> Config:
        """A copy with the given settings replaced, as command-line flags replace the file's:
        a value of None means the flag was not given. ``model`` is taken as given (a path on
        the command line is relative to the working directory)."""
        values = self._values()
        for name, value in overrides.items():
            if name not in _FIELDS:
                raise TypeError(f"Config has no setting {name!r}")
            if value is not None:
                values[name] = value
        return Config(**values)

    @property
    def root(self) -> str:
        """The directory ``exclude`` patterns are relative to: the configuration file's, or the
        working directory when there is no file."""
        return os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()

    def is_excluded(self, path: str) -> bool:
        """Whether ``exclude`` matches ``path`` (a file or directory), or a directory it is in.

        Patterns are gitignore-like: one without a ``/`` (``*.tmp.flowql``, ``drafts``) matches a
        name at any depth; one with a ``/`` (``examples/broken/**``) matches from the
        configuration file's directory; ``*`` and ``?`` stay within a name, ``**`` spans
        directories, ``[abc]`` is a set; a trailing ``/`` matches directories only.
        """
        if not self.exclude:
            return False
        patterns = self._patterns
        if patterns is None:
            patterns = [_compile(p) for p in self.exclude]
            object.__setattr__(self, "_patterns", patterns)
        relative = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        parts = relative.split("/")
        is_dir = os.path.isdir(path)
        for regex, anchored, dir_only in patterns:
            for i in range(len(parts)):
                if dir_only and i == len(parts) - 1 and not is_dir:
                    continue
                candidate = "/".join(parts[: i + 1]) if anchored else parts[i]
                if regex.fullmatch(candidate):
                    return True
        return False

    def is_included(self, path: str) -> bool:
        """Whether ``include`` takes the file at ``path``: a pattern without a ``/`` matches its
        name, one with a ``/`` its path from the configuration file's directory (the syntax of
        ``exclude``)."""
        patterns = self._included
        if patterns is None:
            patterns = [_compile(p) for p in self.include]
            object.__setattr__(self, "_included", patterns)
        name = os.path.basename(path)
        relative: str | None = None
        for regex, anchored, dir_only in patterns:
            if dir_only:
                continue
            if anchored:
                if relative is None:
                    relative = os.path.relpath(os.path.abspath(path), self.root)
                    relative = relative.replace(os.sep, "/")
                if regex.fullmatch(relative):
                    return True
            elif regex.fullmatch(name):
                return True
        return False

    def files_under(
        self,
        directory: str,
        *,
        manifests: bool = True,
        onerror: Callable[[OSError], None] | None = None,
    ) -> list[str]:
        """The files ``flowql check`` (and, without ``manifests``, ``flowql fmt``) take from a
        directory, sorted: those ``include`` takes and ``exclude`` does not skip, outside
        directories whose name starts with ``.``. Configuration files are never among them, and
        without ``manifests`` no ``.toml`` file is. A directory that cannot be listed is given
        to ``onerror`` (raised when there is none): it is never skipped in silence."""
        found: list[str] = []
        for root, dirs, files in os.walk(directory, onerror=onerror or _raise):
            # Hidden directories (.git, .venv, ...) never hold filters worth checking.
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and not self.is_excluded(os.path.join(root, d))
            )
            for name in files:
                if name in CONFIG_FILES or (not manifests and name.endswith(_MANIFEST_SUFFIX)):
                    continue
                path = os.path.join(root, name)
                if self.is_included(path) and not self.is_excluded(path):
                    found.append(os.path.normpath(path))
        return sorted(found)

    def selects(self, code: str) -> bool:
        """Whether a code is reported: ``select`` names a prefix of it (or is empty) and
        ``ignore`` does not."""
        code = code.upper()
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)


# What an unset setting means, for describe().
_UNSET = {
    "model": "the built-in demo model",
    "target": "Conviva Flow",
    "flow": "keys of any flow",
    "klaviyo_revision": "the newest revision flowql holds the spec of",
}


def _raise(error: OSError) -> None:
    raise error


def describe(config: Config, *, start: str | None = None) -> str:
    """The settings in force, for ``flowql check --show-settings``: the file they came from (or
    that there is none), then one ``key = value`` line per setting, in a fixed order, values
    written as in TOML. ``start`` is where the search began, for the message when none was
    found."""
    import json

    if config.path is None:
        where = f" from {_shown_path(start)} upward" if start is not None else ""
        lines = [f"config file: none found{where}; the defaults apply"]
    else:
        table = " ([tool.flowql])" if os.path.basename(config.path) == "pyproject.toml" else ""
        lines = [f"config file: {_shown_path(config.path)}{table}"]
    lines.append(f"patterns relative to: {_shown_path(config.root)}")
    for field in _FIELDS:
        value = getattr(config, field)
        if value is None:
            shown = f"none ({_UNSET[field]})" if field in _UNSET else "none"
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, int):
            shown = str(value)
        elif isinstance(value, str):
            shown = json.dumps(
                _shown_path(value) if field == "model" else value, ensure_ascii=False
            )
        else:
            shown = "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
            if field == "select" and not value:
                shown += " (every code)"
        lines.append(f"{_KEBAB[field]} = {shown}")
    return "\n".join(lines) + "\n"


def _shown_path(path: str) -> str:
    """``path`` as ``--show-settings`` prints it: relative to the working directory when it is
    below it (as the user would type it), else absolute."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    if absolute == here:
        return "."
    if absolute.startswith(here + os.sep):
        return os.path.relpath(absolute, here)
    return absolute


def _compile(pattern: str) -> tuple[Pattern[str], bool, bool]:
    """A glob as (regex, anchored at the root, directories only)."""
    import re

    dir_only = pattern.endswith("/")
    pattern = pattern.strip("/") if dir_only else pattern
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (close := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1 : close]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out)), anchored, dir_only


# --- reading -----------------------------------------------------------------------------------


def resolve_config(path: str | None, start: str) -> Config:
    """The configuration of a command: the file given with ``--config`` (``path``), else the one
    :func:`find_config` finds from ``start``. ``flowql check`` and ``flowql fmt`` both use it, so
    they always agree on the settings. Raises :class:`ConfigError`."""
    return load_config(path) if path else find_config(start)


def find_config(start: str) -> Config:
    """The configuration for ``start`` (a directory, or a file in one): the first
    ``flowql.toml``, or ``pyproject.toml`` with a ``[tool.flowql]`` table, from there upward.
    The defaults when there is none. Raises :class:`ConfigError` for a file that is found but
    cannot be read."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        candidate = os.path.join(directory, "flowql.toml")
        if os.path.isfile(candidate):
            return load_config(candidate)
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            text = _read(candidate)
            # Most pyproject.toml files never mention flowql: no need to parse them.
            if "flowql" in text:
                config = _from_text(text, candidate, pyproject=True)
                if config is not None:
                    return config
        parent = os.path.dirname(directory)
        if parent == directory:
            return Config()
        directory = parent


def load_config(path: str) -> Config:
    """Read one configuration file: ``[tool.flowql]`` of a ``pyproject.toml`` (the defaults
    when it has none), the top level of any other TOML file. Raises :class:`ConfigError`."""
    return read_config_text(_read(path), path)


def read_config_text(text: str, path: str) -> Config:
    """The configuration in ``text``, the contents of the file at ``path`` (read as
    :func:`load_config` reads that file: ``[tool.flowql]`` of a ``pyproject.toml``), for text
    not saved yet (an editor's). Raises :class:`ConfigError`, its spans in ``text``."""
    pyproject = os.path.basename(path) == "pyproject.toml"
    config = _from_text(text, path, pyproject=pyproject)
    return config if config is not None else Config(path=path)


def _read(path: str) -> str:
    from flowql.files import read_regular

    try:
        data = read_regular(path)
    except ValueError:
        raise _error(f"{path!r}: not a valid path (it holds a NUL character)") from None
    except OSError as exc:
        raise _error(f"{path}: cannot read ({exc.strerror})", path=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"{path}: not UTF-8 text (offset {exc.start})", path=path) from None
    return text[1:] if text.startswith("\ufeff") else text


def _error(
    message: str,
    span: Span | None = None,
    hint: str | None = None,
    *,
    source: str | None = None,
    path: str | None = None,
) -> ConfigError:
    return ConfigError(Diagnostic("FQ803", message, span, hint=hint), source, path)


def _from_text(text: str, path: str, *, pyproject: bool) -> Config | None:
    from flowql.checker.manifest import TomlSyntaxError, toml_loads

    try:
        data = toml_loads(text)
    except TomlSyntaxError as exc:
        raise _error(
            f"{os.path.basename(path)} is not valid TOML: {exc.message}",
            exc.span(text),
            exc.hint,
            source=text,
            path=path,
        ) from None
    prefix: tuple[str, ...] = ()
    table: object = data
    if pyproject:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "flowql" not in tool:
            return None
        prefix = ("tool", "flowql")
        table = tool["flowql"]
    reader = _Reader(text, path, prefix)
    if not isinstance(table, dict):
        reader.report("[tool.flowql] must be a table", (), None, key_only=False)
        raise ConfigError(reader.problems, text, path)
    values = reader.read(table)
    if reader.problems:
        raise ConfigError(reader.problems, text, path)
    return Config(**values, path=path)


_KEBAB = {field: field.replace("_", "-") for field in _FIELDS}


class _Reader:
    """Checks the settings of one table, collecting every problem with its position."""

    def __init__(self, text: str, path: str, prefix: tuple[str, ...]) -> None:
        self.text = text
        self.path = path
        self.prefix = prefix
        self.problems: list[Diagnostic] = []
        self.where = "[tool.flowql]" if prefix else os.path.basename(path)
        self._scanner: _Scanner | None = None

    def span(self, key: tuple[str | int, ...], *, key_only: bool) -> Span | None:
        from flowql.checker.manifest import entry_span, scan_toml

        if self._scanner is None:
            self._scanner = scan_toml(self.text)
        return entry_span(self.text, self._scanner, (*self.prefix, *key), key=key_only)

    def read(self, table: dict[str, Any]) -> dict[str, Any]:
        from flowql.diagnostics import did_you_mean

        values: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        for key, value in table.items():
            field = key.replace("-", "_")
            if field not in _FIELDS:
                hint = did_you_mean(key, [*_KEBAB.values()]) or did_you_mean(field, _FIELDS)
                self.report(
                    f"unknown setting '{key}' in {self.where}",
                    (key,),
                    hint or f"the settings are {', '.join(_KEBAB.values())}",
                    key_only=True,
                )
                continue
            if field in spelled:
                self.report(
                    f"'{key}' repeats '{spelled[field]}' in {self.where}",
                    (key,),
                    "keep one of them",
                    key_only=True,
                )
                continue
            spelled[field] = key
            checked = self.check(field, key, value)
            if checked is not None:
                values[field] = checked
        return values

    def report(
        self, message: str, key: tuple[str | int, ...], hint: str | None, *, key_only: bool
    ) -> None:
        self.problems.append(
            Diagnostic("FQ803", message, self.span(key, key_only=key_only), hint=hint)
        )

    def check(self, field: str, key: str, value: object) -> object:
        """The value of a setting, converted, or None after reporting a problem."""
        if field in ("model", "target", "flow", "endpoint", "klaviyo_revision"):
            if not isinstance(value, str) or not value:
                example = {
                    "model": '"conviva-model.json"',
                    "target": '"conviva-flow"',
                    "flow": '"825"',
                    "endpoint": '"real-time"',
                    "klaviyo_revision": '"2026-07-15"',
                }[field]
                self.wrong(key, value, "a non-empty string", f"{key} = {example}")
                return None
            if field == "klaviyo_revision":
                from flowql.klaviyo_revisions import RevisionError, resolve_revision

                try:
                    resolve_revision(value)
                except RevisionError as exc:
                    self.report(f"{key}: {exc}", (key,), exc.hint, key_only=False)
                    return None
            if field == "model":
                value = os.path.expanduser(value)
                if not os.path.isabs(value):
                    value = os.path.normpath(
                        os.path.join(os.path.dirname(os.path.abspath(self.path)), value)
                    )
            return value
        if field in ("url_limit", "line_length"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                example = "4096" if field == "url_limit" else "88"
                self.wrong(key, value, "a positive whole number", f"{key} = {example}")
                return None
            return value
        if field == "strict":
            if not isinstance(value, bool):
                self.wrong(key, value, "true or false", f"{key} = true")
                return None
            return value
        # select, ignore, include, exclude: arrays of strings
        example = {"exclude": '["examples/broken/**"]', "include": '["*.flowql", "*.toml"]'}.get(
            field, '["FQ4"]'
        )
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.wrong(key, value, "an array of strings", f"{key} = {example}")
            return None
        if field == "exclude":
            return tuple(value)
        if field == "include":
            return self.include(key, value, example)
        return self.codes(key, value)

    def include(self, key: str, value: list[str], example: str) -> tuple[str, ...] | None:
        # An include that takes nothing, or only directories, is surely a mistake: say so.
        if not value:
            self.report(
                f"'{key}' in {self.where} is empty: no file would be taken from a directory",
                (key,),
                f"for example: {key} = {example}, or leave it out for that default",
                key_only=False,
            )
            return None
        ok = True
        for index, pattern in enumerate(value):
            if not pattern.strip("/"):
                problem, hint = "is empty", f"for example: {key} = {example}"
            elif pattern.endswith("/"):
                problem = "names directories, but include takes files"
                hint = f"to take every filter below it, write '{pattern}**/*.flowql'"
            else:
                continue
            self.report(f"'{pattern}' in {key} {problem}", (key, index), hint, key_only=False)
            ok = False
        return tuple(value) if ok else None

    def codes(self, key: str, value: list[str]) -> tuple[str, ...] | None:
        from flowql.codes import CODES
        from flowql.diagnostics import did_you_mean

        ok = True
        for index, code in enumerate(value):
            upper = code.strip().upper()
            if not upper.startswith("FQ") or not any(c.startswith(upper) for c in CODES):
                names = {c.name: c.code for c in CODES.values()}
                hint = (
                    f"'{code}' is the name of {names[code]}: write '{names[code]}'"
                    if code in names
                    else did_you_mean(upper, list(CODES))
                    if upper.startswith("FQ")
                    else None
                )
                self.report(
                    f"'{code}' in {key} is not a flowql code or code prefix",
                    (key, index),
                    hint or "codes look like FQ101; prefixes like FQ1 name a family",
                    key_only=False,
                )
                ok = False
        return tuple(c.strip().upper() for c in value) if ok else None

    def wrong(self, key: str, value: object, expected: str, example: str) -> None:
        from flowql.checker.manifest import _toml_type

        actual = "empty" if value == "" else f"not {_toml_type(value)}"
        self.report(
            f"'{key}' in {self.where} must be {expected}, {actual}",
            (key,),
            f"for example: {example}",
            key_only=False,
        )
