"""Shell completion scripts for bash, zsh and fish, generated from the command line's own parser.

``flowql completion SHELL`` prints a script that a shell loads once (from its startup file or
completion directory); completing then runs in the shell alone and never starts Python, so it
costs flowql's start-up nothing. The script knows every command and subcommand, each one's
options, the choices of an option that has them, and which options and arguments take a path.
It is made from :func:`flowql.cli.build_parser`, so it can never list an option the command
line does not have.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["SHELLS", "Command", "commands", "script"]

SHELLS = ("bash", "zsh", "fish")

FILES = "__files__"
"""What an option or argument that takes a path completes with: the shell's file names."""

_PATH_WORDS = re.compile(r"PATH|FILE|DIR|MANIFEST|MODEL|CONFIG")


@dataclass
class Option:
    """One option of a command: its spellings, what it completes with, and its help."""

    flags: tuple[str, ...]
    takes_value: bool
    values: tuple[str, ...] = ()
    help: str = ""


@dataclass
class Command:
    """A command (``check``), a subcommand (``model show``), or the program itself (``""``)."""

    path: str
    help: str = ""
    options: list[Option] = field(default_factory=list)
    subcommands: dict[str, str] = field(default_factory=dict)
    files: bool = False
    """Whether its positional arguments are paths."""
    arguments: tuple[str, ...] = ()
    """The choices of its positional argument, when it has them (``completion bash``)."""


def _values(action: argparse.Action) -> tuple[str, ...]:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return tuple(str(choice) for choice in action.choices)
    shown = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if shown in ("TARGET", "TARGETS"):
        from flowql.targets import targets

        return tuple(t.name for t in targets())
    return (FILES,) if _PATH_WORDS.search(shown) else ()


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    """Every command of ``parser``, the program itself first, then depth first."""
    found: list[Command] = []

    def visit(node: argparse.ArgumentParser, path: str, help_text: str) -> None:
        command = Command(path, help_text)
        found.append(command)
        children: list[tuple[str, argparse.ArgumentParser, str]] = []
        for action in node._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help or "" for a in action._choices_actions}
                for name, sub in action.choices.items():
                    command.subcommands[name] = helps.get(name, "")
                    children.append((name, sub, helps.get(name, "")))
            elif action.option_strings:
                if action.help == argparse.SUPPRESS:
                    continue
                command.options.append(
                    Option(
                        tuple(action.option_strings),
                        action.nargs != 0,
                        _values(action) if action.nargs != 0 else (),
                        (action.help or "").replace("%%", "%"),
                    )
                )
            elif _values(action) == (FILES,):
                command.files = True
            elif action.choices is not None:
                command.arguments = _values(action)
        for name, sub, text in children:
            visit(sub, f"{path} {name}".strip(), text)

    visit(parser, "", parser.description or "")
    return found


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script of ``flowql`` for ``shell`` (one of :data:`SHELLS`)."""
    every = commands(parser)
    if shell == "fish":
        return _fish(every)
    bash = _bash(every)
    if shell == "bash":
        return bash
    return _ZSH_PRELUDE + bash


def _bash_word(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _cases(rows: Iterator[tuple[str, str]], default: str) -> list[str]:
    lines = ['    case "$1|$2" in']
    for pattern, body in rows:
        lines.append(f"        {_bash_word(pattern)}) {body} ;;")
    lines.append(f"        *) {default} ;;")
    lines.append("    esac")
    return lines


def _bash(every: list[Command]) -> str:
    takes = (
        (f"{c.path}|{flag}", "return 0")
        for c in every
        for o in c.options
        if o.takes_value
        for flag in o.flags
    )
    values = (
        (f"{c.path}|{flag}", f"echo {_bash_word(' '.join(o.values))}")
        for c in every
        for o in c.options
        if o.values
        for flag in o.flags
    )
    subcommand = ((f"{c.path}|{name}", "return 0") for c in every for name in c.subcommands)
    words = []
    for c in every:
        listed = [*c.subcommands, *c.arguments, *(flag for o in c.options for flag in o.flags)]
        words.append((f"{c.path}|", f"echo {_bash_word(' '.join(listed))}"))
    files = ((f"{c.path}|", "return 0") for c in every if c.files and not c.subcommands)
    lines = [
        "# flowql completion for bash: made by `flowql completion bash`.",
        '# Load it from ~/.bashrc: eval "$(flowql completion bash)", or save it as',
        "# ~/.local/share/bash-completion/completions/flowql.",
        "_flowql_takes_value() {",
        *_cases(takes, "return 1"),
        "}",
        "_flowql_values() {",
        *_cases(values, "return 1"),
        "}",
        "_flowql_is_subcommand() {",
        *_cases(subcommand, "return 1"),
        "}",
        "_flowql_words() {",
        *_cases(iter(words), "return 1"),
        "}",
        "_flowql_takes_files() {",
        *_cases(files, "return 1"),
        "}",
        "_flowql() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" path="" word option="" i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        '        if [[ -n "$option" ]]; then option=""; continue; fi',
        '        case "$word" in',
        '            -*) _flowql_takes_value "$path" "$word" && option="$word" ;;',
        '            *) _flowql_is_subcommand "$path" "$word" && path="${path:+$path }$word" ;;',
        "        esac",
        "    done",
        '    if [[ -n "$option" ]]; then',
        '        local values; values="$(_flowql_values "$path" "$option")"',
        f'        if [[ "$values" == "{FILES}" ]]; then',
        '            COMPREPLY=($(compgen -f -- "$cur"))',
        '        elif [[ -n "$values" ]]; then',
        '            COMPREPLY=($(compgen -W "$values" -- "$cur"))',
        "        else",
        "            COMPREPLY=()",
        "        fi",
        '    elif [[ "$cur" == -* ]] || ! _flowql_takes_files "$path" ""; then',
        '        COMPREPLY=($(compgen -W "$(_flowql_words "$path" "")" -- "$cur"))',
        "    else",
        '        COMPREPLY=($(compgen -f -- "$cur"))',
        "    fi",
        "}",
        "complete -o filenames -o bashdefault -F _flowql flowql",
    ]
    return "\n".join(lines) + "\n"


_ZSH_PRELUDE = """\
# flowql completion for zsh: made by `flowql completion zsh`. Load it from ~/.zshrc:
# eval "$(flowql completion zsh)". It is the bash script, run by zsh's bashcompinit.
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
"""


def _fish_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish(every: list[Command]) -> str:
    names = {c.path: c for c in every}
    lines = [
        "# flowql completion for fish: made by `flowql completion fish`. Save it as",
        "# ~/.config/fish/completions/flowql.fish, or: flowql completion fish | source",
        "complete -c flowql -f",
    ]
    for command in every:
        words = command.path.split()
        # Where this command's words apply: after its path, before any of its subcommands.
        conditions = [f"__fish_seen_subcommand_from {word}" for word in words]
        if not words:
            conditions = ["__fish_use_subcommand"]
        elif command.subcommands:
            conditions.append("not __fish_seen_subcommand_from " + " ".join(command.subcommands))
        parent = names.get(" ".join(words[:-1]))
        if parent is not None and words:
            siblings = [s for s in parent.subcommands if s != words[-1]]
            if siblings:
                conditions.append("not __fish_seen_subcommand_from " + " ".join(siblings))
        when = _fish_text("; and ".join(conditions))
        for name, help_text in command.subcommands.items():
            lines.append(f"complete -c flowql -n {when} -a {name} -d {_fish_text(help_text)}")
        for option in command.options:
            spelled = []
            for flag in option.flags:
                if flag.startswith("--"):
                    spelled.append(f"-l {flag[2:]}")
                else:
                    spelled.append(f"-s {flag[1:]}")
            value = ""
            if option.values == (FILES,):
                value = " -r -F"
            elif option.values:
                value = f" -x -a {_fish_text(' '.join(option.values))}"
            elif option.takes_value:
                value = " -x"
            lines.append(
                f"complete -c flowql -n {when} {' '.join(spelled)}{value} "
                f"-d {_fish_text(option.help)}"
            )
        if command.files and not command.subcommands:
            lines.append(f"complete -c flowql -n {when} -F")
        if command.arguments:
            shown = _fish_text(" ".join(command.arguments))
            lines.append(f"complete -c flowql -n {when} -a {shown}")
    return "\n".join(lines) + "\n"
