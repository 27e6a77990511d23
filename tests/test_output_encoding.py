"""Output on a terminal whose encoding cannot show every character (``PYTHONIOENCODING=cp1252``,
``ascii``): ``flowql check``, ``query`` and ``repl`` exit with their normal codes, replace what
cannot be shown, say so once on stderr, and never print a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENCODINGS = ("cp1252", "ascii")


def flowql(encoding: str, *argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_CLIENT_SECRET"))}
    env.update(PYTHONIOENCODING=encoding, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-m", "flowql", *argv],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=90,
        cwd=ROOT,
    )
    return done.returncode, done.stdout.decode(encoding), done.stderr.decode(encoding)


def note(encoding: str) -> str:
    return (
        f"flowql: note: this terminal's encoding ({encoding}) cannot show some characters; "
        "they are shown as ?\n"
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_check_shows_a_cjk_filter_replaced(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "f.flowql"
    path.write_text("geo_country == '日本' and\n", encoding="utf-8")
    code, out, err = flowql(encoding, "check", str(path))
    assert code == 1  # one finding, as with any terminal
    assert "Traceback" not in out + err
    assert "1 | geo_country == '??' and" in out
    assert err.count("flowql: note:") == 1
    assert err == note(encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_query_with_a_cjk_filter_says_why_and_exits_as_usual(encoding: str) -> None:
    argv = ["query", "conviva-flow", "real-time", "--flow", "825", "--filter", "日本 == 'x'"]
    code, out, err = flowql(encoding, *argv)
    assert code == 1  # a filter that does not parse, as on a UTF-8 terminal
    assert "Traceback" not in err
    assert "1 | ?? == 'x'" in err
    assert err.count("flowql: note:") == 1
    assert out == ""


def test_query_results_an_ascii_terminal_cannot_show_are_replaced() -> None:
    code, out, err = flowql("ascii", "query", "flowxo", "top-messages", "--limit", "100")
    assert code == 0
    assert "Traceback" not in err
    assert "?hablas espa?ol?" in out  # the sandbox's "¿hablas español?"
    assert err.count("flowql: note:") == 1
    assert note("ascii") in err


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_repl_script_with_cjk_exits_as_usual(encoding: str) -> None:
    script = "geo_country == '日本'\n:target\n".encode()
    code, out, err = flowql(encoding, "repl", stdin=script)
    assert code == 0
    assert "Traceback" not in out + err
    assert "conviva-flow" in out
