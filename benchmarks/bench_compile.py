"""How fast each flowql target compiles a parsed filter, and how many filters it accepts.

Run it from the repository, with the ``dev`` extra installed::

    python benchmarks/bench_compile.py                  # the full run, about 12 seconds
    python benchmarks/bench_compile.py --quick          # a smoke test, a second or two
    python benchmarks/bench_compile.py --json out.json  # also write every figure as JSON

Part 1 uses the small (~60 characters), medium (~400) and large (~4,000) filter sets of
``bench_parse.py`` (the same generator and seed, so the same text): Conviva Flow filters, which
most targets can express only a few of. Part 2 gives each target its own sets of the same sizes,
written in what that target expresses (:func:`make_native_sets`), so every target has a figure
at every size. Each filter is parsed once, untimed, and then, for every target registered in
:func:`flowql.targets.targets` when it runs:

1. compiles every filter once, untimed, and sorts them into accepted and refused
   (:class:`~flowql.errors.UnsupportedError`); refused filters are counted, never timed;
2. times ``Target.compile`` over the accepted filters of each set: one pass compiles each of
   them once. The passes of every (target, set) pair are interleaved, in a new order each round,
   and the script prints the median, as filters per second and microseconds per filter.

Parsing is not part of the figure: ``bench_parse.py`` measures it. Nothing here asserts a time:
the test suite runs this script with ``--quick`` to check that it works, never how fast.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# bench_parse.py sits next to this file (sys.path[0] when this runs as a script).
from bench_parse import (
    SEED,
    SIZES,
    Query,
    _calls_for,
    _positive,
    _time_calls,
    make_sets,
    print_header,
    write_report,
)

from flowql.ast import Expr
from flowql.errors import UnsupportedError
from flowql.syntax import parse
from flowql.targets import Target, targets

# --- filters each target accepts, of every size ---------------------------------------------
#
# The common sets are Conviva Flow filters (AND and OR, ==, !=, ~~, !~ on any key); most targets
# can express only a few of them. So each target also gets its own sets, of the same sizes,
# written in what it does express: an AND of its fields' tests, with lists as long as the size
# needs (and at most 100 items, Klaviyo's limit).

_WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
)  # fmt: skip
_SESSIONS_KEYS = (
    "app_version", "asn", "browser_name", "browser_version", "cdn", "content_category",
    "device_name", "device_os", "device_os_family", "geo_city_name", "geo_country_name",
    "geo_continent", "isp", "player_name", "video_asset_name",
)  # fmt: skip
_REPORT_FIELDS = {
    "klaviyo-flow-report": (
        "flow_id", "flow_name", "flow_message_id", "flow_message_name", "text_message_format",
        "variation", "variation_name",
    ),
    "klaviyo-campaign-report": (
        "campaign_id", "campaign_message_id", "campaign_message_name", "variation",
        "variation_name", "text_message_format",
    ),
}  # fmt: skip
_CHANNELS = ("email", "sms", "push-notification", "whatsapp")


def _word(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}-{rng.randrange(10_000)}"


def _values(rng: random.Random, count: int) -> str:
    """``count`` distinct quoted values, comma-separated."""
    chosen: list[str] = []
    while len(chosen) < count:
        word = _word(rng)
        if word not in chosen:
            chosen.append(word)
    return ", ".join(f"'{w}'" for w in chosen)


def _test(rng: random.Random, key: str, room: int, *, contains: bool = False) -> str:
    """A test of ``key`` about ``room`` characters long: ``==`` (or ``~~``) when little room is
    left, else an IN list long enough to fill it (at most 100 values)."""
    if room < 40:
        return f"{key} {'~~' if contains else '=='} '{_word(rng)}'"
    count = max(2, min(100, (room - len(key) - 8) // 15))
    return f"{key} IN ({_values(rng, count)})"


def _native_clauses(name: str, rng: random.Random, size: int) -> list[str]:
    """The clauses, ANDed, of one filter of about ``size`` characters for target ``name``."""
    clauses: list[str] = []
    if name == "conviva-sessions":
        # Different keys AND, a key's values OR: the built-in dimensions, then custom tags.
        keys = list(_SESSIONS_KEYS) + [f"tag_custom{i}" for i in range(200)]
        rng.shuffle(keys)
        per_key = max(24, size // 12)
        for key in keys:
            clauses.append(_test(rng, key, rng.randint(per_key // 2, per_key)))
            if len(" AND ".join(clauses)) >= size:
                break
        return clauses
    if name == "klaviyo":
        kinds = ("==", "~~", "IN", "number", "boolean")
        index = 0
        while len(" AND ".join(clauses)) < size:
            index += 1
            key = rng.choice((f"{rng.choice(_WORDS)}_{index}", f"properties.k{index}"))
            kind = rng.choice(kinds)
            if kind == "IN":
                clauses.append(f"{key} IN ({_values(rng, rng.randint(2, 6))})")
            elif kind == "number":
                clauses.append(f"{key} == {rng.randrange(1000)}")
            elif kind == "boolean":
                clauses.append(f"{key} == {rng.choice(('true', 'false'))}")
            else:
                clauses.append(f"{key} {kind} '{_word(rng)}'")
        return clauses
    if name in _REPORT_FIELDS:
        # One filter per field: its fields, send_channel and the tag lists, each a share.
        makers: list[Callable[[int], str]] = [
            lambda room: (
                "send_channel IN ("
                + ", ".join(f"'{c}'" for c in rng.sample(_CHANNELS, rng.randint(1, 3)))
                + ")"
            ),
            lambda room: f"tag_name ~~ '{_word(rng)}' AND tag_name ~~ '{_word(rng)}'",
            lambda room: _test(rng, "tag_id", room),
        ]
        makers += [functools.partial(_test, rng, field) for field in _REPORT_FIELDS[name]]
        rng.shuffle(makers)
        share = size if size <= 100 else size // 6
        for make in makers:
            room = size - len(" AND ".join(clauses))
            if room <= 0:
                break
            clauses.append(make(min(share, room)))
        return clauses
    if name in ("klaviyo-form-report", "klaviyo-segment-report"):
        # equals and any, one filter per field (the spec's rule): a larger filter has a list of
        # up to 100 longer ids.
        fields = ["form_id", "form_version_id"] if "form" in name else ["segment_id"]
        rng.shuffle(fields)
        share = size // len(fields)
        for field in fields:
            if share < 40:
                clauses.append(f"{field} == '{_word(rng)}'")
                continue
            count = max(2, min(100, (share - len(field) - 8) // 15))
            width = max(1, (share - len(field) - 6) // count - 4)
            chosen: list[str] = []
            while len(chosen) < count:
                word = (_word(rng) * (width // 8 + 1))[:width]
                if word not in chosen:
                    chosen.append(word)
            clauses.append(f"{field} IN (" + ", ".join(f"'{w}'" for w in chosen) + ")")
        return clauses
    if name == "klaviyo-metrics":
        # equals on two fields only: a larger filter has longer values.
        category = f"integration.category == '{_word(rng)}'"
        length = max(8, size - len(category) - len(" AND integration.name == ''"))
        words = " ".join(_word(rng) for _ in range(length // 8 + 1))
        return [f"integration.name == '{words[:length].strip()}'", category]
    raise ValueError(f"no native filters for target {name!r}")


def make_native_sets(name: str, seed: int = SEED) -> dict[str, list[str]] | None:
    """Filters of every size that target ``name`` accepts, or None for the targets the common
    sets already fit (``conviva-flow``, ``pandas``, ``polars``, ``python``, ``sql``)."""
    if name in ("conviva-flow", "pandas", "polars", "python", "sql"):
        return None
    rng = random.Random(f"{seed}-{name}")
    sets: dict[str, list[str]] = {}
    for size in SIZES:
        found: list[str] = []
        # Within twice the common sets' tolerance: clauses here are coarser (whole IN lists).
        slack = 2 * size.tolerance * size.target
        for _ in range(1000 * size.count):
            text = " AND ".join(_native_clauses(name, rng, size.target))
            if abs(len(text) - size.target) <= slack and text not in found:
                found.append(text)
                if len(found) == size.count:
                    break
        else:
            raise RuntimeError(f"could not make {size.name} filters for {name}")
        sets[size.name] = found
    return sets


def sort_filters(target: Target, trees: Sequence[Expr]) -> tuple[list[Expr], dict[str, int]]:
    """The trees ``target`` compiles, and the refused ones counted by their first code."""
    accepted: list[Expr] = []
    refused: dict[str, int] = {}
    for tree in trees:
        try:
            target.compile(tree)
        except UnsupportedError as error:
            refused[error.code] = refused.get(error.code, 0) + 1
        else:
            accepted.append(tree)
    return accepted, refused


def bench_compile(
    sets: dict[str, list[Query]],
    chosen: Sequence[Target],
    rounds: int,
    sample_seconds: float,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{target: {size: figures}}``: accepted and refused counts, and for a target that
    accepts at least one filter of the set, the median compile throughput."""
    trees = {name: [parse(q.flowql) for q in queries] for name, queries in sets.items()}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    passes: dict[tuple[str, str], Callable[[], object]] = {}
    for target in chosen:
        results[target.name] = {}
        for name, queries in sets.items():
            accepted, refused = sort_filters(target, trees[name])
            texts = {id(t): q.flowql for t, q in zip(trees[name], queries, strict=True)}
            chars = [len(texts[id(t)]) for t in accepted]
            results[target.name][name] = {
                "filters": len(queries),
                "accepted": len(accepted),
                "refused": len(queries) - len(accepted),
                "refused_by_code": dict(sorted(refused.items())),
                "mean_chars_accepted": round(statistics.mean(chars), 1) if chars else None,
                "rounds": rounds,
                "filters_per_s": None,
                "us_per_filter": None,
            }
            if not accepted:
                continue

            def one_pass(
                compile: Callable[[Expr], object] = target.compile,
                accepted: list[Expr] = accepted,
            ) -> None:
                for tree in accepted:
                    compile(tree)

            passes[(target.name, name)] = one_pass
    calls = {key: _calls_for(fn, sample_seconds) for key, fn in passes.items()}
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in passes}
    order = list(passes)
    rng = random.Random(SEED)
    for _ in range(rounds):
        rng.shuffle(order)  # interleaved, in a different order each round
        for key in order:
            samples[key].append(_time_calls(passes[key], calls[key]))
    for (target_name, name), times in samples.items():
        entry = results[target_name][name]
        per_pass = statistics.median(times)
        entry["filters_per_s"] = entry["accepted"] / per_pass
        entry["us_per_filter"] = per_pass / entry["accepted"] * 1e6
        entry["calls_per_sample"] = calls[(target_name, name)]
    return results


def bench_native(
    chosen: Sequence[Target],
    common: dict[str, dict[str, dict[str, Any]]],
    rounds: int,
    sample_seconds: float,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{target: {size: figures}}`` on each target's own filters (:func:`make_native_sets`),
    which it accepts all of; the targets the common sets fit keep their common figures."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for target in chosen:
        native = make_native_sets(target.name)
        if native is None:
            results[target.name] = common[target.name]
            continue
        sets = {size: [Query(text, "", 0) for text in texts] for size, texts in native.items()}
        results[target.name] = bench_compile(sets, [target], rounds, sample_seconds)[target.name]
    return results


def print_results(
    results: dict[str, dict[str, dict[str, Any]]],
    rounds: int,
    title: str = "Target.compile on parsed filters",
) -> None:
    print(f"{title}: compile throughput (median of {rounds} rounds)")
    print(
        f"   {'target':<25}{'size':<8}{'accepted':>10}{'mean chars':>12}"
        f"{'filters/s':>12}{'µs/filter':>11}  refused by code"
    )
    for target_name, sizes in results.items():
        for name, r in sizes.items():
            accepted = f"{r['accepted']}/{r['filters']}"
            chars = "-" if r["mean_chars_accepted"] is None else f"{r['mean_chars_accepted']:,.0f}"
            rate = "-" if r["filters_per_s"] is None else f"{r['filters_per_s']:,.0f}"
            us = "-" if r["us_per_filter"] is None else f"{r['us_per_filter']:,.1f}"
            codes = ", ".join(f"{c} {n}" for c, n in r["refused_by_code"].items()) or "-"
            print(
                f"   {target_name:<25}{name:<8}{accepted:>10}{chars:>12}{rate:>12}{us:>11}  {codes}"
            )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--rounds", type=_positive, help="rounds (default 100)")
    args = parser.parse_args(argv)

    rounds = args.rounds or (3 if args.quick else 100)
    sample_seconds = 0.002 if args.quick else 0.01

    env = print_header("compile")
    print()
    chosen = targets()
    results = bench_compile(make_sets(), chosen, rounds, sample_seconds)
    print_results(
        results, rounds, "1. The common sets (Conviva Flow filters): what each target accepts"
    )
    native = bench_native(chosen, results, rounds, sample_seconds)
    print_results(native, rounds, "2. Each target's own filters, of the same sizes: all accepted")

    if args.json:
        figures = {
            "sizes": {s.name: s.target for s in SIZES},
            "rounds": rounds,
            "targets": [t.name for t in chosen],
            "compile": results,
            "native": native,
        }
        write_report(args.json, argv, args.quick, env, SEED, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
