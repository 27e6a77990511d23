"""Writing files so that a user's data is never lost: the one atomic writer of flowql.

:func:`write_atomic` writes the new content to a temporary file beside the target, flushes it to
disk (fsync), then moves it into place, so the file is always either its old self or wholly the
new one, even if flowql is killed half-way. It never writes over an existing file unless told
to (``replace=True``); when it does replace one, the file keeps its permission bits.
``flowql fmt``, ``flowql check --fix``, ``flowql model pull --output`` and the REPL's ``:export``
all write through it.

:func:`read_regular` reads a local input (a filter, a manifest, a configuration, a data model)
and refuses what is not a regular file: a named pipe with no writer or a device such as
``/dev/zero`` would otherwise block or fill memory forever.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

__all__ = ["NotRegularFileError", "RefusedError", "read_regular", "write_atomic"]


class NotRegularFileError(OSError):
    """A path that names a named pipe, a device or a socket, not a file to read."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _is_null(status: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(null.st_mode) and status.st_rdev == null.st_rdev


def read_regular(path: str) -> bytes:
    """The bytes of the regular file at ``path``. Raises IsADirectoryError for a directory,
    :class:`NotRegularFileError` (strerror says what it is) for anything else that is not a
    regular file, and OSError as ``open`` does. ValueError (a NUL in ``path``) is passed on."""
    # O_NONBLOCK: opening a named pipe with no writer returns at once, so it can be refused;
    # checking the open descriptor, not the path, leaves no race between the check and the read.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        status = os.fstat(descriptor)
        mode = status.st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        if not stat.S_ISREG(mode):
            if stat.S_ISCHR(mode) and _is_null(os.fstat(descriptor)):
                return b""  # /dev/null, the usual "an empty file": it never blocks
            kind = _kind(mode)
            raise NotRegularFileError(errno.EINVAL, f"{kind}, not a regular file", path)
        # A regular file never blocks, O_NONBLOCK or not. Read with os.read, sized by fstat
        # (a file object costs more than the read of a small file), to the end: the file may
        # have grown since. A read of a regular file returns less than asked only at its end.
        chunks: list[bytes] = []
        want = status.st_size + 1
        while True:
            chunk = os.read(descriptor, want)
            chunks.append(chunk)
            if len(chunk) < want:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            want = max(want, 65536)
    finally:
        if descriptor >= 0:
            os.close(descriptor)


class RefusedError(OSError):
    """A file :func:`write_atomic` will not replace; ``strerror`` says why."""


def write_atomic(
    path: str, data: str | bytes, *, replace: bool = False, expect: bytes | None = None
) -> None:
    """Write ``data`` (text is UTF-8, newlines as given) to ``path`` atomically.

    With ``replace`` false, raises FileExistsError if ``path`` exists (checked by a hard link,
    which cannot race, where the file system has them). Raises OSError when the directory does
    not exist or cannot be written; a temporary file is never left behind.

    With ``replace``, a symbolic link is written through (its target gets the new text and the
    link stays), and :class:`RefusedError` is raised, the file left alone, for a file that is
    read-only, that has other hard links (a rename would cut them off), or, given ``expect``,
    whose content is no longer ``expect`` just before the rename (an edit saved meanwhile).
    """
    payload = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    if replace:
        path = os.path.realpath(path)
        _check_replaceable(path)
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".flowql-{secrets.token_hex(6)}.tmp")
    # 0o666 and the umask, as any new file; O_EXCL: never write through someone else's file.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            with contextlib.suppress(OSError):
                os.chmod(temporary, os.stat(path).st_mode & 0o7777)
            if expect is not None and _content(path) != expect:
                raise RefusedError(
                    errno.EAGAIN, "it changed while it was being formatted; run again", path
                )
            os.replace(temporary, path)
            _sync_directory(directory)
            return
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise
        except OSError:
            # No hard links here (some file systems): the check just made is the guard left.
            if os.path.lexists(path):
                raise FileExistsError(path) from None
            os.replace(temporary, path)
            _sync_directory(directory)
            return
        os.unlink(temporary)
        _sync_directory(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _check_replaceable(path: str) -> None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    # The mode bits, not os.access: root may write anything, but a 0444 file says "leave me".
    if not status.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise RefusedError(errno.EACCES, "it is read-only", path)
    if status.st_nlink > 1:
        raise RefusedError(
            errno.EMLINK,
            f"it has {status.st_nlink} hard links, which replacing it would break; "
            "format a copy and move it over the file yourself",
            path,
        )


def _content(path: str) -> bytes | None:
    try:
        return read_regular(path)
    except OSError:
        return None


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
