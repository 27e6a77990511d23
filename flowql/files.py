"""Writing files so that a user's data is never lost: the one atomic writer of flowql.

:func:`write_atomic` writes the new content to a temporary file beside the target, flushes it to
disk (fsync), then moves it into place, so the file is always either its old self or wholly the
new one, even if flowql is killed half-way. It never writes over an existing file unless told
to (``replace=True``); when it does replace one, the file keeps its permission bits.
``flowql fmt``, ``flowql model pull --output`` and the REPL's ``:export`` all write through it.
"""

from __future__ import annotations

import contextlib
import os
import secrets

__all__ = ["write_atomic"]


def write_atomic(path: str, data: str | bytes, *, replace: bool = False) -> None:
    """Write ``data`` (text is UTF-8, newlines as given) to ``path`` atomically.

    With ``replace`` false, raises FileExistsError if ``path`` exists (checked by a hard link,
    which cannot race, where the file system has them). Raises OSError when the directory does
    not exist or cannot be written; a temporary file is never left behind.
    """
    payload = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
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
