"""The hostile-input suite's tally: per area, how many hostile inputs were tried and how many
broke a promise (a traceback, a leaked secret, a lost window, a request past its time bound).

Test support code. A hostile test records each input it tries with :func:`tried` and each
broken promise with :func:`failed` (then fails); ``tests/conftest.py`` prints the counts at the
end of the session, one line per area::

    hostile: secrets: 412 inputs, 0 failures
"""

from __future__ import annotations

from collections import Counter

__all__ = ["TALLY", "failed", "summary_lines", "tried"]

TALLY: dict[str, Counter[str]] = {}
"""area -> {"tried": n, "failures": n}."""


def tried(area: str, count: int = 1) -> None:
    """``count`` more hostile inputs tried in ``area`` (``secrets``, ``servers``, ``files``...)."""
    TALLY.setdefault(area, Counter())["tried"] += count


def failed(area: str, count: int = 1) -> None:
    """``count`` broken promises found in ``area``."""
    TALLY.setdefault(area, Counter())["failures"] += count


def summary_lines() -> list[str]:
    """One line per area, sorted by name."""
    return [
        f"hostile: {area}: {c['tried']} inputs, {c['failures']} failures"
        for area, c in sorted(TALLY.items())
    ]
