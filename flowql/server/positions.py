"""Offsets into a document and LSP positions (line, character), one way and the other.

flowql's spans are offsets into the text (Python string indices: code points); LSP positions
count the characters of a line in the code units the client and the server agreed on: UTF-16
by default, UTF-8 or UTF-32 when both say so. Lines end at ``\\n``, ``\\r\\n`` or ``\\r``, as
LSP has them.
"""

from __future__ import annotations

import re
from bisect import bisect_right

__all__ = ["Lines"]

_BREAK = re.compile(r"\r\n|\r|\n")


class Lines:
    """The line starts of one text, for turning offsets into positions and back."""

    __slots__ = ("encoding", "starts", "text")

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0]
        self.starts.extend(m.end() for m in _BREAK.finditer(text))

    def position(self, offset: int) -> tuple[int, int]:
        """The (0-based line, character in code units) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        # An offset between the \r and the \n of a CRLF belongs to the line the pair ends.
        start = self.starts[line]
        return line, self._units(self.text[start:offset])

    def offset(self, line: int, character: int) -> int:
        """The offset of a (0-based line, character in code units) position; past the end of
        a line, its end (LSP's rule)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        body = self.text[start:end].rstrip("\r\n")
        if body.isascii() or self.encoding == "utf-32":
            return start + min(max(character, 0), len(body))
        count = 0
        for index, char in enumerate(body):
            if count >= character:
                return start + index
            count += self._units(char)
        return start + len(body)

    def line_end(self, line: int) -> int:
        """The offset of the end of a line (before its line break)."""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > self.starts[line] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def line_of(self, offset: int) -> int:
        """The 0-based line of an offset."""
        return bisect_right(self.starts, max(0, min(offset, len(self.text)))) - 1

    def _units(self, text: str) -> int:
        if text.isascii() or self.encoding == "utf-32":
            return len(text)
        if self.encoding == "utf-8":
            return len(text.encode("utf-8", "surrogatepass"))
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
