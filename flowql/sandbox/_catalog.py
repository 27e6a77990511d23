"""The fixed catalogs the synthetic data draws from: places, devices, networks, content.

Values are chosen to be realistic and to exercise filters: non-ASCII text (São Paulo,
Île-de-France), values holding a quote (Côte d'Ivoire, The O'Briens), values that contain others
(Android 13 / Android 14, Samsung Galaxy / Samsung Smart TV) and skewed weights (Spain first, as
in the Conviva guide's examples).
"""

from __future__ import annotations

import itertools

__all__ = [
    "APP_VERSIONS",
    "CDNS",
    "CONNECTION_TYPES",
    "CONTENT",
    "DEVICES",
    "FLOW_CONTENT_CATEGORIES",
    "GEOS",
    "IDENTITY_PROVIDERS",
    "LOGIN_METHODS",
    "Device",
    "Geo",
    "Isp",
    "Title",
    "cumulative",
]


def cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    """Cumulative weights, for ``random.choices(..., cum_weights=...)``."""
    return list(itertools.accumulate(weights))


class Isp:
    """An internet provider: its name and autonomous system (number and description)."""

    __slots__ = ("asn", "asn_description", "name")

    def __init__(self, name: str, asn: str, asn_description: str) -> None:
        self.name = name
        self.asn = asn
        self.asn_description = asn_description


class Geo:
    """A place viewers and users are in."""

    __slots__ = (
        "city",
        "continent",
        "country",
        "country_code",
        "dma",
        "first_octets",
        "isps",
        "postal_code",
        "state",
        "state_code",
        "weight",
    )

    def __init__(
        self,
        country: str,
        country_code: str,
        continent: str,
        state: str,
        state_code: str,
        city: str,
        postal_code: str,
        weight: float,
        isps: tuple[Isp, ...],
        first_octets: tuple[int, ...],
    ) -> None:
        self.country = country
        self.country_code = country_code
        self.continent = continent
        self.state = state
        self.state_code = state_code
        self.city = city
        self.postal_code = postal_code
        self.dma = city
        self.weight = weight
        self.isps = isps
        self.first_octets = first_octets

    @property
    def city_name(self) -> str:
        """The city as Sessions V3 writes it: ``Chicago, Illinois, United States``."""
        return f"{self.city}, {self.state}, {self.country}"

    @property
    def state_name(self) -> str:
        """The state as Sessions V3 writes it: ``Illinois, United States``."""
        return f"{self.state}, {self.country}"


_ES = (
    Isp("Movistar", "3352", "TELEFONICA_DE_ESPANA - Telefonica de Espana SAU, ES"),
    Isp("Vodafone Spain", "12430", "VODAFONE_ES - Vodafone Spain, ES"),
    Isp("Orange Spain", "12479", "UNI2-AS - Orange Espagne SA, ES"),
)
_GB = (
    Isp("BT", "2856", "BT-UK-AS - British Telecommunications PLC, GB"),
    Isp("Virgin Media", "5089", "NTL - Virgin Media Limited, GB"),
)
_DE = (
    Isp("Deutsche Telekom", "3320", "DTAG - Deutsche Telekom AG, DE"),
    Isp("Vodafone Germany", "3209", "VODANET - Vodafone GmbH, DE"),
)
_FR = (
    Isp("Orange", "3215", "France Telecom - Orange, FR"),
    Isp("Free", "12322", "PROXAD - Free SAS, FR"),
)
_US = (
    Isp("Comcast", "33491", "COMCAST-33491 - Comcast Cable Communications, LLC, US"),
    Isp("AT&T", "7018", "ATT-INTERNET4 - AT&T Services, Inc., US"),
    Isp("Verizon", "701", "UUNET - Verizon Business, US"),
)
_BR = (Isp("Vivo", "26599", "TELEFONICA BRASIL S.A, BR"),)
_CI = (Isp("Orange Côte d'Ivoire", "29571", "ORANGE-CI, CI"),)
_JP = (Isp("NTT Docomo", "9605", "DOCOMO - NTT DOCOMO, INC., JP"),)

GEOS: tuple[Geo, ...] = (
    Geo("Spain", "ES", "Europe", "Madrid", "MD", "Madrid", "28013", 18, _ES, (83, 88)),
    Geo("Spain", "ES", "Europe", "Catalonia", "CT", "Barcelona", "08002", 12, _ES, (80, 88)),
    Geo("Spain", "ES", "Europe", "Andalusia", "AN", "Seville", "41004", 5, _ES, (83,)),
    Geo("United Kingdom", "GB", "Europe", "England", "ENG", "London", "EC1A", 8, _GB, (81, 86)),
    Geo("United Kingdom", "GB", "Europe", "Scotland", "SCT", "Edinburgh", "EH1", 2, _GB, (86,)),
    Geo("Germany", "DE", "Europe", "Bavaria", "BY", "Munich", "80331", 5, _DE, (84, 91)),
    Geo("Germany", "DE", "Europe", "Berlin", "BE", "Berlin", "10115", 4, _DE, (91,)),
    Geo("France", "FR", "Europe", "Île-de-France", "IDF", "Paris", "75001", 6, _FR, (90, 78)),
    Geo(
        "France",
        "FR",
        "Europe",
        "Provence-Alpes-Côte d'Azur",
        "PAC",
        "Nice",
        "06000",
        2,
        _FR,
        (90,),
    ),
    Geo(
        "United States",
        "US",
        "North America",
        "California",
        "CA",
        "Los Angeles",
        "90012",
        9,
        _US,
        (73, 76),
    ),
    Geo(
        "United States", "US", "North America", "Illinois", "IL", "Chicago", "60609", 6, _US, (173,)
    ),
    Geo(
        "United States", "US", "North America", "New York", "NY", "New York", "10001", 8, _US, (68,)
    ),
    Geo("Brazil", "BR", "South America", "São Paulo", "SP", "São Paulo", "01000", 5, _BR, (177,)),
    Geo("Côte d'Ivoire", "CI", "Africa", "Abidjan", "AB", "Abidjan", "01", 1, _CI, (41,)),
    Geo("Japan", "JP", "Asia", "Tokyo", "13", "Tokyo", "100-0001", 3, _JP, (126,)),
)
GEO_WEIGHTS = cumulative([g.weight for g in GEOS])


class Device:
    """A kind of playing device: hardware, operating system, browsers and player."""

    __slots__ = (
        "browsers",
        "category",
        "hardware_type",
        "manufacturer",
        "marketing_name",
        "model",
        "name",
        "os",
        "os_family",
        "os_versions",
        "player",
        "weight",
    )

    def __init__(
        self,
        hardware_type: str,
        category: str,
        manufacturer: str,
        name: str,
        marketing_name: str,
        model: str,
        os: str,
        os_family: str,
        os_versions: tuple[str, ...],
        browsers: tuple[tuple[str, tuple[str, ...]], ...],
        player: str,
        weight: float,
    ) -> None:
        self.hardware_type = hardware_type
        self.category = category
        self.manufacturer = manufacturer
        self.name = name
        self.marketing_name = marketing_name
        self.model = model
        self.os = os
        self.os_family = os_family
        self.os_versions = os_versions
        self.browsers = browsers
        self.player = player
        self.weight = weight


_APP = ("Native App", ("Native App",))
DEVICES: tuple[Device, ...] = (
    Device(
        "Mobile Phone",
        "Mobile",
        "Apple",
        "Apple iPhone",
        "Apple iPhone 15",
        "iPhone 15",
        "iOS",
        "iOS",
        ("iOS 17", "iOS 16"),
        (_APP, ("Safari", ("17.2",))),
        "iOS AVPlayer",
        22,
    ),
    Device(
        "Mobile Phone",
        "Mobile",
        "Samsung",
        "Samsung Galaxy",
        "Samsung Galaxy S23",
        "SM-S911B",
        "Android",
        "Android",
        ("Android 14", "Android 13"),
        (_APP, ("Chrome", ("120.0", "121.0"))),
        "ExoPlayer",
        18,
    ),
    Device(
        "Mobile Phone",
        "Mobile",
        "Google",
        "Google Pixel",
        "Google Pixel 8",
        "Pixel 8",
        "Android",
        "Android",
        ("Android 14",),
        (_APP, ("Chrome", ("121.0",))),
        "ExoPlayer",
        6,
    ),
    Device(
        "Tablet",
        "Tablet",
        "Apple",
        "Apple iPad",
        "Apple iPad Air",
        "iPad Air",
        "iPadOS",
        "iOS",
        ("iPadOS 17",),
        (_APP,),
        "iOS AVPlayer",
        6,
    ),
    Device(
        "Desktop",
        "Desktop",
        "Unknown",
        "PC",
        "PC",
        "PC",
        "Windows",
        "Windows",
        ("Windows 11", "Windows 10"),
        (("Chrome", ("120.0", "121.0")), ("Edge", ("120.0",)), ("Firefox", ("121.0",))),
        "Shaka Player",
        14,
    ),
    Device(
        "Desktop",
        "Desktop",
        "Apple",
        "Mac",
        "Apple Mac",
        "Mac",
        "macOS",
        "macOS",
        ("macOS 14",),
        (("Safari", ("17.2",)), ("Chrome", ("121.0",))),
        "Shaka Player",
        7,
    ),
    Device(
        "Smart TV",
        "Smart TV",
        "Roku",
        "Roku",
        "Roku Ultra",
        "4802X",
        "Roku",
        "Roku",
        ("Roku OS 12",),
        (_APP,),
        "Roku Player",
        8,
    ),
    Device(
        "Smart TV",
        "Smart TV",
        "Samsung",
        "Samsung Smart TV",
        "Samsung QLED TV",
        "QN65Q80C",
        "Tizen",
        "Tizen",
        ("Tizen 7",),
        (_APP,),
        "Tizen AVPlay",
        5,
    ),
)
DEVICE_WEIGHTS = cumulative([d.weight for d in DEVICES])

CONNECTION_TYPES = {
    "Mobile": (("Cellular", "WiFi"), cumulative([45, 55])),
    "Tablet": (("WiFi", "Cellular"), cumulative([90, 10])),
    "Desktop": (("WiFi", "Ethernet"), cumulative([60, 40])),
    "Smart TV": (("Ethernet", "WiFi"), cumulative([50, 50])),
}
"""Per device category: the connection types and their cumulative weights."""

APP_VERSIONS = (("5.44.0", "5.45.0", "5.45.1", "6.0.0"), cumulative([10, 30, 40, 20]))
LOGIN_METHODS = (("Password", "Passkey", "Magic Link", "SSO"), cumulative([50, 15, 15, 20]))
IDENTITY_PROVIDERS = (("Email", "Google", "Apple", "Facebook"), cumulative([45, 30, 15, 10]))
CDNS = (("Akamai", "Fastly", "CloudFront", "INHOUSE"), cumulative([40, 25, 20, 15]))
FLOW_CONTENT_CATEGORIES = (("VoD", "Live", "Trailer"), cumulative([60, 30, 10]))


class Title:
    """A piece of content: asset name, category, length, channel and show."""

    __slots__ = ("asset", "category", "channel", "length_ms", "show", "weight")

    def __init__(
        self, asset: str, category: str, length_ms: int, channel: str, show: str, weight: float
    ) -> None:
        self.asset = asset
        self.category = category
        self.length_ms = length_ms
        self.channel = channel
        self.show = show
        self.weight = weight


CONTENT: tuple[Title, ...] = (
    Title(
        "Detective Memoirs: S1, E1", "VoD", 2_700_000, "The Premium Channel", "Detective Memoirs", 8
    ),
    Title(
        "Detective Memoirs: S1, E2", "VoD", 2_640_000, "The Premium Channel", "Detective Memoirs", 6
    ),
    Title("Mountain Trails", "VoD", 5_400_000, "Nature Now", "Mountain Trails", 4),
    Title("Evening News", "Live", 1_800_000, "News 24", "Evening News", 7),
    Title("Champions League: Final", "Live", 7_200_000, "Sports One", "Champions League", 9),
    Title("Cooking with Ana", "VoD", 1_500_000, "Food & Home", "Cooking with Ana", 3),
    Title("The O'Briens: Pilot", "VoD", 2_400_000, "The Premium Channel", "The O'Briens", 3),
)
CONTENT_WEIGHTS = cumulative([t.weight for t in CONTENT])
