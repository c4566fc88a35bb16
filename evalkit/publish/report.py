"""Display helpers the report notebooks call: headings, key figures, tables, plotly figures.

Display only, no business rules: every helper takes frames already computed by
:mod:`evalkit.evaluate.pipeline` and returns an HTML string (``show`` displays it in the kernel).

* Every string that comes from data is escaped (``html.escape`` / ``DataFrame.to_html``);
  figure labels are escaped too, so plotly.js shows ``<script>`` as text.
* Figures are ``to_html(full_html=False, include_plotlyjs=False, div_id=<stable id>)``: the
  page loads plotly.js once from the report set's shared ``assets/plotly.min.js`` and the same
  inputs give the same bytes.  The font family is set explicitly (Noto Sans CJK SC).
* Embedded JSON (paged tables, the public register) is escaped for a ``<script>`` element by
  one function, :func:`json_for_script`: ``<``, ``>``, ``&``, U+2028 and U+2029 become
  ``\\uXXXX`` so ``</script>`` in data cannot break out.
* Long tables (thousands of rows at national scale) are :func:`paged_table`: the first page is
  HTML, every row travels as compact column-wise JSON (repeated values through small lookup
  tables) and is paged, searched and sorted client-side.  The public register is written to a
  separate ``register.js`` loaded on first use of its search box (:func:`register`).
"""

from __future__ import annotations

import functools
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.i18n import t, word, words

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"
#: Minimum widths of columns holding names and identifiers, so that a table wider than the page
#: scrolls horizontally instead of squeezing a company name to two characters per line.
MIN_WIDTHS: dict[str, str] = {
    "app_name": "8em", "provider_name": "12em", "provider": "12em", "app_id": "9.5em",
    "provider_id": "11.5em", "name": "6em", "reasons": "16em", "reason": "10em",
    "criterion": "9em", "status": "3.5em", "category": "3.5em", "stages": "5em", "grade": "6em",
    "list": "6em", "value": "6em", "decided_on": "6.5em", "ban_until": "6.5em", "change": "3em",
}
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]+")

__all__ = [
    "FONT_FAMILY",
    "bar",
    "compact_rows",
    "criterion_labels",
    "criterion_names",
    "definition_list",
    "figure",
    "heading",
    "heat_table",
    "heatmap",
    "histogram",
    "json_for_script",
    "key_figures",
    "load_national",
    "load_province",
    "near_cutoff",
    "paged_table",
    "paragraph",
    "pick",
    "province_index",
    "radar",
    "reason_counts",
    "reason_words",
    "register",
    "register_script",
    "show",
    "t",
    "table",
    "translate_codes",
    "weights_section",
    "word",
    "words",
]


# ----------------------------------------------------------------------------------------
# basics


def show(fragment: str) -> None:
    """Display an HTML fragment as the cell's output (``text/html``)."""
    from IPython.display import HTML, display

    display(HTML(fragment))


def _id(text: str) -> str:
    return _ID_SAFE.sub("-", str(text)).strip("-") or "x"


def heading(text: str, level: int = 2, *, anchor: str | None = None) -> str:
    """An escaped heading; ``anchor`` gives it the stable id ``sec-<anchor>``."""
    if level not in (1, 2, 3, 4):
        raise ValueError(f"The 'level' parameter of heading must be in 1..4; got {level!r} instead.")
    ident = f' id="sec-{_id(anchor)}"' if anchor else ""  # prefixed: never a table's id
    return f"<h{level}{ident}>{html.escape(str(text))}</h{level}>"


def paragraph(text: str, *, css: str = "") -> str:
    """An escaped paragraph."""
    cls = f' class="{html.escape(css, quote=True)}"' if css else ""
    return f"<p{cls}>{html.escape(str(text))}</p>"


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return "–" if pd.isna(value) else value.strftime("%Y-%m-%d")
    return str(value)


def key_figures(items: Iterable[tuple[str, Any]]) -> str:
    """A row of boxes, each a large value with a label under it."""
    boxes = "".join(
        f'<div class="ek-figure"><div class="ek-value">{html.escape(_fmt(v))}</div>'
        f'<div class="ek-label">{html.escape(str(label))}</div></div>'
        for label, v in items
    )
    return f'<div class="ek-figures">{boxes}</div>'


def definition_list(items: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of label/value pairs (escaped)."""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in items
    )
    return f'<table class="ek-table ek-dl"><tbody>{rows}</tbody></table>'


def table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    labels: Mapping[str, str] | None = None,
    lang: str = "zh",
    searchable: bool = True,
    float_digits: int = 2,
) -> str:
    """A sortable (click a header) and optionally searchable HTML table; works offline.

    Parameters
    ----------
    frame : DataFrame
        Rows to show, in display order; every cell is escaped.
    table_id : str
        Stable element id.
    labels : mapping, optional
        Column → header; defaults to the i18n string of the column name.
    lang : {"zh", "en"}
        Header language when ``labels`` is not given.
    searchable : bool
        Add a search box filtering the rows.
    float_digits : int
        Decimals shown for float columns.
    """
    tid = _id(table_id)
    if frame.empty:
        return f'<p class="ek-muted" id="{tid}">{html.escape(t("no_rows", lang))}</p>'
    shown = _display(frame, float_digits)
    wrapped = f'<div class="ek-table-wrap">{_html_table(shown, tid, labels, lang)}</div>'
    if not searchable:
        return wrapped
    return _search_box(tid, len(shown), lang) + wrapped


def _display(frame: pd.DataFrame, float_digits: int) -> pd.DataFrame:
    """Every cell as the text a table shows (floats rounded, dates as ``YYYY-MM-DD``)."""
    shown = frame.copy()
    for col in shown.columns:
        s = shown[col]
        if pd.api.types.is_float_dtype(s):
            rounded = s.round(float_digits)
            text = rounded.astype("string").fillna("–")
            tiny = s.gt(0) & rounded.eq(0)  # e.g. a p-value: "<0.001", never a misleading 0.0
            shown[col] = text.mask(tiny.fillna(False), f"<{10.0 ** -float_digits:.{float_digits}f}")
        elif pd.api.types.is_datetime64_any_dtype(s):
            shown[col] = s.dt.strftime("%Y-%m-%d").fillna("–")
        else:
            shown[col] = s.astype("string").fillna("")
    return shown


def _html_table(shown: pd.DataFrame, tid: str, labels: Mapping[str, str] | None, lang: str,
                attrs: str = "") -> str:
    """``<table class="ek-table" id=tid>`` of display strings, name columns given a min width."""
    heads = labels or {c: t(str(c), lang) for c in shown.columns}
    widths = {heads.get(c, str(c)): MIN_WIDTHS[c] for c in shown.columns if c in MIN_WIDTHS}
    shown = shown.rename(columns=lambda c: heads.get(c, str(c)))
    body = shown.to_html(
        index=False, escape=True, border=0, table_id=tid, classes=["ek-table"], na_rep="",
        col_space=widths or None,
    )
    return body.replace('class="dataframe ek-table"', f'class="ek-table"{attrs}', 1)


def _search_box(tid: str, n: int, lang: str) -> str:
    return (
        f'<div><input type="search" class="ek-search" data-table="{tid}" '
        f'placeholder="{html.escape(t("search", lang), quote=True)}" '
        f'aria-label="{html.escape(t("search", lang), quote=True)}">'
        f'<span class="ek-count"><span id="{tid}-count">{n}</span> '
        f"{html.escape(t('rows_shown', lang))}</span></div>"
    )


def _pager(tid: str, n: int, page_size: int, lang: str) -> str:
    pages = max(1, -(-n // page_size))
    prev, nxt = html.escape(t("previous_page", lang), quote=True), html.escape(t("next_page", lang), quote=True)
    return (
        f'<div class="ek-pager" data-table="{tid}">'
        f'<button type="button" data-step="-1" aria-label="{prev}" title="{prev}" disabled>‹</button>'
        f'<span id="{tid}-page">1 / {pages}</span>'
        f'<button type="button" data-step="1" aria-label="{nxt}" title="{nxt}"'
        f'{" disabled" if pages == 1 else ""}>›</button></div>'
    )


def compact_rows(frame: pd.DataFrame, *, lists: Mapping[str, str] | None = None,
                 max_share: float = 0.5) -> dict[str, Any]:
    """Rows of text as compact column-wise JSON: repeated values through small lookup tables.

    Parameters
    ----------
    frame : DataFrame
        Cells as the page shows them (text; missing cells become ``""``).
    lists : mapping, optional
        Column → separator of columns holding lists (e.g. reasons joined by ``"；"``): each part
        is looked up on its own, so a reason sentence travels once per page, not once per row.
    max_share : float
        A column is looked up through a table when its distinct values are at most this share
        of its rows.

    Returns
    -------
    dict
        ``{"n": rows, "columns": [...]}``; each column is ``{"values": [...]}``, ``{"dict":
        [...], "codes": [...]}`` or, for a list column, ``{"dict", "codes", "offsets", "sep"}``
        (row ``i``'s parts are ``codes[offsets[i]:offsets[i + 1]]``).  The page's script
        (``assets/report.js``) decodes it.
    """
    if not 0 <= max_share <= 1:
        raise ValueError(f"The 'max_share' parameter of compact_rows must be in [0, 1]; got {max_share!r} instead.")
    lists = dict(lists or {})
    unknown = sorted(set(lists) - {str(c) for c in frame.columns})
    if unknown:
        raise ValueError(f"The 'lists' parameter of compact_rows must name columns of the frame; got {unknown!r} instead.")
    cols: list[dict[str, Any]] = []
    n = len(frame)
    for col in frame.columns:  # a handful of columns
        # by position: the frame may be a filtered, sorted slice with any index
        text = pd.Series(frame[col].to_numpy(), dtype="string").fillna("").astype(str)
        sep = lists.get(str(col))
        if sep:
            parts = text.str.split(sep, regex=False).explode()
            parts = parts[parts.ne("")]
            codes, uniques = pd.factorize(parts, sort=True)
            counts = parts.groupby(level=0, sort=True).size().reindex(range(n), fill_value=0)
            offsets = [0, *counts.cumsum().astype("int64").tolist()]
            cols.append({"dict": [str(u) for u in uniques], "codes": codes.tolist(),
                         "offsets": offsets, "sep": sep})
            continue
        codes, uniques = pd.factorize(text, sort=True)
        if n and len(uniques) <= max_share * n:
            cols.append({"dict": [str(u) for u in uniques], "codes": codes.tolist()})
        else:
            cols.append({"values": text.tolist()})
    return {"n": n, "columns": cols}


def paged_table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    labels: Mapping[str, str] | None = None,
    lang: str = "zh",
    page_size: int = 50,
    float_digits: int = 2,
    lists: Mapping[str, str] | None = None,
) -> str:
    """A long table paged client-side: light at load, searchable and sortable over every row.

    The first page is plain HTML (readable without scripts); every row travels as compact JSON
    (:func:`compact_rows`, escaped by :func:`json_for_script`) in a ``<script
    type="application/json" id="<table_id>-data">`` that the page's script decodes on first
    use of the search box, the pager or a column header.  Search filters all rows, a header
    click sorts all rows, the pager shows ``page_size`` rows at a time.

    Parameters
    ----------
    frame : DataFrame
        Rows to show, in display order; every cell is escaped.
    table_id : str
        Stable element id.
    labels : mapping, optional
        Column → header; defaults to the i18n string of the column name.
    lang : {"zh", "en"}
        Header language when ``labels`` is not given.
    page_size : int
        Rows per page.
    float_digits : int
        Decimals shown for float columns.
    lists : mapping, optional
        Column → separator of list columns (e.g. ``{"reasons": "；"}``), see :func:`compact_rows`.
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"The 'page_size' parameter of paged_table must be a positive integer; got {page_size!r} instead.")
    tid = _id(table_id)
    if frame.empty:
        return f'<p class="ek-muted" id="{tid}">{html.escape(t("no_rows", lang))}</p>'
    shown = _display(frame, float_digits)
    data = json_for_script(compact_rows(shown, lists=lists))
    first = _html_table(shown.head(page_size), tid, labels, lang,
                        attrs=f' data-paged data-source="{tid}-data" data-page-size="{page_size}"')
    return (
        f'<script type="application/json" id="{tid}-data">{data}</script>'
        + _search_box(tid, len(shown), lang)
        + f'<div class="ek-table-wrap">{first}</div>'
        + _pager(tid, len(shown), page_size, lang)
    )


def near_cutoff(ranked: pd.DataFrame, *, listed: pd.Series, close_call: pd.Series | None = None,
                after: int = 20) -> pd.DataFrame:
    """The candidates around the cut-off: the listed ones, the close calls and the ``after``
    candidates ranked just below the last listed one.

    ``ranked`` must be sorted by rank; ``listed`` and ``close_call`` are boolean Series aligned
    with it.  Robustness charts show these instead of every candidate of a national run.
    """
    if not isinstance(after, int) or after < 0:
        raise ValueError(f"The 'after' parameter of near_cutoff must be a non-negative integer; got {after!r} instead.")
    keep = listed.fillna(False).astype(bool).to_numpy()
    last = int(keep.nonzero()[0].max()) + 1 if keep.any() else 0  # just below the last listed
    if close_call is not None:
        keep = keep | close_call.fillna(False).astype(bool).to_numpy()
    position = pd.RangeIndex(len(ranked)).to_numpy()
    return ranked[keep | ((position >= last) & (position < last + after))]


def reason_counts(reasons: pd.Series, lang: str = "zh") -> pd.DataFrame:
    """How many rows give each kind of reason.

    ``reasons`` are in words, joined by "；" ("; " in English); a reason's kind is its text
    before "：" (": "), e.g. "否决项未通过" for "否决项未通过：等级测评报告在有效期内".
    Returns a frame with columns ``reasons`` and ``n_apps``, most frequent first (ties by text).
    """
    sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
    parts = reasons.astype("string").fillna("").astype(str).str.split(sep, regex=False).explode()
    parts = parts[parts.ne("")].str.split(colon, n=1, regex=False).str[0]
    parts = parts.reset_index().drop_duplicates().iloc[:, -1]  # an app counts once per kind
    counts = parts.value_counts()
    out = pd.DataFrame({"reasons": counts.index.astype(str), "n_apps": counts.to_numpy(dtype="int64")})
    return out.sort_values(["n_apps", "reasons"], ascending=[False, True], ignore_index=True)


def reason_words(codes: pd.Series, lang: str = "zh") -> pd.Series:
    """``;``-joined reason codes in words, from the registries of the rules that produce them.

    Recommendation codes (``evalkit.evaluate.reasons.REASONS`` and its patterns such as
    ``veto:<criterion>``, criteria named as in the rubric) and credit codes
    (``evalkit.evaluate.credit.REASONS``); an unknown code shows as itself.
    """
    from evalkit.evaluate.credit import REASONS as CREDIT_REASONS
    from evalkit.evaluate.reasons import reasons_text

    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), CREDIT_REASONS)


def translate_codes(codes: pd.Series, lang: str, messages: Mapping[str, str] | None = None) -> pd.Series:
    """Turn ``;``-joined reason codes into words (``messages`` first, then :func:`reason_words`)."""
    if not messages:
        return reason_words(codes, lang)
    from evalkit.evaluate.credit import REASONS as CREDIT_REASONS
    from evalkit.evaluate.reasons import reasons_text

    registry = {**CREDIT_REASONS, **{k: (v, v) for k, v in messages.items()}}
    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), registry)


@functools.lru_cache(maxsize=4)
def _criterion_names(rubric_dir: str | None) -> dict[str, tuple[str, str]]:
    from evalkit.rubric.model import load_rubric

    rb = load_rubric(rubric_dir)
    return {c.id: (c.name_zh, c.name_en) for c in rb.criteria}


def criterion_names(rubric_dir: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``{criterion_id: (name_zh, name_en)}`` of the rubric (default: the shipped one; cached)."""
    return dict(_criterion_names(None if rubric_dir is None else str(rubric_dir)))


def criterion_labels(ids: pd.Series, lang: str = "zh") -> pd.Series:
    """Criterion ids as the rubric names them in ``lang`` (unknown ids stay as they are)."""
    i = 0 if lang == "zh" else 1
    names = {k: v[i] for k, v in criterion_names().items()}
    s = ids.astype("str")
    return s.map(names).fillna(s).astype("str")


# ----------------------------------------------------------------------------------------
# figures


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
    (:func:`evalkit.publish.run.plotly_bundle`).
    """
    ident = f"fig-{_id(div_id)}"
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
    hover = [f"{a:.4g}–{b:.4g}: {c}" for a, b, c in zip(edges[:-1], edges[1:], counts)]  # per bin
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
    for name, row in zip(frame[names].tolist(), frame[list(axes)].to_numpy(dtype=float)):
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


def heat_table(matrix: pd.DataFrame, table_id: str, *, zmin: float = 0.0, zmax: float = 100.0,
               float_digits: int = 1, label: str = "") -> str:
    """A labelled matrix as an HTML table whose cells are shaded red → amber → green by value.

    A light alternative to :func:`heatmap` for a page (no chart to draw, the numbers stay
    readable and searchable); every label is escaped.

    Parameters
    ----------
    matrix : DataFrame
        Rows × columns of numbers; the index gives the row labels.
    table_id : str
        Stable element id.
    zmin, zmax : float
        Values shaded fully red and fully green.
    float_digits : int
        Decimals shown.
    label : str
        Header of the row-label column.
    """
    import numpy as np

    if not zmax > zmin:
        raise ValueError(f"The 'zmax' parameter of heat_table must be greater than zmin; got {zmax!r} instead.")
    tid = _id(table_id)
    values = matrix.to_numpy(dtype=float)
    share = np.clip((values - zmin) / (zmax - zmin), 0.0, 1.0)
    hue = np.round(np.nan_to_num(share) * 120).astype("int64")  # 0 red, 60 amber, 120 green (HSL)
    shown = pd.DataFrame(np.round(values, float_digits), index=matrix.index, columns=matrix.columns)
    cells = pd.DataFrame("", index=matrix.index, columns=matrix.columns, dtype="str")
    for j, col in enumerate(matrix.columns):  # a handful of columns
        text = shown[col].astype("string").fillna("–").astype(str)
        style = pd.Series(hue[:, j]).astype(str).radd(' style="background: hsl(').add(', 70%, 80%);"')
        style = style.where(~np.isnan(values[:, j]), "")
        cells[col] = '<td class="ek-heat"' + style.to_numpy() + ">" + text.to_numpy() + "</td>"
    names = pd.Series(matrix.index).astype(str).map(html.escape)
    rows = "".join(("<tr><th>" + names.to_numpy() + "</th>" + cells.agg("".join, axis=1).to_numpy()
                    + "</tr>").tolist())
    th = f"<th>{html.escape(label)}</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in matrix.columns)
    return (f'<div class="ek-table-wrap"><table class="ek-table ek-heat-table" id="{tid}"><thead><tr>{th}'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")


def _expert_crs(experts: Iterable[Mapping[str, Any]], lang: str) -> str:
    """``E1 0.012；E3 0.482 ×`` (× excluded, – no CR: an incomplete matrix)."""
    return ("；" if lang == "zh" else "; ").join(
        f"{e.get('expert_id')} {_fmt(e.get('cr'))}" + (" ×" if e.get("excluded") else "") for e in experts
    )


def _province_word(code: str, lang: str) -> str:
    """``广东省（44）`` / ``Guangdong (44)``; the national word for an empty code."""
    from evalkit.data.identifiers import PROVINCES

    prov = PROVINCES.get(str(code))
    if prov is None:
        return t("national_waiver", lang) if not code else str(code)
    return f"{prov.name_zh}（{code}）" if lang == "zh" else f"{prov.name_en} ({code})"


def _level_rows(ahp: Mapping[str, Mapping[str, Any]], lang: str) -> pd.DataFrame:
    """One row per AHP level of a province's method: whose judgments, experts, CRs."""
    rows = []
    first = ["dimensions", "legality", "function", "security", "content"]  # the rubric's order
    for level in sorted(ahp, key=lambda k: (first.index(k) if k in first else len(first), k)):  # five levels
        lv = ahp[level]
        whose = word("ahp_judgments", lv.get("judgments", ""), lang)
        if lv.get("fallback"):
            whose += ("：" if lang == "zh" else ": ") + word("weights_fallback", lv["fallback"], lang)
        crs = [_expert_crs(lv.get(k) or [], lang) for k in ("experts", "national_experts")]
        rows.append({
            "ahp_level": t("dimensions_level", lang) if level == "dimensions" else t(level, lang),
            "ahp_judgments": whose, "ahp_n_experts": lv.get("n_experts"),
            "ahp_expert_crs": ("；" if lang == "zh" else "; ").join(c for c in crs if c) or "–",
            "ahp_combined_cr": lv.get("cr"),
        })
    return pd.DataFrame(rows, columns=["ahp_level", "ahp_judgments", "ahp_n_experts", "ahp_expert_crs",
                                       "ahp_combined_cr"]).astype({"ahp_combined_cr": "float64"})


def weights_section(method: Mapping[str, Any], lang: str = "zh") -> str:
    """The weights part of a province's method: the weighting method, whose AHP judgments each
    level uses (the province's experts or the national fallback), every expert's CR with the
    excluded ones marked, the combined CR, and the waivers not applied (non-waivable vetoes)."""
    how = method.get("weights_method", "ahp")
    parts = [definition_list([(t("weights_method", lang), word("weights_method", how, lang))])]
    if how in ("entropy", "combined"):
        parts.append(paragraph(t(f"{how}_rule", lang), css="ek-note"))
    parts += [heading(t("ahp_levels", lang), 3), paragraph(t("ahp_rule", lang), css="ek-note"),
              table(_level_rows(method.get("ahp") or {}, lang), "ahp-levels", lang=lang, searchable=False,
                    float_digits=4)]
    refused = pd.DataFrame(method.get("waivers_refused") or [])
    if len(refused):
        shown = pd.DataFrame({
            "app_id": refused["app_id"], "criterion": criterion_labels(refused["criterion_id"], lang),
            "waiver_province": refused["waiver_province"].map(lambda c: _province_word(c, lang)),
            "approved_by": refused["approved_by"],
            "waiver_reason": refused["reason"], "expires_on": refused["expires_on"],
        })
        parts += [heading(t("weights_refused", lang), 3), paragraph(t("weights_refused_note", lang), css="ek-note"),
                  table(shown, "waivers-refused", lang=lang, searchable=False)]
    return "".join(parts)


def pick(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of ``frame`` that exist, in the given order (display only)."""
    return frame[[c for c in columns if c in frame.columns]]


def province_index(summary: pd.DataFrame, lang: str = "zh", table_id: str = "provinces") -> str:
    """The index's province table: code, name, links to its two reports, status, key figures.

    ``summary``: one row per province with ``code``, ``name_zh``, ``name_en``, ``ok``,
    ``error`` and count columns ``n_*``.  The links read e.g. "推荐报告 · 信用报告".  A row with
    ``published`` false (a province blocked by errors in its data: nothing of it was published)
    has no links and no figures; its status gives ``n_data_errors``.
    """
    counts = [c for c in ("n_candidates", "n_recommended", "n_not_recommended", "n_excluded",
                          "n_providers", "n_negative", "n_blacklisted") if c in summary.columns]
    name = summary["name_zh" if lang == "zh" else "name_en"].astype(str).map(html.escape)
    code = summary["code"].astype(str).map(html.escape)
    ok = summary["ok"].astype(bool)
    shown = (summary["published"].astype(bool) if "published" in summary.columns
             else pd.Series(True, index=summary.index))
    rec, cred = html.escape(t("recommendation_report", lang)), html.escape(t("credit_report", lang))
    links = ('<td class="ek-links"><a href="' + code + '/recommendation.html">' + rec
             + '</a> · <a href="' + code + '/credit.html">' + cred + "</a></td>")
    links = links.where(shown, '<td class="ek-links">–</td>')
    cells = "<td>" + code + '</td><td class="ek-name">' + name + "</td>" + links
    failed = ('<td class="ek-status-failed">' + html.escape(t("report_failed", lang)) + ": "
              + summary["error"].astype(str).map(html.escape) + "</td>")
    n_errors = (summary["n_data_errors"] if "n_data_errors" in summary.columns
                else pd.Series(0, index=summary.index))
    blocked = pd.Series([f'<td class="ek-status-failed ek-status-blocked">'
                         f'{html.escape(t("data_blocked", lang, n=int(n)))}</td>'
                         for n in n_errors.fillna(0).tolist()], index=summary.index, dtype="str")
    status = failed.where(~ok, "<td>✓</td>").where(shown, blocked)
    cells = cells + status
    for c in counts:  # a handful of count columns
        value = summary[c].astype(str).where(shown, "–")
        cells = cells + '<td data-sort="' + summary[c].astype(str) + '">' + value + "</td>"
    rows = "".join("<tr>" + cells + "</tr>")
    heads = [t("code", lang), t("province", lang), t("reports", lang), t("status", lang)]
    heads += [t(c, lang) for c in counts]
    th = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    tid = _id(table_id)
    return (f'<div class="ek-table-wrap"><table class="ek-table" id="{tid}"><thead><tr>{th}</tr>'
            f"</thead><tbody>{rows}</tbody></table></div>")


# ----------------------------------------------------------------------------------------
# the public register


def _min_width(column: Any) -> str:
    width = MIN_WIDTHS.get(str(column))
    return f' style="min-width: {width};"' if width else ""


def json_for_script(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


#: File name of the register script a publish writes beside ``index.html``.
REGISTER_SCRIPT = "register.js"


def register_script(frame: pd.DataFrame, table_id: str) -> str:
    """The text of ``register.js``: sets ``window.__ekData[<table_id>]`` to the compact rows.

    A plain script (not a ``fetch`` of JSON, which browsers refuse on ``file://``); the JSON is
    escaped by :func:`json_for_script`, so no data can end the script or a string early.
    """
    key = json_for_script(_id(table_id))
    data = json_for_script(compact_rows(frame.astype("string").fillna("")))
    return f"window.__ekData=window.__ekData||{{}};window.__ekData[{key}]={data};\n"


def register(frame: pd.DataFrame, table_id: str, *, lang: str = "zh",
             labels: Mapping[str, str] | None = None, script_dir: str | Path | None = None,
             page_size: int = 50) -> str:
    """The searchable public register, paged client-side; rows are built with ``textContent``.

    Parameters
    ----------
    frame : DataFrame
        One row per filed app; every column is shown.
    table_id : str
        Stable element id.
    lang : {"zh", "en"}
        Header language when ``labels`` is not given.
    labels : mapping, optional
        Column → header.
    script_dir : path-like, optional
        Folder of the page being written (``out_dir`` of the index notebook inside a publish):
        the rows go to ``<script_dir>/register.js`` (:func:`register_script`), which the page
        loads on first focus of the search box (or a click on the pager), showing "loading…"
        meanwhile, so the page is interactive before the register arrives.  Without it (a
        notebook run on its own) the rows are embedded as escaped JSON.
    page_size : int
        Rows per page.
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"The 'page_size' parameter of register must be a positive integer; got {page_size!r} instead.")
    tid = _id(table_id)
    heads = labels or {c: t(str(c), lang) for c in frame.columns}
    th = "".join(
        f"<th{_min_width(c)}>{html.escape(heads.get(c, str(c)))}</th>" for c in frame.columns
    )
    if script_dir is not None and str(script_dir) != "":
        folder = Path(script_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / REGISTER_SCRIPT).write_text(register_script(frame, tid), encoding="utf-8")
        source, embedded = f'data-script="{REGISTER_SCRIPT}" data-key="{tid}"', ""
    else:
        data = json_for_script(compact_rows(frame.astype("string").fillna("")))
        source = f'data-source="{tid}-data"'
        embedded = f'<script type="application/json" id="{tid}-data">{data}</script>'
    hint = html.escape(t("register_hint", lang, n=f"{len(frame):,}"))
    return (
        embedded
        + _search_box(tid, len(frame), lang)
        + f'<div class="ek-table-wrap"><table class="ek-table" id="{tid}" data-register data-paged '
        f'{source} data-page-size="{page_size}" data-loading="{html.escape(t("loading", lang), quote=True)}">'
        f"<thead><tr>{th}</tr></thead><tbody>"
        f'<tr class="ek-placeholder"><td colspan="{max(1, len(frame.columns))}">{hint}</td></tr>'
        f"</tbody></table></div>"
        + _pager(tid, len(frame), page_size, lang)
    )


# ----------------------------------------------------------------------------------------
# loading what the notebooks display


def cache_dir(out_dir: str | Path) -> Path:
    """The private cache a publish leaves beside the province folders (``<set>/.cache``)."""
    return Path(out_dir).resolve().parent / ".cache"


def default_cache_dir() -> Path:
    """Where notebooks run on their own keep computed results: ``$EVALKIT_CACHE_DIR``, else
    ``<temp>/evalkit-cache`` (computed on demand, valid while data, rubric and date match)."""
    env = os.environ.get("EVALKIT_CACHE_DIR", "").strip()
    return Path(env) if env else Path(tempfile.gettempdir()) / "evalkit-cache"


def load_province(province: str, as_of: str, data_dir: str, out_dir: str) -> Any:
    """The province's :class:`~evalkit.evaluate.pipeline.ProvinceResult`.

    Inside a publish (``out_dir`` set, e.g. ``44`` relative to the set being written), the
    result the national evaluation computed once is read from the publish's private cache
    (``<set>/.cache/<code>``); run on its own (``out_dir`` empty: papermill, JupyterLab, nbval)
    it is computed from ``data_dir`` and kept in :func:`default_cache_dir`.
    """
    from evalkit.evaluate import pipeline

    if out_dir:
        cached = cache_dir(out_dir) / str(province)
        if (cached / "meta.json").is_file():
            return pipeline.ProvinceResult.load(cached)
    return pipeline.province_result(data_dir, province, as_of, cache_dir=default_cache_dir())


def load_national(out_dir: str | Path, *, data_dir: str | Path | None = None,
                  as_of: str | None = None, lang: str = "zh") -> dict[str, Any]:
    """The national summary a publish caches for the index page.

    Parameters
    ----------
    out_dir : path-like
        The published set being written (``.`` inside a publish); empty when the notebook
        runs on its own.
    data_dir, as_of, lang : optional
        Used when there is no publish cache: the overview is computed from the dataset
        (:func:`evalkit.publish.run.national_overview`, cached in :func:`default_cache_dir`).

    Returns
    -------
    dict
        ``summary`` (one row per province, key figures and render status), ``register`` (one
        row per filed app) and ``meta`` (as_of, lang, ...).
    """
    folder = Path(out_dir) / ".cache" / "national" if out_dir else None
    if folder is None or not (folder / "meta.json").is_file():
        if data_dir is None or as_of is None:
            raise FileNotFoundError(
                f"no publish cache in {out_dir!r}: pass data_dir and as_of to compute the overview")
        from evalkit.publish.run import national_overview

        return national_overview(data_dir, as_of, lang, cache_dir=default_cache_dir())
    return {
        "summary": pd.read_parquet(folder / "summary.parquet"),
        "register": pd.read_parquet(folder / "register.parquet"),
        "meta": json.loads((folder / "meta.json").read_text(encoding="utf-8")),
    }
