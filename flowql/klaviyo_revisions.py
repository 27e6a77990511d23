"""Klaviyo's API revisions: what each one's reporting endpoints take.

Every Klaviyo request names a revision (the ``revision`` header, ``YYYY-MM-DD`` with an optional
``.suffix``), and what the reports take changes between revisions: at 2024-10-15 the flow and
campaign reports take no ``group_by``, four fewer statistics, fewer filter fields and no
``whatsapp`` channel. The tables here are generated from Klaviyo's own OpenAPI spec, one file per
revision the project holds (``python -m flowql._generate_klaviyo``), so the query layer and the
Klaviyo targets check a query against the revision it is sent with.

:data:`DEFAULT_REVISION` is the newest revision held. A revision is supported for two years
after its date, then retired (:meth:`Revision.retired_on`); one retired revision is kept to show
the mechanism, with a warning when chosen. A revision flowql holds no spec for (``2026-10-15``,
which the official SDK sends) is checked against the newest held revision before it.
"""

from __future__ import annotations

import datetime as dt
import re

from flowql._klaviyo_tables import REVISIONS as _TABLES
from flowql.diagnostics import did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = [
    "DEFAULT_REVISION",
    "REVISIONS",
    "FilterRules",
    "ReportRules",
    "Revision",
    "RevisionError",
    "resolve_revision",
]

_FORMAT = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:\.[a-z0-9]+)?")
SUPPORT_YEARS = 2
"""How long Klaviyo supports a revision after its date."""


class RevisionError(ValueError):
    """A revision that is not ``YYYY-MM-DD[.suffix]`` or older than every revision flowql
    holds; ``hint`` says what to write."""

    def __init__(self, message: str, hint: str) -> None:
        self.hint = hint
        super().__init__(message)


class FilterRules:
    """What a report's ``filter`` takes: scalar and list fields with their Klaviyo operators,
    the ``send_channel`` values (None: no such field), the most items in a list, and whether a
    field takes only one filter."""

    __slots__ = ("channels", "lists", "max_list_items", "one_filter_per_attribute", "scalars")

    def __init__(self, table: Mapping[str, Any]) -> None:
        self.scalars: dict[str, tuple[str, ...]] = dict(table["scalar"])
        self.lists: dict[str, tuple[str, ...]] = dict(table["list"])
        self.channels: tuple[str, ...] | None = table["channels"]
        self.max_list_items: int = table["max_list_items"]
        self.one_filter_per_attribute: bool = table["one_filter_per_attribute"]

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the filter takes, scalar fields first."""
        return (*self.scalars, *self.lists)


class ReportRules:
    """One report at one revision (``flow-values`` is ``POST /api/flow-values-reports``)."""

    __slots__ = (
        "conversion",
        "data_since",
        "default_group_by",
        "filter",
        "group_by",
        "intervals",
        "name",
        "path",
        "prerequisites",
        "required_group_by",
        "series",
        "statistics",
        "type",
    )

    def __init__(self, name: str, table: Mapping[str, Any]) -> None:
        self.name = name
        self.path: str = table["path"]
        self.type: str = table["type"]
        self.series: bool = table["series"]
        self.statistics: tuple[str, ...] = table["statistics"]
        self.conversion: bool = table["conversion"]
        self.group_by: tuple[str, ...] = table["group_by"]
        self.default_group_by: tuple[str, ...] = table["default_group_by"]
        self.required_group_by: tuple[str, ...] = table["required_group_by"]
        self.prerequisites: tuple[tuple[str, str], ...] = table["prerequisites"]
        # interval -> the longest timeframe it takes, in days (None: only the year's limit)
        self.intervals: dict[str, int | None] = dict(table.get("intervals", {}))
        self.filter = FilterRules(table["filter"])
        since = table["data_since"]
        self.data_since: dt.date | None = dt.date.fromisoformat(since) if since else None

    @property
    def family(self) -> str:
        """``flow``, ``campaign``, ``form`` or ``segment``."""
        return self.name.split("-")[0]

    def __repr__(self) -> str:
        return f"<ReportRules {self.name}>"


class Revision:
    """One Klaviyo revision flowql holds the spec of: its timeframe keys, its reports and the
    metrics list's filter fields."""

    __slots__ = ("date", "metrics_filter", "name", "reports", "timeframes")

    def __init__(self, name: str, table: Mapping[str, Any]) -> None:
        self.name = name
        self.date = _date_of(name)
        self.timeframes: tuple[str, ...] = table["timeframes"]
        self.reports: dict[str, ReportRules] = {
            report: ReportRules(report, rules) for report, rules in table["reports"].items()
        }
        self.metrics_filter: dict[str, tuple[str, ...]] = dict(table["metrics_filter"])

    @property
    def retired_on(self) -> dt.date:
        """The day Klaviyo retires this revision: two years after its date."""
        try:
            return self.date.replace(year=self.date.year + SUPPORT_YEARS)
        except ValueError:  # 29 February
            return self.date.replace(year=self.date.year + SUPPORT_YEARS, day=28)

    def retired(self, today: dt.date) -> bool:
        """Whether Klaviyo no longer serves this revision on ``today``."""
        return today >= self.retired_on

    def __repr__(self) -> str:
        return f"<Revision {self.name}>"


def _date_of(name: str) -> dt.date:
    match = _FORMAT.fullmatch(name)
    if match is None:
        raise RevisionError(
            f"'{name[:40]}' is not a Klaviyo revision",
            "a revision is a date, YYYY-MM-DD (optionally .suffix), such as " + DEFAULT_REVISION,
        )
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise RevisionError(f"'{name}' is not a date", "a revision is a date, YYYY-MM-DD") from None


REVISIONS: dict[str, Revision] = {name: Revision(name, table) for name, table in _TABLES.items()}
"""Every revision flowql holds the spec of, oldest first."""

DEFAULT_REVISION: str = max(REVISIONS, key=lambda name: REVISIONS[name].date)
"""The revision flowql sends unless told otherwise: the newest one it holds."""


def resolve_revision(name: str | None) -> Revision:
    """The tables to check a query for revision ``name`` against (None: the default): the
    revision itself when flowql holds it, else the newest held revision before it. Raises
    :class:`RevisionError` for a malformed name or one older than every held revision."""
    if name is None:
        return REVISIONS[DEFAULT_REVISION]
    held = REVISIONS.get(name)
    if held is not None:
        return held
    if not isinstance(name, str):
        raise RevisionError(
            f"a Klaviyo revision is text, not {type(name).__name__}",
            "write it as YYYY-MM-DD, such as " + DEFAULT_REVISION,
        )
    date = _date_of(name)
    earlier = [r for r in REVISIONS.values() if r.date <= date]
    if not earlier:
        oldest = min(REVISIONS.values(), key=lambda r: r.date)
        raise RevisionError(
            f"flowql knows no Klaviyo revision as old as {name} (the oldest it holds is "
            f"{oldest.name}, itself retired)",
            did_you_mean(name, REVISIONS) or "use " + DEFAULT_REVISION,
        )
    return max(earlier, key=lambda r: r.date)
