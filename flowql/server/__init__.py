"""``flowql server``: the FlowQL language server (LSP over standard input and output).

Diagnostics as you type for ``.flowql`` files, for the filters of query manifests and for
flowql's configuration, found as ``flowql check`` finds them; completion, hover, formatting and
quick fixes. Its parts:

- :mod:`flowql.server.positions`: offsets into a document and LSP positions;
- :mod:`flowql.server.documents`: what a document is and what ``flowql check`` finds in it,
  with the configuration and data model of its directory;
- :mod:`flowql.server.features`: completion, hover, formatting and code actions;
- :mod:`flowql.server.protocol`: the pygls server (the ``server`` extra).

Only ``flowql server`` imports this package: pygls is never loaded by another command.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> int:
    """Serve LSP over standard input and output; the exit code when the client says exit."""
    from flowql.server.protocol import serve

    return serve()
