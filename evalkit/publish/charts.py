"""Plotly charts of the report pages: bars, histograms, intervals, radar, heatmaps.

Figures are ``to_html(full_html=False, include_plotlyjs=False, div_id=<stable id>)``: the page
loads plotly.js once from the report set's shared ``assets/plotly.min.js`` and the same inputs
give the same bytes.  The font family is set explicitly (Noto Sans CJK SC).  Every label is
escaped, so plotly.js shows ``<script>`` as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from evalkit.i18n import t
from evalkit.publish.markup import element_id

__all__ = [
    "FONT_FAMILY",
    "bar",
    "figure",
    "heatmap",
    "histogram",
    "radar",
    "scatter_interval",
    "stacked_bar",
]

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"


#: Nothing in a published page may send data anywhere (issue 15): no "Share chart"/Chart Studio.
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False,
                  "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _layout(fig: Any, title: str | None, height: int) -> Any:
    fig.update_layout(
        font={"family": FONT_FAMILY, "size": 13},
        title={"text": html.escape(title) if title else None},
        height=height,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 60},
        template="plotly_white",
    )
    return fig


def figure(fig: Any, div_id: str) -> str:
    """HTML of a plotly figure with a stable div id and no plotly.js (loaded once per page).

    The chart's div says which trace types it draws (``data-traces="bar scatter"``), so that a
    publish can ship the smallest plotly.js bundle that draws every chart of the set
    (:func:`evalkit.publish.assets.plotly_bundle`).
    """
    ident = f"fig-{element_id(div_id)}"
    out = fig.to_html(full_html=False, include_plotlyjs=False, div_id=ident, config=_PLOTLY_CONFIG)
    kinds = " ".join(sorted({str(tr.type) for tr in fig.data}))
    return out.replace(f'<div id="{ident}" ', f'<div id="{ident}" data-traces="{kinds}" ', 1)


def _labels(values: Iterable[Any]) -> list[str]:
    return [html.escape(str(v)) for v in values]


def bar(
    x: Sequence[Any],
    y: Sequence[float],
    div_id: str,
    *,
    title: str | None = None,
    horizontal: bool = False,
    height: int = 360,
    color: Sequence[Any] | None = None,
    name: str | None = None,
) -> str:
    """A bar chart (labels escaped)."""
    import plotly.graph_objects as go

    xs, ys = _labels(x), [float(v) for v in y]
    kw: dict[str, Any] = {"x": ys, "y": xs, "orientation": "h"} if horizontal else {"x": xs, "y": ys}
    if color is not None:
        kw["marker"] = {"color": list(color)}
    fig = go.Figure(go.Bar(name=name, **kw))
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return figure(_layout(fig, title, height), div_id)


def stacked_bar(frame: pd.DataFrame, div_id: str, *, title: str | None = None, height: int = 420,
                lang: str = "zh") -> str:
    """Stacked bars: one bar per index label, one trace per column."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs = _labels(frame.index)
    for col in frame.columns:  # one trace per column (a handful)
        fig.add_trace(go.Bar(x=xs, y=frame[col].astype(float).tolist(), name=html.escape(t(str(col), lang))))
    fig.update_layout(barmode="stack")
    return figure(_layout(fig, title, height), div_id)


def histogram(values: Sequence[float], div_id: str, *, title: str | None = None,
              nbins: int = 20, height: int = 320) -> str:
    """A histogram of numeric values (binned here: the page carries the counts, not the values)."""
    import numpy as np
    import plotly.graph_objects as go

    # binned here (a bar per bin): the page carries nbins counts, not every value, and needs
    # only plotly.js's basic bundle
    xs = np.asarray(values, dtype=float)
    xs = xs[np.isfinite(xs)]
    counts, edges = np.histogram(xs, bins=nbins) if len(xs) else (np.zeros(0, int), np.zeros(1))
    centers = np.round((edges[:-1] + edges[1:]) / 2, 6).tolist()
    width = float(edges[1] - edges[0]) if len(edges) > 1 else 1.0
    hover = [f"{a:.4g}–{b:.4g}: {c}" for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)]  # per bin
    fig = go.Figure(go.Bar(x=centers, y=counts.tolist(), width=width, hovertext=hover,
                           hoverinfo="text"))
    fig.update_layout(bargap=0.02)
    return figure(_layout(fig, title, height), div_id)


def scatter_interval(frame: pd.DataFrame, label: str, mid: str, lo: str, hi: str, div_id: str,
                     *, title: str | None = None, height: int = 420) -> str:
    """Points with error bars (e.g. rank with its robustness interval)."""
    import plotly.graph_objects as go

    m = frame[mid].astype(float)
    fig = go.Figure(go.Scatter(
        x=m.tolist(), y=_labels(frame[label]), mode="markers",
        error_x={"type": "data", "symmetric": False,
                 "array": (frame[hi].astype(float) - m).tolist(),
                 "arrayminus": (m - frame[lo].astype(float)).tolist()},
    ))
    fig.update_yaxes(autorange="reversed")
    return figure(_layout(fig, title, height), div_id)


def radar(frame: pd.DataFrame, axes: Sequence[str], div_id: str, *, names: str,
          title: str | None = None, lang: str = "zh", height: int = 420) -> str:
    """A radar chart: one trace per row of ``frame`` over the ``axes`` columns (few rows)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    theta = [t(a, lang) for a in axes]
    for name, row in zip(frame[names].tolist(), frame[list(axes)].to_numpy(dtype=float), strict=True):
        fig.add_trace(go.Scatterpolar(r=list(row) + [row[0]], theta=theta + [theta[0]],
                                      name=html.escape(str(name)), fill="toself"))
    fig.update_layout(polar={"radialaxis": {"range": [0, 100]}})
    return figure(_layout(fig, title, height), div_id)


def heatmap(matrix: pd.DataFrame, div_id: str, *, title: str | None = None,
            height: int = 420, zmin: float | None = None, zmax: float | None = None) -> str:
    """A heatmap of a labelled matrix."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(dtype=float), x=_labels(matrix.columns),
                               y=_labels(matrix.index), zmin=zmin, zmax=zmax,
                               colorscale="RdYlGn"))
    return figure(_layout(fig, title, height), div_id)

