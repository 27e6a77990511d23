"""Generate flowql's Klaviyo revision tables from Klaviyo's OpenAPI spec.

Klaviyo publishes one OpenAPI document per API revision. The project keeps the reporting part of
each revision it supports in ``tests/fixtures/klaviyo-openapi/`` (with the spec's MIT licence);
this module reads every ``klaviyo-openapi-REVISION-reporting.json`` there and writes, as plain
data, what flowql checks a query against to ``flowql/_klaviyo_tables.py``: per revision the
timeframe keys, and per report its statistics, group-by fields (their default, the required ones
and prerequisites), intervals and the longest timeframe each takes, the filter fields with their
operators, the ``send_channel`` values, the list limit, whether one filter per attribute is the
rule, whether a conversion metric is required, and the earliest date with data; and the metrics
list's filter fields. Enums come from the schemas; the rest from the descriptions' prose, read by
patterns that fail loudly when Klaviyo rewords them.

Moving to a new revision is adding its spec file and running ``python -m flowql._generate_klaviyo``;
``--check`` exits 1 when the tables are stale (a test does the same).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pprint
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "tests" / "fixtures" / "klaviyo-openapi"
TABLES_PATH = Path(__file__).resolve().parent / "_klaviyo_tables.py"
_SPEC_NAME = re.compile(r"klaviyo-openapi-(\d{4}-\d{2}-\d{2}(?:\.[a-z0-9]+)?)-reporting\.json")

HEADER = '''\
"""Klaviyo's reporting rules per API revision, generated from Klaviyo's OpenAPI spec
(tests/fixtures/klaviyo-openapi/). Do not edit.

Regenerate with ``python -m flowql._generate_klaviyo``; a test fails when this file is stale.
"""

# ruff: noqa: E501
'''


class SpecError(Exception):
    """The spec says something this generator cannot read (Klaviyo reworded a rule)."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _filter_rules(description: str, where: str) -> dict[str, Any]:
    """Filter fields, operators and values from a report's ``filter`` description."""
    scalar: dict[str, tuple[str, ...]] = {}
    lists: dict[str, tuple[str, ...]] = {}
    allowed = re.search(r"Allowed filters are ([^.\n]+)\.", description)
    if allowed:
        operators = re.search(r"Allowed operators are ([^.\n]+)\.", description)
        if operators is None:
            raise SpecError(f"{where}: filter fields without operators")
        for name in _words(allowed.group(1)):
            scalar[name] = _words(operators.group(1))
    for kind, table in (("Scalar", scalar), ("List", lists)):
        found = re.search(
            kind + r" attributes \(([^)]*)\): Supported operators: ([^.\n]+)\.", description
        )
        if found:
            for name in _words(found.group(1)):
                table[name] = _words(found.group(2))
    if not scalar and not lists:
        raise SpecError(f"{where}: no filter fields found in {description!r}")
    channels = re.search(r"allowed values are ([^.\n]+)\.", description)
    limit = re.search(
        r"Max of (\d+) (?:items per list filter|messages per ANY filter)", description
    )
    if limit is None:
        raise SpecError(f"{where}: no list limit found")
    return {
        "scalar": scalar,
        "list": lists,
        "channels": _words(channels.group(1)) if channels else None,
        "max_list_items": int(limit.group(1)),
        "one_filter_per_attribute": "Only one filter can be used per attribute" in description,
    }


_LENGTH = re.compile(r"If (\w+) is used, the timeframe cannot be longer than (\d+) (days|weeks)\.")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("January", "February", "March", "April", "May", "June", "July", "August"), start=1
    )
} | {"September": 9, "October": 10, "November": 11, "December": 12}


def _report(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> dict[str, Any]:
    where = f"POST {path}"
    body = operation["requestBody"]["content"]["application/vnd.api+json"]["schema"]
    resource = _resolve(spec, _resolve(spec, body)["properties"]["data"])
    report_type = _resolve(spec, resource["properties"]["type"])["enum"][0]
    attributes = resource["properties"]["attributes"]
    props = attributes["properties"]
    required = attributes.get("required", [])
    table: dict[str, Any] = {
        "path": path,
        "type": report_type,
        "series": "interval" in props,
        "statistics": tuple(sorted(props["statistics"]["items"]["enum"])),
        "conversion": "conversion_metric_id" in required,
    }
    group_by = props.get("group_by")
    if group_by is not None:
        text = group_by.get("description", "")
        table["group_by"] = tuple(group_by["items"]["enum"])
        default = re.search(r"If not passed in, the data will be grouped by ([^.\n]+)\.", text)
        if default is None:
            raise SpecError(f"{where}: no default group_by found")
        table["default_group_by"] = _words(default.group(1))
        needed = re.search(r"The following group by attributes are required: ([^.\n]+)", text)
        table["required_group_by"] = _words(needed.group(1)) if needed else ()
        table["prerequisites"] = tuple(
            (field, needs)
            for field, needs in re.findall(r"The prerequisites for (\w+) is (\w+)", text)
        )
    else:
        # A report without group_by groups by what its answer's example shows.
        answer = operation["responses"]["200"]["content"]["application/vnd.api+json"]["schema"]
        results = _resolve(spec, answer)["properties"]["data"]["properties"]["attributes"]
        example = results["properties"]["results"]["example"]
        table["group_by"] = ()
        table["default_group_by"] = tuple(example[0]["groupings"])
        table["required_group_by"] = ()
        table["prerequisites"] = ()
    if table["series"]:
        interval = props["interval"]
        lengths = {
            name: int(n) * (7 if unit == "weeks" else 1)
            for name, n, unit in _LENGTH.findall(interval["description"])
        }
        if not lengths:
            raise SpecError(f"{where}: no interval limits found")
        table["intervals"] = {name: lengths.get(name) for name in sorted(interval["enum"])}
    table["filter"] = _filter_rules(props["filter"]["description"], where)
    timeframe = props["timeframe"].get("description", "")
    since = re.search(r"Data is unavailable before (\w+) (\d+)\w*, (\d{4})", timeframe)
    table["data_since"] = (
        dt.date(int(since.group(3)), _MONTHS[since.group(1)], int(since.group(2))).isoformat()
        if since
        else None
    )
    return table


def read_spec(path: Path) -> dict[str, Any]:
    """The tables of one revision's spec file."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    revision = spec["info"]["version"]
    reports: dict[str, Any] = {}
    metrics_filter: dict[str, tuple[str, ...]] = {}
    timeframes: tuple[str, ...] = ()
    for api_path, operations in sorted(spec["paths"].items()):
        if api_path.endswith("-reports"):
            name = api_path.removeprefix("/api/").removesuffix("-reports")
            reports[name] = _report(spec, api_path, operations["post"])
        elif api_path == "/api/metrics":
            for parameter in operations["get"]["parameters"]:
                if parameter.get("name") == "filter":
                    for field, ops in re.findall(
                        r"`([\w.]+)`: `([^`]+)`", parameter["description"]
                    ):
                        metrics_filter[field] = _words(ops.replace("`", ""))
    timeframes = tuple(spec["components"]["schemas"]["Timeframe"]["properties"]["key"]["enum"])
    if not reports or not metrics_filter:
        raise SpecError(f"{path.name}: no reports or no metrics filter found")
    return {
        "revision": revision,
        "timeframes": timeframes,
        "reports": reports,
        "metrics_filter": metrics_filter,
    }


def spec_files(spec_dir: Path = SPEC_DIR) -> list[tuple[str, Path]]:
    """Every revision's spec file in ``spec_dir``, oldest first."""
    found = []
    for path in spec_dir.iterdir():
        match = _SPEC_NAME.fullmatch(path.name)
        if match:
            found.append((match.group(1), path))
    return sorted(found)


def render(spec_dir: Path = SPEC_DIR) -> str:
    """The text of ``_klaviyo_tables.py``."""
    tables = {}
    for revision, path in spec_files(spec_dir):
        read = read_spec(path)
        if read["revision"] != revision:
            raise SpecError(f"{path.name} is revision {read['revision']}")
        tables[revision] = read
    if not tables:
        raise SpecError(f"no klaviyo-openapi-REVISION-reporting.json in {spec_dir}")
    body = pprint.pformat(tables, width=100, sort_dicts=False)
    return HEADER + "\nREVISIONS = " + body + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowql._generate_klaviyo")
    parser.add_argument("--spec-dir", type=Path, default=SPEC_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if the tables are stale")
    args = parser.parse_args(argv)
    text = render(args.spec_dir)
    if args.check:
        current = TABLES_PATH.read_text(encoding="utf-8") if TABLES_PATH.exists() else ""
        if current != text:
            print(
                f"{TABLES_PATH.name} is stale: run `python -m flowql._generate_klaviyo`",
                file=sys.stderr,
            )
            return 1
        return 0
    TABLES_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {TABLES_PATH} ({len(text)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
