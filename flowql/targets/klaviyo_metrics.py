"""The Klaviyo metrics target: the ``filter`` of ``GET /api/metrics/``, which takes only
``equals`` (FlowQL ``==``) on ``integration.name`` or ``integration.category``, combined with AND.
See :mod:`flowql.targets.klaviyo_endpoints`.

>>> from flowql import parse
>>> compile_filter(parse("integration.name == 'Shopify'"))
'equals(integration.name,"Shopify")'
"""

from __future__ import annotations

from flowql.targets.klaviyo_endpoints import family_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["FAMILY", "FIELDS", "TARGET", "compile_filter"]

TARGET = "klaviyo-metrics"
"""The target's name."""

FAMILY = family_for(TARGET)
"""The family at the default Klaviyo revision (``family_for(TARGET, revision)`` gives
another's)."""

FIELDS = tuple(FAMILY.fields.values())
"""The capability table: the fields ``GET /api/metrics`` filters on, and their operators, at the
default revision (generated from its spec)."""


def compile_filter(expr: Expr) -> str:
    """The ``GET /api/metrics/`` ``filter`` for ``expr`` (not yet percent-encoded); raises
    :class:`~flowql.errors.UnsupportedError` (FQ601, every problem collected)."""
    return FAMILY.compile_filter(expr)
