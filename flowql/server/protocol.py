"""The pygls language server: LSP messages in, :mod:`flowql.server.features` answers out.

Every open document is checked when it opens and after every change, and its diagnostics are
published at once. The configuration and the data model are found as ``flowql check`` finds
them (:class:`flowql.server.documents.Settings`) and read again when they change: on the
client's file events for them, when one is saved in the editor, and, failing both, when their
files' times or sizes differ at the next check. Each open document is then checked again.
"""

from __future__ import annotations

import os

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from flowql import __version__
from flowql.server import features
from flowql.server.documents import CONFIG, Analysis, Settings, analyze, kind_of

__all__ = ["FlowQLServer", "make_server"]

_TRIGGERS = [" ", "(", ",", "'", '"', "=", "!", "~", "_", "."]
_WATCHED = ["**/flowql.toml", "**/pyproject.toml", "**/*.json"]


class FlowQLServer(LanguageServer):
    """The language server, with what it knows of the open documents."""

    def __init__(self) -> None:
        super().__init__("flowql", __version__)
        self.settings = Settings()
        self.analyses: dict[str, Analysis] = {}
        self.languages: dict[str, str] = {}

    def encoding(self) -> str:
        """The position encoding agreed with the client (``utf-16`` unless both said other)."""
        found = self.workspace.position_encoding
        return str(getattr(found, "value", found) or "utf-16")

    def analysis(self, uri: str) -> Analysis:
        """The document's analysis for its current text (checked again when that changed)."""
        document = self.workspace.get_text_document(uri)
        text = document.source
        known = self.analyses.get(uri)
        if known is not None and known.text == text:
            return known
        path = to_fs_path(uri) if uri.startswith("file:") else None
        kind = kind_of(path or uri, self.languages.get(uri))
        found = self.analyses[uri] = analyze(text, path, kind, self.settings, self.encoding())
        return found

    def check(self, uri: str) -> None:
        """Check a document and publish what was found."""
        document = self.workspace.get_text_document(uri)
        self.analyses.pop(uri, None)
        found = self.analysis(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=document.version, diagnostics=features.to_lsp_diagnostics(found)
            )
        )

    def reload(self) -> None:
        """A configuration or data model changed: read them again, check every document."""
        self.settings.forget()
        for uri in list(self.analyses):
            self.check(uri)


def _offset(server: FlowQLServer, uri: str, position: types.Position) -> tuple[Analysis, int]:
    found = server.analysis(uri)
    return found, found.lines.offset(position.line, position.character)


def make_server() -> FlowQLServer:
    """The language server, its features registered."""
    server = FlowQLServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: FlowQLServer, params: types.InitializedParams) -> None:
        workspace = ls.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is None or not watched.dynamic_registration:
            return  # saves in the editor and the files' times still reload them
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in _WATCHED]
        )
        registration = types.Registration(
            id="flowql-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        ls.client_register_capability(types.RegistrationParams(registrations=[registration]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FlowQLServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.languages[params.text_document.uri] = params.text_document.language_id
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FlowQLServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: FlowQLServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = to_fs_path(uri) or uri
        if kind_of(path) == CONFIG or path.endswith(".json"):
            ls.reload()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FlowQLServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.analyses.pop(uri, None)
        ls.languages.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_files(ls: FlowQLServer, params: types.DidChangeWatchedFilesParams) -> None:
        in_use = ls.settings.paths()
        for change in params.changes:
            path = to_fs_path(change.uri) or ""
            if os.path.basename(path) in ("flowql.toml", "pyproject.toml") or path in in_use:
                ls.reload()
                return

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=_TRIGGERS)
    )
    def completion(ls: FlowQLServer, params: types.CompletionParams) -> types.CompletionList:
        found, offset = _offset(ls, params.text_document.uri, params.position)
        return types.CompletionList(is_incomplete=False, items=features.complete(found, offset))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: FlowQLServer, params: types.HoverParams) -> types.Hover | None:
        found, offset = _offset(ls, params.text_document.uri, params.position)
        return features.hover(found, offset)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(
        ls: FlowQLServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        return features.format_edits(ls.analysis(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_RANGE_FORMATTING)
    def range_formatting(
        ls: FlowQLServer, params: types.DocumentRangeFormattingParams
    ) -> list[types.TextEdit] | None:
        found = ls.analysis(params.text_document.uri)
        start, end = params.range.start, params.range.end
        within = (
            found.lines.offset(start.line, start.character),
            found.lines.offset(end.line, end.character),
        )
        return features.format_edits(found, within)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: FlowQLServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        found = ls.analysis(uri)
        start, end = params.range.start, params.range.end
        low = found.lines.offset(start.line, start.character)
        high = found.lines.offset(end.line, end.character)
        return features.code_actions(found, uri, low, high)

    return server


def serve() -> int:
    """Serve LSP over standard input and output until the client says exit."""
    import sys

    make_server().start_io(sys.stdin.buffer, sys.stdout.buffer)
    # pygls closes standard output when it stops: what flushes it on the way out must not fail.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return 0
