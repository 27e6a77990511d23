"""Session-wide hooks: the Klaviyo contract counts and the hostile suite's counts at the end of
the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the run (tests/spark_engine.py), stopped at its end."""
    from spark_engine import start

    session = start()
    yield session
    session.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many Klaviyo requests and answers were validated against the spec, per
    operation and revision, and how many filters each SQL engine was compared on (only when
    those tests ran)."""
    import sys

    contract = sys.modules.get("klaviyo_contract")
    if contract is not None and contract.TALLY:
        terminalreporter.section("klaviyo contract")
        for line in contract.summary_lines():
            terminalreporter.write_line(line)
    hostile = sys.modules.get("hostile")
    if hostile is not None and hostile.TALLY:
        terminalreporter.section("hostile inputs")
        for line in hostile.summary_lines():
            terminalreporter.write_line(line)
    engines = sys.modules.get("test_sql_engines")
    if engines is not None and any(engines.COUNTS.values()):
        terminalreporter.section("sql engines")
        for line in engines.summary_lines():
            terminalreporter.write_line(line)
