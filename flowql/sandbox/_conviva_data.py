"""Synthetic Conviva data: flow events (DPI Flow API) and sessions (Sessions V3).

Everything is drawn from :class:`random.Random` generators seeded with a text key (the seed
plus what is being made: ``"0/flow/825/29240365"``), which Python hashes with SHA-512, so the
same seed gives the same data in every process. Data is made lazily, one minute of flow events
or one viewer-day of sessions at a time, and kept in bounded caches.
"""

from __future__ import annotations

import math
import random
import threading
from collections import OrderedDict

from flowql.sandbox import _catalog as cat
from flowql.sandbox._util import iso_ms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    K = TypeVar("K")
    V = TypeVar("V")

__all__ = ["ConvivaData", "FlowEvent", "Session", "rng"]

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def rng(seed: int, *parts: object) -> random.Random:
    """A generator for one piece of data: the same seed and parts give the same numbers in
    every process (a text seed is hashed with SHA-512, not with Python's salted ``hash``)."""
    return random.Random("/".join([str(seed), *(str(p) for p in parts)]))


class Cache:
    """A small thread-safe LRU cache (``get(key, make)``), counting its ``hits`` and
    ``misses`` (values made)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[object, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """How many values it keeps at most."""
        return self._size

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The cached value for ``key``, made (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]  # type: ignore[return-value]
            self.misses += 1
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


# --- flow events ----------------------------------------------------------------------------


class FlowEvent:
    """One run of a flow (a login, a video start): when it began, its dimension values, and its
    outcome. ``completed`` and ``succeeded`` count toward the complete and success metrics;
    ``duration`` (seconds) is set for completed runs only."""

    __slots__ = ("completed", "dimensions", "duration", "succeeded", "time_ms")

    def __init__(
        self,
        time_ms: int,
        dimensions: dict[str, str],
        completed: bool,
        succeeded: bool,
        duration: float | None,
    ) -> None:
        self.time_ms = time_ms
        self.dimensions = dimensions
        self.completed = completed
        self.succeeded = succeeded
        self.duration = duration

    def __repr__(self) -> str:
        return f"FlowEvent({self.time_ms}, completed={self.completed})"


# Events per minute at the daily peak, by flow.
_FLOW_RATE = {"825": 14.0, "142": 24.0}
_COMPLETE = {"825": 0.82, "142": 0.74}
_SUCCESS = {"825": 0.9, "142": 0.86}
_DURATION = {"825": (-0.4, 0.45), "142": (0.9, 0.4)}  # lognormal mu, sigma (seconds)


def _pick(r: random.Random, choice: tuple[tuple[str, ...], list[float]]) -> str:
    values, weights = choice
    return r.choices(values, cum_weights=weights)[0]


FLOW_CACHE_MINUTES = 7 * 24 * 60 + 60
"""The minutes of each flow the sandbox keeps made: the Flow API's 7 days of history and the hour
a window may reach past them. A smaller LRU cache misses on every minute of a range longer than
itself when that range is fetched again (a 7-day fetch was made afresh each time)."""


class _FlowGenerator:
    def __init__(self, seed: int, keys: dict[str, tuple[str, ...]]) -> None:
        self.seed = seed
        self.keys = keys
        # About 5 KB a minute for flow 825 and 8 KB for flow 142: a week of both, about 140 MB.
        self.cache = Cache(FLOW_CACHE_MINUTES * max(1, len(keys)))

    def minute(self, flow: str, minute: int) -> list[FlowEvent]:
        return self.cache.get((flow, minute), lambda: self._make(flow, minute))

    def _make(self, flow: str, minute: int) -> list[FlowEvent]:
        r = rng(self.seed, "flow", flow, minute)
        hour = (minute // 60) % 24
        rate = _FLOW_RATE[flow] * (0.55 + 0.45 * math.sin((hour - 8) / 24 * 2 * math.pi))
        count = max(0, round(r.gauss(rate, math.sqrt(rate))))
        keys = self.keys[flow]
        events = []
        for _ in range(count):
            time_ms = minute * MINUTE_MS + r.randrange(MINUTE_MS)
            geo = r.choices(cat.GEOS, cum_weights=cat.GEO_WEIGHTS)[0]
            device = r.choices(cat.DEVICES, cum_weights=cat.DEVICE_WEIGHTS)[0]
            browser, versions = r.choice(device.browsers)
            isp = r.choice(geo.isps)
            connection = _pick(r, cat.CONNECTION_TYPES[device.category])
            os_version = r.choice(device.os_versions)
            values = {
                "geo_country": geo.country,
                "geo_state": geo.state,
                "geo_city": geo.city,
                "device_operating_system": device.os,
                "device_operating_system_version": os_version,
                "device_category": device.category,
                "device_name": device.name,
                "browser_name": browser,
                "browser_version": r.choice(versions),
                "app_version": _pick(r, cat.APP_VERSIONS),
                "isp": isp.name,
                "connection_type": connection,
                "login_method": _pick(r, cat.LOGIN_METHODS),
                "identity_provider": _pick(r, cat.IDENTITY_PROVIDERS),
                "cdn": _pick(r, cat.CDNS),
                "asn": isp.asn,
                "content_category": _pick(r, cat.FLOW_CONTENT_CATEGORIES),
                "player_name": device.player,
            }
            # Outcomes differ by segment, so that filters and group-bys show something.
            p_complete = _COMPLETE[flow]
            if connection == "Cellular":
                p_complete -= 0.08
            if os_version in ("Android 13", "Windows 10", "iOS 16"):
                p_complete -= 0.05
            if geo.continent not in ("Europe", "North America"):
                p_complete -= 0.06
            completed = r.random() < p_complete
            succeeded = completed and r.random() < _SUCCESS[flow]
            duration = None
            if completed:
                mu, sigma = _DURATION[flow]
                slow = 1.6 if connection == "Cellular" else 1.0
                duration = round(r.lognormvariate(mu, sigma) * slow, 3)
            dimensions = {key: values[key] for key in keys}
            events.append(FlowEvent(time_ms, dimensions, completed, succeeded, duration))
        events.sort(key=lambda e: e.time_ms)
        return events


# --- sessions -------------------------------------------------------------------------------

VIEWERS = 300
"""How many viewers the synthetic account has."""

_SESSIONS_PER_DAY = ((0, 1, 2, 3, 4), cat.cumulative([30, 30, 20, 12, 8]))
_ERRORS = {
    "vsf_tech": ["NETWORK_ERROR: connection timed out", "DRM_LICENSE_FAILURE"],
    "vsf_business": ["GEO_BLOCKED: content not available in region"],
    "vpf_tech": ["DECODER_ERROR: unsupported codec profile", "CDN_ERROR: HTTP 503 on segment"],
    "vpf_business": ["CONCURRENT_STREAM_LIMIT: too many streams"],
}
_ADS = (
    ("Acme Cola 30s", 30_000),
    ("Northwind Airlines 15s", 15_000),
    ("Contoso Bank 30s", 30_000),
    ("Fabrikam Cars 15s", 15_000),
)
_AD_SYSTEMS = ("Google Ad Manager", "FreeWheel", "SpotX")
_AD_TECHNOLOGIES = ("Client Side", "Server Side")
_SUBSCRIPTIONS = (("premium", "basic", "free"), cat.cumulative([30, 45, 25]))


class _Viewer:
    __slots__ = ("age", "client_ids", "devices", "geo", "index", "ip", "ipv6", "isp", "viewer_id")

    def __init__(self, seed: int, index: int) -> None:
        r = rng(seed, "viewer", index)
        self.index = index
        self.viewer_id = _uuid(r)
        self.geo = r.choices(cat.GEOS, cum_weights=cat.GEO_WEIGHTS)[0]
        self.isp = r.choice(self.geo.isps)
        octet = r.choice(self.geo.first_octets)
        self.ip = f"{octet}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
        self.ipv6 = (
            f"2a02:{r.randrange(0x10000):x}:{r.randrange(0x10000):x}::{r.randrange(1, 0x10000):x}"
            if r.random() < 0.25
            else None
        )
        self.age = str(r.randint(18, 80))
        devices = []
        client_ids = []
        for _ in range(r.choice((1, 1, 2, 2, 3))):
            device = r.choices(cat.DEVICES, cum_weights=cat.DEVICE_WEIGHTS)[0]
            browser, versions = r.choice(device.browsers)
            devices.append(
                (
                    device,
                    r.choice(device.os_versions),
                    browser,
                    r.choice(versions),
                    _pick(r, cat.APP_VERSIONS),
                    _pick(r, _SUBSCRIPTIONS),
                )
            )
            client_ids.append(".".join(str(r.randrange(1, 2**32)) for _ in range(4)))
        self.devices = devices
        self.client_ids = client_ids


def _uuid(r: random.Random) -> str:
    digits = f"{r.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


class Session:
    """One synthetic session: its JSON (as Sessions V3 returns it, for an ended session), the
    values its filter parameters test (``record``: dimension keys, ``is_*`` statuses and
    ``tag_<name>`` custom tags), and its kind (``content`` or ``ad``), times and viewer."""

    __slots__ = ("_json", "end_ms", "ip", "ipv6", "kind", "record", "start_ms", "viewer_id")

    def __init__(
        self,
        kind: str,
        start_ms: int,
        end_ms: int,
        viewer_id: str,
        ip: str,
        ipv6: str | None,
        json: dict[str, Any],
        record: dict[str, Any],
    ) -> None:
        self.kind = kind
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.viewer_id = viewer_id
        self.ip = ip
        self.ipv6 = ipv6
        self._json = json
        self.record = record

    def is_ended(self, now_ms: int) -> bool:
        """Whether the session had ended at ``now_ms``."""
        return self.end_ms <= now_ms

    def to_json(self, now_ms: int) -> dict[str, Any]:
        """The session as Sessions V3 returns it at ``now_ms`` (an on-going session has no end
        time yet and ``is_ended`` false)."""
        if self.is_ended(now_ms):
            return self._json
        out = dict(self._json)
        status = dict(out["status_info"])
        status["is_ended"] = False
        status["ended_status"] = ""
        out["status_info"] = status
        out["timestamps"] = {"start": out["timestamps"]["start"], "end": None}
        return out

    def __repr__(self) -> str:
        return f"Session({self.kind!r}, {self.start_ms})"


def _stamp(ms: int) -> dict[str, Any]:
    return {"epoch_ms": ms, "iso_date": iso_ms(ms)}


class _SessionGenerator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.viewers = Cache(VIEWERS + 10)
        self.days = Cache(2048)  # viewer-days: a 3-hour query needs up to 600
        self.by_id: dict[str, int] | None = None
        self.lock = threading.Lock()

    def viewer(self, index: int) -> _Viewer:
        return self.viewers.get(index, lambda: _Viewer(self.seed, index))

    def viewer_index(self, viewer_id: str | None, ip: str | None) -> list[int]:
        with self.lock:
            if self.by_id is None:
                self.by_id = {}
                for i in range(VIEWERS):
                    v = self.viewer(i)
                    self.by_id[v.viewer_id] = i
                    self.by_id.setdefault(v.ip, i)
                    if v.ipv6:
                        self.by_id.setdefault(v.ipv6, i)
            found = self.by_id.get(viewer_id if viewer_id is not None else ip or "")
        return [] if found is None else [found]

    def viewer_day(self, index: int, day: int) -> list[Session]:
        return self.days.get((index, day), lambda: self._make(index, day))

    def _make(self, index: int, day: int) -> list[Session]:
        viewer = self.viewer(index)
        r = rng(self.seed, "sessions", index, day)
        out: list[Session] = []
        for _ in range(_draw(r)):
            out.extend(self._session(r, viewer, day * DAY_MS + r.randrange(DAY_MS)))
        out.sort(key=lambda s: (s.start_ms, s.kind))
        return out

    def _session(self, r: random.Random, viewer: _Viewer, start: int) -> list[Session]:
        slot = r.randrange(len(viewer.devices))
        device, os_version, browser, browser_version, app_version, subscription = viewer.devices[
            slot
        ]
        client_id = viewer.client_ids[slot]
        title = r.choices(cat.CONTENT, cum_weights=cat.CONTENT_WEIGHTS)[0]
        cdn = [_pick(r, cat.CDNS)]
        if r.random() < 0.15:
            second = _pick(r, cat.CDNS)
            if second != cdn[0]:
                cdn.append(second)
        has_ad = r.random() < 0.4
        outcome = r.random()
        ebvs = outcome < 0.06
        vsf = 0.06 <= outcome < 0.10
        vsf_tech = vsf and r.random() < 0.7
        played = not (ebvs or vsf)
        vpf = played and r.random() < 0.04
        vpf_tech = vpf and r.random() < 0.75
        if played:
            startup = int(r.lognormvariate(7.2, 0.5))
            playing = r.randint(60_000, title.length_ms)
            if vpf:
                playing //= 3
            rebuffering = 0 if r.random() < 0.7 else r.randint(500, 30_000)
            induced = rebuffering // 2 if rebuffering and r.random() < 0.5 else 0
            paused = 0 if r.random() < 0.7 else r.randint(1_000, 120_000)
            bitrate = r.randint(1_500, 8_000) * 1000
            waited = startup + playing + rebuffering + paused
        else:
            startup, playing, rebuffering, induced, paused, bitrate = -1, 0, 0, 0, 0, 0
            waited = r.randint(1_000, 20_000)
        end = start + waited
        errors: list[str] = []
        if vsf:
            errors.append(r.choice(_ERRORS["vsf_tech" if vsf_tech else "vsf_business"]))
        if vpf:
            errors.append(r.choice(_ERRORS["vpf_tech" if vpf_tech else "vpf_business"]))
        status = {
            "is_ended": True,
            "ended_status": "By Expiration" if ebvs else "By Error" if errors else "By Stop",
            "is_exit_before_video_start": ebvs,
            "is_video_start_failure": vsf,
            "is_video_start_failure_business": vsf and not vsf_tech,
            "is_video_start_failure_tech": vsf_tech,
            "is_video_playback_failure": vpf,
            "is_video_playback_failure_business": vpf and not vpf_tech,
            "is_video_playback_failure_tech": vpf_tech,
            "errors": errors,
        }
        watched = playing + rebuffering
        lifetime = {
            "average_framerate_fps": r.choice((24, 25, 30, 60)) if played else 0,
            "average_peak_bitrate_bps": bitrate,
            "average_percentage_complete": round(100 * playing / title.length_ms, 2),
            "bitrate_switches_count": r.randint(0, 12) if played else 0,
            "connection_induced_rebuffering_ratio_percent": round(100 * induced / watched, 3)
            if watched
            else 0,
            "connection_induced_rebuffering_time_ms": induced,
            "last_play_head_time_ms": playing if played and title.category == "VoD" else -1,
            "playing_time_ms": playing,
            "paused_ratio_percent": round(100 * paused / waited, 3) if waited else 0,
            "paused_time_ms": paused,
            "rebuffering_ratio_percent": round(100 * rebuffering / watched, 3) if watched else 0,
            "rebuffering_time_ms": rebuffering,
            "video_restart_time_ms": r.randint(200, 3000) if played and r.random() < 0.2 else 0,
            "video_start_time_ms": startup,
        }
        geo = viewer.geo
        tags = {
            "age": viewer.age,
            "demo_version": "2022.10.13+rollback_eff17a6",
            "has_ad": "true" if has_ad else "false",
            "linked_ad": (r.choice(("pre-roll", "pre-mid-roll")) if has_ad else ""),
            "subscription": subscription,
        }
        session_id = str(r.randint(-(2**31), 2**31 - 1))
        selected = {
            "ad_creative_id": "",
            "ad_id": "",
            "ad_media_file_api_framework": "",
            "ad_planned_duration": "",
            "ad_position": "",
            "ad_sequence": "",
            "ad_system": "",
            "ad_technology": "",
            "app_version": app_version,
            "browser_name": browser,
            "browser_version": browser_version,
            "content_category": title.category,
            "content_meta_channel": title.channel,
            "content_meta_show_title": title.show,
            "content_session_id": "",
            "device_hardware_type": device.hardware_type,
            "device_manufacturer": device.manufacturer,
            "device_marketing_name": device.marketing_name,
            "device_model": device.model,
            "device_name": device.name,
            "device_os": device.os,
            "device_os_family": device.os_family,
            "device_os_version": os_version,
            "platform_version": "",
            "player_framework_name": "",
            "player_framework_version": "",
            "player_name": device.player,
            "video_asset_name": title.asset,
        }
        base = {
            "device_info": {
                "browser": {"name": browser, "version": browser_version},
                "name": device.name,
                "os": device.os,
                "os_family": device.os_family,
                "os_version": os_version,
            },
            "geo_info": {
                "city": geo.city_name,
                "state": {"name": geo.state_name, "code": geo.state_code},
                "country": {"name": geo.country, "code": geo.country_code},
                "continent": geo.continent,
                "postal_code": geo.postal_code,
                "dma": geo.dma,
            },
            "network_info": {
                "asn": {"value": viewer.isp.asn, "description": viewer.isp.asn_description},
                "cdn": cdn,
                "ip": viewer.ip,
                "ipv6": viewer.ipv6,
                "isp": viewer.isp.name,
                "last_cdn_edge_server": f"edge-{r.randrange(1, 64):02d}.{cdn[-1].lower()}.example"
                if played
                else "",
                "last_cdn_group_id": "",
            },
        }
        content = self._build(
            "content",
            viewer,
            client_id,
            session_id,
            start,
            end,
            status,
            lifetime,
            {
                "asset": title.asset,
                "category": title.category,
                "length_ms": title.length_ms,
                "stream_url": f"https://cdn.example/{title.show.lower().replace(' ', '-')}.m3u8",
            },
            base,
            selected,
            tags,
        )
        out = [content]
        if has_ad:
            for sequence in range(1, r.randint(1, 3) + 1):
                out.append(
                    self._ad(
                        r, viewer, client_id, session_id, start, end, sequence, base, selected, tags
                    )
                )
        return out

    def _ad(
        self,
        r: random.Random,
        viewer: _Viewer,
        client_id: str,
        content_session: str,
        start: int,
        end: int,
        sequence: int,
        base: dict[str, Any],
        selected: dict[str, str],
        tags: dict[str, str],
    ) -> Session:
        name, length = r.choice(_ADS)
        position = "Preroll" if sequence == 1 else "Midroll"
        ad_start = start if sequence == 1 else r.randrange(start, max(start + 1, end))
        watched = length if r.random() < 0.85 else r.randint(1_000, length)
        ad_end = ad_start + watched + r.randint(200, 1500)
        creative = f"cr-{r.randrange(10**6):06d}"
        selected = dict(selected)
        selected.update(
            {
                "ad_creative_id": creative,
                "ad_id": f"ad-{r.randrange(10**5):05d}",
                "ad_media_file_api_framework": r.choice(("", "VPAID", "OMID")),
                "ad_planned_duration": str(length // 1000),
                "ad_position": position,
                "ad_sequence": str(sequence),
                "ad_system": r.choice(_AD_SYSTEMS),
                "ad_technology": r.choice(_AD_TECHNOLOGIES),
                "content_session_id": content_session,
                "video_asset_name": name,
            }
        )
        failed = r.random() < 0.03
        status = {
            "is_ended": True,
            "ended_status": "By Error" if failed else "By Stop",
            "is_exit_before_video_start": False,
            "is_video_start_failure": failed,
            "is_video_start_failure_business": False,
            "is_video_start_failure_tech": failed,
            "is_video_playback_failure": False,
            "is_video_playback_failure_business": False,
            "is_video_playback_failure_tech": False,
            "errors": ["AD_MEDIA_ERROR: no playable creative"] if failed else [],
        }
        lifetime = {
            "average_framerate_fps": 0 if failed else 30,
            "average_peak_bitrate_bps": 0 if failed else r.randint(1_000, 4_000) * 1000,
            "average_percentage_complete": 0 if failed else round(100 * watched / length, 2),
            "bitrate_switches_count": 0,
            "connection_induced_rebuffering_ratio_percent": 0,
            "connection_induced_rebuffering_time_ms": 0,
            "last_play_head_time_ms": -1 if failed else watched,
            "playing_time_ms": 0 if failed else watched,
            "paused_ratio_percent": 0,
            "paused_time_ms": 0,
            "rebuffering_ratio_percent": 0,
            "rebuffering_time_ms": 0,
            "video_restart_time_ms": 0,
            "video_start_time_ms": -1 if failed else r.randint(150, 1200),
        }
        session_id = str(r.randint(-(2**31), 2**31 - 1))
        return self._build(
            "ad",
            viewer,
            client_id,
            session_id,
            ad_start,
            ad_end,
            status,
            lifetime,
            {
                "asset": name,
                "category": "Ad",
                "length_ms": length,
                "stream_url": f"https://ads.example/{creative}.mp4",
            },
            base,
            selected,
            tags,
        )

    def _build(
        self,
        kind: str,
        viewer: _Viewer,
        client_id: str,
        session_id: str,
        start: int,
        end: int,
        status: dict[str, Any],
        lifetime: dict[str, Any],
        content: dict[str, Any],
        base: dict[str, Any],
        selected: dict[str, str],
        tags: dict[str, str],
    ) -> Session:
        json = {
            "conviva_session_id": f"{client_id}.{session_id}",
            "client_id": client_id,
            "session_id": session_id,
            "viewer_id": viewer.viewer_id,
            "timestamps": {"start": _stamp(start), "end": _stamp(end)},
            "status_info": status,
            "lifetime_metrics": lifetime,
            "content_info": content,
            "device_info": base["device_info"],
            "geo_info": base["geo_info"],
            "network_info": base["network_info"],
            "tags": {"selected_dimensions": selected, "custom_tags": tags},
        }
        geo = base["geo_info"]
        network = base["network_info"]
        record: dict[str, Any] = {
            key: selected[key]
            for key in (
                "app_version",
                "browser_name",
                "browser_version",
                "content_category",
                "content_meta_channel",
                "content_meta_show_title",
                "device_name",
                "device_os",
                "device_os_family",
                "device_os_version",
                "player_name",
                "video_asset_name",
                "ad_id",
                "ad_position",
                "ad_system",
                "ad_technology",
            )
        }
        record.update(
            {
                "asn": network["asn"]["value"],
                "cdn": list(network["cdn"]),
                "isp": network["isp"],
                "geo_city_name": geo["city"],
                "geo_state_name": geo["state"]["name"],
                "geo_country_name": geo["country"]["name"],
                "geo_continent": geo["continent"],
                "geo_dma": geo["dma"],
            }
        )
        record.update({k: v for k, v in status.items() if k.startswith("is_")})
        record.update({f"tag_{k}": v for k, v in tags.items()})
        return Session(kind, start, end, viewer.viewer_id, viewer.ip, viewer.ipv6, json, record)


def _draw(r: random.Random) -> int:
    return r.choices(_SESSIONS_PER_DAY[0], cum_weights=_SESSIONS_PER_DAY[1])[0]


class ConvivaData:
    """The synthetic Conviva account: flow events for the demo model's flows, and sessions of
    :data:`VIEWERS` viewers."""

    def __init__(self, seed: int) -> None:
        from flowql.model import demo_model

        self.seed = seed
        self.model = demo_model()
        keys = {fid: tuple(flow.dimensions) for fid, flow in self.model.flows.items()}
        self._flows = _FlowGenerator(seed, keys)
        self._sessions = _SessionGenerator(seed)

    def flow_events(self, flow_id: str, start_ms: int, end_ms: int) -> list[FlowEvent]:
        """The events of a flow that began in ``[start_ms, end_ms)``, in time order."""
        if flow_id not in self.model.flows:
            return []
        out: list[FlowEvent] = []
        for minute in range(start_ms // MINUTE_MS, -(-end_ms // MINUTE_MS)):
            for event in self._flows.minute(flow_id, minute):
                if start_ms <= event.time_ms < end_ms:
                    out.append(event)
        return out

    def sessions(self, start_ms: int, end_ms: int, kind: str | None = None) -> list[Session]:
        """Every session (of ``kind``, if given) that started in ``[start_ms, end_ms)``, ended
        or not, in start order."""
        out: list[Session] = []
        for day in range(start_ms // DAY_MS, -(-end_ms // DAY_MS)):
            for index in range(VIEWERS):
                for session in self._sessions.viewer_day(index, day):
                    if start_ms <= session.start_ms < end_ms and kind in (None, session.kind):
                        out.append(session)
        out.sort(key=lambda s: (s.start_ms, s.viewer_id, s.kind))
        return out

    def viewer_sessions(
        self, start_ms: int, end_ms: int, *, viewer_id: str | None = None, ip: str | None = None
    ) -> list[Session]:
        """The content sessions of one viewer (by id or IP address) that started in
        ``[start_ms, end_ms)``, in start order; none for a viewer the account does not have."""
        out: list[Session] = []
        for index in self._sessions.viewer_index(viewer_id, ip):
            for day in range(start_ms // DAY_MS, -(-end_ms // DAY_MS)):
                for session in self._sessions.viewer_day(index, day):
                    if session.kind == "content" and start_ms <= session.start_ms < end_ms:
                        out.append(session)
        return out

    def viewer(self, index: int) -> tuple[str, str]:
        """The id and IP address of viewer ``index`` (0 to ``VIEWERS - 1``)."""
        v = self._sessions.viewer(index)
        return v.viewer_id, v.ip
