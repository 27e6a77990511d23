"""The Klaviyo metrics target: the ``filter`` of ``GET /api/metrics/``, which takes only
``equals`` (FlowQL ``==``) on ``integration.name`` or ``integration.category``, combined with AND.
See :mod:`flowql.targets.klaviyo_endpoints`.

>>> from flowql import parse
>>> compile_filter(parse("integration.name == 'Shopify'"))
'equals(integration.name,"Shopify")'
"""

from __future__ import annotations

from flowql.targets.klaviyo_endpoints import Family, scalar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["FAMILY", "FIELDS", "TARGET", "compile_filter"]

TARGET = "klaviyo-metrics"
"""The target's name."""

FIELDS = (
    scalar("integration.name", "equals"),
    scalar("integration.category", "equals"),
)
"""The capability table: the fields ``GET /api/metrics/`` filters on, and their operators."""

FAMILY = Family(TARGET, "the metrics endpoint", FIELDS, one_per_field=False)


def compile_filter(expr: Expr) -> str:
    """The ``GET /api/metrics/`` ``filter`` for ``expr`` (not yet percent-encoded); raises
    :class:`~flowql.errors.UnsupportedError` (FQ601, every problem collected)."""
    return FAMILY.compile_filter(expr)
