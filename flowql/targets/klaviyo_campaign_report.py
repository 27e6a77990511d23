"""The Klaviyo campaign report target: the ``filter`` of ``campaign-values-reports``, checked
against the fields those reports filter on.

Scalar fields take ``equals`` (FlowQL ``==``) and ``contains-any`` (``IN``, or an OR of ``==``);
``tag_id`` and ``tag_name`` are lists and take ``contains-any`` (``tag_name ~~ 'a' OR tag_name ~~
'b'``) and ``contains-all`` (``tag_name ~~ 'a' AND tag_name ~~ 'b'``); one filter per field, AND
only, at most 100 items in a list. See :mod:`flowql.targets.klaviyo_endpoints`.

>>> from flowql import parse
>>> compile_filter(parse("campaign_id == 'C1' AND send_channel == 'email'"))
'and(equals(campaign_id,"C1"),equals(send_channel,"email"))'
"""

from __future__ import annotations

from flowql.targets.klaviyo_endpoints import family_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.ast import Expr

__all__ = ["FAMILY", "FIELDS", "TARGET", "compile_filter"]

TARGET = "klaviyo-campaign-report"
"""The target's name."""

FAMILY = family_for(TARGET)
"""The family at the default Klaviyo revision (``family_for(TARGET, revision)`` gives
another's)."""

FIELDS = tuple(FAMILY.fields.values())
"""The capability table: each field the campaign reports filter on, and its operators, at the
default revision (generated from its spec)."""


def compile_filter(expr: Expr) -> str:
    """The campaign report ``filter`` for ``expr`` (not yet JSON-quoted); raises
    :class:`~flowql.errors.UnsupportedError` (FQ601, every problem collected)."""
    return FAMILY.compile_filter(expr)
