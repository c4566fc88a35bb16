"""A public page for every candidate app of a province: ``<as_of>/<code>/apps/<slug>.html``.

Written by the publish step from the province's result with one template (no notebook run per
app): identity, the decision and every reason in words, dimension and criterion scores with
their evidence (assessment value, date, assessor, report reference; the panel's median,
quartiles and raters after conflicts were removed, never an expert's name), vetoes and the
waivers in force, robustness and overlap partners, the history across earlier cycles (read from
the register by the pipeline), the provider's credit with a link to its entry in the credit
report, and how to object.

Every data string is escaped; no complaint text or contact is read.  Same result → same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import html
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.i18n import t, word, words
from evalkit.publish.markup import definition_list, element_id, format_value, heading, paragraph

__all__ = ["APPS_DIR", "app_href", "app_slug", "flag_words", "provider_anchor", "unscored_dimensions",
           "write_app_pages"]

#: Folder of the app pages inside a province folder.
APPS_DIR = "apps"
_DIMENSIONS = ("legality", "function", "security", "content")
_UNSCORED = ("stale", "missing", "insufficient_panel")


def app_slug(app_id: str) -> str:
    """A stable, safe file name stem for an app: its id's safe characters and a short hash
    (``APP-1100112-1a2b3c4d``), so two ids never share a page."""
    digest = hashlib.sha1(str(app_id).encode("utf-8")).hexdigest()[:8]
    return f"{element_id(str(app_id))}-{digest}"


def app_href(app_id: str) -> str:
    """The app page's URL relative to its province folder (``apps/<slug>.html``)."""
    return f"{APPS_DIR}/{app_slug(app_id)}.html"


def provider_anchor(provider_id: str) -> str:
    """The element id of a provider's row in the credit report (``provider-<USCC>``)."""
    return element_id(f"provider-{provider_id}")


def flag_words(frame: pd.DataFrame, waivers: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """The flags of each app of ``frame`` in words (close call, overlap, third-party admissions),
    and "holds a waiver" for an app with a waiver in force (``waivers``), so a public table never
    shows a flagged app as clean."""
    codes = frame["flags"].astype("str").fillna("") if "flags" in frame.columns else pd.Series("", index=frame.index)
    codes = codes.str.replace("flag:", "", regex=False)
    held = set(waivers["app_id"].astype("str")) if isinstance(waivers, pd.DataFrame) and len(waivers) else set()
    codes = codes.where(~frame["app_id"].astype("str").isin(held), (codes + ";waiver").str.strip(";"))
    return words(codes, "flag", lang)


def unscored_dimensions(evidence: pd.DataFrame) -> pd.DataFrame:
    """``(app_id, dimension)`` → True where no applicable criterion of the dimension has usable
    evidence (every one stale, missing or short of raters): shown as "not assessed", not 0."""
    if evidence.empty:
        return pd.DataFrame(columns=["app_id", "dimension", "unscored"])
    ev = evidence.loc[evidence["applicable"].astype(bool)]
    usable = ~ev["evidence"].astype("str").isin(_UNSCORED)
    out = usable.groupby([ev["app_id"].astype("str"), ev["dimension"].astype("str")]).any()
    return (~out).rename("unscored").reset_index()


def write_app_pages(res: Any, folder: str | Path, lang: str = "zh", *,
                    criterion_names: dict | None = None) -> list[Path]:
    """Write one page per candidate of ``res`` (a ``ProvinceResult``) into ``folder/apps/``.

    ``criterion_names``: ``{criterion_id: (zh, en)}`` (default: the shipped rubric's).
    """
    from evalkit.publish.render import page

    names = dict(criterion_names) if criterion_names is not None else _shipped_names()
    out = Path(folder) / APPS_DIR
    out.mkdir(parents=True, exist_ok=True)
    ctx = _Context(res, lang, names)
    shell = page("\x00", title="\x01", lang=lang, plotly_src="", assets="../../assets")  # the shell once
    head, _, tail = shell.partition("\x00")
    before, _, after = head.partition("\x01")
    written = []
    for row in res.decisions.to_dict("records"):  # one page per candidate: plain string work only
        path = out / f"{app_slug(str(row['app_id']))}.html"
        title = html.escape(t("app_page_title", lang, app=str(row["app_name"]), province=ctx.province))
        path.write_text(before + title + after + ctx.body(row) + tail, encoding="utf-8")
        written.append(path)
    return written


@functools.lru_cache(maxsize=1)
def _shipped_names() -> dict[str, tuple[str, str]]:
    from evalkit.rubric import load_rubric

    return {c.id: (c.name_zh, c.name_en) for c in load_rubric(None).criteria}


class _Context:
    """The province-wide frames of a result, grouped by app once."""

    def __init__(self, res: Any, lang: str, names: dict) -> None:
        self.res, self.lang, self.names = res, lang, names
        self.province = res.name_zh if lang == "zh" else res.name_en
        self.credit = (res.credit.drop_duplicates("provider_id").set_index("provider_id").to_dict("index")
                       if len(res.credit) else {})
        unscored = unscored_dimensions(res.evidence)
        self.unscored = {(a, d) for a, d, u in unscored.itertuples(index=False) if u}
        self.criteria = _rows_by_app(*self._criteria_cells(res.evidence))
        self.waivers = _rows_by_app(*self._waiver_cells(res.waivers))
        self.history = _rows_by_app(*self._history_cells(res.app_history))
        self.overlaps = _rows_by_app(*self._overlap_cells(res.overlaps))

    def _heads(self, columns: list[str]) -> str:
        return "".join(f'<th scope="col">{html.escape(t(c, self.lang))}</th>' for c in columns)

    def _criteria_cells(self, ev: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, str]:
        cols = ["criterion", "dimension", "source", "score", "evidence_status", "value", "assessed_on", "assessor",
                "report_ref", "panel_spread", "criterion_id"]
        if not isinstance(ev, pd.DataFrame) or ev.empty:
            return pd.Series(dtype="str"), pd.DataFrame(columns=cols), self._heads(cols)
        lang, i = self.lang, 0 if self.lang == "zh" else 1
        ev = ev.loc[ev["applicable"].astype(bool)]
        unscored = ev["evidence"].astype("str").isin(_UNSCORED)
        score = ev["score"].astype("float64").map(lambda v: "–" if pd.isna(v) else f"{v:.1f}")
        n = ev["panel_n"].fillna(0).astype("int64")
        spread = (ev["panel_median"].map("{:.1f}".format) + " (" + ev["panel_q1"].map("{:.1f}".format) + "–"
                  + ev["panel_q3"].map("{:.1f}".format) + ", n=" + n.astype("str") + ")")
        cells = pd.DataFrame({
            "criterion": ev["criterion_id"].map(lambda c: self.names.get(c, (c, c))[i]),
            "dimension": ev["dimension"].astype("str").map(lambda d: t(d, lang)),
            "source": words(ev["source"], "source", lang),
            "score": score.where(~unscored, t("not_assessed", lang)),
            "evidence_status": words(ev["evidence"], "evidence", lang),
            "value": ev["value"].astype("str"), "assessed_on": ev["assessed_on"].astype("str"),
            "assessor": ev["assessor"].astype("str"), "report_ref": ev["report_ref"].astype("str"),
            "panel_spread": spread.where(n.gt(0) & ev["panel_median"].notna(), ""),
            "criterion_id": ev["criterion_id"].astype("str"),
        })
        return ev["app_id"].astype("str"), cells, self._heads(cols)

    def _waiver_cells(self, w: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, str]:
        cols = ["criterion", "waiver_reason", "approved_by", "approved_on", "expires_on"]
        if not isinstance(w, pd.DataFrame) or w.empty:
            return pd.Series(dtype="str"), pd.DataFrame(columns=cols), self._heads(cols)
        i = 0 if self.lang == "zh" else 1
        cells = pd.DataFrame({"criterion": w["criterion_id"].map(lambda c: self.names.get(c, (c, c))[i]),
                              "waiver_reason": w["reason"], "approved_by": w["approved_by"],
                              "approved_on": w["approved_on"], "expires_on": w["expires_on"]}).astype("str")
        return w["app_id"].astype("str"), cells, self._heads(cols)

    def _history_cells(self, h: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame, str]:
        cols = ["as_of", "status"]
        if not isinstance(h, pd.DataFrame) or h.empty:
            return pd.Series(dtype="str"), pd.DataFrame(columns=cols), self._heads(cols)
        cells = pd.DataFrame({"as_of": h["as_of"].astype("str"), "status": words(h["status"], "status", self.lang)})
        return h["app_id"].astype("str"), cells, self._heads(cols)

    def _overlap_cells(self, ov: Any) -> tuple[pd.Series, pd.DataFrame, str]:
        cols = ["app_name", "app_id", "similarity"]
        if not isinstance(ov, pd.DataFrame) or ov.empty or not {"app_id_a", "app_id_b"} <= set(ov.columns):
            return pd.Series(dtype="str"), pd.DataFrame(columns=cols), self._heads(cols)
        both = pd.concat([
            pd.DataFrame({"app": ov["app_id_a"], "app_id": ov["app_id_b"], "app_name": ov["app_name_b"],
                          "similarity": ov["similarity"]}),
            pd.DataFrame({"app": ov["app_id_b"], "app_id": ov["app_id_a"], "app_name": ov["app_name_a"],
                          "similarity": ov["similarity"]})], ignore_index=True).astype({"app": "str", "app_id": "str"})
        both = both.sort_values(["app", "similarity", "app_id"], ascending=[True, False, True], ignore_index=True)
        link = both["app_id"].map(lambda x: f"{app_slug(x)}.html")
        cells = pd.DataFrame({"app_name": both["app_name"].astype("str"), "app_id": both["app_id"],
                              "similarity": both["similarity"].astype("float64").map("{:.2f}".format)})
        return both["app"], cells.assign(**{"\x00href:app_name": link}), self._heads(cols)

    def body(self, row: dict) -> str:
        lang, app = self.lang, str(row["app_id"])
        nav = (f'<nav class="ek-nav"><a href="../../index.html">{html.escape(t("back_to_index", lang))}</a> · '
               f'<a href="../recommendation.html">{html.escape(t("back_to_report", lang))}</a></nav>')
        parts = [nav, heading(t("app_page_title", lang, app=str(row["app_name"]), province=self.province), 1)]
        parts += self._identity(row) + self._decision(row) + self._scores(row, app) + self._checks(app)
        parts += self._robustness(row, app) + self._history(row, app) + self._provider(row) + self._objection()
        return "".join(parts)

    def _identity(self, row: dict) -> list[str]:
        lang = self.lang
        items = [(t("app_name", lang), row["app_name"]), (t("app_id", lang), row["app_id"]),
                 (t("provider", lang), row.get("provider_name", "")), (t("provider_id", lang), row["provider_id"]),
                 (t("category", lang), word("category", row.get("category", ""), lang)),
                 (t("stages", lang), _join(lang).join(word("stage", x, lang)
                                                      for x in str(row.get("stages") or "").split(";") if x))]
        return [heading(t("identity", lang), 2, anchor="identity"), definition_list(items)]

    def _decision(self, row: dict) -> list[str]:
        lang = self.lang
        reasons = str(row.get(f"reasons_{lang}", "") or "")
        flags = [f.removeprefix("flag:") for f in str(row.get("flags", "") or "").split(";") if f]
        if str(row["app_id"]) in self.waivers[1]:
            flags.append("waiver")
        items = [(t("status", lang), word("status", row["status"], lang)),
                 (t("rank", lang), "–" if pd.isna(row.get("rank")) else int(row["rank"])),
                 (t("total_score", lang), _score(row.get("total_score")))]
        if flags:
            items.append((t("flags", lang), _join(lang).join(word("flag", f, lang) for f in flags)))
        items.append((t("reasons", lang), reasons or "–"))
        parts = [heading(t("decision", lang), 2, anchor="decision"), definition_list(items)]
        if row["status"] == "excluded":
            parts.append(paragraph(t("veto_overrides", lang), css="ek-note"))
        return parts

    def _scores(self, row: dict, app: str) -> list[str]:
        lang = self.lang
        dims = [(t(d, lang), t("not_assessed", lang) if (app, d) in self.unscored else _score(row.get(d)))
                for d in _DIMENSIONS]
        parts = [heading(t("dimension_scores", lang), 2, anchor="dimensions"), definition_list(dims)]
        if any((app, d) in self.unscored for d in _DIMENSIONS):
            parts.append(paragraph(t("not_assessed_note", lang), css="ek-note"))
        return parts + [heading(t("criterion_scores", lang), 2, anchor="criteria"), self._table("criteria", app)]

    def _table(self, name: str, app: str, extra: str = "") -> str:
        heads, rows = getattr(self, name)
        body = extra + rows.get(app, "")
        if not body:
            return paragraph(t("no_rows", self.lang), css="ek-muted")
        return (f'<div class="ek-table-wrap"><table class="ek-table" id="{name}"><thead><tr>{heads}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")

    def _checks(self, app: str) -> list[str]:
        lang = self.lang
        return [heading(t("checks", lang), 2, anchor="checks"), heading(t("waivers_in_force", lang), 3),
                self._table("waivers", app)]

    def _robustness(self, row: dict, app: str) -> list[str]:
        lang = self.lang
        lo, hi = row.get("rank_lo"), row.get("rank_hi")
        interval = "–" if pd.isna(lo) or pd.isna(hi) else f"{int(lo)}–{int(hi)}"
        items = [(t("p_listed", lang), _share(row.get("p_listed"))), (t("rank_interval", lang), interval),
                 (t("is_close_call", lang), word("bool", _truthy(row.get("close_call")), lang))]
        parts = [heading(t("robustness_related", lang), 2, anchor="robustness"), definition_list(items),
                 paragraph(t("close_call_note", lang) + " " + t("rank_interval_note", lang), css="ek-note")]
        if app in self.overlaps[1]:
            parts += [heading(t("overlap_partners", lang), 3), self._table("overlaps", app)]
        return parts

    def _history(self, row: dict, app: str) -> list[str]:
        lang = self.lang
        this = t("this_cycle", lang)
        this = f"（{this}）" if lang == "zh" else f" ({this})"
        now = (f"<tr><td>{html.escape(self.res.as_of.strftime('%Y-%m-%d') + this)}"
               f"</td><td>{html.escape(word('status', row['status'], lang))}</td></tr>")
        heads, rows = self.history
        body = rows.get(app, "") + now
        return [heading(t("history", lang), 2, anchor="history"),
                f'<div class="ek-table-wrap"><table class="ek-table" id="history"><thead><tr>{heads}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>"]

    def _provider(self, row: dict) -> list[str]:
        lang, pid = self.lang, str(row["provider_id"])
        parts = [heading(t("provider_credit", lang), 2, anchor="provider")]
        if pid in self.credit:
            c = self.credit[pid]
            parts.append(definition_list([
                (t("provider", lang), c.get("provider_name", "")), (t("provider_id", lang), pid),
                (t("score", lang), _score(c.get("score"))), (t("grade", lang), word("grade", c.get("grade"), lang)),
                (t("list", lang), word("list", c.get("list"), lang)),
                (t("ban_until", lang), _date(c.get("ban_until"))),
                (t("reasons", lang), c.get(f"reasons_{lang}", "")),
            ]))
        href = f"../credit.html#{provider_anchor(pid)}"
        parts.append(f'<p><a href="{html.escape(href, quote=True)}">{html.escape(t("credit_entry", lang))}</a></p>')
        return parts

    def _objection(self) -> list[str]:
        lang = self.lang
        return [heading(t("how_to_object", lang), 2, anchor="objection"),
                paragraph(t("object_default", lang, province=self.province))]


def _rows_by_app(apps: pd.Series, cells: pd.DataFrame, heads: str) -> tuple[str, dict[str, str]]:
    """``(header cells, {app_id: "<tr>…</tr>…"})``: every cell escaped, built for the whole
    province in one vectorised pass (a page then only joins strings).  A column
    ``"\\x00href:<col>"`` holds the link of column ``<col>`` (relative to the page)."""
    if cells.empty:
        return heads, {}
    links = {c.split(":", 1)[1]: cells[c] for c in cells.columns if c.startswith("\x00href:")}
    row = pd.Series("<tr>", index=cells.index)
    for col in [c for c in cells.columns if not c.startswith("\x00href:")]:  # a handful of columns
        text = cells[col].astype("str").replace({"nan": "", "None": "", "<NA>": ""}).map(
            lambda v: html.escape(v, quote=False))
        if col in links:
            href = links[col].astype("str").map(lambda u: html.escape(u, quote=True))
            text = '<a href="' + href + '">' + text + "</a>"
        row = row + "<td>" + text + "</td>"
    row = row + "</tr>"
    joined = row.groupby(apps.to_numpy(), sort=True).agg("".join)
    return heads, {str(k): v for k, v in joined.items()}


def _join(lang: str) -> str:
    """The separator of a list of words."""
    return "、" if lang == "zh" else ", "


def _date(value: Any) -> str:
    """A date as ``YYYY-MM-DD``, ``–`` when missing (NaT, None, empty)."""
    if value is None or value == "" or pd.isna(value):
        return "–"
    return format_value(pd.Timestamp(value))


def _truthy(value: Any) -> bool:
    """A flag cell as a bool (missing: False)."""
    return value is not None and not pd.isna(value) and bool(value)


def _score(value: Any) -> str:
    """A score (0–100) with one decimal, ``–`` when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if pd.isna(v) else f"{v:.1f}"


def _share(value: Any) -> str:
    """A probability as a percentage (``97%``), ``–`` when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if pd.isna(v) else f"{v:.0%}"


