"""benchmarks/compare_check.py works: a quick run of this tree against itself gives every figure.

Nothing here asserts how fast anything is, nor which tree is faster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmark_scripts import BENCHMARKS, REPO, positive


def test_a_quick_comparison_reports_every_figure(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "compare_check.py"),
            "--base",
            str(REPO),
            "--quick",
            "--rounds",
            "1",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "cold start  base" in done.stdout
    figures = json.loads(report.read_text("utf-8"))
    assert figures["filters"] == 200
    for key in ("cold_start_this_over_base", "throughput_this_over_base"):
        assert positive(figures[key]), key
    assert set(figures["median_s"]) == {
        "python -c pass",
        "base cold start",
        "this cold start",
        "base check",
        "this check",
    }
