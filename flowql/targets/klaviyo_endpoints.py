"""Klaviyo endpoint targets: the general Klaviyo filter checked against one endpoint family's
capability table (which fields it filters on, with which operators, and how often).

Each family is a module (:mod:`~flowql.targets.klaviyo_flow_report`,
:mod:`~flowql.targets.klaviyo_campaign_report`, :mod:`~flowql.targets.klaviyo_form_report`,
:mod:`~flowql.targets.klaviyo_segment_report`, :mod:`~flowql.targets.klaviyo_metrics`) with
``TARGET``, its table ``FIELDS`` and ``compile_filter(expr) -> str``; this module holds the
machinery they share (:class:`Field`, :class:`Family`) and :data:`ENDPOINT_TARGETS`.

How FlowQL says what each Klaviyo operator means:

=============================================== =================================================
FlowQL                                          Klaviyo
=============================================== =================================================
``k == 'a'`` (scalar field)                     ``equals(k,"a")``
``k IN ('a', 'b')``, ``k == 'a' OR k == 'b'``   ``contains-any(k,["a","b"])`` on flow and campaign
                                                reports, ``any(k,["a","b"])`` on form and segment
                                                reports (metrics have no list operator)
``tag_name ~~ 'x'`` (list field)                ``contains-any(tag_name,["x"])``: the list holds
                                                the item ``x`` (``tag_name == 'x'`` means the same)
``tag_name ~~ 'a' OR tag_name ~~ 'b'``,         ``contains-any(tag_name,["a","b"])``
``tag_name IN ('a', 'b')``
``tag_name ~~ 'a' AND tag_name ~~ 'b'``         ``contains-all(tag_name,["a","b"])``
``a == 'x' AND b == 'y'``                       ``and(equals(a,"x"),equals(b,"y"))``
=============================================== =================================================

On a list field (``tag_id``, ``tag_name``), ``~~`` and ``==`` test the list's items, whole: the
list holds that item. ``NOT`` is pushed down first, as in the general target; values are written
by :func:`flowql.targets.klaviyo.render_value`, each once, in order of first appearance.

Refused with :class:`~flowql.errors.UnsupportedError` (FQ601), every problem collected first,
each with the span of the node it is about and what the field does take as the hint: a field the
family does not filter on; an operator the field does not take (``~~`` on a scalar field, a list
on a metrics field, ``!=``, ``!~``, ``NOT IN``); an OR that is not an OR of tests on one field;
a second filter on one field where the family takes one per field (identical filters are merged
first: ``k == 'a' AND k == 'a'`` is one filter, and on a list field an AND of single items is one
``contains-all``); a list of more than 100 items; a value that is not text; a ``send_channel``
that is not one of email, sms, push-notification, whatsapp.
"""

from __future__ import annotations

from flowql.ast import And, Comparison, In, Op, Or, String
from flowql.diagnostics import Diagnostic, clip, closest
from flowql.errors import UnsupportedError
from flowql.formatter import excerpt
from flowql.targets.conviva_flow import lower
from flowql.targets.klaviyo import MAX_LIST_ITEMS, render_value
from flowql.targets.klaviyo_targets import KLAVIYO_ENDPOINT_TARGETS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from flowql.ast import Expr, Node, Value
    from flowql.klaviyo_revisions import Revision

__all__ = [
    "ENDPOINT_TARGETS",
    "LIST_OPERATORS",
    "Family",
    "Field",
    "compile_for",
    "family_for",
    "list_field",
    "scalar",
]

LIST_OPERATORS = ("contains-any", "any")
"""The Klaviyo operators that take a list of values, one of which the field holds."""

_POST_FILTER = "post-filter the results on the client with the python target"


class Field:
    """One row of a capability table: a field name, the Klaviyo operators it takes, whether it
    is a ``scalar`` or a ``list`` field, and the values it takes when they are few and known."""

    __slots__ = ("kind", "name", "operators", "values")

    def __init__(
        self,
        name: str,
        operators: tuple[str, ...],
        *,
        kind: str = "scalar",
        values: tuple[str, ...] | None = None,
    ) -> None:
        if kind not in ("scalar", "list"):
            raise ValueError(f"a field is scalar or list, not {kind!r}")
        self.name = name
        self.operators = operators
        self.kind = kind
        self.values = values

    @property
    def list_operator(self) -> str | None:
        """The operator for "one of these values", if the field takes one."""
        return next((op for op in LIST_OPERATORS if op in self.operators), None)

    def takes(self) -> str:
        """What the field takes, in FlowQL's words (for hints)."""
        if self.kind == "list":
            parts = ["`~~ 'x'` (the list holds the item x; `== 'x'` means the same)"]
            if "contains-any" in self.operators:
                parts.append("`IN (...)` or an OR of those tests (contains-any)")
            if "contains-all" in self.operators:
                parts.append("an AND of those tests (contains-all)")
            return f"{self.name} takes " + ", ".join(parts)
        parts = []
        if "equals" in self.operators:
            parts.append("`==` (equals)")
        listed = self.list_operator
        if listed is not None:
            parts.append(f"`IN (...)` or an OR of `==` ({listed})")
        text = f"{self.name} takes " + (
            " and ".join(parts) if len(parts) > 1 else "only " + parts[0]
        )
        if self.values is not None:
            text += ", with the values " + ", ".join(self.values)
        return text

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.operators!r}, kind={self.kind!r})"


def scalar(name: str, *operators: str, values: tuple[str, ...] | None = None) -> Field:
    """A field holding one value."""
    return Field(name, operators, values=values)


def list_field(name: str, *operators: str) -> Field:
    """A field holding a list of values (Klaviyo's ``tag_id``, ``tag_name``)."""
    return Field(name, operators, kind="list")


class Family:
    """An endpoint family: its target name, what it is (``"the flow report"``, for messages),
    its capability table, and whether it takes at most one filter per field."""

    __slots__ = ("elsewhere", "fields", "max_items", "one_per_field", "revision", "target", "what")

    def __init__(
        self,
        target: str,
        what: str,
        fields: Iterable[Field],
        *,
        one_per_field: bool,
        revision: str | None = None,
        elsewhere: Mapping[str, str] | None = None,
        max_items: int = MAX_LIST_ITEMS,
    ) -> None:
        self.target = target
        self.what = what
        self.fields = {f.name: f for f in fields}
        self.one_per_field = one_per_field
        # The Klaviyo revision the table is of, and for a field (or "field=value") this
        # revision lacks, the revision that has it: the hint names it.
        self.revision = revision
        self.elsewhere = dict(elsewhere or {})
        self.max_items = max_items

    def other_revision(self, name: str) -> str:
        """ "; revision R has it" for a field or ``field=value`` this revision lacks."""
        other = self.elsewhere.get(name)
        return f"; Klaviyo revision {other} has it (--revision {other})" if other else ""

    def compile_filter(self, expr: Expr) -> str:
        """The Klaviyo filter for ``expr``; raises :class:`UnsupportedError` (FQ601, every
        problem collected) for whatever the family's table does not allow."""
        from flowql.targets._text import unencodable

        refused = unencodable(expr, self.target)
        if refused:
            raise UnsupportedError(refused)
        return _Compiler(self).run(expr)

    def __repr__(self) -> str:
        return f"<Family {self.target}>"


class _Filter:
    """One Klaviyo call on one field: its operator, its values (unique by text), and the source
    nodes it was made from."""

    __slots__ = ("field", "operator", "sources", "values")

    def __init__(self, field: Field, operator: str, values: list[Value], source: Node) -> None:
        self.field = field
        self.operator = operator
        self.values = values
        self.sources = [source]

    def texts(self) -> frozenset[str]:
        return frozenset(render_value(v) for v in self.values)

    def render(self) -> str:
        if self.operator == "equals":
            return f"equals({self.field.name},{render_value(self.values[0])})"
        listed = ",".join(render_value(v) for v in self.values)
        return f"{self.operator}({self.field.name},[{listed}])"


def _unique(values: Iterable[Value]) -> list[Value]:
    seen: set[str] = set()
    out: list[Value] = []
    for value in values:
        text = render_value(value)
        if text not in seen:
            seen.add(text)
            out.append(value)
    return out


class _Compiler:
    def __init__(self, family: Family) -> None:
        self.family = family
        self.target = family.target
        self.problems: list[Diagnostic] = []
        self.reported: set[tuple[str, int, int]] = set()
        self.origins: dict[int, tuple[Expr, Expr, bool]] = {}

    # -- reporting

    def report(self, node: Node, message: str, hint: str) -> None:
        span = node.span
        mark = (message, span.start, span.end) if span is not None else (message, -1, -1)
        if mark not in self.reported:
            self.reported.add(mark)
            self.problems.append(
                Diagnostic("FQ601", f"the {self.target} target cannot {message}", span, hint=hint)
            )

    # -- the walk

    def run(self, expr: Expr) -> str:
        lowered = lower(expr, self.origins)
        conjuncts = lowered.operands if isinstance(lowered, And) else (lowered,)
        groups: dict[str, list[_Filter]] = {}
        for conjunct in conjuncts:
            _, source, negated = self.origins[id(conjunct)]
            if isinstance(conjunct, Comparison):
                field = self.check(conjunct, source, negated)
                if field is not None:
                    self.add(groups, field, [conjunct.value], source)
            else:
                assert isinstance(conjunct, Or)
                self.disjunction(conjunct, source, negated, groups)
        calls = [call for filters in groups.values() for call in self.settle(filters)]
        if self.problems:
            self.problems.sort(key=lambda d: (d.span.start, -d.span.end) if d.span else (-1, 0))
            raise UnsupportedError(self.problems)
        assert calls
        if len(calls) == 1:
            return calls[0].render()
        return "and(" + ",".join(call.render() for call in calls) + ")"

    def check(self, node: Comparison, source: Expr, negated: bool) -> Field | None:
        """The field of one test, or None once every problem with the test is reported."""
        name = node.key.name
        field = self.family.fields.get(name)
        if field is None:
            known = list(self.family.fields)
            close = closest(name, known)
            hint = f"did you mean '{close}'? " if close else ""
            self.report(
                node.key if node.key.span is not None else source,
                f"filter on {clip(name)!r}: {self.family.what} filters only on "
                + ", ".join(known)
                + self.family.other_revision(name),
                hint + "leave this condition out and " + _POST_FILTER,
            )
            return None
        ok = True
        if node.op in (Op.NE, Op.NOT_CONTAINS):
            self.report(
                source,
                f"express {self._negation(node, source, negated)}: Klaviyo's filter syntax has no "
                "negation",
                field.takes() + "; leave this condition out and " + _POST_FILTER,
            )
            ok = False
        elif node.op is Op.CONTAINS and field.kind == "scalar":
            self.report(
                source,
                f"express `~~` (contains) on {name}: {self.family.what} does not take it there",
                field.takes(),
            )
            ok = False
        value = node.value
        if not isinstance(value, String):
            self.report(
                value if value.span is not None else source,
                f"compare {name} with {render_value(value)}: {name} holds text",
                f"quote the value: '{render_value(value)}'",
            )
            ok = False
        elif field.values is not None and value.value not in field.values:
            self.report(
                value if value.span is not None else source,
                f"send {name} {clip(value.value)!r}: {name} is one of "
                + ", ".join(field.values)
                + self.family.other_revision(f"{name}={value.value}"),
                field.takes(),
            )
            ok = False
        return field if ok else None

    def _negation(self, node: Comparison, source: Expr, negated: bool) -> str:
        if negated:
            return f"`NOT` before `{excerpt(source)}`"
        if isinstance(source, In):
            return "`NOT IN`"
        return "`!=` (does not equal)" if node.op is Op.NE else "`!~` (does not contain)"

    def disjunction(
        self, node: Or, source: Expr, negated: bool, groups: dict[str, list[_Filter]]
    ) -> None:
        operands = node.operands
        tests = [o for o in operands if isinstance(o, Comparison)]
        if len(tests) == len(operands) and all(t.key.name == tests[0].key.name for t in tests):
            fields = [self.check(t, *self.origins[id(t)][1:]) for t in tests]
            if all(f is not None for f in fields) and fields[0] is not None:
                self.add(groups, fields[0], [t.value for t in tests], source)
            return
        what = f"`NOT` before `{excerpt(source)}`, an OR" if negated else "an OR"
        self.report(
            source,
            f"express {what} of anything but tests on one field: Klaviyo's filter syntax has no "
            "or(), and "
            f"{self.family.what} takes AND only",
            "split the query into one request per alternative, or " + _POST_FILTER,
        )
        stack: list[Expr] = list(operands)
        while stack:
            child = stack.pop()
            if isinstance(child, Comparison):
                _, child_source, child_negated = self.origins[id(child)]
                self.check(child, child_source, child_negated)
            else:
                assert isinstance(child, (And, Or))
                stack.extend(child.operands)

    def add(
        self, groups: dict[str, list[_Filter]], field: Field, values: list[Value], source: Expr
    ) -> None:
        """One conjunct on ``field``, merged into the filter it repeats if there is one."""
        values = _unique(values)
        filters = groups.setdefault(field.name, [])
        if field.kind == "list":
            if len(values) == 1:
                for existing in filters:
                    if existing.operator == "contains-all":
                        existing.values = _unique([*existing.values, *values])
                        existing.sources.append(source)
                        return
                operator = "contains-all"
            else:
                operator = "contains-any"
        elif len(values) == 1 and "equals" in field.operators:
            operator = "equals"
        else:
            listed = field.list_operator
            if listed is None:
                self.report(
                    source,
                    f"express `{excerpt(source)}`: {field.name} takes no list of values",
                    field.takes(),
                )
                return
            operator = listed
        call = _Filter(field, operator, values, source)
        for existing in filters:
            if existing.operator == operator and existing.texts() == call.texts():
                existing.sources.append(source)
                return
        filters.append(call)

    def settle(self, filters: list[_Filter]) -> list[_Filter]:
        """The filters on one field, as written; reports a second filter and long lists."""
        for call in filters:
            if call.operator == "contains-all" and len(call.values) == 1:
                call.operator = "contains-any"  # the same test; contains-any is the usual one
            most = self.family.max_items
            if len(call.values) > most:
                self.report(
                    call.sources[0],
                    f"send a list of {len(call.values)} values: Klaviyo takes at most "
                    f"{most} items in a list",
                    f"split the query into requests of at most {most} values each",
                )
        if self.family.one_per_field and len(filters) > 1:
            field = filters[0].field
            for call in filters[1:]:
                for source in call.sources:
                    self.report(
                        source,
                        f"send a second filter on {field.name}: {self.family.what} takes one "
                        "filter per field",
                        field.takes() + "; combine the tests on it into one",
                    )
        return filters


# --- the families, per Klaviyo revision -----------------------------------------------------------

# Which report's filter rules each family's target follows (values and series reports of one
# family share them; a test checks).
_REPORT_OF = {
    "klaviyo-flow-report": "flow-values",
    "klaviyo-campaign-report": "campaign-values",
    "klaviyo-form-report": "form-values",
    "klaviyo-segment-report": "segment-values",
}
_FAMILIES: dict[tuple[str, str], Family] = {}


def _family_at(target: str, revision: Revision) -> Family:
    """The family of ``target`` as ``revision``'s tables give it."""
    if target == "klaviyo-metrics":
        fields = [scalar(name, *ops) for name, ops in revision.metrics_filter.items()]
        return Family(target, "the metrics endpoint", fields, one_per_field=False)
    rules = revision.reports[_REPORT_OF[target]].filter
    made = [
        scalar(
            name,
            *ops,
            values=rules.channels if name == "send_channel" and rules.channels else None,
        )
        for name, ops in rules.scalars.items()
    ]
    made += [list_field(name, *ops) for name, ops in rules.lists.items()]
    return Family(
        target,
        f"the {target.split('-')[1]} report",
        made,
        one_per_field=rules.one_filter_per_attribute,
        max_items=rules.max_list_items,
    )


def family_for(target: str, revision: str | None = None) -> Family:
    """The family of the Klaviyo endpoint target ``target`` at ``revision`` (None: the default
    revision), its table generated from that revision's spec. Raises
    :class:`~flowql.klaviyo_revisions.RevisionError` for a revision flowql cannot place."""
    from flowql.klaviyo_revisions import REVISIONS, resolve_revision

    chosen = resolve_revision(revision)
    key = (target, chosen.name)
    found = _FAMILIES.get(key)
    if found is not None:
        return found
    family = _family_at(target, chosen)
    elsewhere: dict[str, str] = {}
    for other in sorted(REVISIONS.values(), key=lambda r: r.date):
        if other is chosen:
            continue
        theirs = _family_at(target, other)
        for name, field in theirs.fields.items():
            mine = family.fields.get(name)
            if mine is None:
                elsewhere[name] = other.name
            elif field.values and mine.values:
                for value in field.values:
                    if value not in mine.values:
                        elsewhere[f"{name}={value}"] = other.name
    made = Family(
        target,
        family.what,
        family.fields.values(),
        one_per_field=family.one_per_field,
        revision=chosen.name,
        elsewhere=elsewhere,
        max_items=family.max_items,
    )
    _FAMILIES[key] = made
    return made


# --- the targets, for the registry ---------------------------------------------------------------


def compile_for(target: str, expr: Expr, revision: str | None = None) -> str:
    """The filter of the Klaviyo endpoint target ``target`` for ``expr``, at ``revision``."""
    return family_for(target, revision).compile_filter(expr)


ENDPOINT_TARGETS: dict[str, str] = dict(KLAVIYO_ENDPOINT_TARGETS)
"""Each endpoint target's name -> its one-line description (:func:`compile_for` compiles)."""
