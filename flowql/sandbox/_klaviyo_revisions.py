"""The Klaviyo revisions the sandbox serves, and each one's rules, written out by hand from
Klaviyo's OpenAPI spec of that revision (the request enums and the prose of the ``filter``,
``group_by``, ``interval`` and ``timeframe`` descriptions).

This is the sandbox's own reading: it shares nothing with flowql's client, query layer or
targets, so that a disagreement between client and sandbox is a finding. A test
(``tests/test_klaviyo_contract.py``) checks these tables against the spec files in
``tests/fixtures/klaviyo-openapi/``; serving a new revision means adding a :class:`Revision`
here and its spec there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flowql.sandbox._util import UTC

__all__ = [
    "DEFAULT_REVISION",
    "REVISIONS",
    "RETIRED_MODES",
    "SCOPES",
    "FilterField",
    "Report",
    "Revision",
]

RETIRED_MODES = ("serve", "gone", "forward")
"""What the sandbox does with a retired revision: serve it by its own rules (the default),
answer 410 Gone, or answer by the oldest revision still supported (fall forward)."""


@dataclass(frozen=True)
class FilterField:
    """A field a report's ``filter`` takes: its operators, whether it holds a list, and the
    values it takes when the spec lists them."""

    operators: tuple[str, ...]
    is_list: bool = False
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Report:
    """One report family at one revision."""

    family: str
    statistics: tuple[str, ...]
    fields: dict[str, FilterField]
    default_group_by: tuple[str, ...]
    group_by: tuple[str, ...] | None = None  # None: the body takes no group_by
    required_group_by: tuple[str, ...] = ()
    prerequisites: tuple[tuple[str, str], ...] = ()  # (field, the field it needs)
    conversion: bool = False
    # (relationship name, resource type, the grouping holding the id)
    relationships: tuple[tuple[str, str, str], ...] = ()
    earliest: datetime | None = None  # no data before this
    paged: bool = False  # takes page_cursor


@dataclass(frozen=True)
class Revision:
    """A revision: its date, the reports' rules, and the shapes of its answers."""

    name: str
    reports: dict[str, Report]
    intervals: dict[str, timedelta | None]
    timeframe_keys: tuple[str, ...]
    metric_fields: tuple[str, ...]  # fields[metric]
    report_fieldsets: bool  # reports take fields[<type>] (sparse fieldsets)
    top_links: bool  # reports, a metric and flow triggers carry top-level links
    collection_links: tuple[str, ...] = field(default=("self", "next", "prev"))

    @property
    def released(self) -> date:
        return date.fromisoformat(self.name[:10])

    @property
    def retires(self) -> date:
        """Two years after release, as Klaviyo's versioning policy says."""
        return self.released.replace(year=self.released.year + 2)

    def retired(self, now: datetime) -> bool:
        return now.astimezone(UTC).date() >= self.retires


_MESSAGE_STATISTICS_2024 = (
    "average_order_value",
    "bounce_rate",
    "bounced",
    "bounced_or_failed",
    "bounced_or_failed_rate",
    "click_rate",
    "click_to_open_rate",
    "clicks",
    "clicks_unique",
    "conversion_rate",
    "conversion_uniques",
    "conversion_value",
    "conversions",
    "delivered",
    "delivery_rate",
    "failed",
    "failed_rate",
    "open_rate",
    "opens",
    "opens_unique",
    "recipients",
    "revenue_per_recipient",
    "spam_complaint_rate",
    "spam_complaints",
    "unsubscribe_rate",
    "unsubscribe_uniques",
    "unsubscribes",
)
_MESSAGE_STATISTICS_2026 = tuple(
    sorted(
        (
            *_MESSAGE_STATISTICS_2024,
            "message_segment_count_sum",
            "text_message_credit_usage_amount",
            "text_message_roi",
            "text_message_spend",
        )
    )
)
_FORM_STATISTICS = (
    "closed_form",
    "closed_form_uniques",
    "qualified_form",
    "qualified_form_uniques",
    "submit_rate",
    "submits",
    "submitted_form_step",
    "submitted_form_step_uniques",
    "viewed_form",
    "viewed_form_step",
    "viewed_form_step_uniques",
    "viewed_form_uniques",
)
_SEGMENT_STATISTICS = ("members_added", "members_removed", "net_members_changed", "total_members")

_TIMEFRAME_KEYS = (
    "last_12_months",
    "last_30_days",
    "last_365_days",
    "last_3_months",
    "last_7_days",
    "last_90_days",
    "last_month",
    "last_week",
    "last_year",
    "this_month",
    "this_week",
    "this_year",
    "today",
    "yesterday",
)
# "If hourly is used, the timeframe cannot be longer than 7 days" (daily 60 days, monthly 52
# weeks); weekly has no limit of its own, only the timeframe's year.
_INTERVALS: dict[str, timedelta | None] = {
    "daily": timedelta(days=60),
    "hourly": timedelta(days=7),
    "monthly": timedelta(weeks=52),
    "weekly": None,
}

_SCALAR = ("equals", "contains-any")
_LIST = ("contains-any", "contains-all")
_ANY = ("equals", "any")
_CHANNELS_2024 = ("email", "push-notification", "sms")
_CHANNELS_2026 = ("email", "sms", "push-notification", "whatsapp")

_FLOW_RELATIONSHIPS = (
    ("flows", "flow", "flow_id"),
    ("flow-messages", "flow-message", "flow_message_id"),
)
_CAMPAIGN_RELATIONSHIPS = (("campaigns", "campaign", "campaign_id"),)
_SEGMENT_DATA_START = datetime(2023, 6, 1, tzinfo=UTC)


def _forms() -> Report:
    return Report(
        "form",
        _FORM_STATISTICS,
        {"form_id": FilterField(_ANY), "form_version_id": FilterField(_ANY)},
        ("form_id",),
        group_by=("form_id", "form_version_id"),
        prerequisites=(("form_version_id", "form_id"),),
    )


def _segments() -> Report:
    return Report(
        "segment",
        _SEGMENT_STATISTICS,
        {"segment_id": FilterField(_ANY)},
        ("segment_id",),
        earliest=_SEGMENT_DATA_START,
    )


def _families(flow: Report, campaign: Report) -> dict[str, Report]:
    form, segment = _forms(), _segments()
    return {
        "flow-values-reports": flow,
        "flow-series-reports": flow,
        "campaign-values-reports": campaign,
        "form-values-reports": form,
        "form-series-reports": form,
        "segment-values-reports": segment,
        "segment-series-reports": segment,
    }


_R2024 = Revision(
    "2024-10-15",
    _families(
        Report(
            "flow",
            _MESSAGE_STATISTICS_2024,
            {
                "flow_id": FilterField(_SCALAR),
                "send_channel": FilterField(_SCALAR, values=_CHANNELS_2024),
                "flow_message_id": FilterField(_SCALAR),
            },
            ("flow_id", "send_channel", "flow_message_id"),
            conversion=True,
            relationships=_FLOW_RELATIONSHIPS,
            paged=True,
        ),
        Report(
            "campaign",
            _MESSAGE_STATISTICS_2024,
            {
                "send_channel": FilterField(_SCALAR, values=_CHANNELS_2024),
                "campaign_id": FilterField(_SCALAR),
            },
            # The spec's example result groups by these two.
            ("campaign_id", "send_channel"),
            conversion=True,
            relationships=_CAMPAIGN_RELATIONSHIPS,
            paged=True,
        ),
    ),
    _INTERVALS,
    _TIMEFRAME_KEYS,
    ("name", "created", "updated", "integration"),
    report_fieldsets=False,
    top_links=False,
)

_FLOW_2026 = (
    "flow_id",
    "flow_name",
    "send_channel",
    "flow_message_id",
    "flow_message_name",
    "text_message_format",
    "variation",
    "variation_name",
)
_CAMPAIGN_2026 = (
    "send_channel",
    "campaign_id",
    "campaign_message_id",
    "campaign_message_name",
    "variation",
    "variation_name",
    "text_message_format",
)


def _fields_2026(scalars: tuple[str, ...]) -> dict[str, FilterField]:
    out = {
        name: FilterField(_SCALAR, values=_CHANNELS_2026 if name == "send_channel" else None)
        for name in scalars
    }
    out["tag_id"] = FilterField(_LIST, is_list=True)
    out["tag_name"] = FilterField(_LIST, is_list=True)
    return out


_R2026 = Revision(
    "2026-07-15",
    _families(
        Report(
            "flow",
            _MESSAGE_STATISTICS_2026,
            _fields_2026(_FLOW_2026),
            ("flow_id", "flow_message_id", "send_channel"),
            group_by=(
                "flow_id",
                "flow_message_id",
                "flow_message_name",
                "flow_name",
                "send_channel",
                "tag_id",
                "tag_name",
                "text_message_format",
                "variation",
                "variation_name",
            ),
            required_group_by=("flow_message_id", "flow_id"),
            conversion=True,
            relationships=_FLOW_RELATIONSHIPS,
            paged=True,
        ),
        Report(
            "campaign",
            _MESSAGE_STATISTICS_2026,
            _fields_2026(_CAMPAIGN_2026),
            ("campaign_id", "campaign_message_id", "send_channel"),
            group_by=(
                "campaign_id",
                "campaign_message_id",
                "campaign_message_name",
                "group",
                "group_name",
                "send_channel",
                "tag_id",
                "tag_name",
                "text_message_format",
                "variation",
                "variation_name",
            ),
            required_group_by=("campaign_id", "campaign_message_id"),
            conversion=True,
            relationships=_CAMPAIGN_RELATIONSHIPS,
            paged=True,
        ),
    ),
    _INTERVALS,
    _TIMEFRAME_KEYS,
    ("created", "id", "integration", "name", "updated"),
    report_fieldsets=True,
    top_links=True,
)

REVISIONS = {r.name: r for r in (_R2024, _R2026)}
"""The revisions the sandbox serves, by name."""

DEFAULT_REVISION = "2026-07-15"
"""The newest revision served."""

SCOPES = {
    "metrics": ("metrics:read",),
    "flow-triggers": ("flows:read", "metrics:read"),
    "flow": ("flows:read",),
    "campaign": ("campaigns:read",),
    "form": ("forms:read",),
    "segment": ("segments:read",),
}
"""The scopes each operation needs (the spec's ``x-klaviyo-scopes``)."""
