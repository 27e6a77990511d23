"""What a data model holds, as tables: for ``flowql model show`` and the REPL's ``:keys`` and
``:metrics`` (pgcli's ``\\d`` in spirit).

Each function returns a :class:`View`: a line saying what is shown and one or more
:class:`Section` tables (a title, columns and records), which :meth:`View.text` renders with
:func:`flowql.display.records_table` and :meth:`View.to_dict` gives as JSON-ready data.

- :func:`flows_view`: the flows of a Conviva flow data model (id, label, counts);
- :func:`flow_view`: one flow's dimensions and metrics (or, with no flow, the keys every flow
  has, each with the flows that have it);
- :func:`sessions_view`: a Sessions V3 dimension list;
- :func:`klaviyo_view` and :func:`klaviyo_endpoint_view`: Klaviyo's report endpoints at one
  revision, and one endpoint's filter fields, group-by fields, statistics and intervals, from
  the revision's tables (:mod:`flowql.klaviyo_revisions`) and the capability table the
  endpoint's target checks filters with (:func:`flowql.targets.klaviyo_endpoints.family_for`).

An unknown flow or endpoint is a :class:`ViewError` with "did you mean".
"""

from __future__ import annotations

from flowql.diagnostics import Diagnostic, closest, did_you_mean
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from flowql.model import DataModel, Dimension, FlowModel

__all__ = [
    "KLAVIYO_FILTER_ENDPOINTS",
    "Section",
    "View",
    "ViewError",
    "dimension_records",
    "find_flow",
    "flow_view",
    "flows_view",
    "klaviyo_endpoint_view",
    "klaviyo_view",
    "metric_records",
    "sessions_view",
]


class ViewError(FlowQLError):
    """A flow, API or endpoint that has nothing to show (FQ103 for a flow, FQ701 for an
    endpoint); the hint says what there is."""


class Section:
    """One table of a view: its ``title``, ``columns`` and ``records``."""

    __slots__ = ("columns", "name", "records", "title")

    def __init__(
        self, name: str, title: str, columns: Sequence[str], records: Sequence[dict[str, object]]
    ) -> None:
        self.name = name
        self.title = title
        self.columns = list(columns)
        self.records = list(records)

    def text(self) -> str:
        """The title line, then the aligned table."""
        from flowql.display import records_table

        return f"{self.title}\n" + records_table(self.columns, self.records)


class View:
    """What one look at a model shows: a ``heading`` line, its ``sections``, and a ``note``
    (or None) said after them."""

    __slots__ = ("heading", "note", "sections")

    def __init__(self, heading: str, sections: Iterable[Section], note: str | None = None) -> None:
        self.heading = heading
        self.sections = list(sections)
        self.note = note

    def text(self) -> str:
        """The heading, each section's table after a blank line, and the note."""
        parts = [self.heading + "\n", *(s.text() for s in self.sections)]
        if self.note:
            parts.append(self.note + "\n")
        return "\n".join(parts)

    def to_dict(self, **extra: object) -> dict[str, object]:
        """The view as JSON-ready data: ``extra`` first, then each section's records by name."""
        out: dict[str, object] = dict(extra)
        if self.note:
            out["note"] = self.note
        for section in self.sections:
            out[section.name] = section.records
        return out


def _listed(values: Iterable[str] | None) -> str:
    return ", ".join(values) if values is not None else ""


# FlowQL's operators in the order the language page lists them.
_OPERATOR_ORDER = ("==", "!=", "~~", "!~", "IN", "NOT IN")


def _operators(operators: frozenset[str] | None) -> str:
    if operators is None:
        return ""
    return ", ".join(sorted(operators, key=lambda o: (*_OPERATOR_ORDER, o).index(o)))


def dimension_records(
    dimensions: Mapping[str, Dimension], flows: Mapping[str, Sequence[str]] | None = None
) -> tuple[list[str], list[dict[str, object]]]:
    """The columns and records of a table of dimensions: key, label and type, then the
    operators and the values the keys take when the model restricts them, and with ``flows``
    (key -> flow ids), the flows that have each key."""
    restricted = any(d.operators is not None for d in dimensions.values())
    valued = any(d.values is not None for d in dimensions.values())
    columns = ["key", "label", "type"]
    if restricted:
        columns.append("operators")
    if valued:
        columns.append("values")
    if flows is not None:
        columns.append("flows")
    records: list[dict[str, object]] = []
    for key, dimension in dimensions.items():
        record: dict[str, object] = {
            "key": key,
            "label": dimension.label,
            "type": dimension.type,
        }
        if restricted:
            record["operators"] = _operators(dimension.operators)
        if valued:
            record["values"] = _listed(dimension.values)
        if flows is not None:
            record["flows"] = ", ".join(flows.get(key, ()))
        records.append(record)
    return columns, records


def metric_records(
    flows: Iterable[FlowModel], *, flow_column: bool = False
) -> tuple[list[str], list[dict[str, object]]]:
    """The columns and records of a table of the flows' metrics: key, label, unit and type (and
    the flow, with ``flow_column``)."""
    columns = ["key", "label", "unit", "type"]
    if flow_column:
        columns.append("flow")
    records: list[dict[str, object]] = []
    for flow in flows:
        for metric in flow.metrics.values():
            record: dict[str, object] = {
                "key": metric.key,
                "label": metric.label,
                "unit": metric.unit,
                "type": metric.type,
            }
            if flow_column:
                record["flow"] = flow.id
            records.append(record)
    return columns, records


# --- Conviva flows ----------------------------------------------------------------------------


def find_flow(model: DataModel, flow: str) -> FlowModel:
    """The flow ``flow`` names in ``model``: by id, or by a word of its label that only one
    flow's label holds (``video``). Raises :class:`ViewError` (FQ103) with "did you mean" and
    the flows there are."""
    found = model.flow(flow)
    if found is not None:
        return found
    by_label = [f for f in model.flows.values() if flow.lower() in f.label.lower()]
    if len(by_label) == 1:
        return by_label[0]
    listed = ", ".join(f"{f.id} ({f.label})" for f in model.flows.values())
    if not model.flows:
        raise ViewError(Diagnostic("FQ103", f"the {model.name} has no flows", None))
    close = closest(flow, model.flows)
    hint = f"did you mean {close}? " if close else ""
    raise ViewError(
        Diagnostic(
            "FQ103",
            f"the data model has no flow '{flow}'",
            None,
            hint=f"{hint}its flows are {listed}",
        )
    )


def flows_view(model: DataModel) -> View:
    """The flows of a Conviva flow data model: id, label, and how many dimensions and metrics
    each has."""
    records: list[dict[str, object]] = [
        {
            "id": f.id,
            "label": f.label,
            "dimensions": len(f.dimensions),
            "metrics": len(f.metrics),
        }
        for f in model.flows.values()
    ]
    flows = len(records)
    return View(
        f"{model.name}: {flows} flow{'s' if flows != 1 else ''}",
        [Section("flows", "flows", ["id", "label", "dimensions", "metrics"], records)],
    )


def flow_view(model: DataModel, flow: str | None) -> View:
    """One flow's dimensions and metrics; with ``flow`` None, the keys of every flow (each with
    the flows that have it) and every flow's metrics. Raises :class:`ViewError` (FQ103)."""
    if flow is None:
        flows = {key: [f.id for f in model.flows_with(key)] for key in model.dimensions()}
        columns, records = dimension_records(model.dimensions(), flows)
        metric_columns, metrics = metric_records(model.flows.values(), flow_column=True)
        heading = f"{model.name}: the keys of every flow"
    else:
        found = find_flow(model, flow)
        columns, records = dimension_records(found.dimensions)
        metric_columns, metrics = metric_records([found])
        heading = f"flow {found.id} {found.label} ({model.name})"
    return View(
        heading,
        [
            Section("dimensions", f"dimensions ({len(records)})", columns, records),
            Section("metrics", f"metrics ({len(metrics)})", metric_columns, metrics),
        ],
    )


# --- Sessions V3 ------------------------------------------------------------------------------


def sessions_view(model: DataModel) -> View:
    """A Sessions V3 dimension list: each key's label and type (the status filters are
    boolean), and a note on custom tags."""
    columns, records = dimension_records(model.dimensions())
    note = None
    if model.custom_tag_prefix:
        note = f"and any custom tag, as {model.custom_tag_prefix}<name> (a string)"
    return View(
        f"{model.name}: {len(records)} dimensions",
        [Section("dimensions", "dimensions", columns, records)],
        note,
    )


# --- Klaviyo ----------------------------------------------------------------------------------

_TARGET_OF_METRICS = "klaviyo-metrics"
KLAVIYO_FILTER_ENDPOINTS = (
    "metrics",
    "flow-values",
    "flow-series",
    "campaign-values",
    "form-values",
    "form-series",
    "segment-values",
    "segment-series",
)
"""The Klaviyo endpoints whose filter fields flowql knows (``flow-triggers`` takes none)."""


def _klaviyo_target(endpoint: str) -> str:
    if endpoint == "metrics":
        return _TARGET_OF_METRICS
    return f"klaviyo-{endpoint.split('-')[0]}-report"


def _endpoint_error(endpoint: str) -> ViewError:
    hint = did_you_mean(endpoint, KLAVIYO_FILTER_ENDPOINTS) or "use one of " + ", ".join(
        KLAVIYO_FILTER_ENDPOINTS
    )
    if endpoint == "flow-triggers":
        return ViewError(
            Diagnostic(
                "FQ701",
                "klaviyo flow-triggers takes no filter: it has no fields to show",
                None,
                hint="its one field is the metric: --metric-id ID",
            )
        )
    return ViewError(Diagnostic("FQ701", f"klaviyo has no endpoint '{endpoint}'", None, hint=hint))


def klaviyo_view(revision: str | None = None) -> View:
    """Klaviyo's endpoints that take a filter, at ``revision`` (None: the default): each one's
    request, the target its filter is compiled with, and how many filter fields, group-by
    fields and statistics it has. Raises :class:`~flowql.klaviyo_revisions.RevisionError`."""
    from flowql.klaviyo_revisions import resolve_revision
    from flowql.targets.klaviyo_endpoints import family_for

    chosen = resolve_revision(revision)
    records: list[dict[str, object]] = []
    for endpoint in KLAVIYO_FILTER_ENDPOINTS:
        family = family_for(_klaviyo_target(endpoint), chosen.name)
        report = chosen.reports.get(endpoint)
        records.append(
            {
                "endpoint": endpoint,
                "request": f"POST {report.path}" if report else "GET /api/metrics",
                "target": family.target,
                "filter fields": len(family.fields),
                "group by": len(report.group_by) if report else 0,
                "statistics": len(report.statistics) if report else 0,
            }
        )
    columns = ["endpoint", "request", "target", "filter fields", "group by", "statistics"]
    return View(
        f"Klaviyo revision {chosen.name}: {len(records)} endpoints that take a filter",
        [Section("endpoints", "endpoints", columns, records)],
    )


def _flowql_operators(kind: str, operators: Sequence[str]) -> str:
    """How FlowQL writes a field's Klaviyo operators (see
    :mod:`flowql.targets.klaviyo_endpoints`)."""
    if kind == "list":
        out = ["~~", "=="]
        if "contains-any" in operators:
            out.append("IN")
        if "contains-all" in operators:
            out.append("AND of ~~")
        return ", ".join(out)
    out = []
    if "equals" in operators:
        out.append("==")
    if "contains-any" in operators or "any" in operators:
        out.append("IN")
    return ", ".join(out)


def klaviyo_endpoint_view(endpoint: str, revision: str | None = None) -> View:
    """One Klaviyo endpoint's fields at ``revision``: its filter fields (kind, FlowQL and
    Klaviyo operators, values), and for a report its group-by fields (which are the default,
    which are required), its statistics and, for a series report, its intervals. Raises
    :class:`ViewError` (FQ701) for an endpoint without a filter, and
    :class:`~flowql.klaviyo_revisions.RevisionError`."""
    from flowql.klaviyo_revisions import resolve_revision
    from flowql.targets.klaviyo_endpoints import family_for

    if endpoint not in KLAVIYO_FILTER_ENDPOINTS:
        raise _endpoint_error(endpoint)
    chosen = resolve_revision(revision)
    family = family_for(_klaviyo_target(endpoint), chosen.name)
    fields: list[dict[str, object]] = [
        {
            "field": f.name,
            "kind": f.kind,
            "operators": _flowql_operators(f.kind, f.operators),
            "klaviyo": ", ".join(f.operators),
            "values": _listed(f.values),
        }
        for f in family.fields.values()
    ]
    field_columns = ["field", "kind", "operators", "klaviyo"]
    if any(f["values"] for f in fields):
        field_columns.append("values")
    else:
        for f in fields:
            del f["values"]
    sections = [Section("filter", f"filter fields ({len(fields)})", field_columns, fields)]
    report = chosen.reports.get(endpoint)
    request = "GET /api/metrics"
    needs: list[str] = []
    if report is not None:
        request = f"POST {report.path}"
        groups: list[dict[str, object]] = [
            {
                "field": name,
                "default": "yes" if name in report.default_group_by else "",
                "required": "yes" if name in report.required_group_by else "",
            }
            for name in report.group_by
        ]
        if groups:
            sections.append(
                Section(
                    "group_by",
                    f"group by ({len(groups)})",
                    ["field", "default", "required"],
                    groups,
                )
            )
        statistics: list[dict[str, object]] = [{"statistic": s} for s in report.statistics]
        sections.append(
            Section("statistics", f"statistics ({len(statistics)})", ["statistic"], statistics)
        )
        if report.intervals:
            intervals: list[dict[str, object]] = [
                {"interval": name, "longest timeframe": f"{days} days" if days else "1 year"}
                for name, days in report.intervals.items()
            ]
            sections.append(
                Section(
                    "intervals",
                    f"intervals ({len(intervals)})",
                    ["interval", "longest timeframe"],
                    intervals,
                )
            )
        needs.append("at least one statistic (--statistic NAME)")
        if report.conversion:
            needs.append("a conversion metric (--conversion-metric-id ID)")
    heading = f"klaviyo {endpoint}: {request} (Klaviyo revision {chosen.name})"
    note = f"a query needs {' and '.join(needs)}" if needs else None
    return View(heading, sections, note)
