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

import hashlib
import html
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.i18n import t, word, words
from evalkit.publish.markup import definition_list, element_id, format_value, heading, paragraph
from evalkit.publish.tables import table

__all__ = ["APPS_DIR", "app_href", "app_slug", "provider_anchor", "write_app_pages"]

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

    if criterion_names is None:
        from evalkit.publish.report import criterion_names as shipped

        criterion_names = shipped()
    out = Path(folder) / APPS_DIR
    out.mkdir(parents=True, exist_ok=True)
    ctx = _Context(res, lang, criterion_names)
    written = []
    for _, row in res.decisions.iterrows():  # one page per candidate
        path = out / f"{app_slug(str(row['app_id']))}.html"
        title = t("app_page_title", lang, app=str(row["app_name"]), province=ctx.province)
        path.write_text(page(ctx.body(row), title=title, lang=lang, plotly_src=""), encoding="utf-8")
        written.append(path)
    return written


class _Context:
    """The province-wide frames of a result, grouped by app once."""

    def __init__(self, res: Any, lang: str, names: dict) -> None:
        self.res, self.lang, self.names = res, lang, names
        self.province = res.name_zh if lang == "zh" else res.name_en
        self.evidence = _groups(res.evidence)
        self.waivers = _groups(res.waivers)
        self.history = _groups(res.app_history)
        ov = res.overlaps
        self.overlaps = ov if isinstance(ov, pd.DataFrame) else pd.DataFrame()
        self.credit = res.credit.drop_duplicates("provider_id").set_index("provider_id") if len(res.credit) else None
        unscored = unscored_dimensions(res.evidence)
        self.unscored = {(a, d) for a, d, u in unscored.itertuples(index=False) if u}

    def body(self, row: pd.Series) -> str:
        lang, app = self.lang, str(row["app_id"])
        nav = (f'<nav class="ek-nav"><a href="../../index.html">{html.escape(t("back_to_index", lang))}</a> · '
               f'<a href="../recommendation.html">{html.escape(t("back_to_report", lang))}</a></nav>')
        parts = [nav, heading(t("app_page_title", lang, app=str(row["app_name"]), province=self.province), 1)]
        parts += self._identity(row) + self._decision(row) + self._scores(row, app) + self._checks(app)
        parts += self._robustness(row, app) + self._history(row, app) + self._provider(row) + self._objection()
        return "".join(parts)

    def _identity(self, row: pd.Series) -> list[str]:
        lang = self.lang
        items = [(t("app_name", lang), row["app_name"]), (t("app_id", lang), row["app_id"]),
                 (t("provider", lang), row.get("provider_name", "")), (t("provider_id", lang), row["provider_id"]),
                 (t("category", lang), word("category", row.get("category", ""), lang)),
                 (t("stages", lang), words(pd.Series([row.get("stages", "")]), "stage", lang).iloc[0])]
        return [heading(t("identity", lang), 2, anchor="identity"), definition_list(items)]

    def _decision(self, row: pd.Series) -> list[str]:
        lang = self.lang
        reasons = str(row.get(f"reasons_{lang}", "") or "")
        flags = [f for f in str(row.get("flags", "") or "").split(";") if f]
        items = [(t("status", lang), word("status", row["status"], lang)),
                 (t("rank", lang), "–" if pd.isna(row.get("rank")) else int(row["rank"])),
                 (t("total_score", lang), _score(row.get("total_score")))]
        if flags:
            items.append((t("flags", lang), "、".join(word("flag", f, lang) for f in flags)))
        items.append((t("reasons", lang), reasons or "–"))
        parts = [heading(t("decision", lang), 2, anchor="decision"), definition_list(items)]
        if row["status"] == "excluded":
            parts.append(paragraph(t("veto_overrides", lang), css="ek-note"))
        return parts

    def _scores(self, row: pd.Series, app: str) -> list[str]:
        lang, i = self.lang, 0 if self.lang == "zh" else 1
        dims = [(t(d, lang), t("not_assessed", lang) if (app, d) in self.unscored else _score(row.get(d)))
                for d in _DIMENSIONS]
        parts = [heading(t("dimension_scores", lang), 2, anchor="dimensions"), definition_list(dims)]
        if any((app, d) in self.unscored for d in _DIMENSIONS):
            parts.append(paragraph(t("not_assessed_note", lang), css="ek-note"))
        ev = self.evidence.get(app)
        if ev is None or ev.empty:
            return parts
        ev = ev.loc[ev["applicable"].astype(bool)]
        shown = pd.DataFrame({
            "criterion": ev["criterion_id"].map(lambda c: self.names.get(c, (c, c))[i]),
            "dimension": ev["dimension"].map(lambda d: t(d, lang)),
            "source": words(ev["source"], "source", lang),
            "score": [t("not_assessed", lang) if e in _UNSCORED else _score(s)
                      for e, s in zip(ev["evidence"], ev["score"], strict=True)],
            "evidence_status": words(ev["evidence"], "evidence", lang),
            "value": ev["value"].astype("str"),
            "assessed_on": ev["assessed_on"], "assessor": ev["assessor"], "report_ref": ev["report_ref"],
            "panel_spread": [_spread(m, a, b, n) for m, a, b, n in
                             zip(ev["panel_median"], ev["panel_q1"], ev["panel_q3"], ev["panel_n"], strict=True)],
            "criterion_id": ev["criterion_id"],
        })
        parts += [heading(t("criterion_scores", lang), 2, anchor="criteria"),
                  table(shown, "criteria", lang=lang, searchable=False)]
        return parts

    def _checks(self, app: str) -> list[str]:
        lang, i = self.lang, 0 if self.lang == "zh" else 1
        w = self.waivers.get(app)
        parts = [heading(t("checks", lang), 2, anchor="checks"), heading(t("waivers_in_force", lang), 3)]
        if w is None or w.empty:
            return parts + [paragraph(t("no_rows", lang), css="ek-muted")]
        shown = pd.DataFrame({"criterion": w["criterion_id"].map(lambda c: self.names.get(c, (c, c))[i]),
                              "waiver_reason": w["reason"], "approved_by": w["approved_by"],
                              "approved_on": w["approved_on"], "expires_on": w["expires_on"]})
        return parts + [table(shown, "waivers", lang=lang, searchable=False)]

    def _robustness(self, row: pd.Series, app: str) -> list[str]:
        lang = self.lang
        lo, hi = row.get("rank_lo"), row.get("rank_hi")
        interval = "–" if pd.isna(lo) or pd.isna(hi) else f"{int(lo)}–{int(hi)}"
        items = [(t("p_listed", lang), _share(row.get("p_listed"))), (t("rank_interval", lang), interval),
                 (t("n_close_calls", lang), word("bool", bool(row.get("close_call")) is True, lang))]
        parts = [heading(t("robustness_related", lang), 2, anchor="robustness"), definition_list(items),
                 paragraph(t("close_call_note", lang) + " " + t("rank_interval_note", lang), css="ek-note")]
        ov = self.overlaps
        if len(ov) and {"app_id_a", "app_id_b"} <= set(ov.columns):
            a, b = ov["app_id_a"].astype("str").eq(app), ov["app_id_b"].astype("str").eq(app)
            other = pd.concat([ov.loc[a, ["app_id_b", "app_name_b", "similarity"]].set_axis(
                ["app_id", "app_name", "similarity"], axis=1), ov.loc[b, ["app_id_a", "app_name_a", "similarity"]]
                .set_axis(["app_id", "app_name", "similarity"], axis=1)], ignore_index=True)
            if len(other):
                other = other.sort_values(["similarity", "app_id"], ascending=[False, True], ignore_index=True)
                parts += [heading(t("overlap_partners", lang), 3),
                          table(other, "overlaps", lang=lang, searchable=False,
                                links={"app_name": other["app_id"].astype("str").map(
                                    lambda x: f"{app_slug(x)}.html")})]
        return parts

    def _history(self, row: pd.Series, app: str) -> list[str]:
        lang = self.lang
        h = self.history.get(app)
        now = pd.DataFrame({"as_of": [self.res.as_of.strftime("%Y-%m-%d")],
                            "status": [word("status", row["status"], lang)],
                            "change": [word("change", row.get("change", ""), lang) if row.get("change") else ""]})
        if h is not None and len(h):
            before = pd.DataFrame({"as_of": h["as_of"], "status": words(h["status"], "status", lang), "change": ""})
            now = pd.concat([before, now], ignore_index=True)
        return [heading(t("history", lang), 2, anchor="history"), table(now, "history", lang=lang, searchable=False)]

    def _provider(self, row: pd.Series) -> list[str]:
        lang, pid = self.lang, str(row["provider_id"])
        parts = [heading(t("provider_credit", lang), 2, anchor="provider")]
        if self.credit is not None and pid in self.credit.index:
            c = self.credit.loc[pid]
            parts.append(definition_list([
                (t("provider", lang), c.get("provider_name", "")), (t("provider_id", lang), pid),
                (t("score", lang), _score(c.get("score"))), (t("grade", lang), word("grade", c.get("grade"), lang)),
                (t("list", lang), word("list", c.get("list"), lang)),
                (t("ban_until", lang), format_value(c.get("ban_until")) or "–"),
                (t("reasons", lang), c.get(f"reasons_{lang}", "")),
            ]))
        href = f"../credit.html#{provider_anchor(pid)}"
        parts.append(f'<p><a href="{html.escape(href, quote=True)}">{html.escape(t("credit_entry", lang))}</a></p>')
        return parts

    def _objection(self) -> list[str]:
        lang = self.lang
        return [heading(t("how_to_object", lang), 2, anchor="objection"),
                paragraph(t("object_default", lang, province=self.province))]


def _groups(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{app_id: rows}`` of a frame with an ``app_id`` column (empty dict otherwise)."""
    if not isinstance(frame, pd.DataFrame) or frame.empty or "app_id" not in frame.columns:
        return {}
    return {str(k): g for k, g in frame.groupby(frame["app_id"].astype("str"), sort=True)}


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


def _spread(median: Any, q1: Any, q3: Any, n: Any) -> str:
    """``8.5（8.0–9.0，7）``-style panel spread, empty for a criterion no panel scored."""
    if pd.isna(median) or not n:
        return ""
    return f"{float(median):.1f} ({float(q1):.1f}–{float(q3):.1f}, n={int(n)})"
