"""``flowql repl``: write a filter with highlighting, completion and live checks.

A prompt_toolkit application in the spirit of pgcli (:mod:`flowql.repl.app`) over plain-Python
parts that scripts and tests use directly:

- :mod:`flowql.lookahead`: what the grammar lets come next (the parser's own tables);
- :mod:`flowql.repl.completion`: the candidates at the cursor;
- :mod:`flowql.repl.session`: the session's settings, checks and the current query;
- :mod:`flowql.repl.commands`: ``:target``, ``:show``, ``:explain``, ``:run``, ``:export``...;
- :mod:`flowql.repl.run`: running the query through the clients (or the sandbox), the result
  table, and exporting it;
- :mod:`flowql.repl.batch`: ``flowql repl < script``, without prompts.

History lives in ``history`` under the user's data directory (``platformdirs``), or in the file
``FLOWQL_HISTORY`` names.
"""

from __future__ import annotations

import os
import sys

from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["HISTORY_ENV", "history_path", "main"]

HISTORY_ENV = "FLOWQL_HISTORY"
"""The environment variable that names the history file."""


def history_path() -> str:
    """Where the REPL keeps its history: ``$FLOWQL_HISTORY``, else ``history`` in the user's
    data directory for flowql."""
    configured = os.environ.get(HISTORY_ENV)
    if configured:
        return configured
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("flowql"), "history")


def main(
    *,
    target: str | None = None,
    model: str | None = None,
    flow: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the REPL: interactive on a terminal, else the script on standard input. The
    settings given start the session as the commands ``:target``, ``:model`` and ``:flow``
    would. Returns the exit code: 0, 1 when a script stops at an error, 2 when a setting given
    here is refused."""
    from flowql.diagnostics import render
    from flowql.repl.session import Session

    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    session = Session()
    # Without credentials, :run asks the sandbox: its values complete from the start.
    session.runner().offer_sandbox_values(session)
    try:
        if model is not None:
            session.load_model(model)
        if target is not None:
            session.set_target(target)
        if flow is not None:
            session.set_flow(flow)
    except FlowQLError as exc:
        stderr.write("\n\n".join(render(d, None, "flowql repl") for d in exc.diagnostics) + "\n")
        return 2
    try:
        if not stdin.isatty():
            from flowql.repl.batch import run_script

            return run_script(session, stdin, stdout, stderr)
        from flowql.repl.prompt import instant_prompt

        drawn = instant_prompt(session, stdout)
        from flowql.repl.app import run_interactive

        # The history file is found once the first prompt is shown.
        return run_interactive(session, history_path, prompt_drawn=drawn)
    finally:
        session.close()  # the clients' connections, and the sandbox if a :run started one
