"""The published invariants: what every province's decisions must satisfy before they are signed.

A province publishes its list as an administrative decision; the figures beside a decision
must never contradict it.  :func:`check` reads one province's decisions (and credit table) as
a reader would and returns every violation of:

* **one status each**: every candidate is ``recommended``, ``not_recommended`` or
  ``excluded``, exactly once (candidates = recommended + not recommended + excluded);
* **caps**: the list respects the total, category, stage and provider-share caps;
* **no excluded app is ranked**, and only eligible apps carry a rank;
* **every row has reasons**;
* **p_listed agrees with the decision**: an excluded app has ``p_listed`` 0, unless its only
  gates are panel floors, which a draw re-decides from its resampled raters; a decision that
  most draws contradict carries ``close_call`` (a recommended app with ``p_listed`` < 0.5, a
  not recommended or excluded one with ``p_listed`` > 0.5);
* **bans hold**: no app of a provider whose ban is in force is recommended;
* **waivers stay in their province**: a ``waived:<criterion>`` reason rests on a valid waiver
  approved by this province (or a national one where the profile applies national waivers).

:mod:`evalkit.evaluate.pipeline` checks every province it computes, so a run whose decisions break an
invariant fails instead of publishing; the tests and the national benchmark check them too.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate.credit import banned_providers
from evalkit.evaluate.recommend import EXCLUDING_PREFIXES, STATUSES, ListRules

__all__ = ["check"]


def check(decisions: pd.DataFrame, rules: ListRules, *, as_of: Any, credit: pd.DataFrame | None = None,
          candidates: Collection[str] | None = None, waivers: pd.DataFrame | None = None,
          province: str | None = None, national_waivers: bool = False) -> list[str]:
    """Every violated invariant of one province's decisions, as sentences (empty: all hold).

    Parameters
    ----------
    decisions : DataFrame
        The province's decisions (``app_id, provider_id, category, stages, status, rank,
        p_listed, close_call, reasons``).
    rules : ListRules
        The province's list rules.
    as_of : date-like
        The evaluation date (bans in force).
    credit : DataFrame, optional
        The province's credit table (``provider_id, list, ban_until``).
    candidates : collection of str, optional
        The app ids submitted to the province (each must have one decision).
    waivers : DataFrame, optional
        The dataset's waivers (``app_id, criterion_id``, optionally ``province_code``).
    province : str, optional
        The province code (for the waiver check).
    national_waivers : bool
        Whether waivers without a province apply in this province.
    """
    problems: list[str] = []
    dec = decisions
    status = dec["status"].astype("str")
    problems += _one_status_each(dec, status, candidates)
    problems += _caps(dec[status.eq("recommended")], dec, status, rules)
    ranked = dec["rank"].notna()
    unranked = status.isin(("excluded", "on_hold"))  # on hold: an objection pending re-check
    if (ranked & unranked).any():
        problems.append(f"excluded apps are ranked: {_ids(dec, ranked & unranked)}")
    if (~ranked & ~unranked).any():
        problems.append(f"eligible apps without a rank: {_ids(dec, ~ranked & ~unranked)}")
    empty = dec["reasons"].astype("str").fillna("").eq("")
    if empty.any():
        problems.append(f"decisions without reasons: {_ids(dec, empty)}")
    problems += _p_listed(dec, status)
    if credit is not None:
        banned = set(banned_providers(credit, as_of))
        hit = status.eq("recommended") & dec["provider_id"].astype("str").isin(banned)
        if hit.any():
            problems.append(f"apps of providers under a ban in force are recommended: {_ids(dec, hit)}")
    if waivers is not None and province is not None:
        problems += _waivers(dec, waivers, str(province), national_waivers)
    return problems


def _ids(dec: pd.DataFrame, mask: pd.Series, limit: int = 5) -> str:
    ids = dec.loc[mask.to_numpy(dtype=bool), "app_id"].astype("str").tolist()
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _one_status_each(dec: pd.DataFrame, status: pd.Series, candidates: Collection[str] | None) -> list[str]:
    out = []
    bad = ~status.isin(STATUSES)
    if bad.any():
        out.append(f"decisions with a status other than {list(STATUSES)}: {_ids(dec, bad)}")
    dup = dec["app_id"].duplicated(keep=False)
    if dup.any():
        out.append(f"apps decided more than once: {_ids(dec, dup)}")
    if candidates is not None:
        missing = sorted(set(map(str, candidates)) - set(dec["app_id"].astype("str")))
        extra = sorted(set(dec["app_id"].astype("str")) - set(map(str, candidates)))
        if missing:
            out.append(f"candidates without a decision: {', '.join(missing[:5])}")
        if extra:
            out.append(f"decisions for apps that were not candidates: {', '.join(extra[:5])}")
    return out


def _caps(rec: pd.DataFrame, dec: pd.DataFrame, status: pd.Series, rules: ListRules) -> list[str]:
    out = []
    if rules.max_total is not None and len(rec) > rules.max_total:
        out.append(f"{len(rec)} apps recommended, above the total cap of {rules.max_total}")
    by_cat = rec["category"].astype("str").value_counts()
    for cat, cap in rules.max_per_category.items():
        if by_cat.get(cat, 0) > cap:
            out.append(f"{by_cat[cat]} apps recommended in category {cat}, above its cap of {cap}")
    stages = rec["stages"].astype("str").str.split(";")
    for stage, cap in rules.max_per_stage.items():
        n = int(stages.map(lambda s, st=stage: st in s).sum())
        if n > cap:
            out.append(f"{n} apps recommended for stage {stage}, above its cap of {cap}")
    if rules.provider_share_cap is not None and len(rec):
        qualified = status.ne("excluded") & ~dec["reasons"].astype("str").str.contains(
            r"(?:^|;)below_min", regex=True)
        pool = dec.loc[qualified.to_numpy(dtype=bool), "category"].astype("str").value_counts()
        total_cap = math.inf if rules.max_total is None else rules.max_total
        held = rec.groupby([rec["category"].astype("str"), rec["provider_id"].astype("str")]).size()
        for (cat, provider), n in held.items():
            places = min(rules.max_per_category.get(cat, math.inf), total_cap)
            places = pool.get(cat, 0) if math.isinf(places) else places
            share = max(math.ceil(rules.provider_share_cap * places - 1e-9), 1)
            if n > share:
                out.append(f"provider {provider} holds {n} places in category {cat}, above its share of {share}")
    return out


def _p_listed(dec: pd.DataFrame, status: pd.Series) -> list[str]:
    out = []
    p = dec["p_listed"].to_numpy(dtype=float)
    close = dec["close_call"].fillna(False).to_numpy(dtype=bool)
    if np.isnan(p).any() or ((p < 0) | (p > 1)).any():
        out.append("p_listed outside [0, 1] or missing")
    gates = dec["reasons"].astype("str").fillna("").str.split(";").map(
        lambda cs: [c for c in cs if c.split(":", 1)[0] in EXCLUDING_PREFIXES])
    floors_only = gates.map(lambda cs: bool(cs) and all(c.startswith("panel_floor:") for c in cs))
    wrong = status.eq("excluded").to_numpy() & (p != 0) & ~floors_only.to_numpy(dtype=bool)
    if wrong.any():
        out.append(f"excluded apps with p_listed above 0: {_ids(dec, pd.Series(wrong, index=dec.index))}")
    against = np.where(status.eq("recommended").to_numpy(), p < 0.5, p > 0.5) & ~close
    if against.any():
        out.append("decisions that most robustness draws contradict are not flagged close_call: "
                   f"{_ids(dec, pd.Series(against, index=dec.index))}")
    return out


def _waivers(dec: pd.DataFrame, waivers: pd.DataFrame, province: str, national: bool) -> list[str]:
    codes = dec[["app_id", "reasons"]].astype("str").assign(code=lambda f: f["reasons"].str.split(";"))
    used = codes.explode("code")
    used = used[used["code"].str.startswith("waived:")]
    if used.empty:
        return []
    w = waivers.astype({"app_id": "str", "criterion_id": "str"})
    if "province_code" in w.columns:
        prov = w["province_code"].astype("str").fillna("").str.strip()
        w = w[prov.eq(province) | (prov.eq("") & national)]
    elif not national:
        w = w.iloc[0:0]
    allowed = set(zip(w["app_id"], "waived:" + w["criterion_id"], strict=True))
    pairs = zip(used["app_id"], used["code"], strict=True)
    crossing = [f"{a} ({c[len('waived:'):]})" for a, c in pairs if (a, c) not in allowed]
    return [f"waivers applied without a waiver of this province: {', '.join(crossing[:5])}"] if crossing else []
