"""Writing a chart to a file: :func:`save` (PNG, SVG or HTML, told by the file's name).

PNG and SVG are drawn by matplotlib (:mod:`flowql.plot.image`, the ``flowql[plot]`` extra);
HTML is a self-contained page around an inline SVG (:mod:`flowql.plot.html`). The file is
written through :func:`flowql.files.write_atomic`: it appears whole or not at all, and an
existing file is left as it is unless ``force``.
"""

from __future__ import annotations

import os

from flowql.diagnostics import did_you_mean
from flowql.plot.chart import plot_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.plot.chart import Chart

__all__ = ["FILE_TYPES", "SIZE", "file_type", "render", "save"]

FILE_TYPES = ("png", "svg", "html")
"""The kinds of file a chart is written as, by extension."""

SIZE = (960, 540)
"""A picture's size in pixels (width, height), unless told otherwise."""


def file_type(path: str) -> str:
    """The file type of ``path`` (``png``, ``svg`` or ``html``; ``.htm`` is ``html``), from
    its extension. Raises :class:`~flowql.plot.chart.PlotError` (FQ805) for another one."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension == "htm":
        return "html"
    if extension in FILE_TYPES:
        return extension
    if not extension:
        raise plot_error(
            f"cannot tell what kind of picture '{path}' is from its name",
            "name it .png, .svg or .html",
        )
    raise plot_error(
        f"'.{extension}' is not a kind of picture flowql writes",
        (did_you_mean(extension, FILE_TYPES) or "") + " name it .png, .svg or .html",
    )


def render(chart: Chart, fmt: str, *, size: tuple[int, int] = SIZE) -> bytes:
    """``chart`` as the bytes of a ``png``, ``svg`` or ``html`` file of ``size`` pixels."""
    if fmt == "html":
        from flowql.plot.html import page

        return page(chart, size=size).encode("utf-8")
    if fmt not in FILE_TYPES:
        raise plot_error(
            f"'{fmt}' is not a kind of picture flowql writes", did_you_mean(fmt, FILE_TYPES)
        )
    from flowql.plot.image import draw

    return draw(chart, fmt, size=size)


def save(chart: Chart, path: str, *, force: bool = False, size: tuple[int, int] = SIZE) -> str:
    """Write ``chart`` to ``path`` (its type from the extension) and return a line saying so.
    Raises :class:`~flowql.plot.chart.PlotError`: an unknown extension, a file that exists
    (unless ``force``), a directory that cannot be written, matplotlib not installed (FQ806)."""
    fmt = file_type(path)
    target = os.path.expanduser(path)
    if os.path.isdir(target):
        raise plot_error(f"'{path}' is a directory", "give a file name: DIR/chart.png")
    exists = plot_error(
        f"'{path}' exists: it was left as it is", "give another name, or replace it with --force"
    )
    if os.path.lexists(target) and not force:
        raise exists
    data = render(chart, fmt, size=size)
    from flowql.files import write_atomic

    try:
        write_atomic(target, data, replace=force)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        raise plot_error(f"cannot write '{path}': {exc.strerror or exc}") from None
    count = chart.points()
    values = f"{count} value{'' if count == 1 else 's'}"
    return f"wrote a {chart.kind} chart of {values} to {path} ({fmt})"
