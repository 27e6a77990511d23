"""Completion for the REPL: what may be typed at the cursor, from the grammar and the data model.

:func:`complete` looks at the text before the cursor and answers with :class:`Candidate` values.
A filter completes as :func:`flowql.candidates.complete_filter` completes it, the session
filling in the keys and the values known for each (from the model, the last results, the filters
typed before).

After ``:`` the candidates are commands, then a command's arguments (a filter, for ``:run``,
``:show`` and ``:explain``). This module is plain Python: the prompt_toolkit completer in
:mod:`flowql.repl.app` wraps it, in a thread.
"""

from __future__ import annotations

import re

from flowql.candidates import OPERATORS, Candidate, complete_filter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol

    from flowql.candidates import FilterSource

    class Source(FilterSource, Protocol):
        """What completion needs from the session: a filter's keys and values, and commands."""

        def commands(self) -> Sequence[tuple[str, str]]:
            """Command names (without the colon), each with a one-line summary."""

        def arguments(self, command: str, args: str) -> Sequence[tuple[str, str]]:
            """Candidates for the last word of a command's arguments, with meta."""


__all__ = [
    "FILTER_COMMANDS",
    "OPERATORS",
    "Candidate",
    "complete",
    "complete_command",
    "complete_filter",
]

FILTER_COMMANDS = frozenset({"run", "show", "explain", "fix"})
"""The commands whose argument is a filter: it completes as a filter does."""


def complete(text: str, source: Source) -> list[Candidate]:
    """The candidates at the end of ``text`` (the text before the cursor)."""
    if text.lstrip().startswith(":"):
        return complete_command(text, source)
    return complete_filter(text, source)


# --- commands -------------------------------------------------------------------------------


def complete_command(text: str, source: Source) -> list[Candidate]:
    """The candidates at the end of ``text``, a command being typed (``:tar``, ``:target kl``)."""
    body = text.lstrip()[1:]
    if " " not in body and "\t" not in body:
        wanted = body.lower()
        return [
            Candidate(":" + name, -len(body) - 1, "command", summary)
            for name, summary in source.commands()
            if name.startswith(wanted)
        ]
    name, _, args = body.partition(" ")
    if name.lower() in FILTER_COMMANDS:
        return complete_filter(args, source)
    word = re.split(r"\s", args)[-1]
    wanted = word.lower()
    return [
        Candidate(value, -len(word), "argument", meta)
        for value, meta in source.arguments(name.lower(), args)
        if value.lower().startswith(wanted)
    ]
