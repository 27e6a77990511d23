"""Hostile local inputs: TOML and JSON nested thousands deep or holding huge integers, named
pipes and devices where a file is expected, a NUL in a path, a history file that is a device or
cannot be written. Each ends in flowql's own error with a hint (or a warning), never a
traceback, a hang or memory filled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import failed, tried
from prompt_toolkit.history import FileHistory

import flowql.repl.app as app
from flowql.checker.config import ConfigError, load_config
from flowql.checker.manifest import ManifestError, load_manifest
from flowql.cli import main
from flowql.errors import FlowQLError
from flowql.model import ModelError, load_model
from flowql.repl.commands import execute
from flowql.repl.session import CommandError, Session

DEEP_ARRAY = "[" * 3000 + "]" * 3000
DEEP_TABLE = "{a = " * 3000 + "1" + "}" * 3000
HUGE = "9" * 5000
TOML_VALUES = {"deep-array": DEEP_ARRAY, "deep-table": DEEP_TABLE, "huge-int": HUGE}
JSON_TEXTS = {"deep-array": DEEP_ARRAY, "deep-object": '{"a": ' * 3000 + "1" + "}" * 3000}
JSON_TEXTS["huge-int"] = '{"flow_models": [], "n": ' + HUGE + "}"


def expect(promise: bool) -> None:
    """One hostile input tried; a broken promise is counted, then fails the test."""
    tried("inputs")
    if not promise:
        failed("inputs")
    assert promise


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    expect("Traceback" not in err)
    return code, out, err


# --- TOML and JSON nested deep, or with integers too long to convert ----------------------------


@pytest.mark.parametrize("kind", sorted(TOML_VALUES))
def test_a_hostile_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    config = tmp_path / "flowql.toml"
    config.write_text(f"x = {TOML_VALUES[kind]}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(config))
    expect(caught.value.code == "FQ803" and caught.value.diagnostics[0].hint is not None)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "check", "-e", "cdn == 'x'")
    expect(code == 2 and "error[FQ803]" in err and "flowql.toml" in err)


@pytest.mark.parametrize("kind", sorted(TOML_VALUES))
def test_a_hostile_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.flowql]\nx = {TOML_VALUES[kind]}\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "fmt", "-e", "cdn == 'x'")
    expect(code == 2 and "error[FQ803]" in err)


@pytest.mark.parametrize("kind", sorted(TOML_VALUES))
def test_a_hostile_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    manifest = tmp_path / "queries.toml"
    manifest.write_text(f"[[query]]\nname = 'q'\nfilter = 'cdn == 1'\nx = {TOML_VALUES[kind]}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(str(manifest))
    expect(caught.value.code == "FQ802" and caught.value.diagnostics[0].hint is not None)
    code, _, err = run(capsys, "check", "--config", os.devnull, str(manifest))
    expect(code == 2 and "FQ802" in err + _)


@pytest.mark.parametrize("kind", sorted(JSON_TEXTS))
def test_a_hostile_data_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    model = tmp_path / "model.json"
    model.write_text(JSON_TEXTS[kind])
    with pytest.raises(ModelError) as caught:
        load_model(str(model))
    expect(caught.value.code == "FQ801" and caught.value.diagnostics[0].hint is not None)
    code, _, err = run(capsys, "check", "--config", os.devnull, "--model", str(model), "-e", "a")
    expect(code == 2 and "error[FQ801]" in err)
    # The REPL's :model: flowql's own error, which the REPL shows.
    with pytest.raises(FlowQLError) as in_repl:
        execute(Session(), f":model {model}")
    expect(in_repl.value.code == "FQ801")


# --- named pipes, devices, NUL --------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["parse"], ["check"], ["fmt"], ["compile", "--target", "conviva-flow"]]
)
def test_a_named_pipe_with_no_writer_is_refused(tmp_path: Path, command: list[str]) -> None:
    pipe = tmp_path / "pipe.flowql"
    os.mkfifo(pipe)
    # A child process with a timeout: before the fix, reading the pipe blocked for ever.
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flowql", *command, str(pipe)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        expect(False)
        return
    expect(done.returncode == 2 and "Traceback" not in done.stderr)
    expect("a named pipe, not a regular file" in done.stderr)


def test_a_named_pipe_as_model_or_config_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for args in (["--model", str(pipe)], ["--config", str(pipe)]):
        done = subprocess.run(
            [sys.executable, "-m", "flowql", "check", *args, "-e", "cdn == 'x'"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        expect(done.returncode == 2 and "a named pipe, not a regular file" in done.stderr)


def test_stdin_is_still_read(capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowql", "parse", "-"],
        input="cdn == 'x'\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    expect(done.returncode == 0 and "cdn" in done.stdout)


def _memory_bound() -> None:
    # Before the fix /dev/zero was read until memory ran out: bound the child to 1 GB.
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_a_device_is_refused_but_dev_null_reads_as_empty() -> None:
    args = ["check", "--config", os.devnull]
    for extra, code, said in (
        (["--model", "/dev/zero", "-e", "a"], 2, "a device, not a regular file"),
        (["-e", "cdn == 'x'"], 0, ""),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "flowql", *args, *extra],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_memory_bound,
        )
        expect(done.returncode == code and said in done.stderr)


def test_model_with_a_nul_in_the_path_is_a_command_error() -> None:
    with pytest.raises(CommandError) as caught:
        execute(Session(), ":model a\0b.json")
    expect(caught.value.diagnostics[0].hint is not None)
    with pytest.raises(ModelError):
        load_model("a\0b.json")
    tried("inputs")


def test_a_nul_in_a_path_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "parse", "a\0b.flowql")
    expect(code == 2 and "NUL" in err)
    code, _, err = run(capsys, "check", "--model", "m\0.json", "-e", "a")
    expect(code == 2 and "NUL" in err)


# --- the REPL's history file ----------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full"])
def test_a_history_that_is_a_device_is_kept_in_memory(
    device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    history = app._history(device)
    # Not a file history: /dev/zero would be read for ever, /dev/full fails every write.
    expect(not isinstance(history, FileHistory))
    expect("not a regular file" in capsys.readouterr().err)
    history.store_string("cdn == 'x'")
    expect(list(history.load_history_strings()) == ["cdn == 'x'"])


def test_the_history_is_read_up_to_a_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "HISTORY_READ_LIMIT", 1000)
    path = tmp_path / "history"
    path.write_text("".join(f"\n# 2026-01-01\n+line {i}\n" for i in range(500)))
    lines = list(app._history(str(path)).load_history_strings())
    expect(lines[0] == "line 499")
    expect(0 < len(lines) < 100)  # only the end of the file was read
    expect(all(line.startswith("line ") for line in lines))  # no cut entry


def test_a_history_write_that_fails_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history"
    history = app._history(str(path))
    path.unlink()
    path.mkdir()  # every write now fails (as on a full disk)
    history.store_string("one")
    history.store_string("two")
    err = capsys.readouterr().err
    expect(err.count("cannot write the history") == 1 and "Traceback" not in err)
