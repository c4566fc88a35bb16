"""One province's list, as the national evaluation makes it (:mod:`evalkit.evaluate.pipeline`).

The province's candidates are marked with the review decisions of due process (objections,
provisional measures of a pending fraud sanction), decided with the bans in force and the
province's rater bootstrap (:func:`evalkit.evaluate.recommend.recommend_later`: the point
decision now, the robustness draws in a thread of their own), then given their changes since
the previous list and their reasons in words.  :func:`province_list` returns the function that
finishes the list, so that the pipeline prepares another province while the draws run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evalkit.evaluate import credit as _credit
from evalkit.evaluate import provenance
from evalkit.evaluate.changes import diff_with_previous
from evalkit.evaluate.objections import apply_to_decisions, mark_candidates, objection_outcomes
from evalkit.evaluate.raters import rater_bootstrap
from evalkit.evaluate.reasons import reason_details, reasons_text
from evalkit.evaluate.recommend import ListRules, recommend_later
from evalkit.evaluate.sanctions import mark_holds
from evalkit.rubric import profile_value

__all__ = ["Listing", "dimension_weights", "province_list"]


def dimension_weights(rubric: Any) -> dict[str, float]:
    """The weight of each dimension of ``rubric`` (a province's weighted rubric)."""
    return {d.id: float(d.weight) for d in rubric.dimensions}


def _banned(nat: Any, code: str, cr: Any) -> list[str]:
    """Providers whose ban is in force: this cycle's black entries and every ban the register holds on ``as_of``."""
    banned = set(_credit.banned_providers(cr, nat.as_of))
    if nat.register is not None:
        held = nat.register.bans_in_force(code, nat.as_of.strftime("%Y-%m-%d"))
        banned |= set(held["provider_id"].astype("str"))
    return sorted(banned)


@dataclass(frozen=True)
class Listing:
    """A province's list and what it was made with."""

    decisions: pd.DataFrame
    recommended: pd.DataFrame
    changes: pd.DataFrame
    overlaps: pd.DataFrame
    candidates: pd.DataFrame
    rules: ListRules
    rubric: Any  # the province's weighted rubric
    bootstrap: Any  # the rater bootstrap used, or None
    objections: pd.DataFrame  # the objections bearing on this list, with their outcomes


def province_list(
    nat: Any, code: str, cr: Any, prev: provenance.PreviousCycle
) -> Callable[[], Listing]:
    """The province's decisions (with their changes and reason texts) and recommended list:
    the point decision now, the rest (:func:`_listing`) when the returned function is called
    (the robustness draws run meanwhile, :func:`evalkit.evaluate.recommend.recommend_later`)."""
    profile, ev = nat.profiles[code], nat.scoring
    cand = nat.candidates.loc[nat.candidates["province_code"].eq(code)].reset_index(drop=True)
    ov = nat.overlaps.loc[nat.overlaps["province_code"].eq(code)].reset_index(drop=True)
    overlapping = set(ov["app_id_a"]) | set(ov["app_id_b"])
    rub = ev.rubric_for(code)  # the province's weights (its experts', national fallback, entropy)
    rules = ListRules.from_profile(profile, dimension_weights(rub), seed=0)
    boot = None
    if rules.bootstrap_raters and nat.raters is not None:
        reducer = str(profile_value(profile, "panel", "reducer") or "trimmed_mean")
        boot = rater_bootstrap(ev, code, nat.raters, reducer=reducer)
    held = None if prev.decisions is None else prev.decisions.loc[prev.decisions["objection"].eq("pending"), "app_id"]
    objections = objection_outcomes(nat.ds, code, nat.as_of, prev.as_of, held,
                                    _notices(nat.register, code, nat.ds))  # docs/due-process.md
    cand = mark_holds(mark_candidates(cand, objections), cr.providers, nat.ds, profile)  # review decisions
    decided = recommend_later(cand, rules, banned=_banned(nat, code, cr), overlapping=overlapping, raters=boot)
    return lambda: _listing(nat, code, prev, decided(), objections, cand, ov, rules, rub, boot)


def _notices(register: Any, code: str, ds: Any) -> dict[str, str] | None:
    """``{as_of: ends_on}`` of the province's recorded public notices that its objections name,
    or None when the register holds no notice of it (its objections are then not checked)."""
    latest = getattr(register, "latest_notice", None)
    obj = getattr(ds, "tables", {}).get("objections")
    if latest is None or obj is None or obj.empty or latest(code, "9999-12-31") is None:
        return None
    days = pd.to_datetime(obj.loc[obj["province_code"].astype(str).eq(code), "notice_date"]).dt.strftime("%Y-%m-%d")
    found = {d: latest(code, d) for d in sorted(set(days.dropna()))}
    return {d: n["ends_on"] for d, n in found.items() if n is not None and n["as_of"] == d}


def _listing(nat: Any, code: str, prev: provenance.PreviousCycle, dec: pd.DataFrame,
             objections: pd.DataFrame, cand: pd.DataFrame, ov: pd.DataFrame, rules: ListRules, rub: Any,
             boot: Any) -> Listing:
    """The province's list from its decisions ``dec`` (:func:`province_list`)."""
    profile, ev = nat.profiles[code], nat.scoring
    dec = apply_to_decisions(dec, objections)
    changes = diff_with_previous(dec, prev.decisions)
    change_of = changes.set_index("app_id")["change"]
    mapped = dec["app_id"].map(change_of)
    dec["change"] = mapped.astype(object).where(mapped.notna(), "").astype("str")
    names = {c.id: (c.name_zh, c.name_en) for c in nat.rubric.criteria} | ev.evidence_labels(code)
    failed = {c.id: (c.failed_zh, c.failed_en) for c in nat.rubric.criteria if c.failed_zh}
    own = reason_details(dec, cand, rules.min_dimension_score, dict(profile.mlps.validity_months), failed)
    for lang in ("zh", "en"):
        dec[f"reasons_{lang}"] = reasons_text(dec["reasons"], lang, names, failed=failed, details=own)
    dec["flags"] = dec["flags"].astype("str")
    rec = _recommended(dec, nat.as_of, prev.recommended)
    return Listing(dec, rec, changes, ov, cand, rules, rub, boot, objections)


def _recommended(dec: pd.DataFrame, as_of: pd.Timestamp, prev_rec: pd.DataFrame | None) -> pd.DataFrame:
    """The recommended apps, each listed since ``as_of`` or, if kept, since it was first listed."""
    rec = dec.loc[dec["status"].eq("recommended")].copy()
    listed_on = pd.Series(as_of, index=rec.index, dtype="datetime64[us]")
    if prev_rec is not None and {"app_id", "listed_on"} <= set(prev_rec.columns):
        before = pd.to_datetime(prev_rec.set_index("app_id")["listed_on"].replace("", None), errors="coerce")
        kept = pd.Series(before.reindex(rec["app_id"]).to_numpy(), index=rec.index)  # .map fails on an empty list
        listed_on = kept.where(kept.notna() & rec["change"].eq("kept"), listed_on).astype("datetime64[us]")
    rec["listed_on"] = listed_on
    return rec.sort_values(["rank", "app_id"], kind="stable").reset_index(drop=True)
