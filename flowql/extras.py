"""Optional libraries (the extras of ``pip install 'flowql[...]'``), imported only when used.

:func:`require` is the one way flowql imports a library that an extra brings (pyarrow, pandas,
polars, matplotlib): at the point of use, never at start-up, so ``flowql check`` and every
command that needs none of them never pays for them. :func:`require_extra` checks a whole
command's extra (``client`` for queries, ``repl`` for the REPL, ``server`` for the language
server) before the command starts.
When one is missing, the error is a diagnostic (FQ806 ``missing-extra``) that names the extra
to install, never a traceback.
"""

from __future__ import annotations

import importlib

from flowql.diagnostics import Diagnostic
from flowql.errors import FlowQLError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["EXTRA_MODULES", "MissingExtraError", "missing_extra", "require", "require_extra"]

EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "client": ("h11", "httpx", "sniffio", "wcwidth"),
    "repl": ("prompt_toolkit", "pygments", "platformdirs", "h11", "httpx", "sniffio", "wcwidth"),
    "server": ("pygls", "lsprotocol"),
}
"""The modules a whole command's extra brings (pyproject.toml's lists, by import name)."""


class MissingExtraError(FlowQLError):
    """An optional library a command needs is not installed (FQ806); the hint says which
    extra brings it."""


def missing_extra(module: str, extra: str, purpose: str, also: str = "") -> Diagnostic:
    """The FQ806 diagnostic for ``module`` (of the ``extra`` extra), needed for ``purpose``
    (a plural: "Parquet files", "PNG pictures"); ``also`` is added to the hint."""
    name = module.split(".")[0]
    hint = f"pip install 'flowql[{extra}]'" + (f" {also}" if also else "")
    return Diagnostic("FQ806", f"{purpose} need {name}, which is not installed", None, hint=hint)


def require(module: str, extra: str, purpose: str, *, also: str = "") -> ModuleType:
    """``module``, imported; :class:`MissingExtraError` (FQ806, with ``pip install
    'flowql[<extra>]'`` as its hint) when it cannot be imported."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(missing_extra(module, extra, purpose, also)) from None


def require_extra(extra: str, purpose: str) -> None:
    """Nothing when every module of ``extra`` (:data:`EXTRA_MODULES`) can be imported;
    :class:`MissingExtraError` (FQ806) naming the first one missing otherwise. Said before a
    command starts, so that it never fails half way. Looks the modules up without importing
    them."""
    from importlib.util import find_spec

    for module in EXTRA_MODULES[extra]:
        if find_spec(module) is None:
            raise MissingExtraError(missing_extra(module, extra, purpose))
