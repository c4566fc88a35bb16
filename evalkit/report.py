"""Display helpers the report notebooks call: headings, key figures, tables, plotly figures.

Display only, no business rules: every helper takes frames already computed by
:mod:`evalkit.pipeline` and returns an HTML string (``show`` displays it in the kernel).

* Every string that comes from data is escaped (``html.escape`` / ``DataFrame.to_html``);
  figure labels are escaped too, so plotly.js shows ``<script>`` as text.
* Figures are ``to_html(full_html=False, include_plotlyjs=False, div_id=<stable id>)``: the
  page loads plotly.js once from the report set's shared ``assets/plotly.min.js`` and the same
  inputs give the same bytes.  The font family is set explicitly (Noto Sans CJK SC).
* Embedded JSON (the public register) is escaped for a ``<script>`` element: ``<``, ``>``,
  ``&``, U+2028 and U+2029 become ``\\uXXXX`` so ``</script>`` in data cannot break out.
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

from .i18n import t, word, words

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
    "criterion_labels",
    "criterion_names",
    "definition_list",
    "figure",
    "heading",
    "heatmap",
    "histogram",
    "json_for_script",
    "key_figures",
    "load_national",
    "load_province",
    "paragraph",
    "pick",
    "province_index",
    "radar",
    "reason_words",
    "register",
    "show",
    "t",
    "table",
    "translate_codes",
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
    shown = frame.copy()
    for col in shown.columns:
        s = shown[col]
        if pd.api.types.is_float_dtype(s):
            shown[col] = s.round(float_digits).astype("string").fillna("–")
        elif pd.api.types.is_datetime64_any_dtype(s):
            shown[col] = s.dt.strftime("%Y-%m-%d").fillna("–")
        else:
            shown[col] = s.astype("string").fillna("")
    heads = labels or {c: t(str(c), lang) for c in shown.columns}
    widths = {heads.get(c, str(c)): MIN_WIDTHS[c] for c in shown.columns if c in MIN_WIDTHS}
    shown = shown.rename(columns=lambda c: heads.get(c, str(c)))
    body = shown.to_html(
        index=False, escape=True, border=0, table_id=tid, classes=["ek-table"], na_rep="",
        col_space=widths or None,
    )
    body = body.replace('class="dataframe ek-table"', 'class="ek-table"')
    wrapped = f'<div class="ek-table-wrap">{body}</div>'
    if not searchable:
        return wrapped
    box = (
        f'<div><input type="search" class="ek-search" data-table="{tid}" '
        f'placeholder="{html.escape(t("search", lang), quote=True)}" '
        f'aria-label="{html.escape(t("search", lang), quote=True)}">'
        f'<span class="ek-count"><span id="{tid}-count">{len(shown)}</span> '
        f"{html.escape(t('rows_shown', lang))}</span></div>"
    )
    return box + wrapped


def reason_words(codes: pd.Series, lang: str = "zh") -> pd.Series:
    """``;``-joined reason codes in words, from the registries of the rules that produce them.

    Recommendation codes (``evalkit.recommend.REASONS`` and its patterns such as
    ``veto:<criterion>``, criteria named as in the rubric) and credit codes
    (``evalkit.credit.REASONS``); an unknown code shows as itself.
    """
    from .credit import REASONS as CREDIT_REASONS
    from .recommend import reasons_text

    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), CREDIT_REASONS)


def translate_codes(codes: pd.Series, lang: str, messages: Mapping[str, str] | None = None) -> pd.Series:
    """Turn ``;``-joined reason codes into words (``messages`` first, then :func:`reason_words`)."""
    if not messages:
        return reason_words(codes, lang)
    from .credit import REASONS as CREDIT_REASONS
    from .recommend import reasons_text

    registry = {**CREDIT_REASONS, **{k: (v, v) for k, v in messages.items()}}
    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), registry)


@functools.lru_cache(maxsize=4)
def _criterion_names(rubric_dir: str | None) -> dict[str, tuple[str, str]]:
    from .rubric import load_rubric

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
    """HTML of a plotly figure with a stable div id and no plotly.js (loaded once per page)."""
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"fig-{_id(div_id)}", config=_PLOTLY_CONFIG
    )


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
    """A histogram of numeric values."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Histogram(x=[float(v) for v in values], nbinsx=nbins))
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


def pick(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of ``frame`` that exist, in the given order (display only)."""
    return frame[[c for c in columns if c in frame.columns]]


def province_index(summary: pd.DataFrame, lang: str = "zh", table_id: str = "provinces") -> str:
    """The index's province table: code, name, links to its two reports, status, key figures.

    ``summary``: one row per province with ``code``, ``name_zh``, ``name_en``, ``ok``,
    ``error`` and count columns ``n_*``.  The links read e.g. "推荐报告 · 信用报告".
    """
    counts = [c for c in ("n_candidates", "n_recommended", "n_not_recommended", "n_excluded",
                          "n_providers", "n_negative", "n_blacklisted") if c in summary.columns]
    name = summary["name_zh" if lang == "zh" else "name_en"].astype(str).map(html.escape)
    code = summary["code"].astype(str).map(html.escape)
    ok = summary["ok"].astype(bool)
    rec, cred = html.escape(t("recommendation_report", lang)), html.escape(t("credit_report", lang))
    cells = ("<td>" + code + '</td><td class="ek-name">' + name + '</td><td class="ek-links"><a href="'
             + code + '/recommendation.html">' + rec + '</a> · <a href="' + code + '/credit.html">'
             + cred + "</a></td>")
    failed = ('<td class="ek-status-failed">' + html.escape(t("report_failed", lang)) + ": "
              + summary["error"].astype(str).map(html.escape) + "</td>")
    status = failed.where(~ok, "<td>✓</td>")
    cells = cells + status
    for c in counts:  # a handful of count columns
        cells = cells + '<td data-sort="' + summary[c].astype(str) + '">' + summary[c].astype(str) + "</td>"
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


def register(frame: pd.DataFrame, table_id: str, *, lang: str = "zh",
             labels: Mapping[str, str] | None = None) -> str:
    """A searchable register: rows travel as escaped JSON and are built with ``textContent``.

    Parameters
    ----------
    frame : DataFrame
        One row per filed app; every column is shown.
    table_id : str
        Stable element id.
    """
    tid = _id(table_id)
    heads = labels or {c: t(str(c), lang) for c in frame.columns}
    data = {
        "columns": [str(c) for c in frame.columns],
        "rows": frame.astype("string").fillna("").to_numpy(dtype=object).tolist(),
    }
    th = "".join(
        f"<th{_min_width(c)}>{html.escape(heads.get(c, str(c)))}</th>" for c in frame.columns
    )
    return (
        f'<script type="application/json" id="{tid}-data">{json_for_script(data)}</script>'
        f'<div><input type="search" class="ek-search" data-table="{tid}" '
        f'placeholder="{html.escape(t("search", lang), quote=True)}" '
        f'aria-label="{html.escape(t("search", lang), quote=True)}">'
        f'<span class="ek-count"><span id="{tid}-count">{len(frame)}</span> '
        f"{html.escape(t('rows_shown', lang))}</span></div>"
        f'<div class="ek-table-wrap"><table class="ek-table" id="{tid}" data-register '
        f'data-source="{tid}-data"><thead><tr>{th}</tr></thead><tbody></tbody></table></div>'
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
    """The province's :class:`~evalkit.pipeline.ProvinceResult`.

    Inside a publish (``out_dir`` set, e.g. ``44`` relative to the set being written), the
    result the national evaluation computed once is read from the publish's private cache
    (``<set>/.cache/<code>``); run on its own (``out_dir`` empty: papermill, JupyterLab, nbval)
    it is computed from ``data_dir`` and kept in :func:`default_cache_dir`.
    """
    from . import pipeline

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
        (:func:`evalkit.publish.national_overview`, cached in :func:`default_cache_dir`).

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
        from .publish import national_overview

        return national_overview(data_dir, as_of, lang, cache_dir=default_cache_dir())
    return {
        "summary": pd.read_parquet(folder / "summary.parquet"),
        "register": pd.read_parquet(folder / "register.parquet"),
        "meta": json.loads((folder / "meta.json").read_text(encoding="utf-8")),
    }
