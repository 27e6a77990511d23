"""Checking a filter: every problem flowql can find without calling an API, in one pass.

:func:`validate` takes FlowQL text (or a tree) and returns a sorted list of
:class:`~flowql.diagnostics.Diagnostic` values; it never raises for a bad filter. The checks, by
code family (``docs/rules/`` explains each code to users):

- FQ1xx data model: keys the model (or the named flow) does not have, unknown flows;
- FQ2xx values: a value of the wrong type for its key, empty values, repeats in an ``IN`` list,
  values a field does not take;
- FQ3xx logic: groups that can never match (FQ301), always match (FQ302), and comparisons a
  sibling makes redundant (FQ303);
- FQ4xx style (text only): AND inside OR without parentheses (FQ401), text that ``flowql fmt``
  would change (FQ402).

The logic checks look at one AND/OR group at a time, at its direct operands that test one key
(``NOT`` in front of a comparison or ``IN`` is pushed into it), and reason per key with these
semantics: ``==`` is exact and case-sensitive, ``~~`` tests for a substring, values compare with
their type (the number ``1`` is not the string ``'1'``; ``1`` and ``1.0`` are the same number),
and a record without the key matches only ``!=`` and ``!~``. They are sound: a group reported as
a contradiction is false for every record, a tautology true for every record, and removing a
redundant comparison never changes what its group matches. They are not complete: a
contradiction that spans several keys or nested groups goes unreported.
"""

from __future__ import annotations

from flowql.apis import Api
from flowql.ast import And, Boolean, Comparison, In, Not, Number, Op, Or, String
from flowql.codes import CODES
from flowql.diagnostics import Diagnostic, Severity, clip
from flowql.errors import ParseError
from flowql.formatter import format, format_value, quote
from flowql.syntax import parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Iterable
    from typing import TypeAlias

    from flowql.ast import Expr, Key, Span, Value
    from flowql.fixes import Fix
    from flowql.model import DataModel, Dimension

    # A value as the logic checks compare it: ("s", text), ("n", number) or ("b", bool).
    _Ident: TypeAlias = "tuple[str, object]"
    # One constraint on a key's value: (_IN, frozenset of idents), (_NE, ident),
    # (_CT, text) or (_NC, text).
    _Lit: TypeAlias = "tuple[int, object]"
    # What a key lookup found: the dimension (None if unknown) and a problem to report.
    # (With FQ101, the one key close enough to be its fix, if there is one.)
    _KeyInfo: TypeAlias = "tuple[Dimension | None, tuple[str, str, str | None] | None, str | None]"

__all__ = ["validate"]

_SEVERITY = {code: Severity(entry.severity) for code, entry in CODES.items()}

# The line length flowql fmt uses unless told otherwise.
_LINE_LENGTH = 88

# Operands of one key in one group beyond which FQ303 only looks for exact repeats: the
# pairwise implication test is quadratic.
_PAIRWISE_LIMIT = 40


def validate(
    source: str | Expr,
    *,
    model: DataModel | None = None,
    flow: str | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    check_format: bool = True,
    line_length: int = _LINE_LENGTH,
    parsed: Expr | None = None,
    final_newline: bool = False,
) -> list[Diagnostic]:
    """Every problem in a filter, sorted by position (diagnostics without a span first).

    ``source`` is FlowQL text or a tree. Text that does not parse gives its syntax error(s) and
    nothing else; nothing is raised. ``model`` enables the key and value checks (FQ1xx, FQ201,
    FQ204); ``flow`` names the flow of a ``conviva-flow`` model the keys must belong to (None:
    any flow's keys). ``select`` keeps only the codes that start with one of its prefixes
    (``"FQ3"``, ``"FQ301"``), ``ignore`` drops those that start with one of its; syntax errors
    are always returned, since no other check ran. ``check_format`` enables FQ402 (text only),
    against what ``flowql fmt --line-length line_length`` would write; text without a final
    line break is compared without it, unless ``final_newline`` (the text is a file's, and fmt
    ends a file with one). ``parsed`` is the tree of ``source`` when the caller has already
    parsed it (so it is not parsed twice).
    """
    enabled = _enabled(tuple(select) if select is not None else None, tuple(ignore or ()))
    if isinstance(source, str):
        if parsed is not None:
            expr = parsed
        else:
            try:
                expr = parse(source)
            except ParseError as exc:
                return sorted(exc.diagnostics, key=_position)
        text: str | None = source
    else:
        if not isinstance(source, (Comparison, In, Not, And, Or)):
            raise TypeError(f"validate() takes a str or an Expr, not {type(source).__name__}")
        expr = source
        text = None
    checker = _Checker(model, flow, text, enabled)
    checker.run(expr)
    if text is not None and check_format and (enabled is None or "FQ402" in enabled):
        checker.check_format(expr, text, line_length, final_newline=final_newline)
    found = checker.found
    if len(found) > 1:
        found.sort(key=_position)
    return found


def _position(diagnostic: Diagnostic) -> tuple[int, int]:
    span = diagnostic.span
    return (span.start, span.end) if span is not None else (-1, -1)


_ENABLED_CACHE: dict[tuple[tuple[str, ...] | None, tuple[str, ...]], frozenset[str] | None] = {}


def _enabled(select: tuple[str, ...] | None, ignore: tuple[str, ...]) -> frozenset[str] | None:
    """The codes to report, or None for all of them."""
    if select is None and not ignore:
        return None
    try:
        return _ENABLED_CACHE[select, ignore]
    except KeyError:
        pass
    keep = tuple(p.strip().upper() for p in select) if select is not None else ("",)
    drop = tuple(p.strip().upper() for p in ignore)
    result = frozenset(
        code for code in CODES if code.startswith(keep) and not (drop and code.startswith(drop))
    )
    if len(_ENABLED_CACHE) < 256:  # the CLI uses one or two combinations; never grow unbounded
        _ENABLED_CACHE[select, ignore] = result
    return result


# --- the checker --------------------------------------------------------------------------


class _Checker:
    """One validation: the settings, the caches, and the diagnostics found so far."""

    __slots__ = (
        "enabled",
        "flow",
        "flow_model",
        "found",
        "keys",
        "logic",
        "model",
        "style",
        "text",
        "values",
    )

    def __init__(
        self,
        model: DataModel | None,
        flow: str | None,
        text: str | None,
        enabled: frozenset[str] | None,
    ) -> None:
        self.model = model
        self.text = text
        self.enabled = enabled
        self.found: list[Diagnostic] = []
        self.keys: dict[str, _KeyInfo] = {}
        self.flow: str | None = None
        self.flow_model = None
        self.logic = self._wants("FQ3")
        self.values = self._wants("FQ2")
        self.style = text is not None and self._wants("FQ401")
        if model is not None and flow is not None and model.kind == Api.CONVIVA_FLOW:
            flow = str(flow)
            self.flow_model = model.flow(flow)
            if self.flow_model is None:
                listed = ", ".join(f"{f.id} ({f.label})" for f in model.flows.values())
                self.add(
                    "FQ103",
                    f"the data model has no flow '{flow}'",
                    None,
                    f"its flows are {listed}; the keys were checked against all of them"
                    if listed
                    else "the data model has no flows",
                )
            else:
                self.flow = flow

    def _on(self, code: str) -> bool:
        return self.enabled is None or code in self.enabled

    def _wants(self, prefix: str) -> bool:
        enabled = self.enabled
        return enabled is None or any(code.startswith(prefix) for code in enabled)

    def add(
        self,
        code: str,
        message: str,
        span: Span | None,
        hint: str | None = None,
        fix: Fix | None = None,
    ) -> None:
        if self._on(code):
            self.found.append(
                Diagnostic(code, message, span, hint=hint, severity=_SEVERITY[code], fix=fix)
            )

    def fix(
        self, message: str, edits: list[tuple[int, int, str]], *, safe: bool = True
    ) -> Fix | None:
        """A fix of the checked text (None for a tree: it has no text to edit)."""
        if self.text is None:
            return None
        from flowql.fixes import Applicability, Edit, Fix

        applicability = Applicability.SAFE if safe else Applicability.UNSAFE
        return Fix([Edit(*e) for e in edits], message, applicability)

    def replace(self, span: Span | None, text: str, *, safe: bool = False) -> Fix | None:
        """The fix that writes ``text`` in place of ``span``: unsafe unless said, since every
        such fix of a filter that parses changes what it matches."""
        if span is None:
            return None
        return self.fix(f"replace with {clip(text)}", [(span.start, span.end, text)], safe=safe)

    def run(self, expr: Expr) -> None:
        """Check every node, and every AND/OR group, of the tree; without recursion."""
        candidates: list[tuple[Or, And]] = []  # AND groups directly inside an OR (FQ401)
        stack: list[Expr] = [expr]
        logic, style = self.logic, self.style
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is Comparison:
                self._comparison(node)  # type: ignore[arg-type]
            elif kind is In:
                self._membership(node)  # type: ignore[arg-type]
            elif kind is Not:
                stack.append(node.operand)  # type: ignore[attr-defined]
            else:
                operands: tuple[Expr, ...] = node.operands  # type: ignore[attr-defined]
                stack.extend(operands)
                if logic:
                    self._group(node, kind is And)  # type: ignore[arg-type]
                if style and kind is Or:
                    candidates.extend((node, o) for o in operands if type(o) is And)  # type: ignore[misc]
        if candidates:
            self._mixed(candidates)

    # --- keys and values ------------------------------------------------------------------

    def _dimension(self, key: Key) -> Dimension | None:
        """The key's dimension, reporting FQ101/FQ102 when the model does not have it."""
        if self.model is None:
            return None
        name = key.name
        info = self.keys.get(name)
        if info is None:
            info = self.keys[name] = self._look_up(name)
        dimension, problem, fixed = info
        if problem is not None:
            code, message, hint = problem
            fix = self.replace(key.span, fixed) if fixed is not None else None
            self.add(code, message, key.span, hint, fix)
        return dimension

    def _look_up(self, name: str) -> _KeyInfo:
        model = self.model
        assert model is not None
        dimension = model.lookup(name, self.flow)
        if dimension is not None:
            return dimension, None, None
        noun = "field" if model.kind == Api.KLAVIYO else "dimension"
        flow = self.flow_model
        if flow is not None:
            others = model.flows_with(name)
            if others:
                where = _join([f"{f.id} ({f.label})" for f in others], "and")
                plural = "flows" if len(others) > 1 else "flow"
                problem = (
                    "FQ102",
                    f"'{name}' is not a dimension of flow {flow.id} ({flow.label}); "
                    f"it is in {plural} {where}",
                    f"query {'one of those flows' if len(others) > 1 else 'that flow'}, "
                    "or remove the comparison",
                )
                return None, problem, None
            message = f"'{name}' is not a dimension of flow {flow.id} ({flow.label})"
        else:
            message = f"'{name}' is not a {noun} of the data model ({model.name})"
        import difflib

        # The two closest, as the hint's "did you mean" ranks them; the first is the fix when
        # it alone is close enough (a ratio of 0.8, above the hint's 0.6: a fix is made, a hint
        # only read). Unsafe: the filter then matches records it did not.
        close = difflib.get_close_matches(name, list(model.dimensions(self.flow)), n=2)
        hint = f"did you mean '{close[0]}'?" if close else None
        near = [c for c in close if difflib.SequenceMatcher(None, name, c).ratio() >= 0.8]
        return None, ("FQ101", message, hint), near[0] if len(near) == 1 else None

    def _comparison(self, node: Comparison) -> None:
        dimension = self._dimension(node.key) if self.model is not None else None
        if not self.values:
            return
        value = node.value
        op = node.op
        if type(value) is String:
            if not value.value:
                self._empty(node, op, value)
            if dimension is None or (dimension.type == "string" and dimension.values is None):
                return  # the usual case: text against a text dimension
        elif dimension is None:
            return
        kind = dimension.type
        if kind in ("boolean", "number") and op in (Op.CONTAINS, Op.NOT_CONTAINS):
            words = "contains" if op is Op.CONTAINS else "does not contain"
            self.add(
                "FQ201",
                f"{op.value} ({words}) compares text, but '{node.key.name}' is a {kind}",
                node.span,
                "compare with == or !=",
            )
            return
        self._value(node.key.name, dimension, value, op in (Op.EQ, Op.NE))

    def _membership(self, node: In) -> None:
        dimension = self._dimension(node.key)
        if not self.values:
            return
        name = node.key.name
        seen: set[_Ident] = set()
        word = "NOT IN" if node.negated else "IN"
        previous: Value | None = None
        for value in node.values:
            ident = _ident(value)
            if ident in seen:
                self.add(
                    "FQ203",
                    f"{self._raw(value)} is listed twice in {name} {word} (...)",
                    value.span,
                    "remove the repeat",
                    self._repeat_fix(previous, value),
                )
            else:
                seen.add(ident)
            if not node.negated and type(value) is String and value.value == "":
                self.add(
                    "FQ202",
                    f"'' in {name} IN (...) matches only records whose {name} is empty",
                    value.span,
                    "put the value between the quotes, or remove it",
                )
            if dimension is not None:
                self._value(name, dimension, value, True)
            previous = value

    def _repeat_fix(self, previous: Value | None, value: Value) -> Fix | None:
        """Remove a repeated value of a list with the ',' before it (a list means the same
        without its repeats), unless a comment would go with it."""
        text, span = self.text, value.span
        if text is None or previous is None or previous.span is None or span is None:
            return None
        start = previous.span.end
        if "#" in text[start : span.start]:
            return None
        return self.fix("remove the repeat", [(start, span.end, "")])

    def _empty(self, node: Comparison, op: Op, value: String) -> None:
        name = node.key.name
        if op is Op.EQ:
            message = f"{name} == '' matches only records whose {name} is empty"
            hint = "put the value between the quotes"
        elif op is Op.CONTAINS:
            message = f"{name} ~~ '' matches every record that has {name}: every value contains ''"
            hint = "put the value between the quotes, or remove the comparison"
        elif op is Op.NOT_CONTAINS:
            message = f"{name} !~ '' matches no record that has {name}: every value contains ''"
            hint = "put the value between the quotes, or remove the comparison"
        else:
            return  # `!= ''` (has a non-empty value, or none) is a real test
        self.add("FQ202", message, value.span, hint)

    def _value(self, name: str, dimension: Dimension, value: Value, exact: bool) -> None:
        """FQ201 and FQ204 for one value compared with ``name``; ``exact`` for ==, != and IN."""
        kind = dimension.type
        vtype = type(value)
        if kind in ("string", "list"):
            if vtype is not String:
                raw = self._raw(value)
                what = "a number" if vtype is Number else "a boolean"
                self.add(
                    "FQ201",
                    f"'{name}' holds text, but {raw} is {what}, which never equals text",
                    value.span,
                    f"quote it: {quote(raw)}",
                    self.replace(value.span, quote(raw)),
                )
            elif exact and dimension.values is not None:
                self._known_value(name, dimension.values, value)  # type: ignore[arg-type]
            return
        if (vtype is Boolean) if kind == "boolean" else (vtype is Number):
            return
        raw = self._raw(value)
        what = {String: "text", Number: "a number", Boolean: "a boolean"}[vtype]
        if kind == "boolean":
            message = f"'{name}' is true or false, but {raw} is {what}"
            word = value.value.lower() if vtype is String else ""  # type: ignore[union-attr]
            hint = f"write {word} without quotes" if word in ("true", "false") else None
            fix = self.replace(value.span, word) if hint else None
            hint = hint or "compare with true or false"
        else:
            message = f"'{name}' holds numbers, but {raw} is {what}"
            plain = value.value if vtype is String else ""
            hint = f"write {plain} without quotes" if _is_number(plain) else None  # type: ignore[arg-type]
            fix = self.replace(value.span, plain) if hint else None  # type: ignore[arg-type]
            hint = hint or "compare with a number"
        self.add("FQ201", message, value.span, hint, fix)

    def _known_value(self, name: str, known: tuple[str, ...], value: String) -> None:
        if value.value in known or value.value == "":
            return
        from flowql.diagnostics import closest

        found = closest(value.value, known)
        close = [found] if found is not None else []
        self.add(
            "FQ204",
            f"{quote(value.value)} is not a value of {name}: it takes "
            + _join([quote(v) for v in known], "or"),
            value.span,
            f"did you mean {quote(close[0])}?" if close else None,
            self.replace(value.span, quote(close[0])) if close else None,
        )

    def _raw(self, value: Value) -> str:
        """The value as the user wrote it (as flowql prints it, for a tree built in code)."""
        span = value.span
        if self.text is not None and span is not None:
            return self.text[span.start : span.end]
        return format_value(value)

    # --- logic ----------------------------------------------------------------------------

    def _group(self, node: And | Or, conj: bool) -> None:
        """FQ301, FQ302 and FQ303 for one AND (``conj``) or OR group."""
        by_key: dict[str, list[Expr]] = {}
        repeated = False
        for operand in node.operands:
            target = operand
            while type(target) is Not:
                target = target.operand
            if type(target) is Comparison or type(target) is In:
                name = target.key.name
                same = by_key.get(name)
                if same is None:
                    by_key[name] = [operand]
                else:
                    same.append(operand)
                    repeated = True
        if not repeated:
            return
        for name, operands in by_key.items():
            if len(operands) > 1:
                self._key_logic(node, conj, name, operands)

    def _key_logic(self, node: And | Or, conj: bool, name: str, operands: list[Expr]) -> None:
        # Everything is checked as a conjunction: an AND group's operands as they are, an OR
        # group through its negation (an OR always holds when the AND of the negated operands
        # never does).
        pos = [_literals(o, True) for o in operands]
        # The common case first: only == and IN in an OR, or only != and NOT IN in an AND. Such
        # a group is never a contradiction or a tautology (a record without the key, or with
        # another value, fails every == and passes every !=), and one operand makes another
        # redundant exactly when its set of values includes the other's.
        plain = _NE if conj else _IN
        if all(lits and all(lit[0] == plain for lit in lits) for lits in pos):
            if not self._on("FQ303"):
                return
            if len(operands) > _PAIRWISE_LIMIT:
                self._repeats(node, conj, operands)
            elif conj:
                self._subsets(node, conj, operands, [frozenset(x for _, x in lits) for lits in pos])
            else:
                self._subsets(node, conj, operands, [lits[0][1] for lits in pos])  # type: ignore[misc]
            return
        neg = [_literals(o, False) for o in operands]
        group = pos if conj else neg
        if _unsat([lit for lits in group for lit in lits]):
            code = "FQ301" if conj else "FQ302"
            if self._on(code):
                self._never(node, conj, name, operands, group)
            return
        if not self._on("FQ303"):
            return
        count = len(operands)
        if count > _PAIRWISE_LIMIT:
            self._repeats(node, conj, operands)
            return
        for x in range(count):
            if not pos[x]:
                continue  # a test the logic does not model (a number with ~~)
            for s in range(count):
                if s == x or not pos[s]:
                    continue
                # In an AND, x is redundant when a sibling implies it; in an OR, when it
                # implies a sibling. Of two equivalent operands, only the later one is.
                stronger, weaker = (s, x) if conj else (x, s)
                if not _unsat(pos[stronger] + neg[weaker]):
                    continue
                if s < x or not _unsat(pos[weaker] + neg[stronger]):
                    self._redundant(node, conj, operands[x], operands[s])
                    break

    def _repeats(self, node: And | Or, conj: bool, operands: list[Expr]) -> None:
        """FQ303 for exact repeats only: for a key with too many operands to compare pairwise."""
        first: dict[Expr, Expr] = {}
        for operand in operands:
            earlier = first.setdefault(operand, operand)
            if earlier is not operand:
                self._redundant(node, conj, operand, earlier)

    def _subsets(
        self, node: And | Or, conj: bool, operands: list[Expr], sets: list[frozenset[object]]
    ) -> None:
        """FQ303 when the operands are all == / IN (an OR) or all != / NOT IN (an AND)."""
        for x, mine in enumerate(sets):
            for s, theirs in enumerate(sets):
                if s != x and mine <= theirs and (s < x or mine != theirs):
                    self._redundant(node, conj, operands[x], operands[s])
                    break

    def _never(
        self,
        node: And | Or,
        conj: bool,
        name: str,
        operands: list[Expr],
        group: list[tuple[_Lit, ...]],
    ) -> None:
        core = [operands[i] for i in _core(group)]
        shown = [_show(o) for o in core]
        # A contradiction is at the operands that conflict, not the whole group: the others
        # are not part of it (nor is the line the group starts on, where a noqa would go).
        where = (_covering(core) if conj else None) or node.span
        if conj:
            quantifier = "both" if len(shown) == 2 else "all"
            self.add(
                "FQ301",
                f"{_join(shown, 'and')} can never {quantifier} hold",
                where,
                f"this AND group matches nothing; change or remove one of the {name} comparisons",
            )
        else:
            listed = _join(shown, "or") if len(shown) == 2 else "one of " + _join(shown, "or")
            self.add(
                "FQ302",
                f"every record matches {listed}",
                where,
                f"this OR group matches everything; check the {name} values, or remove the group",
            )

    def _redundant(self, node: And | Or, conj: bool, operand: Expr, sibling: Expr) -> None:
        if not self._on("FQ303"):
            return
        # Equal canonical text is equal trees, and cheaper to compare than the trees.
        text, other = format(operand), format(sibling)
        shown = clip(text, 60)
        if text == other:
            message = f"{shown} repeats an earlier operand of this {'AND' if conj else 'OR'} group"
        elif conj:
            message = f"{shown} adds nothing: {clip(other, 60)} already implies it"
        else:
            message = (
                f"{shown} adds nothing: every record it matches already matches {clip(other, 60)}"
            )
        self.add("FQ303", message, operand.span, f"remove {shown}", self._removal(node, operand))

    def _removal(self, node: And | Or, operand: Expr) -> Fix | None:
        """Remove an operand the group means the same without: with its connective and its own
        parentheses (unless a comment sits in the way)."""
        text = self.text
        if text is None:
            return None
        ops = node.operands
        at = next(i for i, o in enumerate(ops) if o is operand)
        span = operand.span
        assert span is not None
        start: int | None
        end: int | None
        if at:
            before = ops[at - 1].span
            assert before is not None
            gap = _gap(text, before.end, span.start)
            if gap is None:
                return None
            start, end = gap.end(1), _past(text, span.end, ")", gap.group(3).count("("))
        else:
            after = ops[1].span
            assert after is not None
            gap = _gap(text, span.end, after.start)
            if gap is None:
                return None
            start, end = _past(text, span.start, "(", gap.group(1).count(")")), gap.end(2)
        if start is None or end is None:
            return None
        # `a == 0 OR b == 1)or c`: what is left around the cut must not run together (`0or`).
        joined = start > 0 and end < len(text) and not text[start - 1].isspace()
        space = " " if joined and not text[end].isspace() and text[end] not in "()" else ""
        return self.fix(f"remove {clip(format(operand), 60)}", [(start, end, space)])

    # --- style ----------------------------------------------------------------------------

    def _mixed(self, candidates: list[tuple[Or, And]]) -> None:
        """FQ401: the AND groups directly inside an OR that have no parentheses of their own."""
        text = self.text
        assert text is not None
        shown: dict[int, str] = {}
        for parent, group in candidates:
            if _parenthesised(text, parent, group):
                continue
            canonical = shown.get(id(parent))
            if canonical is None:
                canonical = shown[id(parent)] = format(parent)
            hint = (
                f"add parentheses: {canonical}"
                if len(canonical) <= 100
                else f"add parentheses around the AND group: ({clip(format(group), 96)})"
            )
            span = group.span
            assert span is not None
            # flowql reads AND first: the parentheses say what the filter already means.
            fix = self.fix(
                "add parentheses", [(span.start, span.start, "("), (span.end, span.end, ")")]
            )
            self.add(
                "FQ401",
                "AND inside OR without parentheses: the Flow API does not document which "
                "binds first",
                span,
                hint,
                fix,
            )

    def check_format(
        self, expr: Expr, text: str, line_length: int, *, final_newline: bool = False
    ) -> None:
        """FQ402: the text differs from what ``flowql fmt`` writes (without its final newline
        for text that has none, such as an inline ``--expr``, unless ``final_newline``)."""
        newline = text.endswith("\n")
        body = text[:-1] if newline else text
        if final_newline and not newline:
            differs = True
        elif "\n" not in body and "#" not in body and "\r" not in body:
            # One line and no comment: what fmt writes depends on the tree alone, so there is no
            # need to parse again. It is the one-line form when that fits in line_length, or
            # when the filter is one comparison under any NOTs (never split); otherwise several
            # lines, which one line of text cannot equal. So a group on a line longer than
            # line_length always differs: shorter once formatted, or broken over lines.
            root: Expr = expr
            while type(root) is Not:
                root = root.operand
            if type(root) is Comparison or type(root) is In or len(body) <= line_length:
                canonical = format(expr)
                one_line = len(canonical) <= line_length or type(root) in (Comparison, In)
                differs = not one_line or body != canonical
            else:
                differs = True
        else:
            from flowql.formatter import format_file

            # What fmt writes, CRLF line breaks included: a CRLF file it wrote is formatted.
            # From the tree already made: the text is parsed once, whatever checks it.
            formatted = format_file(text, line_length=line_length, parsed=expr)
            if not newline:
                formatted = formatted[: -2 if formatted.endswith("\r\n") else -1]
            differs = text != formatted
        if differs:
            end = len(text)
            fix = None
            if self._on("FQ402"):
                from flowql.formatter import format_file

                # What fmt writes, comments kept, without the final newline fmt adds to a file
                # when the text has none and is not a file's.
                formatted = format_file(text, line_length=line_length)
                if not newline and not final_newline:
                    formatted = formatted[: -2 if formatted.endswith("\r\n") else -1]
                if formatted != text:
                    fix = self.fix("format as flowql fmt does", [(0, end, formatted)])
            self.add(
                "FQ402",
                "the filter is not formatted the way flowql fmt writes it",
                _whole(text, end),
                "run flowql fmt",
                fix,
            )


# Between two operands of a group: the first one's closing parentheses, the connective, the
# second one's opening parentheses (nothing else: a comment there keeps a fix from removing it).
_GAP = r"((?:\s*\))*)(\s*(?:and|or)\s*)((?:\(\s*)*)"


def _gap(text: str, start: int, end: int) -> re.Match[str] | None:
    import re

    return re.compile(_GAP, re.IGNORECASE).fullmatch(text, start, end)


def _past(text: str, at: int, paren: str, count: int) -> int | None:
    """The offset past ``count`` parentheses ``paren`` from ``at``, white space between them:
    forwards for ')', backwards for '('. None if they are not there."""
    for _ in range(count):
        if paren == ")":
            while at < len(text) and text[at].isspace():
                at += 1
            if text[at : at + 1] != ")":
                return None
            at += 1
        else:
            while at > 0 and text[at - 1].isspace():
                at -= 1
            if at == 0 or text[at - 1] != "(":
                return None
            at -= 1
    return at


def _parenthesised(text: str, parent: Or, group: And) -> bool:
    """Whether ``group``, an operand of ``parent``, has parentheses of its own in ``text``.

    A group's span never includes its own parentheses, though it does include those of its first
    and last operands; so it has some exactly when the text between it and the sibling before
    it (or the start of ``parent``) ends with '(' and the text up to the sibling after it (or
    the end of ``parent``) starts with ')', white space and comments aside. Those gaps hold no
    string, so a '#' in them starts a comment.
    """
    span, outer = group.span, parent.span
    assert span is not None
    assert outer is not None
    operands = parent.operands
    at = next(i for i, operand in enumerate(operands) if operand is group)
    before = operands[at - 1].span.end if at else outer.start  # type: ignore[union-attr]
    after = operands[at + 1].span.start if at + 1 < len(operands) else outer.end  # type: ignore[union-attr]
    left = _significant(text[before : span.start])
    right = _significant(text[span.end : after])
    return left.endswith("(") and right.startswith(")")


def _significant(gap: str) -> str:
    if "#" in gap:
        import re

        gap = re.sub("#[^\n]*", "", gap)
    return gap.strip()


def _whole(text: str, end: int) -> Span:
    from flowql.ast import Span

    return Span.from_offsets(text, 0, end)


# --- the logic, per key -------------------------------------------------------------------

_IN, _NE, _CT, _NC = 0, 1, 2, 3


def _ident(value: Value) -> _Ident:
    """How the logic compares a value: with its type, numbers by numeric value."""
    kind = type(value)
    return ("s" if kind is String else "n" if kind is Number else "b", value.value)


def _literals(operand: Expr, positive: bool) -> tuple[_Lit, ...]:
    """The operand (its negation when not ``positive``) as a conjunction of constraints on its
    key; () when the logic does not model it (``~~`` or ``!~`` with a number or boolean)."""
    negate = not positive
    while type(operand) is Not:
        operand = operand.operand
        negate = not negate
    if type(operand) is Comparison:
        op: Op = operand.op
        if negate:
            op = op.negated
        value: Value = operand.value
        if op is Op.EQ:
            return ((_IN, frozenset((_ident(value),))),)
        if op is Op.NE:
            return ((_NE, _ident(value)),)
        if type(value) is not String:
            return ()
        return ((_CT if op is Op.CONTAINS else _NC, value.value),)
    values: tuple[Value, ...] = operand.values  # type: ignore[attr-defined]
    if operand.negated != negate:  # type: ignore[attr-defined]
        return tuple((_NE, _ident(v)) for v in values)
    return ((_IN, frozenset(_ident(v) for v in values)),)


def _unsat(literals: list[_Lit] | tuple[_Lit, ...]) -> bool:
    """Whether no record satisfies every constraint (all on one key). Sound, and monotone:
    adding constraints never turns True into False."""
    allowed: frozenset[_Ident] | None = None
    excluded: set[object] = set()
    contains: list[str] = []
    lacks: list[str] = []
    for kind, x in literals:
        if kind == _IN:
            allowed = x if allowed is None else allowed & x  # type: ignore[assignment,operator]
        elif kind == _NE:
            excluded.add(x)
        elif kind == _CT:
            contains.append(x)  # type: ignore[arg-type]
        else:
            lacks.append(x)  # type: ignore[arg-type]
    # Contains c and lacks a part of c: whatever the value's type.
    for lacked in lacks:
        for c in contains:
            if lacked in c:
                return True
    if allowed is None:
        return False  # some string (or a record without the key) satisfies the rest
    for candidate in allowed:
        if candidate in excluded:
            continue
        if candidate[0] == "s":
            text: str = candidate[1]  # type: ignore[assignment]
            if any(c not in text for c in contains) or any(n in text for n in lacks):
                continue
        # A number or boolean with ~~ or !~ is not modelled: it may satisfy them.
        return False
    return True


def _core(group: list[tuple[_Lit, ...]]) -> list[int]:
    """The indexes of a minimal subset of the operands whose constraints are unsatisfiable
    together, in order: the ones a message should name. ``group`` as a whole is."""
    fixed: list[int] = []
    fixed_lits: list[_Lit] = []
    rest = list(range(len(group)))
    while not _unsat(fixed_lits):
        # The shortest prefix of the rest that is unsatisfiable with the fixed operands: its
        # last operand is necessary.
        low, high = 1, len(rest)
        while low < high:
            middle = (low + high) // 2
            lits = fixed_lits + [lit for i in rest[:middle] for lit in group[i]]
            if _unsat(lits):
                high = middle
            else:
                low = middle + 1
        chosen = rest[high - 1]
        fixed.append(chosen)
        fixed_lits.extend(group[chosen])
        rest = rest[: high - 1]
    return sorted(fixed)


def _covering(nodes: list[Expr]) -> Span | None:
    """The span from the first of ``nodes`` to the last (None when one has no span: a tree
    built in code)."""
    from flowql.ast import Span

    spans = [n.span for n in nodes if n.span is not None]
    if not nodes or len(spans) < len(nodes):
        return None
    first = min(spans, key=lambda s: s.start)
    last = max(spans, key=lambda s: s.end)
    return Span(first.start, last.end, first.line, first.column, last.end_line, last.end_column)


# --- text -------------------------------------------------------------------------------


def _show(node: Expr) -> str:
    return clip(format(node), 60)


def _join(items: list[str], word: str) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _is_number(text: str) -> bool:
    import re

    return re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", text) is not None
