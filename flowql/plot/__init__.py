"""Pictures of results: in a terminal (:func:`text_chart`) and as files (:func:`save`).

:func:`chart_of` turns a result into a :class:`Chart` (lines for a series over time, bars for
groups, with title, axis labels and unit); :func:`text_chart` draws it as text with no library;
:func:`save` writes it as PNG or SVG (through matplotlib, the ``flowql[plot]`` extra, imported
only here and only then) or as a self-contained HTML page (an inline SVG, no library, no network).
"""

from __future__ import annotations

from flowql.plot.chart import KINDS, Chart, PlotError, Series, chart_of, metric_meta
from flowql.plot.save import FILE_TYPES, render, save
from flowql.plot.terminal import text_chart

__all__ = [
    "FILE_TYPES",
    "KINDS",
    "Chart",
    "PlotError",
    "Series",
    "chart_of",
    "metric_meta",
    "render",
    "save",
    "text_chart",
]
