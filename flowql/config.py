"""Configuration (moved to :mod:`flowql.checker.config`).

This module keeps the earlier import path working: it re-exports the public names of
:mod:`flowql.checker.config`, where the code is.
"""

from __future__ import annotations

from flowql.checker.config import *  # noqa: F403
from flowql.checker.config import __all__ as _names

__all__ = [*_names]
