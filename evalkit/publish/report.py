"""Display helpers the report notebooks call: headings, key figures, tables, plotly figures,
reasons and criteria in words.

Display only, no business rules: every helper takes frames already computed by
:mod:`evalkit.evaluate.pipeline` and returns an HTML string (``show`` displays it in the kernel).
The notebooks import this one module (``from evalkit.publish import report as R``); the helpers
live in :mod:`evalkit.publish.markup` (HTML pieces), :mod:`evalkit.publish.tables` (tables,
the province index, the public register) and :mod:`evalkit.publish.charts` (plotly figures);
the words (reasons, criteria, the weights section of a province's method) are here.  What the
notebooks display is loaded by :func:`evalkit.publish.cache.load_province` and
:func:`evalkit.publish.national.load_national`.

* Every string that comes from data is escaped (``html.escape`` / ``DataFrame.to_html``);
  figure texts go through :func:`evalkit.publish.charts.plotly_text`, so plotly.js shows
  ``<script>`` as text and a quote as a quote.
* Lists in words are joined with the punctuation of the page's language (:func:`separator`).
* Figures load plotly.js once from the report set's shared ``assets/plotly.min.js`` and the
  same inputs give the same bytes.
* Embedded JSON (paged tables, the public register) is escaped for a ``<script>`` element by
  one function, :func:`json_for_script`.
* Long tables are :func:`paged_table`; the public register is written to a separate
  ``register.js`` loaded on first use of its search box (:func:`register`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import param_message
from evalkit.i18n import separator, t, word, words
from evalkit.publish.app_pages import app_href, flag_words, provider_anchor, unscored_dimensions
from evalkit.publish.charts import (
    FONT_FAMILY,
    bar,
    figure,
    heatmap,
    histogram,
    plotly_text,
    radar,
    scatter_interval,
    stacked_bar,
)
from evalkit.publish.issue import issue_block
from evalkit.publish.markup import (
    ReportError,
    definition_list,
    element_id,
    format_value,
    heading,
    json_for_script,
    key_figures,
    paragraph,
    percent,
    show,
)
from evalkit.publish.national import NATIONAL_FILE
from evalkit.publish.tables import (
    MIN_WIDTHS,
    REGISTER_SCRIPT,
    compact_rows,
    heat_table,
    paged_table,
    pick,
    province_index,
    register,
    register_script,
    table,
)

__all__ = [
    "FONT_FAMILY",
    "NATIONAL_FILE",
    "app_href",
    "disclosure_section",
    "downloads",
    "flag_words",
    "issue_block",
    "glossary_list",
    "nav",
    "provider_anchor",
    "provider_apps",
    "MIN_WIDTHS",
    "REGISTER_SCRIPT",
    "ReportError",
    "bar",
    "compact_rows",
    "criterion_failed",
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
    "near_cutoff",
    "objections_section",
    "paged_table",
    "paragraph",
    "percent",
    "pick",
    "plotly_text",
    "priority_legend",
    "sanction_notices",
    "province_index",
    "radar",
    "reason_counts",
    "reason_words",
    "register",
    "register_script",
    "scatter_interval",
    "separator",
    "show",
    "stacked_bar",
    "t",
    "table",
    "translate_codes",
    "unscored_dimensions",
    "weights_section",
    "weights_sources",
    "word",
    "words",
]


# ----------------------------------------------------------------------------------------
# the rows a chart shows, reasons and criteria in words


def near_cutoff(ranked: pd.DataFrame, *, listed: pd.Series, close_call: pd.Series | None = None,
                after: int = 20) -> pd.DataFrame:
    """The candidates around the cut-off: the listed ones, the close calls and the ``after``
    candidates ranked just below the last listed one.

    ``ranked`` must be sorted by rank; ``listed`` and ``close_call`` are boolean Series aligned
    with it.  Robustness charts show these instead of every candidate of a national run.
    """
    if not isinstance(after, int) or after < 0:
        raise ReportError(param_message("after", "near_cutoff", "a non-negative integer", repr(after)))
    keep = listed.fillna(False).astype(bool).to_numpy()
    last = int(keep.nonzero()[0].max()) + 1 if keep.any() else 0  # just below the last listed
    if close_call is not None:
        keep = keep | close_call.fillna(False).astype(bool).to_numpy()
    position = pd.RangeIndex(len(ranked)).to_numpy()
    return ranked[keep | ((position >= last) & (position < last + after))]


def reason_counts(reasons: pd.Series, lang: str = "zh") -> pd.DataFrame:
    """How many rows give each kind of reason.

    ``reasons`` are in words, joined by "；" ("; " in English); a reason's kind is its text
    before "：" (": "), e.g. "否决项" for "否决项：等级测评报告已过期（2026-03-02 到期）", unless
    the colon is inside a bracket ("移出名单（异议理由：广告）" is a kind of its own, whole).
    Returns a frame with columns ``reasons`` and ``n_apps``, most frequent first (ties by text).
    """
    sep, colon = separator("clause", lang), separator("colon", lang)
    parts = reasons.astype("string").fillna("").astype(str).str.split(sep, regex=False).explode()
    parts = parts[parts.ne("")]
    head = parts.str.extract(f"^([^（(]*?){re.escape(colon)}", expand=False)
    parts = head.where(head.notna(), parts).astype(str)
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

    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), CREDIT_REASONS,
                        failed=criterion_failed())


def translate_codes(codes: pd.Series, lang: str, messages: Mapping[str, str] | None = None) -> pd.Series:
    """Turn ``;``-joined reason codes into words (``messages`` first, then :func:`reason_words`)."""
    if not messages:
        return reason_words(codes, lang)
    from evalkit.evaluate.credit import REASONS as CREDIT_REASONS
    from evalkit.evaluate.reasons import reasons_text

    registry = {**CREDIT_REASONS, **{k: (v, v) for k, v in messages.items()}}
    return reasons_text(codes.astype("str").fillna(""), lang, criterion_names(), registry, failed=criterion_failed())


@functools.lru_cache(maxsize=4)
def _criterion_words(rubric_dir: str | None) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    from evalkit.rubric import load_rubric

    rb = load_rubric(rubric_dir)
    return ({c.id: (c.name_zh, c.name_en) for c in rb.criteria},
            {c.id: (c.failed_zh, c.failed_en) for c in rb.criteria if c.failed_zh})


def _criterion_names(rubric_dir: str | None) -> dict[str, tuple[str, str]]:
    return _criterion_words(rubric_dir)[0]


def criterion_failed(rubric_dir: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``{criterion_id: (zh, en)}``: what a failure of each criterion means (the rubric's ``failed``)."""
    return dict(_criterion_words(None if rubric_dir is None else str(rubric_dir))[1])


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
# the weights section of a province's method


def _expert_crs(experts: Iterable[Mapping[str, Any]], lang: str) -> str:
    """``E1 0.012；E3 0.482 ×`` (× excluded, – no CR: an incomplete matrix)."""
    return separator("clause", lang).join(
        f"{e.get('expert_id')} {format_value(e.get('cr'))}" + (" ×" if e.get("excluded") else "") for e in experts
    )


def _province_word(code: str, lang: str) -> str:
    """``广东省（44）`` / ``Guangdong (44)``; the national word for an empty code."""
    from evalkit.data.identifiers import PROVINCES

    prov = PROVINCES.get(str(code))
    if prov is None:
        return t("national_waiver", lang) if not code else str(code)
    return f"{prov.name_zh}（{code}）" if lang == "zh" else f"{prov.name_en} ({code})"


def _level_word(level: str, lang: str) -> str:
    """An AHP level in words: ``between dimensions`` or the dimension's name."""
    return t("dimensions_level", lang) if level == "dimensions" else t(level, lang)


def weights_sources(method: Mapping[str, Any], lang: str = "zh") -> str:
    """Where each level's weights come from, in words, one clause per level (sorted):
    ``between dimensions: AHP (expert judgments); Function: the rubric's stated weights``."""
    sources = method.get("weights_source") or {}
    return separator("clause", lang).join(
        t("weights_source_of", lang, what=_level_word(k, lang), how=word("weights_source", v, lang))
        for k, v in sorted(sources.items()))


def _level_rows(ahp: Mapping[str, Mapping[str, Any]], lang: str) -> pd.DataFrame:
    """One row per AHP level of a province's method: whose judgments, experts, CRs."""
    rows = []
    first = ["dimensions", "legality", "function", "security", "content"]  # the rubric's order
    for level in sorted(ahp, key=lambda k: (first.index(k) if k in first else len(first), k)):  # five levels
        lv = ahp[level]
        whose = word("ahp_judgments", lv.get("judgments", ""), lang)
        if lv.get("fallback"):
            whose += separator("colon", lang) + word("weights_fallback", lv["fallback"], lang)
        crs = [_expert_crs(lv.get(k) or [], lang) for k in ("experts", "national_experts")]
        rows.append({
            "ahp_level": _level_word(level, lang),
            "ahp_judgments": whose, "ahp_n_experts": lv.get("n_experts"),
            "ahp_expert_crs": separator("clause", lang).join(c for c in crs if c) or "–",
            "ahp_combined_cr": lv.get("cr"),
        })
    return pd.DataFrame(rows, columns=["ahp_level", "ahp_judgments", "ahp_n_experts", "ahp_expert_crs",
                                       "ahp_combined_cr"]).astype({"ahp_combined_cr": "float64"})


def weights_section(method: Mapping[str, Any], lang: str = "zh") -> str:
    """The weights part of a province's method: the weighting method's rule, whose AHP judgments each
    level uses (the province's experts or the national fallback), every expert's CR with the
    excluded ones marked, the combined CR, and the waivers not applied (non-waivable vetoes)."""
    how = method.get("weights_method", "ahp")  # named in the method's list (the notebook)
    parts = []
    if how in ("entropy", "combined"):
        parts.append(paragraph(t(f"{how}_rule", lang), css="ek-note"))
    parts += [heading(t("ahp_levels", lang), 3), paragraph(t("ahp_rule", lang), css="ek-note"),
              table(_level_rows(method.get("ahp") or {}, lang), "ahp-levels", lang=lang, searchable=False,
                    float_digits=3)]
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


def disclosure_section(result: Any, lang: str = "zh") -> str:
    """The rest of the method, disclosed (issue 15, Deliver 4): conflicts of interest removed from
    the scoring panel (a count per panel and round, never names), and the waivers in force this
    cycle (app, criterion, reason, approver, dates), each said in words also when there are none."""
    conflicts = result.conflicts
    if len(conflicts):
        per_round = conflicts.groupby("round", sort=True).agg(
            n_scores=("criterion_id", "size"), n_experts=("expert_id", "nunique"), n_apps=("app_id", "nunique"))
        said = [t("conflicts_round", lang, round=int(r), scores=int(n.n_scores), experts=int(n.n_experts),
                  apps=int(n.n_apps)) for r, n in per_round.iterrows()]  # a few rounds
        text = t("conflicts_removed", lang, rounds=separator("clause", lang).join(said))
    else:
        text = t("conflicts_none", lang)
    parts = [heading(t("conflicts_heading", lang), 3), paragraph(text)]
    waivers = result.waivers
    parts.append(heading(t("waivers_in_force", lang), 3))
    if len(waivers):
        names = result.decisions.set_index("app_id")["app_name"] if "app_name" in result.decisions else {}
        shown = pd.DataFrame({
            "app_id": waivers["app_id"], "app_name": waivers["app_id"].map(names).fillna(""),
            "criterion": criterion_labels(waivers["criterion_id"], lang), "approved_by": waivers["approved_by"],
            "waiver_reason": waivers["reason"], "approved_on": waivers["approved_on"],
            "expires_on": waivers["expires_on"],
        })
        parts += [paragraph(t("waivers_in_force_note", lang, n=len(waivers)), css="ek-note"),
                  table(shown, "waivers-in-force", lang=lang, searchable=False)]
    else:
        parts.append(paragraph(t("waivers_none", lang)))
    return "".join(parts)



# ----------------------------------------------------------------------------------------
# links: the way back, a report's downloads, the glossary


def nav(lang: str = "zh", *, index: str = "../index.html") -> str:
    """The way back to the index, at the top of a province report."""
    import html as _html

    back = _html.escape(t("back_to_index", lang))
    return f'<nav class="ek-nav"><a href="{_html.escape(index, quote=True)}">{back}</a></nav>'


def downloads(files: Iterable[str], lang: str = "zh", *, notebook: str | None = None) -> str:
    """Links to a report's exports (file names relative to the page) and its executed notebook.

    In Chinese each export that has a ``_zh`` companion (:mod:`evalkit.evaluate.companions`:
    Chinese headers, words beside the codes) is followed by a link to it."""
    import html as _html

    from evalkit.evaluate.companions import COMPANIONS, companion_name

    named = [f.rsplit("/", 1)[-1] for f in files]
    files = [g for f, n in zip(files, named, strict=True)
             for g in ([f, f[: len(f) - len(n)] + companion_name(n)]
                       if lang == "zh" and (n in COMPANIONS or n == NATIONAL_FILE) else [f])]
    items = [f'<li><a href="{_html.escape(f, quote=True)}" download>{_html.escape(f)}</a></li>' for f in files]
    if notebook:
        items.append(f'<li><a href="{_html.escape(notebook, quote=True)}">{_html.escape(t("executed_notebook", lang))}'
                     "</a></li>")
    return f'<ul class="ek-downloads">{"".join(items)}</ul>'


def provider_apps(credit: pd.DataFrame, decisions: pd.DataFrame, lang: str = "zh") -> tuple[pd.Series, str]:
    """The way from a provider's entry in the credit report to its apps' details: the links of
    the credit table's provider names (``#apps-of-<USCC>``, empty for a provider with no
    candidate here) and the table they lead to, every candidate of the province by provider,
    each app linked to its details (``apps.html#app=<slug>``)."""
    apps = decisions[["provider_id", "app_id", "app_name", "status"]].astype({"provider_id": "str", "app_id": "str"})
    names = credit.assign(provider_id=credit["provider_id"].astype("str")).set_index("provider_id")["provider_name"]
    apps = apps.assign(provider_name=apps["provider_id"].map(names).fillna("")).sort_values(
        ["provider_id", "app_name", "app_id"], kind="stable").reset_index(drop=True)
    first = ~apps["provider_id"].duplicated()
    ids = ("apps-of-" + apps["provider_id"]).where(first, "app-of-" + apps["app_id"])
    to = credit["provider_id"].astype("str")
    links = ("#" + ("apps-of-" + to).map(element_id)).where(to.isin(set(apps["provider_id"])), "")
    shown = pick(apps.assign(status=words(apps["status"], "status", lang)),
                 ["provider_id", "provider_name", "app_name", "status"])
    body = table(shown, "provider-apps", lang=lang, links={"app_name": apps["app_id"].map(app_href)}, row_ids=ids)
    return links, (heading(t("provider_apps", lang), 2, anchor="provider-apps") + body) if len(apps) else ""


def glossary_list(lang: str = "zh") -> str:
    """The statistics of the method in plain words (:mod:`evalkit.glossary`)."""
    from evalkit.glossary import glossary

    return definition_list(glossary(lang))


def sanction_notices(credit: pd.DataFrame, code: str, as_of: str, lang: str = "zh") -> str:
    """The providers served a sanction notice whose decision is still to come (stage
    ``notified``), each name linked to its notice: ``sanction_notices/<USCC>.html`` of the cycle
    that served it (this folder, or ``../../<notified_on>/<code>/`` of an earlier set)."""
    if "sanction_stage" not in credit.columns:
        return ""
    open_ = credit.loc[credit["sanction_stage"].astype(str).eq("notified")].sort_values("provider_id").reset_index(
        drop=True)
    body = heading(t("sanction_notices", lang), 2, anchor="sanction-notices")
    if open_.empty:
        return body + paragraph(t("no_rows", lang), css="ek-muted")
    pid, day = open_["provider_id"].astype(str), open_["notified_on"].astype(str)
    page = "sanction_notices/" + pid + ".html"
    hrefs = page.where(day.eq(str(as_of)), "../../" + day + f"/{code}/" + page)
    shown = pick(open_.assign(proposed_list=words(open_["proposed_list"], "list", lang)),
                 ["provider_id", "provider_name", "proposed_list", "notified_on", "statement_ends_on"])
    return (body + paragraph(t("sanction_notices_note", lang), css="ek-note")
            + table(shown, "sanction-notices", lang=lang, links={"provider_name": hrefs}))


def priority_legend(quality: Mapping[str, Any], lang: str = "zh") -> str:
    """The legend of the inspection priorities, for the basis the early warning actually used
    (``quality`` is :attr:`evalkit.evaluate.risk.RiskResult.quality`): with the warning model,
    its risk bands (the thresholds it used); with the rules, the rules in words and what the
    risk percentage beside them is (the baseline's estimate, which does not set the priority)."""
    from evalkit.evaluate.risk import PRIORITY_CUTS

    if quality.get("basis") == "model":
        a, b, c = (f"{100 * float(x):g}%" for x in (quality.get("priority_cuts") or PRIORITY_CUTS))
        return t("priority_legend", lang, a=a, b=b, c=c)
    return t("priority_legend_rules", lang, days=quality.get("horizon_days") or 90)


#: What the re-check led to, per action of :mod:`evalkit.evaluate.objections` (words in i18n).
_ACTION_KEYS = {"hold": "objection_action_hold", "remove": "objection_action_remove",
                "reevaluate": "objection_action_reevaluate", "none": "objection_action_none"}


def objections_section(res: Any, lang: str = "zh") -> str:
    """The objections to the public notice and their re-checks: counts by grounds, source and
    outcome, then each objection's outcome for its app in words.  Codes, dates and app names
    only: the objection's text and contact are personal data and never reach a report."""
    o = getattr(res, "objections", None)
    parts = [heading(t("objections_title", lang), 2, anchor="objections")]
    if o is None or o.empty:
        return "".join(parts) + paragraph(t("objections_none", lang), css="ek-muted")
    real = o.loc[o["objection_id"].ne("register")]
    counts = []
    for col, vocab in (("grounds", "objection_grounds"), ("from_kind", "objection_from"), ("outcome", "objection")):
        vc = real[col].value_counts()
        counts.append((t(f"objections_by_{col}", lang),
                       separator("clause", lang).join(f"{word(vocab, k, lang)} {int(v)}" for k, v in vc.items())
                       or "–"))
    names = res.decisions.set_index("app_id")["app_name"] if len(res.decisions) else pd.Series(dtype=str)
    rows = pd.DataFrame({
        "app_id": o["app_id"], "app_name": o["app_id"].map(names).fillna(""),
        "objection_from": words(o["from_kind"], "objection_from", lang),
        "objection_grounds": words(o["grounds"], "objection_grounds", lang),
        "objection_received": o["received_on"], "objection_outcome": words(o["outcome"], "objection", lang),
        "objection_decided": o["decided_on"],
        "objection_effect": o["action"].map(lambda a: t(_ACTION_KEYS.get(a, a), lang)).where(
            o["outcome"].ne("not_admitted"), t("objection_action_not_admitted", lang)),
    })
    kept = o["objection_id"].eq("register").to_numpy()  # on hold in the register, its row gone from the input
    rows.loc[kept, ["objection_from", "objection_grounds"]] = "–"
    rows.loc[kept, "objection_effect"] = t("objection_action_hold_register", lang)
    return "".join([*parts, paragraph(t("objections_note", lang), css="ek-note"), definition_list(counts),
                    table(rows, "objections", lang=lang, searchable=False)])
