"""The project's promises to a newcomer: the README's commands, CI, lint and types."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)


def test_quick_start_has_exactly_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert commands[0].startswith("pip install . && flowql ")
    assert commands[1] == 'pip install -e ".[dev]" && python -m pytest'


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_the_main_job_command_works_on_built_in_defaults(tmp_path: Path) -> None:
    # The install half is tested by test_wheel.py; here, the flowql half, as a user runs it.
    command = quick_start_commands()[0].split(" && ", 1)[1]
    argv = shlex.split(command)
    assert argv[0] == "flowql"
    flowql = shutil.which("flowql", path=str(Path(sys.executable).parent))
    assert flowql is not None
    result = subprocess.run(
        [flowql, *argv[1:]], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("All checks passed")


def test_readme_links_point_at_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#]+)\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert local
    missing = [link for link in local if not (ROOT / link).exists()]
    assert missing == []


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_ruff_check_is_clean() -> None:
    result = _tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _tool("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
