"""The checker: what ``flowql check`` is made of.

- :mod:`flowql.checker.check`: runs every check over inputs (inline filters, ``.flowql`` files,
  query manifests) and collects findings;
- :mod:`flowql.checker.manifest`: query manifests (``[[query]]`` tables in TOML), with positions;
- :mod:`flowql.checker.config`: ``[tool.flowql]`` / ``flowql.toml`` configuration, shared by
  ``flowql check`` and ``flowql fmt``;
- :mod:`flowql.checker.report`: findings as text, JSON, GitHub annotations and SARIF, counted
  by code (``--statistics``), and the rules listed and explained (``flowql rules [CODE]``);
- :mod:`flowql.checker.noqa`: ``# noqa`` comments.

The earlier paths (``flowql.check``, ``flowql.manifest``, ``flowql.config``, ``flowql.report``)
keep working.
"""
