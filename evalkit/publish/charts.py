"""Plotly charts of the report pages: bars, histograms, intervals, radar, heatmaps.

Figures are ``to_html(full_html=False, include_plotlyjs=False, div_id=<stable id>)``: the page
loads plotly.js once from the report set's shared ``assets/plotly.min.js`` and the same inputs
give the same bytes.  The font family is set explicitly (Noto Sans CJK SC).  Every text that
reaches plotly.js (titles, category labels, trace names) goes through :func:`plotly_text`, so
plotly.js shows ``<script>`` and ``"`` as the characters they are.

Every chart (issue 15) has axis titles (``x_title``/``y_title``), shows every category label
(the height grows with the categories), counts on whole-number ticks, a toolbar that sends
nothing anywhere and speaks the page's language (``locale`` ``zh-CN``: the dictionary is
``assets/plotly-locale-zh-cn.js``, inlined by :func:`evalkit.publish.render.page`), and is
followed by its data as a table (folded; opened in print).
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
    "PLOTLY_LOCALES",
    "bar",
    "data_table",
    "figure",
    "heatmap",
    "histogram",
    "plotly_text",
    "radar",
    "scatter_interval",
    "stacked_bar",
]

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"


#: Nothing in a published page may send data anywhere (issue 15): no "Share chart"/Chart Studio.
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False,
                  "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}
#: plotly.js locale of each page language.
PLOTLY_LOCALES = {"zh": "zh-CN", "en": "en"}
#: Pixels per category on a category axis, so that every label shows.
_ROW_PX = 24


def plotly_text(value: Any) -> str:
    """``value`` as a plotly.js text: shown as it is, never read as markup.

    plotly.js draws every text (titles, tick labels, legend, hover) from its own pseudo-HTML: it
    cuts the string at ``<...>``, styles the tags it knows (``<b>``, ``<br>``, ``<a href>``, ...)
    and shows the rest as text nodes after decoding numeric entities and a few named ones
    (``&amp;`` ``&lt;`` ``&gt;`` ``&nbsp;`` ...; not ``&quot;`` nor ``&#x27;``, which would show
    as written).  So only ``&``, ``<`` and ``>`` are escaped: no tag is left to interpret and a
    quote stays a quote.  (Not for HTML attributes: this text goes into the figure's JSON.)
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _layout(fig: Any, title: str | None, height: int, x_title: str | None = None,
            y_title: str | None = None) -> Any:
    fig.update_layout(
        font={"family": FONT_FAMILY, "size": 13},
        title={"text": plotly_text(title) if title else None},
        height=height,
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 60},
        template="plotly_white",
    )
    fig.update_xaxes(title={"text": plotly_text(x_title) if x_title else None}, automargin=True)
    fig.update_yaxes(title={"text": plotly_text(y_title) if y_title else None}, automargin=True)
    return fig


def _every_label(fig: Any, axis: str, n: int, height: int) -> int:
    """A category axis showing each of its ``n`` labels: one tick per category, height to fit."""
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(type="category", tickmode="linear", dtick=1)
    return max(height, 120 + _ROW_PX * n) if axis == "y" else height


def _count_axis(fig: Any, axis: str, top: float) -> None:
    """Counts on whole-number ticks (never 0.5 steps): about six ticks, at least 1 apart."""
    step = max(1, int(-(-float(top or 0) // 6)))
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(tick0=0, dtick=step, tickformat="d", rangemode="tozero")


def figure(fig: Any, div_id: str, *, lang: str = "zh", data: pd.DataFrame | None = None) -> str:
    """HTML of a plotly figure with a stable div id and no plotly.js (loaded once per page),
    followed by ``data`` as a table (:func:`data_table`) when given.

    The chart's div says which trace types it draws (``data-traces="bar scatter"``), so that a
    publish can ship the smallest plotly.js bundle that draws every chart of the set
    (:func:`evalkit.publish.assets.plotly_bundle`).
    """
    ident = f"fig-{element_id(div_id)}"
    config = _PLOTLY_CONFIG | {"locale": PLOTLY_LOCALES.get(lang, "en")}
    out = fig.to_html(full_html=False, include_plotlyjs=False, div_id=ident, config=config)
    kinds = " ".join(sorted({str(tr.type) for tr in fig.data}))
    out = out.replace(f'<div id="{ident}" ', f'<div id="{ident}" data-traces="{kinds}" ', 1)
    return out + (data_table(data, ident, lang) if data is not None else "")


def data_table(data: pd.DataFrame, ident: str, lang: str = "zh") -> str:
    """A chart's data as a table under it, folded in a ``<details>`` (opened in print):
    headers with ``scope``, every cell escaped, numbers as the chart shows them."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return html.escape(f"{v:.4g}")
        return html.escape(str(v))

    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in data.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in data.itertuples(index=False, name=None))  # a chart's points (a few dozen)
    summary = html.escape(t("chart_data", lang))
    return (f'<details class="ek-chart-data" id="{ident}-data"><summary>{summary}</summary>'
            f'<div class="ek-table-wrap"><table class="ek-table ek-chart-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div></details>")


def _labels(values: Iterable[Any]) -> list[str]:
    return [plotly_text(v) for v in values]


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
    x_title: str | None = None,
    y_title: str | None = None,
    counts: bool = False,
    lang: str = "zh",
) -> str:
    """A bar chart (labels as :func:`plotly_text`): ``x`` the categories, ``y`` their values; ``x_title`` names
    the categories and ``y_title`` the values (whatever the orientation); ``counts``: whole-number
    ticks. Followed by its data as a table."""
    import plotly.graph_objects as go

    xs, ys = _labels(x), [float(v) for v in y]
    kw: dict[str, Any] = {"x": ys, "y": xs, "orientation": "h"} if horizontal else {"x": xs, "y": ys}
    if color is not None:
        kw["marker"] = {"color": list(color)}
    fig = go.Figure(go.Bar(name=name, **kw))
    cat, val = ("y", "x") if horizontal else ("x", "y")
    if horizontal:
        fig.update_yaxes(autorange="reversed")
        height = _every_label(fig, "y", len(xs), height)
        _layout(fig, title, height, y_title, x_title)
    else:
        _every_label(fig, "x", len(xs), height)
        _layout(fig, title, height, x_title, y_title)
    if counts:
        _count_axis(fig, val, max(ys, default=0))
    data = pd.DataFrame({x_title or t("category", lang): [str(v) for v in x], y_title or t("value", lang): ys})
    return figure(fig, div_id, lang=lang, data=data)


def stacked_bar(frame: pd.DataFrame, div_id: str, *, title: str | None = None, height: int = 420,
                lang: str = "zh", x_title: str | None = None, y_title: str | None = None,
                counts: bool = True) -> str:
    """Stacked bars: one bar per index label, one trace per column; labels slanted to fit."""
    import plotly.graph_objects as go

    fig = go.Figure()
    xs = _labels(frame.index)
    for col in frame.columns:  # one trace per column (a handful)
        fig.add_trace(go.Bar(x=xs, y=frame[col].astype(float).tolist(), name=plotly_text(t(str(col), lang))))
    fig.update_layout(barmode="stack")
    _every_label(fig, "x", len(xs), height)
    fig.update_xaxes(tickangle=-45)
    _layout(fig, title, height, x_title, y_title)
    if counts:
        _count_axis(fig, "y", float(frame.astype(float).sum(axis=1).max()) if len(frame) else 0.0)
    data = frame.copy()
    data.columns = [t(str(c), lang) for c in frame.columns]
    data.insert(0, x_title or t("category", lang), [str(v) for v in frame.index])
    return figure(fig, div_id, lang=lang, data=data.reset_index(drop=True))


def histogram(values: Sequence[float], div_id: str, *, title: str | None = None,
              nbins: int = 20, height: int = 320, x_title: str | None = None, y_title: str | None = None,
              lang: str = "zh") -> str:
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
    _layout(fig, title, height, x_title, y_title or t("count", lang))
    _count_axis(fig, "y", float(counts.max()) if len(counts) else 0.0)
    data = pd.DataFrame({t("bin_from", lang): edges[:-1].round(4).tolist() if len(counts) else [],
                         t("bin_to", lang): edges[1:].round(4).tolist() if len(counts) else [],
                         y_title or t("count", lang): counts.tolist()})
    return figure(fig, div_id, lang=lang, data=data)


def scatter_interval(frame: pd.DataFrame, label: str, mid: str, lo: str, hi: str, div_id: str,
                     *, title: str | None = None, height: int = 420, x_title: str | None = None,
                     y_title: str | None = None, lang: str = "zh") -> str:
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
    height = _every_label(fig, "y", len(frame), height)
    _layout(fig, title, height, x_title, y_title)
    data = pd.DataFrame({t(c, lang): frame[c].tolist() for c in (label, mid, lo, hi)})
    return figure(fig, div_id, lang=lang, data=data)


def radar(frame: pd.DataFrame, axes: Sequence[str], div_id: str, *, names: str,
          title: str | None = None, lang: str = "zh", height: int = 420) -> str:
    """A radar chart: one trace per row of ``frame`` over the ``axes`` columns (few rows)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    theta = _labels(t(a, lang) for a in axes)
    for name, row in zip(frame[names].tolist(), frame[list(axes)].to_numpy(dtype=float), strict=True):
        fig.add_trace(go.Scatterpolar(r=list(row) + [row[0]], theta=theta + [theta[0]],
                                      name=plotly_text(name), fill="toself"))
    fig.update_layout(polar={"radialaxis": {"range": [0, 100]}})
    data = frame[[names, *axes]].rename(columns={a: t(a, lang) for a in axes} | {names: t(names, lang)})
    return figure(_layout(fig, title, height), div_id, lang=lang, data=data.reset_index(drop=True))


def heatmap(matrix: pd.DataFrame, div_id: str, *, title: str | None = None,
            height: int = 420, zmin: float | None = None, zmax: float | None = None,
            x_title: str | None = None, y_title: str | None = None, lang: str = "zh") -> str:
    """A heatmap of a labelled matrix."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(dtype=float), x=_labels(matrix.columns),
                               y=_labels(matrix.index), zmin=zmin, zmax=zmax,
                               colorscale="RdYlGn"))
    data = matrix.astype(float).reset_index(names=y_title or "")
    return figure(_layout(fig, title, height, x_title, y_title), div_id, lang=lang, data=data)

