"""Shell completion: the scripts `flowql completion SHELL` prints, run by the real shells.

Each script is loaded into bash, zsh (through its bashcompinit, as the script sets up) or fish,
and asked what completes a command line, as the shell asks when Tab is pressed. The three shells
are Debian packages (.ci/run installs them); a missing one fails its test and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flowql.cli import build_parser
from flowql.cli.completion import commands, script

CASES: list[tuple[list[str], set[str], set[str]]] = [
    # words before the cursor, the word being completed; must include, must not include
    (["flowql", "ch"], {"check"}, {"compile", "fmt"}),
    (["flowql", ""], {"check", "fmt", "query", "repl", "completion", "model"}, {"--format"}),
    (["flowql", "check", "--fo"], {"--format"}, {"--fix-me"}),
    (["flowql", "check", "--format", ""], {"text", "json", "sarif"}, {"check"}),
    (["flowql", "model", ""], {"show", "pull"}, {"check"}),
    (["flowql", "model", "show", "--"], {"--help"}, {"--manifest"}),
    (["flowql", "compile", "--target", "klaviyo-f"], {"klaviyo-flow-report"}, {"sql"}),
    (["flowql", "check", "--select", "FQ1", "ex"], {"examples"}, set()),
    (["flowql", "completion", ""], {"bash", "zsh", "fish"}, set()),
    (["flowql", "check", "--model", "ex"], {"examples"}, set()),
    (["flowql", "parse", "--format", "j"], {"json"}, {"text"}),
]


def _shell(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"the completion tests need {name} (apt-get install {name})"
    return found


def _complete(shell: str, words: list[str], tmp_path: Path) -> set[str]:
    (tmp_path / "examples").mkdir(exist_ok=True)
    path = tmp_path / f"flowql.{shell}"
    path.write_text(script(shell, build_parser()), encoding="utf-8")
    quoted = " ".join("'" + w + "'" for w in words)
    if shell == "bash":
        program = (
            f"source {path}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _flowql; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        argv = [_shell("bash"), "--norc", "-c", program]
    elif shell == "zsh":
        # What zsh's _bash_complete does on Tab: the words, then compgen with the function.
        program = (
            f"source {path}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
            f"print -l -- $(compgen -F _flowql -- {words[-1]!r})"
        )
        argv = [_shell("zsh"), "-f", "-c", program]
    else:
        line = " ".join(words)
        program = f"source {path}; complete -C {line!r}"
        argv = [_shell("fish"), "--no-config", "-c", program]
    result = subprocess.run(
        argv, capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    found = {line.split("\t")[0].rstrip("/") for line in result.stdout.splitlines() if line}
    if shell == "zsh":  # zsh's compadd, not compgen, keeps the words that start as typed
        found = {word for word in found if word.startswith(words[-1])}
    return found


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize(("words", "wanted", "unwanted"), CASES)
def test_the_shell_completes_what_the_command_line_takes(
    shell: str, words: list[str], wanted: set[str], unwanted: set[str], tmp_path: Path
) -> None:
    got = _complete(shell, words, tmp_path)
    assert wanted <= got, (shell, words, sorted(got))
    assert not unwanted & got, (shell, words, sorted(unwanted & got))


def test_every_option_of_every_command_is_in_the_script() -> None:
    parser = build_parser()
    every = commands(parser)
    paths = {c.path for c in every}
    assert {"", "check", "fmt", "query", "repl", "model", "model show", "completion"} <= paths
    text = script("bash", parser)
    for command in every:
        for option in command.options:
            for flag in option.flags:
                assert f"'{command.path}|{flag}'" in text or f" {flag}" in text, flag


def test_flowql_completion_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    from flowql.cli import main

    assert main(["completion", "fish"]) == 0
    assert "complete -c flowql" in capsys.readouterr().out
    assert main(["completion", "tcsh"]) == 2
