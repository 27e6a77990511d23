"""All of the sandbox's synthetic data, behind one object, each API's part made on first use."""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.sandbox._conviva_data import ConvivaData, FlowEvent, Session
    from flowql.sandbox._flowxo_data import FlowXOData
    from flowql.sandbox._klaviyo_data import KlaviyoData

__all__ = ["SyntheticData"]


class SyntheticData:
    """The synthetic accounts of the four APIs, made from ``seed``: the same seed gives the
    same data in every process. Nothing is made until it is asked for.

    ``conviva`` holds flow events and sessions, ``klaviyo`` the metrics, flows, campaigns,
    forms, segments and their daily counts, ``flowxo`` the users, messages and flows.
    :meth:`flow_events` and :meth:`sessions` are the rows the Conviva endpoints answer from, for
    tests that compare an answer with the data.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._conviva: ConvivaData | None = None
        self._klaviyo: KlaviyoData | None = None
        self._flowxo: FlowXOData | None = None

    @property
    def conviva(self) -> ConvivaData:
        """The Conviva account (flows 825 and 142 of the demo model; 300 viewers)."""
        with self._lock:
            if self._conviva is None:
                from flowql.sandbox._conviva_data import ConvivaData

                self._conviva = ConvivaData(self.seed)
            return self._conviva

    @property
    def klaviyo(self) -> KlaviyoData:
        """The Klaviyo account."""
        with self._lock:
            if self._klaviyo is None:
                from flowql.sandbox._klaviyo_data import KlaviyoData

                self._klaviyo = KlaviyoData(self.seed)
            return self._klaviyo

    @property
    def flowxo(self) -> FlowXOData:
        """The Flow XO account."""
        with self._lock:
            if self._flowxo is None:
                from flowql.sandbox._flowxo_data import FlowXOData

                self._flowxo = FlowXOData(self.seed)
            return self._flowxo

    def flow_events(self, flow_id: str, start_ms: int, end_ms: int) -> list[FlowEvent]:
        """The events of a Conviva flow that began in ``[start_ms, end_ms)`` (epoch
        milliseconds), in time order: each has ``time_ms``, ``dimensions`` (a dict a FlowQL
        filter can be evaluated on), ``completed``, ``succeeded`` and ``duration``."""
        return self.conviva.flow_events(str(flow_id), start_ms, end_ms)

    def sessions(self, start_ms: int, end_ms: int, kind: str | None = None) -> list[Session]:
        """The sessions (``content`` or ``ad``, or both) that started in ``[start_ms, end_ms)``,
        ended or not, in start order; each has ``record``, the values its filter parameters
        test."""
        return self.conviva.sessions(start_ms, end_ms, kind)
