"""The synthetic Flow XO account: users, triggers and messages in 15-minute slots since
:data:`ORIGIN_MS`, the texts users send and the flows they trigger.

Slots are 15 minutes so that every real UTC offset (whole quarter hours) starts hours and days
on a slot boundary. Each day is drawn at once, with one generator, and cached. The flows and
messages of Flow XO's guide are among the account's.
"""

from __future__ import annotations

import threading
from collections import Counter

from flowql.sandbox._catalog import cumulative
from flowql.sandbox._conviva_data import Cache, rng
from flowql.sandbox._klaviyo_data import ORIGIN_MS

__all__ = ["SLOT_MS", "FlowXOData", "Slot", "Totals"]

SLOT_MS = 15 * 60_000
DAY_MS = 86_400_000
SLOTS_PER_DAY = DAY_MS // SLOT_MS
BASE_USERS = 40

FLOWS: tuple[tuple[str, str, float], ...] = (
    ("616f1b6a1680ec001b9a4579", "Untitled Broadcast", 30),
    ("5e4078ccbf034a59fd0b611d", "Text Me", 18),
    ("615119f48188d75b1dd62763", "Untitled Flow", 10),
    ("6104229e5fd0b00021b5e807", "Deep Linking with Multiple Argument Parsing (b64 url)", 2),
    ("5e2e18a38575b0006eb996c5", "Parse a Unix Timestamp", 2),
    ("63a1c2e4b7f9d40012ab34cd", "Order Status", 12),
    ("63a1c2e4b7f9d40012ab34ce", "FAQ Bot", 15),
    ("63a1c2e4b7f9d40012ab34cf", "Lead Capture", 8),
)
_FLOW_WEIGHTS = cumulative([w for _, _, w in FLOWS])

MESSAGES: tuple[tuple[str, float], ...] = (
    ("text me", 30),
    ("hi", 14),
    ("text ne", 4),
    ("/start", 6),
    ("convert a timestamp", 3),
    ("hello", 10),
    ("help", 8),
    ("where is my order?", 7),
    ("menu", 6),
    ("yes", 9),
    ("no", 5),
    ("talk to a human", 3),
    ("¿hablas español?", 1),
    ("stop", 2),
)
_MESSAGE_WEIGHTS = cumulative([w for _, w in MESSAGES])
_TEXTS = tuple(t for t, _ in MESSAGES)
_FLOW_INDEXES = tuple(range(len(FLOWS)))

# Activity by hour of the (UTC) day.
_PROFILE = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 7, 7, 6, 6, 6, 7, 8, 8, 7, 5, 3, 2]
_SLOT_WEIGHTS = cumulative([_PROFILE[s // 4] for s in range(SLOTS_PER_DAY)])


class Slot:
    """15 minutes of activity."""

    __slots__ = ("active", "flows", "new_users", "received", "sent", "texts", "triggers")

    def __init__(
        self,
        new_users: int,
        triggers: int,
        received: int,
        sent: int,
        active: tuple[int, ...],
        texts: Counter[str],
        flows: Counter[int],
    ) -> None:
        self.new_users = new_users
        self.triggers = triggers
        self.received = received
        self.sent = sent
        self.active = active
        self.texts = texts
        self.flows = flows


class Totals:
    """Activity summed over a time range: counts, the set of active users, the users there
    were at its end, and the messages and flows by count."""

    __slots__ = (
        "active",
        "flows",
        "new_users",
        "received",
        "sent",
        "texts",
        "total_users",
        "triggers",
    )

    def __init__(self) -> None:
        self.new_users = 0
        self.triggers = 0
        self.received = 0
        self.sent = 0
        self.active: set[int] = set()
        self.total_users = 0
        self.texts: Counter[str] = Counter()
        self.flows: Counter[int] = Counter()


class FlowXOData:
    """The synthetic Flow XO account."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._days = Cache(400)  # a year of days, for a year-long request
        self._prefix = [BASE_USERS]  # users at the start of each day since ORIGIN
        self._lock = threading.Lock()

    def _new_users(self, day: int) -> int:
        return rng(self.seed, "flowxo", "users", day).randrange(0, 12)

    def users_at_day_start(self, day: int) -> int:
        """How many users the account had at the start of ``day`` (days since the epoch)."""
        index = day - ORIGIN_MS // DAY_MS
        if index <= 0:
            return BASE_USERS
        with self._lock:
            prefix = self._prefix
            while len(prefix) <= index:
                prefix.append(prefix[-1] + self._new_users(ORIGIN_MS // DAY_MS + len(prefix) - 1))
            return prefix[index]

    def day(self, day: int) -> list[Slot]:
        """The 96 slots of ``day`` (days since the epoch)."""
        return self._days.get(day, lambda: self._make(day))

    def _make(self, day: int) -> list[Slot]:
        r = rng(self.seed, "flowxo", "day", day)
        users = self.users_at_day_start(day)
        joining = [0] * SLOTS_PER_DAY
        for slot in r.choices(
            range(SLOTS_PER_DAY), cum_weights=_SLOT_WEIGHTS, k=self._new_users(day)
        ):
            joining[slot] += 1
        out = []
        for slot in range(SLOTS_PER_DAY):
            level = _PROFILE[slot // 4] / 8
            triggers = int(r.random() * 2.2 * level + 0.2 * r.random())
            received = int(r.random() * 3 * level)
            sent = received + triggers + int(r.random() * 2 * level)
            users += joining[slot]
            talkers = min(users, received + triggers)
            active = tuple(sorted(r.sample(range(users), talkers))) if talkers else ()
            texts = Counter(r.choices(_TEXTS, cum_weights=_MESSAGE_WEIGHTS, k=received))
            flows = Counter(r.choices(_FLOW_INDEXES, cum_weights=_FLOW_WEIGHTS, k=triggers))
            out.append(Slot(joining[slot], triggers, received, sent, active, texts, flows))
        return out

    def totals(self, start_ms: int, end_ms: int, now_ms: int) -> Totals:
        """Activity in the slots that start in ``[start_ms, end_ms)`` and before ``now_ms``."""
        out = Totals()
        stop = min(end_ms, now_ms)
        first = max(start_ms, ORIGIN_MS)
        first_slot = -(-first // SLOT_MS)
        last_slot = -(-stop // SLOT_MS)  # exclusive
        for slot_index in range(first_slot, last_slot):
            day, position = divmod(slot_index, SLOTS_PER_DAY)
            slot = self.day(day)[position]
            out.new_users += slot.new_users
            out.triggers += slot.triggers
            out.received += slot.received
            out.sent += slot.sent
            out.active.update(slot.active)
            out.texts.update(slot.texts)
            out.flows.update(slot.flows)
        out.total_users = self.users_at(min(end_ms, now_ms))
        return out

    def users_at(self, at_ms: int) -> int:
        """How many users the account had at ``at_ms`` (the users who joined in slots that
        started before it)."""
        if at_ms <= ORIGIN_MS:
            return BASE_USERS
        day, offset = divmod(at_ms, DAY_MS)
        users = self.users_at_day_start(day)
        slots = -(-offset // SLOT_MS)
        return users + sum(s.new_users for s in self.day(day)[:slots])
