"""Data models: which keys a filter may use, and what values they take.

A :class:`DataModel` is one of three kinds:

- ``conviva-flow``: the flow models of a Conviva account, as ``GET
  /flow-data/metadata/data-model`` returns them (``flow_models[]`` with ``id``, ``label``,
  ``metrics[]`` and ``dimensions[]``). Keys are valid per flow; with no flow named, the union of
  the flows' keys is valid.
- ``conviva-sessions``: the Sessions V3 / Metrics V3 dimension list (``GET
  .../_meta/references/dimensions``: ``{"dimensions": [{"name", "query_filter", ...}]}``, the key
  being ``query_filter`` without its leading ``?``), plus the boolean status filters and any
  ``tag_<name>`` custom tag.
- ``klaviyo``: the fields of one Klaviyo endpoint family, which flowql knows itself
  (:func:`klaviyo_model`).

:func:`demo_model` is the built-in model every command uses when no other is configured: the
Login Process flow (825) and the Video Start flow (142) of the Conviva guide.
"""

from __future__ import annotations

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = [
    "KLAVIYO_ENDPOINTS",
    "SESSIONS_STATUS_FILTERS",
    "DataModel",
    "Dimension",
    "FlowModel",
    "Metric",
    "ModelError",
    "demo_model",
    "demo_sessions_model",
    "klaviyo_model",
    "load_model",
    "model_from_data",
]

KINDS = ("conviva-flow", "conviva-sessions", "klaviyo")
TYPES = ("string", "number", "boolean", "list")


class ModelError(FlowQLError):
    """A data model that cannot be read (code FQ801)."""


def _model_error(message: str, hint: str | None = None) -> ModelError:
    return ModelError(Diagnostic("FQ801", message, None, hint=hint))


class Dimension:
    """A key a filter may use.

    ``type`` is ``string`` (Conviva dimensions, most fields), ``boolean`` (Sessions V3 status
    filters), ``number`` or ``list`` (Klaviyo's ``tag_id``/``tag_name``: a list of strings).
    ``values`` lists the values the key takes, when they are known and few (Klaviyo's
    ``send_channel``); ``operators`` the FlowQL operators the API takes on it, when it restricts
    them (None: any).
    """

    __slots__ = ("key", "label", "operators", "type", "values")

    def __init__(
        self,
        key: str,
        label: str | None = None,
        type: str = "string",
        values: Iterable[str] | None = None,
        operators: Iterable[str] | None = None,
    ) -> None:
        if type not in TYPES:
            raise ValueError(f"unknown dimension type {type!r}")
        self.key = key
        self.label = label or key
        self.type = type
        self.values = tuple(values) if values is not None else None
        self.operators = frozenset(operators) if operators is not None else None

    def __repr__(self) -> str:
        return f"Dimension({self.key!r}, {self.label!r}, {self.type!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dimension):
            return NotImplemented
        return (self.key, self.label, self.type, self.values, self.operators) == (
            other.key,
            other.label,
            other.type,
            other.values,
            other.operators,
        )

    def __hash__(self) -> int:
        return hash((self.key, self.type))


class Metric:
    """A metric of a flow model: its key, label, unit (``count``, ``percentage``, ``ms``...),
    type (``complete``, ``init``...) and ``percentage``, the key of the metric holding its
    share (``percentage_metric``), as the data model gives them."""

    __slots__ = ("key", "label", "percentage", "type", "unit")

    def __init__(
        self,
        key: str,
        label: str | None = None,
        unit: str = "",
        type: str = "",
        percentage: str | None = None,
    ) -> None:
        self.key = key
        self.label = label or key
        self.unit = unit
        self.type = type
        self.percentage = percentage

    def __repr__(self) -> str:
        return f"Metric({self.key!r}, {self.label!r}, unit={self.unit!r})"


class FlowModel:
    """One Conviva flow model: its id, label, metrics and dimensions."""

    __slots__ = ("dimensions", "id", "label", "metrics")

    def __init__(
        self,
        id: str,
        label: str,
        dimensions: Iterable[Dimension],
        metrics: Iterable[Metric] = (),
    ) -> None:
        self.id = str(id)
        self.label = label
        self.dimensions: dict[str, Dimension] = {d.key: d for d in dimensions}
        self.metrics: dict[str, Metric] = {m.key: m for m in metrics}

    def __repr__(self) -> str:
        return f"FlowModel({self.id!r}, {self.label!r}, {len(self.dimensions)} dimensions)"


class DataModel:
    """The keys (and their types) that filters may use against one API.

    For ``conviva-flow`` models, ``flows`` holds the flow models by id and :meth:`dimensions`
    answers per flow; the other kinds have one set of dimensions for every query.
    """

    __slots__ = ("_union", "custom_tag_prefix", "flows", "kind", "name")

    def __init__(
        self,
        kind: str,
        *,
        flows: Iterable[FlowModel] = (),
        dimensions: Iterable[Dimension] = (),
        name: str = "",
        custom_tag_prefix: str | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown data model kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.name = name or kind
        self.flows: dict[str, FlowModel] = {f.id: f for f in flows}
        self.custom_tag_prefix = custom_tag_prefix
        union: dict[str, Dimension] = {}
        for flow in self.flows.values():
            for key, dimension in flow.dimensions.items():
                union.setdefault(key, dimension)
        for dimension in dimensions:
            union[dimension.key] = dimension
        self._union = union

    def __repr__(self) -> str:
        return f"<DataModel {self.name!r} ({self.kind}), {len(self._union)} keys>"

    def flow(self, flow_id: str) -> FlowModel | None:
        """The flow model with this id, or None."""
        return self.flows.get(str(flow_id))

    def dimensions(self, flow: str | None = None) -> dict[str, Dimension]:
        """The keys valid for a flow (by id), or for every query when no flow is named.

        For a flow the model does not have, the result is empty: check :meth:`flow` first.
        """
        if flow is None or not self.flows:
            return self._union
        model = self.flows.get(str(flow))
        return model.dimensions if model else {}

    def lookup(self, key: str, flow: str | None = None) -> Dimension | None:
        """The dimension ``key`` names for this flow (or for any query), or None if unknown.

        In a Sessions V3 model every ``tag_<name>`` key is a custom tag (a string dimension).
        """
        found = self.dimensions(flow).get(key)
        prefix = self.custom_tag_prefix
        if found is None and prefix and key.startswith(prefix) and len(key) > len(prefix):
            return Dimension(key, f"custom tag {key[len(prefix) :]}")
        return found

    def flows_with(self, key: str) -> list[FlowModel]:
        """The flow models that have ``key``, in id order."""
        return [f for f in self.flows.values() if key in f.dimensions]


# --- loading ---------------------------------------------------------------------------


def load_model(path: str) -> DataModel:
    """Read a data model from a JSON file: a Conviva flow data model, or a Sessions V3 /
    Metrics V3 dimension list (told apart by their shape). Raises :class:`ModelError`."""
    import json

    from flowql.files import read_regular

    if "\0" in path:
        raise _model_error(
            f"{path!r}: not a valid path (it holds a NUL character)",
            "give the path of a JSON file",
        )
    try:
        data = json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError:
        raise _model_error(f"{path}: no such data model file") from None
    except OSError as exc:
        raise _model_error(f"{path}: cannot read the data model ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _model_error(
            f"{path}: not a JSON data model ({exc})",
            "save the JSON of GET /flow-data/metadata/data-model (or of Sessions V3's "
            "_meta/references/dimensions) to a file",
        ) from None
    except RecursionError:
        # json recurses once per nested array or object: a hostile file runs it out.
        raise _model_error(
            f"{path}: not a JSON data model (arrays or objects nested too deeply)",
            "a data model nests a few levels only: check that this is the right file",
        ) from None
    except ValueError:
        # An integer of more digits than Python converts (sys.get_int_max_str_digits()).
        raise _model_error(
            f"{path}: not a JSON data model (an integer with too many digits)",
            "a data model holds no huge numbers: check that this is the right file",
        ) from None
    return model_from_data(data, name=path)


def model_from_data(data: Mapping[str, Any], *, name: str = "") -> DataModel:
    """Build a data model from the JSON a Conviva API returns (already decoded).

    ``{"flow_models": [...]}`` is a Conviva flow data model; ``{"dimensions": [...]}`` a
    Sessions V3 / Metrics V3 dimension list. Raises :class:`ModelError` for anything else.
    """
    if not isinstance(data, dict):
        raise _model_error(f"{name or 'data model'}: expected a JSON object")
    if "flow_models" in data:
        return _flow_model(data["flow_models"], name)
    if "dimensions" in data:
        return _sessions_model(data["dimensions"], name)
    raise _model_error(
        f"{name or 'data model'}: expected 'flow_models' (a Conviva flow data model) or "
        "'dimensions' (a Sessions V3 dimension list)"
    )


def _items(value: object, what: str, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _model_error(f"{name or 'data model'}: '{what}' must be a list of objects")
    return value


def _text(item: dict[str, Any], field: str, what: str, name: str) -> str:
    value = item.get(field)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
        raise _model_error(f"{name or 'data model'}: every {what} needs a '{field}'")
    return str(value)


def _percentage_key(metric: dict[str, Any]) -> str | None:
    link = metric.get("percentage_metric")
    if isinstance(link, dict) and isinstance(link.get("key"), str) and link["key"]:
        return str(link["key"])
    return None


def _flow_model(flows: object, name: str) -> DataModel:
    models = []
    for flow in _items(flows, "flow_models", name):
        flow_id = _text(flow, "id", "flow model", name)
        dimensions = [
            Dimension(_text(d, "key", "dimension", name), d.get("label"))
            for d in _items(flow.get("dimensions", []), "dimensions", name)
        ]
        metrics = [
            Metric(
                _text(m, "key", "metric", name),
                m.get("label"),
                str(m.get("unit", "")),
                str(m.get("type", "")),
                _percentage_key(m),
            )
            for m in _items(flow.get("metrics", []), "metrics", name)
        ]
        models.append(FlowModel(flow_id, str(flow.get("label") or flow_id), dimensions, metrics))
    return DataModel("conviva-flow", flows=models, name=name)


SESSIONS_STATUS_FILTERS = (
    "is_ended",
    "is_exit_before_video_start",
    "is_video_start_failure",
    "is_video_start_failure_business",
    "is_video_start_failure_tech",
    "is_video_playback_failure",
    "is_video_playback_failure_business",
    "is_video_playback_failure_tech",
)
"""The boolean status filters of Sessions V3 (``is_video_start_failure_tech=true``)."""


def _sessions_model(dimensions: object, name: str) -> DataModel:
    found = []
    for item in _items(dimensions, "dimensions", name):
        key = _text(item, "query_filter", "dimension", name).lstrip("?")
        found.append(Dimension(key, item.get("name")))
    found.extend(Dimension(k, k.replace("_", " "), "boolean") for k in SESSIONS_STATUS_FILTERS)
    return DataModel("conviva-sessions", dimensions=found, name=name, custom_tag_prefix="tag_")


# --- built-in models -------------------------------------------------------------------


def _dims(*pairs: tuple[str, str]) -> list[Dimension]:
    return [Dimension(key, label) for key, label in pairs]


_SHARED = (
    ("geo_country", "Countries"),
    ("geo_state", "States"),
    ("geo_city", "Cities"),
    ("device_operating_system", "Device Operating Systems"),
    ("device_operating_system_version", "Device OS Versions"),
    ("device_category", "Device Categories"),
    ("device_name", "Device Names"),
    ("browser_name", "Browsers"),
    ("browser_version", "Browser Versions"),
    ("app_version", "App Versions"),
    ("isp", "ISPs"),
    ("connection_type", "Connection Types"),
)


def demo_model() -> DataModel:
    """The built-in demo model: flows 825 (Login Process) and 142 (Video Start).

    Both have the geography, device, browser, app and network dimensions; the login flow adds
    ``login_method`` and ``identity_provider``, the video flow ``cdn``, ``asn``,
    ``content_category`` and ``player_name``, so that a key of the other flow can be shown.
    """
    login = FlowModel(
        "825",
        "Login Process",
        _dims(
            *_SHARED, ("login_method", "Login Methods"), ("identity_provider", "Identity Providers")
        ),
        [
            Metric("m_825_1", "Login Process Complete", "count", "complete", "m_825_1_percentage"),
            Metric("m_825_2", "Login Process Duration", "sec", "duration"),
            Metric("m_825_3", "Login Process Init", "count", "init"),
            Metric("m_825_4", "Login Process Success", "count", "success", "m_825_4_percentage"),
        ],
    )
    video = FlowModel(
        "142",
        "Video Start",
        _dims(
            *_SHARED,
            ("cdn", "CDNs"),
            ("asn", "ASNs"),
            ("content_category", "Content Categories"),
            ("player_name", "Players"),
        ),
        [
            Metric("m_142_1", "Video Start Complete", "count", "complete", "m_142_1_percentage"),
            Metric("m_142_2", "Video Start Duration", "sec", "duration"),
            Metric("m_142_3", "Video Start Init", "count", "init"),
            Metric("m_142_4", "Video Start Success", "count", "success", "m_142_4_percentage"),
        ],
    )
    return DataModel("conviva-flow", flows=[login, video], name="built-in demo model")


# The dimensions the Sessions V3 guide shows (its sample session's selected dimensions and the
# filters of its examples).
_SESSIONS_DEMO = (
    ("app_version", "App Version"),
    ("asn", "ASN"),
    ("browser_name", "Browser Name"),
    ("browser_version", "Browser Version"),
    ("cdn", "CDN"),
    ("content_category", "Content Category"),
    ("content_meta_channel", "Channel"),
    ("content_meta_show_title", "Show Title"),
    ("device_name", "Device Name"),
    ("device_os", "Device Operating System"),
    ("device_os_family", "Device OS Family"),
    ("device_os_version", "Device OS Version"),
    ("geo_city_name", "City"),
    ("geo_state_name", "State"),
    ("geo_country_name", "Country"),
    ("geo_continent", "Continent"),
    ("geo_dma", "DMA"),
    ("isp", "ISP"),
    ("player_name", "Player Name"),
    ("video_asset_name", "Asset Name"),
    ("ad_id", "Ad ID"),
    ("ad_position", "Ad Position"),
    ("ad_system", "Ad System"),
    ("ad_technology", "Ad Technology"),
)


def demo_sessions_model() -> DataModel:
    """The built-in Sessions V3 / Metrics V3 dimension list: the dimensions of the Sessions V3
    guide, the boolean status filters, and any ``tag_<name>`` custom tag."""
    return _sessions_model(
        [{"name": label, "query_filter": f"?{key}"} for key, label in _SESSIONS_DEMO],
        "built-in Sessions V3 demo dimensions",
    )


_EQ_ANY = ("==", "IN")  # `equals` and `contains-any` / `any`
_LIST_OPS = ("~~",)  # `contains-any` / `contains-all` on list fields, written ~~ or IN

KLAVIYO_SEND_CHANNELS = ("email", "sms", "push-notification", "whatsapp")

_FLOW_FIELDS = (
    "flow_id",
    "flow_name",
    "send_channel",
    "flow_message_id",
    "flow_message_name",
    "text_message_format",
    "variation",
    "variation_name",
)
_CAMPAIGN_FIELDS = (
    "send_channel",
    "campaign_id",
    "campaign_message_id",
    "campaign_message_name",
    "variation",
    "variation_name",
    "text_message_format",
)


def _report_fields(fields: Iterable[str], *, tags: bool) -> list[Dimension]:
    out = [
        Dimension(
            f,
            f.replace("_", " "),
            values=KLAVIYO_SEND_CHANNELS if f == "send_channel" else None,
            operators=_EQ_ANY,
        )
        for f in fields
    ]
    if tags:
        out += [
            Dimension(f, f.replace("_", " "), "list", operators=("IN",))
            for f in ("tag_id", "tag_name")
        ]
    return out


KLAVIYO_ENDPOINTS = {
    "flow-report": lambda: _report_fields(_FLOW_FIELDS, tags=True),
    "campaign-report": lambda: _report_fields(_CAMPAIGN_FIELDS, tags=True),
    "form-report": lambda: _report_fields(("form_id", "form_version_id"), tags=False),
    "segment-report": lambda: _report_fields(("segment_id",), tags=False),
    "metrics": lambda: [
        Dimension("integration.name", "integration name", operators=("==",)),
        Dimension("integration.category", "integration category", operators=("==",)),
    ],
}
"""The Klaviyo endpoint families flowql knows the fields of, from Klaviyo's reference."""


def klaviyo_model(endpoint: str) -> DataModel:
    """The fields of a Klaviyo endpoint family: ``flow-report``, ``campaign-report``,
    ``form-report``, ``segment-report`` or ``metrics``."""
    try:
        fields = KLAVIYO_ENDPOINTS[endpoint]()
    except KeyError:
        raise ValueError(
            f"unknown Klaviyo endpoint {endpoint!r}; expected one of {sorted(KLAVIYO_ENDPOINTS)}"
        ) from None
    return DataModel("klaviyo", dimensions=fields, name=f"Klaviyo {endpoint}")
