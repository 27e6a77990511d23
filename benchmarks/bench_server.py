"""How fast ``flowql server`` answers, measured through a real LSP client over stdio.

Run it from the repository, with the ``dev`` extra installed (pygls)::

    python benchmarks/bench_server.py                  # the full run, about half a minute
    python benchmarks/bench_server.py --quick          # a smoke test, a few seconds
    python benchmarks/bench_server.py --json out.json  # also write every figure as JSON

The script starts ``python -m flowql server`` and drives it with pygls's LanguageClient, as an
editor would: each sample is timed from the moment the client sends a message to the moment the
answer is in, so the figures include the JSON-RPC round trip and the pipes. Operations:

- ``diagnostics filter``: an edit of four characters of a value inside a 4,000-character
  ``.flowql`` filter (an incremental ``didChange``, making a text not seen before), until its
  ``publishDiagnostics`` arrives;
- ``diagnostics manifest``: the same in one filter of a manifest of 200 ``[[query]]`` tables
  (made as benchmarks/bench_check.py makes its corpus);
- ``completion filter``: completion after ``geo_`` (the text before the cursor: the first
  4,000 characters of the filter, ending in ``geo_``);
- ``completion manifest``: the same inside the last filter of the manifest.

The filters parse and are checked in full (validation, the target's compilation, the URL
budget), as ``flowql check`` checks them.

Samples of the four operations are interleaved, in a new order each round. The goal of each:
a 95th percentile under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_check import make_manifest
from bench_parse import SEED, _met, print_header, write_report
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 50.0
OPERATIONS = (
    "diagnostics filter",
    "diagnostics manifest",
    "completion filter",
    "completion manifest",
)
FILTER_CHARS = 4_000
QUERIES = 200
VALUE = re.compile(r"'[A-Za-z]{4,}'")
"""A value of four letters or more, whose first four an edit rewrites."""


def make_filter(chars: int = FILTER_CHARS) -> str:
    """A filter of about ``chars`` characters on one line, of the demo model's keys, its last
    comparison on ``geo_country``."""
    rng = random.Random(SEED)
    keys = ("geo_country", "geo_city", "device_operating_system", "connection_type", "geo_state")
    values = ("Spain", "France", "Madrid", "Android", "Ethernet", "Texas", "Zürich")
    parts: list[str] = []
    size = 0
    while size < chars - 40:
        part = f"{rng.choice(keys)} == '{rng.choice(values)}'"
        parts.append(part)
        size += len(part) + 4
    return " OR ".join([*parts, "geo_country == 'Spain'"])


def make_big_manifest(queries: int = QUERIES) -> str:
    """A manifest of ``queries`` ``[[query]]`` tables, its last filter ending with a comparison
    on ``geo_country``."""
    tables: list[str] = []
    index = 0
    while len(tables) < queries:
        text = make_manifest(index).text
        tables.extend("[[query]]" + t for t in text.split("[[query]]")[1:])
        index += 1
    body = "".join(tables[:queries]).rstrip("\n")
    last = body.rindex('"')  # the closing quote of the last filter
    return body[:last] + " OR geo_country == 'Spain'\"\n"


class Client:
    """A pygls client on a ``flowql server`` process, with the diagnostics it receives."""

    def __init__(self) -> None:
        self.lsp = LanguageClient("bench-server", "1")
        self.waiting: dict[tuple[str, int], asyncio.Future[int]] = {}

        @self.lsp.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def published(params: types.PublishDiagnosticsParams) -> None:
            future = self.waiting.pop((params.uri, params.version or 0), None)
            if future is not None and not future.done():
                future.set_result(len(params.diagnostics))

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        await self.lsp.start_io(sys.executable, "-m", "flowql", "server", env=env)
        await self.lsp.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=os.getpid())
        )
        self.lsp.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.lsp.shutdown_async(None)
        self.lsp.exit(None)
        await self.lsp.stop()  # type: ignore[no-untyped-call]

    def expect(self, uri: str, version: int) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting[(uri, version)] = future
        return future

    async def open(self, uri: str, text: str, language: str) -> None:
        done = self.expect(uri, 1)
        self.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
        )
        await asyncio.wait_for(done, 60)

    async def change(self, uri: str, version: int, line: int, char: int, new: str) -> None:
        """Replace ``len(new)`` characters (ASCII) at a position; wait for the diagnostics."""
        done = self.expect(uri, version)
        where = types.Range(types.Position(line, char), types.Position(line, char + len(new)))
        self.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangePartial(range=where, text=new)],
            )
        )
        await asyncio.wait_for(done, 60)

    async def complete(self, uri: str, line: int, char: int) -> int:
        found = await self.lsp.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, char))
        )
        assert isinstance(found, types.CompletionList)
        return len(found.items)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def run(rounds: int, warmup: int, seed: int = SEED) -> dict[str, Any]:
    """Time every operation ``rounds`` times (after ``warmup`` untimed rounds)."""
    filter_text = make_filter()
    manifest = make_big_manifest()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")).resolve()
    filter_uri = (workdir / "bench-server.flowql").as_uri()
    manifest_uri = (workdir / "bench-server.toml").as_uri()
    client = Client()
    await client.start()
    try:
        await client.open(filter_uri, filter_text, "flowql")
        await client.open(manifest_uri, manifest, "toml")
        versions = {filter_uri: 1, manifest_uri: 1}
        # An edit rewrites the first four letters of a value, each time with letters not
        # written before: every sample is a text the server has not seen (nothing is cached).
        filter_at = filter_text.index("'S") + 1
        lines = manifest.split("\n")
        target_line = len(lines) // 2
        while VALUE.search(lines[target_line]) is None:
            target_line += 1
        value = VALUE.search(lines[target_line])
        assert value is not None
        manifest_char = _utf16(lines[target_line][: value.start() + 1])
        # Completion with the text before the cursor ending in `geo_`, in the last comparison.
        last = manifest.rstrip("\n").split("\n")
        end_line = len(last) - 1
        end_char = _utf16(last[-1][: last[-1].rindex("geo_") + 4])
        filter_end = _utf16(filter_text[: filter_text.rindex("geo_") + 4])
        edits = iter(range(26**4))

        async def diagnostics(uri: str, line: int, char: int) -> None:
            versions[uri] += 1
            number = next(edits)
            letters = "".join(chr(97 + (number // 26**i) % 26) for i in range(4))
            await client.change(uri, versions[uri], line, char, letters)

        async def operation(name: str) -> None:
            if name == "diagnostics filter":
                await diagnostics(filter_uri, 0, _utf16(filter_text[:filter_at]))
            elif name == "diagnostics manifest":
                await diagnostics(manifest_uri, target_line, manifest_char)
            elif name == "completion filter":
                assert await client.complete(filter_uri, 0, filter_end) > 0
            else:
                assert await client.complete(manifest_uri, end_line, end_char) > 0

        samples: dict[str, list[float]] = {name: [] for name in OPERATIONS}
        rng = random.Random(seed)
        for number in range(warmup + rounds):
            order = list(OPERATIONS)
            rng.shuffle(order)
            for name in order:
                start = time.perf_counter()
                await operation(name)
                if number >= warmup:
                    samples[name].append((time.perf_counter() - start) * 1000)
    finally:
        await client.stop()
    results: dict[str, Any] = {}
    for name, times in samples.items():
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        results[name] = {
            "samples": len(times),
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(p95, 3),
            "max_ms": round(times[-1], 3),
            "goal_p95_ms": GOAL_MS,
            "goal_met": p95 < GOAL_MS,
        }
    return {
        "filter_chars": len(filter_text),
        "manifest_queries": manifest.count("[[query]]"),
        "manifest_chars": len(manifest),
        "operations": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--rounds", type=int, default=200, help="rounds (default 200)")
    args = parser.parse_args(argv)
    rounds, warmup = (5, 1) if args.quick else (args.rounds, 10)
    env = print_header("server")
    figures = asyncio.run(run(rounds, warmup))
    print(
        f"a {figures['filter_chars']:,}-character filter and a manifest of "
        f"{figures['manifest_queries']} queries ({figures['manifest_chars']:,} characters); "
        f"{rounds} interleaved rounds through the client"
    )
    print(f"   {'operation':<22}{'samples':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}  goal")
    for name, r in figures["operations"].items():
        print(
            f"   {name:<22}{r['samples']:>8,}{r['median_ms']:>11.2f}{r['p95_ms']:>9.2f}"
            f"{r['max_ms']:>9.2f}  p95 < {GOAL_MS:g} ms: {_met(r['goal_met'])}"
        )
    if args.json is not None:
        write_report(args.json, argv, args.quick, env, SEED, {"goal_p95_ms": GOAL_MS, **figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
