"""Tables of the report pages: sortable and searchable, paged client-side when long, the
index's province table and the public register; all work offline.

* Every cell is escaped (``DataFrame.to_html``); name and identifier columns get a minimum
  width (:data:`MIN_WIDTHS`) so a wide table scrolls instead of squeezing them.
* Long tables (thousands of rows at national scale) are :func:`paged_table`: the first page is
  HTML, every row travels as compact column-wise JSON (:func:`compact_rows`: repeated values
  through small lookup tables) and is paged, searched and sorted client-side by the page's
  script (``evalkit/assets/report.js``).
* The public register is written to a separate ``register.js`` loaded on first use of its
  search box (:func:`register`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import param_message
from evalkit.i18n import t
from evalkit.publish.markup import ReportError, element_id, json_for_script

__all__ = [
    "MIN_WIDTHS",
    "REGISTER_SCRIPT",
    "cell_text",
    "compact_rows",
    "heat_table",
    "paged_table",
    "pick",
    "province_index",
    "register",
    "register_script",
    "table",
]

#: Minimum widths of columns holding names and identifiers, so that a table wider than the page
#: scrolls horizontally instead of squeezing a company name to two characters per line.
MIN_WIDTHS: dict[str, str] = {
    "app_name": "8em", "provider_name": "12em", "provider": "12em", "app_id": "9.5em",
    "provider_id": "11.5em", "name": "6em", "reasons": "16em", "reason": "10em",
    "criterion": "9em", "status": "3.5em", "category": "3.5em", "stages": "5em", "grade": "6em",
    "list": "6em", "value": "6em", "decided_on": "6.5em", "ban_until": "6.5em", "change": "3em",
}


def table(
    frame: pd.DataFrame,
    table_id: str,
    *,
    labels: Mapping[str, str] | None = None,
    lang: str = "zh",
    searchable: bool = True,
    float_digits: int = 2,
    links: Mapping[str, pd.Series] | None = None,
    row_ids: pd.Series | None = None,
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
    links : mapping, optional
        Column → relative URLs aligned with ``frame`` (empty: no link): the column's cells link there.
    row_ids : Series, optional
        Element ids of the rows (anchors such as ``provider-<USCC>``), aligned with ``frame``.
    """
    tid = element_id(table_id)
    if frame.empty:
        return f'<p class="ek-muted" id="{tid}">{html.escape(t("no_rows", lang))}</p>'
    shown = cell_text(frame, float_digits)
    wrapped = f'<div class="ek-table-wrap">{_html_table(shown, tid, labels, lang, links=links, row_ids=row_ids)}</div>'
    if not searchable:
        return wrapped
    return _search_box(tid, len(shown), lang) + wrapped


def cell_text(frame: pd.DataFrame, float_digits: int) -> pd.DataFrame:
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
                attrs: str = "", *, links: Mapping[str, pd.Series] | None = None,
                row_ids: pd.Series | None = None) -> str:
    """``<table class="ek-table" id=tid>`` of display strings, name columns given a min width;
    ``links`` wrap a column's (escaped) cells in ``<a href>``, ``row_ids`` give rows an id."""
    heads = labels or {c: t(str(c), lang) for c in shown.columns}
    th = "".join(f'<th scope="col"{_min_width(c)}>{html.escape(heads.get(c, str(c)))}</th>' for c in shown.columns)
    cells = pd.DataFrame(index=shown.index)
    for col in shown.columns:  # a handful of columns
        text = shown[col].astype("str").map(lambda v: html.escape(v, quote=False))  # as DataFrame.to_html
        href = (links or {}).get(col)
        if href is not None:
            url = pd.Series(href.to_numpy(), index=shown.index).astype("str").fillna("").map(
                lambda u: html.escape(u, quote=True))
            text = text.where(url.eq(""), '<a href="' + url + '">' + text + "</a>")
        cells[col] = "<td>" + text + "</td>"
    opening = pd.Series("<tr>", index=shown.index)
    if row_ids is not None:
        ids = pd.Series(row_ids.to_numpy(), index=shown.index).astype("str").map(element_id)
        opening = '<tr id="' + ids + '">'
    rows = "".join((opening + cells.agg("".join, axis=1) + "</tr>").tolist()) if len(cells.columns) else ""
    return (f'<table class="ek-table" id="{tid}"{attrs}><thead><tr class="ek-head">{th}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


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
        raise ReportError(param_message("max_share", "compact_rows", "in [0, 1]", repr(max_share)))
    lists = dict(lists or {})
    unknown = sorted(set(lists) - {str(c) for c in frame.columns})
    if unknown:
        raise ReportError(param_message("lists", "compact_rows", "naming columns of the frame", repr(unknown)))
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
    links: Mapping[str, pd.Series] | None = None,
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
    links : mapping, optional
        One column → relative URLs aligned with ``frame``: its cells link there, on every page
        (the URLs travel as a last, unshown JSON column; see ``assets/report.js``).
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ReportError(param_message("page_size", "paged_table", "a positive integer", repr(page_size)))
    tid = element_id(table_id)
    if frame.empty:
        return f'<p class="ek-muted" id="{tid}">{html.escape(t("no_rows", lang))}</p>'
    shown = cell_text(frame, float_digits)
    none = html.escape(t("no_match", lang), quote=True)
    rows, attrs = shown, f' data-paged data-source="{tid}-data" data-page-size="{page_size}" data-none="{none}"'
    if links:
        (col, href), = links.items()
        rows = shown.assign(**{"\u0000href": href.astype("str").fillna("").to_numpy()})
        attrs += f' data-link-col="{list(shown.columns).index(col)}" data-href-col="{len(shown.columns)}"'
    data = json_for_script(compact_rows(rows, lists=lists))
    first = _html_table(shown.head(page_size), tid, labels, lang, attrs=attrs,
                        links={k: v.head(page_size) for k, v in (links or {}).items()})
    return (
        f'<script type="application/json" id="{tid}-data">{data}</script>'
        + _search_box(tid, len(shown), lang)
        + f'<div class="ek-table-wrap">{first}</div>'
        + _pager(tid, len(shown), page_size, lang)
    )


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
        raise ReportError(param_message("zmax", "heat_table", "greater than zmin", repr(zmax)))
    tid = element_id(table_id)
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
    rows = "".join(('<tr><th scope="row">' + names.to_numpy() + "</th>" + cells.agg("".join, axis=1).to_numpy()
                    + "</tr>").tolist())
    th = f'<th scope="col">{html.escape(label)}</th>' + "".join(
        f'<th scope="col">{html.escape(str(c))}</th>' for c in matrix.columns)
    return (f'<div class="ek-table-wrap ek-scroll-x"><table class="ek-table ek-heat-table" id="{tid}"><thead><tr>{th}'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")


def pick(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of ``frame`` that exist, in the given order (display only)."""
    return frame[[c for c in columns if c in frame.columns]]


# ----------------------------------------------------------------------------------------
# the index's province table


def province_index(summary: pd.DataFrame, lang: str = "zh", table_id: str = "provinces") -> str:
    """The index's province table: code, name, links to its three reports, status, key figures.

    ``summary``: one row per province with ``code``, ``name_zh``, ``name_en``, ``ok``,
    ``error`` and count columns ``n_*``.  The links read e.g. "推荐报告 · 信用报告 · 学校报告".  A row with
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
    sch = html.escape(t("school_report", lang))
    links = ('<td class="ek-links"><a href="' + code + '/recommendation.html">' + rec
             + '</a> · <a href="' + code + '/credit.html">' + cred
             + '</a> · <a href="' + code + '/schools.html">' + sch + "</a></td>")
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
    th = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in heads)
    tid = element_id(table_id)
    return (f'<div class="ek-table-wrap"><table class="ek-table" id="{tid}"><thead><tr>{th}</tr>'
            f"</thead><tbody>{rows}</tbody></table></div>")


# ----------------------------------------------------------------------------------------
# the public register


def _min_width(column: Any) -> str:
    width = MIN_WIDTHS.get(str(column))
    return f' style="min-width: {width};"' if width else ""


#: File name of the register script a publish writes beside ``index.html``.
REGISTER_SCRIPT = "register.js"


def register_script(frame: pd.DataFrame, table_id: str) -> str:
    """The text of ``register.js``: sets ``window.__ekData[<table_id>]`` to the compact rows.

    A plain script (not a ``fetch`` of JSON, which browsers refuse on ``file://``); the JSON is
    escaped by :func:`json_for_script`, so no data can end the script or a string early.
    """
    key = json_for_script(element_id(table_id))
    data = json_for_script(compact_rows(frame.astype("string").fillna("")))
    return f"window.__ekData=window.__ekData||{{}};window.__ekData[{key}]={data};\n"


def register(frame: pd.DataFrame, table_id: str, *, lang: str = "zh",
             labels: Mapping[str, str] | None = None, script_dir: str | Path | None = None,
             page_size: int = 50, link: tuple[str, str] | None = None) -> str:
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
    link : (column, href column), optional
        The shown column whose cells link to the URL in the href column (travels first, unshown).
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ReportError(param_message("page_size", "register", "a positive integer", repr(page_size)))
    tid = element_id(table_id)
    extra = ""
    if link is not None:  # the URLs travel first, unshown
        frame = frame[[link[1]] + [c for c in frame.columns if c != link[1]]]
        extra = f' data-link-col="{list(frame.columns).index(link[0])}" data-href-col="0"'
    shown_cols = [c for c in frame.columns if link is None or c != link[1]]
    heads = labels or {c: t(str(c), lang) for c in frame.columns}
    th = "".join(
        f'<th scope="col"{_min_width(c)}>{html.escape(heads.get(c, str(c)))}</th>' for c in shown_cols
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
        f'{source}{extra} data-page-size="{page_size}" data-none="{html.escape(t("no_match", lang), quote=True)}" '
        f'data-loading="{html.escape(t("loading", lang), quote=True)}">'
        f"<thead><tr>{th}</tr></thead><tbody>"
        f'<tr class="ek-placeholder"><td colspan="{max(1, len(shown_cols))}">{hint}</td></tr>'
        f"</tbody></table></div>"
        + _pager(tid, len(frame), page_size, lang)
    )

