"""The Klaviyo segment report target: the ``filter`` of ``segment-values-reports`` and
``segment-series-reports``: ``segment_id`` with ``equals`` (FlowQL ``==``) and ``any`` (``IN``,
or an OR of ``==``), AND only, at most 100 items in a list. See
:mod:`flowql.targets.klaviyo_endpoints`.

>>> from flowql import parse
>>> compile_filter(parse("segment_id == 'S1' OR segment_id == 'S2'"))
'any(segment_id,["S1","S2"])'
"""

from __future__ import annotations

from flowql.targets.klaviyo_endpoints import family_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["FAMILY", "FIELDS", "TARGET", "compile_filter"]

TARGET = "klaviyo-segment-report"
"""The target's name."""

FAMILY = family_for(TARGET)
"""The family at the default Klaviyo revision (``family_for(TARGET, revision)`` gives
another's)."""

FIELDS = tuple(FAMILY.fields.values())
"""The capability table: the field the segment reports filter on, and its operators, at the
default revision (generated from its spec)."""


def compile_filter(expr: Expr) -> str:
    """The segment report ``filter`` for ``expr`` (not yet JSON-quoted); raises
    :class:`~flowql.errors.UnsupportedError` (FQ601, every problem collected)."""
    return FAMILY.compile_filter(expr)
