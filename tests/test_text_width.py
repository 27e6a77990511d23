"""Display widths without wcwidth (a lint-only install: the client extra brings it) agree with
wcwidth's, from the standard library's Unicode tables."""

from __future__ import annotations

import unicodedata

from wcwidth import wcwidth

from flowql.display import _unicode_width

SAMPLES = "aé中文😀\u0300\u200bÅ한국어ｱ\u00adΩжא\u3000ー\u0600\u1161\u0903"


def test_the_unicode_tables_agree_with_wcwidth_on_common_text() -> None:
    for ch in SAMPLES:
        assert _unicode_width(ch) == max(wcwidth(ch), 0), repr(ch)


def test_the_unicode_tables_differ_from_wcwidth_only_by_unicode_version() -> None:
    # wcwidth follows a newer Unicode than Python's unicodedata: a few hundred symbols became
    # wide since (the trigrams, some emoji). Anything beyond that is a rule of wcwidth missed.
    differ = [
        cp
        for cp in range(0x20, 0x30000)
        if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")
        and _unicode_width(chr(cp)) != max(wcwidth(chr(cp)), 0)
    ]
    assert len(differ) < 300, [hex(cp) for cp in differ[:20]]
    assert all(unicodedata.category(chr(cp)) in ("So", "Lo", "No", "Cf") for cp in differ)
