"""The synthetic Klaviyo account: integrations and 230 metrics, flows with their messages,
campaigns, forms, segments and tags, and the daily counts behind the reporting statistics.

Counts are drawn per day for every row of a family at once (one generator per family and day),
split into hours by a fixed daily profile when a request needs hours, and summed over a
timeframe. Days start at :data:`ORIGIN` (2020-01-01), so the account's history does not move
when the clock does. The IDs of Klaviyo's guide exist (metric ``REcTBe``, flow ``T7K2j8`` and its
two messages), so the guide's requests work as written.
"""

from __future__ import annotations

import string
import threading
from datetime import datetime

from flowql.sandbox._conviva_data import Cache, rng
from flowql.sandbox._util import UTC, epoch_ms, iso_offset

TYPE_CHECKING = False
if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from typing import Any

__all__ = ["ORIGIN_MS", "KlaviyoData", "Row"]

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
ORIGIN_MS = epoch_ms(datetime(2020, 1, 1, tzinfo=UTC))
"""The first day with data."""

# How activity spreads over the 24 hours of a day (cumulative, ending at 1).
_PROFILE = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 7, 7, 6, 6, 6, 7, 8, 8, 7, 5, 3, 2]
_CUMULATIVE = [sum(_PROFILE[:h]) / sum(_PROFILE) for h in range(25)]

_ALNUM = string.ascii_letters + string.digits
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _short_id(r: random.Random) -> str:
    return "".join(r.choice(_ALNUM) for _ in range(6))


def _ulid(r: random.Random, day_ms: int) -> str:
    stamp = day_ms
    head = ""
    for _ in range(10):
        head = _CROCKFORD[stamp % 32] + head
        stamp //= 32
    return head + "".join(r.choice(_CROCKFORD) for _ in range(16))


def _uuid(r: random.Random) -> str:
    digits = f"{r.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


_INTEGRATIONS = (
    ("Klaviyo", "Internal", "klaviyo"),
    ("Shopify", "eCommerce", "shopify"),
    ("WooCommerce", "eCommerce", "woocommerce"),
    ("YourIntegration", "Custom", "your_integration"),
    ("Zendesk", "Helpdesk", "zendesk"),
    ("Recharge", "Subscriptions", "recharge"),
    ("Yotpo", "Reviews", "yotpo"),
    ("Twilio", "SMS", "twilio"),
    ("Segment", "Data Warehouse", "segment"),
    ("API", "API", "api"),
)
_EVENTS = (
    "Sent SMS",
    "Marked Email as Spam",
    "Placed Order",
    "Started Checkout",
    "Viewed Product",
    "Added to Cart",
    "Ordered Product",
    "Fulfilled Order",
    "Cancelled Order",
    "Refunded Order",
    "Subscribed to List",
    "Unsubscribed",
    "Opened Email",
    "Clicked Email",
    "Received Email",
    "Bounced Email",
    "Clicked SMS",
    "Received SMS",
    "Failed to Deliver SMS",
    "Submitted Form",
    "Viewed Form",
    "Active on Site",
    "Wrote Review",
)
# The guide's own IDs, so that its example requests work as written.
_GUIDE_METRICS = {
    ("YourIntegration", "Sent SMS"): "REcTBe",
    ("YourIntegration", "Marked Email as Spam"): "RcsmFp",
}
_GUIDE_INTEGRATION = {"YourIntegration": "0rG4eQ"}

_TAGS = (
    "Onboarding",
    "Revenue",
    "SMS",
    "Retention",
    "VIP",
    "Seasonal",
    "Q4 Promo",
    "Test's tag",
)

# name, trigger (integration, event), message channels, tags
_FLOWS: tuple[tuple[str, tuple[str, str], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "YourIntegration SMS Follow-up",
        ("YourIntegration", "Sent SMS"),
        ("email", "email"),
        ("Onboarding",),
    ),
    (
        "Welcome Series",
        ("Klaviyo", "Subscribed to List"),
        ("email", "email", "email"),
        ("Onboarding",),
    ),
    (
        "Abandoned Cart",
        ("Shopify", "Started Checkout"),
        ("email", "email", "sms"),
        ("Revenue", "SMS"),
    ),
    ("Browse Abandonment", ("Shopify", "Viewed Product"), ("email",), ("Revenue",)),
    (
        "Post-Purchase Thank You",
        ("Shopify", "Placed Order"),
        ("email", "push-notification"),
        ("Retention",),
    ),
    ("Win-Back", ("Shopify", "Fulfilled Order"), ("email", "email"), ("Retention",)),
    ("Back in Stock", ("WooCommerce", "Added to Cart"), ("email", "sms"), ("Revenue",)),
    ("Review Request", ("Shopify", "Fulfilled Order"), ("email",), ("Retention", "Test's tag")),
    ("Subscription Renewal", ("Recharge", "Ordered Product"), ("email", "sms"), ("Retention",)),
    ("Support Follow-up", ("Zendesk", "Submitted Form"), ("email",), ()),
    ("SMS Welcome", ("Twilio", "Received SMS"), ("sms", "sms", "whatsapp"), ("SMS", "Onboarding")),
    ("VIP Upgrade", ("Segment", "Placed Order"), ("email", "push-notification"), ("VIP",)),
)
_GUIDE_FLOW = ("T7K2j8", ("01GMRWDSA0ARTAKE1SFX8JGXAY", "01GJTHNWVG93F3KNX71SJ4FDBB"))

MESSAGE_FIELDS = (
    "recipients",
    "delivered",
    "bounced",
    "failed",
    "opens",
    "opens_unique",
    "clicks",
    "clicks_unique",
    "unsubscribes",
    "unsubscribe_uniques",
    "spam_complaints",
    "conversions",
    "conversion_uniques",
    "conversion_value",
    "message_segment_count_sum",
    "text_message_credit_usage_amount",
    "text_message_spend",
)
"""The counts behind the flow and campaign statistics, in the order of a count vector."""

FORM_FIELDS = (
    "viewed_form",
    "viewed_form_uniques",
    "closed_form",
    "closed_form_uniques",
    "qualified_form",
    "qualified_form_uniques",
    "submits",
    "submitted_form_step",
    "submitted_form_step_uniques",
    "viewed_form_step",
    "viewed_form_step_uniques",
)
SEGMENT_FIELDS = ("members_added", "members_removed")


class Row:
    """One row of a report family: the values its filter and group-by fields take (``values``,
    with ``tag_id`` and ``tag_name`` as lists), and its index among the family's rows."""

    __slots__ = ("index", "values")

    def __init__(self, index: int, values: dict[str, Any]) -> None:
        self.index = index
        self.values = values

    def __repr__(self) -> str:
        return f"Row({self.index}, {self.values!r})"


def _message_counts(r: random.Random, channel: str, volume: float) -> list[float]:
    recipients = max(0, round(volume * (0.6 + 0.8 * r.random())))
    bounced = round(recipients * 0.02 * r.random()) if channel == "email" else 0
    failed = round(recipients * 0.03 * r.random()) if channel != "email" else 0
    delivered = recipients - bounced - failed
    open_share = {"email": 0.45, "push-notification": 0.25}.get(channel, 0.0)
    opens_unique = round(delivered * open_share * (0.7 + 0.6 * r.random()))
    opens = opens_unique + round(opens_unique * 0.4 * r.random())
    clicks_unique = round(delivered * 0.06 * (0.5 + r.random()))
    if open_share:
        clicks_unique = min(clicks_unique, opens_unique)
    clicks = clicks_unique + round(clicks_unique * 0.3 * r.random())
    unsubscribe_uniques = round(delivered * 0.004 * r.random())
    unsubscribes = unsubscribe_uniques + (1 if unsubscribe_uniques and r.random() < 0.2 else 0)
    spam = round(delivered * 0.001 * r.random()) if channel == "email" else 0
    conversion_uniques = round(clicks_unique * 0.25 * (0.5 + r.random()))
    conversions = conversion_uniques + round(conversion_uniques * 0.2 * r.random())
    value = round(conversions * (35 + 60 * r.random()), 2)
    texting = channel in ("sms", "whatsapp")
    segments = recipients * (1 + (r.random() < 0.3)) if texting else 0
    credits = segments if texting else 0
    spend = round(segments * 0.0079, 4) if texting else 0.0
    return [
        recipients,
        delivered,
        bounced,
        failed,
        opens,
        opens_unique,
        clicks,
        clicks_unique,
        unsubscribes,
        unsubscribe_uniques,
        spam,
        conversions,
        conversion_uniques,
        value,
        segments,
        credits,
        spend,
    ]


def _split(values: list[float]) -> list[list[float]]:
    """A day's counts as 24 hourly count vectors that sum to it (money keeps its cents)."""
    hours: list[list[float]] = [[] for _ in range(24)]
    for value in values:
        is_money = isinstance(value, float)
        scale = 100 if is_money else 1
        total = round(value * scale)
        marks = [round(c * total) for c in _CUMULATIVE]
        for h in range(24):
            part = marks[h + 1] - marks[h]
            hours[h].append(part / scale if is_money else part)
    return hours


class _Daily:
    """Daily count vectors of a family's rows (made by ``make(day)``), with hourly splits."""

    def __init__(self, make: Callable[[int], list[list[float]]]) -> None:
        self._make = make
        self._days = Cache(1024)
        self._hours = Cache(16)  # hourly splits are big; needed for a week at most

    def day(self, day: int) -> list[list[float]]:
        return self._days.get(day, lambda: self._make(day))

    def hours(self, day: int) -> list[list[list[float]]]:
        return self._hours.get(day, lambda: [_split(v) for v in self.day(day)])

    def total(self, rows: list[int], start_ms: int, end_ms: int, width: int) -> list[list[float]]:
        """For each row index in ``rows``, its count vector summed over the hours that start in
        ``[start_ms, end_ms)``."""
        sums = [[0.0] * width for _ in rows]
        start_ms = max(start_ms, ORIGIN_MS)
        if end_ms <= start_ms:
            return sums
        for day in range(start_ms // DAY_MS, -(-end_ms // DAY_MS)):
            day_start = day * DAY_MS
            if start_ms <= day_start and day_start + DAY_MS <= end_ms:
                vectors = self.day(day)
                for out, row in zip(sums, rows, strict=True):
                    for i, value in enumerate(vectors[row]):
                        out[i] += value
                continue
            first = max(0, -(-(start_ms - day_start) // HOUR_MS))
            last = min(24, -(-(end_ms - day_start) // HOUR_MS))
            if first >= last:
                continue
            hourly = self.hours(day)
            for out, row in zip(sums, rows, strict=True):
                for hour in hourly[row][first:last]:
                    for i, value in enumerate(hour):
                        out[i] += value
        return sums


class KlaviyoData:
    """The synthetic Klaviyo account."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        r = rng(seed, "klaviyo", "account")
        self.integrations = []
        for name, category, key in _INTEGRATIONS:
            self.integrations.append(
                {
                    "object": "integration",
                    "id": _GUIDE_INTEGRATION.get(name) or _short_id(r),
                    "key": key,
                    "name": name,
                    "category": category,
                }
            )
        self.metrics: list[dict[str, Any]] = []
        used: set[str] = set(_GUIDE_METRICS.values())
        for integration in self.integrations:
            for event in _EVENTS:
                metric_id = _GUIDE_METRICS.get((integration["name"], event))
                if metric_id is None:
                    metric_id = _short_id(r)
                    while metric_id in used:
                        metric_id = _short_id(r)
                used.add(metric_id)
                created = ORIGIN_MS + r.randrange(400) * DAY_MS + r.randrange(DAY_MS)
                updated = created + r.randrange(300) * DAY_MS
                name = (
                    event if integration["name"] == "Klaviyo" else f"{integration['name']}: {event}"
                )
                self.metrics.append(
                    {
                        "id": metric_id,
                        "name": name,
                        "created": iso_offset(_at(created)),
                        "updated": iso_offset(_at(updated)),
                        "integration": dict(integration),
                    }
                )
        self.metric_by_id = {m["id"]: m for m in self.metrics}
        by_name = {(m["integration"]["name"], m["name"].split(": ")[-1]): m for m in self.metrics}
        self.metric_factor = {m["id"]: 0.6 + (i % 7) / 7 for i, m in enumerate(self.metrics)}

        self.tags = [{"id": _uuid(r), "name": name} for name in _TAGS]
        tag_ids = {t["name"]: t["id"] for t in self.tags}

        self.flows: list[dict[str, Any]] = []
        self.flow_rows: list[Row] = []
        self._flow_volume: list[tuple[str, float]] = []
        for index, (name, trigger, channels, tags) in enumerate(_FLOWS):
            flow_id = _GUIDE_FLOW[0] if index == 0 else _short_id(r)
            trigger_id = by_name[trigger]["id"]
            self.flows.append({"id": flow_id, "name": name, "trigger_metric_id": trigger_id})
            volume = 20 + r.randrange(300)
            counts: dict[str, int] = {}
            for position, channel in enumerate(channels):
                message_id = _GUIDE_FLOW[1][position] if index == 0 else _ulid(r, ORIGIN_MS)
                kind = {"push-notification": "Push", "whatsapp": "WhatsApp"}.get(
                    channel, channel.capitalize() if channel == "email" else channel.upper()
                )
                counts[kind] = counts.get(kind, 0) + 1
                message_name = f"{name} {kind} {counts[kind]}"
                variations: list[tuple[str | None, str | None]] = [(None, None)]
                if r.random() < 0.25:
                    variations = [
                        (_ulid(r, ORIGIN_MS), "Variation A"),
                        (_ulid(r, ORIGIN_MS), "Variation B"),
                    ]
                for variation, variation_name in variations:
                    values = {
                        "flow_id": flow_id,
                        "flow_name": name,
                        "send_channel": channel,
                        "flow_message_id": message_id,
                        "flow_message_name": message_name,
                        "text_message_format": (
                            r.choice(("sms", "mms")) if channel == "sms" else None
                        ),
                        "variation": variation,
                        "variation_name": variation_name,
                        "tag_id": [tag_ids[t] for t in tags],
                        "tag_name": list(tags),
                    }
                    self.flow_rows.append(Row(len(self.flow_rows), values))
                    share = 1.0 / len(variations) * (0.85**position)
                    self._flow_volume.append((channel, volume * share))

        self.forms: list[dict[str, Any]] = []
        self.form_rows: list[Row] = []
        for index in range(6):
            form_id = _short_id(r)
            self.forms.append({"id": form_id, "name": f"Form {index + 1}"})
            for _ in range(r.randint(1, 3)):
                version = str(r.randrange(1_000_000, 9_999_999))
                self.form_rows.append(
                    Row(len(self.form_rows), {"form_id": form_id, "form_version_id": version})
                )
        self.segments: list[dict[str, Any]] = [
            {"id": _short_id(r), "base": 200 + r.randrange(5000)} for _ in range(8)
        ]
        self.segment_rows = [Row(i, {"segment_id": s["id"]}) for i, s in enumerate(self.segments)]
        self._segment_prefix: list[list[int]] = [[0] for _ in self.segments]
        self._segment_lock = threading.Lock()

        self.flow_daily = _Daily(self._flow_day)
        self.form_daily = _Daily(self._form_day)
        self.segment_daily = _Daily(self._segment_day)
        self._campaigns = Cache(4096)

    # -- flows, forms, segments: daily counts

    def _flow_day(self, day: int) -> list[list[float]]:
        r = rng(self.seed, "klaviyo", "flows", day)
        weekly = 0.8 if (day + 3) % 7 in (5, 6) else 1.0
        return [_message_counts(r, ch, vol * weekly) for ch, vol in self._flow_volume]

    def _form_day(self, day: int) -> list[list[float]]:
        r = rng(self.seed, "klaviyo", "forms", day)
        out: list[list[float]] = []
        for _ in self.form_rows:
            views = r.randrange(50, 800)
            uniques = round(views * (0.6 + 0.3 * r.random()))
            closed = round(uniques * (0.3 + 0.4 * r.random()))
            closed_u = round(closed * 0.9)
            qualified = round(uniques * (0.2 + 0.2 * r.random()))
            qualified_u = round(qualified * 0.95)
            submits = round(uniques * (0.02 + 0.1 * r.random()))
            step_views = views + round(views * 0.2 * r.random())
            step_views_u = round(step_views * 0.8)
            step_submits = submits + round(submits * 0.3 * r.random())
            step_submits_u = min(step_submits, round(step_submits * 0.9) + 1)
            out.append(
                [
                    views,
                    uniques,
                    closed,
                    closed_u,
                    qualified,
                    qualified_u,
                    submits,
                    step_submits,
                    step_submits_u,
                    step_views,
                    step_views_u,
                ]
            )
        return out

    def _segment_day(self, day: int) -> list[list[float]]:
        r = rng(self.seed, "klaviyo", "segments", day)
        days: list[list[float]] = [[r.randrange(0, 40), r.randrange(0, 32)] for _ in self.segments]
        return days

    def segment_total(self, index: int, at_ms: int) -> int:
        """How many members segment ``index`` has at ``at_ms``."""
        base = self.segments[index]["base"]
        if at_ms <= ORIGIN_MS:
            return int(base)
        day = (at_ms - ORIGIN_MS) // DAY_MS
        with self._segment_lock:
            prefix = self._segment_prefix[index]
            while len(prefix) <= day:
                added, removed = self.segment_daily.day(ORIGIN_MS // DAY_MS + len(prefix) - 1)[
                    index
                ]
                prefix.append(prefix[-1] + int(added) - int(removed))
            whole = prefix[day]
        day_start = ORIGIN_MS + day * DAY_MS
        part = self.segment_daily.total([index], day_start, at_ms, 2)[0]
        return int(base + whole + part[0] - part[1])

    # -- campaigns: sent every 9 days since ORIGIN, their counts at the send hour

    def campaign_rows(self, start_ms: int, end_ms: int) -> list[tuple[Row, int, list[float]]]:
        """The campaign message rows sent in ``[start_ms, end_ms)``: (row, send time, counts)."""
        out: list[tuple[Row, int, list[float]]] = []
        period = 9 * DAY_MS
        first = max(0, (start_ms - ORIGIN_MS) // period - 1)
        last = max(0, (end_ms - ORIGIN_MS) // period + 1)
        for index in range(first, last + 1):
            for row, sent, counts in self.campaign(index):
                if start_ms <= sent < end_ms:
                    out.append((row, sent, counts))
        return out

    def campaign(self, index: int) -> list[tuple[Row, int, list[float]]]:
        """Campaign number ``index``: its message rows, send time and counts."""
        return self._campaigns.get(index, lambda: self._make_campaign(index))

    def _make_campaign(self, index: int) -> list[tuple[Row, int, list[float]]]:
        r = rng(self.seed, "klaviyo", "campaign", index)
        sent = ORIGIN_MS + index * 9 * DAY_MS + r.randrange(9, 19) * 3_600_000
        campaign_id = _ulid(r, sent)
        theme = r.choice(
            ("Spring Sale", "New Arrivals", "Weekly Digest", "Flash Deal", "Holiday Gift Guide")
        )
        tags = r.sample(self.tags, r.randint(0, 2))
        channels = ["email"] if r.random() < 0.6 else ["email", "sms"]
        out = []
        for channel in channels:
            message_id = _ulid(r, sent)
            values = {
                "campaign_id": campaign_id,
                "campaign_message_id": message_id,
                "campaign_message_name": f"{theme} #{index} ({channel})",
                "send_channel": channel,
                "variation": None,
                "variation_name": None,
                "text_message_format": "sms" if channel == "sms" else None,
                "group": None,
                "group_name": None,
                "tag_id": [t["id"] for t in tags],
                "tag_name": [t["name"] for t in tags],
            }
            volume = 2_000 + r.randrange(8_000) if channel == "email" else 500 + r.randrange(2_000)
            out.append((Row(index, values), sent, _message_counts(r, channel, volume)))
        return out


def _at(ms: int) -> datetime:
    from flowql.sandbox._util import from_ms

    return from_ms(ms)
