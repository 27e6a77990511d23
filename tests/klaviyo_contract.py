"""Klaviyo's OpenAPI spec as a contract: requests and answers validated against it.

Test support code (not shipped). The spec files are Klaviyo's own, cut to the ten operations
flowql uses, one per revision, in ``tests/fixtures/klaviyo-openapi/``. Two functions do the
work, each returning the mismatches it finds as short sentences (an empty list: the message
keeps the contract)::

    validate_request(revision, method, path, headers, query_params, body) -> list[str]
    validate_response(revision, method, path, status, headers, body) -> list[str]

- ``revision`` names the spec to read (``"2026-07-15"``); it is also the ``revision`` header
  the request must carry.
- ``path`` is the request's path (``/api/metrics/REcTBe``) or its absolute URL; a query string
  in it is read as query parameters, after ``query_params``. The spec's paths have no trailing
  slash, so ``/api/metrics/`` is a mismatch (the operation is still found and checked).
- ``headers`` is any mapping or sequence of (name, value) pairs (an ``httpx.Headers`` will do);
  names are compared without case.
- ``query_params`` is a mapping, a sequence of (name, value) pairs (repeated names kept), a raw
  query string, or None.
- ``body`` is the decoded JSON value, or bytes or text to be decoded, or None for no body.

What is checked, from the spec: the path and method; the required ``revision`` header and
Klaviyo's ``Authorization`` key; ``Accept`` (it must accept ``application/vnd.api+json``) and,
with a body, ``Content-Type: application/vnd.api+json``; each query parameter is one the
operation takes and valid against its schema (``explode: false`` arrays are comma-separated);
the body against the ``requestBody`` schema; an answer's status is one the operation describes
(``200``, ``4XX`` or ``5XX``), its ``Content-Type`` is the spec's, and its body is valid against
that status's schema.

The schemas are the spec's, with ``$ref``s inlined, ``allOf`` merged, OpenAPI 3.0's
``nullable: true`` turned into a JSON Schema type that allows null, and every object that lists
its ``properties`` closed (no other property allowed): the spec never says
``additionalProperties``, and without closing them a body with a member the revision does not
have (``group_by`` in a 2024-10-15 flow report) or an answer with a member the spec does not
describe would pass. ``format: date-time`` (RFC 3339) and ``uri`` (an absolute URI) are checked
by small checkers of this module, since jsonschema checks them only with extra packages.

Every call is counted per operation and revision (:data:`TALLY`); ``tests/conftest.py`` prints
the counts at the end of the session (:func:`summary_lines`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

__all__ = [
    "MEDIA_TYPE",
    "REVISIONS",
    "SPEC_DIR",
    "TALLY",
    "Operation",
    "operations",
    "spec_document",
    "summary_lines",
    "validate_request",
    "validate_response",
]

SPEC_DIR = Path(__file__).parent / "fixtures" / "klaviyo-openapi"
REVISIONS = ("2024-10-15", "2026-07-15")
"""The revisions whose spec the project holds."""
MEDIA_TYPE = "application/vnd.api+json"
"""The spec's media type, for request bodies and answers."""

Headers: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]
Query: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]] | str | None


# --- the spec ------------------------------------------------------------------------------


@functools.cache
def spec_document(revision: str) -> dict[str, Any]:
    """The spec of ``revision``, as Klaviyo wrote it (``$ref``s not inlined)."""
    if revision not in REVISIONS:
        raise ValueError(
            f"no Klaviyo spec for revision {revision!r}; the project holds {REVISIONS}"
        )
    path = SPEC_DIR / f"klaviyo-openapi-{revision}-reporting.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation (query, header or path), its schema converted."""

    name: str
    where: str
    required: bool
    schema: dict[str, Any]
    explode: bool


@dataclass(frozen=True)
class Operation:
    """One operation of one revision's spec, its schemas converted."""

    revision: str
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: dict[str, Any] | None
    body_required: bool
    body_media: tuple[str, ...]
    responses: dict[str, tuple[str | None, dict[str, Any] | None]]  # status -> (media, schema)

    @property
    def pattern(self) -> re.Pattern[str]:
        return _template(self.path)

    def parameter(self, where: str, name: str) -> Parameter | None:
        for p in self.parameters:
            if p.where == where and p.name.lower() == name.lower():
                return p
        return None


@functools.cache
def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", path)
    out = ""
    for i, part in enumerate(parts):
        out += re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
    return re.compile(out)


@functools.cache
def operations(revision: str) -> tuple[Operation, ...]:
    """Every operation of ``revision``'s spec."""
    document = spec_document(revision)
    out = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            params = []
            for raw in [*shared, *op.get("parameters", [])]:
                raw = _resolve(document, raw)
                where = raw["in"]
                params.append(
                    Parameter(
                        raw["name"],
                        where,
                        bool(raw.get("required", where == "path")),
                        _convert(document, raw.get("schema", {})),
                        bool(raw.get("explode", raw.get("style", "form") == "form")),
                    )
                )
            body = None
            body_required = False
            body_media: tuple[str, ...] = ()
            if "requestBody" in op:
                request_body = _resolve(document, op["requestBody"])
                body_required = bool(request_body.get("required", False))
                content = request_body.get("content", {})
                body_media = tuple(content)
                if content:
                    body = _convert(document, next(iter(content.values())).get("schema", {}))
            responses: dict[str, tuple[str | None, dict[str, Any] | None]] = {}
            for status, raw in op.get("responses", {}).items():
                answer = _resolve(document, raw)
                content = answer.get("content", {})
                if content:
                    media, spec = next(iter(content.items()))
                    responses[status] = (media, _convert(document, spec.get("schema", {})))
                else:
                    responses[status] = (None, None)
            out.append(
                Operation(
                    revision,
                    op["operationId"],
                    method.upper(),
                    path,
                    tuple(params),
                    body,
                    body_required,
                    body_media,
                    responses,
                )
            )
    return tuple(out)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in node:
        seen += 1
        if seen > 50:
            raise ValueError(f"a $ref loop at {node['$ref']}")
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _convert(document: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``$ref``s inlined, ``allOf`` merged, ``nullable``
    turned into a type allowing null, objects with ``properties`` closed."""
    if depth > 60:
        raise ValueError("the schema nests too deep (a recursive $ref?)")
    if isinstance(node, list):
        return [_convert(document, item, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    node = _resolve(document, node)
    if "allOf" in node:
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = _resolve(document, part)
            for key, value in part.items():
                if key == "properties":
                    merged.setdefault("properties", {}).update(value)
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", []), *value})
                else:
                    merged.setdefault(key, value)
        node = merged
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("example", "examples", "description", "nullable", "x-readme"):
            continue
        if key == "properties":
            out[key] = {name: _convert(document, sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _convert(document, value, depth + 1)
        elif key in ("oneOf", "anyOf"):
            out[key] = [_convert(document, sub, depth + 1) for sub in value]
        else:
            out[key] = value
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


# --- formats --------------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
_FORMATS = jsonschema.FormatChecker(())


def _is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time``: a date, ``T``, a time with seconds, and an offset."""
    return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None


def _is_uri(value: object) -> bool:
    """An absolute URI: a scheme, and for http(s) a host, with no spaces."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme) or any(
        c.isspace() for c in value
    ):
        return False
    return parts.scheme not in ("http", "https") or bool(parts.netloc)


_FORMATS.checks("date-time")(_is_date_time)
_FORMATS.checks("uri")(_is_uri)


def _errors(schema: dict[str, Any], value: object, where: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    found = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path))):
        at = "".join(f"/{p}" for p in error.absolute_path)
        found.append(f"{where}{' ' + at if at else ''}: {_clip(error.message)}")
    return found


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the tally -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What was validated for one operation at one revision."""

    requests: int = 0
    responses: int = 0
    mismatches: list[str] = field(default_factory=list)


TALLY: dict[tuple[str, str], Tally] = {}
"""Per (operation id, revision): how many requests and responses were validated, and the
mismatches found. Operations not in the spec count under ``(unknown)``."""


def _count(operation: str, revision: str, kind: str, mismatches: list[str]) -> None:
    tally = TALLY.setdefault((operation, revision), Tally())
    if kind == "request":
        tally.requests += 1
    else:
        tally.responses += 1
    tally.mismatches.extend(f"{kind}: {m}" for m in mismatches)


def summary_lines() -> list[str]:
    """One line per operation and revision validated, in order, then every mismatch."""
    lines = []
    for (operation, revision), tally in sorted(TALLY.items()):
        lines.append(
            f"klaviyo contract: {operation} @{revision}: {tally.requests} requests, "
            f"{tally.responses} responses, {len(tally.mismatches)} mismatches"
        )
    for (operation, revision), tally in sorted(TALLY.items()):
        lines.extend(f"  {operation} @{revision}: {m}" for m in tally.mismatches[:20])
    return lines


# --- matching a request ------------------------------------------------------------------------


def _split(path: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(path)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True) if parts.query else []


def _find(
    revision: str, method: str, path: str
) -> tuple[Operation | None, dict[str, str], list[str]]:
    """The operation ``method path`` is, its path parameters, and the mismatches of the path."""
    mismatches = []
    candidates = [(op, op.pattern.fullmatch(path)) for op in operations(revision)]
    matched = [(op, m) for op, m in candidates if m is not None]
    if not matched and path.endswith("/"):
        stripped = path.rstrip("/")
        matched = [
            (op, m) for op, m in ((o, o.pattern.fullmatch(stripped)) for o, _ in candidates) if m
        ]
        if matched:
            mismatches.append(
                f"path {path!r} has a trailing slash; the spec writes {matched[0][0].path!r}"
            )
    if not matched:
        return None, {}, [f"path {path!r} is not in the spec of revision {revision}"]
    for op, m in matched:
        if op.method == method.upper():
            return op, {k: unquote(v) for k, v in m.groupdict().items()}, mismatches
    methods = sorted({op.method for op, _ in matched})
    return (
        None,
        {},
        [
            *mismatches,
            f"{method.upper()} {matched[0][0].path} is not in the spec "
            f"(it has {', '.join(methods)})",
        ],
    )


def _header_map(headers: Headers | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in items:
        out.setdefault(name.lower(), []).append(value)
    return out


def _query_pairs(query: Query) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    if isinstance(query, Mapping):
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query]


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _accepts(accept: str, media: str) -> bool:
    kind = media.split("/", 1)[0]
    for item in accept.split(","):
        offered = _media(item)
        quality = re.search(r";\s*q=([0-9.]+)", item)
        if quality is not None and float(quality.group(1) or 0) == 0:
            continue
        if offered in (media, f"{kind}/*", "*/*"):
            return True
    return False


def _decode(body: object, where: str) -> tuple[object, list[str]]:
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None, [f"{where} is not UTF-8"]
    if isinstance(body, str):
        try:
            return json.loads(body), []
        except json.JSONDecodeError as exc:
            return None, [f"{where} is not JSON ({exc.msg})"]
    return body, []


def _parameter_value(param: Parameter, values: list[str]) -> tuple[object, list[str]]:
    schema = param.schema
    if schema.get("type") == "array" or "array" in (schema.get("type") or []):
        if param.explode:
            return values, []
        if len(values) > 1:
            return None, [
                f"query parameter {param.name!r} is given {len(values)} times; it takes one "
                "comma-separated list"
            ]
        return (values[0].split(",") if values[0] else []), []
    if len(values) > 1:
        return None, [f"query parameter {param.name!r} is given {len(values)} times"]
    return values[0], []


# --- the two checks -------------------------------------------------------------------------------


def validate_request(
    revision: str,
    method: str,
    path: str,
    headers: Headers | None = None,
    query_params: Query = None,
    body: object = None,
    *,
    record: bool = True,
) -> list[str]:
    """The ways a request differs from ``revision``'s spec (empty: none). See the module.

    ``record=False`` leaves it out of :data:`TALLY`: for a request made wrong on purpose."""
    path, in_path = _split(path)
    operation, path_params, mismatches = _find(revision, method, path)
    if operation is not None:
        mismatches += _check_request(
            operation,
            path_params,
            _header_map(headers),
            [*_query_pairs(query_params), *in_path],
            body,
        )
    if record:
        name = operation.operation_id if operation else "(unknown)"
        _count(name, revision, "request", mismatches)
    return mismatches


def _check_request(
    op: Operation,
    path_params: dict[str, str],
    headers: dict[str, list[str]],
    pairs: list[tuple[str, str]],
    body: object,
) -> list[str]:
    found: list[str] = []
    for param in op.parameters:
        if param.where == "path":
            found += _errors(
                param.schema, path_params.get(param.name), f"path parameter {param.name}"
            )
        elif param.where == "header":
            values = headers.get(param.name.lower())
            if not values:
                if param.required:
                    found.append(f"the required header {param.name!r} is missing")
                continue
            if len(values) > 1:
                found.append(f"header {param.name!r} is sent {len(values)} times")
            found += _errors(param.schema, values[0], f"header {param.name}")
            if param.name.lower() == "revision" and values[0] != op.revision:
                found.append(
                    f"header revision is {values[0]!r}, not {op.revision!r}, the revision "
                    "validated against"
                )
    authorization = headers.get("authorization")
    if not authorization:
        found.append("no Authorization header (the spec's security: Klaviyo-API-Key <private key>)")
    elif authorization[0].split(" ", 1)[0].lower() not in ("klaviyo-api-key", "bearer"):
        found.append("Authorization is not 'Klaviyo-API-Key <key>' (or an OAuth 'Bearer <token>')")
    media = next((m for _, (m, _) in sorted(op.responses.items()) if m), None)
    accept = headers.get("accept")
    if media is not None:
        if not accept:
            found.append(f"no Accept header; the spec answers {media}")
        elif not _accepts(accept[0], media):
            found.append(f"Accept is {accept[0]!r}; the spec answers {media}")
    grouped: dict[str, list[str]] = {}
    for key, text in pairs:
        grouped.setdefault(key, []).append(text)
    for key, values in grouped.items():
        query = op.parameter("query", key)
        if query is None:
            known = ", ".join(p.name for p in op.parameters if p.where == "query") or "none"
            found.append(f"query parameter {key!r} is not one {op.operation_id} takes ({known})")
            continue
        parsed, problems = _parameter_value(query, values)
        found += problems or _errors(query.schema, parsed, f"query parameter {key}")
    for param in op.parameters:
        if param.where == "query" and param.required and param.name not in grouped:
            found.append(f"the required query parameter {param.name!r} is missing")
    content_type = headers.get("content-type")
    empty = body is None or body in (b"", "")
    if op.body is None:
        if not empty:
            found.append(f"{op.operation_id} takes no body")
        return found
    if empty:
        if op.body_required:
            found.append(f"{op.operation_id} needs a body")
        return found
    if not content_type:
        found.append(f"a body without Content-Type; the spec's is {op.body_media[0]}")
    elif _media(content_type[0]) not in op.body_media or ";" in content_type[0]:
        found.append(f"Content-Type is {content_type[0]!r}; the spec's is {op.body_media[0]}")
    document, problems = _decode(body, "the body")
    return found + (problems or _errors(op.body, document, "body"))


def validate_response(
    revision: str,
    method: str,
    path: str,
    status: int,
    headers: Headers | None = None,
    body: object = None,
    *,
    record: bool = True,
) -> list[str]:
    """The ways an answer to ``method path`` differs from ``revision``'s spec (empty: none).

    ``record=False`` leaves it out of :data:`TALLY`: for an answer made wrong on purpose."""
    path, _ = _split(path)
    operation, _, found = _find(revision, method, path)
    # A trailing slash is the request's mismatch, not the answer's.
    found = [m for m in found if "trailing slash" not in m]
    if operation is not None:
        found += _check_response(operation, status, _header_map(headers), body)
    if record:
        name = operation.operation_id if operation else "(unknown)"
        _count(name, revision, "response", found)
    return found


def _check_response(
    op: Operation, status: int, headers: dict[str, list[str]], body: object
) -> list[str]:
    key = str(status) if str(status) in op.responses else f"{status // 100}XX"
    if key not in op.responses:
        return [
            f"status {status} is not one {op.operation_id} describes ({', '.join(op.responses)})"
        ]
    media, schema = op.responses[key]
    found = []
    content_type = headers.get("content-type")
    if media is not None:
        if not content_type:
            found.append(f"no Content-Type; the spec's is {media}")
        elif _media(content_type[0]) != media:
            found.append(f"Content-Type is {content_type[0]!r}; the spec's is {media}")
    if schema is None:
        return found
    value, problems = _decode(body, f"the {status} body")
    return found + (problems or _errors(schema, value, f"{status} body"))
