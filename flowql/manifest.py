"""Query manifests (moved to :mod:`flowql.checker.manifest`; ``# noqa`` comments to
:mod:`flowql.checker.noqa`).

This module keeps the earlier import path working: it re-exports the public names of
:mod:`flowql.checker.manifest`, where the code is.
"""

from __future__ import annotations

from flowql.checker.manifest import *  # noqa: F403
from flowql.checker.manifest import __all__ as _names
from flowql.checker.noqa import Noqa, noqa_comments, noqa_lines

__all__ = [*_names, "Noqa", "noqa_comments", "noqa_lines"]
