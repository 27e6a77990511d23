"""Rendering findings (moved to :mod:`flowql.checker.report`).

This module keeps the earlier import path working: it re-exports the public names of
:mod:`flowql.checker.report`, where the code is.
"""

from __future__ import annotations

from flowql.checker.report import *  # noqa: F403
from flowql.checker.report import __all__ as _names

__all__ = [*_names]
