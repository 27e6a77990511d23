"""What the language server finds in a document, as ``flowql check`` would find it.

A document is a ``.flowql`` file (one filter), a query manifest (a TOML file with ``[[query]]``
tables) or flowql's configuration (``flowql.toml``, ``[tool.flowql]`` in ``pyproject.toml``).
:class:`Settings` finds the configuration of a document's directory as ``flowql check`` does
(:func:`flowql.checker.config.find_config`) and keeps one :class:`~flowql.checker.check.Checker`
per configuration, its data model loaded once; both are read again when their files change.
:func:`analyze` checks a document's text (saved or not) and never raises: text that cannot be
read is a diagnostic, never a crash of the server.
"""

from __future__ import annotations

import os

from flowql.checker.check import Checker, Input
from flowql.checker.config import Config, ConfigError
from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError
from flowql.server.positions import Lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flowql.model import DataModel

__all__ = ["CONFIG", "FILTER", "MANIFEST", "OTHER", "Analysis", "Settings", "analyze", "kind_of"]

FILTER = "filter"
MANIFEST = "manifest"
CONFIG = "config"
OTHER = "other"

_CONFIG_NAMES = ("flowql.toml", "pyproject.toml")


def kind_of(path: str, language_id: str | None = None) -> str:
    """What a document is, by its file name (and the editor's language id for an unsaved one)."""
    name = os.path.basename(path)
    if name in _CONFIG_NAMES:
        return CONFIG
    if name.endswith(".flowql") or language_id == "flowql":
        return FILTER
    if name.endswith(".toml"):
        return MANIFEST
    return OTHER


def _stamp(path: str | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class Setting:
    """The configuration of one directory, the checker made with it and what could not be read
    (a configuration with errors: the checks are made with the defaults, and the error shown)."""

    __slots__ = ("checker", "config", "problem", "stamps")

    def __init__(self, config: Config, problem: Diagnostic | None) -> None:
        self.config = config
        self.problem = problem
        self.checker = Checker(config, memo=True)
        self.stamps = (_stamp(config.path), _stamp(config.model))

    def fresh(self) -> bool:
        """Whether the configuration file and the data model are as when they were read."""
        return self.stamps == (_stamp(self.config.path), _stamp(self.config.model))


class Settings:
    """The configurations of the directories documents are in, found as ``flowql check`` finds
    them and read again when a configuration or data model file changes."""

    def __init__(self) -> None:
        self._by_directory: dict[str, Setting] = {}

    def for_path(self, path: str | None) -> Setting:
        """The setting of the document at ``path`` (None: an unsaved document, the defaults)."""
        directory = os.path.dirname(os.path.abspath(path)) if path else ""
        found = self._by_directory.get(directory)
        if found is not None and found.fresh():
            return found
        from flowql.checker.config import find_config

        problem = None
        try:
            config = find_config(directory) if directory else Config()
        except ConfigError as exc:
            config = Config()
            where = os.path.basename(exc.path or "") or "the configuration"
            first = exc.diagnostics[0]
            problem = Diagnostic(
                "FQ803",
                f"flowql's configuration cannot be read ({where}): {first.message}",
                None,
                hint=f"fix {exc.path or where}; until then the defaults are used",
            )
        found = self._by_directory[directory] = Setting(config, problem)
        return found

    def forget(self) -> None:
        """Read every configuration again at the next use (a file was created or deleted)."""
        self._by_directory.clear()

    def paths(self) -> set[str]:
        """The configuration and data model files in use, to watch."""
        out: set[str] = set()
        for setting in self._by_directory.values():
            out.update(p for p in (setting.config.path, setting.config.model) if p)
        return out


class Analysis:
    """One version of a document, checked: its text, kind, setting and diagnostics (spans are
    offsets into ``text``)."""

    __slots__ = (
        "_scanner",
        "diagnostics",
        "failure",
        "kind",
        "lines",
        "memo",
        "path",
        "setting",
        "text",
    )

    def __init__(
        self,
        text: str,
        kind: str,
        path: str | None,
        setting: Setting,
        diagnostics: list[Diagnostic],
        encoding: str,
        failure: str | None = None,
    ) -> None:
        self.text = text
        self.kind = kind
        self.path = path
        self.setting = setting
        self.diagnostics = diagnostics
        self.failure = failure
        """Why the document could not be checked (a bug in flowql), or None."""
        self.lines = Lines(text, encoding)
        self._scanner: object | None = None
        self.memo: dict[str, Any] = {}
        """What the features worked out from this version of the text, kept for the next."""

    def scanner(self) -> Any:
        """The TOML scan of a manifest's text (:func:`flowql.checker.manifest.scan_toml`: where
        each value is), made once."""
        if self._scanner is None:
            from flowql.checker.manifest import scan_manifest

            self._scanner = scan_manifest(self.text, self.setting.checker.manifest_memo)
        return self._scanner

    def model_for(self, target: str | None, endpoint: str | None) -> DataModel | None:
        """The data model a filter for this target and endpoint is checked against, or None
        when it cannot be read."""
        try:
            return self.setting.checker.model_for_target(target, endpoint)
        except FlowQLError:
            return None


def analyze(
    text: str, path: str | None, kind: str, settings: Settings, encoding: str = "utf-16"
) -> Analysis:
    """Check a document's text; every problem, even flowql's own, is a diagnostic."""
    setting = settings.for_path(path)
    name = path or "<unsaved>"
    found: list[Diagnostic] = []
    failure = None
    try:
        if kind == CONFIG:
            found = _config_diagnostics(text, name)
        elif kind in (FILTER, MANIFEST):
            if setting.problem is not None:
                found.append(setting.problem)
            found.extend(_check(setting.checker, text, name, path, kind == MANIFEST))
    except Exception as exc:  # a bug in flowql must not take the editor's server down
        found = []
        failure = f"flowql could not check this document ({type(exc).__name__}: {exc})"
    return Analysis(text, kind, path, setting, found, encoding, failure)


def _check(
    checker: Checker, text: str, name: str, path: str | None, manifest: bool
) -> list[Diagnostic]:
    if text.startswith("\ufeff"):
        # flowql check reads a file without its byte order mark; positions here are the text's.
        text = " " + text[1:]
    item = Input(name, text, path=path, manifest=manifest)
    try:
        return checker.check_manifest(item) if manifest else checker.check_filter(item)
    except FlowQLError as exc:
        return list(exc.diagnostics)


def _config_diagnostics(text: str, path: str) -> list[Diagnostic]:
    from flowql.checker.config import read_config_text

    try:
        config = read_config_text(text, path)
    except ConfigError as exc:
        return list(exc.diagnostics)
    if config.model is None:
        return []
    from flowql.model import load_model

    try:
        load_model(config.model)
    except FlowQLError as exc:
        return [_at_model(text, path, d) for d in exc.diagnostics]
    return []


def _at_model(text: str, path: str, diagnostic: Diagnostic) -> Diagnostic:
    """A data model's problem, placed at the ``model`` setting that names it."""
    from flowql.checker.manifest import entry_span, scan_toml

    keys: tuple[str, ...] = ("tool", "flowql", "model") if path.endswith("pyproject.toml") else ()
    scanner = scan_toml(text)
    span = None
    for key in (keys, ("model",)) if keys else (("model",),):
        span = entry_span(text, scanner, key)
        if span is not None:
            break
    return Diagnostic(
        diagnostic.code,
        diagnostic.message,
        span,
        hint=diagnostic.hint,
        severity=diagnostic.severity,
    )
