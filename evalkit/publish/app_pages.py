"""The public details of every candidate app of a province: one viewer page per province
(``<as_of>/<code>/apps.html``) and the details as compact data files (``<code>/apps/<k>.js``).

Written by the publish step from the province's result with no notebook run and no page per
app: the viewer shows the app named in its URL (``apps.html#app=<slug>``), rendered by
``assets/apps.js`` from the one data file holding that app (the apps of a province are spread
over ``ceil(candidates / SHARD_APPS)`` files by the slug's hash, so a first load reads about
:data:`SHARD_APPS` apps whatever the province's size).  It shows identity, the decision and
every reason in words, dimension and criterion scores with their evidence (assessment value,
date, assessor, report reference; the panel's median, quartiles and raters after conflicts were
removed, never an expert's name), vetoes and the waivers in force, robustness and overlap
partners, the history across earlier cycles (read from the register by the pipeline), the
provider's credit with a link to its entry in the credit report, and how to object.

Measured at national scale (benchmarks/README.md, "App pages"): one static page per app made the
set 0.76 GB and the publish 6 minutes longer; the data files are a fraction of both.

Every data string travels as JSON escaped for a script (:func:`json_for_script`) and reaches the
page through ``textContent`` only; no complaint text or contact is read.  Same result → same
bytes.
"""

from __future__ import annotations

import functools
import hashlib
import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.i18n import t, word, words
from evalkit.publish.markup import element_id, format_value, heading, json_for_script, paragraph

__all__ = ["APPS_DIR", "APP_VIEWER", "SHARD_APPS", "app_href", "app_shard", "app_shards", "app_slug", "flag_words",
           "provider_anchor", "unscored_dimensions", "write_app_pages"]

#: The viewer page of a province folder.
APP_VIEWER = "apps.html"
#: Folder of the province's app data files (``<k>.js``).
APPS_DIR = "apps"
#: Apps per data file (about; the split is by hash): a first load reads one file.
SHARD_APPS = 200
_DIMENSIONS = ("legality", "function", "security", "content")
_UNSCORED = ("stale", "missing", "insufficient_panel")


def app_slug(app_id: str) -> str:
    """A stable, safe file name stem for an app: its id's safe characters and a short hash
    (``APP-1100112-1a2b3c4d``), so two ids never share a page."""
    digest = hashlib.sha1(str(app_id).encode("utf-8")).hexdigest()[:8]
    return f"{element_id(str(app_id))}-{digest}"


def app_href(app_id: str) -> str:
    """The app's details relative to its province folder (``apps.html#app=<slug>``)."""
    return f"{APP_VIEWER}#app={app_slug(app_id)}"


def app_shards(n_apps: int) -> int:
    """How many data files a province of ``n_apps`` candidates has (at least one)."""
    return max(1, math.ceil(n_apps / SHARD_APPS))


def app_shard(slug: str, shards: int) -> int:
    """The data file (``apps/<k>.js``) holding the app of ``slug``: its hash modulo ``shards``
    (``assets/apps.js`` computes the same)."""
    return int(slug[-8:], 16) % shards


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
    """Write the viewer ``folder/apps.html`` and the data files ``folder/apps/<k>.js`` of every
    candidate of ``res`` (a ``ProvinceResult``); returns the paths written.

    ``criterion_names``: ``{criterion_id: (zh, en)}`` (default: the shipped rubric's).
    """
    names = dict(criterion_names) if criterion_names is not None else _shipped_names()
    tables = _Tables(res, lang, names).frames()
    apps, criteria, providers = tables.pop("apps"), tables.pop("criteria"), tables.pop("providers")
    shards = app_shards(len(apps))
    out = Path(folder)
    (out / APPS_DIR).mkdir(parents=True, exist_ok=True)
    viewer = out / APP_VIEWER
    viewer.write_text(_viewer(res, lang, shards), encoding="utf-8")
    written = [viewer]
    of_slug = {s: app_shard(s, shards) for s in apps["slug"]}
    position = pd.Series(range(len(apps)), index=apps["slug"].to_numpy())
    order = position.reindex(criteria["slug"].to_numpy()).to_numpy()  # the criteria in the apps' order
    criteria = criteria.iloc[pd.Series(order).sort_values(kind="stable").index].reset_index(drop=True)
    counts = criteria["slug"].value_counts().reindex(apps["slug"], fill_value=0).to_numpy()
    apps["n_criteria"] = counts.astype("str")
    tables = {"apps": apps, **tables, "providers": providers}
    coded = {name: _Groups(frame, [(c,) for c in frame.columns]) for name, frame in tables.items()}
    coded["criteria"] = _Groups(criteria, _GROUPS)
    keys = {name: frame["slug"].map(of_slug).to_numpy() for name, frame in tables.items() if "slug" in frame}
    keys["criteria"] = np.repeat(keys["apps"], counts)  # the criteria follow the apps' order
    for k in range(shards):
        chosen = {name: key == k for name, key in keys.items()}
        chosen["providers"] = providers["provider_id"].isin(set(apps.loc[chosen["apps"], "provider_id"])).to_numpy()
        data = {name: coded[name].rows(chosen[name]) for name in coded}
        path = out / APPS_DIR / f"{k}.js"
        path.write_text(f"window.__ekApps=window.__ekApps||{{}};window.__ekApps[{k}]={json_for_script(data)};\n",
                        encoding="utf-8")
        written.append(path)
    return written


#: Columns of the criteria rows stored together (a value of the group once per data file).
_GROUPS = (("criterion", "dimension", "source", "criterion_id"), ("score", "evidence_status"), ("value",),
           ("assessed_on", "assessor", "report_ref"), ("panel_spread",))


class _Groups:
    """A table of a province, each group of columns numbered once over the whole province (in
    order of first appearance); :meth:`rows` gives the rows of one data file as ``{"n", "groups":
    [{"cols", "dict", "codes"}]}``: row ``i``'s columns ``cols`` are ``dict[codes[i]]`` (a list; the
    value itself for a group of one column), so a value travels once per file (the criteria's
    names, a report's date, assessor and reference)."""

    def __init__(self, table: pd.DataFrame, groups: Any) -> None:
        self.groups = [tuple(g) for g in groups]
        self.codes, self.values = [], []
        for cols in self.groups:
            frame = table[list(cols)].astype("str").fillna("")
            if len(cols) == 1:
                codes, uniques = pd.factorize(frame[cols[0]])
                self.codes.append(np.asarray(codes))
                self.values.append([str(u) for u in uniques])
                continue
            self.codes.append(frame.groupby(list(cols), sort=False, dropna=False).ngroup().to_numpy())
            self.values.append(frame.drop_duplicates().to_numpy().tolist())

    def rows(self, selected: Any) -> dict[str, Any]:
        out = []
        for cols, codes, values in zip(self.groups, self.codes, self.values, strict=True):
            used, local = np.unique(codes[selected], return_inverse=True)
            out.append({"cols": list(cols), "dict": [values[i] for i in used], "codes": local.tolist()})
        return {"n": int(selected.sum()), "groups": out}


@functools.lru_cache(maxsize=1)
def _shipped_names() -> dict[str, tuple[str, str]]:
    from evalkit.rubric import load_rubric

    return {c.id: (c.name_zh, c.name_en) for c in load_rubric(None).criteria}


def _fields(items: list[tuple[str, str]]) -> str:
    """A two-column label/value table whose values the viewer fills (``data-k``: the column)."""
    rows = "".join(f'<tr data-row="{k}"{" data-opt" if k in _OPTIONAL else ""}><th>{html.escape(label)}</th>'
                   f'<td data-k="{k}"></td></tr>' for label, k in items)
    return f'<table class="ek-table ek-dl"><tbody>{rows}</tbody></table>'


def _table(table_id: str, columns: list[str], lang: str, *, empty: bool = True) -> str:
    """An empty table the viewer fills, with its headers and its "none" line."""
    heads = "".join(f'<th scope="col">{html.escape(t(c, lang))}</th>' for c in columns)
    none = paragraph(t("no_rows", lang), css="ek-muted") if empty else ""
    none = none.replace("<p ", f'<p data-empty="{table_id}" hidden ', 1)
    return (f'<div class="ek-table-wrap" data-wrap="{table_id}"><table class="ek-table" id="{table_id}">'
            f"<thead><tr>{heads}</tr></thead><tbody></tbody></table></div>{none}")


def _shown(what: str, inner: str) -> str:
    return f'<div data-show="{what}" hidden>{inner}</div>'


_CRITERIA = ["criterion", "dimension", "source", "score", "evidence_status", "value", "assessed_on", "assessor",
             "report_ref", "panel_spread", "criterion_id"]
_WAIVERS = ["criterion", "waiver_reason", "approved_by", "approved_on", "expires_on"]
_OPTIONAL = ("flags",)  # rows hidden when empty
_HISTORY = ["as_of", "status"]
_OVERLAPS = ["app_name", "app_id", "similarity"]
_CREDIT = ["provider_name", "provider_id", "score", "grade", "list", "ban_until", "reasons"]


def _viewer(res: Any, lang: str, shards: int) -> str:
    """The province's viewer page: every heading, label and table head of an app's details,
    the values left for ``assets/apps.js`` to fill from the data file."""
    from evalkit.publish.render import page

    province = res.name_zh if lang == "zh" else res.name_en
    before, _, after = t("app_page_title", lang, app="\x00", province=province).partition("\x00")
    this = t("this_cycle", lang)
    this = f"（{this}）" if lang == "zh" else f" ({this})"
    text = {"title": [before, after], "choose": t("app_choose", lang), "not_found": t("app_not_found", lang),
            "this_cycle": res.as_of.strftime("%Y-%m-%d") + this, "criteria": _CRITERIA,
            "waivers": _WAIVERS}
    title = t("app_viewer_title", lang, province=province)
    nav = (f'<nav class="ek-nav"><a href="../index.html">{html.escape(t("back_to_index", lang))}</a> · '
           f'<a href="recommendation.html">{html.escape(t("back_to_report", lang))}</a></nav>')
    tl = lambda k: t(k, lang)  # noqa: E731
    details = [
        heading(tl("identity"), 2, anchor="identity"),
        _fields([(tl(k), k) for k in ("app_name", "app_id", "provider", "provider_id", "category", "stages")]),
        heading(tl("decision"), 2, anchor="decision"),
        _fields([(tl(k), k) for k in ("status", "rank", "total_score", "flags", "reasons")]),
        _shown("excluded", paragraph(tl("veto_overrides"), css="ek-note")),
        heading(tl("dimension_scores"), 2, anchor="dimensions"), _fields([(tl(d), d) for d in _DIMENSIONS]),
        _shown("unscored", paragraph(tl("not_assessed_note"), css="ek-note")),
        heading(tl("criterion_scores"), 2, anchor="criteria"), _table("criteria", _CRITERIA, lang),
        heading(tl("checks"), 2, anchor="checks"), heading(tl("waivers_in_force"), 3),
        _table("waivers", _WAIVERS, lang),
        heading(tl("robustness_related"), 2, anchor="robustness"),
        _fields([(tl(k), k) for k in ("p_listed", "rank_interval", "is_close_call")]),
        paragraph(tl("close_call_note") + " " + tl("rank_interval_note"), css="ek-note"),
        _shown("overlaps", heading(tl("overlap_partners"), 3) + _table("overlaps", _OVERLAPS, lang, empty=False)),
        heading(tl("history"), 2, anchor="history"), _table("history", _HISTORY, lang, empty=False),
        heading(tl("provider_credit"), 2, anchor="provider"),
        _shown("credit", _fields([(tl("provider" if k == "provider_name" else k), "credit_" + k) for k in _CREDIT])),
        f'<p><a id="ek-credit-link" href="credit.html">{html.escape(tl("credit_entry"))}</a></p>',
        heading(tl("how_to_object"), 2, anchor="objection"), paragraph(t("object_default", lang, province=province)),
    ]
    body = (f'{nav}<h1 id="ek-app-title">{html.escape(title)}</h1>'
            f'<p id="ek-app-msg" class="ek-muted">{html.escape(tl("app_loading"))}</p>'
            f'<div id="ek-app" hidden data-app-shards="{shards}" data-app-data="{APPS_DIR}/">{"".join(details)}</div>'
            f'<script type="application/json" id="ek-app-words">{json_for_script(text)}</script>')
    shell = page(body, title=title, lang=lang, plotly_src="", assets="../assets")
    script = '<script src="../assets/report.js"></script>'
    return shell.replace(script, script + '\n<script src="../assets/apps.js"></script>', 1)


def _fmt(values: Any, spec: str) -> pd.Series:
    """Numbers formatted with ``spec`` (``"{:.1f}"``), ``–`` when missing (each distinct value
    formatted once)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    codes, uniques = pd.factorize(v)  # missing: -1, the last entry
    text = np.array([spec.format(x) for x in uniques] + ["–"], dtype=object)
    return pd.Series(text[codes], index=v.index, dtype="str")


def _each(values: pd.Series, fn: Any) -> pd.Series:
    """``fn`` of each distinct value of ``values`` (as text), mapped back to every row."""
    text = values.astype("str")
    codes, uniques = pd.factorize(text)
    out = np.array([fn(x) for x in uniques] + [""], dtype=object)
    return pd.Series(out[codes], index=values.index, dtype="str")


def _words(codes: pd.Series, vocabulary: str, lang: str) -> pd.Series:
    """:func:`evalkit.i18n.words` of each distinct value, mapped back to every row."""
    text = codes.astype("str").fillna("")
    found, uniques = pd.factorize(text)
    out = np.array([*words(pd.Series(uniques, dtype="str"), vocabulary, lang), ""], dtype=object)
    return pd.Series(out[found], index=codes.index, dtype="str")


def _slugs(ids: pd.Series) -> pd.Series:
    """:func:`app_slug` of each id (each distinct id hashed once)."""
    return _each(ids, app_slug)


class _Tables:
    """The province's details as flat frames of display text, one per kind (the columns
    ``assets/apps.js`` reads by name), each row keyed by the app's ``slug``; built for the whole
    province in vectorised passes."""

    def __init__(self, res: Any, lang: str, names: dict) -> None:
        self.res, self.lang, self.names = res, lang, names
        self.i = 0 if lang == "zh" else 1

    def frames(self) -> dict[str, pd.DataFrame]:
        res = self.res
        return {"apps": self.apps(res.decisions), "criteria": self.criteria(res.evidence),
                "waivers": self.waivers(res.waivers), "history": self.history(res.app_history),
                "overlaps": self.overlaps(res.overlaps), "providers": self.providers(res.credit)}

    def _criterion(self, ids: pd.Series) -> pd.Series:
        return _each(ids, lambda c: self.names.get(c, (c, c))[self.i])

    def apps(self, d: pd.DataFrame) -> pd.DataFrame:
        lang, res = self.lang, self.res
        ids = d["app_id"].astype("str")
        col = lambda c: d[c] if c in d.columns else pd.Series("", index=d.index)  # noqa: E731
        unscored = unscored_dimensions(res.evidence)
        unscored = set(map(tuple, unscored.loc[unscored["unscored"].astype(bool), ["app_id", "dimension"]].to_numpy()))
        out = pd.DataFrame({
            "slug": _slugs(ids), "app_name": d["app_name"].astype("str"), "app_id": ids,
            "provider": col("provider_name").astype("str"), "provider_id": d["provider_id"].astype("str"),
            "category": words(col("category"), "category", lang), "stages": words(col("stages"), "stage", lang),
            "status": words(d["status"], "status", lang), "rank": _fmt(col("rank"), "{:.0f}"),
            "total_score": _fmt(col("total_score"), "{:.1f}"), "flags": flag_words(d, res.waivers, lang),
            "reasons": col(f"reasons_{lang}").fillna("").astype("str").replace("", "–"),
            "excluded": d["status"].astype("str").eq("excluded").map({True: "1", False: ""}),
        })
        for dim in _DIMENSIONS:
            gone = pd.Series([(a, dim) in unscored for a in ids], index=d.index, dtype=bool)
            out[dim] = _fmt(col(dim), "{:.1f}").where(~gone, t("not_assessed", lang))
        out["unscored"] = out[list(_DIMENSIONS)].eq(t("not_assessed", lang)).any(axis=1).map({True: "1", False: ""})
        out["p_listed"] = _fmt(col("p_listed"), "{:.0%}")
        lo, hi = _fmt(col("rank_lo"), "{:.0f}"), _fmt(col("rank_hi"), "{:.0f}")
        out["rank_interval"] = (lo + "–" + hi).where(lo.ne("–") & hi.ne("–"), "–")
        close = col("close_call").map(_truthy)
        out["is_close_call"] = close.map({True: word("bool", True, lang), False: word("bool", False, lang)})
        out["this_status"] = out["status"]
        out["href_credit"] = "credit.html#" + d["provider_id"].astype("str").map(provider_anchor)
        return out.reset_index(drop=True)

    def criteria(self, ev: pd.DataFrame) -> pd.DataFrame:
        lang = self.lang
        if not isinstance(ev, pd.DataFrame) or ev.empty:
            return pd.DataFrame(columns=["slug", *_CRITERIA])
        ev = ev.loc[ev["applicable"].astype(bool)]
        unscored = ev["evidence"].astype("str").isin(_UNSCORED)
        n = ev["panel_n"].fillna(0).astype("int64")
        spread = (_fmt(ev["panel_median"], "{:.1f}") + " (" + _fmt(ev["panel_q1"], "{:.1f}") + "–"
                  + _fmt(ev["panel_q3"], "{:.1f}") + ", n=" + n.astype("str") + ")")
        return pd.DataFrame({
            "slug": ev["app_id"].pipe(_slugs), "criterion": self._criterion(ev["criterion_id"]),
            "dimension": _each(ev["dimension"], lambda x: t(x, lang)),
            "source": _words(ev["source"], "source", lang),
            "score": _fmt(ev["score"], "{:.1f}").where(~unscored, t("not_assessed", lang)),
            "evidence_status": _words(ev["evidence"], "evidence", lang),
            "value": ev["value"].astype("str"), "assessed_on": ev["assessed_on"].astype("str"),
            "assessor": ev["assessor"].astype("str"), "report_ref": ev["report_ref"].astype("str"),
            "panel_spread": spread.where(n.gt(0) & ev["panel_median"].notna(), ""),
            "criterion_id": ev["criterion_id"].astype("str"),
        }).replace({"nan": "", "None": "", "<NA>": ""}).reset_index(drop=True)

    def waivers(self, w: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(w, pd.DataFrame) or w.empty:
            return pd.DataFrame(columns=["slug", *_WAIVERS])
        return pd.DataFrame({"slug": w["app_id"].pipe(_slugs),
                             "criterion": self._criterion(w["criterion_id"]), "waiver_reason": w["reason"],
                             "approved_by": w["approved_by"], "approved_on": w["approved_on"],
                             "expires_on": w["expires_on"]}).astype("str").reset_index(drop=True)

    def history(self, h: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(h, pd.DataFrame) or h.empty:
            return pd.DataFrame(columns=["slug", *_HISTORY])
        return pd.DataFrame({"slug": h["app_id"].pipe(_slugs), "as_of": h["as_of"].astype("str"),
                             "status": words(h["status"], "status", self.lang)}).reset_index(drop=True)

    def overlaps(self, ov: Any) -> pd.DataFrame:
        cols = ["slug", *_OVERLAPS, "href_app_name"]
        if not isinstance(ov, pd.DataFrame) or ov.empty or not {"app_id_a", "app_id_b"} <= set(ov.columns):
            return pd.DataFrame(columns=cols)
        both = pd.concat([
            pd.DataFrame({"app": ov["app_id_a"], "app_id": ov["app_id_b"], "app_name": ov["app_name_b"],
                          "similarity": ov["similarity"]}),
            pd.DataFrame({"app": ov["app_id_b"], "app_id": ov["app_id_a"], "app_name": ov["app_name_a"],
                          "similarity": ov["similarity"]})], ignore_index=True).astype({"app": "str", "app_id": "str"})
        both = both.sort_values(["app", "similarity", "app_id"], ascending=[True, False, True], ignore_index=True)
        return pd.DataFrame({"slug": _slugs(both["app"]), "app_name": both["app_name"].astype("str"),
                             "app_id": both["app_id"], "similarity": _fmt(both["similarity"], "{:.2f}"),
                             "href_app_name": "#app=" + _slugs(both["app_id"])})

    def providers(self, c: pd.DataFrame) -> pd.DataFrame:
        cols = ["provider_id", *("credit_" + k for k in _CREDIT)]
        if not isinstance(c, pd.DataFrame) or c.empty:
            return pd.DataFrame(columns=cols)
        lang = self.lang
        c = c.drop_duplicates("provider_id")
        col = lambda k: c[k] if k in c.columns else pd.Series("", index=c.index)  # noqa: E731
        out = pd.DataFrame({
            "provider_id": c["provider_id"].astype("str"), "credit_provider_name": col("provider_name").astype("str"),
            "credit_provider_id": c["provider_id"].astype("str"), "credit_score": _fmt(col("score"), "{:.1f}"),
            "credit_grade": words(col("grade"), "grade", lang), "credit_list": words(col("list"), "list", lang),
            "credit_ban_until": col("ban_until").map(_date),
            "credit_reasons": col(f"reasons_{lang}").fillna("").astype("str"),
        })
        return out[cols].reset_index(drop=True)


def _date(value: Any) -> str:
    """A date as ``YYYY-MM-DD``, ``–`` when missing (NaT, None, empty)."""
    if value is None or value == "" or pd.isna(value):
        return "–"
    return format_value(pd.Timestamp(value))


def _truthy(value: Any) -> bool:
    """A flag cell as a bool (missing: False)."""
    return value is not None and not pd.isna(value) and bool(value)
