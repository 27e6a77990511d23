"""Hostile file systems for ``flowql fmt`` and ``flowql check``: links, read-only files, edits
saved while formatting, full disks, directories that cannot be read. No file is lost or skipped
in silence, and no traceback is ever printed.

The tests run as root here, and root reads and writes a 000 or 0444 path anyway: where a path
must be unreadable or unwritable, the system call is made to fail for that one path instead.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import failed, tried

import flowql.formatter
from flowql.cli import main

UNFORMATTED = "a==1\n"
FORMATTED = "a == 1\n"


def expect(promise: bool) -> None:
    """One hostile input tried; a broken promise is counted, then fails the test."""
    tried("files")
    if not promise:
        failed("files")
    assert promise


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    expect("Traceback" not in err)
    return code, out, err


def run_bounded(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """:func:`run`, failed by SIGALRM after 20 s rather than hanging the suite."""

    def timed_out(signum: int, frame: object) -> None:
        raise TimeoutError("flowql blocked reading its input")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(20)
    try:
        return run(capsys, *args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- fmt: links, permissions, concurrent edits -------------------------------------------------


def test_fmt_writes_through_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "real.flowql"
    target.write_text(UNFORMATTED)
    link = tmp_path / "link.flowql"
    link.symlink_to(target.name)
    code, _, _ = run(capsys, "fmt", str(link))
    expect(code == 0)
    expect(link.is_symlink())  # still a link, not a regular file beside its target
    expect(target.read_text() == FORMATTED)


def test_fmt_refuses_to_break_a_hard_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.flowql"
    one.write_text(UNFORMATTED)
    other = tmp_path / "other.flowql"
    os.link(one, other)
    code, _, err = run(capsys, "fmt", str(one))
    expect(code == 2)
    expect(f"{one}: not written" in err and "hard links" in err)
    expect(os.stat(one).st_ino == os.stat(other).st_ino)  # still one file
    expect(one.read_text() == UNFORMATTED)


def test_fmt_leaves_a_read_only_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "locked.flowql"
    path.write_text(UNFORMATTED)
    path.chmod(0o444)
    code, _, err = run(capsys, "fmt", str(path))
    expect(code == 2)
    expect(f"{path}: not written (it is read-only)" in err)
    expect(path.read_text() == UNFORMATTED)
    expect(stat.S_IMODE(path.stat().st_mode) == 0o444)


def test_fmt_keeps_the_file_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "private.flowql"
    path.write_text(UNFORMATTED)
    path.chmod(0o640)
    code, _, _ = run(capsys, "fmt", str(path))
    expect(code == 0 and path.read_text() == FORMATTED)
    expect(stat.S_IMODE(path.stat().st_mode) == 0o640)


def test_fmt_does_not_overwrite_an_edit_saved_meanwhile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "edited.flowql"
    path.write_text(UNFORMATTED)
    real = flowql.formatter.format_file

    def format_while_the_user_saves(text: str, **options: Any) -> str:
        path.write_text("b==2\n")  # the editor saves while fmt formats the old text
        return real(text, **options)

    monkeypatch.setattr(flowql.formatter, "format_file", format_while_the_user_saves)
    code, _, err = run(capsys, "fmt", str(path))
    expect(code == 2)
    expect(f"{path}: not written (it changed while it was being formatted" in err)
    expect(path.read_text() == "b==2\n")


def test_fmt_syncs_the_new_text_before_the_rename_and_the_directory_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "durable.flowql"
    path.write_text(UNFORMATTED)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    code, _, _ = run(capsys, "fmt", str(path))
    expect(code == 0 and path.read_text() == FORMATTED)
    expect(events == ["fsync-file", "rename", "fsync-dir"])


def _failing_open(
    monkeypatch: pytest.MonkeyPatch, directory: Path, error: int
) -> Callable[..., int]:
    """os.open fails with ``error`` for temporary files in ``directory`` (root ignores a
    read-only directory, and a full disk cannot be had on demand)."""
    real = os.open

    def fake(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if os.path.dirname(os.fspath(path)) == str(directory) and ".flowql-" in os.fspath(path):
            raise OSError(error, os.strerror(error), os.fspath(path))
        return real(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", fake)
    return fake


@pytest.mark.parametrize("error", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_fmt_reports_a_file_it_cannot_write_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    stuck = tmp_path / "a-stuck"
    fine = tmp_path / "b-fine"
    stuck.mkdir()
    fine.mkdir()
    (stuck / "x.flowql").write_text(UNFORMATTED)
    (fine / "y.flowql").write_text(UNFORMATTED)
    _failing_open(monkeypatch, stuck, error)
    code, _, err = run(capsys, "fmt", str(tmp_path))
    expect(code == 2)
    expect(f"{stuck / 'x.flowql'}: not written ({os.strerror(error)})" in err)
    expect((stuck / "x.flowql").read_text() == UNFORMATTED)
    expect((fine / "y.flowql").read_text() == FORMATTED)  # the files after it are formatted
    expect(sorted(os.listdir(stuck)) == ["x.flowql"])  # no temporary file left


def test_fmt_reports_a_full_disk_while_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.flowql"
    path.write_text(UNFORMATTED)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run(capsys, "fmt", str(path))
    expect(code == 2 and f"{path}: not written (No space left on device)" in err)
    expect(path.read_text() == UNFORMATTED)
    expect(os.listdir(tmp_path) == ["full.flowql"])


# --- check and fmt: unreadable paths are errors --------------------------------------------------


def _unlistable(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """os.scandir (what os.walk lists with) refuses ``directory``, as for a 000 directory
    when not root."""
    real = os.scandir

    def fake(path: Any = ".") -> Any:
        if os.path.abspath(os.fspath(path)) == str(directory):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", fake)


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_an_unreadable_subdirectory_is_an_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.flowql").write_text("cdn == 'x'\n")
    hidden = tmp_path / "locked"
    hidden.mkdir()
    (hidden / "broken.flowql").write_text("cdn ==\n")
    _unlistable(monkeypatch, hidden)
    code, _, err = run(capsys, command, ".")
    expect(code == 2)
    expect("locked: cannot read (Permission denied)" in err)


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_broken_link_and_a_named_pipe_in_a_directory_are_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.flowql").write_text("cdn == 'x'\n")
    (tmp_path / "dangling.flowql").symlink_to("nowhere.flowql")
    os.mkfifo(tmp_path / "pipe.flowql")  # no writer: reading it would block for ever
    code, _, err = run_bounded(capsys, command, ".")
    expect(code == 2)
    expect("dangling.flowql: no such file" in err)
    expect("pipe.flowql: cannot read (a named pipe, not a regular file)" in err)
    if command == "check":
        expect("good.flowql" not in err)  # the readable file was still checked
