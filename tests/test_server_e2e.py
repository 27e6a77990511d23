"""``flowql server`` end to end: a real LSP client (pytest-lsp) drives ``python -m flowql server``
over stdio, and every answer is checked as an editor would use it: diagnostics with their exact
ranges (in a ``.flowql`` file and in a TOML manifest's text), completion at given positions,
hover, formatting edits applied, and quick fixes applied until the diagnostic is gone."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from flowql.formatter import format_file

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(  # type: ignore[untyped-decorator]
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "flowql", "server"], server_env=ENV
    )
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities())
    )
    yield
    await lsp_client.shutdown_session()


# --- helpers -------------------------------------------------------------------------------


class Doc:
    """An open document: its URI, text and version, as the client holds them."""

    def __init__(self, client: LanguageClient, path: Path, text: str, language: str) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = text
        self.version = 1
        self.language = language

    async def open(self) -> list[types.Diagnostic]:
        self.client.diagnostics.pop(self.uri, None)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(self.uri, self.language, self.version, self.text)
            )
        )
        return await published(self.client, self.uri)

    async def change(
        self, start: tuple[int, int], end: tuple[int, int], new: str
    ) -> list[types.Diagnostic]:
        """An incremental change, as editors send them."""
        self.version += 1
        self.text = apply(self.text, [_edit(start, end, new)])
        self.client.diagnostics.pop(self.uri, None)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=new
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version, uri=self.uri), [change]
            )
        )
        return await published(self.client, self.uri)

    async def replace(self, text: str) -> list[types.Diagnostic]:
        self.version += 1
        self.text = text
        self.client.diagnostics.pop(self.uri, None)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=self.version, uri=self.uri),
                [types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return await published(self.client, self.uri)

    def ident(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(self.uri)


async def published(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    async def wait() -> None:
        while uri not in client.diagnostics:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(wait(), 20)
    return list(client.diagnostics[uri])


def _edit(start: tuple[int, int], end: tuple[int, int], new: str) -> types.TextEdit:
    return types.TextEdit(types.Range(types.Position(*start), types.Position(*end)), new)


def _offset(text: str, position: types.Position) -> int:
    # The test texts that edits are applied to are ASCII: a character is a UTF-16 unit.
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """The text with LSP edits applied (all computed against the same text)."""
    spans = sorted(
        ((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def where(d: types.Diagnostic) -> tuple[int, int, int, int]:
    r = d.range
    return r.start.line, r.start.character, r.end.line, r.end.character


async def actions(client: LanguageClient, doc: Doc, line: int, char: int) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            doc.ident(),
            types.Range(types.Position(line, char), types.Position(line, char)),
            types.CodeActionContext(diagnostics=list(doc.client.diagnostics.get(doc.uri, []))),
        )
    )
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


MANIFEST = """\
# two queries; the second filter has a typo
[[query]]
name = "spain"
flow = "142"
filter = "geo_country == 'Spain'"

[[query]]
name = "typo"
filter = "geo_city == 'Zürich' AND geo_contry == 'Spain'"
"""


# --- diagnostics ---------------------------------------------------------------------------


async def test_diagnostics_on_open_and_after_each_change(
    client: LanguageClient, tmp_path: Path
) -> None:
    doc = Doc(client, tmp_path / "a.flowql", "geo_contry == 'Spain'\n", "flowql")
    found = await doc.open()
    assert [(d.code, where(d)) for d in found] == [("FQ101", (0, 0, 0, 10))]
    assert found[0].severity == types.DiagnosticSeverity.Error
    assert "did you mean 'geo_country'?" in found[0].message
    # Fixed by typing: nothing left.
    assert await doc.change((0, 0), (0, 10), "geo_country") == []
    # A single '=' is FQ006, exactly under the '='.
    found = await doc.change((0, 12), (0, 14), "=")
    assert [(d.code, where(d)) for d in found] == [("FQ006", (0, 12, 0, 13))]


async def test_diagnostics_of_a_manifest_are_in_the_toml_text(
    client: LanguageClient, tmp_path: Path
) -> None:
    doc = Doc(client, tmp_path / "queries.toml", MANIFEST, "toml")
    found = await doc.open()
    # Line 8 (0-based), after `filter = "geo_city == 'Zürich' AND `: the key's columns in
    # UTF-16 units, as the TOML text has them.
    line = MANIFEST.splitlines()[8]
    column = line.index("geo_contry")
    assert [(d.code, where(d)) for d in found] == [("FQ101", (8, column, 8, column + 10))]
    # Fixed in the manifest: diagnostics follow.
    assert await doc.change((8, column), (8, column + 10), "geo_country") == []


async def test_positions_count_utf16_units(client: LanguageClient, tmp_path: Path) -> None:
    # '😀' is one character and two UTF-16 code units: the key after it, character 20 of the
    # line, starts at unit 21.
    text = "geo_city == '😀' AND geo_contry == 'x'\n"
    doc = Doc(client, tmp_path / "emoji.flowql", text, "flowql")
    found = await doc.open()
    assert [(d.code, where(d)) for d in found] == [("FQ101", (0, 21, 0, 31))]


async def test_configuration_is_checked_too(client: LanguageClient, tmp_path: Path) -> None:
    text = 'line-lenght = 80\ntarget = "conviva-flow"\n'
    doc = Doc(client, tmp_path / "flowql.toml", text, "toml")
    found = await doc.open()
    assert [d.code for d in found] == ["FQ803"]
    assert where(found[0])[:2] == (0, 0)
    assert "line-length" in found[0].message


async def test_configuration_and_model_reload_when_they_change(
    client: LanguageClient, tmp_path: Path
) -> None:
    doc = Doc(client, tmp_path / "a.flowql", "cdn_pop == 'mad1'\n", "flowql")
    assert [d.code for d in await doc.open()] == ["FQ101"]
    model = {"flow_models": [{"id": "1", "label": "Mine", "dimensions": [{"key": "cdn_pop"}]}]}
    (tmp_path / "model.json").write_text(json.dumps(model), encoding="utf-8")
    config = tmp_path / "flowql.toml"
    config.write_text('model = "model.json"\n', encoding="utf-8")
    client.diagnostics.pop(doc.uri, None)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(config.as_uri(), types.FileChangeType.Created)]
        )
    )
    assert await published(client, doc.uri) == []


async def test_garbage_is_diagnostics_not_a_crash(client: LanguageClient, tmp_path: Path) -> None:
    broken = Doc(client, tmp_path / "broken.toml", '[[query]]\nfilter = "a == \n', "toml")
    found = await broken.open()
    assert [d.code for d in found] == ["FQ802"]
    assert "not valid TOML" in found[0].message
    binary = Doc(client, tmp_path / "b.flowql", "\x00\xff\ufffd\x01 == '\x7f", "flowql")
    assert [d.code for d in await binary.open()][:1] == ["FQ001"]
    huge = Doc(client, tmp_path / "huge.flowql", "k == 'x' OR " * 100_000 + "k == 'y'", "flowql")
    assert "FQ016" in [d.code for d in await huge.open()]
    deep = Doc(client, tmp_path / "deep.flowql", "(" * 50_000 + "k == 'x'", "flowql")
    assert await deep.open() != []
    # ... and the server still answers.
    ok = Doc(client, tmp_path / "ok.flowql", "geo_country == 'Spain'\n", "flowql")
    assert await ok.open() == []


# --- completion ----------------------------------------------------------------------------


async def complete(
    client: LanguageClient, doc: Doc, line: int, char: int
) -> list[types.CompletionItem]:
    found = await client.text_document_completion_async(
        types.CompletionParams(doc.ident(), types.Position(line, char))
    )
    assert isinstance(found, types.CompletionList)
    return list(found.items)


async def test_completion_of_keys_with_labels(client: LanguageClient, tmp_path: Path) -> None:
    doc = Doc(client, tmp_path / "a.flowql", "geo_", "flowql")
    await doc.open()
    items = await complete(client, doc, 0, 4)
    by_label = {i.label: i for i in items}
    assert {"geo_country", "geo_city", "geo_state"} <= set(by_label)
    country = by_label["geo_country"]
    assert country.kind == types.CompletionItemKind.Field
    assert country.detail == "Countries"
    assert country.label_details is not None
    assert country.label_details.description == "Countries"
    # The edit replaces the word typed.
    assert isinstance(country.text_edit, types.TextEdit)
    assert apply(doc.text, [country.text_edit]) == "geo_country"


async def test_completion_of_operators_and_values(client: LanguageClient, tmp_path: Path) -> None:
    text = "geo_country == 'Spain' OR geo_country "
    doc = Doc(client, tmp_path / "a.flowql", text, "flowql")
    await doc.open()
    labels = [i.label for i in await complete(client, doc, 0, len(text))]
    assert labels[:4] == ["==", "!=", "~~", "!~"]
    assert {"IN", "NOT IN"} <= set(labels)
    await doc.replace(text + "== 'Sp")
    values = await complete(client, doc, 0, len(doc.text))
    assert [v.label for v in values] == ["'Spain'"]  # a value this file compares it with
    assert isinstance(values[0].text_edit, types.TextEdit)
    assert apply(doc.text, [values[0].text_edit]) == text + "== 'Spain'"


async def test_completion_in_a_manifest(client: LanguageClient, tmp_path: Path) -> None:
    text = '[[query]]\nna\nfilter = "geo_ci"\n'
    doc = Doc(client, tmp_path / "q.toml", text, "toml")
    await doc.open()
    fields = await complete(client, doc, 1, 2)
    assert [f.label for f in fields] == ["name"]
    assert apply(doc.text, [fields[0].text_edit]).splitlines()[1] == "name = "  # type: ignore[list-item]
    keys = await complete(client, doc, 2, len('filter = "geo_ci'))
    assert [k.label for k in keys] == ["geo_city"]
    assert isinstance(keys[0].text_edit, types.TextEdit)
    assert apply(doc.text, [keys[0].text_edit]).splitlines()[2] == 'filter = "geo_city"'


# --- hover ---------------------------------------------------------------------------------


async def test_hover_on_a_key_a_value_and_a_code(client: LanguageClient, tmp_path: Path) -> None:
    text = "geo_country == 'Spain' AND bad_key == 'x'  # noqa: FQ101\n"
    doc = Doc(client, tmp_path / "a.flowql", text, "flowql")
    assert await doc.open() == []
    key = await client.text_document_hover_async(
        types.HoverParams(doc.ident(), types.Position(0, 3))
    )
    assert key is not None
    assert isinstance(key.contents, types.MarkupContent)
    assert "**geo_country**: Countries" in key.contents.value
    assert "type: string" in key.contents.value
    assert "flows: " in key.contents.value
    assert key.range is not None
    assert where(types.Diagnostic(key.range, "")) == (0, 0, 0, 11)
    value = await client.text_document_hover_async(
        types.HoverParams(doc.ident(), types.Position(0, 17))
    )
    assert value is not None
    assert isinstance(value.contents, types.MarkupContent)
    assert "value of `geo_country`" in value.contents.value
    code = await client.text_document_hover_async(
        types.HoverParams(doc.ident(), types.Position(0, text.index("FQ101") + 2))
    )
    assert code is not None
    assert isinstance(code.contents, types.MarkupContent)
    assert "**FQ101 unknown-key**" in code.contents.value
    assert "What it means" in code.contents.value  # the rule's doc, from docs/rules


# --- formatting ----------------------------------------------------------------------------


async def test_formatting_makes_the_formatted_text(client: LanguageClient, tmp_path: Path) -> None:
    text = "geo_country=='Spain'   and   (geo_city  ==  \"Madrid\" OR geo_city=='Bilbao')"
    doc = Doc(client, tmp_path / "a.flowql", text, "flowql")
    await doc.open()
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(doc.ident(), types.FormattingOptions(4, True))
    )
    assert edits
    assert apply(text, list(edits)) == format_file(text)
    # A range formats only what is in it: the first comparison.
    part = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            doc.ident(),
            types.Range(types.Position(0, 0), types.Position(0, 20)),
            types.FormattingOptions(4, True),
        )
    )
    assert part
    assert apply(text, list(part)).startswith("geo_country == 'Spain'   and")
    # Text that does not parse is left alone.
    await doc.replace("geo_country ==")
    none = await client.text_document_formatting_async(
        types.DocumentFormattingParams(doc.ident(), types.FormattingOptions(4, True))
    )
    assert not none


# --- code actions --------------------------------------------------------------------------


async def test_did_you_mean_applied_fixes_it(client: LanguageClient, tmp_path: Path) -> None:
    doc = Doc(client, tmp_path / "a.flowql", "geo_contry == 'Spain'\n", "flowql")
    await doc.open()
    found = await actions(client, doc, 0, 3)
    titles = [a.title for a in found]
    # The diagnostic's own (unsafe) fix, and no second "did you mean" doing the same.
    assert titles == ["Replace with geo_country", "Ignore FQ101 on this line (# noqa)"]
    assert found[0].is_preferred
    assert found[0].diagnostics is not None
    assert found[0].diagnostics[0].code == "FQ101"
    fixed = apply(doc.text, edits_of(found[0], doc.uri))
    assert fixed == "geo_country == 'Spain'\n"
    assert await doc.replace(fixed) == []


async def test_noqa_applied_silences_it(client: LanguageClient, tmp_path: Path) -> None:
    doc = Doc(client, tmp_path / "a.flowql", "nothing_here == 'x'\n", "flowql")
    await doc.open()
    noqa = [a for a in await actions(client, doc, 0, 0) if "noqa" in a.title]
    silenced = apply(doc.text, edits_of(noqa[0], doc.uri))
    assert silenced == "nothing_here == 'x'  # noqa: FQ101\n"
    assert await doc.replace(silenced) == []
    # A second code joins the comment there.
    found = await doc.replace("nothing_here == 'x' AND nothing_here == 'x'  # noqa: FQ101\n")
    assert [d.code for d in found] == ["FQ303"]
    more = [a for a in await actions(client, doc, 0, 25) if "noqa" in a.title]
    joined = apply(doc.text, edits_of(more[0], doc.uri))
    assert joined.endswith("# noqa: FQ101, FQ303\n")
    assert await doc.replace(joined) == []


async def test_quick_fixes_in_a_manifest(client: LanguageClient, tmp_path: Path) -> None:
    text = MANIFEST.replace("'Zürich'", "'Zurich'")
    doc = Doc(client, tmp_path / "q.toml", text, "toml")
    await doc.open()
    column = text.splitlines()[8].index("geo_contry")
    found = await actions(client, doc, 8, column + 1)
    assert [a.title for a in found] == [
        "Replace with geo_country",  # the fix, moved into the TOML text
        "Ignore FQ101 on this line (# noqa)",
    ]
    assert await doc.replace(apply(text, edits_of(found[0], doc.uri))) == []
    await doc.replace(text)
    silenced = apply(text, edits_of(found[1], doc.uri))
    assert silenced.splitlines()[8].endswith("'Spain'\"  # noqa: FQ101")
    assert await doc.replace(silenced) == []


async def test_a_value_did_you_mean_with_the_configuration_found(
    client: LanguageClient, tmp_path: Path
) -> None:
    # The flowql.toml above the file sets the target, as for flowql check: Klaviyo's fields,
    # whose send_channel takes four values.
    (tmp_path / "flowql.toml").write_text('target = "klaviyo-flow-report"\n', encoding="utf-8")
    (tmp_path / "filters").mkdir()
    doc = Doc(client, tmp_path / "filters" / "a.flowql", "send_channel == 'emial'\n", "flowql")
    found = await doc.open()
    assert [(d.code, where(d)) for d in found] == [("FQ204", (0, 16, 0, 23))]
    fix = (await actions(client, doc, 0, 18))[0]
    assert fix.title == "Replace with 'email'"
    fixed = apply(doc.text, edits_of(fix, doc.uri))
    assert fixed == "send_channel == 'email'\n"
    assert await doc.replace(fixed) == []
    values = await complete(client, doc, 0, len("send_channel == 'e"))
    assert [v.label for v in values] == ["'email'"]
