"""The Klaviyo form report target: the ``filter`` of ``form-values-reports`` and
``form-series-reports``: ``form_id`` and ``form_version_id``, each with ``equals`` (FlowQL ``==``)
and ``any`` (``IN``, or an OR of ``==``), one filter per field, AND only, at most 100 items in a
list. See
:mod:`flowql.targets.klaviyo_endpoints`.

>>> from flowql import parse
>>> compile_filter(parse("form_id IN ('Y6nRLr', 'Xq2bT9')"))
'any(form_id,["Y6nRLr","Xq2bT9"])'
"""

from __future__ import annotations

from flowql.targets.klaviyo_endpoints import family_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["FAMILY", "FIELDS", "TARGET", "compile_filter"]

TARGET = "klaviyo-form-report"
"""The target's name."""

FAMILY = family_for(TARGET)
"""The family at the default Klaviyo revision (``family_for(TARGET, revision)`` gives
another's)."""

FIELDS = tuple(FAMILY.fields.values())
"""The capability table: each field the form reports filter on, and its operators, at the
default revision (generated from its spec)."""


def compile_filter(expr: Expr) -> str:
    """The form report ``filter`` for ``expr`` (not yet JSON-quoted); raises
    :class:`~flowql.errors.UnsupportedError` (FQ601, every problem collected)."""
    return FAMILY.compile_filter(expr)
