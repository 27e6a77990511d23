"""Generate ``flowql/_rule_texts.py``, the rule documentation ``flowql rules CODE`` prints, from
``docs/rules/*.md``.

The pages in docs/rules are the one text that explains each code; the wheel does not ship docs/,
so this module copies what each code's section says into the package. A code's text is its
section (``## FQ301 contradiction`` up to the next heading of that level), else the paragraphs
that start with its code and name in bold (``**FQ601 unsupported**``), else the section whose
table lists it. Links are made absolute, against the documentation URL of pyproject.toml
(``[project.urls] Documentation``), so that they work where the text is read.

Run ``python -m flowql._generate_rule_docs`` after editing docs/rules; ``--check`` exits 1 when
``flowql/_rule_texts.py`` is stale (a test does the same).
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from pathlib import Path

from flowql.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "docs" / "rules"
PYPROJECT = ROOT / "pyproject.toml"
TEXTS_PATH = Path(__file__).resolve().parent / "_rule_texts.py"

HEADER = '''\
"""The documentation of each rule, generated from docs/rules/*.md. Do not edit.

Regenerate with ``python -m flowql._generate_rule_docs``; a test fails when this file is stale.
"""

# ruff: noqa: E501
'''

_HEADING = re.compile(r"^(#{1,6}) (.+)$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def docs_url(pyproject: str | None = None) -> str:
    """``[project.urls] Documentation`` of pyproject.toml, without a trailing slash."""
    text = PYPROJECT.read_text(encoding="utf-8") if pyproject is None else pyproject
    found = re.search(r"^\[project\.urls\]\s*$(.*?)^\[", text, flags=re.M | re.S)
    value = re.search(r'^Documentation\s*=\s*"([^"]+)"', found.group(1) if found else "", re.M)
    if value is None:
        raise SystemExit("pyproject.toml has no [project.urls] Documentation")
    return value.group(1).rstrip("/")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    """The ``##`` sections of a page: (heading, first line, one past the last line), fences
    minded (a ``#`` comment in a code block is no heading)."""
    found: list[tuple[str, int, int]] = []
    fenced = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            if found:
                found[-1] = (found[-1][0], found[-1][1], index)
            found.append((match.group(2), index, len(lines)))
    return found


def _absolute(text: str, page: str, base: str) -> str:
    """``text`` with its relative links made absolute (``#x`` and ``other.md#y`` against the
    page's place in docs/rules)."""

    def fix(match: re.Match[str]) -> str:
        target = match.group(1)
        if re.match(r"^[a-z]+:", target):
            return match.group(0)
        file, hash_, anchor = target.partition("#")
        path = posixpath.normpath(posixpath.join("rules", file or page))
        return f"]({base}/{path}{hash_}{anchor})"

    return _LINK.sub(fix, text)


def extract(pages: dict[str, str], base: str) -> dict[str, tuple[str, str]]:
    """For each code: (its page and anchor under the documentation URL, its text)."""
    out: dict[str, tuple[str, str]] = {}
    parsed = {name: text.split("\n") for name, text in sorted(pages.items())}
    for code in CODES.values():
        title = f"{code.code} {code.name}"
        found: tuple[str, str, list[str]] | None = None
        for name, lines in parsed.items():
            for heading, start, stop in _sections(lines):
                if heading == title:
                    found = (name, slug(heading), lines[start + 1 : stop])
        if found is None:
            found = _paragraphs(parsed, title) or _listed(parsed, code.code, code.name)
        if found is None:
            raise SystemExit(f"docs/rules says nothing of {title}")
        name, anchor, body = found
        text = "\n".join(body).strip("\n")
        out[code.code] = (f"rules/{name}#{anchor}", _absolute(text, name, base))
    return out


def _paragraphs(parsed: dict[str, list[str]], title: str) -> tuple[str, str, list[str]] | None:
    """The paragraphs from the one that starts ``**CODE name**`` up to the next that starts with
    another code in bold, or the end of the section."""
    for name, lines in parsed.items():
        for heading, start, stop in _sections(lines):
            for index in range(start + 1, stop):
                if lines[index].startswith(f"**{title}**"):
                    end = next(
                        (
                            i
                            for i in range(index + 1, stop)
                            if re.match(r"^\*\*FQ\d{3} ", lines[i]) and not lines[i - 1].strip()
                        ),
                        stop,
                    )
                    return name, slug(heading), lines[index:end]
    return None


def _listed(
    parsed: dict[str, list[str]], code: str, name: str
) -> tuple[str, str, list[str]] | None:
    """The section whose table has the code's row."""
    for page, lines in parsed.items():
        for heading, start, stop in _sections(lines):
            if any(line.startswith(f"| {code} | {name} |") for line in lines[start:stop]):
                return page, slug(heading), lines[start + 1 : stop]
    return None


def generate() -> str:
    """The text of ``_rule_texts.py`` for the repository's docs/rules."""
    base = docs_url()
    pages = {p.name: p.read_text(encoding="utf-8") for p in RULES_DIR.glob("*.md")}
    entries = extract(pages, base)
    lines = [HEADER]
    lines.append(f"DOCS_URL = {base!r}")
    lines.append('"""Where the documentation is published (docs/ of the repository)."""')
    lines.append("")
    lines.append("# Per code: its page and anchor under DOCS_URL.")
    lines.append("PAGES: dict[str, str] = {")
    lines.extend(f"    {code!r}: {page!r}," for code, (page, _) in entries.items())
    lines.append("}")
    lines.append("")
    lines.append("# Per code: what its section of docs/rules says (Markdown).")
    lines.append("TEXTS: dict[str, str] = {")
    lines.extend(f"    {code!r}: {text!r}," for code, (_, text) in entries.items())
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) ``flowql/_rule_texts.py``."""
    parser = argparse.ArgumentParser(
        prog="python -m flowql._generate_rule_docs", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = TEXTS_PATH.read_text(encoding="utf-8") if TEXTS_PATH.exists() else ""
        if current != text:
            print(
                f"{TEXTS_PATH} is stale: run python -m flowql._generate_rule_docs", file=sys.stderr
            )
            return 1
        return 0
    TEXTS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {TEXTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
