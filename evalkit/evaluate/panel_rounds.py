"""Delphi rounds of a province's panel: the feedback of a round and the summary between rounds.

* :func:`round_scores` — one round's scores of one province, conflicts of interest removed
  (the same selection as the aggregation, :func:`evalkit.evaluate.panel_selection.select_scores`);
* :func:`feedback` — per (app, criterion) the group median and interquartile range of a round
  (what the next round's score sheets show beside each cell, with the expert's own score);
* :func:`summary` — per criterion: Kendall's W (pooled over complete blocks, tie-corrected),
  the interquartile ranges, the stability against the previous round and the stopping rule.

The stopping rule (per criterion, then for the panel):

1. **Consensus** — at least 75 % of the apps have an IQR of at most 2 points on the 0–10 scale.
   von der Gracht (2012, "Consensus measurement in Delphi studies", *Technological Forecasting
   and Social Change* 79(8):1525–1536, sect. 3.2) reviews the IQR as the most used consensus
   criterion: IQR ≤ 1 on 4- or 5-point scales, IQR ≤ 2 on 10-point scales; 75 % is the median
   percentage threshold found by Diamond et al. (2014, *J. Clin. Epidemiol.* 67(4):401–409).
2. **Stability** (from round 2) — Scheibe, Skutsch & Schofer (1975, "Experiments in Delphi
   methodology", in Linstone & Turoff, *The Delphi Method*, pp. 262–287): the net change of an
   item between rounds is half the sum of the absolute changes of its response distribution
   (scores in whole-point classes); below 15 % the item is stable.  A criterion is stable when
   the mean net change over its apps is below 15 % (with 7 raters: on average at most one
   rater moved class).
3. **Stop** when a criterion has reached consensus, or is stable without it: Dajani, Sincoff &
   Talley (1979, "Stability and agreement criteria for the termination of Delphi studies",
   *Technological Forecasting and Social Change* 13(1):83–90) make stability the condition to
   end the rounds, since a stable disagreement does not resolve in further rounds (it is then
   reported as such).  Otherwise another round.  The panel stops when every criterion does.

Kendall's W is read with Schmidt's (1997, "Managing Delphi surveys using nonparametric
statistical techniques", *Decision Sciences* 28(3):763–774, Table 1) words: ≥ 0.7 strong,
≥ 0.5 moderate, ≥ 0.3 weak, below very weak agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate.panel import aggregate
from evalkit.evaluate.panel_selection import PanelError, select_scores

__all__ = ["CONSENSUS_IQR", "CONSENSUS_SHARE", "STABILITY_CHANGE", "RoundSummary", "feedback",
           "round_scores", "summary", "summary_command"]

CONSENSUS_IQR = 2.0
"""An app's panel agrees on a criterion when the IQR of its scores is at most 2 points."""
CONSENSUS_SHARE = 0.75
"""A criterion has consensus when at least this share of its apps agree."""
STABILITY_CHANGE = 0.15
"""Scheibe et al.'s (1975) net change below which an item is stable between rounds."""


def round_scores(panel_scores: pd.DataFrame, experts: pd.DataFrame, apps: pd.DataFrame, province: str,
                 rnd: int) -> pd.DataFrame:
    """The scores of round ``rnd`` in ``province`` (conflicts of interest removed).

    Returns ``app_id, expert_id, criterion_id, score`` sorted by those ids (empty when the
    round has no scores).
    """
    ps = panel_scores[(panel_scores["province_code"].astype(str) == str(province))
                      & (panel_scores["round"].astype("Int64") == int(rnd))]
    ps = ps[ps["score"].notna()]
    cols = ["app_id", "expert_id", "criterion_id", "score"]
    if ps.empty:
        return pd.DataFrame({c: pd.Series([], dtype=str if c != "score" else "float64") for c in cols})
    sel = select_scores(ps, experts, apps, int(rnd), "round_scores")
    f = sel.final
    out = pd.DataFrame({
        "app_id": sel.app_u[sel.app[f]].astype(str), "expert_id": sel.exp_u[sel.exp[f]].astype(str),
        "criterion_id": sel.crit_u[sel.crit[f]].astype(str), "score": sel.score[f].astype("float64"),
    })
    return out.sort_values(cols[:3], kind="stable").reset_index(drop=True)


def feedback(scores: pd.DataFrame) -> pd.DataFrame:
    """Per (app, criterion) of one round's scores (:func:`round_scores`): ``median, q1, q3,
    iqr, n``.  Quartiles by linear interpolation between order statistics (Hyndman & Fan's
    type 7, numpy's and Excel's QUARTILE.INC)."""
    g = scores.groupby(["app_id", "criterion_id"], sort=True)["score"]
    out = pd.DataFrame({"median": g.median(), "q1": g.quantile(0.25), "q3": g.quantile(0.75), "n": g.count()})
    out["iqr"] = out["q3"] - out["q1"]
    return out.reset_index()


def _net_change(now: pd.DataFrame, before: pd.DataFrame) -> pd.Series:
    """Scheibe et al.'s net change per (app, criterion): half the sum of the absolute changes of
    the share of answers in each whole-point class (0 … 10) between two rounds."""
    def shares(s: pd.DataFrame) -> pd.DataFrame:
        cls = np.floor(s["score"].to_numpy(dtype=float) + 0.5).astype(int)
        t = pd.crosstab([s["app_id"], s["criterion_id"]], cls, normalize="index")
        return t.reindex(columns=range(11), fill_value=0.0)

    a, b = shares(now), shares(before)
    both = a.index.intersection(b.index)
    return (a.loc[both] - b.loc[both]).abs().sum(axis=1) / 2.0


def _w_words(w: float, lang: str) -> str:
    if not np.isfinite(w):
        return "—"
    for cut, zh, en in ((0.7, "强", "strong"), (0.5, "中等", "moderate"), (0.3, "弱", "weak")):
        if w >= cut:
            return zh if lang == "zh" else en
    return "很弱" if lang == "zh" else "very weak"


@dataclass(frozen=True)
class RoundSummary:
    """Between rounds: ``criteria`` has one row per criterion (``criterion_id, n_apps,
    n_raters, kendall_w, kendall_p, agreement (Schmidt's word), median_iqr, share_agreed,
    consensus, net_change (NaN in round 1), stable (NA in round 1), decision`` with decision
    ``consensus`` / ``stable`` / ``another_round``); ``stop`` is the panel's verdict."""

    province: str
    round: int
    criteria: pd.DataFrame
    stop: bool
    #: criterion id -> (Chinese name, English name), for :meth:`text`
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        """The summary in words, in ``lang`` (zh or en)."""
        names = {k: v[0 if lang == "zh" else 1] for k, v in self.names.items()}
        words = _WORDS[lang]
        lines = [words["head"].format(p=self.province, r=self.round)]
        for r in self.criteria.itertuples():
            change = "" if pd.isna(r.net_change) else words["change"].format(c=100 * r.net_change)
            lines.append(words["row"].format(
                name=names.get(r.criterion_id, r.criterion_id), w=r.kendall_w, p=r.kendall_p,
                word=r.agreement, iqr=r.median_iqr, share=100 * r.share_agreed, change=change,
                decision=words[r.decision]))
        lines.append(words["stop" if self.stop else "go_on"].format(r=self.round + 1))
        lines.append(words["rule"])
        return "\n".join(lines)


_WORDS = {
    "zh": {
        "head": "省份 {p} 第 {r} 轮专家评分汇总（每项指标：肯德尔协调系数 W、四分位距、稳定性、结论）：",
        "row": "- {name}：W = {w:.3f}（p = {p:.3g}，一致性{word}）；各应用四分位距中位数 {iqr:.1f}，"
               "四分位距 ≤ 2 的应用占 {share:.0f}%{change}；{decision}",
        "change": "；与上一轮相比净变化 {c:.0f}%",
        "consensus": "已达成共识，可停止",
        "stable": "未达成共识但意见已稳定，可停止（如实报告分歧）",
        "another_round": "需再进行一轮",
        "stop": "结论：全部指标均满足停止规则，德尔菲评分可结束。",
        "go_on": "结论：尚有指标未满足停止规则，建议进行第 {r} 轮。",
        "rule": "停止规则：四分位距 ≤ 2 的应用占 75% 以上为共识（von der Gracht 2012；Diamond 等 2014）；"
                "两轮间净变化 < 15% 为稳定（Scheibe 等 1975）；达成共识或意见稳定即停止（Dajani 等 1979）。"
                "W 的强弱按 Schmidt（1997）。",
    },
    "en": {
        "head": "Province {p}, round {r}: panel scores per criterion (Kendall's W, IQR, stability, verdict):",
        "row": "- {name}: W = {w:.3f} (p = {p:.3g}, {word} agreement); median IQR over apps {iqr:.1f}, "
               "{share:.0f}% of apps with IQR <= 2{change}; {decision}",
        "change": "; net change from the previous round {c:.0f}%",
        "consensus": "consensus reached: stop",
        "stable": "no consensus but stable: stop (report the disagreement)",
        "another_round": "another round needed",
        "stop": "Verdict: every criterion meets the stopping rule; the Delphi rounds can end.",
        "go_on": "Verdict: some criteria do not meet the stopping rule yet; run round {r}.",
        "rule": "Stopping rule: consensus when at least 75% of apps have IQR <= 2 (von der Gracht 2012; "
                "Diamond et al. 2014); stable when the net change between rounds is below 15% (Scheibe et al. "
                "1975); stop at consensus or stability (Dajani et al. 1979). W words after Schmidt (1997).",
    },
}


def summary(panel_scores: pd.DataFrame, experts: pd.DataFrame, apps: pd.DataFrame, province: str, rnd: int,
            lang: str = "zh") -> RoundSummary:
    """The round summary of ``province``'s panel in round ``rnd`` (see the module's stopping
    rule); an empty ``criteria`` frame when the round has no scores."""
    now = round_scores(panel_scores, experts, apps, province, rnd)
    before = round_scores(panel_scores, experts, apps, province, rnd - 1) if rnd > 1 else now.iloc[:0]
    fb = feedback(now)
    fb["agreed"] = fb["iqr"] <= CONSENSUS_IQR
    per = fb.groupby("criterion_id", sort=True).agg(
        n_apps=("app_id", "size"), median_iqr=("iqr", "median"), share_agreed=("agreed", "mean"))
    per["n_raters"] = now.groupby("criterion_id")["expert_id"].nunique()
    ps = panel_scores[(panel_scores["province_code"].astype(str) == str(province))
                      & (panel_scores["round"].astype("Int64") == int(rnd)) & panel_scores["score"].notna()]
    if len(ps):
        agr = aggregate(ps, experts, apps, final_round=int(rnd), min_raters=1).agreement.set_index("criterion_id")
        per["kendall_w"], per["kendall_p"] = agr["kendall_w"], agr["kendall_p"]
    else:
        per["kendall_w"], per["kendall_p"] = np.nan, np.nan
    per["agreement"] = [_w_words(w, lang) for w in per["kendall_w"]]
    per["consensus"] = per["share_agreed"] >= CONSENSUS_SHARE
    if len(before):
        change = _net_change(now, before).groupby(level="criterion_id").mean()
        per["net_change"] = change.reindex(per.index)
        per["stable"] = pd.array(per["net_change"] < STABILITY_CHANGE, dtype="boolean")
        per.loc[per["net_change"].isna(), "stable"] = pd.NA
    else:
        per["net_change"] = np.nan
        per["stable"] = pd.array([pd.NA] * len(per), dtype="boolean")
    per["decision"] = np.where(per["consensus"], "consensus",
                               np.where(per["stable"].fillna(False), "stable", "another_round"))
    cols = ["n_apps", "n_raters", "kendall_w", "kendall_p", "agreement", "median_iqr", "share_agreed",
            "consensus", "net_change", "stable", "decision"]
    frame = per[cols].reset_index()
    stop = bool(len(frame)) and bool((frame["decision"] != "another_round").all())
    return RoundSummary(str(province), int(rnd), frame, stop)


def summary_command(data_dir: Any, province: str, rnd: int | None = None, lang: str = "zh",
                    rubric_dir: Any = None) -> RoundSummary:
    """``evalkit panel summary``: the summary of round ``rnd`` (default: the province's latest)."""
    from evalkit.data.dataset import load_dataset
    from evalkit.rubric import load_rubric

    rb = load_rubric(rubric_dir)
    ds = load_dataset(data_dir, criteria=rb.criterion_ids, provinces=[str(province)])
    rounds = ds.panel_scores.loc[ds.panel_scores["province_code"].astype(str) == str(province), "round"].dropna()
    if rnd is None:
        if rounds.empty:
            raise PanelError(f"province {province} has no panel scores yet")
        rnd = int(rounds.max())
    if not (rounds == int(rnd)).any():
        raise PanelError(f"round {rnd} of province {province} has no scores (rounds collected: "
                         f"{', '.join(str(int(r)) for r in sorted(rounds.unique())) or 'none'})")
    res = summary(ds.panel_scores, ds.experts, ds.apps, str(province), int(rnd), lang)
    return replace(res, names={c.id: (c.name_zh, c.name_en) for c in rb.criteria})
