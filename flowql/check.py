"""Running every check over inputs (moved to :mod:`flowql.checker.check`).

This module keeps the earlier import path working: it re-exports the public names of
:mod:`flowql.checker.check`, where the code is.
"""

from __future__ import annotations

from flowql.checker.check import *  # noqa: F403
from flowql.checker.check import __all__ as _names

__all__ = [*_names]
