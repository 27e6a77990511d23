"""Syntax highlighting for FlowQL: a Pygments lexer.

:class:`FlowQLLexer` is registered with Pygments as a plugin (the ``pygments.lexers`` entry point
``flowql``), so once flowql is installed, anything that uses Pygments highlights FlowQL::

    pygmentize -l flowql filters/spain.flowql

and in Markdown (MkDocs, Sphinx with MyST) a fenced block marked ``flowql``. The REPL highlights
what is typed with it.

The lexer reads the same tokens as the grammar (its patterns for keys, numbers, operators and
keywords are the grammar's own, from :mod:`flowql._tables`), and it is made for text that is
still being typed: a string with no closing quote is a string to the end of the text, and an
operator half typed at the end (``geo_country =``) is an operator. Anything that can start no
token is ``Error``.

=======================  =========================================
FlowQL                   Pygments token
=======================  =========================================
``geo_country``          ``Name.Attribute`` (a dimension key)
``==`` ``!=`` ``~~``     ``Operator``
``AND`` ``OR`` ``NOT``   ``Keyword``
``IN``                   ``Keyword``
``true`` ``false``       ``Keyword.Constant``
``'Spain'`` ``"x"``      ``String.Single``, ``String.Double``
``\\'`` in a string      ``String.Escape`` (an unknown escape: ``Error``)
``42`` ``-1.5e3``        ``Number``
``(`` ``)`` ``,``        ``Punctuation``
``# comment``            ``Comment.Single``
=======================  =========================================
"""

from __future__ import annotations

from typing import Any

from pygments.lexer import RegexLexer  # type: ignore[import-untyped]
from pygments.token import (  # type: ignore[import-untyped]
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from flowql import _tables

__all__ = ["FlowQLLexer"]

_GRAMMAR = dict(_tables.TERMINALS)

# A lone '=', '!' or '~' just before the end of the text (white space aside) is an operator
# being typed, not an error yet.
_HALF_OPERATOR = r"[=!~](?=\s*\Z)"


def _string_state(quote: str, token: Any) -> list[tuple[Any, ...]]:
    return [
        (rf"[^{quote}\\]+", token),
        (r"\\['\"\\]", String.Escape),
        (r"\\[\s\S]", Error),
        (r"\\", token),  # a backslash at the very end: the escape is still being typed
        (quote, token, "#pop"),
    ]


class FlowQLLexer(RegexLexer):  # type: ignore[misc]
    """Pygments lexer for FlowQL filters (``*.flowql``), tolerant of unfinished text."""

    name = "FlowQL"
    aliases = ["flowql"]  # noqa: RUF012 - Pygments reads these class attributes as they are
    filenames = ["*.flowql"]  # noqa: RUF012
    mimetypes = ["text/x-flowql"]  # noqa: RUF012
    url = "https://github.com/flowql/flowql"

    tokens = {  # noqa: RUF012
        "root": [
            (_GRAMMAR["WHITESPACE"], Whitespace),
            (_GRAMMAR["COMMENT"], Comment.Single),
            (_GRAMMAR["_TRUE"], Keyword.Constant),
            (_GRAMMAR["_FALSE"], Keyword.Constant),
            (_GRAMMAR["_AND"], Keyword),
            (_GRAMMAR["_OR"], Keyword),
            (_GRAMMAR["_NOT"], Keyword),
            (_GRAMMAR["_IN"], Keyword),
            ("'", String.Single, "single"),
            ('"', String.Double, "double"),
            (_GRAMMAR["NUMBER"], Number),
            (_GRAMMAR["KEY"], Name.Attribute),
            (_GRAMMAR["COMPARE"], Operator),
            (_HALF_OPERATOR, Operator),
            (r"[(),]", Punctuation),
            # What starts no token: a word that starts with a digit but is no number, or one
            # character.
            (r"[0-9][A-Za-z0-9_.]*", Error),
            (r"[\s\S]", Error),
        ],
        "single": _string_state("'", String.Single),
        "double": _string_state('"', String.Double),
    }
