"""What the tests of the benchmark scripts share: loading a script as a module, one quick run
of it with its JSON report, and the check that a figure is a positive number."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


@contextlib.contextmanager
def loaded(name: str) -> Iterator[ModuleType]:
    """``benchmarks/<name>.py`` as a module, able to import its neighbours (``bench_parse``) as
    it does when run as a script; everything it added to ``sys`` is taken out after."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    added = str(BENCHMARKS) not in sys.path
    if added:
        sys.path.insert(0, str(BENCHMARKS))
    had_parse = "bench_parse" in sys.modules
    sys.modules[name] = module  # dataclasses look their module up while being made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]
        if not had_parse and name != "bench_parse":
            sys.modules.pop("bench_parse", None)
        if added:
            sys.path.remove(str(BENCHMARKS))


def quick_run(name: str, out: Path, *args: str, timeout: float = 120) -> tuple[str, dict[str, Any]]:
    """Run ``benchmarks/<name>.py --quick --json OUT ARGS...``; its stdout and its report."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick", "--json", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return done.stdout, report


def positive(value: object) -> bool:
    """A positive int or float (not a bool): what a count or a timing in a report must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
