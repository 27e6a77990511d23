"""The REPL's prompt and banner, and the instant first prompt.

Plain Python, no prompt_toolkit: :func:`instant_prompt` draws the banner and the first prompt
while prompt_toolkit is still loading.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from flowql.repl.session import Session

__all__ = ["INSTANT_PROMPT_ENV", "PROMPT", "banner", "instant_prompt"]

INSTANT_PROMPT_ENV = "FLOWQL_INSTANT_PROMPT"
"""Set to ``0`` to draw the first prompt only once the line editor has loaded."""

PROMPT = "flowql> "
"""The prompt."""


def banner(session: Session) -> str:
    """The line printed when the REPL starts."""
    from flowql import __version__

    return (
        f"flowql {__version__}: target {session.target}, {session.model().name}. "
        ":help for help; Ctrl-D quits."
    )


def instant_prompt(session: Session, stdout: TextIO) -> bool:
    """Draw the banner and the first prompt before the line editor loads (prompt_toolkit takes
    some ten times Python's own start-up to import), as zsh's instant prompt does: what is
    typed meanwhile waits in the terminal, and the editor takes it over when it draws its own
    prompt on the same line. Only on a terminal, and unless ``FLOWQL_INSTANT_PROMPT=0``."""
    if os.environ.get(INSTANT_PROMPT_ENV) == "0" or not stdout.isatty():
        return False
    stdout.write(banner(session) + "\n" + PROMPT)
    stdout.flush()
    return True
